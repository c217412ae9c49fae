"""Incremental ingest, full rebuilds, crash safety and the single-writer lock, end to end.

Real MiniLM embeddings, real FAISS/bm25s files, real subprocesses killed with SIGKILL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import EXTRA_DOC, TINY_DOCS, copy_docs, doc_id, settings_for

from rag.index import store
from rag.ingestion.indexer import ingest
from rag.ingestion.sentences import sentences_of_chunks

UNCHANGED, CHANGED, REMOVED = (doc_id(n) for n in TINY_DOCS)
ADDED = doc_id(EXTRA_DOC)
OLD_SENTENCE = "Sergei Shoigu, the minister of defence of Russia, commended the exercises"
NEW_SENTENCE = "A retired quartermaster named Oswin Pettigrew catalogued every field kitchen"


def change_collection(collection: Path) -> None:
    """Edit one article, delete one, add one; the fourth stays byte-identical."""
    path = collection / TINY_DOCS[1]
    text = path.read_text(encoding="utf-8")
    assert OLD_SENTENCE in text
    path.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    (collection / TINY_DOCS[2]).unlink()
    copy_docs(collection, [EXTRA_DOC])


def rows_of(index: store.IndexData, doc: str) -> list[int]:
    return index.chunks_of(doc)


def assert_consistent(index: store.IndexData) -> None:
    """Counts agree everywhere and every chunk is an exact span of its document."""
    n = len(index.chunks)
    assert n == index.manifest.n_chunks == index.faiss_index.ntotal == index.vectors.shape[0]
    assert set(index.documents) == set(index.manifest.documents)
    for d, meta in index.manifest.documents.items():
        assert meta["n_chunks"] == len(rows_of(index, d))
    for c in index.chunks:
        assert index.documents[c.doc_id].text[c.start : c.end] == c.text
    assert [c.doc_id for c in index.chunks] == sorted(c.doc_id for c in index.chunks)
    assert np.array_equal(index.faiss_index.reconstruct_n(0, n), np.asarray(index.vectors))
    assert_sentences_cover_chunks(index)


def assert_sentences_cover_chunks(index: store.IndexData) -> None:
    """Every sentence the evidence stage reads from a chunk has its vector in the index, and nothing else does."""
    table = index.sentences
    assert table is not None and list(table.spans) == sorted(index.documents)
    for name in index.documents:
        text = index.documents[name].text
        wanted = sentences_of_chunks(text, [(index.chunks[r].start, index.chunks[r].end) for r in rows_of(index, name)])
        assert table.spans[name] == wanted
        assert table.of(name).shape == (len(wanted), index.manifest.dim)


def all_text(index: store.IndexData) -> str:
    return "\n".join(c.text for c in index.chunks)


def test_base_index_is_consistent(base_index):
    index = store.load(base_index.index_dir)
    assert_consistent(index)
    assert set(index.documents) == {UNCHANGED, CHANGED, REMOVED}
    assert OLD_SENTENCE in all_text(index)


def test_unchanged_collection_embeds_nothing_and_writes_nothing(index_copy, embedder):
    before = store.current_version(index_copy.index_dir)
    leftover = index_copy.index_dir / ".tmp-0123456789ab"  # staging of a killed ingest
    leftover.mkdir()
    report = ingest(settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder)
    assert report.embedded_chunks == 0 and report.rebuilt is None
    assert sorted(report.unchanged) == sorted([UNCHANGED, CHANGED, REMOVED])
    assert report.added == report.changed == report.removed == []
    assert store.current_version(index_copy.index_dir) == before
    assert not leftover.exists()  # pruned even though nothing was written


def test_incremental_reingest(index_copy, embedder):
    old = store.load(index_copy.index_dir)
    old_rows = rows_of(old, UNCHANGED)
    old_vectors = np.array(old.vectors[old_rows])
    old_chunks = [old.chunks[r] for r in old_rows]
    change_collection(index_copy.collection)

    report = ingest(settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder)

    assert report.added == [ADDED]
    assert report.changed == [CHANGED]
    assert report.removed == [REMOVED]
    assert report.unchanged == [UNCHANGED]
    assert report.rebuilt is None
    new = store.load(index_copy.index_dir)
    assert new.path != old.path
    assert_consistent(new)
    # only the added and changed documents were embedded
    assert report.embedded_chunks == len(rows_of(new, ADDED)) + len(rows_of(new, CHANGED))
    # the unchanged document kept its chunks and its vectors, bit for bit
    new_rows = rows_of(new, UNCHANGED)
    assert [new.chunks[r] for r in new_rows] == old_chunks
    assert np.asarray(new.vectors[new_rows]).tobytes() == old_vectors.tobytes()
    assert new.faiss_index.reconstruct_n(new_rows[0], len(new_rows)).tobytes() == old_vectors.tobytes()
    # the changed document's chunks carry the new text only
    changed_text = "\n".join(new.chunks[r].text for r in rows_of(new, CHANGED))
    assert NEW_SENTENCE in changed_text
    assert OLD_SENTENCE not in all_text(new)
    assert NEW_SENTENCE in new.documents[CHANGED].text
    # the removed document is gone from every part of the index
    assert REMOVED not in new.documents and REMOVED not in new.manifest.documents
    assert all(c.doc_id != REMOVED for c in new.chunks)
    # new vectors are the embeddings of their own chunks (heading and text; rows stay aligned)
    for r in rows_of(new, CHANGED)[:2] + rows_of(new, ADDED)[-2:]:
        expected = embedder.encode([new.chunks[r].indexed_text])[0]
        assert np.allclose(new.vectors[r], expected, atol=1e-4)
    # the unchanged document kept its sentence vectors; the changed one's are its new sentences' own
    assert new.sentences.of(UNCHANGED).tobytes() == old.sentences.of(UNCHANGED).tobytes()
    spans = new.sentences.spans[CHANGED]
    text = new.documents[CHANGED].text
    (s, e) = next(span for span in spans if NEW_SENTENCE in text[span[0] : span[1]])
    assert np.allclose(new.sentences.vector(CHANGED, s, e), embedder.encode([text[s:e]])[0], atol=1e-4)
    # and retrieval finds the new content
    from rag.answer.retrieval import RetrievalSettings, Retriever

    hits = Retriever(new, embedder).search("Oswin Pettigrew field kitchen", RetrievalSettings(top_k=3))
    assert hits[0].chunk.doc_id == CHANGED and "Pettigrew" in hits[0].chunk.text


def test_removal_only_embeds_nothing(index_copy, embedder):
    (index_copy.collection / TINY_DOCS[0]).unlink()
    report = ingest(settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder)
    assert report.removed == [UNCHANGED] and report.embedded_chunks == 0
    index = store.load(index_copy.index_dir)
    assert_consistent(index)
    assert set(index.documents) == {CHANGED, REMOVED}


class _SentenceCount:
    total = embedded = 0

    def start(self, documents: int) -> None: ...
    def document_done(self, chunks: int) -> None: ...
    def chunks_embedded(self, n: int) -> None: ...

    def sentences_started(self, total: int) -> None:
        self.total = total

    def sentences_embedded(self, n: int) -> None:
        self.embedded += n


def test_an_index_without_sentence_vectors_gets_them_on_the_next_ingest(index_copy, embedder):
    """An index written before sentences were embedded is upgraded without re-embedding a chunk."""
    version = store.current_version(index_copy.index_dir)
    old = store.load(index_copy.index_dir)
    (version / store.SENTENCES).unlink()
    (version / store.SENTENCE_VECTORS).unlink()
    assert store.load(index_copy.index_dir).sentences is None  # still loads, and answers embed sentences live
    progress = _SentenceCount()
    report = ingest(settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder, progress=progress)
    assert report.embedded_chunks == 0 and report.rebuilt is None
    new = store.load(index_copy.index_dir)
    assert progress.total == progress.embedded == len(new.sentences.vectors) > 0  # the stage is not silent
    assert new.path != version
    assert_consistent(new)
    for name in new.documents:
        assert np.allclose(new.sentences.of(name), old.sentences.of(name), atol=1e-4)


def test_chunker_change_rebuilds(index_copy, embedder):
    report = ingest(settings_for(index_copy.index_dir, chunk_tokens=96), index_copy.collection, embedder=embedder)
    assert report.rebuilt == "chunker settings changed"
    assert report.embedded_chunks == report.n_chunks and report.unchanged == []
    index = store.load(index_copy.index_dir)
    assert index.manifest.chunker["chunk_tokens"] == 96
    assert_consistent(index)


def test_embedding_model_change_rebuilds(index_copy, embedder):
    manifest = store.current_version(index_copy.index_dir) / store.MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["embedding_model"] = "some-other-model"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    report = ingest(settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder)
    assert report.rebuilt == "embedding model changed (some-other-model -> all-MiniLM-L6-v2)"
    assert report.embedded_chunks == report.n_chunks
    assert store.load(index_copy.index_dir).manifest.embedding_model == "all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda d: (store.current_version(d) / "vectors.faiss").write_bytes(b"FAISS"), "unreadable"),
        (lambda d: (d / store.CURRENT).write_text(""), "unreadable"),  # used to say "run rag ingest first"
        (lambda d: None, "--rebuild requested"),
    ],
    ids=["corrupt-vectors", "empty-pointer", "rebuild-flag"],
)
def test_damaged_index_or_flag_rebuilds(index_copy, embedder, damage, reason):
    damage(index_copy.index_dir)
    report = ingest(
        settings_for(index_copy.index_dir), index_copy.collection, embedder=embedder,
        rebuild=reason.startswith("--"),
    )
    assert reason in report.rebuilt
    assert report.embedded_chunks == report.n_chunks
    assert_consistent(store.load(index_copy.index_dir))


# ---------------------------------------------------------------- crash safety

KILL_DRIVER = """
import os, signal, sys
from pathlib import Path
point, index_dir, collection = sys.argv[1:4]
import faiss
from rag.core.settings import Settings
from rag.ingestion.indexer import ingest
from rag.ingestion.sentences import sentences_of_chunks

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "faiss.write_index":  # killed with part of the new version written to staging
    real = faiss.write_index
    def write_then_die(*args, **kwargs):
        real(*args, **kwargs)
        die()
    faiss.write_index = write_then_die
elif point == "pointer switch":  # killed with the new version complete but not yet live
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == "CURRENT":
            die()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace
ingest(Settings(index_dir=Path(index_dir)), Path(collection))
print("not killed")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "point, full_change",
    # the pointer-switch case only removes an article: its child then writes a new
    # version without loading the embedding model, which keeps the test fast
    [("faiss.write_index", True), ("pointer switch", False)],
)
def test_ingest_killed_mid_write_leaves_previous_index_live(index_copy, embedder, cli_env, point, full_change):
    index_dir, collection = index_copy.index_dir, index_copy.collection
    old = store.load(index_dir)
    if full_change:
        change_collection(collection)
    else:
        (collection / TINY_DOCS[2]).unlink()
    child = subprocess.run(
        [sys.executable, "-c", KILL_DRIVER, point, str(index_dir), str(collection)],
        env=cli_env, capture_output=True, text=True, timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not killed" not in child.stdout

    # the killed writer left its work on disk ...
    entries = {p.name for p in index_dir.iterdir()}
    if point == "faiss.write_index":
        staging = [index_dir / n for n in entries if n.startswith(".tmp-")]
        assert len(staging) == 1 and (staging[0] / "vectors.faiss").is_file()
        assert (staging[0] / "chunks.jsonl").is_file() and not (staging[0] / "bm25").exists()
    else:
        orphans = [index_dir / n for n in entries if n.startswith("v-") and n != old.path.name]
        assert len(orphans) == 1 and (orphans[0] / "bm25").is_dir()  # complete, never made live
        assert (index_dir / ".CURRENT.tmp").read_text().strip() == orphans[0].name
    # ... but the previous version is still the live one, whole
    live = store.load(index_dir)
    assert live.path == old.path
    assert live.chunks == old.chunks and set(live.documents) == {UNCHANGED, CHANGED, REMOVED}
    assert live.vectors.tobytes() == old.vectors.tobytes()
    assert OLD_SENTENCE in all_text(live) and NEW_SENTENCE not in all_text(live)
    # and answers can still be retrieved from it (the `rag ask` path up to generation)
    from rag.answer.pipeline import Pipeline

    pipeline = Pipeline(settings_for(index_dir), embedder=embedder)
    hits = pipeline.retrieve(pipeline.check_question("What did Sergei Shoigu commend?"))
    assert hits and hits[0].chunk.doc_id == CHANGED and "Shoigu" in hits[0].chunk.text

    # the next ingest completes and clears what the killed one left behind
    report = ingest(settings_for(index_dir), collection, embedder=embedder)
    assert report.removed == [REMOVED]
    assert (report.added, report.changed) == (([ADDED], [CHANGED]) if full_change else ([], []))
    new = store.load(index_dir)
    assert new.path != old.path and REMOVED not in new.documents
    assert (NEW_SENTENCE in all_text(new)) is full_change
    assert_consistent(new)
    leftovers = [p.name for p in index_dir.iterdir() if p.is_dir()]
    assert leftovers == [new.path.name]


# ---------------------------------------------------------------- one writer at a time

HOLD_LOCK_DRIVER = """
import sys
from pathlib import Path
import rag.ingestion.indexer as ingest_module
from rag.core.settings import Settings

real_load_folder = ingest_module.load_folder
def load_folder_and_wait(folder):  # runs with the lock held
    print("LOCKED", flush=True)
    sys.stdin.readline()
    return real_load_folder(folder)
ingest_module.load_folder = load_folder_and_wait
report = ingest_module.ingest(Settings(index_dir=Path(sys.argv[1])), Path(sys.argv[2]))
print("DONE", report.summary(), flush=True)
"""


def test_second_concurrent_ingest_fails_fast(index_copy, embedder, cli_env, rag_cli):
    index_dir, collection = index_copy.index_dir, index_copy.collection
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK_DRIVER, str(index_dir), str(collection)],
        env=cli_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert first.stdout.readline().strip() == "LOCKED"
        # in another process: the CLI refuses at once, in one line
        started = time.perf_counter()
        second = rag_cli("--index-dir", str(index_dir), "ingest", str(collection), timeout=60)
        second.error_line("another ingest", str(index_dir))
        assert time.perf_counter() - started < 30
        # and the library call raises IndexLockedError before loading anything
        with pytest.raises(store.IndexLockedError, match="another ingest"):
            ingest(settings_for(index_dir), collection, embedder=embedder)
        out, err = first.communicate("go\n", timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert "DONE 0 added, 0 changed, 0 removed, 3 unchanged" in out
    # the lock is free again
    report = ingest(settings_for(index_dir), collection, embedder=embedder)
    assert report.embedded_chunks == 0
