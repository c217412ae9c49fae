"""The collection folder as the web UI manages it: stats, safe uploads, removal, re-ingest.

Uploads are untrusted: only the base name of a file is used, hidden and odd
names are refused, so is anything over `max_file_mb`, and a file is checked
by loading it (`rag.ingestion.loading.load_document`) before it joins the collection.
A file is written under a hidden temporary name (the loader ignores hidden
files) and renamed into place, so an ingest never sees half a file.

Nothing is deleted: a removed document, or one replaced by an upload of the
same name, is moved to a sibling folder `<collection>-trash/`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import LoadError, RagError, UploadError
from rag.core.settings import Settings
from rag.index.store import IndexData
from rag.ingestion.indexer import IngestReport, Progress, ingest
from rag.ingestion.loading import SUPPORTED_SUFFIXES, load_document

MAX_NAME_CHARS = 150
# A name starts with a letter or digit; then letters, digits, spaces and a little punctuation.
_SAFE_NAME = re.compile(r"^\w[\w .,()+&'’\[\]-]*$", re.UNICODE)


@dataclass(frozen=True)
class FileResult:
    """What happened to one uploaded file."""

    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class Stats:
    """What the collection panel shows."""

    documents: int
    chunks: int
    embedding_model: str
    model: str  # the answer model setting (packaged name or path)
    model_file: str  # the GGUF file it resolves to
    built: float  # epoch seconds the live index version was written
    collection: Path
    index_dir: Path


def safe_name(raw: str) -> str:
    """The base name of an uploaded file, or UploadError when it is hidden, odd or unsupported.

    Path components (either separator) are dropped, so "../../x.txt" can only
    ever become "x.txt" inside the collection.
    """
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", raw or "")[-1]).strip()
    if not name:
        raise UploadError("the file has no name")
    if name.startswith("."):
        raise UploadError("hidden file names (starting with a dot) are not accepted")
    if len(name) > MAX_NAME_CHARS:
        raise UploadError(f"the file name is longer than {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name) or not _SAFE_NAME.match(name):
        raise UploadError("odd characters in the file name; use letters, digits, spaces and . , - _ ( )")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UploadError(f"unsupported file type {suffix or '(none)'!r}; use {kinds}")
    return name


def trash_dir(folder: Path) -> Path:
    """Where removed and replaced documents go: `<collection>-trash/`, beside the collection."""
    folder = Path(folder).resolve()
    return folder.parent / f"{folder.name}-trash"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _to_trash(path: Path, folder: Path) -> Path:
    trash = trash_dir(folder)
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / path.name
    if target.exists():
        target = trash / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


class Collection:
    """One collection folder and the index built from it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.folder = Path(settings.collection)
        self._embedder = None  # its own: a tokenizer must not be shared with a running question

    # ------------------------------------------------------------ uploads

    def add_file(self, source: Path, name: str) -> FileResult:
        """Check one uploaded file and put it into the collection (not yet indexed)."""
        try:
            name = safe_name(name)
            return FileResult(name, True, self._add(Path(source), name))
        except RagError as exc:
            return FileResult(name, False, exc.message)

    def _add(self, source: Path, name: str) -> str:
        limit = self.settings.max_file_mb
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise UploadError(f"cannot read the upload ({exc.strerror or exc})") from None
        if size > limit * 1024 * 1024:
            raise UploadError(f"{size / 1024 / 1024:.1f} MB is over the {limit:g} MB limit (max_file_mb)")
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        if not _inside(target.parent, self.folder) or target.parent.resolve() != self.folder.resolve():
            raise UploadError("not a name inside the collection")
        staging = self.folder / f".upload-{uuid.uuid4().hex[:12]}{target.suffix}"
        try:
            shutil.copyfile(source, staging)
            try:
                load_document(staging)
            except LoadError as exc:
                raise UploadError(exc.reason) from None
            verb = "added"
            if target.is_symlink() or target.exists():
                if target.is_file() and not target.is_symlink() and _sha256(target) == _sha256(staging):
                    return "already in the collection, unchanged"
                _to_trash(target, self.folder)
                verb = "replaced (the previous version is in the trash folder)"
            os.replace(staging, target)
            return verb
        finally:
            staging.unlink(missing_ok=True)

    # ------------------------------------------------------------ removal

    def file_of(self, doc_id: str, index: IndexData) -> Path:
        """The file a document was loaded from; it must lie inside the collection."""
        document = index.documents.get(doc_id)
        if document is None:
            raise UploadError(f"no document {doc_id!r} in the index")
        candidates = [Path(document.path)]
        candidates += [self.folder / f"{doc_id}{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES)]
        candidates.append(self.folder / doc_id)
        for path in candidates:
            if path.is_file() and not path.is_symlink() and _inside(path, self.folder):
                return path
        raise UploadError(f"the file of {doc_id!r} is not in {self.folder}")

    def remove(self, doc_id: str, index: IndexData) -> Path:
        """Move a document's file to the trash folder; returns where it went."""
        if len(index.documents) <= 1:
            raise UploadError("the collection would be empty; add another document first")
        return _to_trash(self.file_of(doc_id, index), self.folder)

    # ------------------------------------------------------------ indexing

    def ingest(self, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Bring the index in line with the folder (incremental unless `rebuild`)."""
        if self._embedder is None:
            from rag.index.embedding import Embedder

            s = self.settings
            self._embedder = Embedder(s.embedding_model, batch_size=s.embed_batch_size)
        return ingest(self.settings, self.folder, rebuild=rebuild, progress=progress, embedder=self._embedder)

    def stats(self, index: IndexData, model_file: str) -> Stats:
        manifest = index.manifest
        return Stats(
            documents=len(index.documents),
            chunks=manifest.n_chunks,
            embedding_model=manifest.embedding_model,
            model=self.settings.model,
            model_file=model_file,
            built=manifest.created,
            collection=self.folder,
            index_dir=self.settings.index_dir,
        )
