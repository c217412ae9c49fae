"""A collection's collection.toml describes it; it is never loaded as a document."""

from __future__ import annotations

from pathlib import Path

from rag.ingestion.loading import load_folder

TEXT = "The committee met on Monday and agreed on a new budget for the coming year, after a long debate.\n"


def test_collection_toml_is_skipped_without_a_warning(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "collection.toml").write_text('description = "minutes"\n', encoding="utf-8")
    documents, warnings = load_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["report"]
    assert warnings == []


def test_only_the_collection_folders_own_file_is_its_description(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "collection.toml").write_text('description = "x"\n', encoding="utf-8")
    documents, warnings = load_folder(tmp_path)
    assert [d.doc_id for d in documents] == ["report"]
    assert len(warnings) == 1 and "sub/collection.toml" in warnings[0] and "unsupported" in warnings[0]
