"""The dense vector index: kind chosen by size or forced, ANN recall against exact search,
memory-mapped loading, and the kind recorded in (and checked against) the manifest.

Synthetic clustered unit vectors (uniform noise has no meaningful neighbours).
No timings are asserted: the machine is shared.
"""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest
from conftest import settings_for

from rag.core.errors import ConfigError
from rag.core.settings import Settings
from rag.index import store, vector_index
from rag.index.vector_index import IndexSpec, VectorIndex


def clustered(n: int, dim: int = 64, clusters: int = 200, seed: int = 0, latent: int = 16) -> np.ndarray:
    """Gaussian clusters in a low-dimensional latent space, projected up: embedding-like structure."""
    model = np.random.default_rng(0)  # the same clusters for every seed (collection and queries)
    centers = model.normal(size=(clusters, latent))
    projection = model.normal(size=(latent, dim))
    rng = np.random.default_rng(seed + 1)
    z = centers[rng.integers(0, clusters, size=n)] + 0.5 * rng.normal(size=(n, latent))
    x = z @ projection + 0.05 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


# ---------------------------------------------------------------- choosing


def test_auto_picks_by_size():
    s = Settings(flat_max_vectors=1_000, hnsw_max_vectors=5_000)
    assert vector_index.choose(0, 384, s).kind == "flat"
    assert vector_index.choose(1_000, 384, s).kind == "flat"
    assert vector_index.choose(1_001, 384, s).kind == "hnsw"
    assert vector_index.choose(5_000, 384, s).kind == "hnsw"
    big = vector_index.choose(1_000_000, 384, s)
    assert big.kind == "ivfpq"
    assert big.params == {"nlist": 1024, "pq_m": 48, "nprobe": s.ivf_nprobe, "rerank": s.rerank_candidates}
    # the defaults: exact search for every collection up to flat_max_vectors
    assert vector_index.choose(Settings().flat_max_vectors, 384, Settings()).kind == "flat"


def test_override_and_its_limits():
    assert vector_index.choose(10, 384, Settings(vector_index="hnsw")).kind == "hnsw"
    assert vector_index.choose(10**7, 384, Settings(vector_index="flat")).kind == "flat"
    # too few vectors to train product quantizers: exact search rather than a broken index
    assert vector_index.choose(500, 384, Settings(vector_index="ivfpq")).kind == "flat"
    assert vector_index.choose(5_000, 100, Settings(vector_index="ivfpq")).params["pq_m"] == 25  # divides 100
    with pytest.raises(ConfigError, match="vector_index must be one of"):
        Settings(vector_index="annoy")


def test_spec_round_trips_through_the_manifest_dict():
    spec = vector_index.choose(200_000, 384, Settings(vector_index="ivfpq"))
    assert IndexSpec.from_dict(json.loads(json.dumps(spec.as_dict()))) == spec
    assert IndexSpec.from_dict(None) == IndexSpec("flat")
    with pytest.raises(ValueError):
        IndexSpec.from_dict({"kind": "lsh"})


# ---------------------------------------------------------------- recall


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_ann_recall_against_exact_search(kind):
    x, queries = clustered(20_000), clustered(100, seed=1)
    exact = VectorIndex(vector_index.build(x, IndexSpec("flat")), x, IndexSpec("flat"))
    # 8 bytes per 64-d vector: FAISS trains 2-d sub-quantizers very slowly
    spec = vector_index.choose(len(x), x.shape[1], Settings(vector_index=kind, pq_bytes=8))
    ann = VectorIndex(vector_index.build(x, spec), x, spec)
    recalls = []
    for q in queries:
        truth = exact.search(q, 10)
        found = ann.search(q, 10)
        assert len(found) == 10
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        if kind == "ivfpq":  # re-ranked: the scores are exact cosines of the rows returned
            assert np.allclose([s for _, s in found], x[[r for r, _ in found]] @ q, atol=1e-5)
        recalls.append(len({r for r, _ in truth} & {r for r, _ in found}) / 10)
    assert np.mean(recalls) >= 0.9, np.mean(recalls)


def test_search_depth_beyond_ef_search_and_collection_size():
    x = clustered(3_000)
    spec = IndexSpec("hnsw", {"m": 16, "ef_construction": 40, "ef_search": 16})
    ann = VectorIndex(vector_index.build(x, spec), x, spec)
    assert len(ann.search(x[0], 50)) == 50  # more than efSearch: still a full list
    small = VectorIndex(vector_index.build(x[:5], IndexSpec("flat")), x[:5], IndexSpec("flat"))
    assert [r for r, _ in small.search(x[0], 30)][:1] == [0] and len(small.search(x[0], 30)) == 5
    empty = VectorIndex(vector_index.build(x[:0], IndexSpec("flat")), x[:0], IndexSpec("flat"))
    assert empty.search(x[0], 5) == []


# ---------------------------------------------------------------- memory-mapped loading


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_index_file_is_memory_mapped_not_read_whole(tmp_path, kind):
    x = clustered(60_000, dim=256)  # about 60 MB of vectors
    spec = IndexSpec(kind, {"m": 8, "ef_construction": 16, "ef_search": 16} if kind == "hnsw" else {})
    path = tmp_path / "vectors.faiss"
    vector_index.write(vector_index.build(x, spec), path)
    size_mb = path.stat().st_size / 2**20
    del x
    before = _rss_mb()
    index = vector_index.read(path)
    grown = _rss_mb() - before
    assert index.ntotal == 60_000
    assert grown < size_mb / 4, (grown, size_mb)  # a full read would grow RSS by the file size


# ---------------------------------------------------------------- in the index


def test_ingest_records_the_kind_and_reindexes_without_reembedding(index_copy, embedder):
    index_dir, collection = index_copy.index_dir, index_copy.collection
    assert store.load(index_dir).manifest.vector_index == {"kind": "flat"}
    question = embedder.encode_query("When did Chinese troops arrive in Belarus?")
    exact = store.load(index_dir).dense.search(question, 5)

    from rag.ingestion.indexer import ingest

    report = ingest(settings_for(index_dir, vector_index="hnsw"), collection, embedder=embedder)
    assert report.embedded_chunks == 0 and report.vector_index == "hnsw"
    loaded = store.load(index_dir)
    assert loaded.manifest.vector_index["kind"] == "hnsw"
    assert isinstance(loaded.faiss_index, faiss.IndexHNSWFlat)
    assert [r for r, _ in loaded.dense.search(question, 5)] == [r for r, _ in exact]
    # same settings again: nothing to do, no new version
    before = loaded.path
    again = ingest(settings_for(index_dir, vector_index="hnsw"), collection, embedder=embedder)
    assert again.embedded_chunks == 0 and store.current_version(index_dir) == before


def _edit_manifest(index_dir, **changes):
    path = store.current_version(index_dir) / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    "changes, why",
    [
        ({"vector_index": {"kind": "hnsw", "m": 32}}, "not the hnsw index the manifest names"),
        ({"vector_index": {"kind": "lsh"}}, "unknown vector index"),
        ({"vector_index": "flat"}, "unknown vector index"),
        ({"format": 99}, "index format 99"),
    ],
)
def test_manifest_and_index_file_must_agree(index_copy, changes, why):
    _edit_manifest(index_copy.index_dir, **changes)
    with pytest.raises(store.IndexCorruptError, match="rag ingest --rebuild") as info:
        store.load(index_copy.index_dir)
    assert why in str(info.value) and "\n" not in str(info.value)


def test_index_without_the_field_loads_as_flat(index_copy):
    """Indexes written before the vector index was recorded stay loadable as they are."""
    path = store.current_version(index_copy.index_dir) / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["vector_index"]
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = store.load(index_copy.index_dir)
    assert loaded.dense.spec == IndexSpec("flat") and loaded.dense.ntotal == loaded.manifest.n_chunks
