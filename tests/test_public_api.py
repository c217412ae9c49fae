"""`rag`'s top-level names: the public API, imported only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import rag


def test_the_exports_are_the_real_objects():
    from rag.answer.pipeline import Pipeline
    from rag.core.errors import RagError
    from rag.core.settings import Settings, load_settings
    from rag.eval.evaluation import evaluate
    from rag.ingestion.indexer import ingest

    assert (rag.Pipeline, rag.Settings, rag.load_settings, rag.RagError, rag.ingest, rag.evaluate) == (
        Pipeline, Settings, load_settings, RagError, ingest, evaluate)
    assert callable(rag.ingest) and callable(rag.evaluate)
    assert set(rag.__all__) <= set(dir(rag))


def test_the_version_is_the_installed_distribution():
    from importlib.metadata import version

    assert rag.__version__ == version("rag")


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rag.nope  # noqa: B018


def test_import_rag_loads_no_heavy_library():
    code = ("import sys, rag; heavy = [m for m in ('llama_cpp', 'faiss', 'torch', 'gradio', 'numpy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
