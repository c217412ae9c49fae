"""Build or update the index from a collection folder, incrementally.

Unchanged documents (same content hash) keep their chunks and vectors; only
new and changed documents are chunked and embedded; removed ones are dropped.
If the index was built with another embedding model or other chunker
settings, everything is rebuilt and the reason is reported.

Embeddings are saved to a checkpoint as they are made (rag/ingest/checkpoint.py):
an ingest killed half-way resumes where it stopped. The vector index kind
(exact or approximate) follows the collection's size (rag/index/vector_index.py).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.core.records import Chunk, Document
from rag.core.settings import Settings
from rag.index import store, vector_index
from rag.index.vector_store import mirror as mirror_vector_store
from rag.ingest.checkpoint import Checkpoint
from rag.ingest.chunking import Chunker
from rag.ingest.loading import LOADER_VERSION, load_folder


class Progress(Protocol):
    """Ingest progress. An optional `chunks_resumed(n)` learns of chunks a checkpoint
    already held (else they are reported through `chunks_embedded`)."""

    def start(self, documents: int) -> None: ...
    def document_done(self, chunks: int) -> None: ...
    def chunks_embedded(self, n: int) -> None: ...


class _Silent:
    def start(self, documents: int) -> None: ...
    def document_done(self, chunks: int) -> None: ...
    def chunks_embedded(self, n: int) -> None: ...


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rebuilt: str | None = None  # why a full rebuild happened
    n_chunks: int = 0
    embedded_chunks: int = 0  # chunks the model embedded in this run
    resumed_chunks: int = 0  # chunks whose vectors came from an interrupted ingest's checkpoint
    vector_index: str = ""  # the kind of dense index the live version has
    seconds: float = 0.0

    def summary(self) -> str:
        resumed = f", {self.resumed_chunks} resumed" if self.resumed_chunks else ""
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged; {self.n_chunks} chunks "
            f"({self.embedded_chunks} embedded{resumed}) in {self.seconds:.1f}s"
        )


def make_chunker(settings: Settings) -> Chunker:
    return Chunker(chunk_tokens=settings.chunk_tokens, overlap_tokens=settings.chunk_overlap)


def ingest(
    settings: Settings,
    collection: Path | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    embedder=None,
) -> IngestReport:
    """Bring the index in `settings.index_dir` in line with the collection folder."""
    started = time.perf_counter()
    progress = progress or _Silent()
    folder = Path(collection or settings.collection)
    index_dir = settings.index_dir
    report = IngestReport()
    with store.lock(index_dir):
        documents, report.warnings = load_folder(folder)
        chunker = make_chunker(settings)
        chunker_settings = {**chunker.settings(), "loader": LOADER_VERSION}  # what shapes the chunks
        previous = _previous(index_dir, settings, chunker_settings, rebuild, report)

        old_docs = previous.manifest.documents if previous else {}
        todo: list[Document] = []
        for doc in documents:
            old = old_docs.get(doc.doc_id)
            if old is None:
                report.added.append(doc.doc_id)
                todo.append(doc)
            elif old["hash"] != doc.content_hash:
                report.changed.append(doc.doc_id)
                todo.append(doc)
            else:
                report.unchanged.append(doc.doc_id)
        current_ids = {d.doc_id for d in documents}
        report.removed = sorted(set(old_docs) - current_ids)

        if previous and not todo and not report.removed:
            n, dim = previous.manifest.n_chunks, previous.manifest.dim
            if previous.manifest.vector_index == vector_index.choose(n, dim, settings).as_dict():
                store.prune(index_dir)  # staging left by a killed ingest goes even when nothing changed
                report.n_chunks = n
                report.vector_index = previous.manifest.vector_index["kind"]
                mirror_vector_store(settings, index_dir)  # with pgvector: PostgreSQL catches up if behind
                report.seconds = time.perf_counter() - started
                return report  # nothing to write: the live version is already current
            # else only the vector index settings changed: a new version, nothing re-embedded

        if todo:
            # Load the model before chunking: the chunker needs the same package's tokenizer,
            # and a missing package must surface as ModelMissingError naming the pip command,
            # not as a ModuleNotFoundError from deep inside the chunker.
            embedder = embedder or _embedder(settings)
        progress.start(len(documents))
        for _ in report.unchanged:
            progress.document_done(0)
        new_chunks: dict[str, list[Chunk]] = {}
        for doc in todo:
            new_chunks[doc.doc_id] = chunker.chunk(doc)
            progress.document_done(len(new_chunks[doc.doc_id]))
        texts = [c.text for doc in todo for c in new_chunks[doc.doc_id]]
        if texts:
            embedder = embedder or _embedder(settings)
            checkpoint = Checkpoint(index_dir / store.CHECKPOINT, settings.embedding_model, embedder.dim)
            embedded, report.resumed_chunks = _embed(texts, embedder, checkpoint, settings.embed_checkpoint, progress)
            dim = embedder.dim
        else:
            embedded = np.zeros((0, previous.manifest.dim if previous else 0), dtype=np.float32)
            dim = embedded.shape[1]
        report.embedded_chunks = len(texts) - report.resumed_chunks
        vectors_new, offset = {}, 0
        for doc in todo:
            n = len(new_chunks[doc.doc_id])
            vectors_new[doc.doc_id] = embedded[offset : offset + n]
            offset += n

        chunks, vectors = [], []
        kept_rows = {}
        if previous:
            for row, chunk in enumerate(previous.chunks):
                kept_rows.setdefault(chunk.doc_id, []).append(row)
        for doc in documents:  # sorted by doc_id: a stable order for every version
            if doc.doc_id in new_chunks:
                chunks.extend(new_chunks[doc.doc_id])
                vectors.append(vectors_new[doc.doc_id])
            else:
                rows = kept_rows.get(doc.doc_id, [])
                chunks.extend(previous.chunks[r] for r in rows)
                vectors.append(np.asarray(previous.vectors[rows], dtype=np.float32))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
        per_doc = Counter(c.doc_id for c in chunks)
        spec = vector_index.choose(len(chunks), dim, settings)
        manifest = store.Manifest(
            embedding_model=settings.embedding_model,
            dim=dim,
            chunker=chunker_settings,
            documents={
                d.doc_id: {
                    "hash": d.content_hash,
                    "path": d.path,
                    "title": d.title,
                    "n_chunks": per_doc[d.doc_id],
                }
                for d in documents
            },
            n_chunks=len(chunks),
            vector_index=spec.as_dict(),
        )
        store.write(index_dir, manifest, chunks, matrix, documents)
        mirror_vector_store(settings, index_dir)  # vector_store = "pgvector" mirrors the new version
        report.n_chunks = len(chunks)
        report.vector_index = spec.kind
    report.seconds = time.perf_counter() - started
    return report


def _embed(texts: list[str], embedder, checkpoint: Checkpoint, every: int, progress) -> tuple[np.ndarray, int]:
    """Vectors for `texts` and how many came from the checkpoint; the rest are embedded.

    Texts go to the model longest first across the whole ingest (batches of
    similar length carry little padding), `every` chunks at a time, each run
    saved to the checkpoint before the next starts. Identical texts are
    embedded once.
    """
    keys = [checkpoint.key(t) for t in texts]
    saved = checkpoint.load()
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    first: dict[bytes, int] = {}
    resumed = 0
    for i, key in enumerate(keys):
        if key in saved:
            out[i] = saved[key]
            resumed += 1
        else:
            first.setdefault(key, i)
    del saved
    resumed_hook = getattr(progress, "chunks_resumed", None)
    if resumed:
        (resumed_hook or progress.chunks_embedded)(resumed)
    duplicates = len(texts) - resumed - len(first)
    todo = sorted(first.values(), key=lambda i: -len(texts[i]))
    for start in range(0, len(todo), every):
        rows = todo[start : start + every]
        out[rows] = embedder.encode([texts[i] for i in rows], progress=progress.chunks_embedded)
        checkpoint.save([keys[i] for i in rows], out[rows])
    if duplicates:
        for i, key in enumerate(keys):
            if first.get(key, i) != i:
                out[i] = out[first[key]]
        progress.chunks_embedded(duplicates)
    return out, resumed


def _previous(index_dir, settings, chunker_settings, rebuild, report):
    """The live index to update, or None when everything must be (re)built."""
    if rebuild:
        report.rebuilt = "--rebuild requested"
        return None
    if not store.exists(index_dir):
        return None
    try:
        manifest = store.read_manifest(index_dir)
    except store.IndexCorruptError:
        report.rebuilt = "the previous index was unreadable"
        return None
    why = manifest.compatible_with(settings.embedding_model, chunker_settings)
    if why:
        report.rebuilt = why
        return None
    try:
        return store.load(index_dir)
    except store.IndexCorruptError:
        report.rebuilt = "the previous index was unreadable"
        return None


def _embedder(settings: Settings):
    from rag.index.embedding import Embedder, resolve_model_dir

    resolve_model_dir(settings.embedding_model)  # a missing package fails before the torch import
    return Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)

