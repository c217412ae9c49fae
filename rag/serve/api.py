"""The HTTP API: OpenAI-compatible chat completions whose answers are RAG answers.

Routes (all JSON; `rag serve --api` serves them standalone, `mount_api` adds
them to another FastAPI app, such as the web UI's):

- `POST /v1/chat/completions` - OpenAI's request and response schema. The
  last user message is the question; when an earlier user question and
  assistant answer precede it, a follow-up ("and when did it end?") is
  first rewritten into a standalone question (rag/serve/conversation.py).
  `stream: true` answers with server-sent events in OpenAI's chunk format,
  ending with `data: [DONE]`.
  Extensions (documented in the README, "HTTP API"):
  * response: top-level `citations` (the same objects as `rag ask --json`)
    and `rag` (the whole `rag ask --json` object, plus `draft` and
    `rewrite`); in a stream both come with the last chunk, the one with
    `finish_reason`.
  * stream: the model's draft arrives as `delta.reasoning_content` pieces
    while it is generated (the field reasoning models use, so chat clients
    show it as "thinking"); the answer, which is extracted from the
    documents after the draft, arrives as `delta.content`.
  * request: `retriever` ("dense" | "bm25" | "hybrid") and `top_k` choose
    the retrieval, like `rag ask --retriever --top-k`; `documents` (IDs,
    prefixes or globs) asks only those documents, like `rag ask --doc`; `temperature` is
    honoured; `max_tokens` and other sampling fields are ignored (the answer
    is a span copied from the documents).
- `GET /v1/models` - the one model id, `rag`, for clients that check it.
- `POST /v1/ingest` - bring the index in line with the collection folder
  (incremental; JSON `{"rebuild": true}` rebuilds), after saving any files
  uploaded as multipart `files`; returns the ingest summary. The pipeline
  then answers from the new index.
- `GET /v1/documents` - the collection's documents (`doc`, `title`, `date`, `chunks`);
  `GET /v1/documents/{doc}/summary?sentences=N` - a document's extractive summary, as
  `rag summarize --json` prints it; `GET /v1/summary?sentences=N&documents=a,b` - the
  collection's, grouped by topic, as `rag summarize --all --json`.
- `GET /healthz` - index loaded, document and chunk counts, the answer model.

Errors use OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`,
with a one-line message and the status the `RagError` carries
(rag/core/errors.py): 400 for a bad request (no user message, an empty
question, a bad setting, a file that cannot be loaded), 401 for a missing or
wrong key, 409 while another ingest runs, 502 when the model server fails,
503 when the index, the vector store or the model is unavailable. Anything
else is a bug: 500, "unexpected <type>", and the traceback in the log.

Only the pipeline's public interface is used (`ask`, `reload`, `settings`,
`index.documents`; `scope`, `summary`, `collection_summary` for documents and summaries), so the routes do not depend on which vector store
holds the index. Answers are serialised by one lock (a llama.cpp context is
not thread-safe; the UI shares the lock when it serves the same pipeline);
ingests run outside it and are serialised by their own lock.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import queue
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request  # at module level: route annotations are resolved from these globals
from fastapi.responses import JSONResponse, StreamingResponse
from openai.types import CompletionUsage, ErrorObject, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from starlette.concurrency import run_in_threadpool

from rag.core.errors import ApiError, IndexLockedError, RagError, StartError, first_line
from rag.core.settings import Settings
from rag.serve.startup import api_key_from_env, check_port, load_pipeline, open_api_warning

API_MODEL = "rag"
MAX_UPLOADS = 100
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- errors


def api_error(exc: BaseException) -> RagError:
    """The error a request answers with: a RagError as it is; anything else is a bug, a 500 "unexpected"."""
    if isinstance(exc, RagError):
        return exc
    log.error("unexpected error answering a request", exc_info=exc)
    return ApiError(500, f"unexpected {type(exc).__name__}: {first_line(exc)}", "server_error")


def error_body(error: RagError) -> dict[str, Any]:
    """OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""
    detail = ErrorObject(message=error.message, type=error.error_type, param=error.param, code=error.error_code)
    return {"error": detail.to_dict()}


def error_response(exc: BaseException) -> JSONResponse:
    error = api_error(exc)
    headers = {"WWW-Authenticate": "Bearer"} if error.http_status == 401 else None
    return JSONResponse(error_body(error), status_code=error.http_status, headers=headers)


# ---------------------------------------------------------------- the service behind the routes


@dataclass
class Reply:
    """One answered question, with the index documents it was answered from."""

    answer: Any  # rag.core.records.Answer
    documents: Mapping[str, Any]
    rewrite: Any | None  # rag.serve.conversation.Rewrite, when the question was a follow-up


class RagService:
    """A pipeline, the lock that serialises answers, and the collection ingests write.

    `source` is a `Pipeline`, or anything with a `.pipeline` attribute (such as the
    UI's ChatService), whose `.lock` is then shared when it has one.
    """

    def __init__(self, source: Any, lock: Any = None, collection: Any = None):
        self._source = source
        shared = getattr(source, "lock", None) if hasattr(source, "pipeline") else None
        self.lock = lock or shared or threading.RLock()
        self._collection = collection
        self._ingest_lock = threading.Lock()
        self._rewrite_template = None
        self.started = int(time.time())

    @property
    def pipeline(self):
        return self._source.pipeline if hasattr(self._source, "pipeline") else self._source

    @property
    def settings(self) -> Settings:
        return self.pipeline.settings

    @property
    def collection(self):
        if self._collection is None:
            from rag.serve.collection import Collection

            self._collection = Collection(self.settings)
        return self._collection

    def answer(self, question: str, previous: Any, overrides: dict[str, Any],
               on_token: Callable[[str], None] | None = None) -> Reply:
        with self.lock:
            pipeline = self.pipeline
            settings = pipeline.settings.with_overrides(**overrides)
            question = pipeline.check_question(question)
            rewrite = None
            if previous is not None:
                from rag.answer.prompting import load_template
                from rag.serve.conversation import Rewriter

                if self._rewrite_template is None:
                    self._rewrite_template = load_template(settings.prompts_dir, "rewrite")
                rewriter = Rewriter.for_pipeline(pipeline, self._rewrite_template, settings)
                rewrite = rewriter.rewrite(question, previous)
                question = rewrite.standalone
            answer = pipeline.ask(question, on_token=on_token, **overrides)
            return Reply(answer, pipeline.index.documents, rewrite)

    def ingest(self, rebuild: bool = False) -> Any:
        """Re-ingest the collection folder, then make the pipeline answer from the new index."""
        if not self._ingest_lock.acquire(blocking=False):
            raise IndexLockedError("another ingest is running; try again when it has finished")
        try:
            report = self.collection.ingest(rebuild=rebuild)
            with self.lock:
                self.pipeline.reload()
            return report
        finally:
            self._ingest_lock.release()

    def health(self) -> dict[str, Any]:
        settings = self.settings
        try:
            index = self.pipeline.index
            manifest = getattr(index, "manifest", None)
            chunks = getattr(manifest, "n_chunks", None)
            info: dict[str, Any] = {
                "loaded": True,
                "documents": len(index.documents),
                "chunks": chunks if chunks is not None else len(getattr(index, "chunks", ())),
                "embedding_model": getattr(manifest, "embedding_model", settings.embedding_model),
                "version": Path(str(getattr(index, "path", ""))).name or None,
            }
        except Exception as exc:  # noqa: BLE001 - health reports, never fails
            info = {"loaded": False, "error": first_line(exc)}
        if settings.backend == "openai":
            model = {"backend": "openai", "base_url": settings.base_url, "model": settings.remote_model or None}
        else:
            model = {"backend": "llama", "model": settings.model}
        return {"status": "ok" if info["loaded"] else "unavailable", "index": info, "model": model,
                "api_model": API_MODEL}


# ---------------------------------------------------------------- request parsing


def _text(content: Any) -> str:
    """A message's text: a string, or OpenAI's list of content parts (text parts only)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and part.get("type", "text") == "text":
                parts.append(str(part.get("text", "")))
        return " ".join(parts)
    raise ApiError(400, "a message's content must be a string or a list of content parts", param="messages")


@dataclass
class ChatRequest:
    question: str
    previous: Any  # rag.serve.conversation.Turn | None
    stream: bool
    include_usage: bool
    overrides: dict[str, Any]
    prompt_text: str  # all message text, for the usage count


def _turns(body: Any) -> list[tuple[str, str]]:
    """(role, text) of every message in the request."""
    if not isinstance(body, Mapping):
        raise ApiError(400, "the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty list of chat messages", param="messages")
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise ApiError(400, f"messages[{i}] must be an object with a role", param="messages")
        turns.append((message["role"], _text(message.get("content"))))
    return turns


def _previous_turn(turns: list[tuple[str, str]], users: list[int]) -> Any:
    """The last question and answer before the question, for rewriting a follow-up; None without one."""
    from rag.answer.pipeline import ABSTAIN
    from rag.serve.conversation import Turn

    answers = [i for i in range(users[-1]) if turns[i][0] == "assistant"]
    if not answers:
        return None
    asked = [i for i in users if i < answers[-1]]
    if not asked:
        return None
    reply = " ".join(turns[answers[-1]][1].split())
    return Turn(" ".join(turns[asked[-1]][1].split()), "" if reply == ABSTAIN else reply)


def _overrides(body: Mapping[str, Any]) -> dict[str, Any]:
    """The retrieval and sampling fields the answer honours (`temperature`, `retriever`, `top_k`,
    `documents`: the document IDs, prefixes or globs the question is asked of)."""
    overrides = {name: body[name] for name in ("temperature", "retriever", "top_k") if body.get(name) is not None}
    if "temperature" in overrides:
        t = overrides["temperature"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 2:
            raise ApiError(400, "temperature must be a number from 0 to 2", param="temperature")
    if body.get("documents") is not None:
        overrides["documents"] = document_names(body["documents"])
    return overrides


def document_names(raw: Any) -> tuple[str, ...]:
    """A request's `documents`: one name or a list of them (IDs, prefixes, globs)."""
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ApiError(400, "documents must be a document ID or a list of them", param="documents")
    return tuple(names)


def parse_chat_request(body: Any) -> ChatRequest:
    turns = _turns(body)
    users = [i for i, (role, _) in enumerate(turns) if role == "user"]
    if not users:
        raise ApiError(400, "no user message: the last user message is the question", param="messages")
    previous = _previous_turn(turns, users)
    if body.get("n", 1) not in (1, None):
        raise ApiError(400, "n must be 1: one answer per question", param="n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "stream must be true or false", param="stream")
    options = body.get("stream_options") or {}
    return ChatRequest(
        question=turns[users[-1]][1],
        previous=previous,
        stream=stream,
        include_usage=bool(isinstance(options, Mapping) and options.get("include_usage")),
        overrides=_overrides(body),
        prompt_text="\n".join(text for _, text in turns),
    )


# ---------------------------------------------------------------- response bodies (openai's own types)


def _usage(request: ChatRequest, content: str) -> CompletionUsage:
    from rag.ingestion.chunking import count_tokens

    prompt, completion = count_tokens(request.prompt_text), count_tokens(content)
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def rag_fields(reply: Reply) -> dict[str, Any]:
    """The extension fields: `citations` and the whole `rag ask --json` object as `rag`."""
    from rag.core.contract import answer_to_json

    data = answer_to_json(reply.answer, dict(reply.documents))
    data["draft"] = reply.answer.draft
    if reply.rewrite is not None:
        data["rewrite"] = {
            "original": reply.rewrite.original,
            "standalone": reply.rewrite.standalone,
            "method": reply.rewrite.method,
        }
    return {"citations": data["citations"], "rag": data}


def completion_body(reply: Reply, request: ChatRequest, completion_id: str, created: int) -> dict[str, Any]:
    content = reply.answer.answer
    message = ChatCompletionMessage(role="assistant", content=content)
    completion = ChatCompletion(
        id=completion_id,
        object="chat.completion",
        created=created,
        model=API_MODEL,
        choices=[Choice(index=0, message=message, finish_reason="stop", logprobs=None)],
        usage=_usage(request, content),
        **rag_fields(reply),
    )
    return completion.to_dict()  # the fields set, extensions included


def _event(data: Any) -> str:
    """One server-sent event: an openai model (the fields set) or a JSON-able object."""
    text = data.to_json(indent=None) if isinstance(data, ChatCompletionChunk) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n"


def _chunk(completion_id: str, created: int, delta: ChoiceDelta | None, finish: str | None = None,
           **extra: Any) -> ChatCompletionChunk:
    """A chunk with one choice holding `delta`; without a delta, a chunk with no choices (the usage)."""
    choices = [] if delta is None else [ChunkChoice(index=0, delta=delta, finish_reason=finish, logprobs=None)]
    return ChatCompletionChunk(id=completion_id, object="chat.completion.chunk", created=created, model=API_MODEL,
                               choices=choices, **extra)  # fmt: skip


def _answer_in_background(service: RagService, request: ChatRequest) -> queue.Queue:
    """Answer on a thread; its queue gets ("token", piece)..., then ("done", reply) or ("error", exc)."""
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            reply = service.answer(
                request.question, request.previous, request.overrides, on_token=lambda p: events.put(("token", p))
            )
            events.put(("done", reply))
        except BaseException as exc:  # noqa: BLE001 - reported to the client as an error event
            events.put(("error", exc))

    threading.Thread(target=work, name="rag-api-answer", daemon=True).start()
    return events


def stream_events(service: RagService, request: ChatRequest, completion_id: str, created: int) -> Iterator[str]:
    """Server-sent events: role, draft pieces, the answer, the final chunk with citations, [DONE]."""
    events = _answer_in_background(service, request)
    yield _event(_chunk(completion_id, created, ChoiceDelta(role="assistant", content="")))
    while True:
        kind, value = events.get()
        if kind == "token":
            yield _event(_chunk(completion_id, created, ChoiceDelta(reasoning_content=value)))
            continue
        if kind == "error":
            yield _event(error_body(api_error(value)))
            break
        reply: Reply = value
        content = reply.answer.answer
        yield _event(_chunk(completion_id, created, ChoiceDelta(content=content)))
        yield _event(_chunk(completion_id, created, ChoiceDelta(), "stop", **rag_fields(reply)))
        if request.include_usage:
            yield _event(_chunk(completion_id, created, None, usage=_usage(request, content)))
        break
    yield "data: [DONE]\n\n"


def model_card(service: RagService) -> dict[str, Any]:
    return Model(id=API_MODEL, object="model", created=service.started, owned_by="rag").to_dict()


def ingest_body(report: Any, saved: list[dict[str, Any]], documents: int | None) -> dict[str, Any]:
    return {
        "summary": report.summary(),
        "added": report.added,
        "changed": report.changed,
        "removed": report.removed,
        "unchanged": len(report.unchanged),
        "warnings": report.warnings,
        "rebuilt": report.rebuilt,
        "chunks": report.n_chunks,
        "embedded_chunks": report.embedded_chunks,
        "seconds": round(report.seconds, 3),
        "documents": documents,
        "files": saved,
    }


# ---------------------------------------------------------------- routes

Handler = Callable[..., Awaitable[Any]]


def authorise(request: Request, api_key: str | None) -> None:
    """With a key configured, the request must carry `Authorization: Bearer <key>`."""
    if not api_key:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        raise ApiError(401, "a valid API key is required: send Authorization: Bearer <key>",
                       "authentication_error", "invalid_api_key")  # fmt: skip


def guarded(api_key: str | None) -> Callable[[Handler], Handler]:
    """A decorator for the /v1 routes: the key is checked first, and any failure is answered in OpenAI's shape."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)  # FastAPI reads the handler's parameters through __wrapped__
        async def route(request: Request, *args: Any, **kwargs: Any) -> Any:
            try:
                authorise(request, api_key)
                return await handler(request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure is an error response
                return error_response(exc)

        return route

    return wrap


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "the request body is not valid JSON") from None


def chat_routes(service: RagService, guard: Callable[[Handler], Handler]) -> APIRouter:
    """POST /v1/chat/completions, answered whole or as a stream of chunks."""
    router = APIRouter()

    @router.post("/v1/chat/completions")
    @guard
    async def chat_completions(request: Request):
        chat = parse_chat_request(await json_body(request))
        service.pipeline.check_question(chat.question)  # a bad question is a 400, even when streaming
        settings = service.settings.with_overrides(**chat.overrides)
        if settings.documents:  # an unknown document is a 400, even when streaming
            service.pipeline.scope(settings.documents)
        completion_id, created = f"chatcmpl-rag-{uuid.uuid4().hex}", int(time.time())
        if chat.stream:
            return StreamingResponse(
                stream_events(service, chat, completion_id, created),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        reply = await run_in_threadpool(service.answer, chat.question, chat.previous, chat.overrides)
        return JSONResponse(completion_body(reply, chat, completion_id, created))

    return router


def model_routes(service: RagService, guard: Callable[[Handler], Handler]) -> APIRouter:
    """GET /v1/models and /v1/models/{id}: the one model, `rag`."""
    router = APIRouter()

    @router.get("/v1/models")
    @guard
    async def list_models(request: Request):
        return JSONResponse({"object": "list", "data": [model_card(service)]})

    @router.get("/v1/models/{model_id}")
    @guard
    async def get_model(request: Request, model_id: str):
        if model_id != API_MODEL:
            raise ApiError(404, f"no model {model_id!r}; this server has {API_MODEL!r}",
                           code="model_not_found", param="model")  # fmt: skip
        return JSONResponse(model_card(service))

    return router


async def _ingest_options(request: Request, service: RagService) -> tuple[bool, list[dict[str, Any]]]:
    """(rebuild, uploads saved): from a multipart form with `files`, or from a JSON body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_UPLOADS)
        rebuild = str(form.get("rebuild", "")).lower() in ("1", "true", "yes", "on")
        uploads = [f for f in form.getlist("files") if hasattr(f, "filename")]
        return rebuild, await run_in_threadpool(_save_uploads, service, uploads)
    body = await json_body(request)
    if not isinstance(body, Mapping):
        raise ApiError(400, "the request body must be a JSON object")
    rebuild = body.get("rebuild", False)
    if not isinstance(rebuild, bool):
        raise ApiError(400, "rebuild must be true or false", param="rebuild")
    return rebuild, []


def ingest_routes(service: RagService, guard: Callable[[Handler], Handler]) -> APIRouter:
    """POST /v1/ingest: save any uploads, re-ingest the collection, answer from the new index."""
    router = APIRouter()

    @router.post("/v1/ingest")
    @guard
    async def ingest(request: Request):
        rebuild, saved = await _ingest_options(request, service)
        report = await run_in_threadpool(service.ingest, rebuild)
        return JSONResponse(ingest_body(report, saved, len(service.pipeline.index.documents)))

    return router


def document_routes(service: RagService, guard: Callable[[Handler], Handler]) -> APIRouter:
    """GET /v1/documents, /v1/documents/{doc_id}/summary and /v1/summary: the collection and its summaries."""
    router = APIRouter()

    def locked(make: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with service.lock:  # the embedder and the index version are the answers' too
                return make()

        return run

    @router.get("/v1/documents")
    @guard
    async def documents(request: Request):
        index = service.pipeline.index
        data = [{"doc": d.doc_id, "title": d.title, "date": d.date, "chunks": len(index.rows_by_doc.get(d.doc_id, ()))}
                for d in sorted(index.documents.values(), key=lambda d: d.doc_id)]  # fmt: skip
        return JSONResponse({"object": "list", "data": data})

    @router.get("/v1/documents/{doc_id}/summary")
    @guard
    async def document_summary(request: Request, doc_id: str):
        from rag.core.contract import summary_to_json

        n = _sentences(request, None)
        summary = await run_in_threadpool(locked(lambda: service.pipeline.summary(doc_id, n)))
        return JSONResponse(summary_to_json(summary))

    @router.get("/v1/summary")
    @guard
    async def collection_summary(request: Request):
        from rag.core.contract import topics_to_json

        n = _sentences(request, 2)
        names = [x for x in request.query_params.get("documents", "").split(",") if x.strip()]
        topics = await run_in_threadpool(locked(lambda: service.pipeline.collection_summary(n, names)))
        return JSONResponse(topics_to_json(topics))

    return router


def _sentences(request: Request, default: int | None) -> int | None:
    raw = request.query_params.get("sentences")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise ApiError(400, "sentences must be a whole number from 1 to 50", param="sentences")
    return int(raw)


def health_routes(service: RagService) -> APIRouter:
    """GET /healthz, open without a key (load balancers and probes)."""
    router = APIRouter()

    @router.get("/healthz")
    async def healthz():
        body = service.health()
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    return router


def mount_api(app: Any, source: Any, *, api_key: str | None = None, lock: Any = None,
              collection: Any = None) -> RagService:
    """Add the API routes to a FastAPI app (standalone, or the web UI's own).

    `source` is a Pipeline or an object with `.pipeline` (and `.lock`, which is then
    shared); `api_key`, when given, must come as `Authorization: Bearer <key>` on every
    /v1 route (/healthz stays open for load balancers and probes).
    """
    service = RagService(source, lock=lock, collection=collection)
    guard = guarded(api_key)
    for router in (chat_routes(service, guard), model_routes(service, guard), ingest_routes(service, guard),
                   document_routes(service, guard), health_routes(service)):  # fmt: skip
        app.include_router(router)
    app.state.rag_service = service
    return service


def _save_uploads(service: RagService, uploads: list[Any]) -> list[dict[str, Any]]:
    """Put uploaded files into the collection through the UI's checks (rag/serve/collection.py)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
        for i, upload in enumerate(uploads):
            staged = Path(tmp) / f"{i}.bin"
            with staged.open("wb") as out:
                while block := upload.file.read(1 << 20):
                    out.write(block)
            result = service.collection.add_file(staged, upload.filename or "")
            results.append({"name": result.name, "ok": result.ok, "message": result.message})
    return results


def create_api(source: Any, *, api_key: str | None = None, lock: Any = None, collection: Any = None):
    """A FastAPI app serving only the API routes over `source` (a Pipeline, or the UI's chat service)."""
    from fastapi import FastAPI

    app = FastAPI(title="rag API", docs_url=None, redoc_url=None, openapi_url=None)
    mount_api(app, source, api_key=api_key, lock=lock, collection=collection)
    return app


# ---------------------------------------------------------------- `rag serve --api`


def serve_api(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
              api_key_env: str | None = None) -> int:
    """`rag serve --api`: the API alone, with uvicorn; blocks; returns the exit status."""
    import uvicorn

    try:
        key = api_key_from_env(api_key_env)
        warning = open_api_warning(host, key)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        check_port(host, port)
        app = create_api(load_pipeline(settings), api_key=key)
        shown = f"[{host}]" if ":" in host else host
        print(f"serving the rag API on http://{shown}:{port}/v1 (Ctrl+C to stop)", file=sys.stderr, flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    except StartError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot start the API on {host}:{port}: {first_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
