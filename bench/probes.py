"""Child processes for bench/run.py: each prints one `RESULT {json}` line.

    python bench/probes.py coldstart QUESTION     what a `rag ask` spends its first seconds on
    python bench/probes.py serve N                RSS of a long-lived Pipeline over N questions

They run in a fresh interpreter because that is what they measure: process
start, imports and model loads, or the memory of one long-lived process.
Settings come from the usual layers (config file, RAG_* environment).
"""

from __future__ import annotations

import json
import os
import sys
import time

STARTED = time.time()  # as early as this process can tell; the parent adds its spawn time


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def coldstart(question: str) -> dict:
    """The `rag ask` path step by step (rag/serve/cli.py ask), with a wall-clock mark after each."""
    marks = {"interpreter": time.time()}

    def mark(name: str) -> None:
        marks[name] = time.time()

    import rag.serve.cli  # noqa: F401  typer, rich, settings: what every `rag` command imports

    mark("import rag.serve.cli")
    import numpy  # noqa: F401

    mark("import numpy")
    import faiss  # noqa: F401

    mark("import faiss")
    import bm25s  # noqa: F401

    mark("import bm25s")
    import llama_cpp  # noqa: F401

    mark("import llama_cpp")
    from rag.answer.pipeline import Pipeline
    from rag.core.contract import answer_to_json  # noqa: F401
    from rag.core.settings import load_settings

    mark("import rag.answer.pipeline")
    settings = load_settings()
    from rag.index.embedding import Embedder

    embedder = Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)
    mark("load embedder")
    from rag.answer.generation.llama import Generator

    generator = Generator(settings.model, n_ctx=settings.n_ctx, n_threads=settings.n_threads, seed=settings.seed)
    mark("load GGUF")
    pipeline = Pipeline(settings, embedder=embedder, generator=generator)
    mark("load index")
    answer = pipeline.ask(question)
    mark("first answer")
    steps, previous = {}, None
    for name, at in marks.items():
        if previous is not None:
            steps[name] = (at - marks[previous]) * 1000
        previous = name
    return {
        "interpreter_at": STARTED,
        "steps_ms": steps,
        "answer_stages_ms": answer.timings,
        "answer": answer.answer,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default (spin)"),
        "torch_imported": "torch" in sys.modules,
        "sentence_transformers_imported": "sentence_transformers" in sys.modules,
        "rss_mb": rss_mb(),
        "peak_rss_mb": peak_mb(),
    }


def serve(n: int) -> dict:
    """One Pipeline answering `n` questions (the dev set, cycled): RSS after every 10."""
    from rag.answer.pipeline import Pipeline
    from rag.core.settings import load_settings
    from rag.eval.gold import load_gold

    settings = load_settings()
    questions = [item.question for item in load_gold(settings.gold)]
    pipeline = Pipeline(settings)
    series = [{"questions": 0, "rss_mb": rss_mb()}]
    seconds = []
    for i in range(n):
        started = time.perf_counter()
        pipeline.ask(questions[i % len(questions)])
        seconds.append(time.perf_counter() - started)
        if (i + 1) % 10 == 0:
            series.append({"questions": i + 1, "rss_mb": rss_mb()})
    return {"series": series, "peak_rss_mb": peak_mb(), "seconds": seconds}


if __name__ == "__main__":
    from rag.core.openmp import choose_wait_policy

    choose_wait_policy()  # as the `rag` command does before loading anything
    command, *args = sys.argv[1:]
    result = {"coldstart": lambda: coldstart(args[0]), "serve": lambda: serve(int(args[0]))}[command]()
    print("RESULT " + json.dumps(result), flush=True)
