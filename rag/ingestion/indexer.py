"""Build or update the index from a collection folder, incrementally.

Unchanged documents (same content hash) keep their chunks and vectors; only
new and changed documents are chunked and embedded; removed ones are dropped.
If the index was built with another embedding model or other chunker
settings, everything is rebuilt and the reason is reported.

Embeddings are saved to a checkpoint as they are made (rag/ingestion/checkpoint.py):
an ingest killed half-way resumes where it stopped. The vector index kind
(exact or approximate) follows the collection's size (rag/index/vector_index.py).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.core.records import Chunk, Document, Mention
from rag.core.settings import Settings
from rag.index import store, vector_index
from rag.index.vector_store import mirror as mirror_vector_store
from rag.ingestion.checkpoint import Checkpoint
from rag.ingestion.chunking import Chunker
from rag.ingestion.loading import LOADER_VERSION, load_folder
from rag.ingestion.nlp import NLP_VERSION, annotate
from rag.ingestion.sentences import sentences_of_chunks


class Progress(Protocol):
    """Ingest progress. An optional `chunks_resumed(n)` learns of chunks a checkpoint
    already held (else they are reported through `chunks_embedded`); optional
    `sentences_started(total)` and `sentences_embedded(n)` follow the sentence
    vectors embedded after the chunks' (else that stage is silent)."""

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
    """Bring the index in `settings.index_dir` in line with the collection folder.

    Plan (what changed since the live version), embed (only new and changed
    documents), write (a new version from kept and fresh chunks), mirror (the
    vector store, with pgvector), all under the index lock.
    """
    started = time.perf_counter()
    progress = progress or _Silent()
    index_dir = settings.index_dir
    report = IngestReport()
    with store.lock(index_dir):
        plan = _plan(settings, Path(collection or settings.collection), rebuild, report)
        if plan.up_to_date(settings):  # nothing to write: the live version is already current
            store.prune(index_dir)  # staging left by a killed ingest goes even when nothing changed
            report.n_chunks = plan.previous.manifest.n_chunks
            report.vector_index = plan.previous.manifest.vector_index["kind"]
        else:  # a new version (nothing re-embedded when only the vector index settings changed)
            fresh = _embed_changes(plan, settings, progress, embedder, report)
            _write_version(plan, fresh, settings, report)
        mirror_vector_store(settings, index_dir)  # pgvector: PostgreSQL mirrors the live version if behind
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Plan:
    """What an ingest works from: the collection now, the live version it updates, what to chunk anew."""

    documents: list[Document]  # the whole collection, sorted by doc_id
    previous: store.IndexData | None  # None: everything is built anew
    todo: tuple[Document, ...]  # new and changed documents
    removed: tuple[str, ...]
    chunker: Chunker
    chunker_settings: dict[str, Any]  # what shapes the chunks, recorded in the manifest

    def up_to_date(self, settings: Settings) -> bool:
        """Nothing added, changed or removed, the live version has its sentences embedded, and its
        vector index is the kind its size calls for."""
        if self.previous is None or self.todo or self.removed or self.previous.sentences is None:
            return False
        manifest = self.previous.manifest
        return manifest.vector_index == vector_index.choose(manifest.n_chunks, manifest.dim, settings).as_dict()


@dataclass(frozen=True)
class _Fresh:
    """The chunks of the new and changed documents and their vectors, by doc_id."""

    chunks: dict[str, list[Chunk]]
    vectors: dict[str, np.ndarray]
    dim: int  # the model's; the live version's (or 0) when there was nothing to embed
    mentions: dict[str, tuple[Mention, ...]] = field(default_factory=dict)  # of the new and changed documents
    sentences: dict[str, tuple[tuple[tuple[int, int], ...], np.ndarray]] = field(default_factory=dict)


def _plan(settings: Settings, folder: Path, rebuild: bool, report: IngestReport) -> _Plan:
    """Load the collection and sort its documents into added, changed and unchanged (in `report`)."""
    documents, report.warnings = load_folder(folder)
    chunker = make_chunker(settings)
    chunker_settings = {**chunker.settings(), "loader": LOADER_VERSION, "nlp": NLP_VERSION}
    previous = _previous(settings.index_dir, settings, chunker_settings, rebuild, report)
    old_docs = previous.manifest.documents if previous else {}
    todo: list[Document] = []
    for doc in documents:
        old = old_docs.get(doc.doc_id)
        if old is None:
            report.added.append(doc.doc_id)
        elif old["hash"] != doc.content_hash:
            report.changed.append(doc.doc_id)
        else:
            report.unchanged.append(doc.doc_id)
            continue
        todo.append(doc)
    report.removed = sorted(set(old_docs) - {d.doc_id for d in documents})
    return _Plan(documents, previous, tuple(todo), tuple(report.removed), chunker, chunker_settings)


def _embed_changes(plan: _Plan, settings: Settings, progress: Progress, embedder, report: IngestReport) -> _Fresh:
    """Chunk the new and changed documents and embed their chunks, resuming from a checkpoint."""
    if plan.todo:
        # Load the model before chunking: the chunker needs the same package's tokenizer,
        # and a missing package must surface as ModelMissingError naming the pip command,
        # not as a ModuleNotFoundError from deep inside the chunker.
        embedder = embedder or _embedder(settings)
    progress.start(len(plan.documents))
    for _ in report.unchanged:
        progress.document_done(0)
    chunks: dict[str, list[Chunk]] = {}
    for doc in plan.todo:
        chunks[doc.doc_id] = plan.chunker.chunk(doc)
        progress.document_done(len(chunks[doc.doc_id]))
    texts = [c.indexed_text for doc in plan.todo for c in chunks[doc.doc_id]]
    if texts:
        checkpoint = Checkpoint(settings.index_dir / store.CHECKPOINT, settings.embedding_model, embedder.dim)
        embedded, report.resumed_chunks = _embed(texts, embedder, checkpoint, settings.embed_checkpoint, progress)
        dim = embedder.dim
    else:
        dim = plan.previous.manifest.dim if plan.previous else 0
        embedded = np.zeros((0, dim), dtype=np.float32)
    report.embedded_chunks = len(texts) - report.resumed_chunks
    vectors, offset = {}, 0
    for doc in plan.todo:
        n = len(chunks[doc.doc_id])
        vectors[doc.doc_id] = embedded[offset : offset + n]
        offset += n
    sentences = _embed_sentences(plan, chunks, settings, embedder, dim, progress)
    return _Fresh(chunks, vectors, dim, annotate(plan.todo) if plan.todo else {}, sentences)


def _embed_sentences(
    plan: _Plan, chunks: dict[str, list[Chunk]], settings: Settings, embedder, dim: int, progress: Progress
):
    """The sentences of the new and changed documents' chunks and their vectors (of every document's
    when the live version has none), so answering a question embeds only the question."""
    docs, chunks = list(plan.todo), dict(chunks)
    if plan.previous is not None and plan.previous.sentences is None:
        docs += [d for d in plan.documents if d.doc_id not in chunks]
        for doc in docs:
            chunks.setdefault(doc.doc_id, [plan.previous.chunks[r] for r in plan.previous.chunks_of(doc.doc_id)])
    spans = {d.doc_id: sentences_of_chunks(d.text, [(c.start, c.end) for c in chunks[d.doc_id]]) for d in docs}
    texts = [d.text[s:e] for d in docs for s, e in spans[d.doc_id]]
    if not texts:
        return {d.doc_id: ((), np.zeros((0, dim), dtype=np.float32)) for d in docs}
    embedder = embedder or _embedder(settings)
    checkpoint = Checkpoint(settings.index_dir / store.CHECKPOINT, settings.embedding_model, embedder.dim)
    embedded, _ = _embed(texts, embedder, checkpoint, settings.embed_checkpoint, _Sentences(progress, len(texts)))
    out, offset = {}, 0
    for doc in docs:
        n = len(spans[doc.doc_id])
        out[doc.doc_id] = (spans[doc.doc_id], embedded[offset : offset + n])
        offset += n
    return out


class _Sentences:
    """The progress's sentence hooks, in the shape `_embed` reports to; silent where it has none."""

    def __init__(self, progress: Progress, total: int):
        started = getattr(progress, "sentences_started", None)
        self._embedded = getattr(progress, "sentences_embedded", None)
        if started is not None:
            started(total)

    def chunks_embedded(self, n: int) -> None:
        if self._embedded is not None:
            self._embedded(n)


def _write_version(plan: _Plan, fresh: _Fresh, settings: Settings, report: IngestReport) -> None:
    """Write and make live a version of every document: fresh chunks where they changed, kept ones elsewhere."""
    chunks, matrix = _assemble(plan, fresh)
    spec = vector_index.choose(len(chunks), fresh.dim, settings)
    per_doc = Counter(c.doc_id for c in chunks)
    manifest = store.Manifest(
        embedding_model=settings.embedding_model,
        dim=fresh.dim,
        chunker=plan.chunker_settings,
        documents={
            d.doc_id: {"hash": d.content_hash, "path": d.path, "title": d.title, "n_chunks": per_doc[d.doc_id]}
            for d in plan.documents
        },
        n_chunks=len(chunks),
        vector_index=spec.as_dict(),
    )
    kept = plan.previous.mentions if plan.previous else {}
    mentions = {d.doc_id: fresh.mentions.get(d.doc_id, kept.get(d.doc_id, ())) for d in plan.documents}
    store.write(settings.index_dir, manifest, chunks, matrix, plan.documents, mentions, _sentence_table(plan, fresh))
    report.n_chunks = len(chunks)
    report.vector_index = spec.kind


def _sentence_table(plan: _Plan, fresh: _Fresh) -> store.SentenceTable:
    """Every document's sentences: fresh where it was (re)embedded, the live version's elsewhere."""
    previous = plan.previous.sentences if plan.previous else None
    spans, vectors = {}, []
    for doc in plan.documents:
        if doc.doc_id in fresh.sentences:
            spans[doc.doc_id], matrix = fresh.sentences[doc.doc_id]
        else:
            spans[doc.doc_id], matrix = previous.spans.get(doc.doc_id, ()), previous.of(doc.doc_id)
        vectors.append(matrix)
    matrix = np.vstack(vectors) if vectors else np.zeros((0, fresh.dim), dtype=np.float32)
    return store.SentenceTable(spans, matrix.astype(np.float32, copy=False))


def _assemble(plan: _Plan, fresh: _Fresh) -> tuple[list[Chunk], np.ndarray]:
    """Every document's chunks and vectors, in doc_id order (a stable order for every version)."""
    previous = plan.previous
    kept_rows: dict[str, list[int]] = {}
    if previous:
        for row, chunk in enumerate(previous.chunks):
            kept_rows.setdefault(chunk.doc_id, []).append(row)
    chunks, vectors = [], []
    for doc in plan.documents:
        if doc.doc_id in fresh.chunks:
            chunks.extend(fresh.chunks[doc.doc_id])
            vectors.append(fresh.vectors[doc.doc_id])
        else:
            rows = kept_rows.get(doc.doc_id, [])
            chunks.extend(previous.chunks[r] for r in rows)
            vectors.append(np.asarray(previous.vectors[rows], dtype=np.float32))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, fresh.dim), dtype=np.float32)
    return chunks, matrix


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

