"""`rag eval --suite`: every development collection, a row each, each gated by its own baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.errors import ConfigError
from rag.eval.suite import load_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "eval" / "suite.toml"


def test_the_project_suite_lists_existing_collections_and_baselines():
    entries = load_suite(SUITE)
    assert {"news-dev", "news-probe", "papers-covidqa"} <= {e.name for e in entries}
    for entry in entries:
        assert entry.gold.is_file(), entry.gold
        assert entry.baseline is not None and entry.baseline.is_file(), entry.name
        assert entry.collection.is_dir() or entry.collection.parent.is_dir(), entry.collection


def test_a_held_out_collection_is_marked_and_the_fitted_ones_are_not(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[[collection]]\nname = "a"\ncollection = "c"\ngold = "g"\n'
                     '[[collection]]\nname = "b"\ncollection = "c"\ngold = "g"\nfit = false\n', encoding="utf-8")
    assert [(e.name, e.fit) for e in load_suite(suite)] == [("a", True), ("b", False)]


def test_paths_are_relative_to_the_suite_file(tmp_path):
    (tmp_path / "eval").mkdir()
    suite = tmp_path / "eval" / "s.toml"
    suite.write_text('[[collection]]\nname = "a"\ncollection = "../docs"\ngold = "g.jsonl"\n', encoding="utf-8")
    (entry,) = load_suite(suite)
    assert (entry.collection.resolve(), entry.gold, entry.baseline) == (
        tmp_path.resolve() / "docs", tmp_path.resolve() / "eval" / "g.jsonl", None)


@pytest.mark.parametrize(("body", "needle"), [
    ("", "lists no [[collection]]"),
    ("[[collection]]\nname = 'a'\ncollection = 'c'\n", "'gold' must be a non-empty string"),
    ("[[collection]]\nname = 'a b'\ncollection = 'c'\ngold = 'g'\n", "must be letters, digits"),
    ("[[collection]]\nname = 'a'\ncollection = 'c'\ngold = 'g'\ncolour = 1\n", "unknown key 'colour'"),
    ("[[collection]]\nname = 'a'\ncollection = 'c'\ngold = 'g'\nfit = 'no'\n", "'fit' must be true or false"),
    ("[[collection]]\nname = 'a'\ncollection = 'c'\ngold = 'g'\n" * 2, "names must be unique"),
    ("[[collection]\n", "suite"),
])
def test_a_bad_suite_is_one_config_error_line(tmp_path, body, needle):
    suite = tmp_path / "s.toml"
    suite.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_suite(suite)
    assert needle in caught.value.message and "\n" not in caught.value.message


def test_suite_refuses_per_collection_options(tmp_path):
    from test_eval import rag

    done = rag("eval", "--suite", str(SUITE), "--gold", "x.jsonl", "--report", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --suite takes each collection's own settings; drop --gold"


@pytest.mark.slow
def test_every_development_collection_passes_its_gate(tmp_path):
    """The CI quality gate: each collection of eval/suite.toml against its own baseline, a row each."""
    from test_eval import rag

    report = tmp_path / "r"
    done = rag("--index-dir", str(tmp_path / "idx"), "eval", "--suite", str(SUITE), "--report", str(report),
               timeout=2400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (report / "suite.md").read_text(encoding="utf-8").splitlines()
    names = [e.name for e in load_suite(SUITE)]
    assert [row.split(" | ")[0].lstrip("| ") for row in table[2:]] == names
    assert all(row.rstrip(" |").endswith("passed") for row in table[2:]), table
    for name in names:
        assert (report / name / "report.json").is_file()


@pytest.mark.slow
def test_write_baselines_writes_each_collections_baseline_from_its_run(tmp_path):
    from test_eval import rag

    from rag.eval.evaluation import load_baseline

    suite = tmp_path / "suite.toml"
    suite.write_text(
        f'[[collection]]\nname = "news"\ncollection = "{ROOT / "data" / "corpus"}"\n'
        f'gold = "{ROOT / "data" / "gold" / "dev.jsonl"}"\nbaseline = "news.json"\n',
        encoding="utf-8",
    )
    done = rag("--index-dir", str(tmp_path / "idx"), "eval", "--suite", str(suite), "--limit", "2",
               "--report", str(tmp_path / "r"), "--write-baselines", timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    baseline = load_baseline(tmp_path / "news.json")
    assert baseline["n_questions"] == 2 and set(baseline["gated"]) >= {"answers.accuracy"}
    lone = rag("eval", "--write-baselines", "--report", str(tmp_path / "r2"))
    assert lone.returncode == 2 and "--write-baselines goes with --suite" in lone.stderr
