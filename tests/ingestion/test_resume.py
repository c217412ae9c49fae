"""Resumable ingestion: an ingest killed (SIGKILL) while embedding continues where it stopped.

The child process embeds in checkpoints of 8 chunks (batches of 4) and kills
itself once 20 chunks are embedded: two checkpoints saved, the third lost.
The next ingest must embed only the chunks no checkpoint holds, and end with
the same vectors a clean ingest makes.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import settings_for

from rag.index import store
from rag.ingestion.indexer import ingest

EVERY, BATCH, KILL_AFTER = 8, 4, 20

KILL_WHILE_EMBEDDING = """
import os, signal, sys
from pathlib import Path
from rag.core.settings import Settings
from rag.ingestion.indexer import ingest

every, batch, kill_after = (int(x) for x in sys.argv[3:6])

class KillMidway:
    embedded = 0
    def start(self, documents): pass
    def document_done(self, chunks): pass
    def chunks_embedded(self, n):
        self.embedded += n
        print("embedded", self.embedded, flush=True)
        if self.embedded >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(index_dir=Path(sys.argv[1]), embed_checkpoint=every, embed_batch_size=batch)
ingest(settings, Path(sys.argv[2]), progress=KillMidway())
print("not killed")
"""


class Counting:
    def __init__(self):
        self.embedded = 0
        self.resumed = 0

    def start(self, documents: int) -> None: ...
    def document_done(self, chunks: int) -> None: ...

    def chunks_embedded(self, n: int) -> None:
        self.embedded += n

    def chunks_resumed(self, n: int) -> None:
        self.resumed += n


@pytest.mark.slow
def test_killed_ingest_resumes_from_its_checkpoint(tmp_path, base_index, embedder, cli_env):
    clean = store.load(base_index.index_dir)
    assert clean.manifest.n_chunks >= 3 * EVERY  # the kill lands in the third checkpoint
    index_dir = tmp_path / "index"
    child = subprocess.run(
        [sys.executable, "-c", KILL_WHILE_EMBEDDING, str(index_dir), str(base_index.collection),
         str(EVERY), str(BATCH), str(KILL_AFTER)],
        env=cli_env, capture_output=True, text=True, timeout=600,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not killed" not in child.stdout
    assert not store.exists(index_dir)  # killed before any version was written
    shards = sorted((index_dir / store.CHECKPOINT).glob("shard-*.npz"))
    assert len(shards) == KILL_AFTER // EVERY  # whole checkpoints only; the third was lost

    progress = Counting()
    settings = settings_for(index_dir, embed_checkpoint=EVERY, embed_batch_size=BATCH)
    report = ingest(settings, base_index.collection, progress=progress, embedder=embedder)

    saved = EVERY * (KILL_AFTER // EVERY)
    assert report.resumed_chunks == progress.resumed == saved
    assert report.embedded_chunks == progress.embedded == report.n_chunks - saved
    assert f"{saved} resumed" in report.summary()
    assert not (index_dir / store.CHECKPOINT).exists()  # gone once the version is live
    resumed = store.load(index_dir)
    assert resumed.chunks == clean.chunks
    assert np.allclose(np.asarray(resumed.vectors), np.asarray(clean.vectors), atol=1e-5)


def test_checkpoint_ignores_damaged_and_foreign_shards(tmp_path):
    from rag.ingestion.checkpoint import Checkpoint

    ckpt = Checkpoint(tmp_path / "ckpt", "model-a", dim=4)
    texts = ["alpha", "bravo", "charlie"]
    vectors = np.eye(3, 4, dtype=np.float32)
    ckpt.save([ckpt.key(t) for t in texts[:2]], vectors[:2])
    ckpt.save([ckpt.key(texts[2])], vectors[2:])
    (tmp_path / "ckpt" / "shard-000002.npz").write_bytes(b"truncated")  # a damaged shard
    loaded = ckpt.load()
    assert sorted(loaded) == sorted(ckpt.key(t) for t in texts)
    assert np.array_equal(loaded[ckpt.key("bravo")], vectors[1])
    # another model's (or dimension's) vectors never match
    assert Checkpoint(tmp_path / "ckpt", "model-b", dim=4).key("alpha") not in loaded
    assert Checkpoint(tmp_path / "ckpt", "model-a", dim=8).load() == {}
