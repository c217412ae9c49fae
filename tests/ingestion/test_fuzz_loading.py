"""Fuzzing the loaders end to end: any file either loads with exact spans or fails with a LoadError.

Arbitrary Unicode, empty files, huge lines, every newline convention and raw
bytes, written as .txt, .md and .html files, then chunked: no other
exception escapes, every section and chunk span points at exactly its text.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.core.errors import LoadError
from rag.ingestion.chunking import Chunker
from rag.ingestion.loading import load_document

NEWLINES = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\u2028", "\x85", "\x0c", ""])
PIECES = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.text(alphabet="abc .,!?\u00a0\t", min_size=2000, max_size=20000),  # a huge line
    st.sampled_from(["<p>", "</p>", "<html>", "<div hidden>", "<!--", "-->", "&amp;", "\ufeff", "# Title"]),
    NEWLINES,
)
TEXTS = st.lists(PIECES, max_size=25).map("".join)
SUFFIXES = st.sampled_from([".txt", ".md", ".html"])

_CHUNKER = Chunker(chunk_tokens=64, overlap_tokens=16, max_seq_tokens=256)


def _check(path: Path) -> None:
    try:
        doc = load_document(path)
    except LoadError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert isinstance(doc.text, str)
    for start, end in doc.sections:
        assert 0 <= start < end <= len(doc.text)
    for chunk in _CHUNKER.chunk(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=TEXTS, suffix=SUFFIXES)
def test_any_text_file_loads_exactly_or_fails_cleanly(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_bytes(text.encode("utf-8"))
        _check(path)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf"]))
def test_any_bytes_load_exactly_or_fail_cleanly(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doc{suffix}"
        path.write_bytes(data)
        _check(path)
