"""What every server checks before it listens: the port, who can reach it, the models.

Shared by the web UI (rag/serve/webui.py) and the HTTP API (rag/serve/api.py), so both
fail the same way, in one line: the port before spending seconds on models,
the index and the models before the first question.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from typing import TYPE_CHECKING

from rag.core.errors import RagError, StartError, first_line

if TYPE_CHECKING:
    from rag.answer.pipeline import Pipeline
    from rag.core.settings import Settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Fail before loading models when the port is taken (the server binds the same way)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port")


def api_key_from_env(env_name: str | None) -> str | None:
    """The API key in the environment variable `env_name`; None when no variable is named."""
    if not env_name:
        return None
    key = os.environ.get(env_name, "")
    if not key:
        raise StartError(f"--api-key-env names {env_name}, which is not set (or empty) in the environment")
    return key


def open_api_warning(host: str, key: str | None) -> str | None:
    """The warning for an API reachable from other machines that answers without a key."""
    if is_loopback(host) or key:
        return None
    return f"warning: the API on {host} answers anyone who can reach it; set --api-key-env to require a key"


log = logging.getLogger(__name__)


def load_pipeline(settings: Settings) -> Pipeline:
    """The pipeline a server answers with, loaded now under server settings (`for_server`).

    A missing or broken index, embedder, GGUF, prompt or vector store is a
    StartError here, not an error at the first question. A model server
    (`backend = "openai"`) that does not answer yet is only a warning: it may
    come up later.
    """
    from rag.answer.pipeline import Pipeline
    from rag.index.embedding import resolve_model_dir

    settings = settings.for_server()
    try:
        resolve_model_dir(settings.embedding_model)  # before the index: a missing model package is said first
        pipeline = Pipeline(settings)
        generator = pipeline.generator  # the GGUF loads now: a broken file fails at start
        if settings.backend == "openai":
            generator.count_tokens("")  # the tokenizer data loads now, not at the first question
    except RagError as exc:
        raise StartError(exc.message) from None
    if settings.backend == "openai":
        try:
            generator.check()
        except Exception as exc:  # noqa: BLE001 - the server may come up later; say so now
            log.warning("warning: %s", first_line(exc))
    return pipeline
