"""Questions about the collection itself, answered from the index instead of from top-k passages.

"What are these documents about?", "which documents mention X?", "how many
documents …?", "list every date in document Y", "summarise document Y": the
top five passages cannot answer these, the index can — its document list and
titles, the entities spaCy marked at ingest, the BM25 postings, the
extractive summaries (rag/answer/summary.py). They are recognised by the
templates of the language profile (`[collection]` in rag/profiles/en.toml);
the code holds only the shapes around them.

As for any answer, everything shown of a document is copied from it and
cited: a title, the sentence where X is written, an entity, a summary
sentence — each with its span (`claims`) and the passage that holds it
(`citations`). Counts and topic words are the only text not copied, and
they come from the index, not from a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from rag.core.errors import DocumentError
from rag.core.profile import CollectionWords, load_profile, words_group
from rag.core.records import Answer, Citation, Claim, Document, Summary, Topic
from rag.core.settings import Settings
from rag.index import scope
from rag.index.lexical import tokenize
from rag.index.store import IndexData
from rag.ingestion.sentences import split_sentences

# Tried in this order: the more specific forms first ("how many documents mention X" before "how many documents").
INTENTS = ("entities", "summary", "count_mentions", "mentions", "count", "listing", "overview")
OVERVIEW_SENTENCES = 1  # per document
ITEM_JOINER = "; "


@dataclass(frozen=True)
class CollectionQuestion:
    intent: str  # one of INTENTS
    subject: str = ""  # {x}: what the documents should mention
    document: str = ""  # {y}: a document, as the question names it
    labels: tuple[str, ...] = field(default=())  # {kind}: the entity labels to list


class Summaries(Protocol):
    """What answering needs besides the index: the pipeline's (cached) summaries and scope."""

    def summary(self, doc_id: str, sentences: int | None = None) -> Summary: ...

    def collection_summary(self, sentences: int = 2, documents=()) -> list[Topic]: ...

    def scope(self, names) -> tuple[str, ...]: ...


# ---------------------------------------------------------------- recognising


def recognise(question: str) -> CollectionQuestion | None:
    """The collection question `question` asks, or None for a question about the documents' content."""
    text = question.strip().rstrip("?.! ").strip()
    words = load_profile().collection
    for intent, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        found = match.groupdict()
        labels = _labels(words, found["kind"]) if found.get("kind") else ()
        subject = _without_determiner(words, found.get("x") or "")
        return CollectionQuestion(intent, subject, (found.get("y") or "").strip(" \"'“”‘’"), labels)
    return None


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    words = load_profile().collection
    kinds = [w for kind in words.kinds for w in kind.words]
    space = r"\s+"
    parts = {
        "{docs}": words_group(words.documents, space),
        "{doc}": words_group(words.document, space),
        "{collection}": words_group(words.collection, space),
        "{det}": "(?:" + words_group(words.determiners, space) + space + ")?",
        "{kind}": "(?P<kind>" + words_group(kinds, space) + ")",
        "{x}": r"(?P<x>\S.*?)",
        "{y}": r"(?P<y>\S.*?)",
    }
    out = []
    for intent in INTENTS:
        for template in getattr(words, intent):
            out.append((intent, re.compile(_template_regex(template, parts), re.IGNORECASE)))
    return tuple(out)


def _template_regex(template: str, parts: dict[str, str]) -> str:
    """A template's regex: its words literally, any spacing between them, its placeholders' parts.

    A space after {det} is the determiner's own (it may be absent), so it is dropped from the template.
    """
    regex = ""
    for piece in re.split(r"(\{\w+\})", template.replace("{det} ", "{det}")):
        if piece in parts:
            regex += parts[piece]
        elif piece:
            regex += r"\s+".join(re.escape(w) if w else "" for w in piece.split(" "))
    return regex


def _labels(words: CollectionWords, kind: str) -> tuple[str, ...]:
    spoken = " ".join(kind.lower().split())
    return next((k.labels for k in words.kinds if spoken in k.words), ())


def _without_determiner(words: CollectionWords, text: str) -> str:
    text = " ".join(text.split()).strip(" \"'“”‘’")
    for det in words.determiners:
        if text.lower().startswith(det + " "):
            return text[len(det) + 1 :]
    return text


def resolve_document(name: str, index: IndexData) -> str:
    """The one document a question names: by ID, ID prefix or glob, else by its title."""
    known = sorted(index.documents)
    found = scope.matches(name, known)
    if not found:
        wanted = " ".join(name.lower().split())
        found = [d for d in known if " ".join(index.documents[d].title.lower().split()).startswith(wanted)]
    if not found:
        raise DocumentError(scope.unknown_message(name, known))
    if len(found) > 1:
        raise DocumentError(f"{name!r} matches {len(found)} documents ({', '.join(found[:3])}); name one")
    return found[0]


# ---------------------------------------------------------------- answering


def answer_about(found: CollectionQuestion, index: IndexData, summaries: Summaries, settings: Settings,
                 question: str, abstain: str) -> Answer:  # fmt: skip
    """The answer to a recognised collection question, every document text in it cited."""
    chosen = summaries.scope(settings.documents) if settings.documents else tuple(sorted(index.documents))
    answer = Answer(question=question, answer=abstain, abstained=True, scope=chosen if settings.documents else (),
                    intent=found.intent)  # fmt: skip
    cited = _Cited(index)
    if found.intent == "overview":
        lines = [_topic_line(t, cited) for t in summaries.collection_summary(OVERVIEW_SENTENCES, chosen)]
        text = "\n".join(line for line in lines if line)
    elif found.intent in ("listing", "count"):
        items = [cited.title(d) for d in chosen]
        text = f"{len(chosen)}: " + ITEM_JOINER.join(items) if found.intent == "count" else ITEM_JOINER.join(items)
    elif found.intent in ("mentions", "count_mentions"):
        hits = mentioning(found.subject, index, chosen)
        items = [cited.span(d, s, e, index.documents[d].title) for d, s, e in hits]
        text = ITEM_JOINER.join(items)
        if found.intent == "count_mentions":
            text = f"{len(hits)}" + (f": {text}" if items else "")
    elif found.intent == "entities":
        doc_id = resolve_document(found.document, index)
        text = ITEM_JOINER.join(cited.span(doc_id, m.start, m.end) for m in entities_of(index, doc_id, found.labels))
    else:  # summary
        summary = summaries.summary(resolve_document(found.document, index))
        text = " ".join(cited.span(summary.doc_id, s.start, s.end) for s in summary.sentences)
    if text:
        answer.answer, answer.abstained = text, False
        answer.citations, answer.claims = cited.citations, cited.claims
    return answer


def _topic_line(topic: Topic, cited: _Cited) -> str:
    sentences = [cited.span(s.doc_id, x.start, x.end) for s in topic.summaries for x in s.sentences]
    return f"[{', '.join(topic.terms)}] " + " ".join(sentences) if sentences else ""


def mentioning(subject: str, index: IndexData, doc_ids: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(document, start, end) of the first place each document writes `subject`, in document order.

    BM25's postings find the chunks holding its words; the phrase itself,
    any case, whole words, must then be written in the chunk's text.
    """
    tokens = tokenize([subject])[0]
    if not tokens or not index.chunks:
        return []
    scores = index.bm25.get_scores(tokens)
    phrase = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in subject.split()) + r"(?!\w)", re.IGNORECASE)
    wanted, first = set(doc_ids), {}
    for row in sorted(int(r) for r in (scores > 0).nonzero()[0]):
        chunk = index.chunks[row]
        if chunk.doc_id not in wanted or chunk.doc_id in first:
            continue
        match = phrase.search(chunk.text)
        if match:
            first[chunk.doc_id] = (chunk.start + match.start(), chunk.start + match.end())
    return [(d, *first[d]) for d in doc_ids if d in first]


def entities_of(index: IndexData, doc_id: str, labels: tuple[str, ...]):
    """The document's entities of these labels inside its content, each distinct text once, in text order."""
    document = index.documents[doc_id]
    seen, out = set(), []
    for mention in index.mentions.get(doc_id, ()):
        if mention.label not in labels or not _in_sections(document, mention.start, mention.end):
            continue
        key = " ".join(document.text[mention.start : mention.end].lower().split())
        if key not in seen:
            seen.add(key)
            out.append(mention)
    return out


def _in_sections(document: Document, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in document.sections)


class _Cited:
    """Citations and claims as an answer is written: each span cited by the sentence that holds it."""

    def __init__(self, index: IndexData):
        self.index = index
        self.citations: list[Citation] = []
        self.claims: list[Claim] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    def span(self, doc_id: str, start: int, end: int, shown: str | None = None) -> str:
        """`shown` (the span's own text by default) with the marker of the sentence holding the span."""
        document = self.index.documents[doc_id]
        s, e = _sentence_around(document, start, end)
        key = (doc_id, s, e)
        if key not in self._numbers:
            self._numbers[key] = len(self.citations) + 1
            self.citations.append(Citation(self._numbers[key], doc_id, document.title, s, e, document.text[s:e],
                                           ((s, e),)))  # fmt: skip
        n = self._numbers[key]
        text = " ".join((shown if shown is not None else document.text[start:end]).split())
        self.claims.append(Claim(" ".join(document.text[start:end].split()), n, doc_id, start, end))
        return f"{text} [{n}]"

    def title(self, doc_id: str) -> str:
        """The document's title, cited where the text writes it (else its first content sentence)."""
        document = self.index.documents[doc_id]
        at = document.text.find(document.title) if document.title else -1
        if at >= 0:
            return self.span(doc_id, at, at + len(document.title))
        s, e = _first_sentence(document)
        return self.span(doc_id, s, e, document.title or doc_id)


def _sentence_around(document: Document, start: int, end: int) -> tuple[int, int]:
    """The sentence (or line) holding [start, end); the span itself when none holds it whole."""
    line_start = document.text.rfind("\n", 0, start) + 1
    line_end = document.text.find("\n", end)
    line_end = len(document.text) if line_end < 0 else line_end
    for s, e in split_sentences(document.text, line_start, line_end):
        if s <= start and end <= e:
            return s, e
    return start, end


def _first_sentence(document: Document) -> tuple[int, int]:
    for s, e in document.sections:
        spans = split_sentences(document.text, s, e)
        if spans:
            return spans[0]
    return 0, min(len(document.text), 1)
