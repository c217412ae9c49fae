"""Tests for `rag eval`: the gold loader, the gate logic, and the command end to end.

The end-to-end tests (marked slow) run the real pipeline with the answer
model on a temporary index, so the repository's own index is never touched.
`test_gate_passes_on_dev_set` is the quality gate CI runs (`make test`):
the full dev set against the checked-in baseline eval/baseline.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rag.core.errors import BaselineError, GoldError
from rag.core.settings import Settings
from rag.eval import metrics as M
from rag.eval.evaluation import (
    GATED,
    EvalRun,
    ModeResult,
    QuestionResult,
    check_gate,
    index_dir_for,
    load_baseline,
    write_baseline,
)
from rag.eval.gold import Evidence, GoldItem, load_gold

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "corpus"
DEV = ROOT / "data" / "gold" / "dev.jsonl"
BASELINE = ROOT / "eval" / "baseline.json"
CONTRACT_FIELDS = {"question", "answer", "abstained", "citations", "retrieved", "timings"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- gold files


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dev_gold_loads():
    items = load_gold(DEV)
    assert len(items) == 45
    assert {i.kind for i in items} >= {"fact", "date", "number", "list", "unanswerable"}
    assert all(i.evidence for i in items if i.answerable)


def test_gold_defaults_for_user_files(tmp_path):
    path = write_lines(
        tmp_path / "g.jsonl",
        '{"question": "Who?", "answers": ["Ann"], "answerable": true}',
        "",
        '{"question": "What?", "answers": [], "answerable": false}',
    )
    first, second = load_gold(path)
    assert (first.id, first.kind, first.match, first.evidence) == ("q1", "fact", "any", ())
    assert (second.id, second.kind) == ("q3", "unanswerable")


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"question": "Who?", "answers": ["A"]', "line 2: bad JSON"),
        ('{"answers": ["A"], "answerable": true}', "line 2: missing field 'question'"),
        ('{"question": "Who?", "answers": [], "answerable": true}', "needs at least one string"),
        ('{"question": "Who?", "answers": ["A"], "answerable": true, "match": "some"}', "'match'"),
        ('{"question": "Who?", "answers": ["A"], "answerable": true, "evidence": [{"doc": "d"}]}', "'quote'"),
        ('{"id": "a", "question": "Who?", "answers": ["A"], "answerable": true}', "duplicate id 'a'"),
    ],
)
def test_gold_errors_are_one_line_and_name_the_line(tmp_path, line, message):
    path = write_lines(tmp_path / "g.jsonl", '{"id": "a", "question": "Q", "answers": ["A"], "answerable": true}', line)
    with pytest.raises(GoldError) as info:
        load_gold(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_gold_missing_file(tmp_path):
    with pytest.raises(GoldError, match="does not exist"):
        load_gold(tmp_path / "nope.jsonl")


# ---------------------------------------------------------------- gate logic (no model)


def fake_run(outcomes: list[M.Outcome], gold: Path = DEV, mode: str = "hybrid") -> EvalRun:
    items = [GoldItem(id=o.id, question="q", answers=("a",), evidence=(Evidence("d", "a"),)) for o in outcomes]
    rows = [QuestionResult(item, mode, o, "a", {}) for item, o in zip(items, outcomes)]
    result = ModeResult(mode, rows, M.aggregate(outcomes), {})
    return EvalRun(str(gold), "c", "i", items, {mode: result}, {}, 10, {}, "now", 0.0)


def good(i: int, rank: int | None = 1, correct: bool = True) -> M.Outcome:
    return M.Outcome(f"q{i}", "fact", True, False, correct, [rank], 1, 1, True)


def test_gate_passes_within_tolerance_and_fails_below(tmp_path):
    path = tmp_path / "baseline.json"
    write_baseline(fake_run([good(i) for i in range(40)]), path)
    baseline = load_baseline(path)
    assert set(baseline["gated"]) == set(GATED)
    assert baseline["gated"]["retrieval.hit@5"] == {"value": 1.0, "tolerance": GATED["retrieval.hit@5"]}

    one_miss = [good(0, rank=None)] + [good(i) for i in range(1, 40)]  # hit@5 0.975: within 0.03
    assert check_gate(baseline, fake_run(one_miss)).passed

    broken = [good(i, rank=None, correct=False) for i in range(40)]
    result = check_gate(baseline, fake_run(broken))
    assert not result.passed
    assert any(f.startswith("retrieval.hit@5 = 0.000") for f in result.failures)
    assert any(f.startswith("answers.accuracy") for f in result.failures)


def test_gate_recomputes_baseline_on_a_subset(tmp_path):
    path = tmp_path / "baseline.json"
    outcomes = [good(0), good(1)] + [good(i, rank=None) for i in range(2, 10)]  # hit@5 = 0.2 overall
    write_baseline(fake_run(outcomes), path)
    baseline = load_baseline(path)
    # the first two questions alone had hit@5 = 1.0: losing one of them must fail
    result = check_gate(baseline, fake_run([good(0), good(1, rank=None)]))
    assert result.notes and "2 questions" in result.notes[0]
    assert not result.passed


def test_write_baseline_keeps_chosen_tolerances(tmp_path):
    path = tmp_path / "baseline.json"
    write_baseline(fake_run([good(0)]), path)
    data = json.loads(path.read_text())
    data["gated"]["answers.accuracy"]["tolerance"] = 0.2
    path.write_text(json.dumps(data))
    write_baseline(fake_run([good(0)]), path)
    assert json.loads(path.read_text())["gated"]["answers.accuracy"]["tolerance"] == 0.2


def test_gate_needs_the_baselines_retriever(tmp_path):
    path = tmp_path / "baseline.json"
    write_baseline(fake_run([good(0)]), path)
    with pytest.raises(BaselineError, match="--retriever hybrid"):
        check_gate(load_baseline(path), fake_run([good(0)], mode="bm25"))


def test_bad_baseline_file(tmp_path):
    with pytest.raises(BaselineError, match="does not exist"):
        load_baseline(tmp_path / "none.json")
    (tmp_path / "b.json").write_text('{"gated": {"answers.accuracy": {"value": 1}}}')
    with pytest.raises(BaselineError, match="tolerance"):
        load_baseline(tmp_path / "b.json")


def test_checked_in_baseline_is_valid():
    baseline = load_baseline(BASELINE)
    assert set(baseline["gated"]) == set(GATED)
    assert baseline["n_questions"] == len(load_gold(DEV))
    assert all(0 <= e["tolerance"] < 0.5 for e in baseline["gated"].values())


def test_other_collection_gets_its_own_index(tmp_path):
    configured = Settings()
    other = tmp_path / "docs"
    chosen = index_dir_for(configured, other, configured)
    assert chosen != configured.index_dir and other.name in chosen.name
    assert index_dir_for(configured, configured.collection, configured) == configured.index_dir
    explicit = configured.with_overrides(index_dir=tmp_path / "idx")
    assert index_dir_for(explicit, other, explicit) == tmp_path / "idx"


# ---------------------------------------------------------------- end to end (real model)


def rag(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """`rag ARGS` in a subprocess with the built-in defaults: no RAG_* variables, an empty
    config file, and a scratch working directory (so no ./rag.toml is picked up)."""
    scratch = Path(tempfile.mkdtemp(prefix="rag-eval-test-"))
    empty = scratch / "empty.toml"
    empty.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_CONFIG=str(empty),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        XDG_CACHE_HOME=str(scratch / "cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    try:
        return subprocess.run(
            [sys.executable, "-m", "rag.serve.cli", *args],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def dev_index(tmp_path_factory) -> Path:
    """An index of the dev collection in a temporary folder, built once."""
    from rag.ingestion.indexer import ingest

    index_dir = tmp_path_factory.mktemp("dev-index")
    ingest(Settings().with_overrides(index_dir=index_dir), CORPUS)
    return index_dir


UNRELATED = [
    "Tomatoes grow best in warm soil with plenty of sunshine and regular watering through the summer.",
    "A sourdough starter needs flour, water and patience; feed it daily and keep it in a warm kitchen.",
    "Migratory birds follow coastlines and river valleys, resting in wetlands on their long journeys south.",
    "The recipe calls for two cups of rice, a pinch of saffron and a slow simmer until the liquid is gone.",
    "Compost heaps work faster when green clippings and brown leaves are mixed and turned every week.",
]


@pytest.fixture
def broken_collection(tmp_path) -> Path:
    """The dev collection's file names, with every document replaced by unrelated text."""
    folder = tmp_path / "broken"
    folder.mkdir()
    for n, source in enumerate(sorted(CORPUS.glob("*.txt"))):
        body = "\n\n".join(UNRELATED[(n + i) % len(UNRELATED)] * 2 for i in range(4))
        (folder / source.name).write_text(f"Notes from the garden {n}\n\n{body}\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_eval_end_to_end_writes_reports_and_predictions(dev_index, tmp_path):
    report, predictions = tmp_path / "report", tmp_path / "pred.jsonl"
    done = rag("--index-dir", str(dev_index), "eval", "--retriever", "bm25", "--limit", "5",
               "--report", str(report), "--predictions", str(predictions))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "hit@5" in done.stdout and "accuracy" in done.stdout

    for name in ("report.json", "report.md", "report.png"):
        assert (report / name).is_file(), name
    png = (report / "report.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000
    data = json.loads((report / "report.json").read_text())
    assert data["retrievers"] == ["bm25"] and data["n_questions"] == 5
    assert len(data["questions"]["bm25"]) == 5
    assert 0 <= data["metrics"]["bm25"]["retrieval"]["hit@5"] <= 1
    markdown = (report / "report.md").read_text()
    assert "## Failures" in markdown and "report.png" in markdown

    gold_ids = [item.id for item in load_gold(DEV)[:5]]
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [r["id"] for r in rows] == gold_ids
    for row in rows:
        assert CONTRACT_FIELDS <= set(row) and row["retriever"] == "bm25"
        assert row["retrieved"] and {"doc", "start", "end", "text", "score"} <= set(row["retrieved"][0])
        assert "total" in row["timings"]
        for c in row["citations"]:
            assert {"n", "doc", "title", "start", "end", "text", "support"} <= set(c)


@pytest.mark.slow
def test_gate_fails_for_a_broken_retriever(broken_collection, tmp_path):
    """Same gold questions, but the evidence documents now hold unrelated text:
    retrieval can find nothing, and the gate must say so and exit non-zero."""
    done = rag("--index-dir", str(tmp_path / "index"), "eval", "--collection", str(broken_collection),
               "--limit", "8", "--check", str(BASELINE), "--report", str(tmp_path / "report"))  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "quality gate failed: retrieval.hit@5 = 0.000" in done.stderr
    assert "quality gate passed" not in done.stdout
    gate = json.loads((tmp_path / "report" / "report.json").read_text())["gate"]
    assert gate["passed"] is False


def test_eval_reports_a_bad_gold_file_in_one_line(tmp_path):
    bad = write_lines(tmp_path / "bad.jsonl", '{"question": "Who?"}')
    done = rag("--index-dir", str(tmp_path / "index"), "eval", "--gold", str(bad), "--report", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {bad} line 1: missing field 'answers', 'answerable'"


def test_cli_help_lists_the_eval_options():
    done = rag("eval", "--help")
    assert done.returncode == 0
    for option in ("--gold", "--collection", "--retriever", "--predictions", "--report", "--check",
                   "--write-baseline", "--limit"):  # fmt: skip
        assert option in done.stdout


# ---------------------------------------------------------------- the session behind `rag eval` (no model)


def test_session_chooses_the_retrievers_the_gate_needs(tmp_path):
    from rag.core.errors import ConfigError
    from rag.eval.evaluation import ALL_MODES
    from rag.eval.session import choose_modes

    settings = Settings().with_overrides(retriever="bm25")
    baseline = {"retriever": "hybrid"}
    assert choose_modes(None, None, settings) == ["bm25"]
    assert choose_modes(None, baseline, settings) == ["hybrid"]
    assert choose_modes("all", baseline, settings) == list(ALL_MODES)
    assert choose_modes("dense", None, settings) == ["dense"]
    with pytest.raises(ConfigError, match="--retriever must be one of dense, bm25, hybrid or all, got 'grep'"):
        choose_modes("grep", None, settings)
    with pytest.raises(BaselineError, match="b.json was measured with the hybrid retriever; use --retriever hybrid"):
        choose_modes("bm25", baseline, settings, tmp_path / "b.json")


def test_session_writes_what_was_asked_and_warns_of_a_partial_baseline(tmp_path):
    from rag.eval.session import PARTIAL_BASELINE, EvalRequest, _write

    run = fake_run([good(i) for i in range(3)])
    request = EvalRequest(report_dir=tmp_path / "r", predictions=tmp_path / "p.jsonl",
                          write_baseline=tmp_path / "b.json", limit=3)  # fmt: skip
    written, warnings = _write(run, None, request)
    assert written == [tmp_path / "r" / n for n in ("report.json", "report.md", "report.png")] + [
        tmp_path / "p.jsonl", tmp_path / "b.json"]
    assert all(p.is_file() for p in written) and warnings == [PARTIAL_BASELINE]
    assert load_baseline(tmp_path / "b.json")["n_questions"] == 3
    written, warnings = _write(run, None, EvalRequest(report_dir=tmp_path / "s"))
    assert len(written) == 3 and warnings == []
