"""Typed records passed between the pipeline stages.

Every stage reads and writes these, so the data flow
load -> chunk -> embed -> index -> retrieve -> prompt -> generate -> cite
can be followed by their types alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One article as loaded from the collection.

    `text` is the whole decoded source (the file itself for .txt/.md, the
    extracted text for .html/.pdf); every character offset in the system
    points into it. `sections` are the spans of `text` that hold article
    content: page boilerplate lies outside them and never reaches a chunk.
    `marked` are the spans the source itself marks as code or a literal
    value (HTML's code, kbd, samp, tt and var elements; Markdown's backticks):
    a manual says there which words name things, lower case or not.
    `defined` are the terms a page defines (HTML's dt), each with where its
    description ends: (term start, term end, description end).
    """

    doc_id: str  # file name without extension
    path: str
    text: str
    title: str
    date: str | None  # ISO 8601 (YYYY-MM-DD) when the article states one
    sections: tuple[tuple[int, int], ...]
    content_hash: str  # sha256 of the raw file bytes
    marked: tuple[tuple[int, int], ...] = ()
    defined: tuple[tuple[int, int, int], ...] = ()

    def defining(self, offset: int) -> tuple[int, int] | None:
        """The innermost defined term at `offset` or whose description holds it: its span, or None."""
        best = None
        for start, end, stop in self.defined:
            if start <= offset < stop and (best is None or start > best[0]):
                best = (start, end)
        return best


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of a document: `document.text[start:end] == text`."""

    doc_id: str
    ordinal: int  # position within its document
    start: int
    end: int
    text: str
    n_tokens: int  # tiktoken tokens
    heading: str = ""  # title and heading above the chunk (rag/ingestion/chunking.py): indexed, not shown

    @property
    def indexed_text(self) -> str:
        """What the embedder and BM25 read: the heading, then the text."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Hit:
    """A chunk returned by retrieval, with the scores that ranked it."""

    chunk: Chunk
    score: float  # the ranking score of the retriever that produced the list
    rank: int  # 1-based
    dense: float | None = None  # cosine similarity, when the dense retriever saw it
    bm25: float | None = None  # BM25 score, when the lexical retriever saw it


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites, with the sentence(s) that support it."""

    n: int  # the [n] marker in the answer
    doc_id: str
    title: str
    start: int  # span of the passage in the article
    end: int
    text: str
    support: tuple[tuple[int, int], ...] = ()  # article spans of supporting sentences


@dataclass(frozen=True)
class Claim:
    """One part of an answer and the passage that supports it: `text` is `article[start:end]`
    (or, for a yes/no answer, the verdict the sentence at [start, end) settles)."""

    text: str
    n: int  # the citation marker it carries
    doc_id: str
    start: int
    end: int


@dataclass
class Answer:
    """The result of one question, as `rag ask --json` prints it."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage
    draft: str = ""  # raw model output before grounding, for debugging
    claims: list[Claim] = field(default_factory=list)  # each part of the answer with its own support
    confidence: float | None = None  # the answer selector's probability for the chosen answer
    scope: tuple[str, ...] = ()  # the documents the question was asked of; empty: the whole collection
    intent: str = "passages"  # "passages", or what a question about the collection asked (about_collection.py)


@dataclass(frozen=True)
class Mention:
    """A span of a document the NLP library marked at ingest: a named entity or a noun phrase.

    `label` is the library's entity label (PERSON, ORG, GPE, NORP, DATE, CARDINAL, ...)
    or "NP" for a noun chunk; `start`/`end` are offsets into `Document.text`.
    """

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class SummarySentence:
    """A sentence of an extractive summary: `text` is `Document.text[start:end]`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Summary:
    """A document's extractive summary: its most central and covering sentences, in document order."""

    doc_id: str
    title: str
    sentences: tuple[SummarySentence, ...]


@dataclass(frozen=True)
class Topic:
    """Documents grouped by their content, with the words that set the group apart from the others."""

    terms: tuple[str, ...]
    summaries: tuple[Summary, ...]
