"""Embeddings of an ingest in progress, saved as they are made, so a killed ingest resumes.

Embedding is nearly all of an ingest's time (hours for a million chunks on
two cores); losing it to a crash, a reboot or Ctrl-C means starting over.
A checkpoint lives in `<index>/.checkpoint/`, outside every version; it is
removed once a new version is live (store.prune). Each shard holds the
vectors of a run of chunks, keyed by a digest of (embedding model, chunk
text): the next ingest chunks the collection again (deterministic), looks
every chunk up, and embeds only what is missing. A shard is written under a
temporary name and renamed, so a kill leaves whole shards only; a shard
that cannot be read is ignored and its chunks are embedded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

KEY_BYTES = 20

log = logging.getLogger(__name__)


class Checkpoint:
    def __init__(self, directory: Path, embedding_model: str, dim: int):
        self.directory = directory
        self.prefix = embedding_model.encode("utf-8") + b"\0"
        self.dim = dim
        self._next: int | None = None

    def key(self, text: str) -> bytes:
        return hashlib.sha1(self.prefix + text.encode("utf-8")).digest()

    def load(self) -> dict[bytes, np.ndarray]:
        """Every saved vector by key; unreadable or foreign shards are skipped."""
        found: dict[bytes, np.ndarray] = {}
        if not self.directory.is_dir():
            return found
        for path in sorted(self.directory.glob("shard-*.npz")):
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except Exception as exc:  # noqa: BLE001 - a damaged shard only costs its re-embedding
                log.info("checkpoint shard %s unreadable (%s): its chunks are embedded again", path, exc)
                continue
            if vectors.ndim != 2 or vectors.shape[1] != self.dim or keys.shape != (len(vectors), KEY_BYTES):
                log.info("checkpoint shard %s holds other vectors: its chunks are embedded again", path)
                continue
            for k, v in zip(keys, vectors):
                found[k.tobytes()] = v
        return found

    def save(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Add one shard atomically (temporary file, then rename)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._next is None:
            self._next = len(list(self.directory.glob("shard-*.npz")))
        final = self.directory / f"shard-{self._next:06d}.npz"
        while final.exists():
            self._next += 1
            final = self.directory / f"shard-{self._next:06d}.npz"
        self._next += 1
        tmp = self.directory / f".{final.name}.tmp"
        with tmp.open("wb") as fh:
            # keys as a uint8 matrix: numpy's bytes dtype would drop a digest's trailing zero bytes
            raw = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
            np.savez(fh, keys=raw, vectors=np.asarray(vectors, dtype=np.float32))
        os.replace(tmp, final)
