"""The terms a page defines and the stretch of text that defines each, found in the document's text.

Technical manuals are lists of definitions: a setting, option, command or
function as a term, then the paragraphs that describe it (HTML's dt and dd
elements, which DocBook, Sphinx, Texinfo and man-page converters all write).
A sentence of a description is about its term without naming it: "The
default is five minutes (5min)" under checkpoint_timeout, "This variable
specifies the order in which schemas are searched" under search_path. Kept at
ingest, the term is near every sentence of its description (grounding), and
answers a question asking which setting or option does what the sentence says.

The extracted text has lost the markup, so each term is found again, in page
order, at the start of a line: the longest run of the term's words written
there (an extractor may drop the type after a setting's name).
"""

from __future__ import annotations

import re

Definition = tuple[int, int, int]  # the term's start and end, where its description ends (text offsets)


def defined_in_html(root, text: str) -> tuple[Definition, ...]:
    """Every dt term of the parsed page (`root`, lxml) found in `text`, with the span its dd covers."""
    found: list[tuple[int, int, int, object]] = []  # start, end, description length, its list
    cursor = 0
    for term in root.iter("dt"):
        words = term.text_content().split()
        if not words:
            continue
        span = _find_term(text, words, cursor)
        if span is None:
            continue  # not kept by the extractor
        cursor = span[1]
        found.append((span[0], span[1], _description_length(term), term.getparent()))
    out: list[Definition] = []
    next_in_list: dict = {}  # a list (dl element) -> the start of its next term, read backwards
    for start, end, length, parent in reversed(found):
        stop = min(end + length, len(text), next_in_list.get(parent, len(text)))
        next_in_list[parent] = start
        out.append((start, end, max(_line_end(text, stop), end)))
    out.reverse()
    return tuple(out)


def _find_term(text: str, words: list[str], cursor: int) -> tuple[int, int] | None:
    """The first line start after `cursor` written with all of the term's words; else the one
    written with most of them (an extractor may drop a setting's type), the earliest of those.
    A line that only shares the first word ("class ...") is another term's."""
    first = re.compile(r"(?:^|\n)[ \t]*(" + re.escape(words[0]) + r")" + _word_end(words[0]))
    rest = [re.compile(r"[ \t]*" + re.escape(word) + _word_end(word)) for word in words[1:]]
    best: tuple[int, int, int] | None = None  # words matched, start, end
    for match in first.finditer(text, cursor):
        start, end = match.span(1)
        matched = 1
        for more in rest:
            found = more.match(text, end)
            if found is None:
                break
            end, matched = found.end(), matched + 1
        if matched == len(words):
            return start, end
        if best is None or matched > best[0]:
            best = (matched, start, end)
    return best[1:] if best else None


SNAP = 40  # characters a description's estimated end may move to reach a line break


def _line_end(text: str, stop: int) -> int:
    """The line break nearest `stop`: the estimate counts the markup's text, not the extractor's."""
    breaks = [m.start() for m in re.finditer("\n", text[max(0, stop - SNAP) : stop + SNAP])]
    if not breaks:
        return stop
    return min((max(0, stop - SNAP) + b for b in breaks), key=lambda at: abs(at - stop))


def _word_end(word: str) -> str:
    return r"(?!\w)" if word[-1].isalnum() or word[-1] == "_" else ""


def _description_length(term) -> int:
    """The characters of the dd elements after `term`, up to the next dt of its list."""
    length = 0
    for sibling in term.itersiblings():
        if sibling.tag == "dt":
            break
        if sibling.tag == "dd":
            length += len(" ".join(sibling.text_content().split())) + 2
    return length
