"""Check data/pgmanual/gold.jsonl against the loaded pages (run after `make pgmanual`).

    .venv/bin/python data/pgmanual/check_gold.py

For every answerable question: its evidence document is in the collection, the
quote is in the document's loaded text (as `rag eval` matches it: normalised,
rag.eval.metrics.contains; "raw" also counts quotes found verbatim), and every
answer string occurs at word boundaries in the quote or in the sentence(s) the
quote sits in. For every unanswerable question: none of its listed absent
terms (ABSENT below) occurs anywhere in the collection. Exit 1 on a failure.
Uses only the loader and the matching helpers, never the pipeline.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from rag.eval.gold import load_gold
from rag.eval.metrics import contains, contains_words, normalize
from rag.ingestion.loading import load_folder

HERE = Path(__file__).resolve().parent
# The terms each unanswerable question hinges on (keyed by a piece of the question): none may
# occur in the collection, or, for a (terms, doc) pair, in that document.
ABSENT: dict[str, str | tuple[str, ...] | tuple[tuple[str, ...], str]] = {
    "innodb_buffer_pool_size": "innodb",
    "checkpoint_segments": "checkpoint_segments",
    "wal_keep_segments": "wal_keep_segments",
    "SKIP_DATABASE_STATS": "skip_database_stats",
    "vacuum_buffer_usage_limit": "buffer_usage_limit",
    "transaction_timeout setting": "transaction_timeout",
    "io_method": "io_method",
    "summarize_wal": "summarize_wal",
    "--filter": "--filter",
    "incremental backup": (("incremental", "--incremental"), "app-pgbasebackup"),
    "ON_ERROR option of COPY": (("on_error",), "sql-copy"),
    "\\bind": "\\bind",
    "PgBouncer": "pgbouncer",
    "maximum size of a single table": ("32 tb", "maximum table size", "table size limit"),
    "PostgreSQL 15 released": ("released in", "was released", "2022"),
    "license": "licen",
    "allow_alter_system": "allow_alter_system",
    "SYSTEM_USER": "system_user",
    "createrole_self_grant": "createrole_self_grant",
}


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) of normalised `text` holding text[start:end]."""
    left = max(text.rfind(". ", 0, start), text.rfind("? ", 0, start), text.rfind("! ", 0, start))
    right = min((i for i in (text.find(". ", end), text.find("? ", end), text.find("! ", end)) if i >= 0), default=len(text))
    return text[left + 1 : right + 1]


def main() -> int:
    docs, warnings = load_folder(HERE / "corpus")
    for w in warnings:
        print("warning:", w)
    texts = {d.doc_id: d.text for d in docs}
    normed = {k: normalize(v) for k, v in texts.items()}
    items = load_gold(HERE / "gold.jsonl")
    failures = 0
    raw = spaced = 0
    for item in items:
        if not item.answerable:
            term = next((t for key, t in ABSENT.items() if key.casefold() in item.question.casefold()), None)
            if term is None:
                print(f"FAIL {item.id}: no absent term recorded for {item.question!r}")
                failures += 1
                continue
            terms, only = (term[0], term[1]) if isinstance(term[0], tuple) else ((term,) if isinstance(term, str) else term, None)
            hits = [(t, k) for t in terms for k, v in normed.items() if (only is None or k == only) and t in v]
            if hits:
                print(f"FAIL {item.id}: {hits[:3]} (term, document) found")
                failures += 1
            continue
        for ev in item.evidence:
            if ev.doc not in texts:
                print(f"FAIL {item.id}: document {ev.doc!r} not in the collection")
                failures += 1
                continue
            if not contains(texts[ev.doc], ev.quote):
                print(f"FAIL {item.id}: quote not in {ev.doc}: {ev.quote!r}")
                failures += 1
                continue
            if ev.quote in texts[ev.doc]:
                raw += 1
            elif re.search(r"\s+".join(map(re.escape, ev.quote.split())), texts[ev.doc]):
                spaced += 1
            nq = normalize(ev.quote)
            start = normed[ev.doc].find(nq)
            context = sentence_around(normed[ev.doc], start, start + len(nq))
            missing = [a for a in item.answers if not contains_words(context, a) and normalize(a) not in context]
            if missing and (item.match == "all" or len(missing) == len(item.answers)):
                print(f"FAIL {item.id}: answer(s) {missing} not in the quote's sentence: {context[:200]!r}")
                failures += 1
            elif missing:
                print(f"note {item.id}: variant(s) {missing} not in the sentence (others are)")
    kinds = Counter(i.kind for i in items)
    n_quotes = sum(len(i.evidence) for i in items)
    print(f"{len(items)} questions ({sum(i.answerable for i in items)} answerable, "
          f"{sum(not i.answerable for i in items)} unanswerable); kinds: {dict(sorted(kinds.items()))}")
    print(f"{len(docs)} documents; {n_quotes} evidence quotes found (normalised, as rag eval matches): "
          f"{raw} verbatim in the loaded text, {spaced} verbatim but for line breaks/indentation, "
          f"{n_quotes - raw - spaced} differing in quotes/dashes only; {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
