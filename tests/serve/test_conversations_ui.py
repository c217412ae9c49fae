"""Conversations in the web UI for real: `python app.py` in a subprocess over a private index, stopped
and started again; Debian's chromium asks, finds the conversation after the restart, reopens,
continues, exports and deletes it; a corrupt or locked store is a notice beside a real answer.
Screenshots go to reports/ui/ (git-ignored)."""

from __future__ import annotations

import html
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import test_ui
from conftest import ROOT, copy_index
from markdown_it import MarkdownIt
from servers import clean_env, free_port, running
from test_ui import ANSWER_TIMEOUT_MS, Page

from rag.serve.history import ConversationStore, StoredTurn

AIRCRAFT = "Which aircraft ferried the Chinese equipment to Belarus?"
FOLLOW_UP = "which air base did it land at?"
AIRLIFT_DOC = "000_9c9ac89b68401338"  # the article both answers come from
SAMPLE = "When did Chinese troops arrive in Belarus?"
browser = test_ui.browser  # the browser fixture (Debian's chromium), shared with the UI tests
QUOTE = re.compile(r"^    > (?!— )(.+)\n    >\n    > — characters (\d+)–(\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class UiProcess:
    """What it takes to start `python app.py` over one index, as often as a test likes."""

    root: Path
    index_dir: Path
    collection: Path
    env: dict[str, str]

    @contextmanager
    def serving(self) -> Iterator[str]:
        port = free_port()
        cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
        with running(cmd, self.env, self.root, port, "/", self.root / f"server-{port}.log", "the UI server") as s:
            yield f"{s.base}/"


@pytest.fixture(scope="module")
def ui_process(tmp_path_factory, base_index) -> UiProcess:
    root = tmp_path_factory.mktemp("conversations-ui")
    copied = copy_index(base_index, root)
    config = root / "empty.toml"
    config.write_text("", encoding="utf-8")
    env = clean_env(config, RAG_INDEX_DIR=str(copied.index_dir), RAG_COLLECTION=str(copied.collection),
                    GRADIO_TEMP_DIR=str(root / "gradio-tmp"), RAG_N_THREADS="1")
    return UiProcess(root, copied.index_dir, copied.collection, env)


@contextmanager
def _page(browser, url: str) -> Iterator[Page]:
    page = Page(browser, url)
    try:
        yield page
    finally:
        page.context.close()
    assert page.offsite == [], f"the page tried to reach the network: {page.offsite}"


def _name_box(page):
    return page.locator("#rag-conversation-name input, #rag-conversation-name textarea").first


def _shown(markdown_line: str) -> str:
    return html.unescape(MarkdownIt().render(markdown_line).removeprefix("<p>").removesuffix("</p>\n"))


@pytest.mark.slow
def test_a_conversation_survives_a_restart_and_is_reopened_continued_and_exported(browser, ui_process) -> None:
    from playwright.sync_api import expect

    with ui_process.serving() as url, _page(browser, url) as ui:
        scope = ui.page.locator("#rag-scope")  # the conversation asks one document
        scope.locator("input").click()
        ui.page.get_by_role("option").filter(has_text=AIRLIFT_DOC).click()
        ui.page.keyboard.press("Escape")
        turn = ui.ask(AIRCRAFT)
        expect(turn.locator(".rag-answer")).to_contain_text("Y-20")
        assert all(AIRLIFT_DOC in f for f in turn.locator(".rag-card-foot").all_inner_texts())
        past = ui.page.locator("#rag-past")
        expect(past).to_contain_text(f"{AIRCRAFT} — 1 question")
        expect(_name_box(ui.page)).to_have_value(AIRCRAFT)
        _name_box(ui.page).fill("Airlift report")
        ui.page.click("#rag-rename")
        expect(past).to_contain_text("Airlift report — 1 question")
    # the server is stopped here, and a new one started over the same index folder

    with ui_process.serving() as url, _page(browser, url) as ui:
        page = ui.page
        expect(page.locator("#rag-past")).to_contain_text("Airlift report — 1 question")
        assert page.locator("#rag-chat .rag-turn").count() == 0  # a new page starts a new conversation
        page.locator("#rag-past label", has_text="Airlift report").click()
        reopened = page.locator(".rag-answered").last
        expect(reopened.locator(".rag-answer")).to_contain_text("Y-20")
        expect(page.locator("#rag-chat")).to_contain_text(AIRCRAFT)
        expect(reopened.locator(".rag-card mark").first).to_be_visible()  # the sources, support marked
        expect(_name_box(page)).to_have_value("Airlift report")
        expect(page.locator("#rag-scope")).to_contain_text(AIRLIFT_DOC)  # and the documents it asked
        ui.shot("conversation-reopened.png")
        reopened.locator(".rag-answer .rag-cite").first.click()  # the article opens as it did
        expect(reopened.locator("details.rag-article-1")).to_have_attribute("open", "")

        second = ui.ask(FOLLOW_UP)  # rewritten from the reopened turn: "it" is the aircraft
        expect(second.locator(".rag-answer")).to_contain_text("Baranovichi")
        expect(page.get_by_text("Rewritten question")).to_be_visible()
        expect(page.locator("#rag-past")).to_contain_text("Airlift report — 2 questions")
        ui.shot("conversation-continued.png")

        page.click("#rag-export")
        link = page.locator("#rag-export-file a").first
        expect(link).to_be_visible(timeout=30_000)
        with page.expect_download() as download:
            link.click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        ui.shot("conversation-exported.png")
        assert text.startswith("# Airlift report\n\n*2 questions, started ")
        assert f"## 1. {AIRCRAFT}" in text and f"## 2. {FOLLOW_UP}\n\n*Asked as* (" in text
        assert "[^1]" in text and "[^2]" in text
        articles = {p.stem: p.read_text(encoding="utf-8") for p in ui_process.collection.glob("*.txt")}
        quotes = QUOTE.findall(text)
        assert quotes and any("Baranovichi" in _shown(q) for q, *_ in quotes)
        for line, start, end in quotes:  # verbatim, at the span the footnote gives
            spans = [" ".join(a[int(start):int(end)].split()) for a in articles.values()]
            assert " ".join(_shown(line).split()) in spans

        page.click("#rag-delete")
        expect(page.locator("#rag-past")).not_to_contain_text("Airlift report")
        expect(page.locator("#rag-chat .rag-turn")).to_have_count(0)
    assert ConversationStore.in_index(ui_process.index_dir).find("Airlift report") is None


@pytest.mark.slow
def test_a_locked_or_corrupt_store_is_a_notice_and_the_question_is_answered(browser, ui_process) -> None:
    from gradio_client import Client
    from playwright.sync_api import expect

    store = ConversationStore.in_index(ui_process.index_dir)
    with ui_process.serving() as url, _page(browser, url) as ui:
        _, data, _ = Client(url, verbose=False).predict(question=SAMPLE, conversation="api-1", api_name="/ask")
        assert "June 6" in data["answer"]
        assert store.get("api-1").turns == 1 and store.turns("api-1")[0].answer == data  # an API client's key
        _, plain, _ = Client(url, verbose=False).predict(question=SAMPLE, api_name="/ask")
        assert plain["answer"] == data["answer"] and len(store.conversations()) == 1  # no key: nothing saved

        holder = sqlite3.connect(store.path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
        try:
            turn = ui.ask(SAMPLE)
            expect(turn.locator(".rag-answer")).to_contain_text("June 6")
            notice = ui.page.locator("#rag-chat .rag-notice").last
            expect(notice).to_contain_text("this answer was not saved", timeout=30_000)
            expect(notice).to_contain_text("is locked by another program (database is locked)")
            ui.shot("conversation-store-locked.png")
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        store.path.write_bytes(b"\x00garbage, not SQLite\xff" * 300)
        ui.ask(AIRCRAFT)
        answered = ui.page.locator("#rag-chat .rag-answered")
        expect(answered).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(answered.last.locator(".rag-answer")).to_contain_text("Y-20")
        expect(ui.page.locator("#rag-chat .rag-notice").last).to_contain_text(
            "is damaged (file is not a database)", timeout=30_000)
        expect(ui.page.locator("#rag-conversation-notice")).to_contain_text("is damaged")  # the list says so too
        ui.shot("conversation-store-corrupt.png")
    assert store.path.read_bytes().startswith(b"\x00garbage")  # left for the user to look at


def test_a_stored_turn_renders_as_the_live_one(base_index) -> None:
    """Reopening re-renders each stored turn from its JSON: the same HTML as when it was answered."""
    from conftest import settings_for

    from rag.answer.pipeline import Pipeline
    from rag.serve import render
    from rag.serve.history import answer_record
    from rag.serve.webui import turn_messages

    pipeline = Pipeline(settings_for(base_index.index_dir, base_index.collection))
    answer = pipeline.ask(SAMPLE)
    documents = pipeline.index.documents
    stored = StoredTurn(SAMPLE, answer_record(answer, documents, None), 0.0)
    messages = turn_messages(stored, documents)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["content"] == render.answer_message(answer, documents)
