"""Rule-based sentence splitting with exact character spans.

Chunks are packed from whole sentences and citations point at sentences, so
the splitter returns (start, end) offsets into the caller's text rather than
strings. It is deliberately small and predictable: a regex finds candidate
boundaries (terminal punctuation, optional closing quotes/brackets, then
whitespace) and a few rules veto the ones that are really abbreviations,
initials or continuations. A line break ends a sentence, which keeps
headings, bylines and list bullets out of the neighbouring prose, unless it
is a soft wrap: text wrapped at a fixed width (papers converted from PDF,
plain-text manuals) continues a clause on the next line, and cutting there
would cut a definition from what it defines.
"""

from __future__ import annotations

import re

from rag.core.profile import load_profile

# Bump when the rules change: chunk boundaries depend on them, so the index
# manifest records this and a change forces a rebuild.
SPLITTER_VERSION = "rules-4"

# Characters that end a line (the set str.splitlines() uses).
_LINE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")

# One line break between two lines, with the spaces around it.
_BREAK = re.compile(r"[ \t]*\n[ \t]*(?=\S)")
ENDS_LINE = ".!?:;\u2026\"\u201d"  # a line ending so ends a sentence or labels what follows
_MID_CLAUSE = ",-\u2010"
MIN_WRAPPED_WIDTH = 60  # characters: a line this long that stops mid-clause was wrapped

# Terminal punctuation, then closing quotes/brackets, then whitespace.
_CANDIDATE = re.compile(r"(?:[.?!\u2026]+)[\"'\u201d\u2019\u00bb\u203a)\]}]*(?=\s)")

# Openers skipped when looking at how the next sentence begins.
_OPENERS = "\"'\u201c\u2018\u00ab\u2039([{\u2014\u2013-*\u2022"

# The words come from the language profile (rag/profiles/en.toml, [sentences]).
_WORDS = load_profile().sentences
# Titles and similar: always followed by a name, never end a sentence.
_TITLES = _WORDS.titles
# Abbreviations that only precede a number ("No. 5", "Jan. 6", "Fig. 2").
_BEFORE_NUMBER = _WORDS.before_number | load_profile().calendar.month_abbreviations
# Words that almost always start a new sentence: after "U.S." they mean the
# acronym ended the sentence; otherwise the acronym is a modifier.
_STARTERS = _WORDS.starters

# Abbreviations a lower-case word may follow ("etc. and", "et al. reported").
_ABBREVIATIONS = _WORDS.abbreviations
_PLAIN_WORD = re.compile(r"[^\W\d_]\w+")

_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_LEADING_WORD = re.compile(r"\w+")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans.

    Spans are absolute offsets into `text`, stripped of whitespace, non-empty,
    ordered, non-overlapping, hold a line break only where it is a soft wrap,
    and together cover every non-whitespace character of the range.
    """
    end = len(text) if end is None else end
    read = unwrap_soft(text[start:end])
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(read):
        spans.extend((start + s, start + e) for s, e in _split_line(read, line.start(), line.end()))
    return spans


def sentences_of_chunks(text: str, ranges) -> tuple[tuple[int, int], ...]:
    """The sentences of each chunk range, as the evidence stage reads them, each once, in order.

    Chunks are packed from whole sentences, so their ranges split into the
    document's sentences; a sentence too long for one chunk is read in pieces.
    """
    return tuple(sorted({span for start, end in ranges for span in split_sentences(text, start, end)}))


def unwrap_soft(text: str) -> str:
    """The text with its soft wraps as spaces (same length, so offsets hold).

    A break is soft when the line before does not end a sentence and either
    the next line starts in lower case, or the line before stops mid-clause
    (a comma, a hyphen), or it is a long line ending in a lower-case word, as
    lines wrapped at a fixed width are. A heading, a byline or a bullet is
    short, ends in a capitalised word or starts the next line with a marker.
    """
    pieces, last = [], 0
    for m in _BREAK.finditer(text):
        before = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        pieces.append(text[last : m.start()])
        pieces.append(" " * (m.end() - m.start()) if _soft(before, text[m.end()]) else text[m.start() : m.end()])
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces)


def _soft(line: str, next_char: str) -> bool:
    line = line.rstrip()  # a no-break space before the break is not what the line ends in
    if not line or line[-1] in ENDS_LINE:
        return False
    if next_char.islower():
        return True
    if line[-1] in _MID_CLAUSE and len(line) > 1 and line[-2].isalpha():
        return True
    return len(line) >= MIN_WRAPPED_WIDTH and (line[-1].islower() or line[-1] == ",") and next_char.isalnum()


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one line (no line breaks inside) at accepted boundaries."""
    spans: list[tuple[int, int]] = []
    sentence_start = start
    for m in _CANDIDATE.finditer(text, start, end):
        if _is_boundary(text, m.start(), m.end(), end):
            _append_stripped(text, sentence_start, m.end(), spans)
            sentence_start = m.end()
    _append_stripped(text, sentence_start, end, spans)
    return spans


def _append_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def _is_boundary(text: str, punct_start: int, punct_end: int, line_end: int) -> bool:
    """Decide whether a candidate terminal really ends the sentence."""
    nxt = _next_word(text, punct_end, line_end)
    if not nxt:
        return True  # only whitespace/openers remain on the line
    terminal = text[punct_start:punct_end].rstrip("\"'\u201d\u2019\u00bb\u203a)]}")
    if nxt[0].islower():
        # "“Why?” he asked", "… [but] the", "etc. and" continue; "(all statements). ddl logs" does not.
        return terminal == "." and _word_ends_before_lower(_word_before(text, punct_start))
    if terminal != ".":
        return True  # "?", "!", "...", "…" before a capital or digit
    word = _word_before(text, punct_start)
    return _period_ends_sentence(word, nxt)


def _word_ends_before_lower(word: str) -> bool:
    """Whether a full stop after `word` ends the sentence though the next word is lower case.

    Only after a word of letters that is no known abbreviation: initials,
    dotted acronyms ("e.g.", "U.S."), numbers and listed abbreviations continue.
    """
    word = word.rstrip("\"'\u201d\u2019\u00bb\u203a)]}")
    if not _PLAIN_WORD.fullmatch(word):
        return False
    low = word.lower()
    return low not in _ABBREVIATIONS and low not in _TITLES and low not in _BEFORE_NUMBER


def _period_ends_sentence(word: str, nxt: str) -> bool:
    """Rules for a single '.' after `word`, followed by `nxt` (not lowercase)."""
    if not word:
        return True
    low = word.lower()
    if low in _TITLES:
        return False
    if low in _BEFORE_NUMBER and nxt[0].isdigit():
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. Smith"
    if _DOTTED_ACRONYM.fullmatch(word):
        if word[0].islower():
            return False  # "e.g.", "i.e.", "a.m." never end here before a capital
        lead = _LEADING_WORD.match(nxt)
        return bool(lead) and lead.group().lower() in _STARTERS  # "U.S. RQ-4B" vs "the U.S. The"
    return True


def _word_before(text: str, pos: int) -> str:
    """The non-space token ending at pos, without leading openers."""
    i = pos
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    return text[i:pos].lstrip(_OPENERS)


def _next_word(text: str, pos: int, line_end: int) -> str:
    """The next token after pos on the line, without leading openers."""
    i = pos
    while i < line_end and text[i].isspace():
        i += 1
    j = i
    while j < line_end and not text[j].isspace():
        j += 1
    return text[i:j].lstrip(_OPENERS)
