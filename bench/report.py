"""Render bench/results.json as bench/results.md with charts in bench/charts/.

    python bench/report.py          (bench/run.py calls it after every run)

Every section is optional: a section that was not run is left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def f(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- sections


def ingest_md(r: dict, charts: Path) -> list[str]:
    plt = _plt()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.6))
    a.bar(["raw encode", "whole ingest"], [r["raw_chunks_per_s"], r["pipeline_chunks_per_s"]], color=["#999", "#2a7"])
    a.set_ylabel("chunks / s")
    a.set_title(f"ingest rate (ratio {r['ratio']:.2f})")
    phases = r["rounds"][-1]["phases_s"]
    left = 0.0
    for (name, seconds), color in zip(phases.items(), ["#bbb", "#7ad", "#2a7", "#e94"]):
        b.barh(["ingest"], [seconds], left=left, color=color, label=f"{name} {seconds:.1f}s")
        left += seconds
    b.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.6), ncol=2)
    b.set_xlabel("seconds")
    b.set_title("where an ingest spends its time")
    sizes = r["batch_size_chunks_per_s"]
    c.bar(list(sizes), list(sizes.values()), color="#7ad")
    c.set_xlabel("batch size")
    c.set_ylabel("chunks / s (raw encode)")
    c.set_title("batch size")
    fig.tight_layout()
    fig.savefig(charts / "ingest.png", dpi=110)
    plt.close(fig)
    rows = [
        "## Ingest",
        "",
        f"{r['documents']} documents, {r['chunks']} chunks (the corpus' articles, sentences reordered per copy), "
        f"batch size {r['batch_size']}; the embedding model is loaded before either timing.",
        "",
        "| | chunks/s | seconds |",
        "|---|---|---|",
        f"| raw `SentenceTransformer.encode` on the same chunk texts | {f(r['raw_chunks_per_s'])} | "
        + " / ".join(f(x['raw_encode_s']) for x in r["rounds"]) + " |",
        f"| whole ingest: load → chunk → embed (checkpointed) → write index | {f(r['pipeline_chunks_per_s'])} | "
        + " / ".join(f(x['pipeline_s']) for x in r["rounds"]) + " |",
        f"| **ratio** (target ≥ 0.9) | **{r['ratio']:.3f}** (rounds: "
        + ", ".join(f"{x['ratio']:.3f}" for x in r["rounds"]) + ") | |",
        "",
        "Phases of the last round: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()) + ".",
        "",
        "Raw encode rate by batch size (256 chunks): "
        + ", ".join(f"{k}: {v:.1f}/s" for k, v in sizes.items()) + ".",
        "",
        "![ingest](charts/ingest.png)",
        "",
    ]
    return rows


def retrieval_md(r: dict, charts: Path) -> list[str]:
    plt = _plt()
    runs = [(k, r[k]) for k in ("default_index", "bench_collection") if k in r]
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for name, run in runs:
        left = 0.0
        for stage, color in zip(("embed", "dense search", "bm25", "fusion"), ["#2a7", "#7ad", "#e94", "#bbb"]):
            value = run["stages"][stage]["p50_ms"]
            ax.barh([f"{run['chunks']} chunks"], [value], left=left, color=color, label=stage if name == runs[0][0] else None)
            left += value
    ax.set_xlabel("p50 ms per query")
    ax.legend(fontsize=8)
    ax.set_title("retrieval: embed + search + BM25 + fusion")
    fig.tight_layout()
    fig.savefig(charts / "retrieval.png", dpi=110)
    plt.close(fig)
    rows = ["## Retrieval", "", f"The {r['questions']} dev-set questions, hybrid retrieval, one at a time (after one warm-up pass).", ""]
    rows += ["| collection | vector index | embed | dense search | BM25 | fusion + hits | **total p50 / p95** | `Pipeline.retrieve` p50 / p95 |",
             "|---|---|---|---|---|---|---|---|"]
    for _, run in runs:
        st = run["stages"]
        rows.append(
            f"| {run['chunks']} chunks | {run['vector_index']} | "
            + " | ".join(f"{f(st[k]['p50_ms'], 2)}" for k in ("embed", "dense search", "bm25", "fusion"))
            + f" | **{f(st['total']['p50_ms'], 2)} / {f(st['total']['p95_ms'], 2)}** | "
            f"{f(run['pipeline_retrieve']['p50_ms'], 2)} / {f(run['pipeline_retrieve']['p95_ms'], 2)} |"
        )
    rows += ["", "Milliseconds (p50 per stage). ![retrieval](charts/retrieval.png)", ""]
    return rows


def generation_md(r: dict, charts: Path) -> list[str]:
    plt = _plt()
    names = list(r["runs"])
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3))
    a.bar(names, [r["runs"][n]["ttft_p50_ms"] for n in names], color=["#999", "#2a7", "#7ad"])
    a.set_ylabel("ms")
    a.set_title("time to first token (p50)")
    b.bar(names, [r["runs"][n]["tokens_per_s_p50"] for n in names], color=["#999", "#2a7", "#7ad"])
    b.set_ylabel("tokens / s")
    b.set_title(f"decode rate (answer path / raw = {r['tokens_per_s_ratio']:.2f})")
    for ax in (a, b):
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(charts / "generation.png", dpi=110)
    plt.close(fig)
    pt = r["prompt_tokens"]
    rows = [
        "## Generation",
        "",
        f"Model `{r['model']}`, {r['threads']} threads; the pipeline's own prompts for {r['prompts_timed']} dev questions, "
        "each generated twice by each contender, interleaved. *raw*: `llama_cpp.Llama.create_completion` "
        "on the same prompt (no constraint, no stop); *answer path*: `Generator.stream` with the pipeline's "
        "constraint (no newline, no brackets: a token mask, `GenerationSettings.forbid`), as `Pipeline.ask` runs it; "
        "*raw + grammar*: raw llama-cpp-python with the same constraint as a GBNF grammar, as the answer path "
        "ran it before the mask.",
        "",
        "| | TTFT p50 ms | tokens/s p50 | tokens p50 |",
        "|---|---|---|---|",
    ]
    for name in names:
        run = r["runs"][name]
        rows.append(f"| {name} | {f(run['ttft_p50_ms'])} | {f(run['tokens_per_s_p50'])} | {f(run['tokens_p50'], 0)} |")
    rows += [
        "",
        f"- tokens/s ratio, answer path / raw: **{r['tokens_per_s_ratio']:.3f}** (target ≥ 0.9); "
        f"raw + grammar / raw: {r['grammar_tokens_per_s_ratio']:.3f}",
        f"- TTFT ratio, raw / answer path: **{r['ttft_ratio']:.3f}** (≥ 1: the answer path is no slower to start)",
        f"- prompt tokens per question ({pt['questions']} answered dev questions): mean {pt['mean']:.0f}, "
        f"p50 {pt['p50']:.0f}, max {pt['max']}",
        "",
        "![generation](charts/generation.png)",
        "",
    ]
    return rows


def answers_md(r: dict) -> list[str]:
    rows = [
        "## Warm answers",
        "",
        f"`Pipeline.ask` on the {r['questions']} dev questions in one warm process, four passes over them (A B B A): "
        "*skip settled* calls the answer model only where the likelihoods it could give would change the answer "
        "(`skip_settled = true`, shipped; `Selection.settled`), *always score* calls it for every question.",
        "",
        "| | p50 ms | p95 ms | mean ms |",
        "|---|---|---|---|",
    ]
    for name, run in r["runs"].items():
        rows.append(f"| {name} | {f(run['p50_ms'])} | {f(run['p95_ms'])} | {f(run['mean_ms'])} |")
    rows += [
        "",
        f"- p50 ratio, skip settled / always score: **{r['p50_ratio']:.3f}**; mean ratio **{r['mean_ratio']:.3f}**",
        f"- the model was called for {r['model_called']} of {r['questions']} questions; "
        f"answers identical in {r['same_answers']} of {2 * r['questions']} pairs",
        "",
    ]
    return rows


def coldstart_md(r: dict, charts: Path) -> list[str]:
    plt = _plt()
    steps = r["breakdown_ms"]
    fig, ax = plt.subplots(figsize=(9, 2.6))
    left = 0.0
    cmap = plt.get_cmap("tab20")
    for i, (name, value) in enumerate(steps.items()):
        ax.barh(["rag ask"], [value / 1000], left=left, color=cmap(i % 20), label=f"{name} {value / 1000:.2f}s")
        left += value / 1000
    ax.axvline(r["target_s"], color="red", linestyle="--", linewidth=1)
    ax.set_xlabel("seconds from process start")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    ax.set_title("cold start: where the time goes (red: 3 s target)")
    fig.tight_layout()
    fig.savefig(charts / "coldstart.png", dpi=110)
    plt.close(fig)
    stages = r["answer_stages_ms"]
    rows = [
        "## Cold start",
        "",
        f"`{r['command']}` with an existing index, {len(r['runs'])} runs: wall **{r['wall_s_p50']:.2f} s** p50 "
        f"(best {r['wall_s_min']:.2f} s; target ≤ {r['target_s']:.0f} s), CPU {r['cpu_s_p50']:.2f} s, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB. torch imported: {r['torch_imported']}.",
        "",
    ]
    if "settled_wall_s_p50" in r:
        rows += [
            "These runs call the answer model, as a question that needs it does. As shipped (`skip_settled`), this "
            f"question is settled without it: **{r['settled_wall_s_p50']:.2f} s** p50, interleaved with them.",
            "",
        ]
    policies = r.get("wait_policy_wall_s_p50")
    if policies:
        loads = ", ".join(f"{w['load_average']:.1f}" for w in r["runs"])
        rows += [
            "OpenMP wait policy (rag/core/openmp.py: libgomp's spinning wait on a free machine, passive waiting when "
            f"the load average reaches the core count; load average before each run here: {loads}). The same "
            "command with the policy forced, interleaved with the runs above: "
            + ", ".join(f"`OMP_WAIT_POLICY={k}` {v:.2f} s" for k, v in policies.items())
            + " (p50 wall).",
            "",
        ]
    rows += [
        "| step (median probe run) | ms |",
        "|---|---|",
    ]
    rows += [f"| {name} | {value:.0f} |" for name, value in steps.items()]
    rows += [
        "",
        "The first answer's stages: " + ", ".join(f"{k} {v:.0f} ms" for k, v in stages.items()) + ".",
        "",
        "Heaviest top-level imports (`python -X importtime`, cumulative ms): "
        + ", ".join(f"{k} {v:.0f}" for k, v in r["top_level_imports_ms"].items()) + ".",
        "",
        "![cold start](charts/coldstart.png)",
        "",
    ]
    return rows


def memory_md(r: dict, coldstart: dict | None, charts: Path) -> list[str]:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3))
    for name in ("pipeline", "ui"):
        run = r.get(name, {})
        if "series" in run:
            ax.plot([p["questions"] for p in run["series"]], [p["rss_mb"] for p in run["series"]], marker="o", label=name)
    ax.set_xlabel("questions answered")
    ax.set_ylabel("RSS MB")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title("memory of a long-lived process")
    fig.tight_layout()
    fig.savefig(charts / "memory.png", dpi=110)
    plt.close(fig)
    rows = ["## Memory", ""]
    if coldstart:
        rows.append(f"- `rag ask` peak RSS: **{coldstart['peak_rss_mb']:.0f} MB**")
    for name, label in (("pipeline", "a `Pipeline` answering in one process"), ("ui", "the web UI server (`python app.py`, questions through gradio_client)")):
        run = r.get(name)
        if not run:
            continue
        if "error" in run:
            rows.append(f"- {label}: not measured ({run['error']})")
            continue
        rss = {p["questions"]: p["rss_mb"] for p in run.get("series", [])}
        settled = (
            f", {rss[50]:.0f} MB after 50 (every dev question asked once: caches filled), "
            f"**×{run['rss_after_100_mb'] / rss[50]:.3f}** from 50 to 100"
            if 50 in rss else ""
        )
        rows.append(
            f"- {label}: RSS {run['rss_after_10_mb']:.0f} MB after 10 questions{settled}; "
            f"{run['rss_after_100_mb']:.0f} MB after 100 (**×{run['growth_ratio_100_vs_10']:.3f}** from 10), "
            f"peak {run['peak_rss_mb']:.0f} MB"
        )
    rows += ["", "![memory](charts/memory.png)", ""]
    return rows


def scale_md(results: dict, charts: Path) -> list[str]:
    plt = _plt()
    runs = [(k, results[k]) for k in ("scale-100k", "scale-1m") if k in results]
    if not runs:
        return []
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 3.6), squeeze=False)
    for ax, (_, run) in zip(axes[0], runs):
        for kind, marker in (("hnsw", "o"), ("ivfpq", "s")):
            idx = run["indexes"].get(kind, {})
            if "sweep" in idx:
                name = "ef_search" if kind == "hnsw" else "nprobe"
                xs = [p["p50_ms"] for p in idx["sweep"]]
                ys = [p["recall_at_10"] for p in idx["sweep"]]
                ax.plot(xs, ys, marker=marker, label=kind)
                for p, x, y in zip(idx["sweep"], xs, ys):
                    ax.annotate(str(p[name]), (x, y), fontsize=7, textcoords="offset points", xytext=(3, -9))
        flat = run["indexes"].get("flat")
        if flat:
            ax.plot([flat["p50_ms"]], [1.0], marker="*", markersize=12, linestyle="", label="flat (exact)")
        ax.axhline(0.95, color="red", linestyle="--", linewidth=1)
        ax.axvline(20, color="red", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("p50 ms per query (log)")
        ax.set_ylabel("recall@10")
        ax.set_title(f"{run['n']:,} vectors")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(charts / "scale.png", dpi=110)
    plt.close(fig)
    rows = ["## Scale", ""]
    for _, run in runs:
        d = run["data"]
        rows += [
            f"### {run['n']:,} chunks",
            "",
            f"384-d synthetic clustered vectors (mean cosine of the nearest neighbour {d['top1_cosine_mean']:.2f}, "
            f"of the 10th {d['top10_cosine_mean']:.2f}); {run['queries']} queries, one at a time, 2 threads; "
            f"index opened memory-mapped in a fresh process. `auto` picks **{run['auto_kind']}** at this size. "
            "Memory-mapped pages count in RSS once touched, but they are page cache the kernel can drop, "
            "shared by every process that opens the index; the process' own memory is the first figure.",
            "",
            "| index | parameters | build s | file MB | RSS after open MB | RSS after queries MB: own + mapped files | build peak RSS MB | p50 ms | p95 ms | recall@10 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for kind, idx in run["indexes"].items():
            params = ", ".join(f"{k}={v}" for k, v in idx["spec"].items() if k != "kind") or "exact"
            rows.append(
                f"| {kind} | {params} | {f(idx['build_s'])} | {f(idx['file_mb'])} | {f(idx['rss_after_load_mb'])} | "
                f"{_rss(idx)} | {f(idx['peak_rss_mb'], 0)} | {f(idx['p50_ms'], 2)} | {f(idx['p95_ms'], 2)} | "
                f"{idx['recall_at_10']:.3f} |"
            )
        for kind in ("hnsw", "ivfpq"):
            idx = run["indexes"].get(kind, {})
            if "sweep" in idx:
                name = "ef_search" if kind == "hnsw" else "nprobe"
                rows.append(
                    f"\n{kind} by {name}: "
                    + "; ".join(f"{p[name]}: {p['p50_ms']:.2f} ms, recall {p['recall_at_10']:.3f}" for p in idx["sweep"])
                )
        b = run.get("bm25")
        if b:
            rows += [
                "",
                f"BM25 (bm25s, {b['vocabulary']:,}-word vocabulary, {b['words_per_text']:.0f} words per text): build "
                f"{b['build_s']:.1f} s (tokenize {b['tokenize_s']:.1f} s + index {b['index_s']:.1f} s), files {b['file_mb']:.0f} MB, "
                f"build peak RSS {b['peak_rss_mb']:.0f} MB; opened memory-mapped: RSS {b['rss_after_load_mb']:.0f} MB after "
                f"open, {_rss(b)} MB (own + mapped files) after queries; query (tokenize + score + top 30) "
                f"p50 **{b['p50_ms']:.2f} ms**, p95 {b['p95_ms']:.2f} ms.",
            ]
            if "hybrid" in b:
                h = b["hybrid"]
                rows.append(
                    f"Hybrid retrieval (`Retriever.search`: {h['vector_index']} + BM25 + RRF, query embedding given): "
                    f"p50 **{h['p50_ms']:.2f} ms**, p95 {h['p95_ms']:.2f} ms in a fresh process"
                    + (
                        f"; with vectors.npy in the page cache (read through once, {h['read_vectors_s']:.1f} s: "
                        f"a long-running server's steady state) p50 **{h['cached_p50_ms']:.2f} ms**, "
                        f"p95 {h['cached_p95_ms']:.2f} ms"
                        + (
                            ". The difference is reading scattered rows of the memory-mapped vectors.npy "
                            "from disk (IVF-PQ's exact re-ranking, each hit's cosine)"
                            if h["p50_ms"] > 1.5 * h["cached_p50_ms"] else ""
                        )
                        if "cached_p50_ms" in h else ""
                    )
                    + "."
                )
        rows += ["", f"Total for this size: {run['total_s']:.0f} s.", ""]
    rows += ["![scale](charts/scale.png)", ""]
    return rows


def _rss(run: dict) -> str:
    parts = run.get("rss_after_queries")
    if not parts:
        return f(run["rss_after_queries_mb"])
    return f"{f(parts['anon_mb'], 0)} + {f(parts['file_mb'], 0)}"


def llamaindex_md(r: dict) -> list[str]:
    rows = ["## Baseline: LlamaIndex", ""]
    if "skipped" in r:
        return rows + [f"Not run: {r['skipped']}", ""]
    ours = r["ours"]
    rows += [
        f"Same collection ({r['collection_documents']} documents), same MiniLM directory and SmolLM2 GGUF, same questions; "
        "models loaded before timing on both sides.",
        "",
        "| | chunks | ingest s | retrieve p50 ms | retrieve p95 ms | answer p50 ms |",
        "|---|---|---|---|---|---|",
        f"| this project (hybrid, 128-token chunks) | {ours['chunks']} | {f(ours['ingest_s'])} | {f(ours['retrieve_p50_ms'], 2)} | "
        f"{f(ours['retrieve_p95_ms'], 2)} | {f(ours['answer_p50_ms'], 0)} |",
    ]
    for label, run in r["llamaindex"].items():
        rows.append(
            f"| LlamaIndex {run['llama_index_core']} ({label}: {run['chunk_size']}-token chunks, dense top-2) | {run['chunks']} | "
            f"{f(run['ingest_s'])} | {f(run['retrieve_p50_ms'], 2)} | {f(run['retrieve_p95_ms'], 2)} | {f(run['answer_p50_ms'], 0)} |"
        )
    return rows + [""]


def render(results: dict, root: Path = HERE) -> Path:
    charts = root / "charts"
    charts.mkdir(exist_ok=True)
    machine = results.get("machine", {})
    rows = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run.py` (`make bench`, `make bench-scale`) on {machine.get('cpus', '?')} CPUs, "
        f"{machine.get('memory_gb', '?')} GB RAM, Python {machine.get('python', '?')}. The machine is shared with other "
        "jobs: compare the ratios (each against a baseline measured in the same run, interleaved), not absolute "
        "times. Load average at each section's start and end is in results.json.",
        "",
    ]
    if "ingest" in results:
        rows += ingest_md(results["ingest"], charts)
    if "retrieval" in results:
        rows += retrieval_md(results["retrieval"], charts)
    if "generation" in results:
        rows += generation_md(results["generation"], charts)
    if "answers" in results:
        rows += answers_md(results["answers"])
    if "coldstart" in results:
        rows += coldstart_md(results["coldstart"], charts)
    if "memory" in results:
        rows += memory_md(results["memory"], results.get("coldstart"), charts)
    rows += scale_md(results, charts)
    if "llamaindex" in results:
        rows += llamaindex_md(results["llamaindex"])
    timings = [
        f"`{name}`: {run['total_s'] / 60:.1f} min" for name, run in results.get("runs", {}).items()
    ]
    if timings:
        rows += ["## Run times", "", "; ".join(timings) + ".", ""]
    out = root / "results.md"
    out.write_text("\n".join(rows), encoding="utf-8")
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    print(render(json.loads(path.read_text()), HERE))
