"""Answer candidates: every span of the evidence sentences that could be the answer.

A candidate is a verbatim span of a supporting sentence, so whatever the
selector (rag/answer/selection.py) picks is copied from the documents, never
written by the model. The spans come from several sources, and the fitted
selector decides between them with the question in view:

- the entities and noun phrases spaCy found at ingest (rag/ingestion/nlp.py),
  labelled PERSON, ORG, GPE, DATE, CARDINAL, ..., or NP;
- the question-typed spans of rag/answer/extraction.py (dates, quantities,
  names, enumerations), with the score it gives them; for a name, the spans
  the source marks as code are typed spans too, and in a source that marks
  none (plain text, a PDF) the tokens written as code;
- literal tokens of technical text the entity model does not know: words
  with an underscore, option flags, backslash commands, numbers with a unit
  glued on (128MB), words in capitals (ACCESS EXCLUSIVE);
- the clauses of the sentence, and the sentence itself, which answer the
  questions that ask for an explanation rather than a name;
- for a question asking what an abbreviation is, the long form a sentence
  spells it out with (EXPANSION).
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.evidence import Passage, Sentence, stop_words, terms
from rag.answer.extraction import (
    NAME,
    QUANTITY,
    VALUE,
    answer_sentences,
    drop_leading_function_words,
    expansions,
    question_type,
    rank_spans,
)
from rag.answer.grounding import same_word
from rag.core.profile import load_profile, words_group
from rag.ingestion.nlp import MARKED, NOUN_PHRASE

TYPED, LITERAL, CLAUSE, SENTENCE = "TYPED", "LITERAL", "CLAUSE", "SENTENCE"
EXPANSION = "EXPANSION"  # the long form of the abbreviation a question asks about
MAX_SENTENCE_WORDS = 50
MAX_UNIT_EXTENSION = 2  # words a quantity's noun phrase may run on past the extractor's unit

# Tokens written as code: option flags, backslash commands, snake_case and dotted names.
_CODE_TOKENS = (
    r"-{1,2}[A-Za-z][\w-]*(?:=\w+)?"  # option flags
    r"|\\[A-Za-z]+"  # backslash commands
    r"|\w*[A-Za-z]\w*(?:[_.]\w+)+"  # snake_case, dotted names
)
_TOKEN_START, _TOKEN_END = r"(?<![\w\\-])", r"(?![\w\\])"
# Literal tokens of technical text: work_mem, --schema-only, \timing, 128MB, postgresql.auto.conf, BUFFERS.
_LITERAL = re.compile(
    rf"{_TOKEN_START}(?:{_CODE_TOKENS}"
    r"|\d+(?:\.\d+)?[A-Za-z]{1,3}\b"  # numbers with a unit glued on
    r"|(?<!\w/)[A-Z][A-Z0-9_]+(?:[ -][A-Z][A-Z0-9_]+)*(?!/\w)"  # words in capitals, and runs of them; not "TCP/IP"
    rf"){_TOKEN_END}"
)
# What a source without markup writes as code: the code tokens, not an initialism (e.g, U.S).
_CODELIKE = re.compile(rf"{_TOKEN_START}(?!(?:[A-Za-z]\.)+[A-Za-z]?(?!\w))(?:{_CODE_TOKENS}){_TOKEN_END}")
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:()\u2014]|\s[\u2013-]\s)\s*")
_MIN_CLAUSE_WORDS = 3


@dataclass(frozen=True)
class Candidate:
    passage: Passage
    sentence: Sentence
    sentence_rank: int  # 0 for the most relevant sentence
    start: int  # article offsets
    end: int
    text: str
    source: str  # an entity label, "NP", TYPED, LITERAL, CLAUSE or SENTENCE
    typed_score: float = 0.0  # rag/answer/extraction.py's score, for TYPED spans


def candidates(
    question: str,
    passages: list[Passage],
    mentions_in,
    max_sentences: int = 5,
    defining=None,
) -> list[Candidate]:
    """The candidates of the `max_sentences` most relevant sentences, one per distinct (span, source).

    `mentions_in(doc_id, start, end)` gives the stored mentions inside a span
    (rag.index.store.IndexData.mentions_in), `defining(doc_id, offset)` the
    term whose definition holds an offset, its span and text (IndexData.defining). A defined
    term may lie before its sentence, even before its passage: the one candidate outside the
    sentence it cites.
    """
    qtype = question_type(question)
    top = answer_sentences(qtype, passages, max_sentences)
    rank_of = {(s.start, s.end): i for i, (_, s) in enumerate(top)}
    found: dict[tuple[int, int, str], Candidate] = {}

    def add(passage, sentence, start, end, source, typed_score=0.0):
        raw = sentence.text[start - sentence.start : end - sentence.start]
        after = sentence.text[end - sentence.start :]
        text = trimmed(_REFERENCES_AT_END.sub("", raw), after)
        if source not in (SENTENCE, CLAUSE):
            text = trimmed(_bracketed(text), after)
        if not text:
            return
        start += raw.find(text) if text in raw else raw.find(text[:-1])  # the stop it took from `after`
        key = (start, start + len(text), source)
        if key not in found:
            found[key] = Candidate(
                passage, sentence, rank_of[(sentence.start, sentence.end)], start, start + len(text),
                text, source, typed_score,
            )

    stored: dict[tuple[int, int], list] = {}

    def mentions_of(passage: Passage, sentence: Sentence) -> list:
        key = (sentence.start, sentence.end)  # a sentence is kept under one passage (ranked_sentences)
        if key not in stored:
            stored[key] = list(mentions_in(passage.hit.chunk.doc_id, sentence.start, sentence.end))
        return stored[key]

    for passage, sentence in top:
        for mention in mentions_of(passage, sentence):
            add(passage, sentence, mention.start, mention.end, mention.label)
        for match in _LITERAL.finditer(sentence.text):
            add(passage, sentence, sentence.start + match.start(), sentence.start + match.end(), LITERAL)
        for start, end in _clauses(sentence.text):
            add(passage, sentence, sentence.start + start, sentence.start + end, CLAUSE)
        add(passage, sentence, sentence.start, sentence.start + len(_clip(sentence.text)), SENTENCE)
        if qtype.abbreviation:
            for start, end in expansions(sentence.text, qtype.abbreviation):
                add(passage, sentence, sentence.start + start, sentence.start + end, EXPANSION)
    names = qtype.kind == NAME

    marks_code: dict[str, bool] = {}

    def marked(passage: Passage, sentence: Sentence) -> list[tuple[int, int]]:
        """The spans the source marks as code; in a source that marks none (plain text, a PDF), the
        tokens written as code are: identifiers, option flags, backslash commands."""
        doc_id = passage.hit.chunk.doc_id
        if doc_id not in marks_code:
            marks_code[doc_id] = any(m.label == MARKED for m in mentions_in(doc_id, 0, sys.maxsize))
        if not marks_code[doc_id]:
            return [m.span() for m in _CODELIKE.finditer(sentence.text)]
        found_in = mentions_of(passage, sentence)
        return [(m.start - sentence.start, m.end - sentence.start) for m in found_in if m.label == MARKED]

    terms_of: dict[tuple[int, int], tuple[int, int, str] | None] = {}

    def term_of(passage: Passage, sentence: Sentence) -> tuple[int, int, str] | None:
        key = (sentence.start, sentence.end)
        if key not in terms_of:
            terms_of[key] = defining(passage.hit.chunk.doc_id, sentence.start) if defining is not None else None
        return terms_of[key]

    ranked = rank_spans(question, passages, max_sentences=max_sentences, marked=marked, defining=term_of)
    for span in ranked:
        if (span.sentence.start, span.sentence.end) not in rank_of:
            continue
        term = term_of(span.passage, span.sentence)
        if term and (span.start, span.end) == term[:2]:  # above its sentence (or passage), or opening it
            key = (span.start, span.end, TYPED)
            rank = rank_of[(span.sentence.start, span.sentence.end)]
            found.setdefault(key, Candidate(span.passage, span.sentence, rank, span.start, span.end, span.text,
                                            TYPED, span.score))  # fmt: skip
            continue
        start, end = span.start, span.end
        found_in = mentions_of(span.passage, span.sentence)
        if qtype.kind in (QUANTITY, VALUE):
            end = _unit_end(span.sentence, start, end, [m for m in found_in if m.label == NOUN_PHRASE])
        if names:
            start = _past_opening_capital(span.sentence, start, end, found_in)
        if start < end:
            add(span.passage, span.sentence, start, end, TYPED, span.score)
    return list(found.values())


def _past_opening_capital(sentence: Sentence, start: int, end: int, mentions) -> int:
    """Where a name really starts when the typed extractor's span opens the sentence or a line.

    The extractor reads a name off capitals, and a sentence's first word has one
    whatever it is ("Specifies the TCP port", "Controls which levels", "Each
    method"), as has the first word of a term's definition on the line below
    the term ("-k\\nUse checksums"). Unless the entity model found an entity
    starting there, that word is not part of a name: the span starts at the
    next word, or is none (start == end).
    """
    before = sentence.text[: start - sentence.start]
    if before.strip(_OPENING_PUNCTUATION) and not _LINE_START.search(before):
        return start  # neither the sentence's first word nor a line's
    if any(m.start == start and m.label != NOUN_PHRASE for m in mentions):
        return start
    first = _FIRST_WORD.match(sentence.text, start - sentence.start, end - sentence.start)
    rest, _ = drop_leading_function_words(sentence.text, first.end(), end - sentence.start)
    return sentence.start + rest


_OPENING_PUNCTUATION = " \t\n\"'“‘([-–—*•"
_LINE_START = re.compile(r"\n[ \t]*[" + re.escape(_OPENING_PUNCTUATION.strip()) + r"]*$")
_FIRST_WORD = re.compile(r"\S+\s*")


def _unit_end(sentence: Sentence, start: int, end: int, phrases) -> int:
    """Where a quantity's unit words stop: the end of the noun phrase they belong to.

    The typed extractor takes up to two words after a number as its unit; the
    parse at ingest knows where the noun phrase ends ("35 000 to 60 000
    ventilators would" ends at "ventilators", "10 open reading frames" goes
    on to "frames"). Without a phrase over the span's end, it stays as it is.
    """
    over = [m for m in phrases if m.start < end and m.end > start]
    if not over:
        return end
    last = max(m.end for m in over)
    if last < end:
        return last
    words_after = len(sentence.text[end - sentence.start : last - sentence.start].split())
    return last if words_after <= MAX_UNIT_EXTENSION else end


MIN_ECHO_TERMS = 2  # question words an opening must restate before it is cut
MIN_REST_WORDS = 3  # words that must remain after the cut
MIN_TAIL_ECHO_TERMS = 3  # question words a closing must restate before it is cut ...
TAIL_ECHO_SHARE = 0.75  # ... and the share of its content words they make
MIN_HEAD_WORDS = 2  # words that must remain before it
_TOKEN = re.compile(r"\S+")


def without_echo(candidate: Candidate, question_terms: Iterable[str]) -> Candidate:
    """A sentence or clause without the words that only restate the question.

    "An alternative way to estimate the course of the epidemic is to back-calculate
    infections from observed deaths" answers "What is an alternative way to
    estimate the course of an epidemic?" from "to back-calculate" on: the words
    before it are the question's own (its content words, and the function words
    between them) and the copula that follows them ("Carrageenan is | a sulfated
    polymer ..." for "What is carrageenan?"). The opening is kept when fewer than
    MIN_ECHO_TERMS are restated and no copula follows, or when too little would
    remain. Then a closing that restates the question from an auxiliary on
    ("Calf septicemia | is the main cause of death in the neonatal period") is
    cut too: what stands before it is the answer.
    """
    wanted = set(question_terms)
    function = stop_words() | _auxiliaries()
    tokens = list(_TOKEN.finditer(candidate.text))
    last, restated, i = None, 0, 0
    while i < len(tokens):
        token = tokens[i].group(0)
        aside = _aside_end(tokens, i) if last is not None else None
        if aside is not None and _copula(tokens, aside + 1):  # "Hepatitis C virus (HCV, a member …) is …"
            last, i = aside, aside + 1
            continue
        content = [t for t in terms(token) if t not in function]
        if content and not (i == 0 and _LABEL.fullmatch(token)):  # "Text:", "Abstract:" label the sentence
            if not all(same_word(t, wanted) for t in content):
                break
            last, restated = i, restated + 1
        i += 1  # a function word or punctuation may sit between restated words
    rest = len(tokens) - (last + 1) if last is not None else 0
    copula = rest > MIN_REST_WORDS and _copula(tokens, last + 1)
    if last is not None and (restated >= MIN_ECHO_TERMS or copula) and rest >= MIN_REST_WORDS:
        cut = tokens[last + 1 + copula].start()  # "Carrageenan is | a sulfated polymer"
        candidate = dataclasses.replace(candidate, start=candidate.start + cut, text=candidate.text[cut:])
    return _without_closing_echo(candidate, wanted, function)


def _copula(tokens: list[re.Match], i: int) -> bool:
    return i < len(tokens) and tokens[i].group(0).lower() in load_profile().answers.copulas


_LABEL = re.compile(r"[A-Z][a-z]+:")
MAX_ASIDE_WORDS = 12


def _aside_end(tokens: list[re.Match], i: int) -> int | None:
    """The index of the token closing the bracket token `i` opens, if it closes within MAX_ASIDE_WORDS."""
    opening = tokens[i].group(0)[:1]
    closing = {"(": ")", "[": "]"}.get(opening)
    if closing is None:
        return None
    for j in range(i, min(len(tokens), i + MAX_ASIDE_WORDS)):
        if closing in tokens[j].group(0):
            return j
    return None


def _without_closing_echo(candidate: Candidate, wanted: set[str], function: frozenset[str]) -> Candidate:
    """The candidate up to the auxiliary from which on it only restates the question; the first of
    a run of them ("ECoVs | may have ..."), and without the pronoun or function word it leaves at
    its end ("..., we | were able to ...")."""
    tokens = list(_TOKEN.finditer(candidate.text))
    auxiliary = [token.group(0).lower() in _auxiliaries() for token in tokens]
    # each token's content terms, and whether each restates the question: read once for every cut
    restates = [[same_word(t, wanted) for t in terms(token.group(0)) if t not in function] for token in tokens]
    for i in range(1, len(tokens) - 1):
        if not auxiliary[i] or auxiliary[i - 1]:
            continue
        tail = [r for flags in restates[i:] for r in flags]
        restated = sum(tail)
        if restated < MIN_TAIL_ECHO_TERMS or restated < TAIL_ECHO_SHARE * len(tail):
            continue
        head = i
        while head and _bare(tokens[head - 1].group(0)):
            head -= 1
        if head >= MIN_HEAD_WORDS and not all(r for flags in restates[:head] for r in flags):
            end = len(candidate.text[: tokens[head - 1].end()].rstrip(" ,;:"))
            return dataclasses.replace(candidate, end=candidate.start + end, text=candidate.text[:end])
    return candidate


def _bare(token: str) -> bool:
    """A token no answer ends with: punctuation, a function word or a pronoun."""
    lowered = token.strip(" ,;:.").lower()
    return not lowered or lowered in _unending()


@lru_cache(maxsize=1)
def _unending() -> frozenset[str]:
    """Function words and pronouns: "…, we" ends no answer."""
    words = load_profile().conversation
    return stop_words() | words.function_words | words.referring


@lru_cache(maxsize=1)
def _auxiliaries() -> frozenset[str]:
    """Auxiliaries and modals ("is", "can", "must"): function words, and where a closing echo starts."""
    return frozenset(load_profile().questions.yes_no_openers)


_ABBREVIATION = re.compile(r"[A-Za-z][^\s()]*[A-Z][^\s()]*[A-Z][^\s()]*")  # not a quantity: 128MB


def spelled_out(candidate: Candidate) -> Candidate:
    """An abbreviation with the long form its sentence gives it just before, "Global Initiative on
    Sharing All Influenza Data (GISAID)" for "GISAID": the long form is what a reader may not know.
    Unchanged when the sentence writes no long form right before the bracketed abbreviation."""
    text, sentence = candidate.text, candidate.sentence
    at = candidate.start - sentence.start
    if not _ABBREVIATION.fullmatch(text) or sentence.text[at - 1 : at] != "(":
        return candidate
    closing = sentence.text.find(")", at + len(text))
    if closing < 0:
        return candidate
    for start, end in expansions(sentence.text, text):
        if end <= at and not sentence.text[end : at - 1].strip():
            return dataclasses.replace(
                candidate, start=sentence.start + start, end=sentence.start + closing + 1,
                text=sentence.text[start : closing + 1],
            )  # fmt: skip
    return candidate


MIN_COUNTED_ECHO = 2  # restated words after a number before they are cut: "10 | open reading frames"


def without_counted_echo(candidate: Candidate, question_terms: Iterable[str]) -> Candidate:
    """A quantity without the words after its number that only restate what the question counts:
    "10 open reading frames" answers "How many open reading frames are in the gene?" as "10". One
    such word stays ("ten days" for "how many days"): it reads as the answer's unit."""
    wanted = set(question_terms)
    tokens = list(_TOKEN.finditer(candidate.text))
    numbered = [i for i, token in enumerate(tokens) if any(c.isdigit() for c in token.group(0))]
    if not numbered or numbered[-1] == len(tokens) - 1:
        return candidate
    after = [t for token in tokens[numbered[-1] + 1 :] for t in terms(token.group(0))]
    if len(after) < MIN_COUNTED_ECHO or not all(same_word(t, wanted) for t in after):
        return candidate
    end = tokens[numbered[-1]].end()
    return dataclasses.replace(candidate, end=candidate.start + end, text=candidate.text[:end])


_POINTER_AT_END = re.compile(
    rf"\s*\(\s*{words_group(load_profile().answers.reference_words)}\b[^()]*\)[\s.,;:]*$",
    re.I,
) if load_profile().answers.reference_words else None  # fmt: skip


def without_pointer(candidate: Candidate) -> Candidate:
    """A sentence or clause without the bracketed pointer that closes it: "(see Figure S1)", "(Table
    1)" send the reader elsewhere and answer nothing; "(in March 2019)" stays. (A cited source,
    "(Howat et al., 2006)", stays too: the papers' expert answers keep it about as often as not.)"""
    match = _POINTER_AT_END.search(candidate.text) if _POINTER_AT_END else None
    if not match or len(candidate.text[: match.start()].split()) < MIN_REST_WORDS:
        return candidate
    end = len(candidate.text[: match.start()].rstrip(" ,;:"))
    return dataclasses.replace(candidate, end=candidate.start + end, text=candidate.text[:end])


def _clauses(text: str) -> list[tuple[int, int]]:
    """Stretches between commas, semicolons, colons, brackets and dashes, of at least three words."""
    spans, last = [], 0
    for match in _CLAUSE_BREAK.finditer(text):
        spans.append((last, match.start()))
        last = match.end()
    spans.append((last, len(text)))
    if len(spans) == 1:
        return []
    return [(s, e) for s, e in spans if len(text[s:e].split()) >= _MIN_CLAUSE_WORDS]


# A paper's reference marks closing a span ("... uses DPP4 [33] [34] [" or "[4, 5]"): the answer's
# own citations follow it, and these are none of them.
_REFERENCES_AT_END = re.compile(r"(?:\s+\[\s*(?:\d+(?:\s*[,–-]\s*\d+)*\s*\]?)?)+[\s.,;:]*$")


_INITIALISM = re.compile(r"(?:(?<![^\W\d_])[^\W\d_]\.){2,}$")  # "U.S.", "e.g."


def trimmed(text: str, after: str = "") -> str:
    """A span without the spaces and punctuation around it, but for the stop that closes a dotted
    abbreviation, its own or the one just `after` it: "the U.S." answers "U.S.", not "U.S"."""
    core = text.strip(" ,;:.\n\t")
    if core and (text[text.find(core) + len(core) :] or after).startswith(".") and _INITIALISM.search(core + "."):
        return core + "."
    return core


def _bracketed(text: str) -> str:
    """A span without the part beyond a bracket it does not close or open: an entity recogniser's
    "0.2 (20%" is "0.2"."""
    for opening, closing in ("()", "[]"):
        if text.count(opening) > text.count(closing):
            text = text[: text.rfind(opening)]
        elif text.count(closing) > text.count(opening):
            text = text[text.find(closing) + 1 :]
    return text


def _clip(text: str) -> str:
    words = list(re.finditer(r"\S+", text))
    return text if len(words) <= MAX_SENTENCE_WORDS else text[: words[MAX_SENTENCE_WORDS - 1].end()]
