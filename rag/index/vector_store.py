"""Where dense search runs: one interface, two backends (`vector_store` setting).

- `faiss` (default, embedded): vectors.faiss in the index version on disk
  (rag/index/vector_index.py: exact, HNSW or IVF-PQ by size).
- `pgvector`: PostgreSQL with the pgvector extension (rag/index/pg_store.py), any
  server >= 14 by `database_url`, or the bundled local one (rag/index/pg_local.py).

The on-disk index stays the source of truth in both cases: chunks, documents
(for citations and the article view), BM25 postings and vectors.npy. With
pgvector, every ingest mirrors the chunks and vectors of the live version into
PostgreSQL incrementally (only documents added or changed since the last
mirror are written, removed ones deleted), and dense search goes to the
server. Lexical search stays in bm25s locally (same tokenizer, same BM25
scores whatever the backend), fused with the dense ranking by RRF in
rag/answer/retrieval.py, so `rag eval` sees the same retrieval from both backends.

A `VectorStore` is bound to one loaded index version: `search` answers in
that version's chunk rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.core.errors import VectorStoreError

if TYPE_CHECKING:
    from rag.core.settings import Settings
    from rag.index.store import IndexData


class VectorStore(Protocol):
    name: str

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk row in the bound index, cosine) of the `k` nearest chunks, best first."""
        ...


class FaissStore:
    """The embedded default: the FAISS index of the loaded version (nothing to mirror)."""

    name = "faiss"

    def __init__(self, index: IndexData):
        self.index = index

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.index.dense.search(query_vec, k)


def open_vector_store(index: IndexData, settings: Settings | None) -> VectorStore:
    """The dense search `settings` selects, bound to `index`; FAISS without settings.

    For pgvector this connects, and brings the mirror in line with `index` first
    if it is behind (an ingest that could not reach the server, or a switch of
    `vector_store` on an existing index).
    """
    if settings is None or settings.vector_store == "faiss":
        return FaissStore(index)
    from rag.index.pg_store import PgDense

    return PgDense.open(index, settings)


def mirror(settings: Settings, index_dir: Path | None = None) -> None:
    """After an ingest (called with the index lock held): mirror the live version into the store.

    A no-op for FAISS, whose index is written with the version itself.
    """
    if settings.vector_store == "faiss":
        return
    from rag.index.pg_store import mirror_index

    index_dir = index_dir or settings.index_dir
    try:
        mirror_index(index_dir, settings)
    except VectorStoreError as exc:
        raise VectorStoreError(
            f"{exc} (the index in {index_dir} is updated; PostgreSQL catches up on the next ingest or question)"
        ) from None
