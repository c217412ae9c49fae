"""Gold question-answer sets for `rag eval`: one JSON object per line.

    {"id": "d01",                       # optional; default "q<line number>"
     "question": "When did ...?",       # required
     "answers": ["July 8", "8 July"],   # required; may be empty only when answerable is false
     "match": "any",                    # optional, "any" (default) or "all"
     "evidence": [{"doc": "000_9c9a...", "quote": "beginning on July 8"}],  # optional, default []
     "answerable": true,                # required
     "kind": "date"}                    # optional; default "fact", or "unanswerable" when not answerable

`doc` is a document id (the file name without extension); `quote` is a short
verbatim excerpt of that document. Blank lines and lines starting with `#`
are skipped. Every problem is a `GoldError` with a one-line message naming
the file and line. See docs/evaluation.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.core.errors import GoldError

KINDS = ("fact", "date", "number", "list", "multi-hop", "span", "unanswerable")
MATCHES = ("any", "all")
REQUIRED = ("question", "answers", "answerable")


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answers: tuple[str, ...]
    match: str = "any"
    evidence: tuple[Evidence, ...] = ()
    answerable: bool = True
    kind: str = "fact"
    line: int = 0  # 1-based line in the gold file (0 when built in code)

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(e.quote for e in self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "match": self.match,
            "evidence": [{"doc": e.doc, "quote": e.quote} for e in self.evidence],
            "answerable": self.answerable,
            "kind": self.kind,
        }


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read and validate a gold file; raises GoldError on the first problem."""
    path = Path(path)
    if not path.exists():
        raise GoldError(f"gold file {path} does not exist")
    if not path.is_file():
        raise GoldError(f"gold file {path} is not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GoldError(f"gold file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise GoldError(f"cannot read gold file {path}: {exc.strerror or exc}") from None
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        where = f"{path} line {number}"
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: bad JSON ({exc.msg} at column {exc.colno})") from None
        item = parse_item(data, number, where)
        if item.id in seen:
            raise GoldError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise GoldError(f"gold file {path} holds no questions")
    return items


def parse_item(data: Any, line: int = 0, where: str = "gold item") -> GoldItem:
    """One gold item from its decoded JSON object."""
    if not isinstance(data, Mapping):
        raise GoldError(f"{where}: expected a JSON object, got {type(data).__name__}")
    missing = [name for name in REQUIRED if name not in data]
    if missing:
        raise GoldError(f"{where}: missing field {', '.join(repr(m) for m in missing)}")

    question = data["question"]
    if not isinstance(question, str) or not question.strip():
        raise GoldError(f"{where}: 'question' must be a non-empty string")
    answerable = data["answerable"]
    if not isinstance(answerable, bool):
        raise GoldError(f"{where}: 'answerable' must be true or false")
    answers = data["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise GoldError(f"{where}: 'answers' must be a list of non-empty strings")
    if answerable and not answers:
        raise GoldError(f"{where}: an answerable question needs at least one string in 'answers'")
    match = data.get("match", "any")
    if match not in MATCHES:
        raise GoldError(f"{where}: 'match' must be \"any\" or \"all\", got {match!r}")
    evidence = _evidence(data.get("evidence", []), where)
    raw_id = data.get("id", f"q{line}")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or not str(raw_id).strip():
        raise GoldError(f"{where}: 'id' must be a non-empty string")
    kind = data.get("kind") or ("fact" if answerable else "unanswerable")
    if not isinstance(kind, str):
        raise GoldError(f"{where}: 'kind' must be a string")
    return GoldItem(
        id=str(raw_id).strip(),
        question=question,
        answers=tuple(answers),
        match=match,
        evidence=evidence,
        answerable=answerable,
        kind=kind.strip(),
        line=line,
    )


def _evidence(raw: Any, where: str) -> tuple[Evidence, ...]:
    if not isinstance(raw, list):
        raise GoldError(f"{where}: 'evidence' must be a list of {{\"doc\", \"quote\"}} objects")
    out = []
    for n, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            raise GoldError(f"{where}: evidence {n} must be an object with \"doc\" and \"quote\"")
        for name in ("doc", "quote"):
            value = entry.get(name)
            if not isinstance(value, str) or not value.strip():
                raise GoldError(f"{where}: evidence {n} needs a non-empty string {name!r}")
        out.append(Evidence(doc=entry["doc"], quote=entry["quote"]))
    return tuple(out)


def evidence_warnings(items: Iterable[GoldItem], documents: Mapping[str, Any]) -> list[str]:
    """Warnings (never errors) for evidence that the collection cannot contain.

    `documents` maps doc_id to `Document` (anything with a `.text`). A missing
    document or a quote absent from its document's text means retrieval can
    never find that evidence: the metrics still run, but the warning says why
    they will be low.
    """
    from rag.eval.metrics import contains

    warnings = []
    for item in items:
        for ev in item.evidence:
            doc = documents.get(ev.doc)
            if doc is None:
                warnings.append(f"{item.id}: evidence document {ev.doc!r} is not in the collection")
            elif not contains(getattr(doc, "text", ""), ev.quote):
                warnings.append(f"{item.id}: evidence quote not found in {ev.doc!r}: {ev.quote[:60]!r}")
    return warnings


def kind_order(kinds: Iterable[str]) -> list[str]:
    """The known kinds in their documented order, then any others alphabetically."""
    present = set(kinds)
    return [k for k in KINDS if k in present] + sorted(present - set(KINDS))


__all__ = [
    "Evidence",
    "GoldError",
    "GoldItem",
    "KINDS",
    "evidence_warnings",
    "kind_order",
    "load_gold",
    "parse_item",
]
