"""The conversation store for real: SQLite files in a temporary index folder, other connections
holding its lock, garbage written over it; and the Markdown export of what it holds."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from markdown_it import MarkdownIt

from rag.core.errors import ConversationMissingError, ConversationNameError, ConversationStoreError
from rag.serve.export import conversation_markdown, md_text
from rag.serve.history import FILE_NAME, SCHEMA_VERSION, ConversationStore, StoredTurn, new_key

ARTICLE = "Intro. On June 6, a contingent arrived in *Belarus* [officially]. Then # more <b>text</b>."
SUPPORT = (7, 65)  # "On June 6, ... [officially]."


def answer(question: str, said: str = "June 6 [1]", abstained: bool = False, **extra) -> dict:
    """A `rag ask --json` object as the pipeline makes it (citations quote ARTICLE)."""
    citations = [] if abstained else [{
        "n": 1, "doc": "doc_a", "title": "A *report*", "start": 0, "end": len(ARTICLE), "text": ARTICLE,
        "support": [{"start": SUPPORT[0], "end": SUPPORT[1], "text": ARTICLE[SUPPORT[0]:SUPPORT[1]]}],
    }]
    return {"question": question, "answer": said, "abstained": abstained, "citations": citations, **extra}


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return ConversationStore(tmp_path / "index" / FILE_NAME, timeout=0.2)


def turn(asked: str, data: dict | None = None) -> StoredTurn:
    return StoredTurn(asked, data or answer(asked), time.time())


def test_turns_are_kept_in_order_and_names_stay_unique(store) -> None:
    assert store.conversations() == [] and not store.path.exists()  # reading makes no file
    first, second = new_key(), new_key()
    store.append(first, turn("When did they arrive?"), name="When did they arrive?")
    store.append(first, turn("and why?", answer("Why did they arrive?", rewrite={
        "original": "and why?", "standalone": "Why did they arrive?", "method": "model"})), name="ignored")
    made = store.append(second, turn("When did they arrive?"), name="When did they arrive?")
    assert made.name == "When did they arrive? (2)" and made.turns == 1
    assert [c.key for c in store.conversations()] == [second, first]  # the latest first
    turns = store.turns(first)
    assert [t.asked for t in turns] == ["When did they arrive?", "and why?"]
    assert turns[1].rewrite.standalone == "Why did they arrive?" and turns[0].rewrite is None
    assert turns[1].as_turn().question == "Why did they arrive?" and turns[1].as_turn().answer == "June 6 [1]"
    abstained = turn("What is the capital of Peru?", answer("What is the capital of Peru?", "The documents do not say.",
                                                            abstained=True))
    assert abstained.as_turn().answer == ""  # as the web UI's history gives an abstention to the rewriter
    with store._transaction(write=False) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_rename_delete_and_names(store) -> None:
    key, other = new_key(), new_key()
    store.append(key, turn("q1"), name="q1")
    store.append(other, turn("q2"), name="q2")
    assert store.rename(key, "  Airlift   report ").name == "Airlift report"
    assert store.named("Airlift report").key == key
    with pytest.raises(ConversationNameError, match="already named 'q2'"):
        store.rename(key, "q2")
    with pytest.raises(ConversationNameError, match="cannot be empty"):
        store.rename(key, "   ")
    with pytest.raises(ConversationMissingError, match="no saved turn yet"):
        store.rename(new_key(), "x")
    with pytest.raises(ConversationNameError, match="already named 'q2'"):
        store.append(new_key(), turn("q3"), name="q2", exact=True)  # `rag ask --conversation` names exactly
    store.delete(key)
    assert [c.name for c in store.conversations()] == ["q2"] and store.turns(key) == []
    with pytest.raises(ConversationMissingError, match=r"no conversation named 'Airlift report' \(conversations: 'q2'\)"):
        store.named("Airlift report")


def test_a_corrupt_store_is_one_line_and_loses_nothing_else(store) -> None:
    store.append(new_key(), turn("q1"), name="q1")
    store.path.write_bytes(b"this is not a database, just garbage " * 200)
    for action in (store.conversations, lambda: store.append(new_key(), turn("q"), name="q")):
        with pytest.raises(ConversationStoreError) as caught:
            action()
        assert caught.value.message == str(caught.value)  # one line
        assert "is damaged (file is not a database); move it away" in caught.value.message
        assert str(store.path) in caught.value.message
    assert store.path.read_bytes().startswith(b"this is not a database")  # left for the user to look at


def test_a_locked_store_fails_writes_after_the_timeout_and_still_reads(store) -> None:
    key = new_key()
    store.append(key, turn("q1"), name="q1")
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(ConversationStoreError, match=r"is locked by another program \(database is locked\)"):
            store.append(key, turn("q2"), name="q1")
        assert time.monotonic() - started < 5
        assert [t.asked for t in store.turns(key)] == ["q1"]  # WAL: readers are not held up
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.append(key, turn("q2"), name="q1")
    assert store.get(key).turns == 2


def test_a_newer_schema_is_refused(store) -> None:
    store.append(new_key(), turn("q1"), name="q1")
    with sqlite3.connect(store.path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConversationStoreError, match="written by a newer version of rag"):
        store.conversations()


def test_threads_appending_at_once_lose_no_turn(store) -> None:
    key = new_key()
    slow = ConversationStore(store.path)  # the default busy timeout: they wait for each other
    threads = [threading.Thread(target=lambda i=i: slow.append(key, turn(f"q{i}"), name="many")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(t.asked for t in store.turns(key)) == sorted(f"q{i}" for i in range(8))
    assert store.path.name == FILE_NAME


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("text", [
    "# not a heading *not bold* _nor_ this [no](link) <b>no tag</b> `no code` | ~~no strike~~ \\ back",
    "1. not a list", "- nor this", "+ nor", "=== nor a rule",
])
def test_markdown_escaping_shows_text_as_written(text) -> None:
    html = MarkdownIt().render(md_text(text))
    shown = html.removeprefix("<p>").removesuffix("</p>\n")
    import html as html_lib

    assert html_lib.unescape(shown) == text, html


def test_export_footnotes_quote_the_support_and_number_through(store) -> None:
    key = new_key()
    store.append(key, turn("When did they arrive?"), name="Arrival")
    rewritten = answer("When did the contingent arrive in Belarus?", "June 6 [1]", rewrite={
        "original": "and when?", "standalone": "When did the contingent arrive in Belarus?", "method": "rule"})
    store.append(key, turn("and when?", rewritten), name="Arrival")
    store.append(key, turn("Capital of Peru?", answer("Capital of Peru?", "The documents do not say.", True)),
                 name="Arrival")
    text = conversation_markdown(store.get(key), store.turns(key))
    assert text.startswith("# Arrival\n\n*3 questions, started ")
    assert "## 1. When did they arrive?\n\n**Answer:** June 6[^1]\n" in text
    assert "## 2. and when?\n\n*Asked as* (by a rule): When did the contingent arrive in Belarus?" in text
    assert "**Answer:** June 6[^2]" in text  # numbered through the conversation
    assert "## 3. Capital of Peru?\n\n*No answer:* The documents do not say." in text
    assert "[^3]" not in text
    for n in (1, 2):
        assert f"[^{n}]: *A \\*report\\** (`doc_a`, characters 0–{len(ARTICLE)})" in text
    quoted = [line.removeprefix("    > ") for line in text.splitlines() if line.startswith("    > ") and "—" not in line]
    import html as html_lib

    for line in quoted:  # rendered, each quote is the supporting sentence exactly
        rendered = html_lib.unescape(MarkdownIt().render(line).removeprefix("<p>").removesuffix("</p>\n"))
        assert rendered == ARTICLE[SUPPORT[0]:SUPPORT[1]]
    assert len(quoted) == 2 and text.count(f"> — characters {SUPPORT[0]}–{SUPPORT[1]}") == 2
