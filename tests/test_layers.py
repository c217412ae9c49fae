"""The package's layering, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rag", tmp_path / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_back_import_breaks_the_layers(package_copy: Path):
    """The index importing the web UI is exactly what the layers forbid."""
    store = package_copy / "rag" / "index" / "store.py"
    store.write_text(store.read_text() + "\nfrom rag.serve import render  # noqa: E402\n")
    result = _lint(package_copy)
    assert result.returncode == 1
    assert "stages import downwards" in result.stdout and "BROKEN" in result.stdout
    assert "rag.index.store -> rag.serve.render" in result.stdout


def test_a_cycle_between_siblings_breaks_the_contract(package_copy: Path):
    """Two index modules importing each other: the layers still hold, the acyclic contract does not."""
    pg_local = package_copy / "rag" / "index" / "pg_local.py"
    pg_local.write_text(pg_local.read_text() + "\nfrom rag.index import pg_store  # noqa: E402\n")
    result = _lint(package_copy)
    assert result.returncode == 1
    assert "no import cycles among siblings at any depth BROKEN" in result.stdout
