"""The answer model the settings select; backends are imported only when chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.answer.generation.base import AnswerModel

if TYPE_CHECKING:
    from rag.core.settings import Settings


def load_answer_model(settings: Settings) -> AnswerModel:
    """The answer model `settings` selects: in process (`backend = "llama"`) or a chat server."""
    if settings.backend == "openai":
        from rag.answer.generation.remote import OpenAIChatGenerator

        return OpenAIChatGenerator.from_settings(settings)
    from rag.answer.generation.llama import Generator

    return Generator(settings.model, n_ctx=settings.n_ctx, n_threads=settings.n_threads, seed=settings.seed)


def answer_model_key(settings: Settings) -> tuple:
    """Settings that name one loaded answer model: equal keys share one instance."""
    if settings.backend == "openai":
        return ("openai", settings.base_url, settings.remote_model, settings.api_key_env, settings.n_ctx)
    return ("llama", settings.model)
