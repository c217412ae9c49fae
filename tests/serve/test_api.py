"""The HTTP API: OpenAI-compatible chat completions answered by the RAG pipeline.

The request and response shapes are checked in process against a stand-in
pipeline (fast); then `rag serve --api` runs as a real subprocess over a
private copy of the tiny index and is called with the official `openai`
client (non-streaming and streaming) and with httpx (/healthz, /v1/ingest).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from conftest import EXTRA_DOC, copy_index, doc_id
from servers import rag_api_server

from rag.answer.pipeline import ABSTAIN, check_question
from rag.core.errors import RemoteModelError
from rag.core.records import Answer, Citation, Document
from rag.core.settings import Settings
from rag.serve.api import API_MODEL, create_api, parse_chat_request

SAMPLE = "When did Chinese troops arrive in Belarus?"
ARTICLE = "000_9c9ac89b68401338"
EVIDENCE = "On June 6, a contingent of Chinese military personnel arrived in Belarus"
API_KEY = "s3cret-test-key"
KEY_ENV = "RAG_TEST_API_KEY"


# ---------------------------------------------------------------- in process, a stand-in pipeline

FAKE_TEXT = "The Zorblat festival was held on March 3 in Kelvane. It drew 4,000 visitors."


class FakePipeline:
    """What the routes use of a Pipeline: settings, check_question, ask, index, reload."""

    def __init__(self, fail: BaseException | None = None):
        self.settings = Settings()
        doc = Document("zorblat", "zorblat.txt", FAKE_TEXT, "Zorblat", None, ((0, len(FAKE_TEXT)),), "h")
        self.index = SimpleNamespace(
            documents={"zorblat": doc}, manifest=SimpleNamespace(n_chunks=1, embedding_model="m"), path=Path("v1")
        )
        self.fail = fail
        self.asked: list[tuple[str, dict]] = []
        self.reloaded = 0

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def ask(self, question, on_token=None, **overrides) -> Answer:
        self.asked.append((question, overrides))
        for piece in ("It was ", "on March 3"):
            if on_token:
                on_token(piece)
        if self.fail is not None:
            raise self.fail
        citation = Citation(1, "zorblat", "Zorblat", 0, len(FAKE_TEXT), FAKE_TEXT, ((0, 50),))
        return Answer(question, "March 3 [1]", False, citations=[citation], draft="It was on March 3")

    def reload(self) -> None:
        self.reloaded += 1


def _client(pipeline=None, api_key=None):
    from fastapi.testclient import TestClient

    return TestClient(create_api(pipeline or FakePipeline(), api_key=api_key))


def _ask(client, **body):
    body.setdefault("messages", [{"role": "user", "content": "When was the Zorblat festival?"}])
    return client.post("/v1/chat/completions", json={"model": "rag", **body})


def _sse(text: str) -> list:
    events = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]", events[-3:]
    return [json.loads(e) for e in events[:-1]]


def test_completion_is_openai_shaped_with_citations() -> None:
    pipeline = FakePipeline()
    response = _ask(_client(pipeline), temperature=0.5, retriever="bm25", top_k=3)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == API_MODEL
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "March 3 [1]"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    (citation,) = body["citations"]
    assert citation["doc"] == "zorblat" and citation["support"][0]["text"] == FAKE_TEXT[:50]
    assert body["rag"]["citations"] == body["citations"] and body["rag"]["abstained"] is False
    assert body["rag"]["draft"] == "It was on March 3"
    assert pipeline.asked == [("When was the Zorblat festival?", {"temperature": 0.5, "retriever": "bm25", "top_k": 3})]


def test_stream_is_openai_chunks_with_the_draft_then_the_answer() -> None:
    response = _ask(_client(), stream=True, stream_options={"include_usage": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    chunks = _sse(response.text)
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == API_MODEL for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "It was on March 3"
    assert "".join(d.get("content") or "" for d in deltas) == "March 3 [1]"
    final = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(final) == 1 and final[0]["choices"][0]["finish_reason"] == "stop"
    assert final[0]["citations"][0]["doc"] == "zorblat" and final[0]["rag"]["answer"] == "March 3 [1]"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"messages": []}, "messages must be a non-empty list"),
        ({"messages": [{"role": "system", "content": "be nice"}]}, "no user message"),
        ({"messages": [{"role": "user", "content": "   "}]}, "the question is empty"),
        ({"messages": [{"role": "user", "content": "x" * 5000}]}, "the limit is 2000"),
        ({"messages": [{"content": "hi"}]}, "must be an object with a role"),
        ({"n": 2}, "n must be 1"),
        ({"retriever": "grep"}, "retriever must be one of"),
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"stream": "yes"}, "stream must be true or false"),
    ],
)
def test_bad_requests_are_400_in_openai_error_shape(body, needle) -> None:
    pipeline = FakePipeline()
    response = _ask(_client(pipeline), **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert needle in error["message"] and "\n" not in error["message"]
    assert pipeline.asked == []


def test_not_json_and_stream_with_an_empty_question_are_400_too() -> None:
    client = _client()
    response = client.post("/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]
    response = _ask(client, stream=True, messages=[{"role": "user", "content": ""}])
    assert response.status_code == 400 and response.json()["error"]["message"] == "the question is empty"


def test_content_parts_and_the_previous_turn_are_read() -> None:
    request = parse_chat_request(
        {
            "messages": [
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": SAMPLE},
                {"role": "assistant", "content": "June 6 [1]"},
                {"role": "user", "content": [{"type": "text", "text": "And where did they"}, {"type": "text", "text": "train?"}]},
            ]
        }
    )
    assert request.question == "And where did they train?"
    assert (request.previous.question, request.previous.answer) == (SAMPLE, "June 6 [1]")
    after_abstention = parse_chat_request(
        {"messages": [{"role": "user", "content": "a?"}, {"role": "assistant", "content": ABSTAIN},
                      {"role": "user", "content": "b?"}]}
    )
    assert after_abstention.previous.answer == ""
    assert parse_chat_request({"messages": [{"role": "user", "content": "a?"}]}).previous is None


def test_model_server_failure_is_502_and_an_error_event_in_a_stream() -> None:
    failing = FakePipeline(fail=RemoteModelError("cannot reach the model server http://gpu:8000/v1 (refused)"))
    response = _ask(_client(failing))
    assert response.status_code == 502
    assert response.json()["error"]["message"].startswith("cannot reach the model server http://gpu:8000/v1")
    events = _sse(_ask(_client(FakePipeline(fail=failing.fail)), stream=True).text)
    assert events[-1]["error"]["code"] == "model_server_error" and "http://gpu:8000/v1" in events[-1]["error"]["message"]
    # the openai client turns the error event into an exception
    import openai

    client = openai.OpenAI(base_url="http://testserver/v1", api_key="x", http_client=_client(failing), max_retries=0)
    with pytest.raises(openai.APIError, match="cannot reach the model server http://gpu:8000/v1"):
        for _chunk in client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "q?"}],
                                                     stream=True):
            pass


def test_bearer_key_guards_v1_but_not_healthz() -> None:
    client = _client(api_key=API_KEY)
    for path in ("/v1/models", "/v1/models/rag"):
        assert client.get(path).status_code == 401
    assert client.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    denied = _ask(client)
    assert denied.status_code == 401 and denied.json()["error"]["type"] == "authentication_error"
    ok = client.get("/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
    assert ok.status_code == 200 and [m["id"] for m in ok.json()["data"]] == [API_MODEL]
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["index"]["documents"] == 1


# ---------------------------------------------------------------- `rag serve --api`, for real


@pytest.fixture(scope="module")
def api_server(tmp_path_factory, base_index):
    root = tmp_path_factory.mktemp("api")
    copied = copy_index(base_index, root)
    collection, index_dir = copied.collection, copied.index_dir
    # RAG_DRAFT: the stream carries the model's draft when one is asked for (draft = true)
    with rag_api_server(root, index_dir, collection, "--api-key-env", KEY_ENV, RAG_DRAFT="true",
                        **{KEY_ENV: API_KEY}) as server:
        yield SimpleNamespace(url=server.url, root=server.url.removesuffix("/v1"), collection=collection,
                              server=server)


@pytest.fixture
def client(api_server):
    import openai

    return openai.OpenAI(base_url=api_server.url, api_key=API_KEY, max_retries=0, timeout=180)


def _check_citations(citations: list[dict], collection: Path) -> None:
    assert citations and any(c["doc"] == ARTICLE and EVIDENCE in c["text"] for c in citations)
    article = (collection / f"{ARTICLE}.txt").read_text(encoding="utf-8")
    for c in citations:
        assert article[c["start"] : c["end"]] == c["text"]
        assert any(EVIDENCE in s["text"] for s in c["support"])


@pytest.mark.slow
def test_openai_client_gets_a_cited_answer(client, api_server) -> None:
    assert [m.id for m in client.models.list().data] == [API_MODEL]
    response = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": SAMPLE}])
    answer = response.choices[0].message.content
    assert "June 6" in answer and response.choices[0].finish_reason == "stop"
    citations = response.model_extra["citations"]
    assert all(f"[{c['n']}]" in answer for c in citations)
    _check_citations(citations, api_server.collection)
    rag = response.model_extra["rag"]  # the `rag ask --json` object
    assert {"question", "answer", "abstained", "citations", "retrieved", "timings"} <= set(rag)
    assert rag["answer"] == answer and rag["citations"] == citations and rag["abstained"] is False


@pytest.mark.slow
def test_a_follow_up_is_rewritten_from_the_history(client) -> None:
    follow_up = "What about the Belarusian troops?"
    response = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "user", "content": SAMPLE},
            {"role": "assistant", "content": "June 6 [1]"},
            {"role": "user", "content": follow_up},
        ],
    )
    rewrite = response.model_extra["rag"]["rewrite"]
    assert rewrite["original"] == follow_up and rewrite["method"] != "standalone"
    assert "Belarusian troops" in rewrite["standalone"] and rewrite["standalone"] != follow_up
    assert response.model_extra["rag"]["question"] == rewrite["standalone"]


@pytest.mark.slow
def test_openai_client_streams_the_draft_then_the_answer(client, api_server) -> None:
    stream = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": SAMPLE}], stream=True
    )
    draft, content, final = [], [], None
    for chunk in stream:
        delta = chunk.choices[0].delta
        if (delta.model_extra or {}).get("reasoning_content"):
            draft.append(delta.model_extra["reasoning_content"])
        if delta.content:
            content.append(delta.content)
        if chunk.choices[0].finish_reason:
            final = chunk
    assert len(draft) > 1  # the model's draft arrived piece by piece
    answer = "".join(content)
    assert "June 6" in answer and final is not None and final.choices[0].finish_reason == "stop"
    _check_citations(final.model_extra["citations"], api_server.collection)
    assert final.model_extra["rag"]["draft"] == "".join(draft).strip()


@pytest.mark.slow
def test_openai_client_sees_errors_as_exceptions(client, api_server) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="no user message"):
        client.chat.completions.create(model="rag", messages=[{"role": "system", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="the question is empty"):
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": " "}])
    wrong = openai.OpenAI(base_url=api_server.url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="rag", messages=[{"role": "user", "content": SAMPLE}])
    unanswerable = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "What is the population of Belarus?"}]
    )
    assert unanswerable.model_extra["rag"]["abstained"] is True
    assert unanswerable.model_extra["citations"] == []


@pytest.mark.slow
def test_healthz_and_ingest_over_http(client, api_server) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=api_server.root, timeout=300) as http:
        health = http.get("/healthz").json()
        assert health["status"] == "ok" and health["index"]["loaded"] is True
        assert health["index"]["documents"] == 3 and health["index"]["chunks"] > 0
        assert health["model"] == {"backend": "llama", "model": "smollm2"}

        assert http.post("/v1/ingest", json={}).status_code == 401
        # a file dropped into the collection folder: an incremental re-ingest picks it up
        from conftest import CORPUS

        shutil.copy(CORPUS / EXTRA_DOC, api_server.collection / EXTRA_DOC)
        report = http.post("/v1/ingest", json={}, headers=auth)
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["added"] == [doc_id(EXTRA_DOC)] and body["unchanged"] == 3 and body["documents"] == 4
        assert body["summary"].startswith("1 added, 0 changed, 0 removed, 3 unchanged")
        # an uploaded file goes into the collection, is indexed, and answers right away
        upload = ("zorblat.txt", FAKE_TEXT.encode(), "text/plain")
        report = http.post("/v1/ingest", files=[("files", upload)], headers=auth)
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["files"] == [{"name": "zorblat.txt", "ok": True, "message": "added"}]
        assert body["added"] == ["zorblat"] and body["documents"] == 5
        assert (api_server.collection / "zorblat.txt").read_text() == FAKE_TEXT
        refused = http.post("/v1/ingest", files=[("files", ("../evil.exe", b"x", "text/plain"))], headers=auth)
        assert refused.status_code == 200 and refused.json()["files"][0]["ok"] is False
        assert http.get("/healthz").json()["index"]["documents"] == 5
    response = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "When was the Zorblat festival held?"}]
    )
    assert "March 3" in response.choices[0].message.content
    assert response.model_extra["citations"][0]["doc"] == "zorblat"


def test_api_start_errors_are_one_line(rag_cli, tmp_path) -> None:
    import socket

    from conftest import free_port

    missing = rag_cli("--index-dir", str(tmp_path / "none"), "serve", "--api", "--port", str(free_port()))
    assert "rag ingest" in missing.error_line("no index")
    unset = rag_cli("serve", "--api", "--port", str(free_port()), "--api-key-env", "RAG_TEST_UNSET_KEY")
    unset.error_line("RAG_TEST_UNSET_KEY", "not set")
    rag_cli("serve", "--api", "--auth", "ann:pw").error_line("--api-key-env")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rag_cli("serve", "--api", "--port", str(port)).error_line(f"127.0.0.1:{port}", "--port")


@pytest.mark.slow
def test_the_ui_and_the_api_in_one_process(index_copy, tmp_path) -> None:
    """`python app.py --with-api`: the page at /, the key-guarded API under /v1, one model behind both."""
    import openai
    from gradio_client import Client

    with rag_api_server(tmp_path, index_copy.index_dir, index_copy.collection, "--api-key-env", KEY_ENV,
                        with_ui=True, **{KEY_ENV: API_KEY}) as server:
        page = httpx.get(f"{server.base}/", timeout=30)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        api = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0, timeout=180)
        response = api.chat.completions.create(model="rag", messages=[{"role": "user", "content": SAMPLE}])
        assert "June 6" in response.choices[0].message.content
        _check_citations(response.model_extra["citations"], index_copy.collection)
        wrong = openai.OpenAI(base_url=server.url, api_key="wrong", max_retries=0, timeout=60)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
        history, data, _box = Client(f"{server.base}/", verbose=False).predict(question=SAMPLE, api_name="/ask")
        assert "June 6" in data["answer"] and data["citations"]


def test_with_api_start_errors_are_one_line(rag_cli) -> None:
    rag_cli("serve", "--api-key-env", "X").error_line("--with-api")
    rag_cli("serve", "--api", "--with-api").error_line("choose one")
    rag_cli("serve", "--with-api", "--api-key-env", "RAG_TEST_UNSET_KEY").error_line("RAG_TEST_UNSET_KEY", "not set")


@pytest.mark.slow
def test_a_scoped_question_and_summaries_over_http(client, api_server) -> None:
    import openai

    belarus = "003_096012cda1bf5463"
    question = [{"role": "user", "content": "When will the joint military exercises begin?"}]
    response = client.chat.completions.create(model="rag", messages=question, extra_body={"documents": ["003"]})
    rag = response.model_extra["rag"]
    assert rag["scope"] == [belarus] and not rag["abstained"]
    assert {h["doc"] for h in rag["retrieved"]} == {belarus} == {c["doc"] for c in rag["citations"]}
    with pytest.raises(openai.BadRequestError, match="closest: 003_096012cda1bf5463"):
        client.chat.completions.create(model="rag", messages=question, extra_body={"documents": "003_096012cda1bf5464"})
    headers = {"Authorization": f"Bearer {API_KEY}"}
    listed = httpx.get(f"{api_server.url}/documents", headers=headers, timeout=60).json()["data"]
    assert belarus in [d["doc"] for d in listed] and all(d["chunks"] > 0 for d in listed)
    summary = httpx.get(f"{api_server.url}/documents/002/summary?sentences=2", headers=headers, timeout=120)
    assert summary.status_code == 200, summary.text
    data = summary.json()
    article = (api_server.collection / f"{data['doc']}.txt").read_text(encoding="utf-8")
    assert len(data["sentences"]) == 2 and all(article[s["start"] : s["end"]] == s["text"] for s in data["sentences"])
    topics = httpx.get(f"{api_server.url}/summary", headers=headers, timeout=120).json()["topics"]
    assert sorted(d["doc"] for t in topics for d in t["documents"]) == sorted(d["doc"] for d in listed)
    bad = httpx.get(f"{api_server.url}/documents/nope/summary", headers=headers, timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("no document 'nope'")
    assert httpx.get(f"{api_server.url}/documents", timeout=60).status_code == 401  # the key guards them too
