"""The terminal's rendering of a cited passage."""

from __future__ import annotations

from rag.serve.cli import _marked


def test_a_passage_wrapped_inside_a_clause_is_shown_joined_with_its_support_marked() -> None:
    text = "Title\n\nAn alternative way is to back-calculate infections from\nobserved deaths. Heading\nNext."
    start = text.index("An")
    support = (start, text.index(" Heading"))
    shown = _marked(text, start, len(text), [support])
    assert "»An alternative way is to back-calculate infections from observed deaths.«" in shown
    assert "deaths.«[/bold underline] Heading\nNext." in shown  # a heading keeps its line
