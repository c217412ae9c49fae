"""The one error hierarchy: every failure a user can act on is a `RagError`.

Each kind carries what every door needs, so the CLI, the web UI, the chat
worker and the HTTP API each catch `RagError` once instead of keeping lists:
a one-line message for the person, an exit code for the shell, and an HTTP
status with OpenAI's error type and code for the API. Anything else that
escapes is a bug: "unexpected <type>", exit 1, HTTP 500.
"""

from __future__ import annotations

from pathlib import Path


def one_line(error: BaseException | str, limit: int | None = None) -> str:
    """Another program's error as one line for a message of ours: all its text, every run of
    whitespace (line breaks too) one space, cut to `limit` characters with "…"; an exception
    without text is named by its type."""
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def first_line(exc: BaseException) -> str:
    """An exception as one line for the user: a RagError's message; else its first line, spaces collapsed."""
    if isinstance(exc, RagError):
        return exc.message
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


class RagError(Exception):
    """A failure the user can act on; the message's first line says what and how to fix it."""

    exit_code = 2
    http_status = 500
    error_type = "server_error"  # OpenAI's error `type`
    error_code: str | None = None  # OpenAI's error `code`
    param: str | None = None  # OpenAI's error `param`: the request field at fault

    @property
    def message(self) -> str:
        text = str(self).strip()
        return text.splitlines()[0].strip() if text else type(self).__name__


class _RequestError(RagError):
    """Something the caller sent that cannot be used: fixing it is the caller's part."""

    http_status = 400
    error_type = "invalid_request_error"


class ConfigError(_RequestError):
    """A setting that cannot be used."""


class QuestionError(_RequestError):
    """A question that cannot be asked (empty, too long)."""


class LoadError(_RequestError):
    """A file that cannot be loaded; the message is one line naming the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # keep the message on one line
        super().__init__(f"{self.path}: {self.reason}")


class DocumentError(_RequestError):
    """A document ID (or prefix, or glob) that names no document of the index; the message names the closest."""

    param = "documents"


class UploadError(_RequestError):
    """A file that cannot join the collection (type, size, name)."""


class GoldError(_RequestError):
    """A gold QA file that cannot be used."""


class BaselineError(_RequestError):
    """A quality-gate baseline file that cannot be used."""


class PromptError(RagError):
    """A prompt template that is missing or malformed."""


class ModelMissingError(RagError):
    """A model package or file is not installed; the message names the fix."""

    http_status = 503
    error_type = "api_error"
    error_code = "model_unavailable"


class RemoteModelError(ModelMissingError):
    """The model server cannot be used; the message names `base_url`."""

    http_status = 502
    error_code = "model_server_error"


class StoreError(RagError):
    """The index cannot be used; the message says how to fix it."""

    http_status = 503
    error_type = "api_error"
    error_code = "index_unavailable"


class IndexMissingError(StoreError):
    """No index has been built yet."""


class IndexCorruptError(StoreError):
    """The index on disk is damaged or half-written."""


class IndexLockedError(StoreError):
    """Another ingest holds the index."""

    http_status = 409
    error_code = "ingest_running"


class VectorStoreError(RagError):
    """The vector store cannot be used (server down, extension missing, bad URL)."""

    http_status = 503
    error_type = "api_error"
    error_code = "vector_store_unavailable"


class LocalServerError(VectorStoreError):
    """The bundled PostgreSQL cannot be set up or started."""


class ConversationStoreError(RagError):
    """The conversation store cannot be read or written (damaged, locked, newer schema).

    Never fatal to a question: the answer is given and the message says it was not saved.
    """

    http_status = 503
    error_type = "api_error"
    error_code = "conversation_store_unavailable"


class ConversationMissingError(_RequestError):
    """No stored conversation has that name."""

    http_status = 404
    error_code = "conversation_not_found"


class ConversationNameError(_RequestError):
    """A conversation name that cannot be used (empty, or another conversation's)."""


class StartError(RagError):
    """A server cannot start (port taken, unsafe exposure, missing key)."""


class ApiError(RagError):
    """An HTTP request that fails for a reason of its own (auth, body, route): status given per instance."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.http_status, self.error_type, self.error_code, self.param = status, kind, code, param
