"""The dense vector index: exact for small collections, approximate for large ones.

Exact search (FAISS Flat) scans every vector per query: nothing to tune and
perfect recall, but its cost grows with the collection (a 1M x 384 index is
1.5 GB read per query). Above `flat_max_vectors` the automatic choice is an
approximate index:

- HNSW: a navigable graph over the full vectors; millisecond queries and
  high recall, but the build is slow (it grows as n log n) and the index
  holds every vector again.
- IVF-PQ: vectors compressed to `pq_bytes` bytes each, grouped in about
  sqrt(n) clusters; a query scans `ivf_nprobe` clusters and the best
  `rerank_candidates` are re-scored exactly against vectors.npy, so the
  returned scores are true cosines and recall is bounded only by the
  candidate list. Small, quick to build, and its file is tiny.

The kind is picked by size (`vector_index = "auto"`) or forced
(`flat`, `hnsw`, `ivfpq`); the spec it was built with, search parameters
included, is recorded in the manifest. Index files are memory-mapped
(FAISS IO_FLAG_MMAP_IFC), so opening a large index does not read it whole;
the pages a query touches are paged in on demand and shared between processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("flat", "hnsw", "ivfpq")
IVF_MIN_VECTORS = 1_000  # fewer cannot train 256 PQ centroids per sub-vector: exact search instead


@dataclass(frozen=True)
class IndexSpec:
    """What to build and how to search it; stored in the manifest as a dict."""

    kind: str = "flat"
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> IndexSpec:
        data = dict(data or {"kind": "flat"})
        kind = data.pop("kind", "flat")
        if kind not in KINDS:
            raise ValueError(f"unknown vector index kind {kind!r}")
        return cls(kind, data)


def choose(n: int, dim: int, settings) -> IndexSpec:
    """The index for `n` vectors of `dim` under `settings` (a rag.core.settings.Settings)."""
    kind = settings.vector_index
    if kind == "auto":
        if n <= settings.flat_max_vectors:
            kind = "flat"
        elif n <= settings.hnsw_max_vectors:
            kind = "hnsw"
        else:
            kind = "ivfpq"
    if kind == "hnsw":
        return IndexSpec(
            "hnsw",
            {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction, "ef_search": settings.hnsw_ef_search},
        )
    if kind == "ivfpq" and n >= IVF_MIN_VECTORS:
        nlist = ivf_lists(n)
        return IndexSpec(
            "ivfpq",
            {
                "nlist": nlist,
                "pq_m": pq_subquantizers(dim, settings.pq_bytes),
                "nprobe": min(settings.ivf_nprobe, nlist),
                "rerank": settings.rerank_candidates,
            },
        )
    return IndexSpec("flat")


def ivf_lists(n: int) -> int:
    """About sqrt(n) clusters, a power of two, with at least 39 training points each."""
    target = 2 ** round(math.log2(max(1.0, math.sqrt(n))))
    return int(max(1, min(target, n // 39, 65536)))


def pq_subquantizers(dim: int, max_bytes: int) -> int:
    """The most sub-quantizers (one byte each) up to `max_bytes` that divide `dim`."""
    return max(m for m in range(1, max(1, min(max_bytes, dim)) + 1) if dim % m == 0)


def build(vectors: np.ndarray, spec: IndexSpec, seed: int = 0):
    """A FAISS inner-product index over `vectors` (normalised: scores are cosines)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if spec.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif spec.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(spec.params["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(spec.params["ef_construction"])
    elif spec.kind == "ivfpq":
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(
            quantizer, dim, int(spec.params["nlist"]), int(spec.params["pq_m"]), 8, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.seed = seed
        index.pq.cp.seed = seed
        # a sample is enough to place the centroids; training on everything only costs time
        sample = min(n, max(256 * 64, 64 * int(spec.params["nlist"])))
        rows = np.random.default_rng(seed).choice(n, size=sample, replace=False) if sample < n else slice(None)
        index.train(vectors[rows])
    else:
        raise ValueError(f"unknown vector index kind {spec.kind!r}")
    if n:
        step = 100_000  # bounded temporary memory while adding a large collection
        for start in range(0, n, step):
            index.add(vectors[start : start + step])
    return index


def write(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def advise_random(vectors: np.ndarray) -> None:
    """Tell the kernel a memory-mapped vectors.npy is read by scattered rows (re-ranking, hit
    cosines): no 128 KB read-ahead around each 1.5 KB row, so a cold query reads little."""
    import mmap

    mapped = getattr(vectors, "_mmap", None)  # np.memmap's own map, when there is one
    if mapped is not None and hasattr(mmap, "MADV_RANDOM"):
        try:
            mapped.madvise(mmap.MADV_RANDOM)
        except (OSError, ValueError):
            pass  # advice only


def read(path: Path):
    """Open an index file memory-mapped: nothing is read until a query needs it."""
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)


class VectorIndex:
    """Top-k search over a FAISS index, with exact re-ranking for compressed (IVF-PQ) codes."""

    def __init__(self, faiss_index, vectors: np.ndarray, spec: IndexSpec):
        self.faiss_index = faiss_index
        self.vectors = vectors  # (n, dim), usually a read-only memory map of vectors.npy
        self.spec = spec
        if spec.kind == "hnsw":
            faiss_index.hnsw.efSearch = int(spec.params.get("ef_search", 64))
        elif spec.kind == "ivfpq":
            faiss_index.nprobe = int(spec.params.get("nprobe", 32))

    @property
    def ntotal(self) -> int:
        return int(self.faiss_index.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(row, cosine) of the `k` best vectors, best first."""
        k = min(k, self.ntotal)
        if k <= 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if self.spec.kind == "hnsw":
            # the graph search keeps efSearch candidates; asking for more than that loses recall
            self.faiss_index.hnsw.efSearch = max(int(self.spec.params.get("ef_search", 64)), k)
        depth = k
        if self.spec.kind == "ivfpq":
            depth = min(self.ntotal, max(k, int(self.spec.params.get("rerank", 100))))
        scores, rows = self.faiss_index.search(query, depth)
        found = rows[0][rows[0] >= 0]
        if self.spec.kind != "ivfpq":
            return [(int(r), float(s)) for r, s in zip(found, scores[0][: len(found)])]
        # PQ scores are approximate: re-score the candidates against the stored vectors
        found = np.sort(found)  # ascending rows: sequential reads from the memory map
        exact = np.asarray(self.vectors[found], dtype=np.float32) @ query[0]
        best = np.argsort(-exact, kind="stable")[:k]
        return [(int(found[i]), float(exact[i])) for i in best]
