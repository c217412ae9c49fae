"""Scale benchmark: exact (Flat) vs HNSW vs IVF-PQ, and BM25, on synthetic collections.

    python bench/scale.py --n 100000 --out bench/results/scale-100k.json
    python bench/scale.py --n 1000000 --out bench/results/scale-1m.json     (make bench-scale)

Every index is built with the product's code (rag/index/vector_index.py with the
default Settings, the kind forced) in its own process, so its peak memory is
its own; it is then opened memory-mapped in a fresh process, as `rag ask`
opens it, and queried one question at a time on 2 threads. Recall@10 is
measured against exact search. BM25 goes through rag.index.store.build_bm25 and the
Retriever's own scoring; "hybrid" is Retriever.search (dense + BM25 + RRF) over
the synthetic collection with the automatically chosen vector index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from synthetic import TextSource, VectorSource  # noqa: E402

DIM = 384
SWEEPS = {"hnsw": ("ef_search", [16, 32, 64, 128]), "ivfpq": ("nprobe", [8, 16, 32, 64, 128])}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_parts_mb() -> dict:
    """Resident memory split: anonymous (the process' own) and file-backed (memory-mapped index
    pages: shared page cache the kernel can drop and re-read)."""
    parts = {}
    for line in open("/proc/self/status"):
        key, _, rest = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            parts[key] = int(rest.split()[0]) / 1024
    return {"anon_mb": parts.get("RssAnon", 0.0), "file_mb": parts.get("RssFile", 0.0)}


def peak_mb() -> float:
    """This process' own high-water RSS (VmHWM; ru_maxrss would start at the forking parent's RSS)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def settings(kind: str = "auto"):
    from rag.core.settings import Settings

    return Settings(vector_index=kind)


# ---------------------------------------------------------------- child steps (one process each)


def step_data(work: Path, n: int, queries: int) -> dict:
    import faiss

    source = VectorSource(dim=DIM, spread=0.9)
    started = time.perf_counter()
    vectors = source.vectors(n)
    np.save(work / "vectors.npy", vectors)
    q = source.queries(queries)
    np.save(work / "queries.npy", q)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    scores, truth = exact.search(q, 10)  # batched: BLAS, fast
    np.save(work / "truth.npy", truth)
    return {
        "generate_s": time.perf_counter() - started,
        "top1_cosine_mean": float(scores[:, 0].mean()),
        "top10_cosine_mean": float(scores[:, 9].mean()),
    }


def step_build(work: Path, kind: str) -> dict:
    from rag.index import vector_index

    vectors = np.load(work / "vectors.npy")
    spec = vector_index.choose(len(vectors), vectors.shape[1], settings(kind))
    before = rss_mb()
    started = time.perf_counter()
    index = vector_index.build(vectors, spec)
    seconds = time.perf_counter() - started
    path = work / f"{kind}.faiss"
    vector_index.write(index, path)
    (work / f"{kind}.spec.json").write_text(json.dumps(spec.as_dict()))
    return {
        "kind": spec.kind,
        "spec": spec.as_dict(),
        "build_s": seconds,
        "build_rss_growth_mb": rss_mb() - before,
        "file_mb": path.stat().st_size / 2**20,
    }


def step_query(work: Path, kind: str) -> dict:
    import faiss

    from rag.index import vector_index

    faiss.omp_set_num_threads(2)
    spec = vector_index.IndexSpec.from_dict(json.loads((work / f"{kind}.spec.json").read_text()))
    q, truth = np.load(work / "queries.npy"), np.load(work / "truth.npy")
    base, base_parts = rss_mb(), rss_parts_mb()
    started = time.perf_counter()
    vectors = np.load(work / "vectors.npy", mmap_mode="r")
    vector_index.advise_random(vectors)  # as rag.index.store opens it
    index = vector_index.read(work / f"{kind}.faiss")
    load_s = time.perf_counter() - started
    loaded = rss_mb() - base

    def grown() -> dict:
        now = rss_parts_mb()
        return {k: now[k] - base_parts[k] for k in now}

    def run(spec, limit: int) -> tuple[list[float], float]:
        searcher = vector_index.VectorIndex(index, vectors, spec)
        times, recalls = [], []
        for i in range(min(limit, len(q))):
            t = time.perf_counter()
            found = searcher.search(q[i], 10)
            times.append(time.perf_counter() - t)
            recalls.append(len({r for r, _ in found} & set(truth[i].tolist())) / 10)
        return times, float(np.mean(recalls))

    limit = 60 if spec.kind == "flat" and len(vectors) >= 500_000 else len(q)
    run(spec, 10)  # warm-up: page in what the first queries touch
    times, recall = run(spec, limit)
    result = {
        "load_s": load_s,
        "rss_after_load_mb": loaded,
        "queries": len(times),
        "p50_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "recall_at_10": recall,
        "rss_after_queries_mb": rss_mb() - base,
        "rss_after_queries": grown(),
    }
    if spec.kind in SWEEPS:
        name, values = SWEEPS[spec.kind]
        sweep = []
        for value in values:
            tuned = replace(spec, params={**spec.params, name: value})
            run(tuned, 10)
            t, r = run(tuned, len(q))
            sweep.append({name: value, "p50_ms": pct(t, 50), "recall_at_10": r})
        result["sweep"] = sweep
    return result


def step_bm25(work: Path, n: int, queries: int) -> dict:
    from rag.index.store import build_bm25

    source = TextSource(ROOT / "data" / "corpus")
    started = time.perf_counter()
    texts = list(source.texts(n))
    generate_s = time.perf_counter() - started
    (work / "bm25_queries.json").write_text(json.dumps(source.queries(texts, queries)))
    words = sum(len(t.split()) for t in texts[:10_000]) / min(n, 10_000)
    before = rss_mb()
    started = time.perf_counter()
    from rag.index.lexical import tokenize

    tokens = tokenize(texts)
    tokenize_s = time.perf_counter() - started
    del texts
    import bm25s

    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    index_s = time.perf_counter() - started
    del tokens
    retriever.save(str(work / "bm25"), show_progress=False)
    size = sum(p.stat().st_size for p in (work / "bm25").iterdir())
    assert build_bm25  # the store builds exactly this: tokenize() then BM25().index()
    return {
        "generate_s": generate_s,
        "words_per_text": words,
        "tokenize_s": tokenize_s,
        "index_s": index_s,
        "build_s": tokenize_s + index_s,
        "build_rss_growth_mb": rss_mb() - before,
        "vocabulary": len(retriever.vocab_dict),
        "file_mb": size / 2**20,
    }


class SyntheticChunks:
    """A read-only sequence of Chunk records for n synthetic texts (the Retriever only indexes it)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, row: int):
        from rag.core.records import Chunk

        return Chunk(f"doc{row // 10}", row % 10, 0, 1, "", 1)


def step_bm25_query(work: Path, n: int) -> dict:
    import bm25s
    import faiss

    from rag.answer.retrieval import RetrievalSettings, Retriever
    from rag.index import vector_index
    from rag.index.store import IndexData

    faiss.omp_set_num_threads(2)
    questions = json.loads((work / "bm25_queries.json").read_text())
    base, base_parts = rss_mb(), rss_parts_mb()
    started = time.perf_counter()
    bm25 = bm25s.BM25.load(str(work / "bm25"), mmap=True, show_progress=False)
    load_s = time.perf_counter() - started
    loaded = rss_mb() - base
    lexical = Retriever(IndexData(None, SyntheticChunks(n), None, {}, None, bm25, work, None), embedder=None)
    times = []
    for i, question in enumerate(questions[:10] + questions):
        t = time.perf_counter()
        lexical._top(lexical._bm25_scores(question), 30)  # what the bm25 side of a query costs
        if i >= 10:  # the first ten warm up
            times.append(time.perf_counter() - t)
    now = rss_parts_mb()
    result = {
        "load_s": load_s,
        "rss_after_load_mb": loaded,
        "p50_ms": pct(times, 50),
        "p95_ms": pct(times, 95),
        "rss_after_queries_mb": rss_mb() - base,
        "rss_after_queries": {k: now[k] - base_parts[k] for k in now},
    }
    # hybrid: the Retriever over the collection, dense side on the index auto picks at this size
    kind = vector_index.choose(n, DIM, settings()).kind
    if (work / f"{kind}.faiss").exists():
        spec = vector_index.IndexSpec.from_dict(json.loads((work / f"{kind}.spec.json").read_text()))
        vectors = np.load(work / "vectors.npy", mmap_mode="r")
        vector_index.advise_random(vectors)
        faiss_index = vector_index.read(work / f"{kind}.faiss")
        dense = vector_index.VectorIndex(faiss_index, vectors, spec)
        data = IndexData(None, SyntheticChunks(n), vectors, {}, faiss_index, bm25, work, dense)
        retriever = Retriever(data, embedder=None)
        q = np.load(work / "queries.npy")

        def timed_pass() -> list[float]:
            times = []
            for i, question in enumerate(questions[:10] + questions):
                t = time.perf_counter()
                hits = retriever.search(question, RetrievalSettings(), query_vec=q[i % len(q)])
                if i >= 10:
                    times.append(time.perf_counter() - t)
                assert hits
            return times

        cold = timed_pass()  # re-ranking reads scattered rows of vectors.npy: from disk, unless cached
        started = time.perf_counter()
        with open(work / "vectors.npy", "rb") as fh:  # a long-running server's steady state: file cached
            while fh.read(1 << 24):
                pass
        read_s = time.perf_counter() - started
        warm = timed_pass()
        result["hybrid"] = {
            "vector_index": kind, "p50_ms": pct(cold, 50), "p95_ms": pct(cold, 95),
            "cached_p50_ms": pct(warm, 50), "cached_p95_ms": pct(warm, 95), "read_vectors_s": read_s,
        }
    return result


STEPS = {"data": step_data, "build": step_build, "query": step_query, "bm25": step_bm25, "bm25-query": step_bm25_query}


def child(argv: list[str]) -> None:
    from rag.core.openmp import choose_wait_policy

    choose_wait_policy()  # as the `rag` command does
    step, work, *rest = argv
    args = [int(a) if a.isdigit() else a for a in rest]
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            result = STEPS[step](Path(work), *args)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(12)
    else:
        result = STEPS[step](Path(work), *args)
    result["peak_rss_mb"] = peak_mb()
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------- the driver


def run_step(*args) -> dict:
    """One step in a fresh process; its peak RSS is its own."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        raise RuntimeError(f"step {args[0]} failed:\n{proc.stderr[-3000:]}")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["wall_s"] = time.perf_counter() - started
    print(f"  {args[0]} {' '.join(map(str, args[2:]))}: {json.dumps(result)[:300]}", flush=True)
    return result


def measure(n: int, queries: int, kinds: list[str], work: Path, bm25: bool = True) -> dict:
    out: dict = {"n": n, "dim": DIM, "queries": queries, "threads": 2, "load_average_start": os.getloadavg()}
    started = time.perf_counter()
    out["data"] = run_step("data", work, n, queries)
    out["indexes"] = {}
    for kind in kinds:
        built = run_step("build", work, kind)
        built.update(run_step("query", work, kind))
        out["indexes"][kind] = built
    if bm25:
        out["bm25"] = run_step("bm25", work, n, queries)
        out["bm25"].update(run_step("bm25-query", work, n))
    out["auto_kind"] = __import__("rag.index.vector_index", fromlist=["choose"]).choose(n, DIM, settings()).kind
    out["total_s"] = time.perf_counter() - started
    out["load_average_end"] = os.getloadavg()
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="flat,hnsw,ivfpq")
    parser.add_argument("--no-bm25", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch space (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-scale-", dir=args.workdir) as work:
        print(f"scale benchmark: {args.n:,} vectors in {work}", flush=True)
        result = measure(args.n, args.queries, args.kinds.split(","), Path(work), bm25=not args.no_bm25)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
