"""Extractive summaries over the real index: exact spans, document order, prose only, topics."""

from __future__ import annotations

import pytest
from conftest import TINY_DOCS, doc_id, settings_for

from rag.answer.summary import is_prose, prose_sentences, summarize, summarize_collection
from rag.core.errors import DocumentError
from rag.index import store

# Text wrapped at a fixed width, as papers converted from PDF are, under a heading and a short label line.
WRAPPED = (
    "Results of the Quenta survey\n\n"
    "Methods\n\n"
    "The Quenta survey counted nesting herons along the northern\n"
    "shore of the lake during the spring of the survey year, using\n"
    "drones and observers on foot at every one of the sites.\n\n"
    "Nesting herons were found at twelve of the fourteen sites that\n"
    "the observers visited, with the largest colony on the island.\n\n"
    "Figure 2\n\n"
    "The counts were lower than those of the previous survey, which\n"
    "the authors attribute to the cold weather of the early spring.\n"
)


@pytest.fixture(scope="module")
def index(base_index):
    return store.load(base_index.index_dir)


def test_a_summary_is_n_exact_spans_in_document_order(index, embedder) -> None:
    for name in TINY_DOCS:
        doc = index.documents[doc_id(name)]
        summary = summarize(index, embedder, doc.doc_id, 3)
        assert summary.doc_id == doc.doc_id and summary.title == doc.title
        spans = [(s.start, s.end) for s in summary.sentences]
        assert len(spans) == 3 and spans == sorted(spans) and len(set(spans)) == 3
        for s in summary.sentences:
            assert doc.text[s.start : s.end] == s.text  # copied, never written
            assert any(a <= s.start and s.end <= b for a, b in doc.sections)  # never page boilerplate
            assert is_prose(s.text, doc.title)
    assert len(summarize(index, embedder, doc_id(TINY_DOCS[0]), 5).sentences) == 5


def test_headings_labels_and_boilerplate_are_never_chosen(index) -> None:
    doc = index.documents["000_9c9ac89b68401338"]  # opens with "Views: 6" and "Source: bulgarianmilitary.com"
    chosen = {doc.text[s:e] for s, e in prose_sentences(doc)}
    assert not any("Views:" in t or "Source:" in t for t in chosen)
    assert not is_prose("Methods") and not is_prose("Results of the Quenta survey of nesting herons")
    assert not is_prose("See https://example.org/report for the whole of the data set.")
    assert not is_prose("12. Smith J, Jones K. Herons of the northern shore. Journal of Birds.")
    assert is_prose("Nesting herons were found at twelve of the fourteen sites that the observers visited.")


def test_wrapped_lines_are_read_as_one_sentence_with_the_span_unchanged(tmp_path, embedder) -> None:
    from rag.ingestion.indexer import ingest

    collection = tmp_path / "collection"
    collection.mkdir()
    (collection / "quenta.txt").write_text(WRAPPED, encoding="utf-8")
    settings = settings_for(tmp_path / "index", collection)
    ingest(settings, collection, embedder=embedder)
    index = store.load(settings.index_dir)
    doc = index.documents["quenta"]
    sentences = [doc.text[s:e] for s, e in prose_sentences(doc)]
    assert sentences[0].startswith("The Quenta survey counted") and sentences[0].endswith("of the sites.")
    assert "\n" in sentences[0]  # the span is the document's own text, line breaks and all
    assert not any(t.strip() in ("Methods", "Figure 2", "Results of the Quenta survey") for t in sentences)
    summary = summarize(index, embedder, "quenta", 2)
    assert [s.text for s in summary.sentences] == [t for t in sentences if t in {s.text for s in summary.sentences}]
    assert all(doc.text[s.start : s.end] == s.text for s in summary.sentences)


def test_the_collection_summary_groups_every_document_by_topic(index, embedder) -> None:
    topics = summarize_collection(index, embedder, 2)
    docs = [s.doc_id for t in topics for s in t.summaries]
    assert sorted(docs) == sorted(doc_id(n) for n in TINY_DOCS)  # each document once
    assert [len(t.summaries) for t in topics] == sorted((len(t.summaries) for t in topics), reverse=True)
    for topic in topics:
        assert topic.terms and all(t.isalpha() and t == t.lower() for t in topic.terms)
        for summary in topic.summaries:
            assert 1 <= len(summary.sentences) <= 2
            text = index.documents[summary.doc_id].text
            assert all(text[s.start : s.end] == s.text for s in summary.sentences)


def test_the_pipeline_names_a_document_by_prefix_and_refuses_an_ambiguous_one(base_index, embedder) -> None:
    from rag.answer.pipeline import Pipeline

    pipeline = Pipeline(settings_for(base_index.index_dir), embedder=embedder)
    summary = pipeline.summary("003", 2)
    assert summary.doc_id == "003_096012cda1bf5463"
    assert pipeline.summary("003_096012cda1bf5463", 2) is summary  # kept for the index version
    with pytest.raises(DocumentError, match=r"'00' matches 3 documents .*; name one"):
        pipeline.summary("00")
    with pytest.raises(DocumentError, match=r"^no document 'nope' in the index"):
        pipeline.collection_summary(2, ["nope"])
