"""Evaluation metrics: pure functions over gold items, passage texts and answers.

No model, no index: everything here can be checked by hand on tiny cases
(tests/eval/test_metrics.py). The definitions are written out in
docs/evaluation.md; the docstrings below are the short form.

Matching is always done on `normalize`d text: Unicode NFKC, curly quotes
made straight, every dash made "-", whitespace collapsed, casefolded.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any

MAX_ANSWER_WORDS = 60
DEFAULT_K = 5
HIT_KS = (1, 3, 5, 10)
# A quote this long may straddle two chunks: a passage holding most of it, as one run of words, holds it.
LONG_QUOTE_WORDS = 12
LONG_QUOTE_SHARE = 0.6

# ---------------------------------------------------------------- text normalisation

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    }
)  # fmt: skip
# hyphen, non-breaking hyphen, figure dash, en, em, horizontal bar, minus, small/fullwidth hyphen-minus
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")
_SPACE = re.compile(r"\s+")
_MARKER = re.compile(r"\[\d+\]")


def normalize(text: str) -> str:
    """NFKC, straight quotes, "-" for every dash, single spaces, casefolded, stripped."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _DASHES.sub("-", text.translate(_QUOTES))
    return _SPACE.sub(" ", text).strip().casefold()


def contains(passage: str, quote: str) -> bool:
    """Whether the normalised quote is a substring of the normalised passage."""
    needle = normalize(quote)
    return bool(needle) and needle in normalize(passage)


def holds_quote(passage: str, quote: str) -> bool:
    """Whether the passage holds the evidence quote: all of it, or, for a quote of
    LONG_QUOTE_WORDS words or more, a run of at least LONG_QUOTE_SHARE of its words."""
    if contains(passage, quote):
        return True
    needle = normalize(quote).split()
    if len(needle) < LONG_QUOTE_WORDS:
        return False
    words = normalize(passage).split()
    run = SequenceMatcher(None, words, needle, autojunk=False).find_longest_match(0, len(words), 0, len(needle))
    return run.size >= math.ceil(LONG_QUOTE_SHARE * len(needle))


def contains_words(text: str, phrase: str) -> bool:
    """Whether the normalised phrase occurs in the normalised text at word boundaries.

    A boundary is any position not flanked by a word character (letter, digit,
    underscore) on the outside, so "July 8" does not match "July 18", and
    "US$51" or "11-day" match even though they start or end in punctuation.
    """
    needle = normalize(phrase)
    if not needle:
        return False
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalize(text)) is not None


def strip_markers(answer: str) -> str:
    """The answer without its [n] citation markers."""
    return _SPACE.sub(" ", _MARKER.sub(" ", answer or "")).strip()


def word_count(answer: str) -> int:
    """Words of the answer, [n] markers removed (whitespace-separated tokens)."""
    return len(strip_markers(answer).split())


# ---------------------------------------------------------------- retrieval, per question


def _quotes(gold: Any) -> tuple[str, ...]:
    """Evidence quotes of a GoldItem, or a plain sequence of quote strings."""
    if hasattr(gold, "evidence"):
        return tuple(e.quote for e in gold.evidence)
    return tuple(gold)


def quote_ranks(gold: Any, passages: Sequence[str]) -> list[int | None]:
    """For each evidence quote, the 1-based rank of the first passage containing it (None: not retrieved)."""
    return [next((i for i, p in enumerate(passages, 1) if holds_quote(p, quote)), None) for quote in _quotes(gold)]


def evidence_rank(gold: Any, passages: Sequence[str]) -> int | None:
    """1-based rank of the first passage that contains any evidence quote; None if none does."""
    return _first(quote_ranks(gold, passages))


def _first(ranks: Iterable[int | None]) -> int | None:
    found = [r for r in ranks if r is not None]
    return min(found) if found else None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """1.0 if any evidence quote is in the top k passages, else 0.0; None without evidence."""
    if not ranks:
        return None
    first = _first(ranks)
    return 1.0 if first is not None and first <= k else 0.0


def recall_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of the evidence quotes found in the top k passages; None without evidence."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """1 / rank of the first evidence passage (0.0 if none retrieved); None without evidence."""
    if not ranks:
        return None
    first = _first(ranks)
    return 1.0 / first if first is not None else 0.0


def ndcg_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Binary-relevance nDCG@k; None without evidence.

    A passage is relevant when it is the first to contain one of the evidence
    quotes (so two overlapping chunks holding the same quote count once).
    DCG = sum over relevant ranks r <= k of 1/log2(r+1); the ideal DCG puts
    min(number of quotes, k) relevant passages at ranks 1, 2, ...
    """
    if not ranks:
        return None
    relevant = {r for r in ranks if r is not None and r <= k}
    dcg = sum(1.0 / math.log2(r + 1) for r in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(ranks), k) + 1))
    return dcg / ideal


# ---------------------------------------------------------------- answers and citations, per question


def answer_correct(gold: Any, answer: str) -> bool:
    """Whether the answer contains the gold strings (`any` or `all`) and has at most 60 words.

    Each gold string is matched at word boundaries in the normalised answer
    (citation markers removed). Unanswerable items have no gold strings and
    are never "correct": abstention is scored separately.
    """
    answers = tuple(getattr(gold, "answers", ()))
    if not answers or word_count(answer) > MAX_ANSWER_WORDS:
        return False
    text = strip_markers(answer)
    found = [contains_words(text, a) for a in answers]
    return all(found) if getattr(gold, "match", "any") == "all" else any(found)


def citation_relevant(gold: Any, passage: str) -> bool:
    """A cited passage is relevant if it holds an evidence quote or a gold answer string (word boundary)."""
    if any(holds_quote(passage, q) for q in _quotes(gold)):
        return True
    return any(contains_words(passage, a) for a in getattr(gold, "answers", ()))


def cites_evidence(gold: Any, cited: Sequence[str]) -> bool | None:
    """Whether any cited passage contains an evidence quote; None when the item has no evidence."""
    quotes = _quotes(gold)
    if not quotes:
        return None
    return any(holds_quote(p, q) for p in cited for q in quotes)


# ---------------------------------------------------------------- span answers (SQuAD's definitions)

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def span_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation, citation markers removed first: lower case,
    punctuation and the articles a/an/the dropped, split on whitespace."""
    text = strip_markers(text).lower().translate(_PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 of one prediction against one gold answer."""
    pred, ref = span_tokens(prediction), span_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def span_f1(gold: Any, answer: str) -> float | None:
    """The best token F1 over the gold answers; None for an item without any."""
    answers = tuple(getattr(gold, "answers", ()))
    return max(token_f1(answer, a) for a in answers) if answers else None


def exact_match(gold: Any, answer: str) -> bool | None:
    """Whether the normalised answer equals a normalised gold answer; None without gold answers."""
    answers = tuple(getattr(gold, "answers", ()))
    return any(span_tokens(answer) == span_tokens(a) for a in answers) if answers else None


# ---------------------------------------------------------------- one question's outcome


@dataclass
class Outcome:
    """Everything the aggregate metrics need about one question (JSON-serialisable)."""

    id: str
    kind: str
    answerable: bool
    abstained: bool
    correct: bool | None  # None for unanswerable items
    quote_ranks: list[int | None] = field(default_factory=list)  # per evidence quote, in the eval depth
    n_citations: int = 0
    n_relevant_citations: int = 0
    cites_evidence: bool | None = None  # None: abstained, unanswerable, or no evidence
    words: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    f1: float | None = None  # span F1 of the answer (0.0 when abstained); None for unanswerable items
    exact: bool | None = None  # exact match, likewise

    @property
    def evidence_rank(self) -> int | None:
        return _first(self.quote_ranks)

    @property
    def ok(self) -> bool:
        """Correct for an answerable item, abstained for an unanswerable one."""
        return bool(self.correct) if self.answerable else self.abstained

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def score_question(
    gold: Any,
    retrieved: Sequence[str],
    answer: str,
    abstained: bool,
    cited: Sequence[str],
    timings: dict[str, float] | None = None,
) -> Outcome:
    """Score one question: `retrieved` is the ranked passage texts for the retrieval
    metrics, `cited` the texts of the passages the answer cites."""
    answerable = bool(getattr(gold, "answerable", True))
    answered = answerable and not abstained
    relevant = sum(1 for p in cited if citation_relevant(gold, p)) if answered else 0
    return Outcome(
        id=str(getattr(gold, "id", "")),
        kind=str(getattr(gold, "kind", "fact")),
        answerable=answerable,
        abstained=bool(abstained),
        correct=(not abstained and answer_correct(gold, answer)) if answerable else None,
        f1=(0.0 if abstained else span_f1(gold, answer)) if answerable else None,
        exact=(False if abstained else exact_match(gold, answer)) if answerable else None,
        quote_ranks=quote_ranks(gold, retrieved) if answerable else [],
        n_citations=len(cited) if answered else 0,
        n_relevant_citations=relevant,
        cites_evidence=cites_evidence(gold, cited) if answered else None,
        words=word_count(answer),
        timings=dict(timings or {}),
    )


# ---------------------------------------------------------------- aggregates


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Arithmetic mean ignoring None; None when nothing is left."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def retrieval_metrics(outcomes: Sequence[Outcome], ks: Sequence[int] = HIT_KS, k: int = DEFAULT_K) -> dict:
    """hit@k for each k in `ks`, recall@k, MRR, nDCG@k (and @10 when 10 is in `ks`),
    over answerable questions that have evidence."""
    ranked = [o.quote_ranks for o in outcomes if o.answerable and o.quote_ranks]
    out: dict[str, Any] = {"n": len(ranked)}
    for kk in ks:
        out[f"hit@{kk}"] = mean(hit_at_k(r, kk) for r in ranked)
    deep = sorted({k} | ({10} & set(ks)))  # recall and nDCG at k, and at 10 when that deep
    for kk in deep:
        out[f"recall@{kk}"] = mean(recall_at_k(r, kk) for r in ranked)
    out["mrr"] = mean(reciprocal_rank(r) for r in ranked)
    for kk in deep:
        out[f"ndcg@{kk}"] = mean(ndcg_at_k(r, kk) for r in ranked)
    return out


def answer_metrics(outcomes: Sequence[Outcome]) -> dict:
    """accuracy, span F1, exact match and false abstention over answerable items; abstention over
    unanswerable ones."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    return {
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "accuracy": mean(bool(o.correct) for o in answerable),
        "f1": mean(o.f1 for o in answerable),
        "exact_match": mean(o.exact for o in answerable),
        "abstention": mean(o.abstained for o in unanswerable),
        "false_abstention": mean(o.abstained for o in answerable),
    }


def citation_metrics(outcomes: Sequence[Outcome]) -> dict:
    """precision: relevant citations / all citations of answered answerable questions
    (None when they cite nothing at all); recall: share of answered answerable
    questions with evidence whose citations include an evidence passage;
    uncited: share of answered answerable questions without any citation."""
    answered = [o for o in outcomes if o.answerable and not o.abstained]
    total = sum(o.n_citations for o in answered)
    return {
        "n_answered": len(answered),
        "n_citations": total,
        "precision": sum(o.n_relevant_citations for o in answered) / total if total else None,
        "recall": mean(o.cites_evidence for o in answered),
        "uncited": mean(o.n_citations == 0 for o in answered),
    }


STAGE_ORDER = ("retrieve", "evidence", "prompt", "generate", "cite")


def latency_metrics(outcomes: Sequence[Outcome]) -> dict:
    """Per stage: p50, p95 (nearest rank), mean and n in milliseconds, over the
    questions that ran the stage; "total" last."""
    stages: dict[str, list[float]] = {}
    for o in outcomes:
        for stage, ms in o.timings.items():
            stages.setdefault(stage, []).append(float(ms))
    order = [s for s in STAGE_ORDER if s in stages] + sorted(set(stages) - set(STAGE_ORDER) - {"total"})
    if "total" in stages:
        order.append("total")
    return {
        s: {
            "p50": percentile(stages[s], 50),
            "p95": percentile(stages[s], 95),
            "mean": mean(stages[s]),
            "n": len(stages[s]),
        }
        for s in order
    }


def aggregate(outcomes: Sequence[Outcome], ks: Sequence[int] = HIT_KS, k: int = DEFAULT_K) -> dict:
    """All metric groups for a set of questions."""
    return {
        "n": len(outcomes),
        "retrieval": retrieval_metrics(outcomes, ks, k),
        "answers": answer_metrics(outcomes),
        "citations": citation_metrics(outcomes),
        "latency": latency_metrics(outcomes),
    }


def lookup(metrics: dict, dotted: str) -> Any:
    """metrics["retrieval"]["hit@5"] as lookup(metrics, "retrieval.hit@5"); None if absent."""
    node: Any = metrics
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
