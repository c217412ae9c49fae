"""What a question narrows itself to, end to end: a year, one of two alternatives it offers, or
which of two came first.
Short web snippets about the same contest in different years, as a search engine returns them,
through the real index and answer model."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import settings_for

pytestmark = pytest.mark.slow

SNIPPETS = {
    "wimbledon-2022.txt": "Rybakina wins at Wimbledon\n"
    "Elena Rybakina won the women's singles title at Wimbledon in 2022, beating Ons Jabeur in the final. "
    "She became the first player representing Kazakhstan to win a Grand Slam title.\n",
    "wimbledon-2021.txt": "Barty takes the Wimbledon crown\n"
    "Ashleigh Barty won the women's singles title at Wimbledon in 2021, defeating Karolina Pliskova in three "
    "sets on Centre Court.\n",
    "us-open-2021.txt": "Raducanu's US Open run\n"
    "Emma Raducanu won the US Open women's singles title in 2021 as a qualifier, without dropping a set.\n",
}


@pytest.fixture(scope="module")
def snippets_index(tmp_path_factory, embedder) -> tuple[Path, Path]:
    from rag.ingestion.indexer import ingest

    root = tmp_path_factory.mktemp("snippets")
    collection, index_dir = root / "collection", root / "index"
    collection.mkdir()
    for name, text in SNIPPETS.items():
        (collection / name).write_text(text, encoding="utf-8")
    ingest(settings_for(index_dir, collection), collection, embedder=embedder)
    return collection, index_dir


@pytest.fixture(scope="module")
def pipeline(snippets_index, embedder):
    from rag.answer.pipeline import Pipeline

    collection, index_dir = snippets_index
    return Pipeline(settings_for(index_dir, collection), embedder=embedder)


def test_the_snippet_about_the_year_asked_answers(pipeline) -> None:
    answer = pipeline.ask("Who won the women's singles at Wimbledon in 2021?")
    assert not answer.abstained, answer.answer
    assert "Barty" in answer.answer and "Rybakina" not in answer.answer
    assert {c.doc_id for c in answer.citations} == {"wimbledon-2021"}


def test_snippets_about_other_years_do_not_answer(pipeline) -> None:
    answer = pipeline.ask("Who won the women's singles at Wimbledon in 2019?")
    assert answer.abstained, answer.answer
    assert answer.citations == []


def test_a_qualifier_the_snippets_never_write_is_not_answered_from_them(pipeline) -> None:
    answer = pipeline.ask("Who won the men's singles at Wimbledon in 2021?")  # only the women's are here
    assert answer.abstained, answer.answer


def test_a_question_offering_two_alternatives_is_answered_by_the_one_the_snippet_holds(pipeline) -> None:
    answer = pipeline.ask("Did Barty beat Pliskova in two sets or three sets?")
    assert answer.answer.startswith("three sets — "), answer.answer
    (claim,) = answer.claims
    assert claim.text == "three sets" and claim.doc_id == "wimbledon-2021"
    assert SNIPPETS["wimbledon-2021.txt"][claim.start : claim.end] == "three sets"


def test_the_alternative_missing_from_the_snippet_does_not_rule_it_out(pipeline) -> None:
    answer = pipeline.ask("Did Rybakina beat Jabeur or Pliskova in the 2022 final?")
    assert answer.answer.startswith("Jabeur — "), answer.answer
    assert "Ons Jabeur in the final" in answer.answer


def test_which_came_first_is_told_by_each_ones_date_both_cited(pipeline) -> None:
    answer = pipeline.ask("Which came first, Rybakina's Wimbledon title or Barty's Wimbledon title?")
    assert answer.answer.startswith("Barty's Wimbledon title — "), answer.answer
    assert [(c.text, c.doc_id) for c in answer.claims] == [("2022", "wimbledon-2022"), ("2021", "wimbledon-2021")]
    assert {c.doc_id for c in answer.citations} == {"wimbledon-2021", "wimbledon-2022"}
    for claim in answer.claims:
        assert SNIPPETS[f"{claim.doc_id}.txt"][claim.start : claim.end] == claim.text
        assert f"{claim.text} [{claim.n}]" in answer.answer
    assert {"retrieve", "select", "total"} <= set(answer.timings)
    assert [h.rank for h in answer.retrieved] == list(range(1, len(answer.retrieved) + 1))
    last = pipeline.ask("Which came last: Raducanu's US Open title or Rybakina's Wimbledon title?")
    assert last.answer.startswith("Rybakina's Wimbledon title — "), last.answer


def test_which_came_first_without_both_dates_is_not_answered(pipeline) -> None:
    answer = pipeline.ask("Which came first, Barty's Wimbledon win or the French Open final?")
    assert answer.abstained and answer.citations == [] and answer.claims == []
