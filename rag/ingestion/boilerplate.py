"""Line-level detection of page boilerplate in article text.

Scraped articles arrive wrapped in page furniture: view counters, weather
and date banners, breadcrumbs, category labels, "Related stories" teaser
lists, comment forms. None of it is article content, and if it reached a
chunk it would be retrieved and cited as if it were.

`content_sections` walks the text line by line and keeps each line of
article content as one span (stripped of surrounding whitespace), applying
a small set of named rules. What the header reveals (title, date, byline,
source) is returned as `HeaderInfo` instead of being kept as content.

The rules are general page patterns, not per-file fixes. The header region
is the stretch of lines before the first real paragraph (capped at
`HEADER_MAX_LINES`): some rules (title, category labels, bare bylines, the
date) apply only there, because the same shapes in the body are content.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.core.profile import load_profile, words_group, words_pattern

Span = tuple[int, int]

# The header is short; the cap keeps a text with no sentence-like line
# (a list, a poem) from being treated as one long header.
HEADER_MAX_LINES = 10
# Page furniture is short; a line longer than this is prose even if it
# starts like a widget.
MAX_FURNITURE_CHARS = 160
TITLE_MIN_WORDS = 4
TITLE_MAX_WORDS = 25
FALLBACK_TITLE_WORDS = 12
# A line this long counts as a paragraph even without final punctuation.
LONG_PARAGRAPH_WORDS = 40
PARAGRAPH_MIN_WORDS = 8
CATEGORY_MAX_WORDS = 3


@dataclass(frozen=True)
class HeaderInfo:
    """Metadata found in the page header instead of article content."""

    title: str | None = None
    date: str | None = None  # ISO 8601, YYYY-MM-DD
    author: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class _Line:
    """One non-blank line: its stripped text and span in the full text."""

    start: int
    end: int
    text: str
    heading: bool = False  # a Markdown "# Heading" (markers left out of the span)


def _rule(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Rules match whole lines, case-insensitively unless told otherwise."""
    return re.compile(pattern, flags)


# --- Furniture: lines that are boilerplate wherever they appear. ----------
# The words come from the language profile (rag/profiles/en.toml, [boilerplate]).

_WORDS = load_profile().boilerplate
_CALENDAR = load_profile().calendar



_ANY_SPACE = r"\s+"


FURNITURE_RULES: dict[str, re.Pattern[str]] = {
    # Comment forms follow the article; they are not part of it.
    "comment_prompt": _rule(
        rf"(?:{words_pattern(_WORDS.comment_prompts)}|\d+ {words_group(_WORDS.comment_counts)})\s*:?"
    ),
    # The comment form's privacy notice.
    "comment_notice": _rule(rf"{words_group(_WORDS.comment_notices)}\b.*"),
    # In-page navigation anchors of site builders.
    "page_anchor": _rule(words_pattern(_WORDS.page_anchors)),
    # View counters ("Views: 6", "1,204 views").
    "view_counter": _rule(
        rf"{words_group(_WORDS.counter_labels)}\s*:\s*\d[\d,.]*\s*[km]?"
        rf"|\d[\d,.]*\s*[km]?\s+{words_group(_WORDS.counter_nouns)}"
    ),
    # Star-rating widgets ("0.00 avg. rating (0% score) - 0 votes").
    "rating_widget": _rule(rf"\d+(?:[.,]\d+)?\s+{words_group(_WORDS.rating_labels, _ANY_SPACE)}\b.*"),
    # Weather banners ("14.1 C", "-3°F").
    "weather_banner": _rule(r"[-+]?\d{1,3}(?:[.,]\d+)?\s*°?\s*[CF]"),
    # Breadcrumbs glued to "Home" by the scraper ("HomeChinaChina, Russia ...");
    # case-sensitive, so "Homeland ..." is not one.
    "glued_breadcrumb": _rule(rf"{words_group(_WORDS.breadcrumb_roots)}(?=[A-Z0-9]).*", flags=0),
    # Breadcrumbs with separators ("Home > World > Asia").
    "breadcrumb": _rule(
        rf"{words_group(_WORDS.breadcrumb_roots)}\s*[›»>|/].*"
        r"|[^.!?›»>|/]{1,60}(?:\s[›»>|/]\s[^.!?›»>|/]{1,60}){2,}"
    ),
    # Share buttons, ads and newsletter prompts.
    "share_or_ad": _rule(
        rf"(?:{words_pattern(_WORDS.share_prompts)}|{words_group(_WORDS.share_on_site)} \w+)\s*:?"
    ),
    # Copyright footers.
    "copyright": _rule(
        rf"(?:©|\(c\)|{words_group(_WORDS.copyright_words)}\s+(?:©|\(c\)|\d{{4}})).*"
        rf"|.*\b{words_group(_WORDS.rights_reserved)}\.?"
    ),
    # Separators and decoration ("* * *", "----") carry no words.
    "no_words": _rule(r"[^\w]*"),
}

# Headers that open a list of teasers for other articles.
RELATED_HEADER = _rule(
    rf"(?:{words_group(_WORDS.related_adjectives)}\s+{words_group(_WORDS.related_nouns)}"
    rf"|{words_pattern(_WORDS.related_phrases)}"
    rf"|{words_group(_WORDS.related_from)} [^.!?:]{{1,40}})\s*:?"
)

# --- Metadata: lines whose value is kept as metadata, not content. --------

_MONTH = f"(?P<{{0}}>{words_pattern(_CALENDAR.month_forms)})"
_ORDINAL = words_group(_CALENDAR.ordinal_suffixes)
_TIME_MARKER = "|".join(r"\.?".join(map(re.escape, marker)) + r"\.?" for marker in _WORDS.time_markers)
# A line that is only a date, optionally with a weekday, a label and a time.
DATE_BANNER = _rule(
    rf"(?:{words_group(_WORDS.date_labels)}(?: {words_group(_WORDS.date_label_particles)})?\s*:?\s*)?"
    rf"(?:{words_group(_WORDS.banner_weekdays)}(?:{re.escape(_WORDS.banner_weekday_ending)})?\.?,?\s+)?"
    r"(?:"
    + _MONTH.format("m1")
    + rf"\.?\s+(?P<d1>\d{{1,2}}){_ORDINAL}?,?\s+(?P<y1>\d{{4}})"
    rf"|(?P<d2>\d{{1,2}}){_ORDINAL}?\s+(?:{words_group(_WORDS.day_month_joiners)}\s+)?"
    + _MONTH.format("m2")
    + r"\.?,?\s+(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<n3>\d{1,2})-(?P<d3>\d{1,2})"
    r")"
    rf"(?:,?\s*(?:{words_group(_WORDS.time_prepositions)}\s+)?\d{{1,2}}[:.]\d{{2}}"
    rf"(?:\s*(?:{_TIME_MARKER}))?(?:\s*[a-z]{{2,4}})?)?"
)
# "Source: X" credits the outlet; it is metadata, not article text.
SOURCE_LINE = _rule(rf"{words_group(_WORDS.source_labels)}\s*:\s*(?P<value>.{{1,80}})")
# "By: Name" / "Author: Name" bylines, anywhere.
BYLINE_LABELLED = _rule(rf"{words_group(_WORDS.byline_labels)}\s*:\s*(?P<value>.{{1,80}})")
# "By Name Surname" without a colon, trusted only in the header.
BYLINE_BARE = _rule(
    rf"{words_group(_WORDS.bare_byline_marks)}\s+(?P<value>[A-Z][\w.'’-]*"
    rf"(?:\s+(?:[A-Z][\w.'’-]*|{words_pattern(_WORDS.byline_name_joiners)})){{0,5}})",
    flags=0,
)
MAX_META_WORDS = 8

# --- Shapes of lines. -----------------------------------------------------

MARKDOWN_HEADING = re.compile(r"#{1,6}\s+")
# Ends like a sentence: terminal punctuation, maybe inside closing quotes.
SENTENCE_END = re.compile(r"[.!?][\"'”’»)\]]*$")
# Ends like a teaser snippet cut off mid-sentence.
TEASER_END = re.compile(r"(?:\.\.\.|…)[\"'”’»)\]]*$")
# A headline ends without a period, colon or cut-off mark.
NOT_HEADLINE_END = re.compile(r"(?:[.,;:]|…)[\"'”’»)\]]*$")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'”’»)\]]*\s+")


def content_sections(text: str) -> tuple[list[Span], HeaderInfo]:
    """Return the spans of `text` holding article content, and the header's metadata.

    Spans are ordered, non-overlapping, non-empty and stripped (one per kept
    line); everything else on the page is left out of them.
    """
    lines = _split_lines(text)
    header_end = _header_end(lines)
    # A text with no line of prose (a snippet of facts: "Headquarters: Austin, Texas") has no
    # section labels to drop: its short lines are its content, the first its title.
    has_prose = any(_is_paragraph(line.text) for line in lines)
    kept: list[Span] = []
    title: str | None = None
    date: str | None = None
    author: str | None = None
    source: str | None = None
    in_related = False
    for i, line in enumerate(lines):
        in_header = i < header_end
        if in_related:
            # Teaser headlines and "..." snippets run until a real paragraph.
            if not _is_paragraph(line.text):
                continue
            in_related = False
        if RELATED_HEADER.fullmatch(line.text):
            in_related = True
            continue
        if _is_furniture(line.text):
            continue
        if (found := _date_banner(line.text)) is not None:
            if in_header and date is None:
                date = found
            continue
        if (value := _meta_value(SOURCE_LINE, line.text)) is not None:
            source = source or value
            continue
        if (value := _byline(line.text, in_header)) is not None:
            author = author or value
            continue
        if title is not None and _same_text(line.text, title):
            continue  # the title repeated (e.g. in a different case)
        # a headline; in a text without prose, its first line; the one line above the prose ("Nomadland")
        opens = i == header_end - 1 == 0
        if in_header and title is None and (_is_headline(line) or not (has_prose or kept) or opens):
            title = line.text
        elif in_header and has_prose and _is_category_label(line.text):
            continue
        kept.append((line.start, line.end))
    return kept, HeaderInfo(title=title, date=date, author=author, source=source)


def fallback_title(text: str, sections: list[Span] | tuple[Span, ...]) -> str:
    """A title from the first sentence of the first section, for articles without one."""
    if not sections:
        return ""
    start, end = sections[0]
    first = SENTENCE_SPLIT.split(text[start:end], maxsplit=1)[0]
    words = first.split()
    if len(words) <= FALLBACK_TITLE_WORDS:
        return " ".join(words)
    return " ".join(words[:FALLBACK_TITLE_WORDS]).rstrip(",;:") + "…"


def parse_date(value: str) -> str | None:
    """ISO date of a line that is only a date ("Saturday, July 13, 2024"), else None."""
    return _date_banner(value.strip())


# --- Helpers. -------------------------------------------------------------


def _split_lines(text: str) -> list[_Line]:
    """Non-blank lines with stripped spans; any line ending (\\n, \\r\\n, \\r, ...) counts."""
    lines: list[_Line] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        line = _stripped_line(raw, offset)
        if line is not None:
            lines.append(line)
        offset += len(raw)
    return lines


def _stripped_line(raw: str, offset: int) -> _Line | None:
    """The span of `raw` without surrounding whitespace (and Markdown heading marks)."""
    body = raw.rstrip()
    start = len(body) - len(body.lstrip())
    heading = MARKDOWN_HEADING.match(body, start)
    if heading:
        rest = body[heading.end() :]
        start = heading.end() + len(rest) - len(rest.lstrip())
    if start >= len(body):
        return None
    return _Line(offset + start, offset + len(body), body[start:], heading=bool(heading))


def _header_end(lines: list[_Line]) -> int:
    """Index of the first real paragraph: the header ends there."""
    for i, line in enumerate(lines[:HEADER_MAX_LINES]):
        if not _is_furniture(line.text) and _is_paragraph(line.text):
            return i
    return min(len(lines), HEADER_MAX_LINES)


def _is_furniture(text: str) -> bool:
    """True when a furniture rule matches the whole (short) line."""
    if len(text) > MAX_FURNITURE_CHARS:
        return False
    return any(rule.fullmatch(text) for rule in FURNITURE_RULES.values())


def _is_paragraph(text: str) -> bool:
    """A line of prose: a full sentence of some length, or simply long."""
    n_words = len(text.split())
    if n_words >= LONG_PARAGRAPH_WORDS and not TEASER_END.search(text):
        return True
    return (
        n_words >= PARAGRAPH_MIN_WORDS
        and SENTENCE_END.search(text) is not None
        and TEASER_END.search(text) is None
    )


def _is_headline(line: _Line) -> bool:
    """A Markdown heading, or a line shaped like a headline (4+ words, no final period)."""
    if line.heading:
        return True
    n_words = len(line.text.split())
    return (
        TITLE_MIN_WORDS <= n_words <= TITLE_MAX_WORDS
        and NOT_HEADLINE_END.search(line.text) is None
    )


def _is_category_label(text: str) -> bool:
    """Short header lines such as "News World" or "China Defense" are section labels."""
    return (
        len(text.split()) <= CATEGORY_MAX_WORDS
        and SENTENCE_END.search(text) is None
    )


def _date_banner(text: str) -> str | None:
    """ISO date when the whole line is a date (with optional weekday, label, time), else None."""
    if len(text) > MAX_FURNITURE_CHARS:
        return None
    match = DATE_BANNER.fullmatch(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        if parts["y3"]:
            day = dt.date(int(parts["y3"]), int(parts["n3"]), int(parts["d3"]))
        else:
            year = int(parts["y1"] or parts["y2"])
            month = _CALENDAR.month_number(parts["m1"] or parts["m2"])
            day = dt.date(year, month, int(parts["d1"] or parts["d2"]))
    except ValueError:
        return None  # "February 30, 2024" is not a date; keep the line as text
    return day.isoformat()


def _meta_value(rule: re.Pattern[str], text: str) -> str | None:
    """The value of a "Label: value" metadata line, if short enough to be one."""
    if len(text) > MAX_FURNITURE_CHARS:
        return None
    match = rule.fullmatch(text)
    if match is None:
        return None
    value = match.group("value").strip()
    if not value or len(value.split()) > MAX_META_WORDS:
        return None
    return value


def _byline(text: str, in_header: bool) -> str | None:
    """Author of a byline line; bare "By Name" is trusted only in the header."""
    value = _meta_value(BYLINE_LABELLED, text)
    if value is None and in_header:
        value = _meta_value(BYLINE_BARE, text)
    return value


def _same_text(a: str, b: str) -> bool:
    """Equal ignoring case, spacing and a final period."""
    return _normal(a) == _normal(b)


def _normal(text: str) -> str:
    """Casefolded, single-spaced, without a final period."""
    return " ".join(text.casefold().split()).rstrip(".")
