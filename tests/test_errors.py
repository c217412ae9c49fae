"""Every error kind through every door: the `rag` command, the HTTP API, the chat worker of the web UI.

A `RagError` carries its one-line message, exit code and HTTP status
(rag/core/errors.py), and each door catches the root once. The per-kind
matrix injects each kind through a tiny pipeline whose answer raises it;
then real failures go through the real `rag` command in a subprocess and
through a real `rag serve --api`.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import typer
from conftest import copy_index
from servers import rag_api_server

from rag.answer.pipeline import check_question
from rag.core import errors as E
from rag.core.settings import Settings
from rag.index import store
from rag.serve.api import api_error, create_api, error_body

QUESTION = "When did Chinese troops arrive in Belarus?"
SECOND = "\nthe rest of the story, for the log only"  # must never reach the user

# kind, its HTTP status, OpenAI error type and code
KINDS = [
    (E.ConfigError("top_k must be at least 1" + SECOND), 400, "invalid_request_error", None),
    (E.QuestionError("the question is empty" + SECOND), 400, "invalid_request_error", None),
    (E.LoadError("/docs/a.pdf", "empty\nfile"), 400, "invalid_request_error", None),
    (E.UploadError("unsupported file type '.exe'" + SECOND), 400, "invalid_request_error", None),
    (E.DocumentError("no document '003' in the index; closest: 003_0960" + SECOND), 400, "invalid_request_error",
     None),  # fmt: skip
    (E.GoldError("gold.jsonl line 2: bad JSON" + SECOND), 400, "invalid_request_error", None),
    (E.BaselineError("baseline.json does not exist" + SECOND), 400, "invalid_request_error", None),
    (E.PromptError("prompt template answer.md is missing" + SECOND), 500, "server_error", None),
    (E.ModelMissingError("model smollm2 is not installed" + SECOND), 503, "api_error", "model_unavailable"),
    (E.RemoteModelError("cannot reach the model server" + SECOND), 502, "api_error", "model_server_error"),
    (E.StoreError("the index cannot be used" + SECOND), 503, "api_error", "index_unavailable"),
    (E.IndexMissingError("no index in idx; run `rag ingest` first" + SECOND), 503, "api_error", "index_unavailable"),
    (E.IndexCorruptError("the index is corrupt" + SECOND), 503, "api_error", "index_unavailable"),
    (E.IndexLockedError("another ingest is writing idx" + SECOND), 409, "api_error", "ingest_running"),
    (E.VectorStoreError("cannot reach PostgreSQL" + SECOND), 503, "api_error", "vector_store_unavailable"),
    (E.LocalServerError("the bundled PostgreSQL did not start" + SECOND), 503, "api_error",
     "vector_store_unavailable"),  # fmt: skip
    (E.ConversationStoreError("conversation store c.sqlite3: database is locked" + SECOND), 503, "api_error",
     "conversation_store_unavailable"),  # fmt: skip
    (E.ConversationMissingError("no conversation named 'x'" + SECOND), 404, "invalid_request_error",
     "conversation_not_found"),  # fmt: skip
    (E.ConversationNameError("another conversation is already named 'x'" + SECOND), 400,
     "invalid_request_error", None),  # fmt: skip
    (E.StartError("cannot listen on 127.0.0.1:80" + SECOND), 500, "server_error", None),
]
IDS = [type(exc).__name__ for exc, *_ in KINDS]


def first_line(exc: BaseException) -> str:
    return "/docs/a.pdf: empty file" if isinstance(exc, E.LoadError) else str(exc).split("\n")[0]


def test_the_matrix_covers_every_kind() -> None:
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    public = {c for c in subclasses(E.RagError) if not c.__name__.startswith("_") and c is not E.ApiError}
    assert public == {type(exc) for exc, *_ in KINDS}
    assert all(issubclass(getattr(E, name), E.RagError) for name in dir(E) if name.endswith("Error"))


@pytest.mark.parametrize(("exc", "status", "kind", "code"), KINDS, ids=IDS)
def test_each_kind_has_one_line_and_its_status(exc, status, kind, code) -> None:
    assert exc.message == first_line(exc) and "\n" not in exc.message
    assert exc.exit_code == 2
    error = api_error(exc)
    assert error is exc and (error.http_status, error.error_type, error.error_code) == (status, kind, code)
    assert error_body(error) == {"error": {"message": first_line(exc), "type": kind, "param": exc.param, "code": code}}


# ---------------------------------------------------------------- the HTTP API, in process


class RaisingPipeline:
    """What the API and the chat worker use of a Pipeline, whose answer fails with `error`."""

    def __init__(self, error: BaseException):
        self.settings = Settings()
        self.index = SimpleNamespace(documents={}, manifest=SimpleNamespace(n_chunks=0, embedding_model="m"))
        self.error = error

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def ask(self, question, on_token=None, **overrides):
        if on_token:
            on_token("a draft ")
        raise self.error

    def reload(self) -> None: ...


def _post(error: BaseException, **body):
    from fastapi.testclient import TestClient

    client = TestClient(create_api(RaisingPipeline(error)))
    return client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}], **body})


@pytest.mark.parametrize(("exc", "status", "kind", "code"), KINDS, ids=IDS)
def test_each_kind_over_http_is_its_status_and_openai_error(exc, status, kind, code) -> None:
    expected = {"error": {"message": first_line(exc), "type": kind, "param": exc.param, "code": code}}
    response = _post(exc)
    assert (response.status_code, response.json()) == (status, expected)
    streamed = _post(exc, stream=True)  # the status is sent before the answer: the error is the last event
    events = [line.removeprefix("data: ") for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert streamed.status_code == 200 and events[-1] == "[DONE]"
    assert json.loads(events[-2]) == expected


def test_anything_else_over_http_is_a_500_unexpected() -> None:
    response = _post(ValueError("a bug\nits details"))
    assert response.status_code == 500
    assert response.json() == {"error": {"message": "unexpected ValueError: a bug", "type": "server_error",
                                         "param": None, "code": None}}  # fmt: skip


def test_request_errors_of_the_api_itself() -> None:
    from fastapi.testclient import TestClient

    client = TestClient(create_api(RaisingPipeline(ValueError()), api_key="k"))
    denied = client.get("/v1/models")
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert denied.json()["error"]["code"] == "invalid_api_key"
    missing = client.get("/v1/models/gpt-9", headers={"Authorization": "Bearer k"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {"message": "no model 'gpt-9'; this server has 'rag'",
                                       "type": "invalid_request_error", "param": "model", "code": "model_not_found"}


# ---------------------------------------------------------------- the chat worker behind the web UI


@pytest.mark.parametrize(("exc", "status", "kind", "code"), KINDS, ids=IDS)
def test_the_chat_worker_reports_each_kind_as_its_one_line(exc, status, kind, code) -> None:
    from rag.serve.chat import ChatService, Failed

    events = list(ChatService(RaisingPipeline(exc)).run(QUESTION, None))
    assert events[-1] == Failed(first_line(exc))


def test_the_chat_worker_reports_anything_else_as_unexpected() -> None:
    from rag.serve.chat import ChatService, Failed

    events = list(ChatService(RaisingPipeline(ValueError("a bug\nits details"))).run(QUESTION, None))
    assert events[-1] == Failed("unexpected ValueError: a bug")


# ---------------------------------------------------------------- the command line, in process


@pytest.mark.parametrize(("exc", "status", "kind", "code"), KINDS, ids=IDS)
def test_the_cli_prints_each_kind_as_one_error_line(exc, status, kind, code, capsys, monkeypatch) -> None:
    from rag.serve.cli import _errors

    monkeypatch.delenv("RAG_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as info, _errors():
        raise exc
    assert info.value.exit_code == exc.exit_code == 2
    assert capsys.readouterr().err == f"error: {first_line(exc)}\n"


def test_the_cli_prints_anything_else_as_unexpected_exit_1(capsys, monkeypatch) -> None:
    from rag.serve.cli import _errors

    monkeypatch.delenv("RAG_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as info, _errors():
        raise ValueError("a bug\nits details")
    assert info.value.exit_code == 1
    assert capsys.readouterr().err == "unexpected ValueError: a bug\n"


# ---------------------------------------------------------------- the real `rag` command


def _bad_gold(tmp_path: Path) -> list[str]:
    gold = tmp_path / "bad.jsonl"
    gold.write_text('{"question": "Who?"}\n', encoding="utf-8")
    return ["eval", "--gold", str(gold), "--report", str(tmp_path / "r")]


def _unknown_setting(tmp_path: Path) -> list[str]:
    config = tmp_path / "rag.toml"
    config.write_text("frobnicate = true\n", encoding="utf-8")
    return ["--config", str(config), "config"]


def test_cli_config_gold_baseline_and_load_errors(rag_cli, tmp_path) -> None:
    rag_cli(*_unknown_setting(tmp_path)).error_line("unknown setting(s) frobnicate")
    rag_cli(*_bad_gold(tmp_path)).error_line("bad.jsonl line 1: missing field")
    rag_cli("eval", "--check", str(tmp_path / "none.json")).error_line("none.json", "does not exist")
    rag_cli("--index-dir", str(tmp_path / "i"), "ingest", str(tmp_path / "nowhere")).error_line(
        "nowhere: folder does not exist"
    )
    rag_cli("serve", "--api", "--api-key-env", "RAG_TEST_UNSET_KEY").error_line("RAG_TEST_UNSET_KEY", "not set")


def test_cli_question_index_model_and_prompt_errors(rag_cli, base_index, tmp_path) -> None:
    index = ["--index-dir", str(base_index.index_dir)]
    rag_cli(*index, "ask", " ").error_line("the question is empty")
    rag_cli("--index-dir", str(tmp_path / "never"), "ask", QUESTION).error_line("no index in", "rag ingest")
    rag_cli(*index, "ask", QUESTION, "--model", "/nonexistent/m.gguf").error_line("/nonexistent/m.gguf")
    (tmp_path / "prompts").mkdir()
    rag_cli(*index, "ask", QUESTION, env={"RAG_PROMPTS_DIR": str(tmp_path / "prompts")}).error_line(
        "prompt template", "is missing"
    )


def test_cli_locked_index_and_vector_store_down(rag_cli, index_copy) -> None:
    from conftest import free_port

    ingest = ["--index-dir", str(index_copy.index_dir), "ingest", str(index_copy.collection)]
    with store.lock(index_copy.index_dir):  # this process holds the lock the command needs
        result = rag_cli(*ingest)
    assert result.returncode == 2
    result.error_line("another ingest is writing", str(index_copy.index_dir))
    down = {"RAG_VECTOR_STORE": "pgvector", "RAG_DATABASE_URL": f"postgresql://127.0.0.1:{free_port()}/rag"}
    assert rag_cli(*ingest, env=down).returncode == 2
    rag_cli(*ingest, env=down).error_line("cannot reach PostgreSQL")


@pytest.mark.slow
def test_cli_model_server_down(rag_cli, base_index) -> None:
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    # RAG_DRAFT: the draft is what a chat server is asked for (it cannot score candidates)
    env = {"RAG_BACKEND": "openai", "RAG_BASE_URL": url, "RAG_REMOTE_RETRIES": "0", "RAG_ABSTAIN_THRESHOLD": "0",
           "RAG_DRAFT": "true"}  # fmt: skip
    result = rag_cli("--index-dir", str(base_index.index_dir), "ask", QUESTION, env=env)
    assert result.returncode == 2
    result.error_line("cannot reach the model server", url)


# ---------------------------------------------------------------- a real `rag serve --api`


@pytest.fixture(scope="module")
def api(tmp_path_factory, base_index):
    root = tmp_path_factory.mktemp("errors-api")
    copied = copy_index(base_index, root)
    collection, index_dir = copied.collection, copied.index_dir
    with rag_api_server(root, index_dir, collection) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        yield SimpleNamespace(http=http, collection=collection, index_dir=index_dir)


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert "\n" not in body["error"]["message"]
    return body["error"]


@pytest.mark.slow
def test_real_server_question_and_setting_errors_are_400(api) -> None:
    ask = {"model": "rag", "messages": [{"role": "user", "content": "   "}]}
    empty = _error(api.http.post("/chat/completions", json=ask), 400)
    assert empty == {"message": "the question is empty", "type": "invalid_request_error", "param": None, "code": None}
    ask = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}], "retriever": "grep"}
    bad = _error(api.http.post("/chat/completions", json=ask), 400)
    assert "retriever must be one of" in bad["message"] and bad["type"] == "invalid_request_error"


@pytest.mark.slow
def test_real_server_ingest_errors(api) -> None:
    with store.lock(api.index_dir):  # another writer holds the index
        locked = _error(api.http.post("/ingest", json={}), 409)
    assert locked["code"] == "ingest_running" and "another ingest is writing" in locked["message"]
    moved = api.collection.with_name("moved-away")
    api.collection.rename(moved)
    try:
        missing = _error(api.http.post("/ingest", json={}), 400)
    finally:
        moved.rename(api.collection)
    assert missing["type"] == "invalid_request_error" and missing["message"].endswith(": folder does not exist")


def test_an_unknown_document_names_the_documents_field() -> None:
    body = error_body(api_error(E.DocumentError("no document 'x' in the index; closest: y")))
    assert body["error"]["param"] == "documents" and body["error"]["type"] == "invalid_request_error"
