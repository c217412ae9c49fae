"""The benchmarks: `make bench` (everything but 1M), `make bench-scale` (the 1M-chunk case).

    python bench/run.py                         all sections but scale-1m
    python bench/run.py --sections scale-1m     one or more sections (comma-separated)

Results go to bench/results.json (each run replaces the sections it ran and
keeps the others), then bench/report.py renders bench/results.md and the
charts in bench/charts/.

The machine is shared and noisy, so every figure that is compared is a ratio
against a baseline measured in the same run, interleaved with it (A B B A),
and each section records the load average around it. Absolute times are
reported for orientation only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "tests")]  # tests/ for servers.py
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
from rag.core.openmp import choose_wait_policy  # noqa: E402

WAIT_POLICY = choose_wait_policy() or os.environ.get("OMP_WAIT_POLICY", "default (spin)")  # as `rag` decides

QUESTION = "When did Chinese troops arrive in Belarus?"
RESULTS = HERE / "results.json"
LLAMAINDEX_PYTHON = HERE / ".venv-llamaindex" / "bin" / "python"
COPIES = 12  # copies of each corpus article in the ingest and LlamaIndex collections (60 documents)
ALL = ["ingest", "retrieval", "generation", "answers", "coldstart", "memory", "scale-100k", "llamaindex"]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def pcts(values_ms: list[float]) -> dict:
    a = np.asarray(values_ms, dtype=float)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)), "n": len(a)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def settings(**overrides):
    """The settings in force (config file, RAG_*), as `rag` would use them, plus overrides."""
    from rag.core.settings import load_settings

    return load_settings().with_overrides(**overrides)


def questions() -> list[str]:
    from rag.eval.gold import load_gold

    return [item.question for item in load_gold(settings().gold)]


def child_result(cmd: list[str], env: dict | None = None) -> tuple[dict, dict]:
    """Run a child; (its RESULT json, {wall_s, user_s, sys_s, maxrss_mb}).

    CPU times come from wait4. The peak RSS does not: Linux starts a forked
    child's ru_maxrss at its parent's RSS (this process holds models), so the
    child's own high-water mark (VmHWM) is sampled while it runs.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        peak = 0.0
        while True:
            peak = max(peak, _vm_hwm_mb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} failed ({proc.returncode}):\n{stderr[-3000:]}")
    line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    result = json.loads(line[len("RESULT ") :]) if line else {"stdout": stdout[-2000:]}
    return result, {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "maxrss_mb": peak}


def _vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ---------------------------------------------------------------- ingest


class Timeline:
    """An ingest progress hook that remembers when each phase last moved."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.started = self.chunked = self.embedded = None
        self.resumed = 0

    def start(self, documents: int) -> None:
        self.started = self.chunked = time.perf_counter()

    def document_done(self, chunks: int) -> None:
        self.chunked = time.perf_counter()

    def chunks_embedded(self, n: int) -> None:
        self.embedded = time.perf_counter()

    def chunks_resumed(self, n: int) -> None:
        self.resumed += n


def section_ingest(work: Path) -> dict:
    """Whole-pipeline ingest rate vs raw SentenceTransformer.encode on the same chunk texts."""
    from synthetic import shuffled_copies

    from rag.index import store
    from rag.index.embedding import Embedder
    from rag.ingestion.indexer import ingest

    base = settings()
    collection = shuffled_copies(ROOT / "data" / "corpus", work / "collection", copies=COPIES)
    embedder = Embedder(base.embedding_model, batch_size=base.embed_batch_size)
    model = embedder.sentence_transformer()  # loaded once, outside both timings
    # Warm up on text shaped like the chunks: torch sets up its kernels per input shape, and
    # whichever side ran first used to pay for that (round 0's ratio was 0.83-0.85, later ones ~1.0).
    article = next(iter(sorted(collection.glob("*.txt")))).read_text(encoding="utf-8")
    model.encode([article[i : i + 600] for i in range(0, 600 * 64, 600)], batch_size=base.embed_batch_size)

    def raw(texts: list[str], batch_size: int) -> float:
        t = time.perf_counter()
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return time.perf_counter() - t

    def pipeline(index_dir: Path) -> tuple[float, Timeline, object]:
        timeline = Timeline()
        t = time.perf_counter()
        report = ingest(
            base.with_overrides(index_dir=index_dir), collection, rebuild=True, progress=timeline, embedder=embedder
        )
        return time.perf_counter() - t, timeline, report

    rounds = []
    texts = None
    for r in range(3):  # A B, B A, A B: drift in the machine's load hits both sides alike
        index_dir = work / f"index-{r}"
        if r % 2 == 0:
            p_s, timeline, report = pipeline(index_dir)
            texts = [c.text for c in store.load(index_dir).chunks]
            r_s = raw(texts, base.embed_batch_size)
        else:
            r_s = raw(texts, base.embed_batch_size)
            p_s, timeline, report = pipeline(index_dir)
        end = timeline.t0 + p_s
        rounds.append(
            {
                "pipeline_s": p_s,
                "raw_encode_s": r_s,
                "ratio": r_s / p_s,
                "phases_s": {
                    "load documents": timeline.started - timeline.t0,
                    "chunk": timeline.chunked - timeline.started,
                    "embed": timeline.embedded - timeline.chunked,
                    "write index": end - timeline.embedded,
                },
                "embedded_chunks": report.embedded_chunks,
            }
        )
        log(f"ingest round {r}: pipeline {p_s:.1f}s, raw encode {r_s:.1f}s, ratio {r_s / p_s:.3f}")
    n = len(texts)
    batch = {}
    sample = texts[:256]
    for size in (16, 32, 64, 128):
        seconds = raw(sample, size)
        batch[str(size)] = len(sample) / seconds
        log(f"raw encode batch {size}: {len(sample) / seconds:.1f} chunks/s")
    ratios = [r["ratio"] for r in rounds]
    return {
        "documents": len(list(collection.glob("*.txt"))),
        "chunks": n,
        "batch_size": base.embed_batch_size,
        "rounds": rounds,
        "pipeline_chunks_per_s": n / statistics.median(r["pipeline_s"] for r in rounds),
        "raw_chunks_per_s": n / statistics.median(r["raw_encode_s"] for r in rounds),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "batch_size_chunks_per_s": batch,
    }


# ---------------------------------------------------------------- retrieval


def _retrieval_run(index_dir: Path, qs: list[str], embedder) -> dict:
    from rag.answer.pipeline import Pipeline

    s = settings(index_dir=index_dir)
    pipeline = Pipeline(s, embedder=embedder)
    r = pipeline.retriever
    depth = max(s.candidates, s.top_k)
    stages = {"embed": [], "dense search": [], "bm25": [], "fusion": [], "total": []}
    for rep in range(2):
        for q in qs:
            t0 = time.perf_counter()
            vec = embedder.encode_query(q)
            t1 = time.perf_counter()
            dense = r._dense_ranking(vec, depth)
            t2 = time.perf_counter()
            scores = r._bm25_scores(q)
            lexical = r._top(scores, depth)
            t3 = time.perf_counter()
            fused = r._fuse([(dense, s.dense_weight), (lexical, s.bm25_weight)], s.rrf_k)[: s.top_k]
            r._hits(fused, vec, scores)
            t4 = time.perf_counter()
            if rep == 0:
                continue  # the first pass warms caches
            for name, a, b in (("embed", t0, t1), ("dense search", t1, t2), ("bm25", t2, t3), ("fusion", t3, t4), ("total", t0, t4)):
                stages[name].append(ms(b - a))
    # the same through the public path, as Pipeline.ask calls it
    public = []
    for q in qs:
        t = time.perf_counter()
        pipeline.retrieve(q)
        public.append(ms(time.perf_counter() - t))
    return {
        "chunks": pipeline.index.manifest.n_chunks,
        "vector_index": pipeline.index.dense.spec.kind,
        "stages": {k: pcts(v) for k, v in stages.items()},
        "pipeline_retrieve": pcts(public),
    }


def section_retrieval(work: Path) -> dict:
    from rag.index.embedding import Embedder

    s = settings()
    embedder = Embedder(s.embedding_model, batch_size=s.embed_batch_size)
    qs = questions()
    out = {"questions": len(qs), "default_index": _retrieval_run(s.index_dir, qs, embedder)}
    bigger = work.parent / "ingest" / "index-1"
    if (bigger / "CURRENT").exists():
        out["bench_collection"] = _retrieval_run(bigger, qs, embedder)
    return out


# ---------------------------------------------------------------- generation


def section_generation(work: Path, prompts_n: int = 8) -> dict:
    """The answer path (Generator.stream with the pipeline's token mask) vs raw llama_cpp.Llama.

    A third contender, raw llama-cpp-python with the same constraint as a GBNF grammar, shows what
    the mask saves: llama.cpp's grammar sampler checks the whole vocabulary at every token.
    """
    from llama_cpp import Llama

    from rag.answer.evidence import select_passages
    from rag.answer.generation.base import GenerationSettings, forbid_grammar
    from rag.answer.pipeline import ANSWER_FORBID, Pipeline

    s = settings()
    pipeline = Pipeline(s)
    generator = pipeline.generator
    prompts, tokens = [], []
    for q in questions():
        vec = pipeline.embedder.encode_query(q)
        hits = pipeline.retrieve(q, query_vec=vec)
        if not hits:
            continue
        passages = select_passages(q, vec, hits, pipeline.index.documents, pipeline.embedder, s.context_passages)
        prompt = pipeline.build_prompt(q, passages)
        prompts.append(prompt)
        tokens.append(generator.count_tokens(prompt))
    threads = s.n_threads or max(1, os.cpu_count() or 1)

    def llama() -> Llama:
        return Llama(
            model_path=str(generator.path), n_ctx=s.n_ctx, n_threads=threads, n_threads_batch=threads,
            seed=s.seed, verbose=False,
        )

    # One model per contender, each fed the same prompts in the same order: llama.cpp reuses the
    # KV cache of a prompt prefix shared with the previous call, and that reuse must be the same for all.
    raw_llm, grammar_llm = llama(), llama()
    answer_settings = GenerationSettings(max_tokens=s.max_answer_tokens, temperature=s.temperature, forbid=ANSWER_FORBID)
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(forbid_grammar(ANSWER_FORBID), verbose=False)  # compiled once

    def timed(pieces) -> dict:
        t0 = time.perf_counter()
        stamps = []
        for _ in pieces:
            stamps.append(time.perf_counter())
        ttft = stamps[0] - t0 if stamps else float("nan")
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")
        return {"ttft_ms": ms(ttft), "tokens": len(stamps), "tokens_per_s": rate, "total_ms": ms(time.perf_counter() - t0)}

    def raw(prompt: str):
        for part in raw_llm.create_completion(prompt, max_tokens=s.max_answer_tokens, temperature=s.temperature, stream=True):
            if part["choices"][0]["text"]:
                yield part

    def raw_grammar(prompt: str):
        for part in grammar_llm.create_completion(
            prompt, max_tokens=s.max_answer_tokens, temperature=s.temperature, stop=["\n"], grammar=grammar, stream=True
        ):
            if part["choices"][0]["text"]:
                yield part

    runs = {"raw": [], "answer path": [], "raw + grammar": []}
    for rep in range(2):
        for i, prompt in enumerate(prompts[:prompts_n]):
            order = ["raw", "answer path", "raw + grammar"]
            if (rep + i) % 2:
                order.reverse()
            for name in order:
                if name == "answer path":
                    runs[name].append(timed(generator.stream(prompt, answer_settings)))
                elif name == "raw":
                    runs[name].append(timed(raw(prompt)))
                else:
                    runs[name].append(timed(raw_grammar(prompt)))
    summary = {}
    for name, values in runs.items():
        summary[name] = {
            "ttft_p50_ms": statistics.median(v["ttft_ms"] for v in values),
            "tokens_per_s_p50": statistics.median(v["tokens_per_s"] for v in values if v["tokens_per_s"] == v["tokens_per_s"]),
            "tokens_p50": statistics.median(v["tokens"] for v in values),
        }
    a, r = summary["answer path"], summary["raw"]
    return {
        "model": s.model,
        "threads": threads,
        "prompts_timed": min(prompts_n, len(prompts)),
        "prompt_tokens": {
            "mean": statistics.mean(tokens), "p50": statistics.median(tokens), "max": max(tokens), "questions": len(tokens),
        },
        "runs": summary,
        "tokens_per_s_ratio": a["tokens_per_s_p50"] / r["tokens_per_s_p50"],
        "ttft_ratio": r["ttft_p50_ms"] / a["ttft_p50_ms"],  # >1: the answer path starts sooner
        "grammar_tokens_per_s_ratio": summary["raw + grammar"]["tokens_per_s_p50"] / r["tokens_per_s_p50"],
    }


def section_answers(work: Path) -> dict:
    """Warm `Pipeline.ask` over the dev questions: the answer model called only where its likelihoods
    could change the answer (`skip_settled`, shipped) against it always scoring, in interleaved passes."""
    from rag.answer.pipeline import Pipeline

    pipeline = Pipeline(settings())
    qs = questions()
    for q in qs[:3]:
        pipeline.ask(q)  # warm-up: models loaded, caches filled
    model, calls = pipeline.generator, [0]
    scorer = model.continuation_logprobs

    def counted(*args, **kwargs):
        calls[0] += 1
        return scorer(*args, **kwargs)

    model.continuation_logprobs = counted  # the same model, its calls counted (a yes/no verdict is one too)
    runs: dict[str, list[dict]] = {"skip settled": [], "always score": []}
    # whole passes, A B B A: asking the same question twice in a row would find its prompt in the KV cache
    for skip in (False, True, True, False):
        for q in qs:
            before, t0 = calls[0], time.perf_counter()
            answer = pipeline.ask(q, skip_settled=skip)
            runs["skip settled" if skip else "always score"].append(
                {"ms": ms(time.perf_counter() - t0), "answer": answer.answer, "scored": calls[0] > before}
            )
    summary = {name: {**pcts([v["ms"] for v in values]), "mean_ms": statistics.mean(v["ms"] for v in values)}
               for name, values in runs.items()}  # fmt: skip
    skip, full = summary["skip settled"], summary["always score"]
    return {
        "questions": len(qs),
        "runs": summary,
        "same_answers": sum(a["answer"] == b["answer"] for a, b in zip(runs["skip settled"], runs["always score"])),
        "model_called": sum(v["scored"] for v in runs["skip settled"][: len(qs)]),
        "p50_ratio": skip["p50_ms"] / full["p50_ms"],  # < 1: skipping is faster
        "mean_ratio": skip["mean_ms"] / full["mean_ms"],
    }


# ---------------------------------------------------------------- cold start and memory


def section_coldstart(work: Path, runs: int = 3) -> dict:
    """`rag ask` from process start to answer, with an existing index; and what it spends it on."""
    rag = ROOT / ".venv" / "bin" / "rag"
    command = [str(rag) if rag.exists() else "rag", "ask", QUESTION]
    walls, variants, settled = [], {"ACTIVE": [], "PASSIVE": []}, []
    shipped = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}  # let `rag` decide, as a user's shell would
    # The question is settled without the answer model (skip_settled): the runs that say where the time goes
    # call it anyway, the path of a question that needs it; the shipped runs are timed beside them.
    env = dict(shipped, RAG_SKIP_SETTLED="false")
    for _ in range(runs):
        load = os.getloadavg()[0]
        result, usage = child_result(command, env=env)
        walls.append({**usage, "load_average": load})
        log(f"rag ask: {usage['wall_s']:.2f}s wall, {usage['user_s'] + usage['sys_s']:.2f}s cpu, {usage['maxrss_mb']:.0f} MB")
        for policy, runs_of in variants.items():  # either wait policy forced, interleaved
            result, usage = child_result(command, env=dict(env, OMP_WAIT_POLICY=policy))
            runs_of.append(usage)
            log(f"rag ask, OMP_WAIT_POLICY={policy}: {usage['wall_s']:.2f}s wall")
        result, usage = child_result(command, env=shipped)
        settled.append(usage)
        log(f"rag ask, shipped (settled without the model): {usage['wall_s']:.2f}s wall")
    probes = []
    for _ in range(runs):
        spawned = time.time()
        result, usage = child_result([sys.executable, str(HERE / "probes.py"), "coldstart", QUESTION], env=env)
        result["steps_ms"] = {"python start": (result["interpreter_at"] - spawned) * 1000, **result["steps_ms"]}
        result["wall_s"] = usage["wall_s"]
        probes.append(result)
    median_probe = sorted(probes, key=lambda p: p["wall_s"])[len(probes) // 2]
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import rag.serve.cli, rag.answer.pipeline, rag.core.contract, faiss, bm25s, llama_cpp"],
        cwd=ROOT, capture_output=True, text=True,
    ).stderr
    top = []
    for line in imports.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            top.append((parts[2].strip(), int(parts[1]) / 1000))
    top.sort(key=lambda x: -x[1])
    wall = [w["wall_s"] for w in walls]
    return {
        "command": " ".join(["RAG_SKIP_SETTLED=false", "rag", "ask", repr(QUESTION)]),
        "settled_wall_s_p50": statistics.median(w["wall_s"] for w in settled),
        "runs": walls,
        "wall_s_p50": statistics.median(wall),
        "wall_s_min": min(wall),
        "cpu_s_p50": statistics.median(w["user_s"] + w["sys_s"] for w in walls),
        "wait_policy_wall_s_p50": {k: statistics.median(w["wall_s"] for w in v) for k, v in variants.items()},
        "wait_policy_runs": variants,
        "peak_rss_mb": max(w["maxrss_mb"] for w in walls),
        "breakdown_ms": median_probe["steps_ms"],
        "answer_stages_ms": median_probe["answer_stages_ms"],
        "torch_imported": median_probe["torch_imported"],
        "top_level_imports_ms": dict(top[:10]),
        "target_s": 3.0,
    }


def section_memory(work: Path, n: int = 100) -> dict:
    """RSS of a long-lived process over 100 questions: a Pipeline, and the web UI server."""
    out: dict = {}
    try:
        out["ui"] = _ui_memory(work, n)
        log(f"UI RSS after 10: {out['ui']['rss_after_10_mb']:.0f} MB, after {n}: {out['ui']['rss_after_100_mb']:.0f} MB")
        if not os.environ.get("BENCH_PIPELINE_MEMORY"):
            return out  # the UI server holds a Pipeline: measuring one alone as well doubles the time
    except Exception as exc:  # noqa: BLE001 - fall back to a Pipeline-serving process; say why
        out["ui"] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        log(f"UI memory not measured: {out['ui']['error']}")
    result, usage = child_result([sys.executable, str(HERE / "probes.py"), "serve", str(n)])
    series = result["series"]
    rss = {p["questions"]: p["rss_mb"] for p in series}
    out["pipeline"] = {
        "series": series,
        "rss_after_10_mb": rss[10],
        "rss_after_100_mb": rss[n],
        "growth_ratio_100_vs_10": rss[n] / rss[10],
        "peak_rss_mb": result["peak_rss_mb"],
        "seconds_per_question_p50": statistics.median(result["seconds"]),
    }
    log(f"pipeline RSS after 10: {rss[10]:.0f} MB, after {n}: {rss[n]:.0f} MB")
    return out


def _proc_rss(pid: int) -> tuple[float, float]:
    values = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def _ui_memory(work: Path, n: int) -> dict:
    from gradio_client import Client
    from servers import free_port, running  # tests/servers.py: the tests start their servers the same way

    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(work / "gradio"))
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    with running(cmd, env, ROOT, port, "/", work / "ui.log", "app.py") as server:
        pid = server.process.pid
        client = Client(f"{server.base}/", verbose=False)
        qs = questions()
        series = [{"questions": 0, "rss_mb": _proc_rss(pid)[0]}]
        seconds = []
        for i in range(n):
            t = time.perf_counter()
            client.predict(question=qs[i % len(qs)], api_name="/ask")
            seconds.append(time.perf_counter() - t)
            if (i + 1) % 10 == 0:
                series.append({"questions": i + 1, "rss_mb": _proc_rss(pid)[0]})
        rss = {p["questions"]: p["rss_mb"] for p in series}
        return {
            "series": series,
            "rss_after_10_mb": rss[10],
            "rss_after_100_mb": rss[n],
            "growth_ratio_100_vs_10": rss[n] / rss[10],
            "peak_rss_mb": _proc_rss(pid)[1],
            "seconds_per_question_p50": statistics.median(seconds),
        }


# ---------------------------------------------------------------- scale


def section_scale(work: Path, n: int) -> dict:
    import scale

    return scale.measure(n, 200, ["flat", "hnsw", "ivfpq"], work)


# ---------------------------------------------------------------- LlamaIndex


def section_llamaindex(work: Path, answers: int = 8) -> dict:
    """LlamaIndex's default pipeline vs ours: same models, same collection, same questions."""
    from synthetic import shuffled_copies

    from rag.answer.pipeline import Pipeline
    from rag.index.embedding import Embedder
    from rag.ingestion.indexer import ingest

    if not LLAMAINDEX_PYTHON.exists():
        return {"skipped": "bench/.venv-llamaindex is missing: run `make bench-llamaindex-venv`"}
    collection = shuffled_copies(ROOT / "data" / "corpus", work / "collection", copies=COPIES)
    qs = questions()
    qfile = work / "questions.json"
    qfile.write_text(json.dumps(qs))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    s = settings()
    embedder = Embedder(s.embedding_model, batch_size=s.embed_batch_size)
    embedder.sentence_transformer()  # models loaded before timing, as on their side

    def ours(round_: int) -> dict:
        index_settings = settings(index_dir=work / f"ours-{round_}")
        t = time.perf_counter()
        report = ingest(index_settings, collection, embedder=embedder)
        ingest_s = time.perf_counter() - t
        pipeline = Pipeline(index_settings, embedder=embedder)
        pipeline.retrieve(qs[0])
        retrieve_ms = []
        for q in qs:
            t0 = time.perf_counter()
            pipeline.retrieve(q)
            retrieve_ms.append(ms(time.perf_counter() - t0))
        pipeline.generator  # noqa: B018 - loaded before timing, as LlamaIndex's LLM is
        answer_ms = []
        for q in qs[:answers]:
            t0 = time.perf_counter()
            pipeline.ask(q)
            answer_ms.append(ms(time.perf_counter() - t0))
        return {
            "chunks": report.n_chunks,
            "ingest_s": ingest_s,
            "retrieve_p50_ms": statistics.median(retrieve_ms),
            "retrieve_p95_ms": float(np.percentile(retrieve_ms, 95)),
            "answer_p50_ms": statistics.median(answer_ms),
        }

    rounds = [ours(0)]  # ours, theirs, theirs, ours: drift in the machine's load hits both sides
    theirs = {}
    for label, extra in (("default", []), ("chunk_size_128", ["--chunk-size", "128"])):
        result, usage = child_result(
            [str(LLAMAINDEX_PYTHON), str(HERE / "llamaindex_baseline.py"), str(collection), str(qfile), "--answers", str(answers), *extra],
            env=env,
        )
        result["answers"] = result["answers"][:3]
        result["peak_rss_mb"] = usage["maxrss_mb"]
        theirs[label] = result
        log(f"LlamaIndex {label}: ingest {result['ingest_s']:.1f}s, retrieve p50 {result['retrieve_p50_ms']:.1f} ms")
    rounds.append(ours(1))
    ours_summary = {k: statistics.mean(r[k] for r in rounds) for k in rounds[0]}
    ours_summary["chunks"] = rounds[0]["chunks"]
    ours_summary["rounds"] = rounds
    return {"collection_documents": len(list(collection.glob("*.txt"))), "ours": ours_summary, "llamaindex": theirs}


# ---------------------------------------------------------------- driver

SECTIONS = {
    "ingest": section_ingest,
    "retrieval": section_retrieval,
    "generation": section_generation,
    "answers": section_answers,
    "coldstart": section_coldstart,
    "memory": section_memory,
    "scale-100k": lambda work: section_scale(work, 100_000),
    "scale-1m": lambda work: section_scale(work, 1_000_000),
    "llamaindex": section_llamaindex,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(ALL), help=f"comma-separated, of: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["machine"] = {
        "omp_wait_policy": WAIT_POLICY,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        for name in chosen:
            work = Path(tmp) / name
            work.mkdir(parents=True)
            log(f"section {name} (load average {os.getloadavg()[0]:.1f})")
            t = time.perf_counter()
            load_before = os.getloadavg()[0]
            section = SECTIONS[name](work)
            section["section_s"] = time.perf_counter() - t
            section["load_average"] = [load_before, os.getloadavg()[0]]
            section["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
            results[name] = section
            args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
            log(f"section {name} done in {section['section_s']:.0f}s")
    results.setdefault("runs", {})[",".join(chosen)] = {"total_s": time.perf_counter() - started}
    args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    import report

    report.render(results, HERE)
    log(f"wrote {args.out}, {HERE / 'results.md'} ({time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
