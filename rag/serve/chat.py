"""One chat turn for the web UI: resolve a follow-up, answer it, stream the draft.

`Pipeline.ask` delivers the model's draft through a callback on its own
thread; a browser needs it as a stream. `ChatService.run` therefore hands
the turn to the service's one long-lived worker thread and yields
`Rewritten`, `Token` and finally `Done` (or `Failed`) from a queue. One
thread for every turn, not a new one per question: glibc gives each new
thread its own malloc arena (up to 8 per core), and the numpy and llama.cpp
buffers of an answer, spread over more and more arenas, each keeping its
high-water mark, grew the server's resident set by ~1.5 MiB per question;
on one thread it stays flat, as `Pipeline.ask` in a loop does. The service's
lock is held for the whole turn
and while the index is swapped after an ingest, so an answer is always
rendered against the index version it was retrieved from. (Generation is
serialised anyway: the UI runs the chat event with concurrency 1, because a
llama.cpp context is not thread-safe.)

The conversation lives in the chat history itself (`turns_from_history`),
so a client of the HTTP API continues a conversation by sending the history
back, exactly as the browser does.
"""

from __future__ import annotations

import html
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rag.answer.pipeline import Pipeline
from rag.answer.prompting import PromptTemplate, load_template
from rag.core.errors import RagError, first_line
from rag.core.records import Answer, Document
from rag.serve.conversation import Rewrite, Rewriter, Turn

log = logging.getLogger(__name__)
_QUESTION_ATTR = re.compile(r'data-rag-question="([^"]*)"')
_ANSWER_ATTR = re.compile(r'data-rag-answer="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Rewritten:
    rewrite: Rewrite


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer
    documents: Mapping[str, Document]  # the index version the answer was made from
    rewrite: Rewrite


@dataclass(frozen=True)
class Failed:
    message: str  # one line


Event = Rewritten | Token | Done | Failed


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message, whether `content` is a string or Gradio's list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, Mapping) else str(part)
            for part in content
            if not isinstance(part, Mapping) or part.get("type", "text") == "text"
        )
    return ""


def turns_from_history(history: list[Mapping[str, Any]] | None) -> list[Turn]:
    """The answered turns of a chat history, oldest first.

    The UI's own answers carry the standalone question and the answer text as
    data attributes; a plain history from an API client (user text, then
    assistant text) is read as it is.
    """
    turns: list[Turn] = []
    last_user = ""
    for message in history or []:
        if not isinstance(message, Mapping):
            continue
        text = message_text(message)
        if message.get("role") == "user":
            last_user = html.unescape(_TAG.sub("", text)).strip()
            continue
        if message.get("role") != "assistant" or (message.get("metadata") or {}).get("title"):
            continue  # the collapsed "rewritten question" note is not an answer
        if "rag-error" in text or "rag-pending" in text or "rag-notice" in text:
            continue
        question = _QUESTION_ATTR.search(text)
        answer = _ANSWER_ATTR.search(text)
        if question:
            turns.append(
                Turn(html.unescape(question.group(1)), html.unescape(answer.group(1)) if answer else "")
            )
        elif last_user:
            turns.append(Turn(last_user, html.unescape(_TAG.sub("", text)).strip()))
        last_user = ""
    return turns


def answer_turn(pipeline: Pipeline, rewrite_template: PromptTemplate, question: str, previous: Turn | None,
                overrides: dict[str, Any], on_rewrite: Callable[[Rewrite], None] | None = None,
                on_token: Callable[[str], None] | None = None) -> tuple[Answer, Rewrite]:
    """One turn of a conversation: a follow-up of `previous` rewritten into a standalone question
    (reported through `on_rewrite`), then answered. The web UI and `rag ask --conversation` share it."""
    settings = pipeline.settings.with_overrides(**overrides)
    question = pipeline.check_question(question)
    rewrite = Rewrite(question, question, "standalone")
    if previous is not None:
        rewrite = Rewriter.for_pipeline(pipeline, rewrite_template, settings).rewrite(question, previous)
        if rewrite.rewritten and on_rewrite is not None:
            on_rewrite(rewrite)
    return pipeline.ask(rewrite.standalone, on_token=on_token, **overrides), rewrite


class ChatService:
    """Answers questions for the UI and the API, one turn at a time."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.lock = threading.RLock()
        self.rewrite_template = load_template(pipeline.settings.prompts_dir, "rewrite")
        # Turns waiting for the worker: (question, previous, overrides, events).
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    def reload(self) -> None:
        """Swap in the index an ingest just wrote, between answers."""
        with self.lock:
            self.pipeline.reload()

    def run(self, question: str, previous: Turn | None, **overrides: Any) -> Iterator[Event]:
        """Events of one turn; the last one is `Done` or `Failed`."""
        events: queue.SimpleQueue = queue.SimpleQueue()
        self._start_worker()
        self._jobs.put((question, previous, overrides, events))
        while True:
            event = events.get()
            yield event
            if isinstance(event, Done | Failed):
                break

    def _start_worker(self) -> None:
        with self._worker_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="rag-chat-turns", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        """The worker: every turn, one after another, on this one thread."""
        while True:
            job = self._jobs.get()
            try:
                self._turn(*job)
            except BaseException as exc:  # SystemExit and the like: end the turn, then the thread
                job[-1].put(Failed(f"unexpected {type(exc).__name__}: {first_line(exc)}"))
                raise
            finally:
                del job  # no reference to the finished turn's queue or answer while waiting

    def _turn(self, question: str, previous: Turn | None, overrides: dict, events: queue.SimpleQueue) -> None:
        try:
            with self.lock:
                answer, rewrite = answer_turn(
                    self.pipeline, self.rewrite_template, question, previous, overrides,
                    on_rewrite=lambda rewrite: events.put(Rewritten(rewrite)),
                    on_token=lambda piece: events.put(Token(piece)),
                )
                events.put(Done(answer, self.pipeline.index.documents, rewrite))
        except RagError as exc:
            events.put(Failed(exc.message))
        except Exception as exc:  # noqa: BLE001 - the browser gets one line; the log gets the rest
            log.exception("unexpected error in a chat turn")
            events.put(Failed(f"unexpected {type(exc).__name__}: {first_line(exc)}"))

