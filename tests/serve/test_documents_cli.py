"""`rag ask --doc` and `rag summarize` for real: the CLI in a subprocess over the shared tiny index."""

from __future__ import annotations

import json

import pytest
from conftest import TINY_DOCS, doc_id

BELARUS = "003_096012cda1bf5463"
# Both Belarus articles and the Russia one speak of joint exercises beginning: unscoped, several are retrieved.
QUESTION = "When will the joint military exercises begin?"


def _article(base_index, name: str) -> str:
    return (base_index.collection / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_scoped_question_retrieves_and_cites_only_the_chosen_document(rag_cli, base_index) -> None:
    index = str(base_index.index_dir)
    whole = rag_cli("--index-dir", index, "ask", "--json", QUESTION)
    assert whole.returncode == 0, whole.stderr
    assert len({h["doc"] for h in json.loads(whole.stdout)["retrieved"]}) > 1  # the question is not one document's
    scoped = rag_cli("--index-dir", index, "ask", "--json", "--doc", "003", QUESTION)
    assert scoped.returncode == 0, scoped.stderr
    data = json.loads(scoped.stdout)
    assert data["scope"] == [BELARUS] and data["intent"] == "passages"
    assert data["retrieved"] and {h["doc"] for h in data["retrieved"]} == {BELARUS}
    assert not data["abstained"] and {c["doc"] for c in data["citations"]} == {BELARUS}
    article = _article(base_index, BELARUS)
    for c in data["citations"]:
        assert article[c["start"] : c["end"]] == c["text"]
    assert "Thursday" in data["answer"], data["answer"]  # "On Thursday, Russia and Belarus will begin ..."


def test_an_unknown_doc_is_one_line_naming_the_closest(rag_cli, base_index) -> None:
    result = rag_cli("--index-dir", str(base_index.index_dir), "ask", "--doc", "003_096012cda1bf5464", QUESTION)
    line = result.error_line("no document '003_096012cda1bf5464'", "closest: 003_096012cda1bf5463")
    assert result.returncode == 2 and line


def test_summarize_prints_exact_spans_as_json(rag_cli, base_index) -> None:
    index = str(base_index.index_dir)
    result = rag_cli("--index-dir", index, "summarize", "002", "--sentences", "3", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"doc", "title", "sentences"} and data["doc"] == "002_bcd94f8d70de6957"
    article = _article(base_index, data["doc"])
    starts = [s["start"] for s in data["sentences"]]
    assert len(starts) == 3 and starts == sorted(starts)
    assert all(article[s["start"] : s["end"]] == s["text"] and set(s) == {"text", "start", "end"}
               for s in data["sentences"])  # fmt: skip
    shown = rag_cli("--index-dir", index, "summarize", "002", "--sentences", "3")
    assert data["title"] in shown.stdout and f"chars {starts[0]}-" in shown.stdout


def test_summarize_all_covers_every_document_once(rag_cli, base_index) -> None:
    result = rag_cli("--index-dir", str(base_index.index_dir), "summarize", "--all", "--json")
    assert result.returncode == 0, result.stderr
    topics = json.loads(result.stdout)["topics"]
    docs = [d["doc"] for t in topics for d in t["documents"]]
    assert sorted(docs) == sorted(doc_id(n) for n in TINY_DOCS)
    for topic in topics:
        for d in topic["documents"]:
            article = _article(base_index, d["doc"])
            assert 1 <= len(d["sentences"]) <= 2
            assert all(article[s["start"] : s["end"]] == s["text"] for s in d["sentences"])


def test_summarize_errors_are_one_line(rag_cli, base_index) -> None:
    index = str(base_index.index_dir)
    rag_cli("--index-dir", index, "summarize").error_line("name one document")
    rag_cli("--index-dir", index, "summarize", "00").error_line("'00' matches 3 documents", "name one")
    rag_cli("--index-dir", index, "summarize", "nope").error_line("no document 'nope'")
