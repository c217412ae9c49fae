"""What every answer-model backend shares: generation settings and the `AnswerModel` interface.

Two backends implement `AnswerModel`, chosen by the `backend` setting:
`rag.answer.generation.llama.Generator` (the default: a GGUF loaded in this
process) and `rag.answer.generation.remote.OpenAIChatGenerator` (any
OpenAI-compatible chat server). The pipeline only uses the interface:
`format_chat` turns the system and user messages into the prompt whose
`count_tokens` must fit the context budget, and `stream` yields the reply
as it is generated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class GenerationSettings:
    max_tokens: int = 40
    temperature: float = 0.0
    stop: tuple[str, ...] = ("\n",)
    grammar: str | None = None  # GBNF
    # Characters the reply may never hold. In process this masks every token holding one, which
    # costs microseconds a token; a GBNF grammar saying the same costs llama.cpp a check of the
    # whole vocabulary each token (generation at 0.65x raw speed, bench/results.md).
    forbid: str = ""


def forbid_grammar(chars: str) -> str:
    """A GBNF grammar equal to `forbid=chars` (one or more characters, none of them), for servers."""
    escaped = "".join({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, "\\" + c if c in "[]\\^-" else c) for c in chars)
    return f"root ::= [^{escaped}]+"


@runtime_checkable
class AnswerModel(Protocol):
    """What the pipeline (and follow-up rewriting) needs from an answer model, wherever it runs."""

    name: str
    n_ctx: int  # the context budget in tokens: the prompt plus the answer must fit

    @property
    def context_size(self) -> int: ...
    def describe(self) -> dict[str, str]: ...  # for health checks and the UI: backend, model, where
    def format_chat(self, system: str, user: str) -> str: ...  # the prompt `stream` takes
    def count_tokens(self, text: str) -> int: ...
    def stream(self, prompt: str, settings: GenerationSettings) -> Iterator[str]: ...
    def stream_chat(self, system: str, user: str, settings: GenerationSettings) -> Iterator[str]: ...
