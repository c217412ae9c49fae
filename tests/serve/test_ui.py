"""The web UI for real: `python app.py` in a subprocess, asked through gradio_client and a headless chromium.

The server (tests/conftest.py `ui_server`) runs over a private copy of the
tiny index plus an article full of markup. The browser is Debian's chromium
driven by Playwright; every request that leaves the server's origin is
blocked and recorded, so the page is shown to work offline. Screenshots go
to reports/ui/ (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, XSS_DOC, free_port
from servers import one_error_line, start_app

ARTICLE = "000_9c9ac89b68401338"
EVIDENCE = "On June 6, a contingent of Chinese military personnel arrived in Belarus"
SAMPLE = "When did Chinese troops arrive in Belarus?"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "reports" / "ui"
ANSWER_TIMEOUT_MS = 180_000


# ---------------------------------------------------------------- pure pieces (no server)


def test_auth_flag_and_exposure_warning() -> None:
    from rag.core.errors import StartError
    from rag.serve.startup import is_loopback
    from rag.serve.webui import exposure_warning, parse_auth

    assert parse_auth("ann:s3cret:x") == ("ann", "s3cret:x")
    assert parse_auth(None) is None
    for bad in ("ann", "ann:", ":pw"):
        with pytest.raises(StartError):
            parse_auth(bad)
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("0.0.0.0", ("a", "b")) is None
    assert "WITHOUT authentication" in exposure_warning("0.0.0.0", None)


def test_per_question_settings_are_checked() -> None:
    from rag.serve.webui import _overrides

    models = {"smollm2": "SmolLM2"}
    assert _overrides(3, "bm25", 0.2, "smollm2", models) == (
        {"top_k": 3, "temperature": 0.2, "retriever": "bm25", "model": "smollm2"},
        None,
    )
    assert _overrides(None, None, None, None, models) == ({}, None)
    assert "model must be one of" in _overrides(5, "hybrid", 0, "/etc/passwd", models)[1]
    assert "retriever" in _overrides(5, "grep", 0, None, models)[1]
    assert "top_k" in _overrides(0, None, None, None, models)[1]
    assert "temperature" in _overrides(5, None, 9, None, models)[1]


def test_the_ui_runs_with_server_settings(base_index) -> None:
    """Like the API, the UI leaves a core to the embedder and collection work when n_threads is unset."""
    import os

    from conftest import settings_for

    from rag.serve.webui import prepare

    unset = prepare(settings_for(base_index.index_dir))
    assert unset.chat.pipeline.settings.n_threads == max(1, (os.cpu_count() or 2) - 1)
    assert unset.settings.n_threads == unset.chat.pipeline.settings.n_threads
    assert prepare(settings_for(base_index.index_dir, n_threads=2)).chat.pipeline.settings.n_threads == 2


class _FailingPipeline:
    """Just enough of a Pipeline for ChatService: every question fails with `error`."""

    def __init__(self, error: Exception):
        from rag.core.settings import Settings

        self.settings = Settings()
        self.error = error

    def check_question(self, question: str) -> str:
        raise self.error


def test_chat_turn_failures_are_one_line_and_unexpected_ones_are_logged(caplog) -> None:
    from rag.core.errors import VectorStoreError
    from rag.serve.chat import ChatService, Failed

    known = ChatService(_FailingPipeline(VectorStoreError("the vector store is down\ndetails")))
    assert list(known.run("q", None)) == [Failed("the vector store is down")]
    bug = ChatService(_FailingPipeline(RuntimeError("boom")))
    with caplog.at_level("ERROR", logger="rag.serve.chat"):
        assert list(bug.run("q", None)) == [Failed("unexpected RuntimeError: boom")]
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


# ---------------------------------------------------------------- start errors (subprocess, no server)


@pytest.mark.slow
def test_start_errors_are_one_line(tmp_path, base_index) -> None:
    missing = start_app(tmp_path, "--port", str(free_port()), RAG_INDEX_DIR=str(tmp_path / "none"))
    assert "no index" in one_error_line(missing) and "rag ingest" in one_error_line(missing)

    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = start_app(tmp_path, "--port", str(port), RAG_INDEX_DIR=str(base_index.index_dir))
    assert f"127.0.0.1:{port}" in one_error_line(taken) and "--port" in one_error_line(taken)

    no_model = start_app(
        tmp_path, "--port", str(free_port()), RAG_INDEX_DIR=str(base_index.index_dir), RAG_MODEL="/nope.gguf"
    )
    assert "/nope.gguf" in one_error_line(no_model)


@pytest.mark.slow
def test_exposed_host_without_auth_is_warned_about_loudly(tmp_path) -> None:
    result = start_app(
        tmp_path, "--host", "0.0.0.0", "--port", str(free_port()), RAG_INDEX_DIR=str(tmp_path / "none")
    )
    assert "WARNING: serving on 0.0.0.0" in result.stderr and "WITHOUT authentication" in result.stderr
    one_error_line(result)  # then the missing index stops it


# ---------------------------------------------------------------- the API (gradio_client)


@pytest.fixture(scope="module")
def client(ui_server):
    from gradio_client import Client

    return Client(ui_server.url, verbose=False)


def _ask(client, question: str, **kwargs):
    history, data, box = client.predict(question=question, api_name="/ask", **kwargs)
    assert box == ("" if "error" not in data else question)  # a refused question stays, to be fixed
    return history, data


@pytest.mark.slow
def test_api_answers_with_citations(client, ui_server) -> None:
    history, data = _ask(client, SAMPLE)
    assert not data["abstained"] and "June 6" in data["answer"]
    assert set(data) >= {"question", "answer", "abstained", "citations", "retrieved", "timings"}
    cited = data["citations"]
    assert cited and all(f"[{c['n']}]" in data["answer"] for c in cited)
    article = (ui_server.collection / f"{ARTICLE}.txt").read_text(encoding="utf-8")
    assert any(c["doc"] == ARTICLE for c in cited)
    for c in cited:
        assert article[c["start"] : c["end"]] == c["text"]
        for s in c["support"]:
            assert article[s["start"] : s["end"]] == s["text"]
    assert any(EVIDENCE in s["text"] for c in cited for s in c["support"])
    # the chat history that comes back holds the same answer, rendered
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert "rag-answered" in json.dumps(history)


@pytest.mark.slow
def test_api_follow_up_is_rewritten_from_the_history(client) -> None:
    history, first = _ask(client, "Which aircraft ferried the Chinese equipment to Belarus?")
    assert "Y-20" in first["answer"]
    # "where did it land?" is rewritten the same way, but its answer (confidence 0.16) falls just below
    # the fitted threshold (0.17): its abstention would test the threshold, not the rewrite
    history, data = _ask(client, "which air base did it land at?", history=history)
    assert data["rewrite"]["original"] == "which air base did it land at?"
    assert data["rewrite"]["method"] in ("model", "rule", "fallback")
    assert data["question"] == data["rewrite"]["standalone"] != "which air base did it land at?"
    assert "land" in data["question"]
    assert "Baranovichi" in data["answer"], data
    titles = [(m.get("metadata") or {}).get("title") for m in history]
    assert "Rewritten question" in titles


@pytest.mark.slow
def test_api_errors_are_one_line_not_tracebacks(client) -> None:
    history, data = _ask(client, "   ")
    assert data == {"question": "   ", "error": "the question is empty"}
    assert "rag-error" in json.dumps(history) and "Traceback" not in json.dumps(history)
    _, data = _ask(client, "x" * 3000)
    assert "limit is 2000" in data["error"]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not in the list of choices"):  # Gradio checks the picker's choices
        client.predict(question="When?", model="/etc/passwd", api_name="/ask")


def test_chat_is_one_at_a_time_and_collection_work_is_separate() -> None:
    """llama.cpp is not thread-safe: every chat event shares one queue slot; ingestion has its own."""
    from rag.core.settings import Settings
    from rag.serve.webui import ANSWER_GROUP, COLLECTION_GROUP, App, build

    demo = build(App(Settings(), chat=None, collection=None, models={"smollm2": "SmolLM2"}))
    chat_events = [fn for fn in demo.fns.values() if fn.concurrency_id == ANSWER_GROUP]
    assert len(chat_events) == 3  # Enter, the Ask button, an example
    assert all(fn.concurrency_limit == 1 and fn.queue for fn in chat_events)
    assert [fn.api_name for fn in chat_events if fn.api_visibility == "public"] == ["ask"]
    collection = {fn.api_name: fn for fn in demo.fns.values() if fn.concurrency_id == COLLECTION_GROUP}
    assert set(collection) == {"add_documents", "remove_document", "rebuild"}
    assert all(fn.concurrency_limit == 1 for fn in collection.values())


@pytest.mark.slow
def test_two_clients_at_once_are_both_answered(client, ui_server) -> None:
    from gradio_client import Client

    other = Client(ui_server.url, verbose=False)
    jobs = [
        client.submit(question=SAMPLE, api_name="/ask"),
        other.submit(question="Which aircraft ferried the Chinese equipment to Belarus?", api_name="/ask"),
    ]
    results = [job.result(timeout=300) for job in jobs]
    assert "June 6" in results[0][1]["answer"]
    assert "Y-20" in results[1][1]["answer"]


@pytest.mark.slow
def test_api_upload_then_remove(client, ui_server, tmp_path) -> None:
    from gradio_client import handle_file

    good = tmp_path / "quorlax_bridge.txt"
    good.write_text(
        "Quorlax bridge opens\nThe Quorlax bridge over the river Tamsin opened on September 14 after six years "
        "of construction.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "broken.txt"
    bad.write_bytes(bytes(range(256)) * 8)
    stats, table, choices, status, cleared = client.predict(
        paths=[handle_file(str(good)), handle_file(str(bad))], api_name="/add_documents"
    )
    assert "✓ quorlax_bridge.txt: added" in status
    assert "✗ broken.txt:" in status and "binary" in status
    assert "1 added" in status and "quorlax_bridge" in table
    assert (ui_server.collection / "quorlax_bridge.txt").is_file()
    assert not (ui_server.collection / "broken.txt").exists()
    _, data = _ask(client, "When did the Quorlax bridge open?")
    assert "September 14" in data["answer"] and data["citations"][0]["doc"] == "quorlax_bridge"

    stats, table, choices, status = client.predict(doc_id="quorlax_bridge", api_name="/remove_document")
    trash = ui_server.collection.parent / "collection-trash" / "quorlax_bridge.txt"
    assert trash.is_file() and not (ui_server.collection / "quorlax_bridge.txt").exists()
    assert "1 removed" in status and "quorlax_bridge" not in table
    _, data = _ask(client, "When did the Quorlax bridge open?")
    assert data["abstained"]


# ---------------------------------------------------------------- the browser (Playwright + Debian chromium)


@pytest.fixture(scope="module")
def browser():
    from playwright import sync_api  # the dev extra; the browser itself comes from Debian

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A fresh browser page on the UI, with every off-origin request blocked and recorded."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.offsite: list[str] = []
        self.page.route("**/*", self._guard(url))
        self.page.goto(url)
        self.page.wait_for_selector("#rag-question textarea", timeout=60_000)

    def _guard(self, url: str):
        def route(r):
            if r.request.url.startswith(url) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.offsite.append(r.request.url)
                r.abort()

        return route

    def ask(self, question: str, wait_for: str = ".rag-answered, .rag-abstained, .rag-error"):
        count = self.page.locator(".rag-turn:not(.rag-pending)").count()
        self.page.fill("#rag-question textarea", question)
        self.page.keyboard.press("Enter")
        self.page.wait_for_function(
            f"document.querySelectorAll('.rag-turn:not(.rag-pending)').length > {count}",
            timeout=ANSWER_TIMEOUT_MS,
        )
        return self.page.locator(".rag-turn:not(.rag-pending)").last

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / name
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def ui(browser, ui_server):
    page = Page(browser, ui_server.url)
    yield page
    page.context.close()
    assert page.offsite == [], f"the page tried to reach the network: {page.offsite}"


@pytest.mark.slow
def test_first_load_shows_examples_and_the_collection(ui) -> None:
    from playwright.sync_api import expect

    page = ui.page
    expect(page.get_by_text(SAMPLE)).to_be_visible()
    stats = page.locator("#rag-stats")
    expect(stats).to_contain_text("Documents")
    expect(stats).to_contain_text("all-MiniLM-L6-v2")
    expect(stats).to_contain_text("SmolLM2")
    expect(stats).to_contain_text("Index built")
    expect(page.locator("#rag-settings")).to_contain_text("Retriever")
    ui.shot("first-load.png")
    page.get_by_text(SAMPLE).click()  # an example runs as a question
    expect(page.locator(".rag-answered .rag-answer").last).to_contain_text(
        "June 6", timeout=ANSWER_TIMEOUT_MS
    )


@pytest.mark.slow
def test_question_streams_cites_and_opens_the_article(ui) -> None:
    from playwright.sync_api import expect

    page = ui.page
    page.evaluate(
        """() => {
          window.__ragDrafts = 0;
          new MutationObserver(() => {
            if (document.querySelector('.rag-pending .rag-draft')) window.__ragDrafts += 1;
          }).observe(document.body, {subtree: true, childList: true, characterData: true});
        }"""
    )
    turn = ui.ask(SAMPLE)
    expect(turn).to_have_class("rag-turn rag-answered")
    assert page.evaluate("window.__ragDrafts") > 0  # the draft streamed in before the answer
    expect(turn.locator(".rag-answer")).to_contain_text("June 6 [1]")
    card = turn.locator(".rag-card").first
    expect(card).to_contain_text("The Chinese People’s Liberation Army ground units")
    expect(card.locator("mark")).to_contain_text(EVIDENCE)
    expect(card).to_contain_text(ARTICLE)
    article = turn.locator("details.rag-article-1")
    assert article.get_attribute("open") is None
    ui.shot("answer.png")

    turn.locator(".rag-answer .rag-cite").click()  # the [1] marker opens the whole article
    expect(article).to_have_attribute("open", "")
    text = article.locator(".rag-article-text")
    expect(text).to_contain_text("Source: bulgarianmilitary.com")  # the article from its first line…
    expect(text).to_contain_text("joint troop training,” according to the ministry.")  # …to its last
    mark = article.locator(".rag-span mark")
    expect(mark).to_contain_text(EVIDENCE)
    expect(mark).to_be_in_viewport()
    ui.shot("article.png")

    page.evaluate("document.querySelector('details.rag-article-1').open = false")
    card.click()  # so does the source card
    expect(article).to_have_attribute("open", "")
    expect(mark).to_be_in_viewport()


@pytest.mark.slow
def test_abstention_is_shown_as_such(ui) -> None:
    from playwright.sync_api import expect

    turn = ui.ask("What is the capital of Peru?")
    expect(turn).to_have_class("rag-turn rag-abstained")
    expect(turn.locator(".rag-label")).to_have_text("No answer")
    expect(turn).to_contain_text("The documents do not say.")
    assert turn.locator(".rag-card").count() == 0
    border = turn.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert border == "rgb(217, 119, 6)"  # the amber abstention style, not an answer's
    ui.shot("abstention.png")


@pytest.mark.slow
def test_markup_in_articles_is_shown_as_text_and_never_runs(ui) -> None:
    from playwright.sync_api import expect

    page = ui.page
    turn = ui.ask("When was the Zorblat festival held?")
    expect(turn.locator(".rag-answer")).to_contain_text("March 3")
    turn.locator(".rag-answer .rag-cite").click()
    text = turn.locator("details.rag-article-1 .rag-article-text")
    expect(text).to_contain_text("<script>window.__xss=2</script>")
    expect(text).to_contain_text('<img src=x onerror="window.__xss=3">')
    expect(text).to_contain_text("${7*7} {{constructor}}")  # no template evaluated it either
    expect(turn.locator(".rag-card .rag-title")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert turn.locator("img, script").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert (ui_server_collection := XSS_DOC[0]) == "zorblat_festival.txt", ui_server_collection


@pytest.mark.slow
def test_follow_up_shows_the_rewritten_question(ui) -> None:
    from playwright.sync_api import expect

    page = ui.page
    first = ui.ask("Which aircraft ferried the Chinese equipment to Belarus?")
    expect(first.locator(".rag-answer")).to_contain_text("Y-20")
    second = ui.ask("which air base did it land at?")
    expect(second.locator(".rag-answer")).to_contain_text("Baranovichi")
    note = page.get_by_text("Rewritten question")
    expect(note).to_be_visible()  # collapsed: the title shows, the question on a click
    ui.shot("follow-up.png")


@pytest.mark.slow
def test_upload_in_the_browser_reports_the_bad_file_and_ingests_the_good_one(ui, ui_server, tmp_path) -> None:
    from playwright.sync_api import expect

    page = ui.page
    good = tmp_path / "vrelk_dam.md"
    good.write_text(
        "# Vrelk dam\n\nThe Vrelk dam was finished on April 22 by 900 workers.\n", encoding="utf-8"
    )
    bad = tmp_path / "garbage.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01\x02")
    page.locator("#rag-upload input[type=file]").set_input_files([str(good), str(bad)])
    status = page.locator("#rag-upload-status")
    expect(status.locator(".rag-upload-error")).to_contain_text("garbage.pdf", timeout=ANSWER_TIMEOUT_MS)
    expect(status.locator(".rag-upload-ok").first).to_contain_text("vrelk_dam.md: added")
    expect(status).to_contain_text("1 added")
    expect(page.locator("#rag-stats")).to_contain_text("Documents")
    ui.shot("upload.png")
    turn = ui.ask("When was the Vrelk dam finished?")
    expect(turn.locator(".rag-answer")).to_contain_text("April 22")
    # leave the shared collection as it was
    from gradio_client import Client

    Client(ui_server.url, verbose=False).predict(doc_id="vrelk_dam", api_name="/remove_document")
    assert not (ui_server.collection / "vrelk_dam.md").exists()


@pytest.mark.slow
def test_waiting_users_see_their_place_in_the_queue(browser, ui_server) -> None:
    pages = [Page(browser, ui_server.url) for _ in range(3)]
    # three questions at once: one is answered, the others wait their turn. Each is written differently,
    # so that none is answered from the caches of an earlier identical question before the others queue.
    questions = [SAMPLE, SAMPLE.lower(), SAMPLE.rstrip("?")]
    try:
        for page, question in zip(pages, questions):
            page.page.fill("#rag-question textarea", question)
            page.page.keyboard.press("Enter")
        pages[-1].page.wait_for_function(
            "document.querySelector('#rag-chat').innerText.includes('queue:')", timeout=60_000
        )
        pages[-1].shot("queue.png")
        for page in pages:
            page.page.wait_for_selector(".rag-answered", timeout=ANSWER_TIMEOUT_MS)
            assert "June 6" in page.page.locator(".rag-answered .rag-answer").last.inner_text()
            assert page.offsite == []
    finally:
        for page in pages:
            page.context.close()


# ---------------------------------------------------------------- one document: scope and summary

BELARUS = "003_096012cda1bf5463"
SCOPED = "When will the joint military exercises begin?"


@pytest.mark.slow
def test_api_scoped_question_and_summary(client, ui_server) -> None:
    _, data = _ask(client, SCOPED, documents=["003"])
    assert data["scope"] == [BELARUS] and {c["doc"] for c in data["citations"]} == {BELARUS}
    assert {h["doc"] for h in data["retrieved"]} == {BELARUS}
    _, refused = _ask(client, SCOPED, documents=["003_096012cda1bf5464"])
    assert "closest: 003_096012cda1bf5463" in refused["error"]
    shown, summary = client.predict(doc_id=BELARUS, api_name="/summarize")
    article = (ui_server.collection / f"{BELARUS}.txt").read_text(encoding="utf-8")
    assert summary["doc"] == BELARUS and len(summary["sentences"]) == 5
    assert all(article[s["start"] : s["end"]] == s["text"] for s in summary["sentences"])
    _, topics = client.predict(api_name="/summarize_collection")
    assert BELARUS in [d["doc"] for t in topics["topics"] for d in t["documents"]]


@pytest.mark.slow
def test_choose_a_document_ask_it_and_summarise_it_in_the_browser(ui, ui_server) -> None:
    from playwright.sync_api import expect

    page = ui.page
    scope = page.locator("#rag-scope")
    scope.locator("input").click()
    page.get_by_role("option").filter(has_text=BELARUS).click()
    page.keyboard.press("Escape")
    expect(scope).to_contain_text(BELARUS)
    ui.shot("document-selector.png")
    turn = ui.ask(SCOPED)
    expect(turn.locator(".rag-answer")).to_contain_text("Thursday")
    feet = turn.locator(".rag-card-foot")
    assert feet.count() > 0 and all(BELARUS in f for f in feet.all_inner_texts())
    second = ui.ask("Who is the ruler of Belarus?")  # the choice stays for the conversation
    expect(second.locator(".rag-answer")).to_contain_text("Lukashenko")
    assert all(BELARUS in f for f in second.locator(".rag-card-foot").all_inner_texts())
    expect(scope).to_contain_text(BELARUS)

    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option").filter(has_text=BELARUS).click()
    page.locator("#rag-summarize").click()
    sentences = page.locator("#rag-summary .rag-summary-sentences li")
    expect(sentences).to_have_count(5, timeout=ANSWER_TIMEOUT_MS)
    article = (ui_server.collection / f"{BELARUS}.txt").read_text(encoding="utf-8")
    for text in sentences.locator(".rag-summary-text").all_inner_texts():
        assert text in article
    page.locator("#rag-summary").scroll_into_view_if_needed()
    ui.shot("summary.png")
    page.locator("#rag-clear").click()  # a new conversation asks the whole collection again
    expect(scope).not_to_contain_text(BELARUS)
