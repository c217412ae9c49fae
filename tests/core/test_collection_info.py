"""What a collection is about: <collection>/collection.toml, or the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.core.collection_info import DEFAULT_DESCRIPTION, CollectionInfo, read_collection_info
from rag.core.errors import ConfigError

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"


def test_without_collection_toml_a_collection_is_documents_with_no_examples(tmp_path) -> None:
    assert read_collection_info(tmp_path) == CollectionInfo("documents", ())
    assert read_collection_info(tmp_path / "missing") == CollectionInfo()
    assert DEFAULT_DESCRIPTION == "documents"


def test_collection_toml_gives_the_description_and_examples(tmp_path) -> None:
    (tmp_path / "collection.toml").write_text(
        'description = "product manuals"\nexamples = ["How do I reset  the router?"]\n', encoding="utf-8"
    )
    assert read_collection_info(tmp_path) == CollectionInfo("product manuals", ("How do I reset the router?",))
    (tmp_path / "collection.toml").write_text('description = "manuals"\n', encoding="utf-8")
    assert read_collection_info(tmp_path) == CollectionInfo("manuals", ())


def test_the_bundled_collection_is_news_articles_with_three_examples() -> None:
    info = read_collection_info(CORPUS)
    assert info.description == "news articles"
    assert info.examples[0] == "When did Chinese troops arrive in Belarus?" and len(info.examples) == 3


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("description = ", "collection.toml:"),
        ("description = 3", "description must be"),
        ('description = ""', "description must be"),
        ('examples = "When?"', "examples must be"),
        ('title = "x"', "unknown key 'title'"),
    ],
)
def test_a_malformed_collection_toml_is_a_one_line_config_error(tmp_path, text, says) -> None:
    (tmp_path / "collection.toml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        read_collection_info(tmp_path)
    assert says in str(error.value) and "\n" not in str(error.value)
