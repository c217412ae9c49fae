"""One `rag eval` run, start to finish, without a terminal.

    result = run_session(settings, EvalRequest(retriever="all", check=Path("eval/baseline.json")))

Loads the gold set (and the gate's baseline), picks the retrievers, brings
the collection's index up to date, evaluates, checks the gate and writes
the report files, the predictions and the baseline. The caller shows the
progress (`SessionProgress`) and prints the result; `rag eval` is such a
caller, and nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.errors import BaselineError, ConfigError
from rag.core.settings import RETRIEVERS, Settings
from rag.eval.evaluation import (
    ALL_MODES,
    EvalRun,
    GateResult,
    check_gate,
    evaluate,
    index_dir_for,
    load_baseline,
    prepare_index,
    write_baseline,
    write_predictions,
)
from rag.eval.gold import load_gold
from rag.eval.report import write_reports

if TYPE_CHECKING:
    from rag.ingestion.indexer import IngestReport

PARTIAL_BASELINE = "the baseline comes from a partial run (--limit)"


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate and what to write; None keeps the configured value or skips the file."""

    gold: Path | None = None
    collection: Path | None = None
    retriever: str | None = None  # a retriever, "all", or None: the baseline's, else the configured one
    predictions: Path | None = None
    report_dir: Path = Path("reports/eval")
    check: Path | None = None  # the baseline the quality gate compares with
    write_baseline: Path | None = None
    limit: int | None = None  # only the first N gold questions


@dataclass(frozen=True)
class SessionProgress:
    """How a caller follows the run: a progress context per stage, and the index report when it is ready.

    `indexing()` yields an ingest progress (rag.ingestion.indexer.Progress) or None,
    `evaluating()` an evaluation progress (rag.eval.evaluation.Progress) or None.
    """

    indexing: Callable[[], AbstractContextManager[Any]] = nullcontext
    indexed: Callable[[IngestReport, Settings], None] = lambda report, settings: None
    evaluating: Callable[[], AbstractContextManager[Any]] = nullcontext


@dataclass(frozen=True)
class EvalResult:
    run: EvalRun
    gate: GateResult | None  # None without a baseline to check
    written: tuple[Path, ...]  # every file written, reports first
    warnings: tuple[str, ...]  # about the run as a whole (gold-file warnings are in run.warnings)


def run_session(configured: Settings, request: EvalRequest, progress: SessionProgress | None = None) -> EvalResult:
    """Evaluate as `request` asks under the `configured` settings; a bad gold file, baseline or option raises."""
    progress = progress or SessionProgress()
    settings = configured.with_overrides(gold=request.gold, collection=request.collection)
    items = load_gold(settings.gold)[: request.limit]
    baseline = load_baseline(request.check) if request.check is not None else None
    modes = choose_modes(request.retriever, baseline, settings, request.check)
    settings = settings.with_overrides(index_dir=index_dir_for(settings, settings.collection, configured))
    with progress.indexing() as bar:
        indexed = prepare_index(settings, settings.collection, progress=bar)
    progress.indexed(indexed, settings)
    with progress.evaluating() as bar:
        run = evaluate(settings, items, modes, bar, gold_path=settings.gold, build_index=False)
    gate = check_gate(baseline, run) if baseline is not None else None
    written, warnings = _write(run, gate, request)
    return EvalResult(run, gate, tuple(written), tuple(warnings))


def choose_modes(retriever: str | None, baseline: dict[str, Any] | None, settings: Settings,
                 baseline_path: Path | None = None) -> list[str]:
    """The retrievers to evaluate; the gate's baseline must be among them."""
    wanted = baseline.get("retriever", "hybrid") if baseline else None
    if retriever is None:
        modes = [wanted or settings.retriever]
    elif retriever == "all":
        modes = list(ALL_MODES)
    elif retriever in RETRIEVERS:
        modes = [retriever]
    else:
        raise ConfigError(f"--retriever must be one of {', '.join(RETRIEVERS)} or all, got {retriever!r}")
    if wanted is not None and wanted not in modes:
        raise BaselineError(f"{baseline_path} was measured with the {wanted} retriever; use --retriever {wanted} or all")
    return modes


def _write(run: EvalRun, gate: GateResult | None, request: EvalRequest) -> tuple[list[Path], list[str]]:
    """The reports, then the predictions and the baseline when asked for: (paths written, warnings)."""
    written = write_reports(run, request.report_dir, gate)
    warnings = []
    if request.predictions is not None:
        write_predictions(run, request.predictions)
        written.append(request.predictions)
    if request.write_baseline is not None:
        if request.limit is not None:
            warnings.append(PARTIAL_BASELINE)
        write_baseline(run, request.write_baseline)
        written.append(request.write_baseline)
    return written, warnings
