"""Shared fixtures: the real embedder, small real collections, one shared index, the CLI.

Everything here is real: the packaged MiniLM model, FAISS, bm25s, the `rag`
command line in a subprocess. Nothing is downloaded (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import ROOT, clean_env, free_port, running  # noqa: F401 - re-exported for the tests

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CORPUS = ROOT / "data" / "corpus"
# The three smallest articles of the corpus: enough for added/changed/removed/unchanged.
TINY_DOCS = ("000_9c9ac89b68401338.txt", "002_bcd94f8d70de6957.txt", "003_096012cda1bf5463.txt")
EXTRA_DOC = "001_bdcb0c2d230817f0.txt"  # added by incremental tests

# Runs the CLI with some top-level packages made invisible, the way an uninstalled package
# is: the path finder no longer finds them, so both `import` and `importlib.util.find_spec`
# behave exactly as if the wheel had never been installed. RAG_TEST_HIDE lists them.
HIDE_AND_RUN_CLI = """
import importlib.machinery as m, os, sys
BLOCK = set(filter(None, os.environ.get("RAG_TEST_HIDE", "").split(",")))
class _Hidden(m.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] in BLOCK:
            return None
        return super().find_spec(name, path, target)
sys.meta_path[:] = [_Hidden if f is m.PathFinder else f for f in sys.meta_path]
for name in list(sys.modules):
    if name.partition(".")[0] in BLOCK:
        del sys.modules[name]
sys.argv = ["rag", *sys.argv[1:]]
from rag.serve.cli import run
run()
"""


def copy_docs(folder: Path, names=TINY_DOCS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    shutil.copy(CORPUS / "collection.toml", folder / "collection.toml")  # news articles: the prompts as bundled
    return folder


def doc_id(name: str) -> str:
    return Path(name).stem


def settings_for(index_dir: Path, collection: Path | None = None, **overrides):
    """Settings with the defaults, pointed at a test index (no config file, no env)."""
    from rag.core.settings import Settings

    extra = {"collection": collection} if collection is not None else {}
    return Settings(index_dir=index_dir, **extra, **overrides)


# ---------------------------------------------------------------- models and indexes


@pytest.fixture(scope="session")
def embedder():
    from rag.index.embedding import Embedder

    return Embedder()


@pytest.fixture
def tiny_collection(tmp_path) -> Path:
    return copy_docs(tmp_path / "collection")


@dataclass(frozen=True)
class BuiltIndex:
    collection: Path
    index_dir: Path


@pytest.fixture(scope="session")
def base_index(tmp_path_factory, embedder) -> BuiltIndex:
    """The tiny collection ingested once; read-only: copy it (`index_copy`) to mutate."""
    from rag.ingestion.indexer import ingest

    root = tmp_path_factory.mktemp("base")
    collection = copy_docs(root / "collection")
    index_dir = root / "index"
    report = ingest(settings_for(index_dir, collection), collection, embedder=embedder)
    assert sorted(report.added) == sorted(doc_id(n) for n in TINY_DOCS)
    assert report.embedded_chunks == report.n_chunks > 0
    return BuiltIndex(collection, index_dir)


@pytest.fixture
def index_copy(tmp_path, base_index) -> BuiltIndex:
    """A private copy of the shared index and its collection, for tests that change them."""
    return copy_index(base_index, tmp_path)


def copy_index(base: BuiltIndex, root: Path) -> BuiltIndex:
    """`base`'s collection and index copied to `root`/collection and `root`/index."""
    collection, index_dir = root / "collection", root / "index"
    shutil.copytree(base.collection, collection)
    shutil.copytree(base.index_dir, index_dir)
    return BuiltIndex(collection, index_dir)


# ---------------------------------------------------------------- the command line


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def error_line(self, *needles: str) -> str:
        """Assert a clean failure: non-zero exit, one stderr line `error: ...`, no traceback."""
        assert self.returncode != 0, (self.stdout, self.stderr)
        assert "Traceback" not in self.stderr, self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, lines
        line = lines[0]
        assert line.startswith("error: "), line
        for needle in needles:
            assert needle in line, (needle, line)
        return line


@pytest.fixture
def cli_env(tmp_path_factory) -> dict[str, str]:
    """A clean environment: no RAG_* from the caller, an empty config file, offline hub."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    empty = tmp_path_factory.mktemp("cfg") / "empty.toml"
    empty.write_text("", encoding="utf-8")
    env.update(
        RAG_CONFIG=str(empty),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        COLUMNS="80",  # what a pipe gets anyway: messages must not wrap at it
    )
    return env


@pytest.fixture
def rag_cli(cli_env, tmp_path):
    """Run `python -m rag.serve.cli ARGS` (or the hiding driver) and capture its output."""

    def run(*args: str, env: dict[str, str] | None = None, hide: str | None = None, timeout: float = 180):
        full_env = dict(cli_env, **(env or {}))
        if hide:
            full_env["RAG_TEST_HIDE"] = hide
            cmd = [sys.executable, "-c", HIDE_AND_RUN_CLI, *args]
        else:
            cmd = [sys.executable, "-m", "rag.serve.cli", *args]
        proc = subprocess.run(
            cmd, cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


# ---------------------------------------------------------------- the web UI

# An article whose title and text carry markup: the UI must show it as text, never run it.
XSS_DOC = (
    "zorblat_festival.txt",
    '<img src=x onerror="window.__xss=1"> Zorblat festival report ${7*7} {{constructor}}\n'
    "The Zorblat festival was held on March 3 in the town of Kelvane. <script>window.__xss=2</script>\n"
    'Organisers said <img src=x onerror="window.__xss=3"> more than 4,000 visitors attended the Zorblat '
    "festival, a record.\n",
)


@dataclass(frozen=True)
class UiServer:
    url: str
    collection: Path
    index_dir: Path
    log: Path
    pid: int = 0


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory, base_index, embedder):
    """`python app.py` as a real subprocess on a free loopback port, over a private copy of the index.

    The collection is the tiny one plus XSS_DOC; tests may add and remove
    documents (only their own). Stopped at the end of the session.
    """
    from rag.ingestion.indexer import ingest

    root = tmp_path_factory.mktemp("ui")
    copied = copy_index(base_index, root)
    collection, index_dir = copied.collection, copied.index_dir
    (collection / XSS_DOC[0]).write_text(XSS_DOC[1], encoding="utf-8")
    ingest(settings_for(index_dir, collection), collection, embedder=embedder)
    config = root / "empty.toml"
    config.write_text("", encoding="utf-8")
    port = free_port()
    env = clean_env(
        config,
        RAG_INDEX_DIR=str(index_dir),
        RAG_COLLECTION=str(collection),
        GRADIO_TEMP_DIR=str(root / "gradio-tmp"),
        # One llama.cpp thread: on a CI machine shared with other jobs, two spinning threads on
        # two cores slow generation down by orders of magnitude.
        RAG_N_THREADS="1",
        RAG_DRAFT="true",  # the UI streams the model's draft when one is asked for: tested here
    )
    log = root / "server.log"
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    with running(cmd, env, root, port, "/", log, "the UI server") as server:
        yield UiServer(f"{server.base}/", collection, index_dir, log, server.process.pid)
