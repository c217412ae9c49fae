"""What a collection is about: `<collection>/collection.toml`, optional.

The prompts tell the model what it answers questions about ("news
articles", "product manuals"), and the web UI offers example questions;
both belong to the collection, not to the code. The file holds

    description = "news articles"   # completes "questions about ..."
    examples = ["When did ...?"]    # shown by the web UI; none when absent

Without the file a collection is "documents" with no examples. The document
loader leaves the file out (rag/ingestion/loading.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import ConfigError

COLLECTION_FILE = "collection.toml"
DEFAULT_DESCRIPTION = "documents"


@dataclass(frozen=True)
class CollectionInfo:
    description: str = DEFAULT_DESCRIPTION
    examples: tuple[str, ...] = ()


def read_collection_info(folder: str | Path) -> CollectionInfo:
    """The collection's description and examples; defaults when it has no collection.toml."""
    path = Path(folder) / COLLECTION_FILE
    if not path.is_file():
        return CollectionInfo()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {' '.join(str(error).split())}") from None
    unknown = sorted(set(data) - {"description", "examples"})
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: description, examples)")
    description = data.get("description", DEFAULT_DESCRIPTION)
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise ConfigError(f"{path}: description must be a non-empty one-line string")
    examples = data.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        raise ConfigError(f"{path}: examples must be a list of non-empty strings")
    return CollectionInfo(description.strip(), tuple(" ".join(e.split()) for e in examples))
