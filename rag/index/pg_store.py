"""Dense vectors in PostgreSQL with pgvector, mirrored from the on-disk index (`vector_store = "pgvector"`).

Tables (prefix `pg_table_prefix`, "rag" by default; one prefix per index):

    <prefix>_meta        key/value: schema version, embedding model, dimension, HNSW
                         parameters, and the fingerprint of the mirrored version
                         (a hash of every document id and content hash)
    <prefix>_documents   doc_id, content hash, title, path, n_chunks
    <prefix>_chunks      doc_id, ordinal, content hash, character span, text,
                         embedding vector(dim); primary key (doc_id, ordinal);
                         an HNSW index on embedding (vector_cosine_ops)

Sync (`sync_index`, after every ingest and when a retriever finds the mirror
behind): documents whose content hash differs from the live version's are
deleted with their chunks, new and changed ones inserted (COPY, binary
vectors: float32 exactly as in vectors.npy), all in one transaction under an
advisory lock, with the fingerprint updated last. A reader therefore sees
either the old mirror or the new one, never a half-written one.

Search: `ORDER BY embedding <=> query LIMIT k` (cosine distance; score =
1 - distance, the same cosine FAISS reports for these normalised vectors).
While the collection is small enough for exact search (`vector_index` auto and
at most `flat_max_vectors` chunks, or `vector_index = "flat"`) the index scan
is switched off and the scan is exact, so results equal FAISS Flat; above
that, the HNSW index answers (`hnsw_m`, `hnsw_ef_construction`,
`hnsw_ef_search`, the same settings as FAISS HNSW).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.core.errors import VectorStoreError, first_line
from rag.core.settings import Settings, mask_password

if TYPE_CHECKING:
    from rag.index.store import IndexData, Manifest

SCHEMA_VERSION = "1"
MIN_SERVER_VERSION = 140000  # PostgreSQL 14
CONNECT_TIMEOUT = 10  # seconds, unless the URL sets connect_timeout
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search


def _driver():
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError:
        raise VectorStoreError(
            "vector_store = \"pgvector\" needs psycopg and pgvector: pip install -e '.[pgvector]'"
        ) from None
    return psycopg, register_vector


def database_url(settings: Settings) -> str:
    """The configured URL, or the bundled local server's (started on first use) when none is set."""
    if settings.database_url:
        return settings.database_url
    from rag.index.pg_local import local_url

    return local_url(settings.index_dir / "pgdata")


def fingerprint(manifest: Manifest) -> str:
    """What the mirror must hold for an index: model, dimension, and every document's content hash."""
    digest = hashlib.sha256(f"{manifest.embedding_model}\n{manifest.dim}\n".encode())
    for doc_id in sorted(manifest.documents):
        digest.update(f"{doc_id}\t{manifest.documents[doc_id]['hash']}\n".encode())
    return digest.hexdigest()


def is_current(meta: dict[str, str], manifest: Manifest, settings: Settings) -> bool:
    """Whether the mirror described by `meta` holds `manifest`'s version, indexed as `settings` say."""
    hnsw = {k: str(v) for k, v in _hnsw_params(settings).items()}
    return meta.get("fingerprint") == fingerprint(manifest) and meta.get("hnsw") == _params_text(hnsw)


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rows_written: int = 0
    recreated: str | None = None  # why the tables were dropped and made again

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.recreated)


@dataclass(frozen=True)
class _Diff:
    """How the mirrored documents differ from an index version's, by content hash."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    hashes: dict[str, str]  # doc_id -> content hash, for every document of the version

    @property
    def gone(self) -> list[str]:
        """Documents whose mirrored rows are deleted: removed ones and the old form of changed ones."""
        return [*self.removed, *self.changed]

    @property
    def todo(self) -> list[str]:
        """Documents (changed, then added) whose rows are written."""
        return [*self.changed, *self.added]


def _rows_of(index: IndexData, doc_ids: Sequence[str]) -> dict[str, list[int]]:
    """doc_id -> the rows of its chunks in `index`, for the documents in `doc_ids` that have any."""
    wanted = set(doc_ids)
    rows_of: dict[str, list[int]] = {}
    if wanted:
        for row, chunk in enumerate(index.chunks):
            if chunk.doc_id in wanted:
                rows_of.setdefault(chunk.doc_id, []).append(row)
    return rows_of


class PgVectorStore:
    """One connection to one database, and the tables of one prefix in it."""

    def __init__(self, url: str, prefix: str):
        psycopg, self._register = _driver()
        self._psycopg = psycopg
        self.url = url
        self.shown_url = mask_password(url)
        self.prefix = prefix
        self._lock = threading.Lock()  # one statement sequence at a time on the connection
        self.conn = self._connect()

    # ------------------------------------------------------------ connecting

    def _connect(self):
        psycopg = self._psycopg
        extra = {} if "connect_timeout" in self.url else {"connect_timeout": CONNECT_TIMEOUT}
        try:
            conn = psycopg.connect(self.url, autocommit=True, **extra)
        except psycopg.OperationalError as exc:
            why = first_line(exc)
            hint = "; is it running?" if "refused" in why.lower() or "timeout" in why.lower() else ""
            raise VectorStoreError(f"cannot reach PostgreSQL at {self.shown_url} ({why}){hint}") from None
        except psycopg.ProgrammingError as exc:  # a malformed URL
            raise VectorStoreError(f"database_url {self.shown_url} is not usable: {first_line(exc)}") from None
        try:
            version = conn.info.server_version
            if version < MIN_SERVER_VERSION:
                raise VectorStoreError(
                    f"PostgreSQL at {self.shown_url} is version {version // 10000}; rag needs 14 or later"
                )
            self._ensure_extension(conn)
            self._register(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _ensure_extension(self, conn) -> None:
        psycopg = self._psycopg
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
            return
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise VectorStoreError(
                f"the pgvector extension is not available in {self.shown_url} ({first_line(exc)}); "
                "install pgvector on the server and run CREATE EXTENSION vector as a superuser"
            ) from None

    def close(self) -> None:
        self.conn.close()

    def _run(self, work):
        """Run `work(conn)` in one transaction; a dropped connection is re-opened once."""
        psycopg = self._psycopg
        with self._lock:
            for attempt in (1, 2):
                if self.conn.closed or self.conn.broken:
                    self.conn = self._connect()
                try:
                    with self.conn.transaction():
                        return work(self.conn)
                except psycopg.OperationalError as exc:
                    if attempt == 2 or not (self.conn.closed or self.conn.broken):
                        raise VectorStoreError(f"PostgreSQL at {self.shown_url} failed: {first_line(exc)}") from None
                except psycopg.Error as exc:
                    raise VectorStoreError(f"PostgreSQL at {self.shown_url}: {first_line(exc)}") from None
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ names

    def _table(self, name: str):
        return self._psycopg.sql.Identifier(f"{self.prefix}_{name}")

    def _sql(self, template: str, **names: str):
        """`template` with {meta}, {documents}, {chunks}, {hnsw} and `names` filled in as identifiers."""
        sql = self._psycopg.sql
        idents = {n: self._table(n) for n in ("meta", "documents", "chunks")}
        idents["hnsw"] = sql.Identifier(f"{self.prefix}_chunks_hnsw")
        idents.update({k: sql.Identifier(v) for k, v in names.items()})
        return sql.SQL(template).format(**idents)

    # ------------------------------------------------------------ reading

    def meta(self) -> dict[str, str]:
        return self._run(self._meta)

    def _meta(self, conn) -> dict[str, str]:
        exists = conn.execute("SELECT to_regclass(%s)", [f"{self.prefix}_meta"]).fetchone()[0]
        if exists is None:
            return {}
        return dict(conn.execute(self._sql("SELECT key, value FROM {meta}")).fetchall())

    def documents(self) -> dict[str, str]:
        """doc_id -> content hash of the mirrored documents."""
        def work(conn):
            if not self._meta(conn):
                return {}
            return dict(conn.execute(self._sql("SELECT doc_id, hash FROM {documents}")).fetchall())

        return self._run(work)

    def chunk_rows(self) -> list[tuple[str, int, str, int, int, str, np.ndarray]]:
        """Every mirrored chunk (doc_id, ordinal, hash, start, end, text, embedding), by doc_id and ordinal."""
        def work(conn):
            rows = conn.execute(self._sql(
                'SELECT doc_id, ordinal, hash, start_char, end_char, text, embedding FROM {chunks} '
                'ORDER BY doc_id, ordinal'
            )).fetchall()  # fmt: skip
            return [(*r[:6], r[6].to_numpy()) for r in rows]

        return self._run(work)

    def search(self, query_vec: np.ndarray, k: int, exact: bool, ef_search: int) -> list[tuple[str, int, str, float]]:
        """(doc_id, ordinal, hash, cosine) of the `k` nearest chunks, best first.

        `exact`: a full scan (the planner may not use the HNSW index); else the HNSW
        index answers, with `ef_search` candidates (at least k).
        """
        if k <= 0:
            return []
        rows = self._run(lambda conn: conn.execute(*self._nearest(conn, query_vec, k, exact, ef_search)).fetchall())
        return [(d, int(o), h, float(s)) for d, o, h, s in rows]

    def plan(self, query_vec: np.ndarray, k: int, exact: bool, ef_search: int) -> str:
        """PostgreSQL's plan for `search` (EXPLAIN), to see which path answers."""
        def work(conn):
            statement, params = self._nearest(conn, query_vec, k, exact, ef_search)
            return conn.execute(self._psycopg.sql.SQL("EXPLAIN ") + statement, params).fetchall()

        return "\n".join(r[0] for r in self._run(work))

    def _nearest(self, conn, query_vec: np.ndarray, k: int, exact: bool, ef_search: int):
        # settings local to the transaction _run opened
        if exact:  # the (approximate) HNSW index must not answer
            conn.execute("SELECT set_config('enable_indexscan', 'off', true)")
        else:  # the HNSW index answers even where the planner would scan a small table
            conn.execute("SELECT set_config('enable_seqscan', 'off', true)")
            # the graph search keeps ef_search candidates: never fewer than asked for
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(min(MAX_EF_SEARCH, max(ef_search, k)))])
        statement = self._sql(
            "SELECT doc_id, ordinal, hash, 1 - (embedding <=> %(q)b) FROM {chunks} "
            "ORDER BY embedding <=> %(q)b LIMIT %(k)s"
        )
        return statement, {"q": np.ascontiguousarray(query_vec, dtype=np.float32).reshape(-1), "k": k}

    # ------------------------------------------------------------ writing

    def sync(self, index: IndexData, hnsw: dict[str, int]) -> SyncReport:
        """Make the mirror hold exactly `index`'s documents, chunks and vectors (incrementally)."""
        return self._run(lambda conn: self._sync(conn, index, hnsw))

    def _sync(self, conn, index: IndexData, hnsw: dict[str, int]) -> SyncReport:
        """Tables (made again if their model or dimension changed), documents out and in, HNSW graph, meta."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"rag-mirror:{self.prefix}"])
        meta, recreated = self._tables(conn, index.manifest)
        diff = self._diff(conn, index.manifest)
        if diff.gone:  # chunks go with their documents (ON DELETE CASCADE)
            conn.execute(self._sql("DELETE FROM {documents} WHERE doc_id = ANY(%s)"), [diff.gone])
        rows_of = _rows_of(index, diff.todo)
        n_rows = sum(len(r) for r in rows_of.values())
        params = {k: str(v) for k, v in hnsw.items()}
        empty = not conn.execute(self._sql("SELECT EXISTS (SELECT 1 FROM {chunks})")).fetchone()[0]
        has_index = meta.get("hnsw") == _params_text(params) and self._index_exists(conn)
        rebuild_index = not has_index or (empty and n_rows > 0)
        if rebuild_index:  # a bulk load is faster without the graph; it is built once afterwards
            conn.execute(self._sql("DROP INDEX IF EXISTS {hnsw}"))
        if diff.todo:
            self._copy_documents(conn, index.manifest, diff.todo, rows_of)
            self._copy_chunks(conn, index, diff.todo, rows_of, diff.hashes)
        if rebuild_index:
            conn.execute(self._sql(
                "CREATE INDEX {hnsw} ON {chunks} USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {int(hnsw['m'])}, ef_construction = {int(hnsw['ef_construction'])})"
            ))  # fmt: skip
        self._set_meta(conn, {"fingerprint": fingerprint(index.manifest), "hnsw": _params_text(params)})
        return SyncReport(
            added=list(diff.added), changed=list(diff.changed), removed=list(diff.removed),
            rows_written=n_rows, recreated=recreated,
        )

    def _tables(self, conn, manifest: Manifest) -> tuple[dict[str, str], str | None]:
        """The mirror's meta, after dropping and making the tables again where schema, model or
        dimension differ from `manifest`'s; and why they were made again (None if they were not)."""
        wanted = {"schema": SCHEMA_VERSION, "embedding_model": manifest.embedding_model, "dim": str(manifest.dim)}
        meta = self._meta(conn)
        recreated = None
        if meta and any(meta.get(k) != v for k, v in wanted.items()):
            changed = [k for k, v in wanted.items() if meta.get(k) != v]
            recreated = f"{', '.join(changed)} changed"
            for name in ("chunks", "documents", "meta"):
                conn.execute(self._sql(f"DROP TABLE IF EXISTS {{{name}}}"))
            meta = {}
        if not meta:
            self._create(conn, manifest.dim)
            conn.cursor().executemany(
                self._sql("INSERT INTO {meta} (key, value) VALUES (%s, %s)"), list(wanted.items())
            )
            meta = dict(wanted)
        return meta, recreated

    def _diff(self, conn, manifest: Manifest) -> _Diff:
        """Documents the mirror lacks, holds in another form, or holds beyond `manifest`'s."""
        mirrored = dict(conn.execute(self._sql("SELECT doc_id, hash FROM {documents}")).fetchall())
        local = {d: m["hash"] for d, m in manifest.documents.items()}
        return _Diff(
            added=tuple(sorted(set(local) - set(mirrored))),
            changed=tuple(sorted(d for d in local if d in mirrored and mirrored[d] != local[d])),
            removed=tuple(sorted(set(mirrored) - set(local))),
            hashes=local,
        )

    def _copy_documents(self, conn, manifest: Manifest, todo: Sequence[str], rows_of: dict[str, list[int]]) -> None:
        with conn.cursor().copy(self._sql(
            "COPY {documents} (doc_id, hash, title, path, n_chunks) FROM STDIN"
        )) as copy:  # fmt: skip
            for doc_id in todo:
                doc = manifest.documents[doc_id]
                copy.write_row((doc_id, doc["hash"], doc.get("title"), doc.get("path"), len(rows_of.get(doc_id, []))))

    def _create(self, conn, dim: int) -> None:
        conn.execute(self._sql("CREATE TABLE {meta} (key text PRIMARY KEY, value text NOT NULL)"))
        conn.execute(self._sql(
            "CREATE TABLE {documents} (doc_id text PRIMARY KEY, hash text NOT NULL, title text, path text, "
            "n_chunks integer NOT NULL)"
        ))  # fmt: skip
        conn.execute(self._sql(
            "CREATE TABLE {chunks} ("
            " doc_id text NOT NULL REFERENCES {documents} (doc_id) ON DELETE CASCADE,"
            " ordinal integer NOT NULL,"
            " hash text NOT NULL,"
            " start_char integer NOT NULL,"
            " end_char integer NOT NULL,"
            " text text NOT NULL,"
            f" embedding vector({int(dim)}) NOT NULL,"
            " PRIMARY KEY (doc_id, ordinal))"
        ))  # fmt: skip

    def _index_exists(self, conn) -> bool:
        return conn.execute("SELECT to_regclass(%s)", [f"{self.prefix}_chunks_hnsw"]).fetchone()[0] is not None

    def _copy_chunks(self, conn, index: IndexData, todo: Sequence[str], rows_of, hashes) -> None:
        with conn.cursor().copy(self._sql(
            "COPY {chunks} (doc_id, ordinal, hash, start_char, end_char, text, embedding) FROM STDIN "
            "WITH (FORMAT BINARY)"
        )) as copy:  # fmt: skip
            copy.set_types(["text", "int4", "text", "int4", "int4", "text", "vector"])
            for doc_id in todo:
                rows = rows_of.get(doc_id, [])
                if not rows:
                    continue
                vectors = np.asarray(index.vectors[rows], dtype=np.float32)
                for row, vector in zip(rows, vectors):
                    c = index.chunks[row]
                    copy.write_row((c.doc_id, c.ordinal, hashes[doc_id], c.start, c.end, c.text, vector))

    def _set_meta(self, conn, values: dict[str, str]) -> None:
        conn.cursor().executemany(
            self._sql(
                "INSERT INTO {meta} (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
            ),
            list(values.items()),
        )

    def drop(self) -> None:
        """Remove this prefix's tables (tests, and a switch back to FAISS that should leave nothing behind)."""
        def work(conn):
            for name in ("chunks", "documents", "meta"):
                conn.execute(self._sql(f"DROP TABLE IF EXISTS {{{name}}}"))

        self._run(work)


def _params_text(params: dict[str, str]) -> str:
    return ",".join(f"{k}={params[k]}" for k in sorted(params))


def _hnsw_params(settings: Settings) -> dict[str, int]:
    return {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction}


# ---------------------------------------------------------------- the retriever's side

_SHARED: dict[tuple[str, str], PgVectorStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(settings: Settings) -> PgVectorStore:
    """One connection per database and prefix in this process, reused across index reloads."""
    url = database_url(settings)
    key = (url, settings.pg_table_prefix)
    with _SHARED_LOCK:
        store = _SHARED.get(key)
        if store is None or store.conn.closed:
            store = _SHARED[key] = PgVectorStore(url, settings.pg_table_prefix)
        return store


def mirror_index(index_dir: Path, settings: Settings) -> SyncReport:
    """Mirror the live version in `index_dir` into PostgreSQL (after an ingest), if it is not already.

    A connection of its own, closed afterwards; the index is only loaded when
    the mirror is behind (the fingerprint check needs the manifest alone).
    """
    from rag.index import store as disk

    pg = PgVectorStore(database_url(settings), settings.pg_table_prefix)
    try:
        if is_current(pg.meta(), disk.read_manifest(index_dir), settings):
            return SyncReport()
        return pg.sync(disk.load(index_dir), _hnsw_params(settings))
    finally:
        pg.close()


class PgDense:
    """Dense search in PostgreSQL, answering in the rows of one loaded index version."""

    name = "pgvector"

    def __init__(self, store: PgVectorStore, index: IndexData, settings: Settings):
        from rag.index import vector_index

        self.store = store
        self.index = index
        self.exact = vector_index.choose(len(index.chunks), index.manifest.dim, settings).kind == "flat"
        self.ef_search = settings.hnsw_ef_search
        self._rows = {(c.doc_id, c.ordinal): i for i, c in enumerate(index.chunks)}
        self._hash = {d: m["hash"] for d, m in index.manifest.documents.items()}

    @classmethod
    def open(cls, index: IndexData, settings: Settings) -> PgDense:
        store = shared_store(settings)
        if not is_current(store.meta(), index.manifest, settings):
            store.sync(index, _hnsw_params(settings))  # the mirror is behind this version: catch up
        return cls(store, index, settings)

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, len(self._rows))
        found = self.store.search(query_vec, k, self.exact, self.ef_search)
        # rows another index version wrote (a newer ingest elsewhere) are not this version's: skipped
        return [
            (self._rows[(doc_id, ordinal)], score)
            for doc_id, ordinal, digest, score in found
            if self._hash.get(doc_id) == digest and (doc_id, ordinal) in self._rows
        ]


def rows_match(index: IndexData, mirrored: Iterable[tuple[Any, ...]]) -> bool:
    """Whether `mirrored` (PgVectorStore.chunk_rows) holds exactly `index`'s chunks and vectors."""
    local = sorted(range(len(index.chunks)), key=lambda r: (index.chunks[r].doc_id, index.chunks[r].ordinal))
    mirrored = list(mirrored)
    if len(mirrored) != len(local):
        return False
    for row, (doc_id, ordinal, digest, start, end, text, vector) in zip(local, mirrored):
        c = index.chunks[row]
        if (c.doc_id, c.ordinal, c.start, c.end, c.text) != (doc_id, ordinal, start, end, text):
            return False
        if index.manifest.documents[doc_id]["hash"] != digest:
            return False
        if not np.array_equal(np.asarray(index.vectors[row], dtype=np.float32), vector):
            return False
    return True
