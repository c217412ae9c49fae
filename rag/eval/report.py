"""Reports of an evaluation run: terminal tables, report.json, report.md, report.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rag.eval import metrics as M
from rag.eval.evaluation import EvalRun, GateResult, QuestionResult

# (label, dotted metric) rows of the summary table
SUMMARY_ROWS = (
    ("retrieval", None),
    ("hit@1", "retrieval.hit@1"),
    ("hit@3", "retrieval.hit@3"),
    ("hit@5", "retrieval.hit@5"),
    ("hit@10", "retrieval.hit@10"),
    ("recall@5", "retrieval.recall@5"),
    ("MRR", "retrieval.mrr"),
    ("nDCG@5", "retrieval.ndcg@5"),
    ("answers", None),
    ("accuracy", "answers.accuracy"),
    ("span F1", "answers.f1"),
    ("exact match", "answers.exact_match"),
    ("abstention (unanswerable)", "answers.abstention"),
    ("false abstention (answerable)", "answers.false_abstention"),
    ("citations", None),
    ("precision", "citations.precision"),
    ("recall (cite the evidence)", "citations.recall"),
    ("latency", None),
    ("total p50 (ms)", "latency.total.p50"),
    ("total p95 (ms)", "latency.total.p95"),
)

# the bars of the chart: (label, dotted metric)
CHART_METRICS = (
    ("hit@5", "retrieval.hit@5"),
    ("MRR", "retrieval.mrr"),
    ("nDCG@5", "retrieval.ndcg@5"),
    ("accuracy", "answers.accuracy"),
    ("abstention", "answers.abstention"),
    ("cit. precision", "citations.precision"),
    ("cit. recall", "citations.recall"),
)
COLORS = {"dense": "#4C72B0", "bm25": "#DD8452", "hybrid": "#55A868"}


def fmt(value: Any, ms: bool = False) -> str:
    if value is None:
        return "–"
    if ms:
        return f"{value:,.0f}"
    return f"{value:.3f}"


def fmt_gain(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}"


def _counts(run: EvalRun) -> str:
    first = next(iter(run.modes.values())).metrics
    a = first["answers"]
    return (
        f"{len(run.items)} questions ({a['n_answerable']} answerable, {a['n_unanswerable']} unanswerable), "
        f"{first['retrieval']['n']} with evidence; retrieval depth {run.depth}"
    )


# ---------------------------------------------------------------- terminal


def print_tables(run: EvalRun, console: Console) -> None:
    if not console.is_terminal and console.width < 120:
        # A pipe or file gets rich's default 80 columns; give the tables room instead of wrapping labels.
        console = Console(file=console.file, width=120, highlight=False)
    modes = list(run.modes)
    gain_cols = list(run.gains)
    table = Table(
        title=f"rag eval — {Path(run.gold).name}", caption=_counts(run), title_justify="left", caption_justify="left"
    )
    table.add_column("metric")
    for mode in modes:
        table.add_column(mode, justify="right")
    for g in gain_cols:
        table.add_column(g.replace("-", " − "), justify="right", style="dim")
    for label, name in SUMMARY_ROWS:
        if name is None:
            table.add_row(f"[bold]{label}[/bold]", *[""] * (len(modes) + len(gain_cols)))
            continue
        ms = name.startswith("latency")
        cells = [fmt(M.lookup(run.modes[m].metrics, name), ms) for m in modes]
        gains = [fmt_gain(run.gains[g].get(name)) if not ms else "" for g in gain_cols]
        table.add_row(f"  {label}", *cells, *gains)
    console.print(table)

    kinds = Table(title="per kind: hit@5 / accuracy (abstention for unanswerable)", title_justify="left")
    kinds.add_column("kind")
    kinds.add_column("n", justify="right")
    for mode in modes:
        kinds.add_column(mode, justify="right")
    first = run.modes[modes[0]]
    for kind, agg in first.per_kind.items():
        kinds.add_row(kind, str(agg["n"]), *[_kind_cell(run.modes[m].per_kind.get(kind)) for m in modes])
    console.print(kinds)

    lat = Table(title="latency per stage, ms: p50 / p95 (nearest rank)", title_justify="left")
    lat.add_column("stage")
    for mode in modes:
        lat.add_column(mode, justify="right")
    stages = list(run.modes[modes[0]].metrics["latency"])
    for stage in stages:
        cells = []
        for mode in modes:
            s = run.modes[mode].metrics["latency"].get(stage)
            cells.append(f"{fmt(s['p50'], True)} / {fmt(s['p95'], True)}" if s else "–")
        lat.add_row(stage, *cells)
    console.print(lat)


def _kind_cell(agg: dict | None) -> str:
    if not agg:
        return "–"
    if agg["answers"]["n_answerable"] == 0:
        return f"abst {fmt(agg['answers']['abstention'])}"
    return f"{fmt(agg['retrieval']['hit@5'])} / {fmt(agg['answers']['accuracy'])}"


def print_gate(result: GateResult, console: Console, err: Console) -> None:
    for note in result.notes:
        err.print(f"[dim]gate: {note}[/dim]")
    for name, now, base, tol, ok in result.rows:
        mark = "[green]ok[/green]" if ok else "[red]FAIL[/red]"
        err.print(f"  {mark} {name}: {fmt(now)} (baseline {fmt(base)}, tolerance {tol:.3f})")
    if result.passed:
        console.print("[green]quality gate passed[/green]")
    for failure in result.failures:
        err.print(f"[red]quality gate failed:[/red] {failure}")


# ---------------------------------------------------------------- suites: a row per collection

# (column, dotted metric) of the suite table, after the collection's name and question count
SUITE_COLUMNS = (
    ("hit@5", "retrieval.hit@5"),
    ("MRR", "retrieval.mrr"),
    ("accuracy", "answers.accuracy"),
    ("span F1", "answers.f1"),
    ("EM", "answers.exact_match"),
    ("abstention", "answers.abstention"),
    ("false abst.", "answers.false_abstention"),
    ("cit. prec.", "citations.precision"),
    ("p50 ms", "latency.total.p50"),
)


def suite_rows(results: list[tuple[str, EvalRun, GateResult | None]]) -> list[list[str]]:
    """One row of cells per collection: name, questions, SUITE_COLUMNS, gate."""
    rows = []
    for name, run, gate in results:
        mode = gate.mode if gate is not None else next(iter(run.modes))
        metrics = run.modes[mode].metrics
        cells = [fmt(M.lookup(metrics, dotted), ms=dotted.startswith("latency")) for _, dotted in SUITE_COLUMNS]
        verdict = "–" if gate is None else ("passed" if gate.passed else "FAILED")
        rows.append([name, str(len(run.items)), *cells, verdict])
    return rows


def suite_headers() -> list[str]:
    return ["collection", "n", *(label for label, _ in SUITE_COLUMNS), "gate"]


def print_suite(results: list[tuple[str, EvalRun, GateResult | None]], console: Console) -> None:
    table = Table(title="development collections", title_justify="left")
    for i, header in enumerate(suite_headers()):
        table.add_column(header, justify="left" if i == 0 else "right")
    for row in suite_rows(results):
        table.add_row(*row)
    console.print(table, width=max(console.width, 140))  # a row per collection, never squeezed in a pipe


def suite_markdown(results: list[tuple[str, EvalRun, GateResult | None]]) -> str:
    headers = suite_headers()
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in suite_rows(results)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- files


def write_reports(run: EvalRun, folder: Path, gate: GateResult | None = None) -> list[Path]:
    """report.json, report.md and report.png in `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data = run.to_json()
    if gate is not None:
        data["gate"] = {
            "retriever": gate.mode,
            "passed": gate.passed,
            "failures": gate.failures,
            "metrics": [
                {"metric": n, "current": c, "baseline": b, "tolerance": t, "ok": ok}
                for n, c, b, t, ok in gate.rows
            ],
        }
    paths = [folder / "report.json", folder / "report.md", folder / "report.png"]
    paths[0].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(run, gate), encoding="utf-8")
    chart(run, paths[2])
    return paths


def _md_cell(text: Any) -> str:
    s = "–" if text is None else str(text)
    return " ".join(s.replace("|", "\\|").split())


def markdown(run: EvalRun, gate: GateResult | None = None) -> str:
    """report.md: the run, the summary table, the gate, per kind, latency, failures, gold warnings."""
    lines = _md_header(run) + _md_summary(run)
    if gate is not None:
        lines += _md_gate(gate)
    lines += _md_per_kind(run) + _md_latency(run) + _md_failures(run)
    if run.warnings:
        lines += ["", "## Gold-file warnings", ""] + [f"- {_md_cell(w)}" for w in run.warnings]
    return "\n".join(lines) + "\n"


def _md_header(run: EvalRun) -> list[str]:
    return [
        "# rag eval report",
        "",
        f"- gold: `{run.gold}` — {_counts(run)}",
        f"- collection: `{run.collection}` (index `{run.index_dir}`)",
        f"- answer model: `{run.settings.get('model')}`, embeddings: `{run.settings.get('embedding_model')}`, "
        f"answer top_k: {run.settings.get('top_k')}",
        f"- run: {run.started}, {run.seconds:.0f} s",
        "",
        "Metric definitions: docs/evaluation.md. `–` means not defined for this set (e.g. no unanswerable questions).",
        "",
        "![metrics per retriever and latency](report.png)",
        "",
    ]


def _md_summary(run: EvalRun) -> list[str]:
    modes, gain_cols = list(run.modes), list(run.gains)
    lines = [
        "## Summary",
        "",
        "| metric | " + " | ".join(modes) + "".join(f" | {g}" for g in gain_cols) + " |",
        "|---" + "|---:" * (len(modes) + len(gain_cols)) + "|",
    ]
    for label, name in SUMMARY_ROWS:
        if name is None:
            lines.append(f"| **{label}** |" + " |" * (len(modes) + len(gain_cols)))
            continue
        ms = name.startswith("latency")
        cells = [fmt(M.lookup(run.modes[m].metrics, name), ms) for m in modes]
        gains = [fmt_gain(run.gains[g].get(name)) if not ms else "" for g in gain_cols]
        lines.append(f"| {label} | " + " | ".join(cells + gains) + " |")
    return lines


def _md_gate(gate: GateResult) -> list[str]:
    lines = ["", f"## Quality gate ({gate.mode}): {'passed' if gate.passed else 'FAILED'}", ""]
    lines += [f"- {n}" for n in gate.notes]
    lines += ["", "| metric | current | baseline | tolerance | |", "|---|---:|---:|---:|---|"]
    for n, c, b, t, ok in gate.rows:
        lines.append(f"| {n} | {fmt(c)} | {fmt(b)} | {t:.3f} | {'ok' if ok else '**FAIL**'} |")
    return lines


def _md_per_kind(run: EvalRun) -> list[str]:
    modes = list(run.modes)
    lines = ["", "## Per kind", "", "hit@5 / accuracy; for unanswerable questions, the abstention rate.", ""]
    lines += ["| kind | n | " + " | ".join(modes) + " |", "|---|---:" + "|---:" * len(modes) + "|"]
    for kind, agg in run.modes[modes[0]].per_kind.items():
        cells = [_kind_cell(run.modes[m].per_kind.get(kind)) for m in modes]
        lines.append(f"| {kind} | {agg['n']} | " + " | ".join(cells) + " |")
    return lines


def _md_latency(run: EvalRun) -> list[str]:
    modes = list(run.modes)
    lines = ["", "## Latency", "", "Milliseconds per stage, p50 / p95 (nearest rank) / mean.", ""]
    lines += ["| stage | " + " | ".join(modes) + " |", "|---" + "|---:" * len(modes) + "|"]
    for stage in run.modes[modes[0]].metrics["latency"]:
        cells = []
        for m in modes:
            s = run.modes[m].metrics["latency"].get(stage)
            cells.append(f"{fmt(s['p50'], True)} / {fmt(s['p95'], True)} / {fmt(s['mean'], True)}" if s else "–")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return lines


def _md_failures(run: EvalRun) -> list[str]:
    lines = ["", "## Failures", ""]
    lines.append(
        "Answerable questions answered wrongly (or abstained on), and unanswerable questions answered. "
        f"Evidence rank: rank of the first passage holding an evidence quote in the top {run.depth} "
        "retrieved (– when not retrieved)."
    )
    for mode, result in run.modes.items():
        failures = result.failures()
        lines += ["", f"### {mode}: {len(failures)} of {len(result.results)}", ""]
        if not failures:
            lines.append("None.")
            continue
        lines += ["| id | kind | question | expected | got | evidence rank |", "|---|---|---|---|---|---:|"]
        lines += [_md_failure_row(q) for q in failures]
    return lines


def _md_failure_row(q: QuestionResult) -> str:
    expected = (" AND " if q.item.match == "all" else " OR ").join(q.item.answers) or "(abstain)"
    got = q.error and f"error: {q.error}" or q.answer or "–"
    if q.outcome.abstained and not q.error:
        got = f"(abstained) {got}"
    rank = q.outcome.evidence_rank
    return (
        f"| {_md_cell(q.item.id)} | {_md_cell(q.item.kind)} | {_md_cell(q.item.question)} | "
        f"{_md_cell(expected)} | {_md_cell(got)} | {rank if rank is not None else '–'} |"
    )


def chart(run: EvalRun, path: Path) -> None:
    """One figure: key metrics per retriever (left), latency per stage (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.2), gridspec_kw={"width_ratios": [1.35, 1]})
    _quality_bars(left, run)
    _latency_boxes(right, run)
    fig.suptitle(f"rag eval — {Path(run.gold).name} on {Path(run.collection).name}", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _quality_bars(ax: Any, run: EvalRun) -> None:
    """The chart's metrics as grouped bars, one colour per retriever, each labelled with its value."""
    modes = list(run.modes)
    width = 0.8 / len(modes)
    xs = range(len(CHART_METRICS))
    for i, mode in enumerate(modes):
        values = [M.lookup(run.modes[mode].metrics, name) for _, name in CHART_METRICS]
        offsets = [x - 0.4 + width * (i + 0.5) for x in xs]
        bars = ax.bar(offsets, [v or 0 for v in values], width, label=mode, color=COLORS.get(mode))
        for bar, v in zip(bars, values):
            ax.annotate(
                "n/a" if v is None else f"{v:.2f}",
                (bar.get_x() + bar.get_width() / 2, (v or 0) + 0.01),
                ha="center", va="bottom", fontsize=7, rotation=90 if len(modes) > 2 else 0,
            )  # fmt: skip
    ax.set_xticks(list(xs), [label for label, _ in CHART_METRICS], rotation=20)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(f"Quality per retriever ({len(run.items)} questions)")
    ax.legend(loc="upper center", ncols=len(modes), fontsize=9, frameon=False)


def _latency_boxes(ax: Any, run: EvalRun) -> None:
    """Per-question latency of every stage as box plots, one colour per retriever, on a log scale."""
    modes = list(run.modes)
    stages = [s for s in run.modes[modes[0]].metrics["latency"]]
    box_width = 0.8 / len(modes)
    handles = []
    for i, mode in enumerate(modes):
        data, positions = [], []
        for j, stage in enumerate(stages):
            values = [o.timings[stage] for o in run.modes[mode].outcomes if stage in o.timings]
            if values:
                data.append([max(v, 0.01) for v in values])
                positions.append(j - 0.4 + box_width * (i + 0.5))
        if not data:
            continue
        box = ax.boxplot(
            data, positions=positions, widths=box_width * 0.85, patch_artist=True, showfliers=True,
            flierprops={"markersize": 3, "alpha": 0.5}, medianprops={"color": "black"},
        )  # fmt: skip
        for patch in box["boxes"]:
            patch.set_facecolor(COLORS.get(mode, "#999999"))
            patch.set_alpha(0.8)
        handles.append(box["boxes"][0])
    ax.set_yscale("log")
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylabel("milliseconds (log scale)")
    ax.grid(axis="y", which="both", alpha=0.25)
    ax.set_title("Latency per stage, per question")
    if handles:
        ax.legend(handles, modes, loc="upper left", fontsize=8, frameon=False)
