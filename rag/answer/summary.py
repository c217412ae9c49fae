"""Extractive summaries: a document's central, covering sentences, copied with their spans.

Nothing is written: a summary is a choice of the document's own sentences,
each `Document.text[start:end]`, shown in document order. The choice is
centroid centrality with maximal marginal relevance (MMR; Carbonell and
Goldstein 1998) over MiniLM sentence embeddings, the embedder the project
already runs:

1. The document's centroid is the mean of its chunk vectors, already in the
   index. MMR over those chunk vectors picks a pool of chunks that are
   central and unlike each other (coverage of the whole document, not only
   its densest part), so a long paper embeds a few dozen sentences, not all.
2. The pool's prose sentences are embedded and MMR picks N of them: close
   to the centroid (centrality), far from the sentences already picked
   (coverage).

Only prose is eligible: sentences of the document's content sections
(boilerplate lies outside them), ending as a sentence ends, of some length,
mostly letters, with no URL or list number: headings, bylines, captions and
references never are. Text wrapped at a fixed width (papers converted from
PDF) keeps its sentences whole: the splitter reads a soft wrap as a space
(rag/ingestion/sentences.py), and the span still points into the document
as it is.

A collection summary gives each document one or two sentences and groups
the documents by topic: agglomerative clustering of the documents'
centroids (scikit-learn, Ward linkage, about sqrt(n / 2) groups), each group
labelled by its highest-weighted TF-IDF terms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from rag.core.records import Document, Summary, SummarySentence, Topic
from rag.index.store import IndexData
from rag.ingestion.sentences import split_sentences

MMR_LAMBDA = 0.7  # centrality against novelty
POOL_PER_SENTENCE = 3  # chunks pooled per sentence wanted
COLLECTION_POOL_PER_SENTENCE = 1  # the same for a collection summary: embedding sentences is its whole cost
MIN_WORDS, MAX_WORDS = 8, 80
MIN_LETTER_SHARE = 0.7  # of a sentence's non-space characters
TOPIC_TERMS = 4
MAX_TOPICS = 8

_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_NOT_PROSE = re.compile(r"https?://|www\.|^\s*(?:\[\d+\]|\d+[.)]\s)")


def summarize(index: IndexData, embedder, doc_id: str, n: int, pool: int = POOL_PER_SENTENCE) -> Summary:
    """The `n` most central and covering prose sentences of the document, in document order,
    from the sentences of `pool` chunks per sentence wanted."""
    document = index.documents[doc_id]
    rows = index.rows_of([doc_id])
    if len(rows) == 0:  # a document with no content sections
        return Summary(doc_id, document.title, ())
    centroid = _centroid(index.vectors, rows)
    pooled = [rows[i] for i in _mmr(np.asarray(index.vectors[rows]), centroid, pool * n)]
    spans = _pooled(prose_sentences(document), [index.chunks[r] for r in pooled])
    if not spans:
        return Summary(doc_id, document.title, ())
    vectors = embedder.encode_sentences([" ".join(document.text[s:e].split()) for s, e in spans])
    chosen = sorted(spans[i] for i in _mmr(vectors, centroid, n))
    return Summary(doc_id, document.title, tuple(SummarySentence(s, e, document.text[s:e]) for s, e in chosen))


def summarize_collection(index: IndexData, embedder, n: int, doc_ids: Iterable[str] | None = None) -> list[Topic]:
    """`n` sentences per document, the documents grouped by topic (largest group first)."""
    ids = sorted(index.documents if doc_ids is None else doc_ids)
    ids = [d for d in ids if len(index.rows_of([d]))]  # a document without content has no centroid
    if not ids:
        return []
    centroids = np.stack([_centroid(index.vectors, index.rows_of([d])) for d in ids])
    labels = _groups(centroids)
    terms = _topic_terms([index.documents[d] for d in ids], labels)
    topics = []
    for label in sorted(set(labels), key=lambda g: (-int(np.sum(labels == g)), g)):
        members = [d for d, g in zip(ids, labels) if g == label]
        summaries = tuple(summarize(index, embedder, d, n, COLLECTION_POOL_PER_SENTENCE) for d in members)
        topics.append(Topic(terms[label], summaries))
    return topics


# ---------------------------------------------------------------- eligible sentences


def prose_sentences(document: Document) -> list[tuple[int, int]]:
    """Spans of the document's content sentences that can stand in a summary, in order."""
    spans = [span for s, e in _paragraphs(document) for span in split_sentences(document.text, s, e)]
    return [(s, e) for s, e in spans if is_prose(document.text[s:e], document.title)]


def _paragraphs(document: Document) -> list[tuple[int, int]]:
    """The content sections (one per kept line) joined where only whitespace lies between them:
    a wrapped paragraph is one region, and nothing dropped as boilerplate is inside one."""
    merged: list[list[int]] = []
    for s, e in sorted(document.sections):
        if merged and document.text[merged[-1][1] : s].isspace():
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def is_prose(text: str, title: str = "") -> bool:
    """A whole sentence of some length, mostly words: not a heading, a caption, a reference or the title."""
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or not _SENTENCE_END.search(text):
        return False
    if _NOT_PROSE.search(text) or " ".join(words) == " ".join(title.split()):
        return False
    visible = [ch for ch in text if not ch.isspace()]
    return sum(ch.isalpha() for ch in visible) >= MIN_LETTER_SHARE * len(visible)


def _pooled(spans: list[tuple[int, int]], chunks) -> list[tuple[int, int]]:
    """The sentences starting inside one of the pooled chunks."""
    ranges = sorted((c.start, c.end) for c in chunks)
    return [(s, e) for s, e in spans if any(a <= s < b for a, b in ranges)]


# ---------------------------------------------------------------- choosing


def _centroid(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    mean = np.asarray(vectors[rows], dtype=np.float32).mean(axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)


def _mmr(vectors: np.ndarray, centroid: np.ndarray, k: int, weight: float = MMR_LAMBDA) -> list[int]:
    """Indices of `k` rows by maximal marginal relevance: near the centroid, far from those chosen."""
    centrality = vectors @ centroid
    chosen: list[int] = []
    closest = np.full(len(vectors), -np.inf)  # each row's highest similarity to a chosen row
    for _ in range(min(k, len(vectors))):
        novelty = np.where(np.isfinite(closest), closest, 0.0)
        score = weight * centrality - (1 - weight) * novelty
        score[chosen] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        closest = np.maximum(closest, vectors @ vectors[best])
    return chosen


def _groups(centroids: np.ndarray) -> np.ndarray:
    """A topic label per document: Ward clusters of the (unit) centroids, about sqrt(n / 2) of them.

    Ward's criterion makes groups of comparable size; the silhouette, tried
    first, preferred one group of nearly every paper and a few outliers on the
    papers collection, which groups nothing. sqrt(n / 2) is the usual rule of
    thumb for the number of clusters (Mardia et al., Multivariate Analysis).
    """
    from sklearn.cluster import AgglomerativeClustering

    k = min(MAX_TOPICS, round(math.sqrt(len(centroids) / 2)))
    if k < 2:
        return np.zeros(len(centroids), dtype=int)
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(centroids)


def _topic_terms(documents: list[Document], labels: np.ndarray) -> dict[int, tuple[str, ...]]:
    """Each group's highest mean TF-IDF terms over its documents' content (scikit-learn's English stop words)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [" ".join(d.text[s:e] for s, e in d.sections) for d in documents]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    weights = vectorizer.fit_transform(texts)
    vocabulary = vectorizer.get_feature_names_out()
    out = {}
    for label in set(labels.tolist()):
        mean = np.asarray(weights[labels == label].mean(axis=0)).ravel()
        out[label] = tuple(str(vocabulary[i]) for i in np.argsort(-mean, kind="stable")[:TOPIC_TERMS])
    return out
