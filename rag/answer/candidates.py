"""Answer candidates: every span of the evidence sentences that could be the answer.

A candidate is a verbatim span of a supporting sentence, so whatever the
selector (rag/answer/selection.py) picks is copied from the documents, never
written by the model. The spans come from several sources, and the fitted
selector decides between them with the question in view:

- the entities and noun phrases spaCy found at ingest (rag/ingestion/nlp.py),
  labelled PERSON, ORG, GPE, DATE, CARDINAL, ..., or NP;
- the question-typed spans of rag/answer/extraction.py (dates, quantities,
  names, enumerations), with the score it gives them;
- literal tokens of technical text the entity model does not know: words
  with an underscore, option flags, backslash commands, numbers with a unit
  glued on (128MB), words in capitals (ACCESS EXCLUSIVE);
- the clauses of the sentence, and the sentence itself, which answer the
  questions that ask for an explanation rather than a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.evidence import Passage, Sentence, ranked_sentences
from rag.answer.extraction import QUANTITY, question_type, rank_spans
from rag.ingestion.nlp import NOUN_PHRASE

TYPED, LITERAL, CLAUSE, SENTENCE = "TYPED", "LITERAL", "CLAUSE", "SENTENCE"
MAX_SENTENCE_WORDS = 50
MAX_UNIT_EXTENSION = 2  # words a quantity's noun phrase may run on past the extractor's unit

# Literal tokens of technical text: work_mem, --schema-only, \timing, 128MB, postgresql.auto.conf, BUFFERS.
_LITERAL = re.compile(
    r"(?<![\w\\-])(?:"
    r"-{1,2}[A-Za-z][\w-]*(?:=\w+)?"  # option flags
    r"|\\[A-Za-z]+"  # backslash commands
    r"|\w*[A-Za-z]\w*(?:[_.]\w+)+"  # snake_case, dotted names
    r"|\d+(?:\.\d+)?[A-Za-z]{1,3}\b"  # numbers with a unit glued on
    r"|[A-Z][A-Z0-9_]+(?:[ -][A-Z][A-Z0-9_]+)*"  # words in capitals, and runs of them
    r")(?![\w\\])"
)
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
) -> list[Candidate]:
    """The candidates of the `max_sentences` most relevant sentences, one per distinct (span, source).

    `mentions_in(doc_id, start, end)` gives the stored mentions inside a span
    (rag.index.store.IndexData.mentions_in).
    """
    top = ranked_sentences(passages)[:max_sentences]
    rank_of = {(s.start, s.end): i for i, (_, s) in enumerate(top)}
    found: dict[tuple[int, int, str], Candidate] = {}

    def add(passage, sentence, start, end, source, typed_score=0.0):
        raw = sentence.text[start - sentence.start : end - sentence.start]
        text = raw.strip(" ,;:.\n\t")
        if not text:
            return
        start += raw.find(text)
        key = (start, start + len(text), source)
        if key not in found:
            found[key] = Candidate(
                passage, sentence, rank_of[(sentence.start, sentence.end)], start, start + len(text),
                text, source, typed_score,
            )

    for passage, sentence in top:
        doc_id = passage.hit.chunk.doc_id
        for mention in mentions_in(doc_id, sentence.start, sentence.end):
            add(passage, sentence, mention.start, mention.end, mention.label)
        for match in _LITERAL.finditer(sentence.text):
            add(passage, sentence, sentence.start + match.start(), sentence.start + match.end(), LITERAL)
        for start, end in _clauses(sentence.text):
            add(passage, sentence, sentence.start + start, sentence.start + end, CLAUSE)
        add(passage, sentence, sentence.start, sentence.start + len(_clip(sentence.text)), SENTENCE)
    quantity = question_type(question).kind == QUANTITY
    for span in rank_spans(question, passages, max_sentences=max_sentences):
        if (span.sentence.start, span.sentence.end) in rank_of:
            start, end = span.start, span.end
            if quantity:
                phrases = [m for m in mentions_in(span.passage.hit.chunk.doc_id, span.sentence.start, span.sentence.end)
                           if m.label == NOUN_PHRASE]  # fmt: skip
                end = _unit_end(span.sentence, start, end, phrases)
            add(span.passage, span.sentence, start, end, TYPED, span.score)
    return list(found.values())


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


def _clip(text: str) -> str:
    words = list(re.finditer(r"\S+", text))
    return text if len(words) <= MAX_SENTENCE_WORDS else text[: words[MAX_SENTENCE_WORDS - 1].end()]
