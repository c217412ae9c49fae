"""Questions asking which of two things happened first, or last: "Which came first, the Vostok
drills or the Brest exercise?".

No passage need say which came first: each alternative's date is found as the answer to "when
was <alternative>?" would find it (the whole answer path), and the two dates are compared here.
The answer names the earlier (or later) one and cites both dates where they are written, each a
claim of its own. The words that make such a question are the language profile's
(`[questions] order_*`, `choice_joiners`); a date is read with its `[calendar]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.core.profile import load_profile, words_group

_Q = load_profile().questions
_CALENDAR = load_profile().calendar
YEAR = r"(?:1[89]|20)\d\d"  # a year as the answer path reads one (1800-2099): dates, and numbers that narrow
_YEAR = re.compile(rf"(?<!\d)({YEAR})(?!\d)")
_DAY = re.compile(r"(?<![\d.])(\d{1,2})(?![\d.])")
_MONTH = re.compile(rf"\b({words_group(_CALENDAR.month_forms)})\b\.?")


@dataclass(frozen=True)
class OrderQuestion:
    """Two alternatives, and whether the question asks for the earlier (True) or the later one."""

    alternatives: tuple[str, str]
    earliest: bool


def _pattern() -> re.Pattern | None:
    if not (_Q.order_openers and _Q.choice_joiners and (_Q.order_first or _Q.order_last)):
        return None
    order = words_group((*_Q.order_first, *_Q.order_last))
    return re.compile(
        rf"^\s*{words_group(_Q.order_openers)}\b[^,:;?]*?\b(?P<order>{order})\b\s*[,:;\u2013\u2014-]\s*"
        rf"(?P<a>[^?]+?),?\s+{words_group(_Q.choice_joiners)}\s+(?P<b>[^?]+?)\s*\??\s*$",
        re.I,
    )


_ORDER_Q = _pattern()


def order_question(question: str) -> OrderQuestion | None:
    """The two alternatives a question asks to order in time, or None for any other question."""
    match = _ORDER_Q.match(question) if _ORDER_Q else None
    if not match:
        return None
    earliest = match.group("order").lower() in {w.lower() for w in _Q.order_first}
    return OrderQuestion((match.group("a").strip(), match.group("b").strip()), earliest)


def date_key(text: str, year: int | None = None) -> tuple[int, int, int] | None:
    """(year, month, day) of a date as written ("June 6", "20 February 2022", "2014"), 0 for what
    it does not say; a year it does not write is `year` (the article's), else 0. None: no date."""
    month = _MONTH.search(text)
    written = _YEAR.search(text)
    rest = _YEAR.sub(" ", text)
    day = _DAY.search(rest) if month else None
    if not month and not written:
        return None
    return (
        int(written.group(1)) if written else (year or 0),
        _CALENDAR.month_number(month.group(1)) if month else 0,
        int(day.group(1)) if day else 0,
    )


def earlier(first: tuple[int, int, int], second: tuple[int, int, int], same_document: bool) -> bool | None:
    """Whether `first` is before `second`; None when the order cannot be told: the same date, or a
    date without a year from another article than the other (one article's "June 6" and another's
    "August 30" may be years apart). Within one article, dates without a year are of one year."""
    if 0 in (first[0], second[0]):
        if not same_document:
            return None
        first, second = (0, *first[1:]), (0, *second[1:])
    if first == second:
        return None
    return first < second
