"""Offline evaluation: run the real pipeline over a gold set and score it.

    run = evaluate(settings, load_gold(path), ["dense", "bm25", "hybrid"], progress)

For every retriever mode and every gold question this makes two calls:

* `pipeline.retrieve(question, mode, depth)` with depth = max(top_k, 10),
  for the retrieval metrics, so they do not depend on the answer path's top_k;
* `pipeline.ask(question, retriever=mode)`, the exact `rag ask` path, for the
  answer, citation and latency metrics and for the predictions file.

The quality gate (`check_gate`) compares a run with a checked-in baseline
(`write_baseline`); see docs/evaluation.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from rag.core.contract import answer_to_json
from rag.core.errors import BaselineError, QuestionError
from rag.core.settings import Settings
from rag.eval import metrics as M
from rag.eval.gold import GoldItem, kind_order

ALL_MODES = ("dense", "bm25", "hybrid")
MIN_DEPTH = 10

# The gated metrics and their default tolerances (absolute: the gate fails when
# the current value is more than `tolerance` below the baseline value).
GATED: dict[str, float] = {
    "retrieval.hit@5": 0.03,
    "answers.accuracy": 0.05,
    "answers.f1": 0.05,
    "answers.abstention": 0.10,
    "citations.precision": 0.05,
}

# Metrics whose hybrid-minus-single-retriever differences are reported as the gain of hybrid.
GAIN_METRICS = (
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.hit@10",
    "retrieval.recall@5",
    "retrieval.mrr",
    "retrieval.ndcg@5",
    "answers.accuracy",
    "answers.abstention",
    "answers.false_abstention",
    "citations.precision",
    "citations.recall",
)


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, description: str) -> None: ...


class _Silent:
    def start(self, total: int) -> None: ...
    def advance(self, description: str) -> None: ...


# ---------------------------------------------------------------- results


@dataclass
class QuestionResult:
    item: GoldItem
    mode: str
    outcome: M.Outcome
    answer: str
    prediction: dict[str, Any]  # the `rag ask --json` object plus "id" and "retriever"
    error: str | None = None  # a QuestionError message, when the question could not be asked

    def record(self) -> dict[str, Any]:
        """The per-question row of report.json."""
        o = self.outcome
        return {
            "id": self.item.id,
            "kind": self.item.kind,
            "question": self.item.question,
            "expected": list(self.item.answers),
            "match": self.item.match,
            "answerable": self.item.answerable,
            "answer": self.answer,
            "abstained": o.abstained,
            "correct": o.correct,
            "ok": o.ok,
            "evidence_rank": o.evidence_rank,
            "quote_ranks": o.quote_ranks,
            "citations": o.n_citations,
            "relevant_citations": o.n_relevant_citations,
            "cites_evidence": o.cites_evidence,
            "words": o.words,
            "timings": o.timings,
            "error": self.error,
        }


@dataclass
class ModeResult:
    mode: str
    results: list[QuestionResult]
    metrics: dict[str, Any]
    per_kind: dict[str, dict[str, Any]]

    @property
    def outcomes(self) -> list[M.Outcome]:
        return [r.outcome for r in self.results]

    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.outcome.ok]


@dataclass
class EvalRun:
    gold: str
    collection: str
    index_dir: str
    items: list[GoldItem]
    modes: dict[str, ModeResult]
    gains: dict[str, dict[str, float]]
    depth: int
    settings: dict[str, Any]
    started: str
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def primary(self) -> str:
        """The mode the gate and the baseline use: hybrid when it ran, else the first."""
        return "hybrid" if "hybrid" in self.modes else next(iter(self.modes))

    def to_json(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "gold_sha256": file_sha256(self.gold),
            "collection": self.collection,
            "index_dir": self.index_dir,
            "n_questions": len(self.items),
            "retrievers": list(self.modes),
            "retrieval_depth": self.depth,
            "started": self.started,
            "seconds": round(self.seconds, 2),
            "settings": self.settings,
            "metrics": {m: r.metrics for m, r in self.modes.items()},
            "per_kind": {m: r.per_kind for m, r in self.modes.items()},
            "gain_of_hybrid": self.gains,
            "questions": {m: [q.record() for q in r.results] for m, r in self.modes.items()},
            "warnings": self.warnings,
        }


# ---------------------------------------------------------------- the index to evaluate against


def index_dir_for(settings: Settings, collection: Path, configured: Settings) -> Path:
    """Where the index of `collection` lives during an evaluation.

    The configured collection uses the configured index. Another collection
    uses the configured index only if the user chose that index explicitly
    (--index-dir, RAG_INDEX_DIR, config file); with the built-in default
    index it gets its own cache directory instead, so evaluating a user's
    folder never overwrites the default index:
    $XDG_CACHE_HOME/rag/eval-index/<folder name>-<hash of its absolute path>.
    """
    if _same_path(collection, configured.collection) or settings.index_dir != Settings().index_dir:
        return settings.index_dir
    resolved = Path(collection).expanduser().resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "rag" / "eval-index" / f"{resolved.name or 'collection'}-{key}"


def _same_path(a: Path, b: Path) -> bool:
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return False


def prepare_index(settings: Settings, collection: Path, progress=None):
    """Build or update the index of `collection` in settings.index_dir (incremental; fast when current)."""
    from rag.ingestion.indexer import ingest

    return ingest(settings, collection, progress=progress)


# ---------------------------------------------------------------- running


def evaluate(
    settings: Settings,
    gold_items: Sequence[GoldItem],
    retriever_modes: Sequence[str],
    progress: Progress | None = None,
    *,
    gold_path: str | Path | None = None,
    build_index: bool = True,
    pipeline=None,
) -> EvalRun:
    """Run every gold question through the pipeline once per retriever mode and score it."""
    from rag.answer.pipeline import Pipeline

    started = datetime.now(UTC)
    clock = time.perf_counter()
    progress = progress or _Silent()
    modes = [m for m in ALL_MODES if m in retriever_modes] or list(retriever_modes)
    if build_index and pipeline is None:
        prepare_index(settings, settings.collection)
    pipeline = pipeline or Pipeline(settings)
    documents = pipeline.index.documents
    depth = max(settings.top_k, MIN_DEPTH)

    # Load the answer model and warm the embedder now, so the first question's
    # latency is not the model load.
    _ = pipeline.generator
    pipeline.retrieve("warm up", modes[0], 1)

    progress.start(len(gold_items) * len(modes))
    results = {mode: _run_mode(pipeline, gold_items, mode, depth, documents, progress) for mode in modes}

    from rag.eval.gold import evidence_warnings

    return EvalRun(
        gold=str(gold_path or settings.gold),
        collection=str(settings.collection),
        index_dir=str(settings.index_dir),
        items=list(gold_items),
        modes=results,
        gains=gains(results),
        depth=depth,
        settings=_settings_snapshot(settings),
        started=started.isoformat(timespec="seconds"),
        seconds=time.perf_counter() - clock,
        warnings=evidence_warnings(gold_items, documents),
    )


def _run_mode(pipeline, gold_items: Sequence[GoldItem], mode: str, depth: int, documents,
              progress: Progress) -> ModeResult:
    """Every gold question with one retriever, scored overall and per kind."""
    ks = tuple(k for k in M.HIT_KS if k <= depth)
    rows = []
    for item in gold_items:
        rows.append(_one(pipeline, item, mode, depth, documents))
        progress.advance(f"{mode} {item.id}")
    outcomes = [r.outcome for r in rows]
    per_kind = {
        kind: M.aggregate([o for o in outcomes if o.kind == kind], ks) for kind in kind_order(o.kind for o in outcomes)
    }
    return ModeResult(mode, rows, M.aggregate(outcomes, ks), per_kind)


def _one(pipeline, item: GoldItem, mode: str, depth: int, documents) -> QuestionResult:
    """One question: retrieval for the retrieval metrics, then the `rag ask` path for the rest."""
    try:
        hits = pipeline.retrieve(pipeline.check_question(item.question), mode, depth)
        answer = pipeline.ask(item.question, retriever=mode)
    except QuestionError as exc:
        outcome = M.score_question(item, [], "", True, [])
        prediction = {"id": item.id, "question": item.question, "answer": "", "abstained": True,
                      "citations": [], "retrieved": [], "timings": {}, "retriever": mode, "error": str(exc)}  # fmt: skip
        return QuestionResult(item, mode, outcome, "", prediction, error=str(exc))
    outcome = M.score_question(
        item,
        [h.chunk.text for h in hits],
        answer.answer,
        answer.abstained,
        [c.text for c in answer.citations],
        answer.timings,
    )
    prediction = {"id": item.id, **answer_to_json(answer, documents), "retriever": mode}
    return QuestionResult(item, mode, outcome, answer.answer, prediction)


def gains(results: dict[str, ModeResult]) -> dict[str, dict[str, float]]:
    """hybrid minus each single retriever, per metric (positive: hybrid is better)."""
    if "hybrid" not in results:
        return {}
    out = {}
    for base in ("dense", "bm25"):
        if base not in results:
            continue
        diff = {}
        for name in GAIN_METRICS:
            h, b = M.lookup(results["hybrid"].metrics, name), M.lookup(results[base].metrics, name)
            if h is not None and b is not None:
                diff[name] = round(h - b, 6)
        out[f"hybrid-{base}"] = diff
    return out


def _settings_snapshot(settings: Settings) -> dict[str, Any]:
    keep = ("retriever", "top_k", "candidates", "rrf_k", "rerank_depth", "rerank_prior", "embedding_model",
            "chunk_tokens", "chunk_overlap", "model", "n_ctx", "max_answer_tokens", "temperature", "seed",
            "context_passages", "extract_sentences", "abstain_threshold", "selector", "draft", "model_score",
            "constraints")  # fmt: skip
    data = settings.as_dict()
    return {k: data[k] for k in keep if k in data}


def write_predictions(run: EvalRun, path: Path) -> None:
    """One JSON object per line: the `rag ask --json` contract plus "id" and "retriever"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for result in run.modes.values():
            for q in result.results:
                fh.write(json.dumps(q.prediction, ensure_ascii=False) + "\n")


def file_sha256(path: str | Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- baseline and gate


def write_baseline(run: EvalRun, path: Path, mode: str | None = None) -> dict[str, Any]:
    """Write the run's metrics for `mode` (default: the primary mode) as a gate baseline.

    Tolerances already in an existing file at `path` are kept, so regenerating
    the numbers does not reset a tolerance someone chose on purpose.
    """
    mode = mode or run.primary
    result = run.modes[mode]
    tolerances = dict(GATED)
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            for name, entry in old.get("gated", {}).items():
                if name in tolerances and isinstance(entry, dict) and "tolerance" in entry:
                    tolerances[name] = float(entry["tolerance"])
        except (OSError, ValueError, TypeError, AttributeError):
            pass
    baseline = {
        "about": (
            "Quality-gate baseline for `rag eval --check`: the gate fails (exit 3) when a gated metric "
            "is more than its tolerance (absolute, on the 0-1 scale) below its value here. "
            "Regenerate with `rag eval --write-baseline eval/baseline.json`; see docs/evaluation.md."
        ),
        "retriever": mode,
        "gold": _relative(run.gold),
        "gold_sha256": file_sha256(run.gold),
        "n_questions": len(run.items),
        "created": run.started,
        "settings": run.settings,
        "gated": {
            name: {"value": _round(M.lookup(result.metrics, name)), "tolerance": tolerances[name]}
            for name in GATED
        },
        "metrics": {k: v for k, v in result.metrics.items() if k != "latency"},
        "questions": [{k: v for k, v in o.as_dict().items() if k != "timings"} for o in result.outcomes],
    }
    # one line per question, so a regenerated baseline diffs question by question
    text = json.dumps({**baseline, "questions": "@questions@"}, indent=2, ensure_ascii=False)
    rows = ",\n".join("    " + json.dumps(q, ensure_ascii=False) for q in baseline["questions"])
    text = text.replace('"@questions@"', f"[\n{rows}\n  ]" if rows else "[]")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return baseline


def load_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BaselineError(f"baseline {path} does not exist (write one with `rag eval --write-baseline {path}`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    gated = data.get("gated") if isinstance(data, dict) else None
    if not isinstance(gated, dict) or not gated:
        raise BaselineError(f"baseline {path} has no \"gated\" metrics")
    for name, entry in gated.items():
        if not isinstance(entry, dict) or "value" not in entry or "tolerance" not in entry:
            raise BaselineError(f"baseline {path}: gated metric {name!r} needs \"value\" and \"tolerance\"")
    if data.get("retriever", "hybrid") not in ALL_MODES:
        raise BaselineError(f"baseline {path}: unknown retriever {data.get('retriever')!r}")
    return data


@dataclass
class GateResult:
    mode: str
    rows: list[tuple[str, float | None, float | None, float, bool]]  # metric, current, baseline, tolerance, ok
    failures: list[str]
    notes: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def check_gate(baseline: dict[str, Any], run: EvalRun) -> GateResult:
    """Compare the run's metrics for the baseline's retriever with the baseline.

    When the run covers only some of the baseline's questions (`--limit`), the
    baseline values are recomputed on those questions from the per-question
    outcomes stored in the baseline, so a partial run is compared like for like.
    """
    mode = baseline.get("retriever", "hybrid")
    if mode not in run.modes:
        raise BaselineError(
            f"the baseline was measured with the {mode} retriever; run with --retriever {mode} or all"
        )
    current = run.modes[mode].metrics
    reference = {name: entry["value"] for name, entry in baseline["gated"].items()}
    notes = []
    stored = {q.get("id"): q for q in baseline.get("questions", []) if isinstance(q, dict)}
    run_ids = [item.id for item in run.items]
    if stored and set(run_ids) < set(stored):
        subset = M.aggregate([M.Outcome.from_dict(stored[i]) for i in run_ids])
        reference = {name: M.lookup(subset, name) for name in reference}
        notes.append(f"baseline recomputed on the {len(run_ids)} questions of this run")
    elif baseline.get("gold_sha256") and baseline.get("gold_sha256") != file_sha256(run.gold):
        notes.append("the gold file differs from the baseline's; comparing against its totals")
    rows, failures = [], []
    for name, entry in baseline["gated"].items():
        tolerance = float(entry["tolerance"])
        base, now = reference[name], M.lookup(current, name)
        if base is None:
            rows.append((name, now, base, tolerance, True))
            continue
        ok = now is not None and now >= float(base) - tolerance - 1e-9
        rows.append((name, now, base, tolerance, ok))
        if not ok and now is None:
            failures.append(f"{name} is undefined in this run, the baseline has {float(base):.3f} ({mode})")
        elif not ok:
            failures.append(
                f"{name} = {now:.3f}, more than {tolerance:.3f} below the baseline {float(base):.3f} ({mode})"
            )
    return GateResult(mode, rows, failures, notes)


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _relative(path: str | Path) -> str:
    from rag.core.settings import PROJECT_ROOT

    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
