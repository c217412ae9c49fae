"""From retrieved chunks to numbered passages with scored sentences.

The small answer model reads few tokens well, so the prompt gets the best
passages only, and every later check (abstention, grounding, the supporting
sentence shown under a citation) works at sentence level.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.core.profile import load_profile
from rag.core.records import Document, Hit
from rag.index.lexical import stemmer
from rag.index.store import SentenceTable
from rag.ingestion.chunking import entry_of
from rag.ingestion.sentences import split_sentences

_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)


@dataclass(frozen=True)
class Sentence:
    start: int  # span in the article
    end: int
    text: str
    relevance: float  # how well it answers the question (0..1)


@dataclass(frozen=True)
class Passage:
    n: int  # the number the prompt and the citations use
    hit: Hit
    title: str
    sentences: tuple[Sentence, ...]

    @property
    def relevance(self) -> float:
        return max((s.relevance for s in self.sentences), default=0.0)

    @property
    def text(self) -> str:
        return self.hit.chunk.text


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """bm25s's English stop words, and the profile's question words that name no content."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | load_profile().evidence.extra_stop_words


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stemmed words without stop words; numbers without separators."""
    words = [m.group(0).lower().replace(",", "") for m in _WORD.finditer(text)]
    stop = stop_words()
    return stemmer().stemWords([w for w in words if w not in stop])


def ranked_sentences(passages: list[Passage]) -> list[tuple[Passage, Sentence]]:
    """Every distinct sentence of the passages, most relevant first.

    Overlapping chunks repeat sentences; each is kept once, under the first
    passage that holds it.
    """
    ranked = sorted(((p, s) for p in passages for s in p.sentences), key=lambda ps: -ps[1].relevance)
    seen: set[tuple[int, int]] = set()
    unique = []
    for passage, sentence in ranked:
        if (sentence.start, sentence.end) not in seen:
            seen.add((sentence.start, sentence.end))
            unique.append((passage, sentence))
    return unique


def coverage(question_terms: set[str], text: str, weights: Mapping[str, float] | None = None) -> float:
    """Share of the question's content terms that `text` contains; with `weights` (summing to 1),
    each term counts its weight (its rarity in the collection) instead of an equal share."""
    if not question_terms:
        return 0.0
    present = question_terms & set(terms(text))
    if weights:
        return sum(weights.get(t, 0.0) for t in present)
    return len(present) / len(question_terms)


def select_passages(
    question: str,
    question_vec: np.ndarray,
    hits: list[Hit],
    documents: dict[str, Document],
    embedder,
    limit: int,
    semantic_weight: float = 0.6,
    weights: Mapping[str, float] | None = None,
    sentences: SentenceTable | None = None,
) -> list[Passage]:
    """Number the top `limit` hits and score each of their sentences against the question.

    A sentence's relevance mixes its cosine similarity to the question with
    the share of question terms it contains (each weighted by its rarity, with
    `weights`): the cosine catches paraphrase, the term share the specific
    entity or date the question names. The term share reads the sentence
    under the short line above its paragraph and the paragraph's opening
    words (chunking.entry_of): "The default value is 4MB" belongs to the
    setting whose entry it is in. (The cosine reads the sentence alone: with that
    line too, a news paragraph's opening words blur its later sentences.)
    The sentence vectors come from the index (`sentences`, embedded at
    ingest); only a sentence it lacks is embedded now.
    """
    chosen = hits[:limit]
    spans_per_hit = [split_sentences(documents[h.chunk.doc_id].text, h.chunk.start, h.chunk.end) for h in chosen]
    keys = [(h.chunk.doc_id, s, e) for h, spans in zip(chosen, spans_per_hit) for s, e in spans]
    cosines = _cosines(keys, question_vec, documents, embedder, sentences)
    q_terms = set(terms(question))
    passages, i = [], 0
    for n, (hit, spans) in enumerate(zip(chosen, spans_per_hit), start=1):
        doc = documents[hit.chunk.doc_id]
        scored = []
        for s, e in spans:
            cover = coverage(q_terms, _under_heading(doc, s, e), weights)
            relevance = semantic_weight * max(0.0, float(cosines[i])) + (1 - semantic_weight) * cover
            scored.append(Sentence(s, e, doc.text[s:e], relevance))
            i += 1
        passages.append(Passage(n, hit, doc.title, tuple(scored)))
    return passages


def _cosines(keys, question_vec: np.ndarray, documents, embedder, sentences: SentenceTable | None) -> np.ndarray:
    """Each sentence's cosine to the question, from the index's vectors where it has them."""
    vecs = np.zeros((len(keys), len(question_vec)), dtype=np.float32)
    missing = []
    for i, key in enumerate(keys):
        stored = sentences.vector(*key) if sentences is not None else None
        if stored is None:
            missing.append(i)
        else:
            vecs[i] = stored
    if missing:
        texts = [documents[keys[i][0]].text[keys[i][1] : keys[i][2]] for i in missing]
        vecs[missing] = embedder.encode_sentences(texts)
    return vecs @ question_vec


def rerank(passages: list[Passage], rank_prior: float) -> list[Passage]:
    """The passages re-ordered by their most relevant sentence, renumbered from 1.

    Retrieval ranks chunks as wholes; the answer is a sentence, and a chunk
    holding one sentence that answers the question can rank below chunks
    that match it loosely throughout. `rank_prior` keeps some of the fused
    order: each step down costs log1p(rank - 1) times it.
    """
    score = [p.relevance - rank_prior * math.log1p(i) for i, p in enumerate(passages)]
    order = sorted(range(len(passages)), key=lambda i: -score[i])
    return [dataclasses.replace(passages[i], n=n) for n, i in enumerate(order, start=1)]


def _under_heading(document: Document, start: int, end: int) -> str:
    entry = entry_of(document, start)
    return f"{entry} — {document.text[start:end]}" if entry else document.text[start:end]
