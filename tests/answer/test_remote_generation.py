"""The answer model on an OpenAI-compatible server: llama-cpp-python's own server, for real.

`llama_server()` (tests/servers.py) runs `python -m llama_cpp.server` with the
packaged SmolLM2 GGUF on a free loopback port; the pipeline talks to it with
`backend = "openai"` through the official `openai` client, streaming.
"""

from __future__ import annotations

import json

import pytest
from conftest import free_port, settings_for
from servers import llama_server, rag_api_server

from rag.answer.generation.base import AnswerModel, GenerationSettings
from rag.answer.generation.factory import answer_model_key
from rag.answer.generation.remote import ChatPrompt, OpenAIChatGenerator
from rag.answer.pipeline import ANSWER_FORBID, Pipeline
from rag.core.errors import ConfigError, RemoteModelError
from rag.core.settings import Settings, load_settings

SAMPLE = "When did Chinese troops arrive in Belarus?"
ARTICLE = "000_9c9ac89b68401338"
EVIDENCE = "On June 6, a contingent of Chinese military personnel arrived in Belarus"
MODEL_KEY = "test-model-key"  # the model server requires it, as a hosted one would
KEY_ENV = "RAG_TEST_MODEL_KEY"  # api_key_env: where the pipeline reads it from


def down_url() -> str:
    """An API root on a loopback port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/v1"


# ---------------------------------------------------------------- settings and pieces (no server)


def test_backend_settings_from_file_and_environment(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'backend = "openai"\nbase_url = "http://gpu-box:8000/v1"\nremote_model = "qwen"\n'
        "remote_grammar = false\nremote_timeout = 5\n",
        encoding="utf-8",
    )
    s = load_settings({"RAG_CONFIG": str(cfg)})
    assert (s.backend, s.base_url, s.remote_model, s.remote_grammar, s.remote_timeout) == (
        "openai", "http://gpu-box:8000/v1", "qwen", False, 5.0,
    )
    assert load_settings({"RAG_CONFIG": str(cfg), "RAG_REMOTE_GRAMMAR": "true"}).remote_grammar is True
    assert Settings().backend == "llama" and Settings().api_key_env == "OPENAI_API_KEY"
    with pytest.raises(ConfigError, match="backend must be one of llama, openai"):
        load_settings({}, backend="vllm")
    with pytest.raises(ConfigError, match="remote_grammar must be bool"):
        load_settings({"RAG_REMOTE_GRAMMAR": "maybe"})
    with pytest.raises(ConfigError, match="base_url must be an http"):
        load_settings({}, backend="openai", base_url="gpu-box:8000")


def test_chat_prompt_carries_the_messages_and_counts_conservatively() -> None:
    gen = OpenAIChatGenerator(down_url(), model="m")
    assert isinstance(gen, AnswerModel)
    prompt = gen.format_chat("Be brief.", "Question: when?")
    assert isinstance(prompt, ChatPrompt) and isinstance(prompt, str)
    assert prompt.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Question: when?"},
    ]
    from rag.ingestion.chunking import count_tokens

    assert gen.count_tokens(prompt) > count_tokens(str(prompt))  # margin plus template overhead
    assert gen.describe() == {"backend": "openai", "model": "m", "base_url": gen.base_url}
    # each (backend, server, model) is its own cached instance in the pipeline
    local, remote = Settings(), Settings(backend="openai", base_url="http://a/v1")
    assert answer_model_key(local) != answer_model_key(remote)
    assert answer_model_key(remote) != answer_model_key(Settings(backend="openai", base_url="http://b/v1"))


def test_a_server_that_is_down_is_one_line_naming_it() -> None:
    url = down_url()
    gen = OpenAIChatGenerator(url, model="m", retries=0, timeout=5)
    with pytest.raises(RemoteModelError) as info:
        list(gen.stream_chat("s", "u", GenerationSettings()))
    message = str(info.value)
    assert url in message and "cannot reach" in message and "\n" not in message
    with pytest.raises(RemoteModelError, match="cannot reach"):
        OpenAIChatGenerator(url, retries=0, timeout=5).model_name()  # "" = ask the server's /models


@pytest.mark.slow
def test_cli_with_the_model_server_down_is_one_error_line(rag_cli, base_index) -> None:
    url = down_url()
    result = rag_cli(
        "--index-dir", str(base_index.index_dir), "ask", SAMPLE,
        env={"RAG_BACKEND": "openai", "RAG_BASE_URL": url, "RAG_REMOTE_RETRIES": "0", "RAG_DRAFT": "true"},
    )
    result.error_line("cannot reach the model server", url)


def test_without_a_draft_a_chat_server_is_never_called(rag_cli, base_index) -> None:
    """A chat server returns no prompt logits, so with no draft the selector answers alone, server or not."""
    result = rag_cli(
        "--index-dir", str(base_index.index_dir), "ask", SAMPLE, "--json",
        env={"RAG_BACKEND": "openai", "RAG_BASE_URL": down_url(), "RAG_REMOTE_RETRIES": "0"},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert "June 6" in data["answer"] and "model_score" not in data["timings"]


# ---------------------------------------------------------------- against llama_cpp.server


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("llama-server"), api_key=MODEL_KEY) as server:
        yield server


@pytest.fixture
def model_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, MODEL_KEY)
    monkeypatch.delenv("RAG_TEST_NO_SUCH_KEY", raising=False)


@pytest.mark.slow
def test_pipeline_answers_through_the_model_server_streaming(model_server, model_key, base_index, embedder) -> None:
    settings = settings_for(base_index.index_dir, backend="openai", base_url=model_server.url, api_key_env=KEY_ENV,
                            draft=True)  # fmt: skip
    pipeline = Pipeline(settings, embedder=embedder)
    assert isinstance(pipeline.generator, OpenAIChatGenerator)
    assert pipeline.model_scores("q", [], ["x"]) is None  # a chat server cannot score: the first stage decides
    pieces: list[str] = []
    answer = pipeline.ask(SAMPLE, on_token=pieces.append)
    assert len(pieces) > 1, pieces  # streamed piece by piece, not in one block
    assert answer.draft == "".join(pieces).strip()
    assert not any(ch in answer.draft for ch in "\n[]"), answer.draft  # the grammar reached the server
    assert not answer.abstained and "June 6" in answer.answer, answer
    assert answer.citations and f"[{answer.citations[0].n}]" in answer.answer
    cited = answer.citations[0]
    assert cited.doc_id == ARTICLE and EVIDENCE in cited.text
    article = pipeline.index.documents[ARTICLE].text
    assert any(EVIDENCE in article[s:e] for s, e in cited.support)
    assert pipeline.generator.model_name() == "smollm2"  # remote_model "" = the server's first model


@pytest.mark.slow
def test_grammar_off_and_a_named_model_work_too(model_server, model_key, base_index, embedder) -> None:
    settings = settings_for(
        base_index.index_dir, backend="openai", base_url=model_server.url, remote_model="smollm2",
        remote_grammar=False, api_key_env=KEY_ENV,
    )
    answer = Pipeline(settings, embedder=embedder).ask(SAMPLE)
    assert "June 6" in answer.answer and answer.citations


@pytest.mark.slow
def test_server_errors_are_one_line(model_server, model_key) -> None:
    settings = GenerationSettings(max_tokens=4, forbid=ANSWER_FORBID)
    # no key where the server wants one: HTTP 401, and the message says where the key goes
    keyless = OpenAIChatGenerator(model_server.url, model="smollm2", api_key_env="RAG_TEST_NO_SUCH_KEY", retries=0)
    with pytest.raises(RemoteModelError) as info:
        list(keyless.stream_chat("s", "u", settings))
    message = str(info.value)
    assert model_server.url in message and "HTTP 401" in message and "$RAG_TEST_NO_SUCH_KEY" in message
    assert "\n" not in message
    # a prompt far beyond the server's 2048-token context: llama_cpp.server cuts the stream short
    gen = OpenAIChatGenerator(model_server.url, model="smollm2", api_key_env=KEY_ENV, retries=0)
    with pytest.raises(RemoteModelError) as info:
        list(gen.stream_chat("s", "word " * 6000, settings))
    message = str(info.value)
    assert model_server.url in message and "without finishing" in message and "\n" not in message


@pytest.mark.slow
def test_the_api_over_the_model_server(model_server, base_index, tmp_path) -> None:
    """Both heavy parts out of the `rag` process's way: the API asks the model server."""
    import openai

    with rag_api_server(
        tmp_path, base_index.index_dir, base_index.collection,
        RAG_BACKEND="openai", RAG_BASE_URL=model_server.url, RAG_API_KEY_ENV=KEY_ENV, **{KEY_ENV: MODEL_KEY},
    ) as api:
        client = openai.OpenAI(base_url=api.url, api_key="unused", max_retries=0, timeout=120)
        response = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": SAMPLE}])
        assert "June 6" in response.choices[0].message.content
        health = json.loads(_get(api.url.removesuffix("/v1") + "/healthz"))
        assert health["model"] == {"backend": "openai", "base_url": model_server.url, "model": None}


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()
