"""The spans a source marks as code or a literal value, found in the document's text.

A manual marks the names of settings, commands, options and values as code
(`stderr`, `trust`, `btree`): lower-case words that no entity model or
capital letter reveals as names, yet they are what "which method" or "where
are logs written by default" asks for. HTML says so with its code, kbd, samp,
tt and var elements (and DocBook's system-item and application spans);
Markdown with backticks. The text an extractor gives for an HTML page has
lost the markup and need not keep the page's order, so each literal is found
again by its words: every occurrence of it is marked when the page marks at
least a quarter as many (examples and listings repeat it unmarked), which
keeps a literal that is also a common word ("on", "user") from marking the
prose it appears in.
"""

from __future__ import annotations

import re
from collections import Counter

CODE_ELEMENTS = ("code", "kbd", "samp", "tt", "var")
CODE_CLASSES = ("systemitem", "application")  # DocBook's spans for names of system things and programs
MAX_CHARS = 80  # longer code is a listing or an example, not a name
MARKED_SHARE = 0.25  # the share of a literal's occurrences the page must mark (listings repeat it)
_BACKTICKS = re.compile(rf"(?<!`)`([^`\n]{{1,{MAX_CHARS}}})`(?!`)")


def marked_in_markdown(text: str) -> tuple[tuple[int, int], ...]:
    """The inside of each `inline code` span of a Markdown text."""
    return tuple((m.start(1), m.end(1)) for m in _BACKTICKS.finditer(text) if m.group(1).strip())


def marked_in_html(root, text: str) -> tuple[tuple[int, int], ...]:
    """Where in `text` the literals that the parsed page (`root`, lxml) marks as code lie."""
    marked = Counter(_literals(root))
    spans: set[tuple[int, int]] = set()
    for literal, times in marked.items():
        found = [m.span() for m in _pattern(literal).finditer(text)]
        if found and times >= MARKED_SHARE * len(found):
            spans.update(found)
    return tuple(sorted(spans))


def _literals(root):
    """The whitespace-normalised text of each outermost code element."""
    for element in root.iter(*CODE_ELEMENTS, "span"):
        if not _is_code(element):
            continue  # a span of another class
        if any(_is_code(ancestor) for ancestor in element.iterancestors()):
            continue  # inside another code element: the outer one is the name
        literal = " ".join(element.text_content().split())
        if literal and len(literal) <= MAX_CHARS:
            yield literal


def _is_code(element) -> bool:
    return element.tag in CODE_ELEMENTS or (
        element.tag == "span" and bool(set((element.get("class") or "").split()) & set(CODE_CLASSES))
    )


def _pattern(literal: str) -> re.Pattern[str]:
    """The literal with any whitespace between its words, not inside a longer word."""
    body = r"\s+".join(re.escape(word) for word in literal.split())
    before = r"(?<!\w)" if literal[0].isalnum() or literal[0] == "_" else ""
    after = r"(?!\w)" if literal[-1].isalnum() or literal[-1] == "_" else ""
    return re.compile(before + body + after)
