"""The on-disk index: round trip, atomic versions, the CURRENT pointer, corruption, the lock.

These use small synthetic versions (random unit vectors, real FAISS and bm25s
files) so they run in well under a second each; the real embedder is
exercised in test_ingest.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.core.records import Chunk, Document
from rag.index import store

DIM = 8
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def make_version(n_docs: int = 3, chunks_per_doc: int = 2, seed: int = 0, tag: str = ""):
    """(manifest, chunks, vectors, documents) of a small consistent version."""
    rng = np.random.default_rng(seed)
    documents, chunks = [], []
    for d in range(n_docs):
        parts = [f"{tag}{WORDS[(d + i) % len(WORDS)]} doc{d} part{i}." for i in range(chunks_per_doc)]
        text = " ".join(parts)
        doc_id = f"doc{d}"
        documents.append(
            Document(doc_id, f"/c/{doc_id}.txt", text, f"Title {d}", None, ((0, len(text)),), f"h{d}{tag}")
        )
        cursor = 0
        for i, part in enumerate(parts):
            start = text.index(part, cursor)
            chunks.append(Chunk(doc_id, i, start, start + len(part), part, len(part.split())))
            cursor = start + len(part)
    vectors = rng.normal(size=(len(chunks), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = store.Manifest(
        embedding_model="test-model",
        dim=DIM,
        chunker={"chunk_tokens": 128},
        documents={
            d.doc_id: {"hash": d.content_hash, "path": d.path, "title": d.title, "n_chunks": chunks_per_doc}
            for d in documents
        },
        n_chunks=len(chunks),
    )
    return manifest, chunks, vectors, documents


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(("v-", ".tmp-")))


@pytest.fixture
def written(tmp_path):
    index_dir = tmp_path / "index"
    data = make_version()
    final = store.write(index_dir, *data)
    return index_dir, final, data


# ---------------------------------------------------------------- round trip and versions


def test_round_trip(written):
    index_dir, final, (manifest, chunks, vectors, documents) = written
    assert (index_dir / store.CURRENT).read_text(encoding="utf-8") == final.name + "\n"
    loaded = store.load(index_dir)
    assert loaded.path == final
    assert loaded.chunks == chunks
    assert loaded.documents == {d.doc_id: d for d in documents}
    assert loaded.vectors.tobytes() == vectors.tobytes()
    assert loaded.faiss_index.ntotal == len(chunks) == loaded.manifest.n_chunks
    assert loaded.manifest.documents == manifest.documents
    assert loaded.chunks_of("doc1") == [2, 3]
    # FAISS holds exactly the stored vectors, searchable by inner product
    scores, rows = loaded.faiss_index.search(vectors[3:4], 1)
    assert rows[0][0] == 3 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(loaded.faiss_index.reconstruct_n(0, len(chunks)), vectors)


def test_new_version_replaces_and_prunes_old_and_staging(written):
    index_dir, first, _ = written
    leftover = index_dir / ".tmp-deadbeef0000"  # staging of a killed writer
    leftover.mkdir()
    (leftover / "vectors.npy").write_bytes(b"partial")
    orphan = index_dir / "v-19990101T000000-abcdef"  # renamed but never made live
    orphan.mkdir()
    second = store.write(index_dir, *make_version(seed=1, tag="new"))
    assert versions(index_dir) == [second.name]
    assert store.load(index_dir).chunks[0].text.startswith("new")
    assert not first.exists()


def test_failed_write_keeps_previous_version_and_cleans_staging(written, monkeypatch):
    index_dir, first, (_, chunks, _, _) = written
    import faiss

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(OSError):
        store.write(index_dir, *make_version(seed=2, tag="lost"))
    assert versions(index_dir) == [first.name]
    loaded = store.load(index_dir)
    assert loaded.path == first and loaded.chunks == chunks


# ---------------------------------------------------------------- the CURRENT pointer


def test_pointer_is_switched_by_rename_of_a_complete_temp_file(written, monkeypatch):
    index_dir, _, _ = written
    replaced = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if dst.name == store.CURRENT:
            # at the moment of the switch the temp file is complete and names a complete version
            name = src.read_text(encoding="utf-8")
            assert name.endswith("\n") and (index_dir / name.strip() / store.MANIFEST).is_file()
            assert (index_dir / name.strip() / "bm25").is_dir()
            replaced.append((src.name, name.strip()))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    final = store.write(index_dir, *make_version(seed=3))
    assert replaced == [(f".{store.CURRENT}.tmp", final.name)]
    assert not (index_dir / f".{store.CURRENT}.tmp").exists()


def test_readers_never_see_a_partial_pointer(tmp_path):
    """A reader polling CURRENT during many switches only ever sees whole version names."""
    index_dir = tmp_path / "index"
    first = store.write(index_dir, *make_version()).name
    seen, bad, done = set(), [], threading.Event()

    def reader():
        pointer = index_dir / store.CURRENT
        while not done.is_set():
            try:
                text = pointer.read_text(encoding="utf-8")
            except FileNotFoundError:
                bad.append("missing")
                continue
            if not (text.startswith("v-") and text.endswith("\n") and len(text.strip()) == 24):
                bad.append(text)
            seen.add(text.strip())

    thread = threading.Thread(target=reader)
    thread.start()
    written_names = set()
    try:
        for seed in range(12):
            written_names.add(store.write(index_dir, *make_version(seed=seed)).name)
    finally:
        done.set()
        thread.join()
    assert bad == []
    assert seen and seen <= written_names | {first}


@pytest.mark.parametrize("stale", ["", "v-garbage", "v-2026"])
def test_a_stale_pointer_temp_file_is_never_read(written, stale, monkeypatch):
    """Readers use CURRENT only; a leftover `.CURRENT.tmp` (killed writer) changes nothing."""
    index_dir, final, _ = written
    (index_dir / f".{store.CURRENT}.tmp").write_text(stale, encoding="utf-8")
    read = []
    real_read_text = Path.read_text

    def spy(self, *args, **kwargs):
        read.append(self.name)
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", spy)
    assert store.current_version(index_dir) == final
    assert store.load(index_dir).path == final
    assert f".{store.CURRENT}.tmp" not in read and store.CURRENT in read


def test_reader_racing_a_writer_gets_the_new_version_not_a_corrupt_error(written, monkeypatch):
    """A reader half-way through a version that an ingest then replaces and prunes."""
    index_dir, first, _ = written
    real_np_load = np.load
    new = {}

    def np_load_during_ingest(path, *args, **kwargs):
        if not new:  # the reader has read CURRENT and the json files of `first` ...
            new["path"] = store.write(index_dir, *make_version(seed=5, tag="new"))  # ... now it is gone
            assert not first.exists()
        return real_np_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", np_load_during_ingest)
    loaded = store.load(index_dir)
    assert loaded.path == new["path"]
    assert loaded.chunks[0].text.startswith("new")


# ---------------------------------------------------------------- missing and corrupt


def test_missing_index(tmp_path):
    for index_dir in (tmp_path / "absent", tmp_path):
        with pytest.raises(store.IndexMissingError, match=r"run `rag ingest` first"):
            store.load(index_dir)
        assert not store.exists(index_dir)


def _version(index_dir: Path) -> Path:
    return index_dir / (index_dir / store.CURRENT).read_text(encoding="utf-8").strip()


def _truncate(path: Path, size: int = 64) -> None:
    path.write_bytes(path.read_bytes()[:size])


def _edit_manifest(index_dir: Path, **changes) -> None:
    path = _version(index_dir) / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


CORRUPTIONS = {
    "truncated vectors.faiss": lambda d: _truncate(_version(d) / "vectors.faiss"),
    "empty vectors.faiss": lambda d: _truncate(_version(d) / "vectors.faiss", 0),
    "truncated vectors.npy": lambda d: _truncate(_version(d) / "vectors.npy"),
    "scalar vectors.npy": lambda d: np.save(_version(d) / "vectors.npy", np.float32(1.0)),
    "missing vectors.npy": lambda d: (_version(d) / "vectors.npy").unlink(),
    "garbage chunks.jsonl": lambda d: (_version(d) / "chunks.jsonl").write_text("{not json\n"),
    "binary chunks.jsonl": lambda d: (_version(d) / "chunks.jsonl").write_bytes(os.urandom(256)),
    "wrong-shaped chunks": lambda d: (_version(d) / "chunks.jsonl").write_text('[1, 2]\n{"a": 1}\n'),
    "chunk lost": lambda d: (_version(d) / "chunks.jsonl").write_text(
        "".join((_version(d) / "chunks.jsonl").read_text().splitlines(keepends=True)[:-1])
    ),
    "document lost": lambda d: (_version(d) / "documents.jsonl").write_text(
        (_version(d) / "documents.jsonl").read_text().splitlines(keepends=True)[0]
    ),
    "manifest count wrong": lambda d: _edit_manifest(d, n_chunks=999),
    "manifest dim wrong": lambda d: _edit_manifest(d, dim=DIM + 1),
    "manifest not json": lambda d: (_version(d) / store.MANIFEST).write_text("]"),
    "manifest unknown field": lambda d: _edit_manifest(d, surprise=True),
    "bm25 missing": lambda d: __import__("shutil").rmtree(_version(d) / "bm25"),
    "CURRENT names a missing dir": lambda d: (d / store.CURRENT).write_text("v-20000101T000000-000000\n"),
    "CURRENT empty": lambda d: (d / store.CURRENT).write_text(""),
    "CURRENT undecodable": lambda d: (d / store.CURRENT).write_bytes(b"\xff\xfe\x00"),
}


@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_corruption_is_one_line_naming_the_fix(written, damage):
    index_dir, _, _ = written
    CORRUPTIONS[damage](index_dir)
    with pytest.raises(store.IndexCorruptError) as info:
        store.load(index_dir)
    message = str(info.value)
    assert "\n" not in message
    assert "rag ingest --rebuild" in message and str(index_dir) in message


# ---------------------------------------------------------------- the lock


def test_lock_is_exclusive_and_released(tmp_path):
    index_dir = tmp_path / "index"
    with store.lock(index_dir):
        started = time.perf_counter()
        with pytest.raises(store.IndexLockedError, match="another ingest is writing") as info:
            with store.lock(index_dir):
                pass
        assert time.perf_counter() - started < 1.0  # fails fast, does not wait
        assert "\n" not in str(info.value)
    with store.lock(index_dir):  # free again after release
        pass
    with pytest.raises(RuntimeError):
        with store.lock(index_dir):
            raise RuntimeError("writer failed")
    with store.lock(index_dir):  # released on error too
        pass
