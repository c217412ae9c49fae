"""Dense, BM25 and hybrid retrieval over a loaded index.

Hybrid fuses the two ranked lists with weighted reciprocal rank fusion (RRF):
score(d) = sum_r w_r / (k + rank_r(d)). RRF needs no score calibration
between cosine and BM25, which live on unrelated scales.
Every returned hit carries both its cosine and its BM25 score, whichever
retriever found it, so later stages (abstention) can use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.core.records import Hit
from rag.index.embedding import Embedder
from rag.index.lexical import tokenize
from rag.index.store import IndexData


@dataclass(frozen=True)
class RetrievalSettings:
    mode: str = "hybrid"  # dense | bm25 | hybrid
    top_k: int = 5
    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0


class Retriever:
    def __init__(self, index: IndexData, embedder: Embedder, settings=None):
        self.index = index
        self.embedder = embedder
        # dense search in FAISS (default) or PostgreSQL/pgvector, as `settings` say (rag/index/vector_store.py)
        from rag.index.vector_store import open_vector_store

        self.dense = open_vector_store(index, settings)

    # -- the two base rankings: (row, score) best first

    def _dense_ranking(self, query_vec: np.ndarray, depth: int) -> list[tuple[int, float]]:
        return self.dense.search(query_vec, depth)

    def _bm25_scores(self, query: str) -> np.ndarray:
        tokens = tokenize([query])[0]
        if not tokens or not self.index.chunks:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(tokens), dtype=np.float32)

    @staticmethod
    def _top(scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
        # Only chunks sharing a term with the query score above 0: select among those, not among
        # every chunk (at 1M chunks, partitioning the whole array was most of a BM25 query's time).
        rows = np.flatnonzero(scores > 0)
        depth = min(depth, len(rows))
        if depth == 0:
            return []
        if len(rows) > depth:
            rows = rows[np.argpartition(-scores[rows], depth - 1)[:depth]]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [(int(r), float(scores[r])) for r in rows]

    # -- public API

    def search(
        self, query: str, settings: RetrievalSettings, query_vec: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> list[Hit]:  # fmt: skip
        """Top-k hits; pass `query_vec` when the caller already embedded the query.

        With `rows` (the chunks of the documents a question is scoped to), only
        those chunks are ranked, exactly: their cosines are read from the stored
        vectors and the other chunks' BM25 scores are zeroed. Filtering a
        collection-wide top-k instead would lose a scoped document's passages
        whenever other documents outrank them.
        """
        if query_vec is None:
            query_vec = self.embedder.encode_query(query)
        bm25 = self._bm25_scores(query)
        if rows is not None:
            bm25 = _only(bm25, rows)
        depth = max(settings.candidates, settings.top_k)
        if settings.mode == "dense":
            ranked = self._dense(query_vec, settings.top_k, rows)
        elif settings.mode == "bm25":
            ranked = self._top(bm25, settings.top_k)
        elif settings.mode == "hybrid":
            ranked = self._fuse(
                [
                    (self._dense(query_vec, depth, rows), settings.dense_weight),
                    (self._top(bm25, depth), settings.bm25_weight),
                ],
                settings.rrf_k,
            )[: settings.top_k]
        else:
            raise ValueError(f"unknown retriever {settings.mode!r}")
        return self._hits(ranked, query_vec, bm25)

    def _dense(self, query_vec: np.ndarray, depth: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """The vector store's ranking; for `rows`, an exact cosine ranking of those rows alone,
        from the stored (memory-mapped) vectors, whichever store holds the index."""
        if rows is None:
            return self._dense_ranking(query_vec, depth)
        if len(rows) == 0:
            return []
        cosines = np.asarray(self.index.vectors[rows], dtype=np.float32) @ query_vec
        order = np.argsort(-cosines, kind="stable")[:depth]
        return [(int(rows[i]), float(cosines[i])) for i in order]

    @staticmethod
    def _fuse(rankings: list[tuple[list[tuple[int, float]], float]], k: int) -> list[tuple[int, float]]:
        fused: dict[int, float] = {}
        for ranking, weight in rankings:
            for rank, (row, _score) in enumerate(ranking, start=1):
                fused[row] = fused.get(row, 0.0) + weight / (k + rank)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _hits(self, ranked: list[tuple[int, float]], query_vec: np.ndarray, bm25: np.ndarray) -> list[Hit]:
        hits = []
        for rank, (row, score) in enumerate(ranked, start=1):
            cosine = float(np.dot(self.index.vectors[row], query_vec))
            hits.append(
                Hit(self.index.chunks[row], score=score, rank=rank, dense=cosine, bm25=float(bm25[row]))
            )
        return hits



def _only(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    kept = np.zeros_like(scores)
    kept[rows] = scores[rows]
    return kept


def promote_constrained(hits: list[Hit], numbers: frozenset[str]) -> list[Hit]:
    """Hits whose chunk writes every number of the question first, each group in its fused order.

    "Who won in 2021?" is not answered by a passage about 2022, however close
    its words: a number the question writes narrows it.
    """
    if not numbers:
        return hits
    holds = [numbers <= _numbers_in(h.chunk.text) for h in hits]
    return [h for h, ok in zip(hits, holds) if ok] + [h for h, ok in zip(hits, holds) if not ok]


def _numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
