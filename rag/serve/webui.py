"""The Gradio web UI: chat with cited, streamed answers; settings; the collection panel.

`serve(settings, host, port, auth, with_api)` checks everything that can fail before
the server starts (port, models, index, prompts) and turns failures into one
`error:` line and exit status 2; `build(...)` lays out the page and wires the
events.

Concurrency: every chat event runs in one Gradio queue group ("answer",
concurrency 1), because a llama.cpp context is not thread-safe; waiting
users see their place in the queue. Collection events (upload, remove,
rebuild) run in their own group ("collection"), so the chat keeps working
while documents are ingested; the new index is swapped in between answers
(rag/serve/chat.py).

With `with_api`, the OpenAI-compatible HTTP API (rag/serve/api.py) is served under
/v1 by the same process: one loaded model, one lock, so UI turns and API
calls take turns instead of loading the model twice.

The chat event is also the API: `api_name="ask"`; its second output is the
`rag ask --json` object (rag/core/contract.py), so `gradio_client` gets the answer
with its citations.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # offline: no telemetry, no version check

import gradio as gr  # noqa: E402

from rag.core.collection_info import read_collection_info  # noqa: E402
from rag.core.contract import answer_from_json  # noqa: E402
from rag.core.errors import RagError, StartError, first_line  # noqa: E402
from rag.core.settings import RETRIEVERS, Settings  # noqa: E402
from rag.serve import render  # noqa: E402
from rag.serve.collection import Collection, FileResult, Stats  # noqa: E402
from rag.serve.history import Conversation, ConversationStore, StoredTurn, answer_record, new_key  # noqa: E402
from rag.serve.startup import (  # noqa: E402
    api_key_from_env,
    check_port,
    is_loopback,
    load_pipeline,
    open_api_warning,
)

if TYPE_CHECKING:
    from rag.serve.chat import ChatService

TITLE = "Ask the collection"
REWRITE_LABELS = {"model": "resolved by the model", "rule": "by a rule", "fallback": "fallback"}
ANSWER_GROUP = "answer"
COLLECTION_GROUP = "collection"
SUMMARY_GROUP = "summary"
COLLECTION_SUMMARY_SENTENCES = 2  # per document
# Gradio keeps a per-session copy of the page's component config (~30 KiB here) for every
# session it has seen, browser tab or API client, until it has 10,000 of them: hundreds of MiB
# for a server that runs for weeks. This UI keeps no gr.State, so an evicted session merely
# starts again from the page's defaults on its next event.
SESSION_CAPACITY = 500


@dataclass(frozen=True)
class App:
    """What the event handlers share: no module-level state."""

    settings: Settings
    chat: ChatService
    collection: Collection
    models: dict[str, str]  # value -> label for the model picker
    conversations: ConversationStore | None = None  # in the index folder (rag/serve/history.py)


# ---------------------------------------------------------------- serving


def parse_auth(raw: str | None) -> tuple[str, str] | None:
    """'user:password' -> (user, password)."""
    if raw is None:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise StartError("--auth must be USER:PASSWORD")
    return user, password


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """The loud warning for a server reachable from other machines without a password."""
    if is_loopback(host) or auth is not None:
        return None
    bar = "!" * 78
    return (
        f"{bar}\n"
        f"WARNING: serving on {host}, reachable from other machines, WITHOUT authentication.\n"
        f"WARNING: anyone who can reach this port can read every document and add or remove files.\n"
        f"WARNING: pass --auth USER:PASSWORD, or bind to 127.0.0.1.\n"
        f"{bar}"
    )


def prepare(settings: Settings) -> App:
    """Load the index, the models and the prompts; every failure is a StartError."""
    from rag.answer.generation.llama import available_models
    from rag.serve.chat import ChatService

    pipeline = load_pipeline(settings)
    settings = pipeline.settings  # server settings (Settings.for_server)
    try:
        chat = ChatService(pipeline)  # reads the follow-up rewriting prompt
    except RagError as exc:
        raise StartError(first_line(exc)) from None
    models = available_models(settings.model_dir)
    if settings.model not in models:
        models = {settings.model: Path(settings.model).name, **models}
    return App(settings, chat, Collection(settings), models, ConversationStore.in_index(settings.index_dir))


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          with_api: bool = False, api_key_env: str | None = None) -> int:
    """Start the UI (with `with_api`, the HTTP API under /v1 too) and block; the exit status."""
    try:
        credentials = parse_auth(auth)
        key = api_key_from_env(api_key_env) if with_api else None
        for warning in (exposure_warning(host, credentials), open_api_warning(host, key) if with_api else None):
            if warning:
                print(warning, file=sys.stderr, flush=True)
        check_port(host, port)
        app = prepare(settings)
        demo = build(app)
        demo.queue()
        _listen(app, demo, host, port, _page(settings, credentials), with_api, key)
    except StartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port was taken between the check and the bind
        print(f"error: cannot start the server on {host}:{port}: {first_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _page(settings: Settings, credentials: tuple[str, str] | None) -> dict[str, Any]:
    """What Gradio serves around the layout: login, upload limit, theme, style and click script."""
    return dict(
        auth=credentials,
        max_file_size=f"{int(settings.max_file_mb * 1024 * 1024)}b",
        theme=_theme(),
        css=render.CSS,
        head=render.CLICK_SCRIPT,
        ssr_mode=False,
        show_error=False,
    )


def _listen(app: App, demo: gr.Blocks, host: str, port: int, page: dict[str, Any], with_api: bool,
            key: str | None) -> None:
    """Serve until stopped: Gradio's own server, or uvicorn for the UI and the API together."""
    shown = f"[{host}]" if ":" in host else host
    if with_api:
        server = _with_api(app, demo, key, page)
        print(f"serving {TITLE!r} on http://{shown}:{port} and its API on http://{shown}:{port}/v1 "
              "(Ctrl+C to stop)", file=sys.stderr, flush=True)
        import uvicorn

        uvicorn.run(server, host=host, port=port, log_level="warning", access_log=False)
        return
    print(f"serving {TITLE!r} on http://{shown}:{port} (Ctrl+C to stop)", file=sys.stderr, flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        quiet=False,
        state_session_capacity=SESSION_CAPACITY,
        **page,
    )


def _with_api(app: App, demo: gr.Blocks, key: str | None, page: dict[str, Any]):
    """One ASGI app: the API's routes under /v1 and /healthz, the UI at /; they share the
    chat service's pipeline and lock, and the collection."""
    from fastapi import FastAPI

    from rag.serve.api import mount_api

    server = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    mount_api(server, app.chat, api_key=key, collection=app.collection)
    demo.state_session_capacity = SESSION_CAPACITY  # what launch() would set
    return gr.mount_gradio_app(server, demo, path="", **page)


def _theme():
    # Fonts by name only: the default theme would fetch Google Fonts, and this runs offline.
    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(font=system, font_mono=mono)


# ---------------------------------------------------------------- handlers


def stats_html(stats: Stats, model_label: str) -> str:
    return render.stats_table([
        ("Documents", str(stats.documents)),
        ("Chunks", str(stats.chunks)),
        ("Embedding model", stats.embedding_model),
        ("Answer model", f"{model_label} ({Path(stats.model_file).name})"),
        ("Index built", render.age(stats.built)),
        ("Folder", str(stats.collection)),
    ])


class _IngestProgress:
    """rag.ingestion.indexer.Progress -> Gradio's progress bar."""

    def __init__(self, progress):
        self.progress = progress
        self.documents = self.done = self.chunks = self.embedded = 0

    def start(self, documents: int) -> None:
        self.documents = max(1, documents)
        self.progress(0.0, desc="Reading documents")

    def document_done(self, chunks: int) -> None:
        self.done += 1
        self.chunks += chunks
        self.progress(
            0.3 * self.done / self.documents, desc=f"Chunked {self.done}/{self.documents} documents"
        )

    def chunks_embedded(self, n: int) -> None:
        self.embedded += n
        share = self.embedded / max(1, self.chunks)
        self.progress(0.3 + 0.65 * share, desc=f"Embedded {self.embedded}/{self.chunks} chunks")


@dataclass(frozen=True)
class ChatHandlers:
    """The chat's events. Gradio reads the parameter names: they are the API's argument names."""

    app: App

    def ask(
        self,
        question: str,
        history: list | None,
        top_k: float,
        retriever: str,
        temperature: float,
        model: str,
        documents: list[str] | str | None = None,
        conversation: str | None = None,
    ):
        """Answer `question` in the conversation `history`; streams, then returns the final state.

        `documents` (IDs, prefixes or globs; none: all) are the only documents
        asked, as with `rag ask --doc`. Outputs: the chat history, the answer as
        the `rag ask --json` object (plus "rewrite" when a follow-up was
        rewritten, or "error"), and the cleared question box. With a
        `conversation` key, the answered turn is saved under it (a new key
        starts a conversation); when it cannot be saved, a one-line notice
        follows the answer.
        """
        from rag.serve.chat import turns_from_history

        history = list(history or [])
        question = question or ""
        overrides, problem = _overrides(top_k, retriever, temperature, model, self.app.models)
        problem = problem or self._question_problem(question) or self._scope_problem(documents, overrides)
        if problem:
            history.append({"role": "assistant", "content": render.error_message(problem)})
            yield history, {"question": question, "error": problem}, question
            return
        turns = turns_from_history(history)
        history.append({"role": "user", "content": render.user_message(question)})
        history.append({"role": "assistant", "content": render.draft_message("")})
        yield history, None, ""
        data = None
        for state in self._stream(question, turns[-1] if turns else None, overrides, history):
            data = state[1]
            yield state
        if conversation and data is not None and "error" not in data:
            problem = self._save(conversation, question, data)
            if problem:
                history.append({"role": "assistant", "content": render.notice_message(problem)})
                yield history, data, ""

    def _save(self, key: str, question: str, data: dict[str, Any]) -> str | None:
        """Store the answered turn; the one-line reason when it cannot be."""
        try:
            self.app.conversations.append(key, StoredTurn(question, data, time.time()), name=question)
        except RagError as exc:
            return f"this answer was not saved: {exc.message}"
        return None

    def _question_problem(self, question: str) -> str | None:
        from rag.answer.pipeline import check_question

        try:
            check_question(question, self.app.settings.max_question_chars)
        except RagError as exc:
            return exc.message
        return None

    def _scope_problem(self, documents: list[str] | str | None, overrides: dict[str, Any]) -> str | None:
        """Put the chosen documents into `overrides`; a one-line problem when one names no document."""
        names = [documents] if isinstance(documents, str) else list(documents or [])
        if not names:
            return None
        try:
            self.app.chat.pipeline.scope(names)
        except RagError as exc:
            return exc.message
        overrides["documents"] = tuple(names)
        return None

    def _stream(self, question: str, previous, overrides: dict[str, Any], history: list):
        """The turn's events as chat states: the rewrite note, the growing draft, the answer."""
        from rag.serve.chat import Done, Failed, Rewritten, Token

        draft = ""
        for event in self.app.chat.run(question, previous, **overrides):
            if isinstance(event, Rewritten):
                history.insert(len(history) - 1, _rewrite_note(event.rewrite))
                yield history, None, ""
            elif isinstance(event, Token):
                draft += event.text
                history[-1] = {"role": "assistant", "content": render.draft_message(draft)}
                yield history, None, ""
            elif isinstance(event, Done):
                shown = render.answer_message(event.answer, event.documents)
                history[-1] = {"role": "assistant", "content": shown}
                yield history, _answer_data(event), ""
            elif isinstance(event, Failed):
                history[-1] = {"role": "assistant", "content": render.error_message(event.message)}
                yield history, {"question": question, "error": event.message}, ""

    @staticmethod
    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")



def _rewrite_note(rewrite) -> dict[str, Any]:
    """The collapsed chat note that shows how a follow-up was rewritten."""
    return {
        "role": "assistant",
        "content": render.esc(rewrite.standalone),
        "metadata": {
            "title": "Rewritten question",
            "log": REWRITE_LABELS.get(rewrite.method, rewrite.method),
            "status": "done",
        },
    }


def _answer_data(done) -> dict[str, Any]:
    """The `rag ask --json` object of a finished turn, with its rewrite when there was one."""
    return answer_record(done.answer, done.documents, done.rewrite)


def turn_messages(turn: StoredTurn, documents) -> list[dict[str, Any]]:
    """A stored turn as the chat showed it: the question, the rewrite note, the answer."""
    messages = [{"role": "user", "content": render.user_message(turn.asked)}]
    if turn.rewrite is not None:
        messages.append(_rewrite_note(turn.rewrite))
    messages.append({"role": "assistant", "content": render.answer_message(answer_from_json(turn.answer), documents)})
    return messages


def _export_path(conversation: Conversation) -> Path:
    """Where an export is written for Gradio to serve: one file per conversation, named after it."""
    stem = re.sub(r"[^\w.-]+", "-", conversation.name).strip("-.")[:60] or "conversation"
    folder = Path(tempfile.gettempdir()) / "rag-exports" / conversation.key
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}.md"


@dataclass(frozen=True)
class ConversationHandlers:
    """The conversation list's events. A page holds the key of the conversation it continues
    (a hidden box); a new conversation gets one with its first question, and is stored with
    its first answer."""

    app: App

    def _listing(self, key: str | None, notice: str = ""):
        """The list of past conversations (this one chosen when stored), its name, a notice."""
        try:
            found = self.app.conversations.conversations()
        except RagError as exc:
            return gr.update(choices=[], value=None), "", render.notice_message(exc.message, "Conversations")
        choices = [(f"{c.name} — {c.turns} question{'s' if c.turns != 1 else ''}", c.key) for c in found]
        current = next((c for c in found if c.key == key), None)
        return (gr.update(choices=choices, value=current.key if current else None),
                current.name if current else "", notice)

    def listed(self, key: str | None):
        return self._listing(key)

    @staticmethod
    def keep(key: str | None) -> str:
        """The page's conversation key, or a new one when it has none yet."""
        return key or new_key()

    def fresh(self):
        """A new conversation: empty chat, no key until its first question (`keep`), nothing chosen."""
        return ([], None, "", "", *self._listing(None), gr.update(value=None, visible=False))

    def reopen(self, key: str | None):
        """Show a stored conversation again and continue it."""
        try:
            turns = self.app.conversations.turns(key or "")
        except RagError as exc:
            return (gr.update(), gr.update(), gr.update(), gr.update(),
                    *self._listing(None, render.notice_message(exc.message, "Not opened")), gr.update())
        history = []
        documents = self.app.chat.pipeline.index.documents
        for turn in turns:
            history += turn_messages(turn, documents)
        last = turns[-1].answer if turns else None
        return (history, last, "", key, *self._listing(key), gr.update(value=None, visible=False))

    def rename(self, key: str | None, name: str | None):
        try:
            self.app.conversations.rename(key or "", name or "")
        except RagError as exc:
            return self._listing(key, render.notice_message(exc.message, "Not renamed"))
        return self._listing(key)

    def delete(self, key: str | None):
        """Forget the conversation, then start a new one."""
        try:
            self.app.conversations.delete(key or "")
        except RagError as exc:
            return (gr.update(), gr.update(), gr.update(), gr.update(),
                    *self._listing(key, render.notice_message(exc.message, "Not deleted")), gr.update())
        return self.fresh()

    def export(self, key: str | None):
        """The conversation as a Markdown file to download (rag/serve/export.py)."""
        from rag.serve.export import conversation_markdown

        try:
            conversation = self.app.conversations.get(key or "")
            if conversation is None:
                return gr.update(value=None, visible=False), render.notice_message(
                    "nothing to export yet: ask a question first", "Not exported")
            text = conversation_markdown(conversation, self.app.conversations.turns(conversation.key))
        except RagError as exc:
            return gr.update(value=None, visible=False), render.notice_message(exc.message, "Not exported")
        path = _export_path(conversation)
        path.write_text(text, encoding="utf-8")
        return gr.update(value=str(path), visible=True), ""


@dataclass(frozen=True)
class CollectionHandlers:
    """The collection panel's events: each returns the redrawn panel, then a status."""

    app: App

    def panel(self) -> tuple[str, str, Any]:
        """Stats, the documents table and the removal choices, from the live index."""
        pipeline = self.app.chat.pipeline
        index = pipeline.index  # one reference: an ingest may swap in a new version meanwhile
        stats = self.app.collection.stats(index, str(pipeline.generator.path))
        chunks = {doc_id: meta.get("n_chunks", 0) for doc_id, meta in index.manifest.documents.items()}
        docs = sorted(index.documents.values(), key=lambda d: d.doc_id)
        choices = [(f"{d.doc_id} — {d.title[:60]}", d.doc_id) for d in docs]
        model_label = self.app.models.get(self.app.settings.model, self.app.settings.model)
        return (
            stats_html(stats, model_label),
            render.documents_table(docs, chunks),
            gr.update(choices=choices, value=None),
        )

    def refresh(self):
        """Pick up an index another process (`rag ingest`) wrote, then redraw the panel."""
        from rag.index import store

        try:
            if store.current_version(self.app.settings.index_dir) != self.app.chat.pipeline.index.path:
                self.app.chat.reload()
        except RagError as exc:
            return (*self.panel()[:2], gr.update(), render.upload_report([], error=exc.message))
        return (*self.panel(), "")

    def add_documents(self, paths: list[str] | None, progress=gr.Progress()):
        """Check uploaded files, copy the good ones into the collection, ingest incrementally."""
        paths = paths or []
        if not paths:
            return (*self.panel(), "", None)
        progress(0.0, desc="Checking files")
        results = [self.app.collection.add_file(Path(p), Path(p).name) for p in paths]
        if not any(r.ok for r in results):
            return (*self.panel(), render.upload_report(results), None)
        summary, error = _ingest(self.app, _IngestProgress(progress), rebuild=False)
        return (*self.panel(), render.upload_report(results, summary, error), None)

    def remove_document(self, doc_id: str | None, progress=gr.Progress()):
        """Move the document's file to the trash folder, then re-ingest."""
        if not doc_id:
            return (*self.panel(), render.upload_report([], error="choose a document to remove"))
        try:
            moved = self.app.collection.remove(doc_id, self.app.chat.pipeline.index)
        except RagError as exc:
            return (*self.panel(), render.upload_report([], error=exc.message))
        summary, error = _ingest(self.app, _IngestProgress(progress), rebuild=False)
        note = FileResult(doc_id, True, f"removed; the file is now {moved}")
        return (*self.panel(), render.upload_report([note], summary, error))

    def rebuild(self, progress=gr.Progress()):
        summary, error = _ingest(self.app, _IngestProgress(progress), rebuild=True)
        return (*self.panel(), render.upload_report([], summary, error))

    def scope_choices(self):
        """The chat's document selector offers every document of the live index; the choice stays."""
        docs = sorted(self.app.chat.pipeline.index.documents.values(), key=lambda d: d.doc_id)
        return gr.update(choices=[(f"{d.doc_id} — {d.title[:60]}", d.doc_id) for d in docs])

    def summarize(self, doc_id: str | None):
        """The chosen document's extractive summary: shown, and as `rag summarize --json` prints it."""
        from rag.core.contract import summary_to_json
        from rag.core.records import Topic

        if not doc_id:
            return render.upload_report([], error="choose a document to summarise"), None
        try:
            with self.app.chat.lock:  # the embedder and the index version are the answers' too
                summary = self.app.chat.pipeline.summary(doc_id)
        except RagError as exc:
            return render.upload_report([], error=exc.message), {"doc": doc_id, "error": exc.message}
        return render.summary_view([Topic((), (summary,))]), summary_to_json(summary)

    def summarize_collection(self):
        """Two sentences per document, the documents grouped by topic (`rag summarize --all --json`)."""
        from rag.core.contract import topics_to_json

        with self.app.chat.lock:
            topics = self.app.chat.pipeline.collection_summary(COLLECTION_SUMMARY_SENTENCES)
        return render.summary_view(topics), topics_to_json(topics)


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class ChatPanel:
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    clear: gr.Button
    answer_json: gr.JSON
    scope: gr.Dropdown


@dataclass(frozen=True)
class ConversationPanel:
    key: gr.Textbox  # hidden: the conversation this page continues
    past: gr.Radio
    name: gr.Textbox
    rename: gr.Button
    export: gr.Button
    delete: gr.Button
    download: gr.File
    notice: gr.HTML

    @property
    def listed(self) -> list[gr.components.Component]:
        """What `ConversationHandlers.listed` redraws."""
        return [self.past, self.name, self.notice]


@dataclass(frozen=True)
class SettingsPanel:
    top_k: gr.Slider
    retriever: gr.Radio
    temperature: gr.Slider
    model: gr.Dropdown

    @property
    def inputs(self) -> list[gr.components.Component]:
        """The settings in the order `ChatHandlers.ask` takes them."""
        return [self.top_k, self.retriever, self.temperature, self.model]


@dataclass(frozen=True)
class CollectionPanel:
    stats: gr.HTML
    upload: gr.File
    status: gr.HTML
    remove_choice: gr.Dropdown
    remove: gr.Button
    refresh: gr.Button
    rebuild: gr.Button
    documents: gr.HTML
    summarize: gr.Button
    summarize_all: gr.Button
    summary: gr.HTML
    summary_json: gr.JSON

    @property
    def redrawn(self) -> list[gr.components.Component]:
        """What every collection event redraws (`CollectionHandlers.panel`)."""
        return [self.stats, self.documents, self.remove_choice]


def _chat_panel(examples: Sequence[str]) -> ChatPanel:
    """The conversation, the question box and its buttons, the last answer as JSON."""
    chatbot = gr.Chatbot(
        label="Conversation",
        elem_id="rag-chat",
        height=640,
        examples=[{"text": q} for q in examples] or None,
        placeholder="**Ask a question about the documents**" + (", or start with an example:" if examples else ""),
        latex_delimiters=[],
        sanitize_html=True,
        feedback_options=None,
        buttons=["copy"],
        group_consecutive_messages=True,
    )
    scope = gr.Dropdown(
        label="Ask only these documents (none chosen: the whole collection)",
        choices=[],
        multiselect=True,
        allow_custom_value=True,  # API clients may name a prefix or a glob; ask() checks them
        elem_id="rag-scope",
    )
    with gr.Row():
        question = gr.Textbox(
            show_label=False,
            placeholder="Ask about the documents (follow-ups work too)",
            elem_id="rag-question",
            scale=6,
            max_lines=4,
            autofocus=True,
        )
        ask = gr.Button("Ask", variant="primary", elem_id="rag-ask", scale=1, min_width=80)
        clear = gr.Button("New conversation", elem_id="rag-clear", scale=1, min_width=120)
    with gr.Accordion("Answer as JSON (what the API returns)", open=False):
        answer_json = gr.JSON(show_label=False, elem_id="rag-json")
    return ChatPanel(chatbot, question, ask, clear, answer_json, scope)


def _conversation_panel() -> ConversationPanel:
    """Past conversations to reopen, rename, export and delete."""
    key = gr.Textbox(visible=False, elem_id="rag-conversation-key")
    with gr.Accordion("Conversations", open=True, elem_id="rag-conversations"):
        notice = gr.HTML(elem_id="rag-conversation-notice")
        past = gr.Radio(choices=[], label="Past conversations (choose one to reopen it)", elem_id="rag-past")
        with gr.Row():
            name = gr.Textbox(label="Name", elem_id="rag-conversation-name", max_lines=1, scale=3)
            rename = gr.Button("Rename", size="sm", elem_id="rag-rename", scale=1)
        with gr.Row():
            export = gr.Button("Export as Markdown", size="sm", elem_id="rag-export")
            delete = gr.Button("Delete", size="sm", variant="stop", elem_id="rag-delete")
        download = gr.File(label="Markdown", elem_id="rag-export-file", interactive=False, visible=False)
    return ConversationPanel(key, past, name, rename, export, delete, download, notice)


def _settings_panel(settings: Settings, models: dict[str, str]) -> SettingsPanel:
    """Per-question settings, starting from the server's."""
    with gr.Accordion("Settings", open=True, elem_id="rag-settings"):
        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
        retriever = gr.Radio(list(RETRIEVERS), value=settings.retriever, label="Retriever")
        temperature = gr.Slider(0.0, 1.5, value=settings.temperature, step=0.05, label="Temperature")
        model = gr.Dropdown(
            choices=[(label, value) for value, label in models.items()],
            value=settings.model,
            label="Answer model (GGUF)",
        )
    return SettingsPanel(top_k, retriever, temperature, model)


def _collection_panel() -> CollectionPanel:
    """Stats, upload, removal, refresh and rebuild, and the table of documents."""
    with gr.Accordion("Collection", open=True, elem_id="rag-collection"):
        stats = gr.HTML(elem_id="rag-stats")
        upload = gr.File(
            label="Add documents (.txt, .md, .html, .pdf)",
            file_count="multiple",
            file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
            type="filepath",
            elem_id="rag-upload",
            height=120,
        )
        status = gr.HTML(elem_id="rag-upload-status")
        with gr.Row():
            remove_choice = gr.Dropdown(
                label="Document",
                choices=[],
                elem_id="rag-remove-choice",
                scale=3,
                allow_custom_value=True,  # API clients name any document; remove() checks it
            )
            summarize = gr.Button("Summarise", elem_id="rag-summarize", scale=1)
            remove = gr.Button("Remove", variant="stop", elem_id="rag-remove", scale=1)
        with gr.Row():
            refresh = gr.Button("Refresh", size="sm", elem_id="rag-refresh")
            rebuild = gr.Button("Rebuild index", size="sm", elem_id="rag-rebuild")
            summarize_all = gr.Button("Summarise the collection", size="sm", elem_id="rag-summarize-all")
        summary = gr.HTML(elem_id="rag-summary")
        with gr.Accordion("Summary as JSON", open=False):
            summary_json = gr.JSON(show_label=False, elem_id="rag-summary-json")
        with gr.Accordion("Documents", open=False):
            documents = gr.HTML(elem_id="rag-documents")
    return CollectionPanel(stats, upload, status, remove_choice, remove, refresh, rebuild, documents, summarize,
                           summarize_all, summary, summary_json)  # fmt: skip


# ---------------------------------------------------------------- wiring


def build(app: App):
    """The page: conversation on the left, settings and collection on the right."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(render.header(TITLE))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = _chat_panel(read_collection_info(app.settings.collection).examples)
            with gr.Column(scale=2):
                conversations = _conversation_panel()
                options = _settings_panel(app.settings, app.models)
                collection = _collection_panel()
        conversation_handlers = ConversationHandlers(app)
        answered = _wire_chat(ChatHandlers(app), chat, options, conversations.key, conversation_handlers.keep)
        _wire_conversations(conversation_handlers, conversations, chat, answered, demo)
        _wire_collection(CollectionHandlers(app), collection, demo, chat.scope)
    return demo


def _wire_chat(handlers: ChatHandlers, chat: ChatPanel, options: SettingsPanel, key: gr.Textbox,
               keep_key) -> list:
    """Enter, the Ask button and an example all ask, in the one answer queue; Enter is the API.
    In the page, `keep_key` first gives the conversation a key if the page has none yet (a question
    asked before the page finished loading); an API client names its own. The three answer events
    are returned, for what follows an answer."""
    inputs = [chat.question, chat.chatbot, *options.inputs, chat.scope, key]
    outputs = [chat.chatbot, chat.answer_json, chat.question]
    answer_events = dict(concurrency_limit=1, concurrency_id=ANSWER_GROUP, show_progress="minimal")
    keyed = dict(fn=keep_key, inputs=key, outputs=key, queue=False, api_visibility="private")
    return [
        chat.question.submit(**keyed).then(handlers.ask, inputs, outputs, api_name="ask", **answer_events),
        chat.ask.click(**keyed).then(handlers.ask, inputs, outputs, api_visibility="private", **answer_events),
        chat.chatbot.example_select(
            handlers.pick_example, None, chat.question, queue=False, api_visibility="private"
        ).then(**keyed).then(handlers.ask, inputs, outputs, api_visibility="private", **answer_events),
    ]


def _wire_conversations(handlers: ConversationHandlers, panel: ConversationPanel, chat: ChatPanel,
                        answered: list, demo: gr.Blocks) -> None:
    """Every answer redraws the list; reopening, a new conversation and deleting redraw the page."""
    page = [chat.chatbot, chat.answer_json, chat.question, panel.key, *panel.listed, panel.download]
    private = dict(queue=False, api_visibility="private")
    for event in answered:
        event.then(handlers.listed, panel.key, panel.listed, **private)
    # a new conversation asks the whole collection again; a reopened one, the documents it last asked
    chat.clear.click(handlers.fresh, None, page, **private).then(_scope_of, chat.answer_json, chat.scope, **private)
    panel.past.input(handlers.reopen, panel.past, page, **private).then(
        _scope_of, chat.answer_json, chat.scope, **private
    )
    panel.rename.click(handlers.rename, [panel.key, panel.name], panel.listed, **private)
    panel.delete.click(handlers.delete, panel.key, page, **private).then(
        _scope_of, chat.answer_json, chat.scope, **private
    )
    panel.export.click(handlers.export, panel.key, [panel.download, panel.notice], **private)
    demo.load(handlers.listed, panel.key, panel.listed, **private)  # the chat is left alone: one may be typing


def _scope_of(last: dict | None):
    """The document selector as the conversation's last answer left it (its `scope`; none: all)."""
    return gr.update(value=list((last or {}).get("scope") or []))


def _wire_collection(handlers: CollectionHandlers, panel: CollectionPanel, demo: gr.Blocks, scope: gr.Dropdown) -> None:
    """Upload, remove and rebuild in the collection queue; refresh and the first draw unqueued; each
    then redraws the chat's document selector. Summaries have a queue of their own."""
    shown = [*panel.redrawn, panel.status]
    collection_events = dict(concurrency_limit=1, concurrency_id=COLLECTION_GROUP)
    redraw_scope = dict(fn=handlers.scope_choices, inputs=None, outputs=scope, api_visibility="private", queue=False)
    panel.upload.upload(
        handlers.add_documents,
        panel.upload,
        [*shown, panel.upload],
        api_name="add_documents",
        **collection_events,
    ).then(**redraw_scope)
    panel.remove.click(
        handlers.remove_document, panel.remove_choice, shown, api_name="remove_document", **collection_events
    ).then(**redraw_scope)
    panel.rebuild.click(handlers.rebuild, None, shown, api_name="rebuild", **collection_events).then(**redraw_scope)
    panel.refresh.click(handlers.refresh, None, shown, api_name="collection", queue=False).then(**redraw_scope)
    demo.load(handlers.panel, None, panel.redrawn, api_visibility="private", queue=False).then(**redraw_scope)
    summary_events = dict(concurrency_limit=1, concurrency_id=SUMMARY_GROUP)
    summary_out = [panel.summary, panel.summary_json]
    panel.summarize.click(handlers.summarize, panel.remove_choice, summary_out, api_name="summarize", **summary_events)
    panel.summarize_all.click(
        handlers.summarize_collection, None, summary_out, api_name="summarize_collection", **summary_events
    )


def _overrides(
    top_k: Any, retriever: Any, temperature: Any, model: Any, models: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """Settings overrides for one question, or a one-line problem (API clients can send anything)."""
    try:
        overrides = {
            "top_k": int(top_k) if top_k is not None else None,
            "temperature": float(temperature) if temperature is not None else None,
        }
    except (TypeError, ValueError):
        return {}, "top_k must be a whole number and temperature a number"
    if overrides["top_k"] is not None and not 1 <= overrides["top_k"] <= 100:
        return {}, "top_k must be between 1 and 100"
    if overrides["temperature"] is not None and not 0 <= overrides["temperature"] <= 2:
        return {}, "temperature must be between 0 and 2"
    if retriever:
        if retriever not in RETRIEVERS:
            return {}, f"retriever must be one of {', '.join(RETRIEVERS)}"
        overrides["retriever"] = retriever
    if model:
        if model not in models:
            return {}, f"model must be one of {', '.join(models)}"
        overrides["model"] = model
    return {k: v for k, v in overrides.items() if v is not None}, None


def _ingest(app: App, progress, rebuild: bool) -> tuple[str, str]:
    """Run an ingest and swap the new index in; (summary, error) as one line each."""
    try:
        report = app.collection.ingest(rebuild=rebuild, progress=progress)
    except RagError as exc:
        return "", exc.message
    progress.progress(0.97, desc="Loading the new index")
    app.chat.reload()
    summary = report.summary()
    if report.warnings:
        summary += f" ({len(report.warnings)} file(s) skipped: {report.warnings[0]})"
    return summary, ""
