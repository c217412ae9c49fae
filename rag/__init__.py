"""rag: offline question answering over a folder of documents, with cited passages.

The public API, for use from Python:

    from rag import Pipeline, Settings, ingest, load_settings
    settings = load_settings()          # defaults < config file < RAG_* environment
    ingest(settings)                    # index settings.collection into settings.index_dir
    answer = Pipeline(settings).ask("When did Chinese troops arrive in Belarus?")

`evaluate` scores the pipeline against a gold QA set (see docs/evaluation.md).
Every failure a user can act on is a `RagError` with a one-line message.

The names are imported on first use, so `import rag` (and the CLI's start)
stays fast and loads no model, FAISS or llama.cpp until asked.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("rag")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "Pipeline": "rag.answer.pipeline",
    "Settings": "rag.core.settings",
    "load_settings": "rag.core.settings",
    "RagError": "rag.core.errors",
    "ingest": "rag.ingestion.indexer",
    "evaluate": "rag.eval.evaluation",
}
__all__ = ["Pipeline", "RagError", "Settings", "__version__", "evaluate", "ingest", "load_settings"]

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline
    from rag.core.errors import RagError
    from rag.core.settings import Settings, load_settings
    from rag.eval.evaluation import evaluate
    from rag.ingestion.indexer import ingest


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
