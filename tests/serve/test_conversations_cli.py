"""`rag ask --conversation`, `rag conversations` and `rag export` for real: the `rag` command in a
subprocess over a private copy of the tiny index, the real models, the SQLite store in the index folder."""

from __future__ import annotations

import html
import json
import re
import sqlite3

import pytest
from markdown_it import MarkdownIt

from rag.serve.history import FILE_NAME, ConversationStore, StoredTurn, new_key

AIRCRAFT = "Which aircraft ferried the Chinese equipment to Belarus?"
FOLLOW_UP = "which air base did it land at?"  # "it": the aircraft, resolved from the stored turn
SAMPLE = "When did Chinese troops arrive in Belarus?"
FOOTNOTE = re.compile(r"^\[\^(\d+)\]: .*\(`([^`]+)`, characters (\d+)–(\d+)\)$", re.MULTILINE)
QUOTE = re.compile(r"^    > (?!— )(.+)\n    >\n    > — characters (\d+)–(\d+)$", re.MULTILINE)


def _ask(rag_cli, index_dir, *args):
    return rag_cli("--index-dir", str(index_dir), "ask", "--json", *args)


def _stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def _shown(markdown_line: str) -> str:
    """What a Markdown renderer shows for one escaped line."""
    return html.unescape(MarkdownIt().render(markdown_line).removeprefix("<p>").removesuffix("</p>\n"))


@pytest.mark.slow
def test_a_named_conversation_is_continued_listed_and_exported(rag_cli, index_copy, tmp_path) -> None:
    index_dir = index_copy.index_dir
    first = _ask(rag_cli, index_dir, "--conversation", "Airlift", AIRCRAFT)
    assert first.returncode == 0, first.stderr
    assert "Y-20" in json.loads(first.stdout)["answer"]
    assert _stderr_lines(first)[-1] == "saved as turn 1 of conversation 'Airlift'"

    second = _ask(rag_cli, index_dir, "--conversation", "Airlift", FOLLOW_UP)
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["rewrite"]["original"] == FOLLOW_UP and data["question"] == data["rewrite"]["standalone"]
    assert "Baranovichi" in data["answer"], data
    assert f"rewritten ({data['rewrite']['method']}): {data['question']}" in second.stderr
    assert _stderr_lines(second)[-1] == "saved as turn 2 of conversation 'Airlift'"

    listed = rag_cli("--index-dir", str(index_dir), "conversations")
    assert listed.returncode == 0 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d    2 questions  Airlift\n", listed.stdout)

    exported = rag_cli("--index-dir", str(index_dir), "export", "Airlift")
    assert exported.returncode == 0, exported.stderr
    text = exported.stdout
    assert text.startswith("# Airlift\n\n*2 questions, started ")
    assert f"## 1. {AIRCRAFT}\n\n**Answer:** " in text and f"## 2. {FOLLOW_UP}\n\n*Asked as* (" in text
    notes = FOOTNOTE.findall(text)
    assert [int(n) for n, *_ in notes] == list(range(1, len(notes) + 1)) and len(notes) >= 2
    for n, *_ in notes:  # each footnote is cited in an answer, once
        assert text.count(f"[^{n}]") == 2  # the marker and the definition
    quotes = QUOTE.findall(text)
    assert len(quotes) >= len(notes)
    article = {p.stem: p.read_text(encoding="utf-8") for p in index_copy.collection.glob("*.txt")}
    docs = {doc for _, doc, _, _ in notes}
    for line, start, end in quotes:  # verbatim from an article the footnotes name
        assert any(" ".join(_shown(line).split()) == " ".join(article[d][int(start):int(end)].split()) for d in docs)
    assert any("Baranovichi" in _shown(line) for line, *_ in quotes)
    assert data["citations"][0]["support"][0]["text"].split()[0] in text

    out = tmp_path / "airlift.md"
    written = rag_cli("--index-dir", str(index_dir), "export", "Airlift", "--output", str(out))
    assert written.returncode == 0 and out.read_text(encoding="utf-8") == text
    assert _stderr_lines(written) == [f"wrote {out} (2 questions)"]

    renamed = rag_cli("--index-dir", str(index_dir), "conversations", "--rename", "Airlift", "Airlift report")
    assert renamed.returncode == 0 and renamed.stdout.endswith("2 questions  Airlift report\n")
    rag_cli("--index-dir", str(index_dir), "export", "Airlift").error_line(
        "no conversation named 'Airlift'", "'Airlift report'")
    deleted = rag_cli("--index-dir", str(index_dir), "conversations", "--delete", "Airlift report")
    assert deleted.returncode == 0 and deleted.stdout == "" and _stderr_lines(deleted) == ["deleted 'Airlift report'"]


@pytest.mark.slow
def test_a_corrupt_store_is_one_warning_and_the_question_is_answered(rag_cli, index_copy) -> None:
    store = index_copy.index_dir / FILE_NAME
    store.write_bytes(b"\x00garbage, not SQLite\xff" * 300)
    result = _ask(rag_cli, index_copy.index_dir, "--conversation", "Troops", SAMPLE)
    assert result.returncode == 0, result.stderr
    assert "June 6" in json.loads(result.stdout)["answer"]
    assert "Traceback" not in result.stderr
    [warning] = _stderr_lines(result)
    assert warning.startswith(f"warning: the conversation store {store} is damaged (file is not a database)")
    assert warning.endswith("the question is asked on its own, and its answer not saved")
    assert store.read_bytes().startswith(b"\x00garbage")  # nothing overwritten
    rag_cli("--index-dir", str(index_copy.index_dir), "conversations").error_line("is damaged", "move it away")
    rag_cli("--index-dir", str(index_copy.index_dir), "export", "Troops").error_line("is damaged")


@pytest.mark.slow
def test_a_locked_store_is_one_warning_and_the_question_is_answered(rag_cli, index_copy) -> None:
    store = ConversationStore.in_index(index_copy.index_dir)
    key = new_key()
    store.append(key, StoredTurn(SAMPLE, {"question": SAMPLE, "answer": "June 6 [1]", "abstained": False,
                                          "citations": []}, 0.0), name="Troops")
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock for the whole run
    try:
        result = _ask(rag_cli, index_copy.index_dir, "--conversation", "Troops", "and when did they leave?")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rewrite"]["original"] == "and when did they leave?"  # the stored turn was read
    assert "Traceback" not in result.stderr
    warnings = [line for line in _stderr_lines(result) if line.startswith("warning:")]
    assert warnings == [f"warning: this answer was not saved: the conversation store {store.path} is locked by "
                        "another program (database is locked)"]
    assert store.get(key).turns == 1
