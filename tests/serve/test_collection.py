"""Collection management for the web UI: safe uploads, removal to the trash folder, re-ingest."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY_DOCS, doc_id, settings_for

from rag.core.errors import UploadError
from rag.index import store
from rag.serve.collection import Collection, safe_name, trash_dir

GOOD = "The Quorlax bridge over the river Tamsin opened on September 14 after six years of work.\n"


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/notes.md", "notes.md"),
        ("..\\..\\windows\\notes.md", "notes.md"),
        ("/abs/path/Article (2).PDF", "Article (2).PDF"),
        ("Zürich news.html", "Zürich news.html"),
    ],
)
def test_only_the_base_name_of_an_upload_is_used(raw: str, name: str) -> None:
    assert safe_name(raw) == name


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".hidden.txt",
        "../.bashrc.txt",
        "a\x00b.txt",
        "line\nbreak.txt",
        "x.exe",
        "noext",
        "-rf.txt",
        "a|b.txt",
        "..",
    ],
)
def test_hidden_odd_and_unsupported_names_are_refused(raw: str) -> None:
    with pytest.raises(UploadError):
        safe_name(raw)


def _collection(tmp_path: Path, **overrides) -> Collection:
    folder = tmp_path / "collection"
    folder.mkdir(exist_ok=True)
    return Collection(settings_for(tmp_path / "index", folder, **overrides))


def test_a_good_file_goes_in_and_a_bad_one_is_reported(tmp_path) -> None:
    collection = _collection(tmp_path)
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_bytes(bytes(range(256)) * 4)
    ok = collection.add_file(good, "../../good.txt")
    failed = collection.add_file(bad, "bad.txt")
    assert ok.ok and ok.name == "good.txt" and ok.message == "added"
    assert not failed.ok and "binary" in failed.message
    assert sorted(p.name for p in collection.folder.iterdir()) == ["good.txt"]  # no staging left behind
    assert not (tmp_path / "good.txt.1").exists()


def test_uploads_over_the_size_limit_are_refused(tmp_path) -> None:
    collection = _collection(tmp_path, max_file_mb=0.001)
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")
    result = collection.add_file(big, "big.txt")
    assert not result.ok and "MB limit" in result.message
    assert not any(collection.folder.iterdir())


def test_replacing_a_file_keeps_the_old_one_in_the_trash(tmp_path) -> None:
    collection = _collection(tmp_path)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(GOOD, encoding="utf-8")
    second.write_text(GOOD.replace("September 14", "October 2"), encoding="utf-8")
    assert collection.add_file(first, "bridge.txt").message == "added"
    assert "unchanged" in collection.add_file(first, "bridge.txt").message
    assert collection.add_file(second, "bridge.txt").message.startswith("replaced")
    assert "October 2" in (collection.folder / "bridge.txt").read_text(encoding="utf-8")
    trashed = list(trash_dir(collection.folder).iterdir())
    assert [p.read_text(encoding="utf-8") for p in trashed] == [GOOD]


def test_remove_moves_the_file_out_and_ingest_drops_it(index_copy) -> None:
    settings = settings_for(index_copy.index_dir, index_copy.collection)
    collection = Collection(settings)
    index = store.load(index_copy.index_dir)
    gone = doc_id(TINY_DOCS[1])
    moved = collection.remove(gone, index)
    assert moved == trash_dir(index_copy.collection) / TINY_DOCS[1]
    assert moved.is_file() and not (index_copy.collection / TINY_DOCS[1]).exists()
    assert trash_dir(index_copy.collection).parent == index_copy.collection.parent  # a sibling folder
    report = collection.ingest()
    assert report.removed == [gone] and report.embedded_chunks == 0
    assert gone not in store.load(index_copy.index_dir).documents
    with pytest.raises(UploadError):
        collection.remove(gone, store.load(index_copy.index_dir))


def test_the_last_document_cannot_be_removed(index_copy) -> None:
    collection = Collection(settings_for(index_copy.index_dir, index_copy.collection))
    index = store.load(index_copy.index_dir)
    for name in TINY_DOCS[1:]:
        collection.remove(doc_id(name), index)
    collection.ingest()
    with pytest.raises(UploadError, match="empty"):
        collection.remove(doc_id(TINY_DOCS[0]), store.load(index_copy.index_dir))


def test_stats_describe_the_live_index(base_index) -> None:
    settings = settings_for(base_index.index_dir, base_index.collection)
    index = store.load(base_index.index_dir)
    stats = Collection(settings).stats(index, "/models/x.gguf")
    assert stats.documents == len(TINY_DOCS) and stats.chunks == index.manifest.n_chunks > 0
    assert stats.embedding_model == "all-MiniLM-L6-v2" and stats.model == "smollm2"
    assert stats.built == index.manifest.created
