"""A paged document's text without its page furniture: what a PDF prints on every page but says nothing.

A PDF's text layer holds, besides the prose, the running head or foot of
each page ("Chapter 4: Function reference 18", "Journal of Virology"), its
page number, the dot-leader lines of a table of contents or an index
("asn1_parser2tree . . . . . . 8") and words hyphenated across a line break
("manip-" / "ulation"), and the page break cuts a sentence running on
to the next page. Left in, the leader lines outrank the entries they
point to (they hold every name a question can write, packed together) and
get cited as the answer, and a broken word matches no query.

The rules read only the layout, never the words: a head or foot is a short
first or last line that carries the page's printed number (which advances
with the page) or that recurs on most pages; a leader line is a run of
leader dots ending in a page number.
"""

from __future__ import annotations

import re
from collections import Counter

from rag.ingestion.sentences import ENDS_LINE

EDGE_LINES = 2  # lines read at each end of a page for a head or foot
EDGE_WORDS = 12  # at most: a longer line is prose, even at a page's edge
RECURRING = 0.5  # share of the pages a head or foot must recur on, without a number
MIN_PAGES = 3  # fewer pages show no pattern

Edges = list[tuple[int, tuple[list[int], list[int]]]]  # each page's index, its top and bottom edge lines

_LEADER = re.compile(r"(?:\.\s?){4,}\s*(?:\d+|[ivxlc]+)\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d+\b")
# A word hyphenated at a line's end ("manip-" / "ulation"), an identifier broken after its underscore.
_BROKEN = re.compile(r"(?<=[a-z])-\n(?=[a-z])|(?<=\w_)\n(?=\w)")


def page_text(pages: list[str]) -> str:
    """The pages' text without their furniture (module docstring). Pages are joined by a blank line,
    or by a line break where a sentence runs on to the next page (the sentence splitter then reads
    the break as a wrap)."""
    lines = [page.splitlines() for page in pages]
    furniture = _furniture(lines)
    text = ""
    for index, page in enumerate(lines):
        body = [line for n, line in enumerate(page) if (index, n) not in furniture and not _LEADER.search(line)]
        kept = _BROKEN.sub("", "\n".join(body)).strip("\n")
        if kept and text:
            text += "\n" if _runs_on(text, kept) else "\n\n"
        text += kept
    return text


def _runs_on(before: str, after: str) -> bool:
    """Whether the text before a page break stops mid-sentence and the next page goes on with it."""
    end = before.rstrip()[-1:]
    return bool(end) and end not in ENDS_LINE and after.lstrip()[:1].islower()


def _furniture(pages: list[list[str]]) -> set[tuple[int, int]]:
    """(page, line) of every running head or foot and page number."""
    if len(pages) < MIN_PAGES:
        return set()
    edges = [(i, _edge_lines(page)) for i, page in enumerate(pages)]
    enough = max(MIN_PAGES, RECURRING * len(pages))
    return _numbered(pages, edges, enough) | _recurring(pages, edges, enough)


def _edge_lines(page: list[str]) -> tuple[list[int], list[int]]:
    """The lines at the top and at the bottom of a page that may be a head or foot, outermost first:
    the first (last) few non-empty lines, up to the first line long enough to be prose."""
    filled = [n for n, line in enumerate(page) if line.strip()]

    def run(lines: list[int]) -> list[int]:
        short = [len(page[n].split()) <= EDGE_WORDS for n in lines[:EDGE_LINES]]
        return lines[: short.index(False) if False in short else len(short)]

    top = run(filled)
    return top, run([n for n in reversed(filled) if n not in top])


def _numbered(pages: list[list[str]], edges: Edges, enough: float) -> set[tuple[int, int]]:
    """At each end of a page, the outermost line that prints the page's number: the number minus
    the page's index is one offset on most pages (the front matter's roman numbers and a cover page
    aside). A chapter's numbered heading under it stays."""
    def offsets(i: int, n: int) -> set[int]:
        return {int(x) - i for x in _NUMBER.findall(pages[i][n])}

    pages_with: Counter[int] = Counter()
    for i, (top, bottom) in edges:
        pages_with.update(set().union(*(offsets(i, n) for n in top + bottom)))
    offset, count = pages_with.most_common(1)[0] if pages_with else (0, 0)
    if count < enough:
        return set()
    found = set()
    for i, ends in edges:
        for lines in ends:
            outermost = next((n for n in lines if offset in offsets(i, n)), None)
            if outermost is not None:
                found.add((i, outermost))
    return found


def _recurring(pages: list[list[str]], edges: Edges, enough: float) -> set[tuple[int, int]]:
    """The edge lines whose shape (numbers blanked) recurs at the edge of most pages; on the first
    page, the recurring head is the document's title, and stays."""
    lines = [(i, n) for i, (top, bottom) in edges if i > 0 for n in dict.fromkeys(top + bottom)]
    pages_with = Counter(shape for _, shape in {(i, _shape(pages[i][n])) for i, n in lines})
    return {(i, n) for i, n in lines if pages_with[_shape(pages[i][n])] >= enough}


def _shape(line: str) -> str:
    """A line with its numbers blanked: the same head on every page has one shape."""
    return _NUMBER.sub("#", " ".join(line.split()))
