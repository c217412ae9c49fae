"""Choosing the answer among the candidates, with a model fitted on every development collection.

Each candidate (rag/answer/candidates.py) is described by features that say
nothing about any collection's subject: how relevant its sentence is, how
much of the question's narrowing words (weighted by their rarity in this
collection) its sentence and context hold, whether it is of the kind the
question's form asks for (a cross of form and entity label), how much of it
the question already says, how long it is, where it sits, and how far the
answer model's draft agrees with it. A logistic regression over those
features, fitted on the pooled development collections by eval/fit_selector.py
(its weights are data: rag/answer/selector.json) as a pairwise ranker, gives
each candidate the probability that it answers the question; a second stage
re-weighs the top ones with the answer model's likelihood of each, and an
answerability model says whether the best one is answer enough: below its
fitted threshold, the documents do not say. Two rules come before any
weighing (`admissible`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answer.candidates import CLAUSE, EXPANSION, LITERAL, SENTENCE, TYPED, Candidate
from rag.answer.evidence import terms
from rag.answer.extraction import (
    DATE,
    NAME,
    OTHER,
    QUANTITY,
    VALUE,
    QuestionType,
    alternatives,
    as_asked,
    default_terms,
    enumerations,
    names_all,
    question_type,
    states_default,
    term_name,
)
from rag.answer.grounding import Context, missing_names, same_word
from rag.answer.ordering import YEAR
from rag.core.errors import ConfigError
from rag.core.profile import load_profile, words_group

SELECTOR_FILE = Path(__file__).with_name("selector.json")

EXPLAIN, DESCRIBE, YES_NO, PLACE, PERSON = "explain", "describe", "yesno", "place", "person"
FORMS = (DATE, QUANTITY, NAME, PLACE, PERSON, EXPLAIN, DESCRIBE, YES_NO, OTHER)
# spaCy's entity labels, grouped by what they answer; the other sources are their own group.
_GROUPS = {
    "PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place", "FAC": "place", "NORP": "group",
    "DATE": "time", "TIME": "time", "CARDINAL": "number", "QUANTITY": "number", "MONEY": "number",
    "PERCENT": "number", "ORDINAL": "number", "NP": "phrase", "CODE": "literal",
    TYPED: "typed", LITERAL: "literal", CLAUSE: "clause", SENTENCE: "sentence", EXPANSION: "phrase",
}  # fmt: skip
GROUPS = ("person", "org", "place", "group", "time", "number", "entity", "phrase", "typed", "literal",
          "clause", "sentence")  # fmt: skip

_Q = load_profile().questions
_EXPLAIN = re.compile(rf"^\s*{words_group(_Q.explain_openers)}\b", re.I)
_DESCRIBE = re.compile(rf"^\s*{words_group(_Q.describe_openers)}\b", re.I)
_YES_NO = re.compile(rf"^\s*{words_group(_Q.yes_no_openers)}\b", re.I)
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)*(?![\w-])")  # standalone: not the 19 of COVID-19
_WORD = re.compile(r"\w[\w'’-]*")
_YEAR = re.compile(YEAR)


def group_of(source: str) -> str:
    return _GROUPS.get(source, "entity")


@dataclass(frozen=True)
class QuestionView:
    """What the features need to know of the question, worked out once."""

    text: str
    form: str
    qtype: QuestionType
    terms: frozenset[str]
    weights: Mapping[str, float]  # each term's share of the question's rarity; they sum to 1
    numbers: frozenset[str]  # the numbers it writes (a year, a count): they narrow it
    subject: frozenset[str] = frozenset()  # its terms that most documents hold: they narrow nothing
    split_terms: frozenset[str] = frozenset()  # its terms with identifiers split ("shared_buffers": shared, buffers)
    years: frozenset[str] = frozenset()  # its numbers that are years: a passage about another year is off
    alternatives: tuple[str, ...] = ()  # "Jabeur or Pliskova": one of them is not in the answer's context


def question_form(question: str, qtype: QuestionType) -> str:
    """The kind of answer the question's form asks for: a typed span (a place for "where", a person
    for "who"), an explanation, a description, a yes or no."""
    question = as_asked(question)
    if qtype.kind == NAME and qtype.place:
        return PLACE
    if qtype.kind == NAME and qtype.person:
        return PERSON
    if qtype.kind == VALUE:
        return QUANTITY  # a short typed span, as the selector was fitted on: a quantity or a marked literal
    if qtype.kind != OTHER:
        return qtype.kind
    if _YES_NO.match(question):
        return YES_NO
    if _EXPLAIN.match(question):
        return EXPLAIN
    if _DESCRIBE.match(question):
        return DESCRIBE
    return OTHER


def view_question(
    question: str, rarity: Callable[[str], float], share: Callable[[str], float] | None = None
) -> QuestionView:
    """`rarity` weighs each term (rarity_table); `share` says in what share of the documents it
    occurs (document_share), for the names that do not narrow a question: the collection's subject."""
    qtype = question_type(question)
    q_terms = frozenset(terms(question))
    raw = {t: rarity(t) for t in q_terms}
    total = sum(raw.values()) or 1.0
    numbers = question_numbers(question)
    subject = frozenset(t for t in q_terms if share is not None and share(t) >= SUBJECT_SHARE)
    split = frozenset(terms(question.replace("_", " ")))
    return QuestionView(question, question_form(question, qtype), qtype, q_terms,
                        {t: w / total for t, w in raw.items()}, numbers, subject, split,
                        _years(numbers), alternatives(question) or ())  # fmt: skip


def question_numbers(question: str) -> frozenset[str]:
    """The numbers a question writes (a year, a count), without thousands separators."""
    return frozenset(n.replace(",", "") for n in _NUMBER.findall(question))


def question_years(question: str) -> frozenset[str]:
    """The years a question writes (1800-2099): the numbers retrieval and selection hold it to."""
    return _years(question_numbers(question))


def _years(numbers: frozenset[str]) -> frozenset[str]:
    return frozenset(n for n in numbers if _YEAR.fullmatch(n))


def rarity_table(bm25) -> Callable[[str], float]:
    """BM25's inverse document frequency of a stemmed term in this collection (unknown terms: the rarest)."""
    vocab = bm25.vocab_dict
    indptr = np.asarray(bm25.scores["indptr"])
    n = float(bm25.scores["num_docs"])

    def rarity(term: str) -> float:
        row = vocab.get(term)
        df = 0.0 if row is None or row + 1 >= len(indptr) else float(indptr[row + 1] - indptr[row])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    return rarity


SUBJECT_SHARE = 0.5  # a term in at least this share of the documents names the collection's subject
MIN_DOCUMENTS = 3  # below this many documents, no term is the subject: the share says too little


def document_share(bm25, chunk_documents: Sequence[str]) -> Callable[[str], float]:
    """The share of the collection's documents that hold a stemmed term (0 with too few documents),
    read off BM25's postings (a term's chunks) and the document of each chunk."""
    vocab = bm25.vocab_dict
    indptr, indices = np.asarray(bm25.scores["indptr"]), np.asarray(bm25.scores["indices"])
    n = len(set(chunk_documents))

    def share(term: str) -> float:
        row = vocab.get(term)
        if n < MIN_DOCUMENTS or row is None or row + 1 >= len(indptr):
            return 0.0
        return len({chunk_documents[i] for i in indices[indptr[row] : indptr[row + 1]]}) / n

    return share


# ------------------------------------------------------------ features


@dataclass(frozen=True)
class Evidence:
    """What the features need of one candidate's sentence, worked out once for all its candidates."""

    words: tuple[tuple[int, int, frozenset[str]], ...]  # the sentence's words: offsets in it, their terms
    terms: frozenset[str]
    sentence: Mapping[str, float]  # the features shared by every candidate of the sentence
    listed: tuple[tuple[int, int], ...] = ()  # for a question asking for several: its enumerations
    offered: tuple[tuple[int, int], ...] = ()  # ... and of them, the lists of all the choices there are
    term: tuple[int, int] | None = None  # the span of the defined term whose definition holds it


def sentence_evidence(view: QuestionView, candidate: Candidate, context: Context, dense: float,
                      bm25_share: float, defined: str = "",
                      term: tuple[int, int] | None = None) -> Evidence:  # fmt: skip
    """The sentence's words and coverage, and its context: the passage and the sentences around it.

    `defined` is the term whose definition holds the sentence (a manual's setting, a glossary's
    entry), `term` its span (article offsets): a question naming that term is asked of this
    definition, one naming another is not."""
    text = candidate.sentence.text
    words = tuple((m.start(), m.end(), frozenset(terms(m.group(0)))) for m in _WORD.finditer(text))
    sentence_terms = frozenset(t for _, _, ts in words for t in ts)
    near = context.near | sentence_terms
    missing = [name for name in missing_names(view.text, context, view.subject) if not _offered(view, name)]
    shared = {
        "relevance": candidate.sentence.relevance,
        "sentence_first": float(candidate.sentence_rank == 0),
        "sentence_rank": 1.0 / (1 + candidate.sentence_rank),
        "passage_rank": 1.0 / candidate.passage.n,
        "dense": dense,
        "bm25_share": bm25_share,
        "cover_sentence": _weighted(view, sentence_terms),
        "cover_context": _weighted(view, near),
        "numbers_missing": float(bool(view.numbers - _numbers(near))),
        "years_missing": float(bool(view.years - _numbers(near))),
        "names_missing": float(bool(missing)),
        **_term_fit(view, defined),
        **_default_fit(view, text),
    }
    listed = tuple(enumerations(text)) if view.qtype.wants_list else ()
    offered = tuple(enumerations(text, choices_only=True)) if listed else ()
    return Evidence(words, sentence_terms, shared, listed, offered, term)


def features(
    view: QuestionView,
    candidate: Candidate,
    sources: frozenset[str],
    evidence: Evidence,
    draft_terms: frozenset[str],
) -> dict[str, float]:
    """The named features of one candidate span (all sources that produced it in `sources`)."""
    sentence = candidate.sentence
    span_terms = set(terms(candidate.text))
    question_terms = set(view.terms)
    novel = {t for t in span_terms if not same_word(t, question_terms)}
    words = len(candidate.text.split())
    start, end = candidate.start - sentence.start, candidate.end - sentence.start
    out = {
        "bias": 1.0,
        **evidence.sentence,
        "novelty": len(novel) / len(span_terms) if span_terms else 0.0,
        "nothing_new": float(not novel),
        "cover_span": _weighted(view, span_terms),
        "log_words": math.log1p(words),
        "sentence_share": words / max(1, len(evidence.words)),
        "position": start / max(1, len(sentence.text)),
        "adjacent": _adjacency(evidence.words, start, end, view.terms),
        "focus": float(any(same_word(f, span_terms) for f in view.qtype.focus[-1:])),
        "typed_score": candidate.typed_score,
        "draft": len(novel & draft_terms) / len(novel) if novel else 0.0,
        "n_sources": float(len(sources)),
    }
    if EXPANSION in sources:
        out["expands"] = 1.0  # spells out the abbreviation the question asks about
    term = evidence.term
    if view.qtype.kind in (VALUE, QUANTITY) and term and term[0] <= candidate.start and candidate.end <= term[1]:
        out["term_header"] = 1.0  # "port (integer)": the entry's name and type, not the value asked for
    if any(start <= s and e <= end for s, e in evidence.listed) and _about_asked(view, evidence):
        out["enumerated"] = 1.0  # holds a list, for a question asking for several
        if any(start <= s and e <= end for s, e in evidence.offered):
            out["offered"] = 1.0  # ... of all the choices there are ("Valid values are A, B, and C")
    groups = {group_of(s) for s in sources}
    for group in groups:
        out[f"is_{group}"] = 1.0
        out[f"{view.form}*{group}"] = 1.0
    out[f"form_{view.form}"] = 1.0
    return out


def _offered(view: QuestionView, name: str) -> bool:
    """Whether a name is one of the alternatives the question offers: it need not be in the context."""
    return any(name in alternative or alternative in name for alternative in view.alternatives)


def _about_asked(view: QuestionView, evidence: Evidence) -> bool:
    """Whether a sentence is about what the question asks of: it holds the focus noun ("which
    isolation levels") or defines the term the question names ("the settings of log_statement")."""
    focus = view.qtype.focus[-1:]
    return bool(evidence.sentence.get("term_named")) or any(same_word(f, evidence.terms) for f in focus)


_RELATIVE = ("relevance", "cover_sentence", "cover_context", "typed_score", "dense", "adjacent", "cover_span")


def with_relative(rows: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """Each candidate's features plus how far it stands from the question's best on each
    (`<name>_gap`, 0 for the best) and whether it is the best-scored typed span (`typed_best`):
    a question's candidates are compared with each other, not with other questions'."""
    best = {name: max((r.get(name, 0.0) for r in rows), default=0.0) for name in _RELATIVE}
    typed = [r.get("typed_score", 0.0) for r in rows if r.get("is_typed")]
    top_typed = max(typed, default=None)
    out = []
    for row in rows:
        extra = {f"{name}_gap": row.get(name, 0.0) - best[name] for name in _RELATIVE}
        extra["typed_best"] = float(bool(row.get("is_typed")) and row.get("typed_score") == top_typed)
        out.append({**row, **extra})
    return out


TYPED_FORMS = (DATE, QUANTITY)


def admissible(row: Mapping[str, float], form: str) -> bool:
    """The rules applied before any weighing (docs/evaluation.md): a candidate whose context lacks
    a name or a year the question mentions answers another question ("Who won in 2021?" is not
    answered from a passage about 2022); a "when" or "how many" question is answered by a date or
    a quantity only."""
    if row.get("names_missing") or row.get("years_missing"):
        return False
    return not (form in TYPED_FORMS and not row.get("is_typed"))


def admitted(rows: Sequence[Mapping[str, float]], form: str) -> list[int]:
    """The indices of a question's admissible candidates; and, for a value asked of a term the
    question names ("the default checkpoint_timeout"), when some lie in that term's definition, the
    ones in other terms' definitions answer another question (a question asking for a name may be
    answered by another term: "which setting controls …"); and for a question asking what holds
    when nothing is chosen, when some sentences state a default, the others answer another question,
    and when some of those lie in the named term's own entry, they say its default;
    and for a question asking for several, when some candidates hold an enumeration ("tactics such
    as A, B, and C"), one item or an unlisted sentence is not the answer, and when some hold all the
    choices there are ("Valid values are A, B, and C"), a list of examples is not either. A value
    is never read off the header of a term's entry ("port (integer)" does not say the port); and
    what an abbreviation is, when some candidate spells it out, is that long form."""
    allowed = [i for i, row in enumerate(rows) if admissible(row, form)]
    if form in TYPED_FORMS and any(rows[i].get("term_named") for i in allowed):
        allowed = [i for i in allowed if not rows[i].get("term_other")]
    if any(rows[i].get("default_stated") for i in allowed):
        allowed = [i for i in allowed if rows[i].get("default_stated")]
        allowed = [i for i in allowed if rows[i].get("term_named")] or allowed  # the term's own entry
    allowed = [i for i in allowed if not rows[i].get("term_header")]
    if any(rows[i].get("expands") for i in allowed):
        allowed = [i for i in allowed if rows[i].get("expands")]
    for listing in ("offered", "enumerated"):
        if any(rows[i].get(listing) for i in allowed):
            return [i for i in allowed if rows[i].get(listing)]
    return allowed


def _default_fit(view: QuestionView, sentence: str) -> dict[str, float]:
    """For a question asking what holds when nothing is chosen, whether the sentence states a default."""
    if not view.qtype.default:
        return {}
    return {"default_stated": float(states_default(sentence))}




def _term_fit(view: QuestionView, defined: str) -> dict[str, float]:
    """Whether the question names the defined term the sentence belongs to (`term_named`) or the
    sentence belongs to some other term's definition (`term_other`); neither outside definitions."""
    name = term_name(defined)
    name_terms = terms(name)
    if not name_terms:
        return {}
    implied = default_terms() if view.qtype.default else frozenset()  # "unless told otherwise" says "default"
    named = names_all(name_terms, view.terms) or names_all(
        terms(name.replace("_", " ")), view.split_terms | implied
    )
    return {"term_named": 1.0} if named else {"term_other": 1.0}


def _weighted(view: QuestionView, present: set[str] | frozenset[str]) -> float:
    present = set(present)
    return sum(w for t, w in view.weights.items() if same_word(t, present))


def _numbers(words) -> set[str]:
    return {w for w in words if w[:1].isdigit()}


def _adjacency(words, start: int, end: int, wanted: frozenset[str]) -> float:
    """1 when a question word touches the span, falling off with the distance in words."""
    before = [ts for s, e, ts in words if e <= start]
    after = [ts for s, e, ts in words if s >= end]
    distances = [i for i, ts in enumerate(reversed(before)) if ts & wanted]
    distances += [i for i, ts in enumerate(after) if ts & wanted]
    return 1 / (1 + min(distances)) if distances else 0.0


def feature_names() -> tuple[str, ...]:
    """Every feature the selector may weigh, in a fixed order."""
    base = ("bias", "relevance", "sentence_first", "sentence_rank", "passage_rank", "dense", "bm25_share",
            "cover_sentence", "cover_context", "numbers_missing", "years_missing", "names_missing",
            "term_named", "term_other", "novelty", "nothing_new", "cover_span", "log_words", "sentence_share",
            "position", "adjacent", "focus", "typed_score", "draft", "n_sources", "typed_best",
            *(f"{n}_gap" for n in _RELATIVE))  # fmt: skip
    groups = tuple(f"is_{g}" for g in GROUPS)
    forms = tuple(f"form_{f}" for f in FORMS)
    crosses = tuple(f"{f}*{g}" for f in FORMS for g in GROUPS)
    return base + groups + forms + crosses


# ------------------------------------------------------------ the fitted model


@dataclass(frozen=True)
class Selector:
    """A logistic model over standardised features (one stage of a `Selection`)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        at = {name: i for i, name in enumerate(self.names)}
        out = np.zeros((len(rows), len(self.names)), dtype=np.float64)
        for r, row in enumerate(rows):
            for name, value in row.items():
                if name in at:
                    out[r, at[name]] = value
        return out

    def probabilities(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        z = ((self.matrix(rows) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def log_odds_range(self, ranges: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
        """The least and greatest log-odds over rows whose every feature lies anywhere in its range
        (absent: 0); the model is linear, so both lie at ends of the ranges."""
        low = high = self.intercept
        for name, mean, scale, coef in zip(self.names, self.mean, self.scale, self.coef):
            a, b = ranges.get(name, (0.0, 0.0))
            ends = ((a - mean) / scale * coef, (b - mean) / scale * coef)
            low, high = low + min(ends), high + max(ends)
        return float(low), float(high)

    def as_dict(self) -> dict:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Selector:
        return cls(tuple(data["names"]), np.asarray(data["mean"]), np.asarray(data["scale"]),
                   np.asarray(data["coef"]), float(data["intercept"]))  # fmt: skip


# ------------------------------------------------------------ the answer model's second opinion

RESCORE_FEATURES = ("first", "lm_mean", "lm_first", "lm_gap", "lm_best", "lm_tokens")
SCORED_WORDS = 24  # longer candidates (whole sentences) are not scored by the answer model
LM_FLOOR = -20.0  # the log-probability of a text the model does not score; lower ones count as it


def scored(text: str) -> bool:
    """Whether the answer model scores a candidate's text (a whole sentence it does not): the one rule
    for the second stage, for the bound that lets it be skipped, and for the fit's replay."""
    return len(text.split()) <= SCORED_WORDS


def rescore_features(first_logits: Sequence[float], logprobs: Sequence[Sequence[float] | None]) -> list[dict]:
    """Features of the top candidates for the second stage: the first stage's log-odds and the
    answer model's mean and first-token log-probability of each, also relative to the best of them."""
    means = [max(float(np.mean(lp)), LM_FLOOR) if lp else LM_FLOOR for lp in logprobs]
    best = max(means, default=0.0)
    return [
        {"first": z, "lm_mean": m, "lm_first": max(float(lp[0]), LM_FLOOR) if lp else LM_FLOOR,
         "lm_gap": m - best, "lm_best": float(m == best), "lm_tokens": math.log1p(len(lp or ()))}
        for z, m, lp in zip(first_logits, means, logprobs)
    ]  # fmt: skip


def rescore_ranges(first_logits: Sequence[float], lengths: Sequence[int]) -> list[dict[str, tuple[float, float]]]:
    """What rescore_features may give each candidate before the model reads any: the first stage's
    log-odds and the number of tokens scored (0: none) are known, each log-probability lies in
    [LM_FLOOR, 0], and any candidate may turn out the likeliest."""
    spans = []
    for z, n in zip(first_logits, lengths):
        lm = (LM_FLOOR, 0.0) if n else (LM_FLOOR, LM_FLOOR)
        spans.append({"first": (z, z), "lm_mean": lm, "lm_first": lm, "lm_gap": (LM_FLOOR, 0.0),
                      "lm_best": (0.0, 1.0), "lm_tokens": (math.log1p(n), math.log1p(n))})  # fmt: skip
    return spans


_COPIED = ("numbers_missing", "term_named", "term_other")
ANSWER_FEATURES = ("top", "margin", *_COPIED, f"form_{YES_NO}")


def answer_features(best: Mapping[str, float], p_best: float, p_next: float | None, form: str) -> dict[str, float]:
    """What says whether to answer at all: how sure the selector is of its best candidate and by how
    much it beats the next, whether that candidate's context holds the question's numbers and term
    (one lacking a name is never admitted), and whether a verdict (yes/no) is asked, whose sentence
    is weighed on another scale.
    Retrieval scores, coverage shares and the other forms are left out: their scale and mix differ
    from one collection to the next, and with them a threshold fitted on some collections abstained
    on a third of another's answerable questions (docs/evaluation.md, thirteenth run)."""
    top = float(logit(np.array([p_best]))[0])
    margin = top - float(logit(np.array([p_next]))[0]) if p_next is not None else 5.0
    row = {name: float(best.get(name, 0.0)) for name in _COPIED}
    return {"top": top, "margin": margin, **row, f"form_{YES_NO}": float(form == YES_NO)}


@dataclass(frozen=True)
class Selection:
    """The fitted selector: a first stage over every candidate; optionally a second stage that
    re-weighs the first stage's `top_k` with the answer model's likelihood of each; and the
    answerability model whose probability, below `threshold`, means the documents do not say."""

    first: Selector
    second: Selector | None
    top_k: int
    threshold: float  # on the answerability probability (on the last stage's, without one)
    answerer: Selector | None = None

    def as_dict(self) -> dict:
        return {"first": self.first.as_dict(), "second": self.second.as_dict() if self.second else None,
                "top_k": self.top_k, "threshold": self.threshold,
                "answerer": self.answerer.as_dict() if self.answerer else None}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> Selection:
        second = Selector.from_dict(data["second"]) if data.get("second") else None
        answerer = Selector.from_dict(data["answerer"]) if data.get("answerer") else None
        return cls(Selector.from_dict(data["first"]), second, int(data["top_k"]), float(data["threshold"]), answerer)

    def confidence(self, considered_features: Sequence[Mapping[str, float]], probabilities: Sequence[float],
                   form: str) -> float:  # fmt: skip
        """The probability that the best candidate (first in the lists) should be the answer."""
        if not probabilities:
            return 0.0
        if self.answerer is None:
            return float(probabilities[0])
        nxt = probabilities[1] if len(probabilities) > 1 else None
        row = answer_features(considered_features[0], probabilities[0], nxt, form)
        return float(self.answerer.probabilities([row])[0])

    def settled(self, best: Mapping[str, float], first_logits: Sequence[float], lengths: Sequence[int],
                form: str) -> float | None:  # fmt: skip
        """The answer's confidence when no likelihoods the answer model could give would change the
        outcome, None when they could: the first stage's best (features `best`) stays the second
        stage's best, and the confidence stays on the same side of the threshold. Then the bound
        on that side is returned, so the model need not be called.

        `first_logits` and `lengths` are the first stage's log-odds and the tokens the model would
        score of each of the top candidates, best first.
        """
        if self.second is None or not first_logits:
            return None
        ranges = [self.second.log_odds_range(r) for r in rescore_ranges(first_logits, lengths)]
        (low, high), others = ranges[0], ranges[1:]
        if others and low <= max(h for _, h in others):
            return None
        nexts = [max(lo for lo, _ in others), max(h for _, h in others)] if others else [None]
        corners = [
            self.confidence([best], [_sigmoid(top)] + ([] if nxt is None else [_sigmoid(nxt)]), form)
            for top in (low, high) for nxt in nexts
        ]  # fmt: skip
        if min(corners) >= self.threshold:
            return min(corners)
        return max(corners) if max(corners) < self.threshold else None


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


@lru_cache(maxsize=4)
def load_selection(path: Path = SELECTOR_FILE) -> Selection:
    try:
        return Selection.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"answer selector {path}: {' '.join(str(error).split())}") from None
