"""The on-disk index: FAISS vectors, BM25 postings, chunk and document store, manifest.

Layout of an index directory:

    CURRENT               name of the live version directory (switched atomically)
    v-<stamp>/            one complete, immutable version
        manifest.json     embedding model, dimension, chunker settings, hash per document,
                          vector index spec (kind and parameters; absent in older indexes: flat)
        vectors.faiss     FAISS inner-product index over normalised embeddings: exact (Flat),
                          HNSW or IVF-PQ by collection size (rag/index/vector_index.py)
        vectors.npy       the vectors, reused by incremental re-ingest and IVF-PQ re-ranking
        chunks.jsonl      one Chunk per line, in vector order
        documents.jsonl   one Document per line (full text, for citations and the article view)
        mentions.jsonl    per document, the entities and noun phrases found at ingest
                          (rag/ingestion/nlp.py): {"doc_id", "mentions": [[start, end, label], ...]}
        sentences.npy     the vector of every sentence of every chunk (as the evidence stage splits
                          it), so a question embeds nothing but itself; absent in older indexes
        sentences.jsonl   per document, those sentences' spans, in row order: {"doc_id", "spans"}
        bm25/             bm25s index over the chunk texts
    .lock                 held by the one ingest allowed at a time
    .checkpoint/          embeddings of an ingest in progress (rag/ingestion/checkpoint.py), so a killed
                          ingest resumes; removed once a version is live

vectors.faiss, vectors.npy and the BM25 arrays are memory-mapped on load: a
large index is paged in as queries touch it, not read whole.

A version is written under a temporary name, fsynced, renamed, and only then
named in CURRENT (os.replace): a process killed at any point leaves the
previous version live and loadable.
"""

from __future__ import annotations

import bisect
import fcntl
import functools
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.errors import IndexCorruptError, IndexLockedError, IndexMissingError
from rag.core.records import Chunk, Document, Mention
from rag.index.vector_index import IndexSpec, VectorIndex

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
MENTIONS = "mentions.jsonl"
SENTENCES = "sentences.jsonl"
SENTENCE_VECTORS = "sentences.npy"
CHECKPOINT = ".checkpoint"


@dataclass
class Manifest:
    embedding_model: str
    dim: int
    chunker: dict[str, Any]
    documents: dict[str, dict[str, Any]]  # doc_id -> {hash, path, title, n_chunks}
    n_chunks: int
    format: int = FORMAT_VERSION
    created: float = field(default_factory=time.time)
    # what vectors.faiss holds (IndexSpec.as_dict); an index written before this field is flat
    vector_index: dict[str, Any] = field(default_factory=lambda: {"kind": "flat"})

    def compatible_with(self, embedding_model: str, chunker: dict[str, Any]) -> str | None:
        """Why this index cannot be updated incrementally, or None if it can."""
        if self.format != FORMAT_VERSION:
            return f"index format {self.format} differs from {FORMAT_VERSION}"
        if self.embedding_model != embedding_model:
            return f"embedding model changed ({self.embedding_model} -> {embedding_model})"
        if self.chunker != chunker:
            return "chunker settings changed"
        return None


@dataclass
class IndexData:
    """One loaded version of the index."""

    manifest: Manifest
    chunks: list[Chunk]
    vectors: np.ndarray  # (n_chunks, dim) float32, rows aligned with chunks
    documents: dict[str, Document]
    faiss_index: Any
    bm25: Any
    path: Path
    dense: VectorIndex  # top-k search over faiss_index (with exact re-ranking where it is approximate)
    mentions: dict[str, tuple[Mention, ...]] = field(default_factory=dict)  # doc_id -> in text order
    sentences: SentenceTable | None = None  # None: an index written before sentences were embedded

    def mentions_in(self, doc_id: str, start: int, end: int) -> list[Mention]:
        """The mentions of `doc_id` lying wholly inside [start, end) (they are sorted by start)."""
        found = self.mentions.get(doc_id, ())
        first = bisect.bisect_left(found, start, key=lambda m: m.start)
        last = bisect.bisect_left(found, end, key=lambda m: m.start)
        return [m for m in found[first:last] if m.end <= end]

    def defining(self, doc_id: str, offset: int) -> tuple[int, int, str] | None:
        """The span and text of the term whose definition holds `offset` in `doc_id`
        (rag/ingestion/definitions.py): it may lie in another chunk than `offset`."""
        document = self.documents.get(doc_id)
        span = document.defining(offset) if document is not None else None
        return (*span, document.text[span[0] : span[1]]) if span else None

    def chunks_of(self, doc_id: str) -> list[int]:
        return list(self.rows_by_doc.get(doc_id, ()))

    @functools.cached_property
    def rows_by_doc(self) -> dict[str, tuple[int, ...]]:
        """Each document's chunk rows, in order (a version is immutable: computed once)."""
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            rows.setdefault(c.doc_id, []).append(i)
        return {d: tuple(r) for d, r in rows.items()}

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The chunk rows of these documents, ascending."""
        rows = [r for d in doc_ids for r in self.rows_by_doc.get(d, ())]
        return np.array(sorted(rows), dtype=np.int64)


@dataclass(frozen=True)
class SentenceTable:
    """The sentences of every chunk, embedded at ingest, and the row of each span."""

    spans: dict[str, tuple[tuple[int, int], ...]]  # doc_id -> its sentences' spans, in row order
    vectors: np.ndarray  # (n, dim) float32, rows in doc_id order, then span order

    @functools.cached_property
    def rows(self) -> dict[tuple[str, int, int], int]:
        out, row = {}, 0
        for doc_id, spans in self.spans.items():
            for s, e in spans:
                out[(doc_id, s, e)] = row
                row += 1
        return out

    def of(self, doc_id: str) -> np.ndarray:
        """The vectors of one document's sentences (empty when it has none)."""
        spans = self.spans.get(doc_id, ())
        if not spans:
            return np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        first = self.rows[(doc_id, *spans[0])]
        return np.asarray(self.vectors[first : first + len(spans)], dtype=np.float32)

    def vector(self, doc_id: str, start: int, end: int) -> np.ndarray | None:
        row = self.rows.get((doc_id, start, end))
        return None if row is None else self.vectors[row]


# ---------------------------------------------------------------- reading


def current_version(index_dir: Path) -> Path | None:
    """The live version directory, None when there is no index at all.

    CURRENT is only ever replaced whole (os.replace), so a pointer that exists
    but is empty or undecodable is damage, not "no index": it must lead to
    `rag ingest --rebuild` (and let a plain ingest rebuild), never to "run `rag ingest` first".
    """
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise _corrupt(index_dir, f"{CURRENT} is unreadable") from None
    if not name:
        raise _corrupt(index_dir, f"{CURRENT} is empty")
    return index_dir / name


def exists(index_dir: Path) -> bool:
    return (index_dir / CURRENT).is_file()


def read_manifest(index_dir: Path, version: Path | None = None) -> Manifest:
    version = version or current_version(index_dir)
    if version is None:
        raise IndexMissingError(f"no index in {index_dir}: run `rag ingest` first")
    try:
        data = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise _corrupt(index_dir, f"manifest unreadable ({type(exc).__name__})") from None


def _corrupt(index_dir: Path, why: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"index in {index_dir} is corrupt: {why}; rebuild it with `rag ingest --rebuild`"
    )


def load(index_dir: Path) -> IndexData:
    """Load the live version; any damage is an IndexCorruptError naming the fix.

    Every file is read from the one version CURRENT named at the start. If that
    version vanished meanwhile (an ingest made a new one live and pruned it), the
    failure is not damage: the load is retried on the version CURRENT names now.
    """
    for _attempt in range(3):
        version = current_version(index_dir)
        try:
            return _load_version(index_dir, version)
        except IndexCorruptError:
            if current_version(index_dir) == version:
                raise
    return _load_version(index_dir, current_version(index_dir))


_FAISS_TYPES = {"flat": ("IndexFlatIP", "IndexFlat"), "hnsw": ("IndexHNSWFlat",), "ivfpq": ("IndexIVFPQ",)}


def _load_version(index_dir: Path, version: Path | None) -> IndexData:
    import bm25s

    from rag.index import vector_index

    manifest = read_manifest(index_dir, version)
    assert version is not None
    if manifest.format != FORMAT_VERSION:
        raise _corrupt(index_dir, f"index format {manifest.format} is not {FORMAT_VERSION}")
    try:
        spec = IndexSpec.from_dict(manifest.vector_index)
    except (TypeError, ValueError, AttributeError):
        raise _corrupt(index_dir, "unknown vector index in the manifest") from None
    try:
        chunks = [Chunk(**json.loads(line)) for line in _lines(version / "chunks.jsonl")]
        documents = {}
        for line in _lines(version / "documents.jsonl"):
            raw = json.loads(line)
            raw["sections"] = tuple(tuple(s) for s in raw["sections"])
            raw["marked"] = tuple(tuple(s) for s in raw.get("marked", ()))
            raw["defined"] = tuple(tuple(s) for s in raw.get("defined", ()))
            documents[raw["doc_id"]] = Document(**raw)
        vectors = np.load(version / "vectors.npy", mmap_mode="r")
        vector_index.advise_random(vectors)
        faiss_index = vector_index.read(version / "vectors.faiss")
        bm25 = bm25s.BM25.load(str(version / "bm25"), mmap=True, show_progress=False)
        mentions = _read_mentions(version / MENTIONS)
        sentences = _read_sentences(version)
    except Exception as exc:  # noqa: BLE001 - every failure here means the same thing to the user
        raise _corrupt(index_dir, f"{type(exc).__name__} while reading {version.name}") from None
    # shape first: a 0-d/1-d vectors.npy must not raise IndexError in the count check
    if vectors.ndim != 2 or vectors.shape[1] != manifest.dim or faiss_index.d != manifest.dim:
        raise _corrupt(index_dir, "vector dimension disagrees with the manifest")
    if not (len(chunks) == manifest.n_chunks == faiss_index.ntotal == vectors.shape[0]):
        raise _corrupt(index_dir, "chunk, vector and manifest counts disagree")
    if type(faiss_index).__name__ not in _FAISS_TYPES[spec.kind]:
        raise _corrupt(index_dir, f"vectors.faiss is not the {spec.kind} index the manifest names")
    if sentences is not None and sentences.vectors.shape != (sum(map(len, sentences.spans.values())), manifest.dim):
        raise _corrupt(index_dir, "sentence vectors disagree with their spans")
    missing = {c.doc_id for c in chunks} - documents.keys()
    if missing:
        raise _corrupt(index_dir, f"chunks refer to unknown documents {sorted(missing)[:3]}")
    dense = VectorIndex(faiss_index, vectors, spec)
    return IndexData(manifest, chunks, vectors, documents, faiss_index, bm25, version, dense, mentions, sentences)


def _read_sentences(version: Path) -> SentenceTable | None:
    if not (version / SENTENCES).exists():
        return None
    spans = {}
    for line in _lines(version / SENTENCES):
        raw = json.loads(line)
        spans[raw["doc_id"]] = tuple((int(s), int(e)) for s, e in raw["spans"])
    vectors = np.load(version / SENTENCE_VECTORS, mmap_mode="r")
    if vectors.ndim != 2:
        raise ValueError("sentences.npy is not a matrix")
    return SentenceTable(spans, vectors)


def _read_mentions(path: Path) -> dict[str, tuple[Mention, ...]]:
    if not path.exists():
        return {}
    out = {}
    for line in _lines(path):
        raw = json.loads(line)
        out[raw["doc_id"]] = tuple(Mention(int(s), int(e), str(label)) for s, e, label in raw["mentions"])
    return out


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield line


# ---------------------------------------------------------------- writing


def build_faiss(vectors: np.ndarray, spec: IndexSpec | None = None):
    """The vector index `spec` names (exact by default); vectors are normalised, so scores are cosines."""
    from rag.index import vector_index

    return vector_index.build(vectors, spec or IndexSpec("flat"))


def build_bm25(texts: list[str]):
    import bm25s

    from rag.index.lexical import tokenize

    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def write(
    index_dir: Path,
    manifest: Manifest,
    chunks: list[Chunk],
    vectors: np.ndarray,
    documents: list[Document],
    mentions: dict[str, tuple[Mention, ...]] | None = None,
    sentences: SentenceTable | None = None,
) -> Path:
    """Write a complete new version and make it live atomically."""
    from rag.index import vector_index

    spec = IndexSpec.from_dict(manifest.vector_index)
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = index_dir / f".tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        _write_json(staging / MANIFEST, asdict(manifest))
        _write_lines(staging / "chunks.jsonl", (asdict(c) for c in chunks))
        _write_lines(staging / "documents.jsonl", (asdict(d) for d in documents))
        _write_lines(
            staging / MENTIONS,
            ({"doc_id": d, "mentions": [[m.start, m.end, m.label] for m in ms]} for d, ms in (mentions or {}).items()),
        )
        np.save(staging / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        if sentences is not None:
            _write_lines(staging / SENTENCES, ({"doc_id": d, "spans": [list(p) for p in ps]}
                                               for d, ps in sentences.spans.items()))  # fmt: skip
            np.save(staging / SENTENCE_VECTORS, np.ascontiguousarray(sentences.vectors, dtype=np.float32))
        vector_index.write(build_faiss(vectors, spec), staging / "vectors.faiss")
        build_bm25([c.indexed_text for c in chunks]).save(str(staging / "bm25"), show_progress=False)
        _fsync_tree(staging)
        final = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        os.rename(staging, final)
        _fsync_dir(index_dir)
        pointer_tmp = index_dir / f".{CURRENT}.tmp"
        pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
        _fsync_file(pointer_tmp)
        os.replace(pointer_tmp, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    prune(index_dir)
    return final


def prune(index_dir: Path) -> None:
    """Remove versions that are not live, staging left by killed processes, and the ingest checkpoint.

    Called with the lock held, once the live version is current: a checkpoint
    is only worth keeping while its ingest has not finished.
    """
    shutil.rmtree(index_dir / CHECKPOINT, ignore_errors=True)
    live = current_version(index_dir)
    for entry in index_dir.iterdir():
        if entry.is_dir() and (entry.name.startswith(".tmp-") or entry.name.startswith("v-")):
            if live is None or entry.name != live.name:
                shutil.rmtree(entry, ignore_errors=True)


def clear(index_dir: Path) -> None:
    """Forget the live version (for --rebuild of a corrupt index); files are pruned later."""
    pointer = index_dir / CURRENT
    if pointer.exists():
        pointer.unlink()


@contextmanager
def lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """One writer at a time; a second ingest fails fast with a clear message."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IndexLockedError(
                f"another ingest is writing {index_dir}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            _fsync_file(Path(dirpath) / name)
        _fsync_dir(Path(dirpath))
