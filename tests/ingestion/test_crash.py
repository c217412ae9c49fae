"""Crash safety under kill -9 at random moments of a real `rag ingest`.

The deterministic kill points (mid-write, before the pointer switch) are in
test_ingest.py; here the real CLI is killed after random delays spread over
its whole run (imports, model load, embedding, writing), several times in a
row. After every kill the live index is exactly the old version or exactly
the new one, never a mix, and still answers; the next ingest completes.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import CORPUS, EXTRA_DOC, TINY_DOCS, doc_id, settings_for

from rag.index import store

NEW_DOCS = (EXTRA_DOC, "004_d4932bf2154f5a6f.txt")


def _live_documents(index_dir) -> set[str]:
    return set(store.load(index_dir).documents)


@pytest.mark.slow
def test_ingest_killed_at_random_moments_never_mixes_versions(index_copy, embedder, cli_env):
    from rag.answer.pipeline import Pipeline
    from rag.ingestion.indexer import ingest

    index_dir, collection = index_copy.index_dir, index_copy.collection
    old_docs = {doc_id(n) for n in TINY_DOCS}
    new_docs = old_docs | {doc_id(n) for n in NEW_DOCS}
    for name in NEW_DOCS:
        shutil.copy(CORPUS / name, collection / name)

    # how long an uninterrupted ingest of this change takes here, to spread the kills over it
    probe_dir = index_dir.parent / "probe-index"
    shutil.copytree(index_dir, probe_dir)
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "rag.serve.cli", "--index-dir", str(probe_dir), "ingest", str(collection)]
    subprocess.run(cmd, env=cli_env, capture_output=True, check=True, timeout=600)
    full_run = time.perf_counter() - started

    rng = random.Random(8)  # reproducible kill moments
    killed = 0
    for fraction in sorted(rng.uniform(0.2, 1.0) for _ in range(4)):
        cmd = [sys.executable, "-m", "rag.serve.cli", "--index-dir", str(index_dir), "ingest", str(collection)]
        child = subprocess.Popen(cmd, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(fraction * full_run)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.communicate(timeout=120)
        live = _live_documents(index_dir)
        assert live in (old_docs, new_docs), live  # one version or the other, whole
        if live == new_docs:
            break  # the change landed before a kill: nothing left to interrupt
        hits = Pipeline(settings_for(index_dir), embedder=embedder).retrieve("What did Sergei Shoigu commend?")
        assert hits and "Shoigu" in hits[0].chunk.text
    assert killed >= 1

    # the next ingest completes, and the index holds the new collection and nothing else
    report = ingest(settings_for(index_dir), collection, embedder=embedder)
    assert _live_documents(index_dir) == new_docs
    assert not report.warnings
    leftovers = sorted(p.name for p in index_dir.iterdir() if p.is_dir())
    assert leftovers == [store.load(index_dir).path.name]
    answer = Pipeline(settings_for(index_dir), embedder=embedder).retrieve("Which newspaper did Yuri Lyamin speak to?")
    assert any("Izvestia" in h.chunk.text for h in answer)
