"""Questions about the collection itself: recognised from the profile's templates, answered from the index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, TINY_DOCS, doc_id, settings_for

from rag.answer.about_collection import recognise
from rag.core.contract import answer_to_json
from rag.core.errors import DocumentError

BELARUS = "003_096012cda1bf5463"  # the only tiny document naming Lukashenko
EXERCISE = "000_9c9ac89b68401338"  # the only one naming the Y-20


@pytest.mark.parametrize(
    "question, intent, subject, document",
    [
        ("What are these documents about?", "overview", "", ""),
        ("what is the collection about", "overview", "", ""),
        ("Which documents mention Lukashenko?", "mentions", "Lukashenko", ""),
        ("Which articles talk about the Y-20?", "mentions", "Y-20", ""),
        ("How many documents mention   the Shanghai Cooperation Organisation?", "count_mentions",
         "Shanghai Cooperation Organisation", ""),
        ("How many documents are there?", "count", "", ""),
        ("Which documents are there?", "listing", "", ""),
        ("List every date in document 000_9c9ac89b68401338", "entities", "", "000_9c9ac89b68401338"),
        ("list all the people in the article 003", "entities", "", "003"),
        ("Summarise document 002_bcd94f8d70de6957.", "summary", "", "002_bcd94f8d70de6957"),
    ],
)
def test_collection_questions_are_recognised(question, intent, subject, document) -> None:
    found = recognise(question)
    assert found is not None and (found.intent, found.subject, found.document) == (intent, subject, document)


def test_no_question_of_any_gold_set_is_taken_for_one() -> None:
    """Questions about the documents' content go through retrieval as before ("What is the exercise about?")."""
    paths = [*sorted((ROOT / "data" / "gold").glob("*.jsonl")), ROOT / "data/covidqa/gold.jsonl",
             ROOT / "data/pgmanual/gold.jsonl"]  # fmt: skip
    questions = [json.loads(line)["question"] for p in paths for line in Path(p).read_text().splitlines() if line]
    assert len(questions) > 300
    assert [q for q in questions if recognise(q)] == []
    for question in ("What is the exercise about?", "How many troops did China send?", "Which base did it use?"):
        assert recognise(question) is None


@pytest.fixture(scope="module")
def pipeline(base_index, embedder):
    from rag.answer.pipeline import Pipeline

    return Pipeline(settings_for(base_index.index_dir), embedder=embedder)  # never loads the answer model here


def _checked(pipeline, question: str, **overrides) -> dict:
    """The answer as `rag ask --json` prints it; every cited and claimed span is the document's own text."""
    answer = pipeline.ask(question, **overrides)
    assert answer.intent != "passages" and answer.retrieved == [] and set(answer.timings) == {"collection", "total"}
    data = answer_to_json(answer, pipeline.index.documents)
    for c in data["citations"]:
        text = pipeline.index.documents[c["doc"]].text
        assert text[c["start"] : c["end"]] == c["text"] and f"[{c['n']}]" in data["answer"]
    for claim in data["claims"]:
        text = pipeline.index.documents[claim["doc"]].text
        assert " ".join(text[claim["start"] : claim["end"]].split()) == claim["text"]
    return data


def test_which_documents_mention_x_is_answered_from_the_index(pipeline) -> None:
    data = _checked(pipeline, "Which documents mention Lukashenko?")
    assert data["intent"] == "mentions" and {c["doc"] for c in data["citations"]} == {BELARUS}
    assert all(c["text"].lower().count("lukashenko") for c in data["citations"])
    assert pipeline.index.documents[BELARUS].title in data["answer"]
    count = _checked(pipeline, "How many documents mention the Y-20?")
    assert count["answer"].startswith("1: ") and [c["doc"] for c in count["citations"]] == [EXERCISE]
    none = pipeline.ask("How many documents mention Zorblat?")
    assert none.answer == "0" and not none.citations


def test_how_many_and_which_documents_list_every_document_by_title(pipeline) -> None:
    data = _checked(pipeline, "How many documents are there?")
    assert data["answer"].startswith(f"{len(TINY_DOCS)}: ")
    assert sorted(c["doc"] for c in data["citations"]) == sorted(doc_id(n) for n in TINY_DOCS)
    scoped = _checked(pipeline, "how many documents are there", documents=("000", "00[2]*"))
    assert scoped["answer"].startswith("2: ") and scoped["scope"] == [EXERCISE, "002_bcd94f8d70de6957"]


def test_every_date_of_a_document_comes_from_its_entities(pipeline) -> None:
    data = _checked(pipeline, f"List every date in document {EXERCISE}")
    items = [c["text"] for c in data["claims"]]
    assert "July 8" in items and "June 6" in items and "August 16" in items
    assert len(items) == len(set(items)) and {c["doc"] for c in data["citations"]} == {EXERCISE}
    starts = [c["start"] for c in data["claims"]]
    assert starts == sorted(starts)  # in the order the document writes them
    with pytest.raises(DocumentError, match=r"^no document 'zz9' in the index"):
        pipeline.ask("list all the dates in document zz9")


def test_overview_and_summary_questions_cite_summary_sentences(pipeline) -> None:
    overview = _checked(pipeline, "What are these documents about?")
    assert sorted({c["doc"] for c in overview["citations"]}) == sorted(doc_id(n) for n in TINY_DOCS)
    assert overview["answer"].startswith("[")  # each topic opens with its terms
    summary = _checked(pipeline, "Summarise document 002")
    expected = pipeline.summary("002_bcd94f8d70de6957")
    assert [c["start"] for c in summary["citations"]] == [s.start for s in expected.sentences]
