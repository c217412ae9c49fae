"""Which documents a question is asked of: IDs, prefixes and globs resolved against the index.

`rag ask --doc ID`, the web UI's document selector and the API's `documents`
field all name documents the same way: an ID is the file name without its
extension, and a prefix ("000_") or a glob ("cq0*") names every document it
matches. A name that matches nothing is a one-line error naming the closest
IDs (difflib), never a silent search of the whole collection.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable

from rag.core.errors import DocumentError

GLOB_CHARS = "*?["
CLOSEST = 3  # IDs an error suggests
MIN_LIKENESS = 0.5  # difflib ratio below which an ID is not suggested


def resolve(names: Iterable[str], doc_ids: Iterable[str]) -> tuple[str, ...]:
    """The IDs `names` select, in ID order; empty `names` select nothing (the caller means all)."""
    known = sorted(doc_ids)
    chosen: set[str] = set()
    for name in (n.strip() for n in names):
        if not name:
            continue
        found = matches(name, known)
        if not found:
            raise DocumentError(unknown_message(name, known))
        chosen.update(found)
    return tuple(d for d in known if d in chosen)


def matches(name: str, known: list[str]) -> list[str]:
    """The IDs one name selects: itself, or every ID it is a glob or a prefix of."""
    if name in known:
        return [name]
    if any(ch in name for ch in GLOB_CHARS):
        return [d for d in known if fnmatch.fnmatchcase(d, name)]
    return [d for d in known if d.startswith(name)]


def unknown_message(name: str, known: list[str]) -> str:
    close = closest(name, known)
    hint = f"; closest: {', '.join(close)}" if close else f"; the index holds {len(known)} documents"
    return f"no document {name!r} in the index{hint}"


def closest(name: str, known: list[str], n: int = CLOSEST) -> list[str]:
    """The IDs most like `name` (difflib's ratio), read whole or as far as `name` goes: a short name
    ("cq85") is compared with each ID's beginning ("cq085"), not with a long ID it can only be a part of."""

    def likeness(doc_id: str) -> float:
        windows = (doc_id, doc_id[: len(name)], doc_id[: len(name) + 1])
        return max(difflib.SequenceMatcher(None, name.lower(), w.lower()).ratio() for w in windows)

    scored = sorted(((likeness(d), d) for d in known), key=lambda sd: (-sd[0], sd[1]))
    return [d for score, d in scored[:n] if score >= MIN_LIKENESS]
