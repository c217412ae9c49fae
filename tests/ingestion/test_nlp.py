"""spaCy mentions at ingest: exact spans, stored with the index, kept for unchanged documents."""

from __future__ import annotations

import json

from conftest import settings_for

from rag.core.records import Document
from rag.index import store
from rag.ingestion.indexer import ingest
from rag.ingestion.nlp import NOUN_PHRASE, annotate

TEXT = "Menu | Login\nOn June 6, Li Shangfu visited Minsk with 30 officers of the People's Liberation Army.\n"


def _doc(text: str = TEXT, sections=None) -> Document:
    sections = sections or ((text.index("On June"), len(text)),)
    return Document("d1", "d1.txt", text, "t", None, sections, "h")


def test_mentions_are_exact_spans_with_entity_labels_and_noun_phrases() -> None:
    mentions = annotate([_doc()])["d1"]
    found = {(TEXT[m.start : m.end], m.label) for m in mentions}
    assert ("June 6", "DATE") in found
    assert ("Li Shangfu", "PERSON") in found
    assert ("Minsk", "GPE") in found
    assert any(label == NOUN_PHRASE and "officers" in text for text, label in found)
    assert any(label in ("CARDINAL", "QUANTITY") and "30" in text for text, label in found)
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)


def test_only_the_content_sections_are_read() -> None:
    mentions = annotate([_doc()])["d1"]
    assert all(m.start >= TEXT.index("On June") for m in mentions)  # not the "Menu | Login" boilerplate


def test_a_long_section_is_read_in_pieces_without_losing_offsets() -> None:
    sentence = "Angela Merkel met Emmanuel Macron in Paris. "
    text = sentence * 120  # over 5,000 characters: several pieces
    mentions = annotate([_doc(text, ((0, len(text)),))])["d1"]
    people = [m for m in mentions if m.label == "PERSON"]
    assert len(people) >= 200
    assert {text[m.start : m.end] for m in people} <= {"Angela Merkel", "Emmanuel Macron"}


def test_mentions_are_stored_and_kept_for_unchanged_documents(index_copy, embedder) -> None:
    settings = settings_for(index_copy.index_dir, index_copy.collection)
    index = store.load(settings.index_dir)
    assert index.mentions and set(index.mentions) == set(index.documents)
    doc_id, mentions = next(iter(index.mentions.items()))
    text = index.documents[doc_id].text
    inside = index.mentions_in(doc_id, mentions[0].start, mentions[0].end + 200)
    assert inside and all(mentions[0].start <= m.start and m.end <= mentions[0].end + 200 for m in inside)
    assert all(text[m.start : m.end].strip() for m in mentions)

    changed = sorted(index_copy.collection.glob("*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nBarack Obama spoke in Berlin.\n", encoding="utf-8")
    report = ingest(settings, index_copy.collection, embedder=embedder)
    assert report.changed == [changed.stem] and not report.rebuilt
    after = store.load(settings.index_dir)
    for other in set(index.documents) - {changed.stem}:
        assert after.mentions[other] == index.mentions[other]
    new_text = after.documents[changed.stem].text
    assert "Barack Obama" in {new_text[m.start : m.end] for m in after.mentions[changed.stem]}


def test_an_index_without_mentions_still_loads(index_copy) -> None:
    version = store.current_version(index_copy.index_dir)
    (version / store.MENTIONS).unlink()
    index = store.load(index_copy.index_dir)
    assert index.mentions == {} and index.mentions_in("x", 0, 10) == []


def test_mentions_file_lines_name_their_document(index_copy) -> None:
    version = store.current_version(index_copy.index_dir)
    rows = [json.loads(line) for line in (version / store.MENTIONS).read_text().splitlines()]
    assert {r["doc_id"] for r in rows} == set(store.load(index_copy.index_dir).documents)
    assert all(len(m) == 3 for r in rows for m in r["mentions"])
