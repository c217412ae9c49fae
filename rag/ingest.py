"""Build or update the index from a collection folder, incrementally.

Unchanged documents (same content hash) keep their chunks and vectors; only
new and changed documents are chunked and embedded; removed ones are dropped.
If the index was built with another embedding model or other chunker
settings, everything is rebuilt and the reason is reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from . import store
from .chunking import Chunker
from .config import Settings
from .loading import LOADER_VERSION, load_folder
from .records import Chunk, Document


class Progress(Protocol):
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
    embedded_chunks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged; {self.n_chunks} chunks "
            f"({self.embedded_chunks} embedded) in {self.seconds:.1f}s"
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
            store.prune(index_dir)  # staging left by a killed ingest goes even when nothing changed
            report.n_chunks = previous.manifest.n_chunks
            report.seconds = time.perf_counter() - started
            return report  # nothing to write: the live version is already current

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
            # one stream of full batches across documents: throughput over tidiness
            embedded = embedder.encode(texts, progress=progress.chunks_embedded)
            dim = embedder.dim
        else:
            embedded = np.zeros((0, previous.manifest.dim if previous else 0), dtype=np.float32)
            dim = embedded.shape[1]
        report.embedded_chunks = len(texts)
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
        manifest = store.Manifest(
            embedding_model=settings.embedding_model,
            dim=dim,
            chunker=chunker_settings,
            documents={
                d.doc_id: {
                    "hash": d.content_hash,
                    "path": d.path,
                    "title": d.title,
                    "n_chunks": sum(1 for c in chunks if c.doc_id == d.doc_id),
                }
                for d in documents
            },
            n_chunks=len(chunks),
        )
        store.write(index_dir, manifest, chunks, matrix, documents)
        report.n_chunks = len(chunks)
    report.seconds = time.perf_counter() - started
    return report


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
    from .embedding import Embedder, resolve_model_dir

    resolve_model_dir(settings.embedding_model)  # a missing package fails before the torch import
    return Embedder(settings.embedding_model, batch_size=settings.embed_batch_size)

