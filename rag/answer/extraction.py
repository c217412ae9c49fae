"""Short answers as verbatim spans of the evidence, typed by the question.

A 135M-parameter model picks the right fact often but phrases it badly and
invents details, so the final answer is never its free text: it is a span
copied from a supporting sentence. The question's form says what kind of
span can answer it (a date for "when", a quantity for "how many", a name for
"who"/"which"); candidates of that kind are read off the most relevant
sentences with regular expressions, and ranked by sentence relevance, by
closeness to the question's words in the sentence, and by agreement with the
model's draft. A typed question with no typed candidate near its focus word
is not answered: that is the main abstention signal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.evidence import Passage, Sentence, ranked_sentences, stop_words, terms
from rag.answer.grounding import same_word
from rag.answer.ordering import YEAR
from rag.core.profile import load_profile, words_group, words_pattern

# ------------------------------------------------------------ answer types

DATE, QUANTITY, NAME, VALUE, OTHER = "date", "quantity", "name", "value", "other"

# The words come from the language profile (rag/profiles/en.toml: [calendar], [questions], [answers]).
_CALENDAR = load_profile().calendar
_Q = load_profile().questions
_A = load_profile().answers



_MONTH = words_group(_CALENDAR.month_forms)
_ORDINAL = words_group(_CALENDAR.ordinal_suffixes)
_DAY = rf"\d{{1,2}}{_ORDINAL}?(?:\s*[-–—]\s*\d{{1,2}}{_ORDINAL}?)?"
_WEEKDAY = words_group(_CALENDAR.weekdays)
DATE_RE = re.compile(
    rf"\b(?:{_MONTH}\s+{_DAY}\s*{words_group(_A.date_range_words)}\s+(?:{_MONTH}\s+)?{_DAY}"  # August 30 to September 5
    rf"|{_MONTH}\.?\s+{_DAY}(?:,?\s+{YEAR})?"  # June 6, April 16-19, March 20, 2023
    rf"|{_DAY}\s+{_MONTH}(?:\s+{YEAR})?"  # 20 February 2022
    rf"|{words_group(_A.month_qualifiers)}?{_MONTH}\s+{YEAR}"  # April 2022, early April 2022
    rf"|{_WEEKDAY}|{YEAR})\b"
)
_CALENDAR_WORD = re.compile(rf"(?:{_MONTH}|{_WEEKDAY})\.?", re.I)
_HAS_DAY = re.compile(rf"{_MONTH}\.?\s+\d|\d\s+{_MONTH}")
_HAS_YEAR = re.compile(rf"\b{YEAR}\b")
_SYMBOLS = "".join(re.escape(symbol) for symbol in _A.currency_symbols)  # inside [...]
# A figure: thousands grouped by commas or by (thin, no-break) spaces, "35 000"; a decimal part;
# then a percent sign or a unit written on it ("20kb", "128MB").
_FIGURE = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,])|\d[\d,]*(?:\.\d+)?)"
_NUMBER = (
    rf"(?<![\w-])(?:{words_group(_A.currency_prefixes)}?[{_SYMBOLS}]\s?)?{_FIGURE}(?:%|[A-Za-z]{{1,3}}(?!\w))?(?:-(?:{_FIGURE}|\w+))?"
    rf"|\b{words_group(_A.number_words)}\b(?:-\w+)?"
)
_SCALE = rf"(?:\s+{words_group(_A.scale_words)})?"
QUANTITY_RE = re.compile(rf"(?:{_NUMBER}){_SCALE}", re.IGNORECASE)
# A range, "35 000 to 60 000", "three to five million", and an estimate with its interval, "3.87 [3.01-4.66]":
# candidates beside the single numbers, which may answer alone.
RANGE_RE = re.compile(
    rf"(?:{_NUMBER})(?:\s+{words_group(_A.number_range_words)}\s+(?:{_NUMBER})"
    rf"|\s*[\[(]{_FIGURE}\s*[-\u2013,]\s*{_FIGURE}[\])]){_SCALE}",
    re.IGNORECASE,
)
# Proper names: capitalised words or codes such as Y-20, S-400, HQ-22, joined by of/for/the/and/de.
_CAP = r"(?:[A-Z][\w'’.-]*[\w]|[A-Z]|[A-Z]{1,3}-\d+\w*)"
NAME_RE = re.compile(rf"(?<!\w){_CAP}(?:\s+(?:{words_group(_A.name_joiners)}\s+)*{_CAP})*")  # not the CoV of nCoV

_DATE_Q = re.compile(rf"^\s*{words_group(_Q.date_openers)}\b|\b{words_group(_Q.date_phrases)}\b", re.I)
# "What is the mean time of onset ...": the measure heads the noun group after the opener, so "What is
# the main cause of death in the neonatal period?" asks for no quantity.
_QUANTITY_Q = re.compile(
    rf"\b{words_group(_Q.quantity_phrases)}\b|\b{words_group(_Q.quantity_openers)}\s+"
    rf"(?:(?!{words_group(_Q.group_ends)}\b)[\w'’-]+\s+){{0,5}}?({words_pattern(_Q.quantity_nouns)})\b",
    re.I,
)
_NAME_Q = re.compile(rf"^\s*{words_group(_Q.name_openers)}\b|\b{words_group(_Q.name_phrases)}\b", re.I)
_DEFAULT_Q = re.compile(rf"\b{words_group(_Q.default_words)}\b", re.I)
_ABBREVIATION_Q = re.compile(
    rf"\s*(?i:{words_group(_Q.abbreviation_openers)})\s+(?:(?i:an?|the)\s+)?"
    rf"([^\s?]*[A-Z][^\s?]*[A-Z][^\s?]*?)\s*(?:(?i:{words_group(_Q.abbreviation_closers)})\s*)?\??\s*"
)
_VALUE_Q = re.compile(
    rf"\b{words_group(_Q.value_openers)}\b[^?]*?\b{words_group((*_Q.value_words, *_Q.default_words))}\b", re.I
)
_NAMED, _COPULA = words_group(_A.default_names), words_group(sorted(_A.copulas))
_DEFAULT_NAMED = (
    rf"\b{_NAMED}(?:\s+[\w-]+){{0,4}}\s+{_COPULA}\b", rf"\b{_COPULA}\s+(?:[\w-]+\s+)?{_NAMED}\b",  # the copula
    rf"\(\s*{_NAMED}\b", rf"\b{_NAMED}\s*,",  # set apart: "zero (the default)", "The default, LOG, ..."
) if _A.default_names else ()  # fmt: skip
_DEFAULT_STATED = re.compile("|".join((rf"\b{words_group(_A.default_markers)}\b", *_DEFAULT_NAMED)), re.I)
# On a tie the earlier entry wins: "what is the default value of X" is a value, not a quantity.
_KIND_SIGNS = ((DATE, _DATE_Q), (VALUE, _VALUE_Q), (QUANTITY, _QUANTITY_Q), (NAME, _NAME_Q))
_OTHER = rf"(?:{words_group(_Q.other_words)}\s+)?"
_LIST_HINT = re.compile(
    rf"\b{words_group(_Q.list_words)}\s+(?:{words_group(_Q.list_links)}\s+)?{_OTHER}((?:[\w-]+\s+){{0,2}}[\w-]+)", re.I
)
_FOCUS_AFTER = re.compile(rf"\b{words_group(_Q.count_phrases)}\s+((?:[\w-]+\s*){{1,4}})", re.I)
_WHICH = re.compile(rf"\b{words_group(_Q.which_words)}\s+{_OTHER}((?:[\w-]+\s*){{1,3}})", re.I)
_AUXILIARY = re.compile(rf"\b{words_group(_Q.group_ends)}\b.*", re.I | re.S)
# "What test can detect ...": an opener, one to three words, then an auxiliary (a yes/no opener).
_PICKING_Q = re.compile(
    rf"^\s*{words_group(_Q.picking_openers)}\s+((?:[\w-]+\s+){{1,3}}?)(?={words_group(_Q.yes_no_openers)}\b)", re.I
) if _Q.picking_openers else None  # fmt: skip
_PLACE_Q = re.compile(rf"\s*{words_group(_Q.place_openers)}\b", re.I)
_PERSON_Q = re.compile(rf"\s*{words_group(_Q.person_openers)}\b", re.I)
_CHOICE_Q = re.compile(
    rf"^\s*{words_group(_Q.yes_no_openers)}\s+(.+?)\s+{words_group(_Q.choice_joiners)}\s+([^?,;:]+)", re.I
) if _Q.choice_joiners else None  # fmt: skip


# "tactics such as A, B, and C", "Valid values are none (off), ddl, and all": the enumeration after
# a list marker answers "which X" questions; an item may carry a parenthesis.
_NOTE = r"(?:\s*\([^()]{1,40}\))?"
_ITEM = rf"[\w{_SYMBOLS}'’.-]+(?:\s+[\w'’.-]+){{0,4}}?{_NOTE}"
# (its further words hold a dot only inside: "DROP statements. mod logs" crosses into the next sentence)
_LAST_ITEM = (
    rf"[\w{_SYMBOLS}'’.-]+(?:\s+(?!{words_group(_A.list_item_stops)}\b)[\w'’-]+(?:\.[\w'’-]+)*){{0,3}}{_NOTE}"
)
_JOINER = words_group(_A.list_joiners)
_ITEMS = rf"({_ITEM}(?:,\s+{_ITEM})*,?\s+{_JOINER}\s+{_LAST_ITEM})"
ENUMERATION_RE = re.compile(rf"\b(?i:{words_group(_A.list_markers + _A.choice_markers)}):?\s+{_ITEMS}")
CHOICES_RE = re.compile(rf"\b(?i:{words_group(_A.choice_markers)}):?\s+{_ITEMS}")
# A syntax synopsis's choice among alternatives: "ISOLATION LEVEL { SERIALIZABLE | READ COMMITTED }".
ALTERNATIVES_RE = re.compile(r"\{\s*([^{}|\[\]]+?(?:\s*\|\s*[^{}|\[\]]+?)+)\s*\}")
_LIST_GAP = re.compile(rf"(?:,|\s)*(?:\s{_JOINER}\s)?(?:[\s,]|\b[a-z-]+\b){{0,4}}")
_LISTED = re.compile(rf",|\||\b{_JOINER}\b")


_DAY_Q = re.compile(rf"\b{words_group(_Q.day_phrases)}\b", re.I)
_YEAR_Q = re.compile(rf"\b{words_group(_Q.year_phrases)}\b", re.I)
# What a "how long / how far / how much" answer is measured in, and which questions ask for it.
_UNITS = {
    unit.kind: re.compile(
        (f"[{_SYMBOLS}]|" if unit.currency else "") + rf"(?<![^\W\d_]){words_group(unit.words)}\b", re.I
    )
    for unit in _A.units
}
_ALSO_UNITS = {unit.kind: unit.also for unit in _A.units}
# A duration given by its end point: "until the end of the current transaction" (to the clause's end).
_UNIT_ENDS = {
    unit.kind: re.compile(rf"\b{words_group(unit.ends)}\s+[^,;:.()\n]+", re.I)
    for unit in _A.units
    if unit.ends
}
_UNIT_Q = tuple(
    (
        unit.kind,
        re.compile(
            (rf"\b{words_group((unit.lead,))}\b.*\b{words_group(unit.lead_with)}|" if unit.lead else "")
            + rf"\b{words_group(unit.asked_by)}\b",
            re.I,
        ),
    )
    for unit in _A.units
)


@dataclass(frozen=True)
class QuestionType:
    kind: str  # date | quantity | name | value | other
    focus: tuple[str, ...]  # stemmed focus words ("tanks" in "how many tanks")
    wants_list: bool
    place: bool = False  # "where ...", "which country": a name after in/at/from is likelier
    grain: str | None = None  # "day" or "year": what precision a date question asks for
    unit: str | None = None  # "duration", "distance", "money", "size": what a quantity is measured in
    person: bool = False  # "who ...": asks for a person
    default: bool = False  # asks what holds when nothing is chosen ("by default", "the default X")
    abbreviation: str = ""  # asks what this abbreviation is ("What is PHEIC?")
    term: bool = False  # asks for a name of a kind a manual defines ("which setting ...")


def enumerations(sentence: str, choices_only: bool = False) -> list[tuple[int, int]]:
    """The spans of a sentence that enumerate: after a list marker ("tactics such as A, B, and C",
    "Valid values are A, B, and C") or between a synopsis's braces ("{ A | B }"); with
    `choices_only`, only lists of all the choices there are, not of examples."""
    listing = CHOICES_RE if choices_only else ENUMERATION_RE
    spans = [m.span(1) for r in (listing, ALTERNATIVES_RE) for m in r.finditer(sentence)]
    return [(s, s + len(sentence[s:e].rstrip(" ,;:."))) for s, e in spans]  # the sentence's stop is no item's


_QUOTES = re.compile(r"[\"'“”‘’]")


def expansions(sentence: str, abbreviation: str) -> list[tuple[int, int]]:
    """The spans of a sentence that spell out `abbreviation` ("Public Health Emergency of
    International Concern (PHEIC)"), found by the Schwartz-Hearst algorithm."""
    if abbreviation not in sentence:
        return []
    from abbreviations.schwartz_hearst import extract_abbreviation_definition_pairs

    # one line, without quotes ("'Public Health Emergency of International Concern' (PHEIC)" is
    # not read otherwise); each replaced by a space, so offsets are kept
    flat = _QUOTES.sub(" ", sentence.replace("\n", " "))
    long_form = extract_abbreviation_definition_pairs(doc_text=flat).get(abbreviation)
    start = flat.find(long_form) if long_form else -1
    return [(start, start + len(long_form))] if start >= 0 else []


def states_default(sentence: str) -> bool:
    """Whether a sentence says what holds when nothing is chosen ("The default is 5432")."""
    return bool(_DEFAULT_STATED.search(sentence))


def alternatives(question: str) -> tuple[str, str] | None:
    """The two alternatives a yes/no question joins, or None: "single", "double-stranded" in "Is
    rotavirus single or double-stranded?". The second runs from the joiner to the first function
    word after a content word ("5433 when unset"), the first is as many words before the joiner."""
    match = _CHOICE_Q.match(question) if _CHOICE_Q else None
    if not match:
        return None
    stop = stop_words()
    right: list[str] = []
    for word in match.group(2).split():
        if word.lower() in stop:
            if right:
                break
            continue  # "a bacterium": the article is no part of the alternative
        right.append(word)
    left = [w for w in match.group(1).split() if w.lower() not in stop][-len(right) :] if right else []
    if not right or len(left) < len(right):
        return None
    return " ".join(left), " ".join(right)


def chosen_alternative(pair: tuple[str, ...], sentence: str) -> tuple[int, int] | None:
    """Where the settling sentence writes the one of a question's `alternatives` it holds (offsets
    in the sentence); None when it holds both or neither."""
    found = []
    for alternative in pair:
        pattern = r"\s+".join(re.escape(word) for word in alternative.split())
        # whole words: "single" is not in "single-stranded"
        match = re.search(rf"(?<![\w-]){pattern}(?![\w-])", sentence, re.I)
        if match:
            found.append(match.span())
    return found[0] if len(found) == 1 else None


_DOUBLED_AUXILIARY = re.compile(
    rf"^(\s*){words_group(_Q.yes_no_openers)}(?=\s+{words_group(_Q.yes_no_openers)}\b)", re.I
)


def as_asked(question: str) -> str:
    """The question with a doubled auxiliary at its opening read as the mistyped question word it
    stands for: "Was was the sample size?" asks what the sample size was, not whether."""
    if not _Q.mistyped_opener:
        return question
    return _DOUBLED_AUXILIARY.sub(lambda m: m.group(1) + _Q.mistyped_opener, question, count=1)


def question_type(question: str) -> QuestionType:
    """What kind of span answers the question, and which words it must sit near.

    The earliest sign decides (dates, values, quantities, then names on a tie):
    "Which EXPLAIN option shows how many blocks were read?" asks for a name,
    its "how many" belonging to a clause about the name.
    """
    question = as_asked(question)
    signs = [(m.start(), i, k) for i, (k, p) in enumerate(_KIND_SIGNS) if (m := p.search(question))]
    kind = min(signs)[2] if signs else OTHER
    asks_default = bool(_DEFAULT_Q.search(question))
    if kind == NAME and asks_default:
        kind = VALUE  # "which port ... unless configured otherwise": what holds when nothing is chosen
    focus: tuple[str, ...] = ()
    if kind == QUANTITY:
        match = _FOCUS_AFTER.search(question)
        if match:
            group = _AUXILIARY.sub("", match.group(1))
            focus = tuple(terms(group))
            if f" {_Q.quantity_list_joiner} " in f" {group} ":
                return QuestionType(kind, focus, True)
        elif (noun := _QUANTITY_Q.search(question)) and noun.group(1):
            focus = tuple(terms(noun.group(1)))
    elif kind == NAME and (match := _WHICH.search(question)):
        focus = tuple(terms(_noun_group(match.group(1))))
    elif kind == OTHER and not asks_default and (group := _picked_group(question)):
        kind, focus = NAME, tuple(terms(group))
    place = bool(_PLACE_Q.match(question)) or (
        kind == NAME and bool(set(focus[-1:]) & _stems(_Q.place_nouns))
    )
    grain = "year" if _YEAR_Q.search(question) else "day" if _DAY_Q.search(question) else None
    unit = (
        next((name for name, pattern in _UNIT_Q if pattern.search(question)), None)
        if kind == QUANTITY
        else None
    )
    wants_list = kind in (NAME, OTHER) and _asks_for_several(question)
    person = bool(_PERSON_Q.match(question))
    default = kind == VALUE or asks_default  # a value: "what is the default X / X set to"
    abbreviation = match.group(1) if (match := _ABBREVIATION_Q.fullmatch(question)) else ""
    return QuestionType(
        kind, focus, wants_list, place, grain if kind == DATE else None, unit, person, default, abbreviation,
        not person and _asks_for_term(question),
    )


def _asks_for_term(question: str) -> bool:
    """Whether a word before the question's first auxiliary or preposition is a kind of name a manual
    defines: "Which setting terminates ..." asks for an entry's name, "What level is ..." does not."""
    return bool(set(terms(_AUXILIARY.sub("", question))) & _stems(_Q.term_kinds))


_PLAIN_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _picked_group(question: str) -> str:
    """The noun group a "What <noun group> <auxiliary> ..." question picks among ("test" in "What
    test can detect X?"), or "" when the words after the opener are no noun group (a stop word:
    "What is X", "What does X do"), a noun asking for a description ("What role does X play") or
    a term's name ("What wal_level ...")."""
    match = _PICKING_Q.match(question) if _PICKING_Q else None
    if not match:
        return ""
    words = [w for w in match.group(1).split() if w.lower() not in _Q.other_words]
    lower = {w.lower() for w in words}
    if not words or lower & stop_words() or lower & _Q.describing_nouns:
        return ""
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return ""  # "What wal_level does ...": a term's name asks for its value, not for a name
    if set(terms(words[-1])) & _stems(_Q.quantity_nouns):
        return ""  # "What rate was observed?": a measure asks for a quantity ("What age group ...": a name)
    return " ".join(words)


@lru_cache(maxsize=8)
def _stems(words: tuple[str, ...]) -> frozenset[str]:
    """The stemmed terms of a profile's word list, worked out once."""
    return frozenset(terms(" ".join(words)))


def default_terms() -> frozenset[str]:
    """The terms of the words naming a default ("default"): a question asking for one implies them
    ("unless told otherwise" names default_transaction_isolation but for its first word)."""
    return _stems(_A.default_names)


def _noun_group(words: str) -> str:
    """'countries sent military' -> 'countries'; 'think tank published' -> 'think tank'.

    Without a tagger, the group ends at an auxiliary or preposition, before a
    past-tense-looking word, or right after a plural-looking word.
    """
    kept = []
    for word in _AUXILIARY.sub("", words).split():
        lower = word.lower()
        if kept and lower.endswith(_Q.past_endings):
            break
        kept.append(word)
        if len(lower) > 3 and _plural_looking(lower):
            break
    return " ".join(kept)


def _asks_for_several(question: str) -> bool:
    """'Which countries ...': a plural noun right after which/what asks for a list."""
    match = _LIST_HINT.search(question)
    if not match:
        return False
    words = _AUXILIARY.sub("", match.group(1)).lower().split()  # "kind of missiles" asks for one kind
    objects = [i for i, w in enumerate(words) if i and w in _Q.determiners]
    if objects:
        words = words[: max(0, objects[0] - 1)]  # "parameter logs every": the word before an object is a verb
    return any(
        w not in _Q.not_plural and len(w) > 3 and _plural_looking(w) for w in words
    )


def _plural_looking(word: str) -> bool:
    return word.endswith(_Q.plural_endings) and not word.endswith(_Q.not_plural_endings)


# ------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Span:
    passage: Passage
    sentence: Sentence
    start: int  # article offsets
    end: int
    text: str
    score: float


def _candidates(
    kind: str, text: str, wants_list: bool = False, unit: str | None = None
) -> list[tuple[int, int]]:
    if wants_list:
        listed = enumerations(text)
        if listed:
            return listed
    if kind == DATE:
        pattern = DATE_RE
    elif kind in (QUANTITY, VALUE):
        pattern = QUANTITY_RE
    elif kind == NAME:
        pattern = NAME_RE
    else:
        return []
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if kind == QUANTITY:
        spans += [(m.start(), m.end()) for m in RANGE_RE.finditer(text)]
    if kind in (NAME, QUANTITY, VALUE):
        # "August" is a date, not a name; the 5 of "September 5" counts nothing
        dates = [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
        if kind == NAME:
            spans = [(s, e) for s, e in spans if not _CALENDAR_WORD.fullmatch(text[s:e])]
            # "Ukrainian track", "Chinese troops": a demonym before a noun describes, it names no one
            spans = [(s, e) for s, e in spans if not _DEMONYM_BEFORE_NOUN.match(text[s:e] + text[e : e + 30])]
        else:
            spans = [(s, e) for s, e in spans if not any(ds <= s < de for ds, de in dates)]
            spans = [(s, e) for s, e in spans if not _designation(text, s)]
    if kind == NAME:
        spans = [drop_leading_function_words(text, s, e) for s, e in spans]
        # "Interestingly, ..." / "However, ...": capitalised only because it opens the sentence
        spans = [(s, e) for s, e in spans if not (s == 0 and " " not in text[s:e] and text[e : e + 1] == ",")]
        spans = [(s, e) for s, e in spans if s < e]
        # "US$51 billion": letters glued to a currency sign are part of an amount
        spans = [(s, e) for s, e in spans if not (e < len(text) and unicodedata.category(text[e]) == "Sc")]
        spans = [(s, e) for s, e in spans if not _slashed(text, s, e)]
    if kind in (QUANTITY, VALUE):
        spans = [_with_unit(text, s, e) for s, e in spans]
    if kind == QUANTITY and unit in _UNIT_ENDS:
        spans += [(m.start(), len(text[: m.end()].rstrip())) for m in _UNIT_ENDS[unit].finditer(text)]
    return spans


_SLASHED = re.compile(r"\w/\w")


def _slashed(text: str, start: int, end: int) -> bool:
    """Whether the span is one side of a slashed token ("TCP/IP", "I/O"): it names nothing alone."""
    return bool(_SLASHED.fullmatch(text[max(0, start - 2) : start + 1]) or _SLASHED.fullmatch(text[end - 1 : end + 2]))
_POSSESSIVE = re.compile(r"\S+['’]s\b")
_DEMONYM_BEFORE_NOUN = re.compile(rf"[A-Z][a-z]+{words_group(_A.demonym_endings)}\s+[a-z]")
_DESIGNATION = re.compile(r"(?<![.?!:;]\s)\b[A-Z][\w-]*\s$")


def _designation(text: str, start: int) -> bool:
    """'Type 12', 'Global Thunder 23': a number right after a capitalised word names a model, not a count."""
    before = text[max(0, start - 30) : start]
    match = _DESIGNATION.search(before)
    return (
        bool(match)
        and match.start() + max(0, start - 30) > 0
        and not _CALENDAR_WORD.fullmatch(match.group(0).strip())
    )


def drop_leading_function_words(text: str, start: int, end: int) -> tuple[int, int]:
    """'The Institute ...' -> 'Institute ...', 'Through Belarus' -> 'Belarus' (capitalised only by position)."""
    stop = stop_words()
    while start < end:
        m = re.match(r"(\S+)(\s+|$)", text[start:end])
        if not m or m.group(1).lower() not in stop:
            break
        start += m.end()
    return start, end


_UNIT_WORD = re.compile(r"\s+([A-Za-z][\w-]*)")


def _with_unit(text: str, start: int, end: int, max_words: int = 2) -> tuple[int, int]:
    """Extend a number over the words that say what it counts ("30,000 troops")."""
    stop = stop_words()
    for _ in range(max_words):
        m = _UNIT_WORD.match(text, end)
        if not m or m.group(1).lower() in stop:
            break
        end = m.end()
    return start, end


def _near(text: str, start: int, end: int, wanted: set[str], window: int = 60) -> float:
    """Share of `wanted` terms within `window` characters around the span."""
    if not wanted:
        return 0.0
    around = text[max(0, start - window) : end + window]
    return len(wanted & set(terms(around))) / len(wanted)


# "in Brest", "to neighboring Lithuania", "in the Kaliningrad region"
_PLACE_PREPOSITION = re.compile(rf"\b{words_group(_A.place_prepositions)}\s+(?:[a-z][\w-]*\s+){{0,2}}$", re.I)


def _adjacency(text: str, start: int, end: int, wanted: set[str]) -> float:
    """1 when a question word touches the span, falling off with the distance in words."""
    before = re.findall(r"\w[\w'’-]*", text[:start])
    after = re.findall(r"\w[\w'’-]*", text[end:])
    distances = [i for i, w in enumerate(reversed(before)) if set(terms(w)) & wanted]
    distances += [i for i, w in enumerate(after) if set(terms(w)) & wanted]
    return 1 / (1 + min(distances)) if distances else 0.0


_APPOSITION = re.compile(rf"(?:\s*,\s*{words_group(_A.apposition_articles)}\b)?((?:\s+[\w'’-]+){{1,5}})")
_TITLE_BEFORE = re.compile(r"((?:[a-z][\w'’-]*\s+){1,3})$")  # lower-case: "analyst", not "Air Base in"
_COORDINATOR = re.compile(rf"\b{words_group(_A.coordinators)}\b", re.I)


def _beside(text: str, start: int, end: int) -> str:
    """Words naming what the span is: 'analyst Artyom Shraibman', 'Song Zhongping, a military expert'.

    Neither side crosses a coordinator, and the right side crosses a comma
    only into an apposition (", a ...").
    """
    before = _TITLE_BEFORE.search(text[:start])
    after = _APPOSITION.match(text, end)
    left = before.group(1) if before else ""
    right = after.group(1) if after else ""
    left = _COORDINATOR.split(left)[-1]
    right = _COORDINATOR.split(re.split(r"[,;:.]", right)[0])[0]
    return f"{left} {right}"


def _merge_lists(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join candidates separated only by commas/and/or into one list span."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and _LIST_GAP.fullmatch(text[merged[-1][1] : s]):
            gap = text[merged[-1][1] : s]
            if "," in gap or any(f" {joiner} " in gap for joiner in _A.list_joiners):
                merged[-1] = (merged[-1][0], e)
                continue
        merged.append((s, e))
    return merged


def measures(text: str, unit: str) -> bool:
    """Whether the text holds a quantity measured in `unit` ("four megabytes" for a size)."""
    return any(_has_unit(unit, text[s:e]) for s, e in _candidates(QUANTITY, text, unit=unit))


def _has_unit(unit: str, span: str) -> bool:
    """The span is measured in `unit`, or in a unit that also answers it ("how long": a length), or
    gives it by its end point ("until ...")."""
    if any(_UNITS[kind].search(span) for kind in (unit, *_ALSO_UNITS[unit])):
        return True
    ends = _UNIT_ENDS.get(unit)
    return bool(ends and ends.match(span))


def _shape(qtype: QuestionType, span: str) -> float:
    """1 when the span has the precision or unit the question asks for, -1 when it clearly lacks it."""
    if qtype.grain == "day":
        return 1.0 if _HAS_DAY.search(span) else -1.0
    if qtype.grain == "year":
        return 1.0 if _HAS_YEAR.search(span) else 0.0
    if qtype.wants_list:
        return 1.0 if _LISTED.search(span) else 0.0
    return 0.0


DEFINED = 0.5  # what a defined term gains over its sentence's relevance: as a name beside the focus noun
# and touching a question word (0.3 + 0.2), for the sentence is about it


def _defined_term(passage: Passage, sentence: Sentence, term: tuple[int, int, str] | None, q_terms: set[str],
                  relevance_weight: float) -> list[Span]:  # fmt: skip
    """The term a sentence's definition is of, as a name answering the question, unless the question
    names it. A long description is cut into several chunks: the term may lie before the passage."""
    if term is None or passage.hit.chunk.start - term[0] > TERM_REACH:
        return []
    text = term[2]
    if names_all(terms(term_name(text)), q_terms):
        return []
    return [Span(passage, sentence, term[0], term[1], text, relevance_weight * sentence.relevance + DEFINED)]


_BRACKETED_TAIL = re.compile(r"\s*[(\[].*$", re.S)


def term_name(defined: str) -> str:
    """A defined term without its type or synopsis: "statement_timeout (integer)" names statement_timeout."""
    return _BRACKETED_TAIL.sub("", defined) or defined


def names_all(name_terms, question_terms) -> bool:
    """Whether every term of a defined name is in the question (after the words of "shared_buffers"
    are split, "shared buffers" names it too). An identifier is matched whole: "checkpoints" is a
    variant of "checkpoint", not of "checkpoint_timeout"."""
    return all(t in question_terms if "_" in t else same_word(t, question_terms) for t in name_terms)


TERM_REACH = 1500  # characters: a defined term at most this far before its passage is cited with it
MISFIT = 1.0  # what a span far from the measure asked for, or without the unit asked for, loses


def answer_sentences(qtype: QuestionType, passages: list[Passage], max_sentences: int) -> list[tuple[Passage, Sentence]]:
    """The `max_sentences` most relevant sentences, and, for a question asking for a default, the
    passages' other sentences stating one: a short "The default is btree." reads little like the
    question, and is its answer; likewise, for a question asking for several, the sentences that
    enumerate choices ("mode can be smart, fast, or immediate"), for one asking for a measure
    ("how much memory"), those holding one in its unit, and for one asking what an
    abbreviation is, those spelling it out."""
    ranked = ranked_sentences(passages)
    top = ranked[:max_sentences]
    if qtype.default:
        top += [(p, s) for p, s in ranked[max_sentences:] if states_default(s.text)]
    elif qtype.wants_list:
        top += [(p, s) for p, s in ranked[max_sentences:] if enumerations(s.text)]
    elif qtype.kind == QUANTITY and qtype.unit:
        top += [(p, s) for p, s in ranked[max_sentences:] if measures(s.text, qtype.unit)]
    if qtype.abbreviation:
        top += [(p, s) for p, s in ranked[max_sentences:] if expansions(s.text, qtype.abbreviation)]
    return top


def rank_spans(
    question: str,
    passages: list[Passage],
    draft: str = "",
    max_sentences: int = 5,
    draft_weight: float = 0.1,
    relevance_weight: float = 3.0,
    marked: Callable[[Passage, Sentence], list[tuple[int, int]]] | None = None,
    defining: Callable[[Passage, Sentence], tuple[int, int, str] | None] | None = None,
) -> list[Span]:
    """Every typed span in the most relevant sentences, best first.

    The sentence's relevance dominates the score (`relevance_weight`); nearness
    to the question's words, the focus noun and agreement with the model's
    draft (`draft_weight`) break ties within and between close sentences.
    For a question asking for a name, `marked(passage, sentence)` adds the
    spans (offsets in the sentence) that the source marks as code: a manual's
    names of settings and values are lower case more often than not; and, for
    one asking for a kind of name a manual defines ("which setting"),
    `defining(passage, sentence)` gives the term whose definition the sentence
    belongs to (article offsets and its text): the name the sentence is about.
    "What level is the root logger created with?" is answered by what the entry
    says, not by the method it is documented under.
    """
    qtype = question_type(question)
    q_terms = set(terms(question))
    draft_terms = set(terms(draft))
    focus = set(qtype.focus)
    # the noun a quantity counts ("tanks"), not the measure it is asked by ("size", "number")
    counted = focus - _stems(_Q.quantity_nouns) if qtype.kind == QUANTITY else set()
    head = set(qtype.focus[-1:])
    no_possessor = qtype.kind == NAME and not _POSSESSIVE.search(question.split(None, 1)[-1])  # unless it has one: "which country's troops"
    ranked: list[Span] = []
    for passage, sentence in answer_sentences(qtype, passages, max_sentences):
        text = sentence.text
        if qtype.kind == NAME and qtype.term and defining is not None:
            ranked += _defined_term(passage, sentence, defining(passage, sentence), q_terms, relevance_weight)
        spans = _candidates(qtype.kind, text, qtype.wants_list, qtype.unit)
        if qtype.kind in (NAME, VALUE) and marked is not None:
            spans = sorted(set(spans) | set(marked(passage, sentence)))
        if qtype.wants_list:
            spans = _merge_lists(text, spans)
        for s, e in spans:
            span_terms = set(terms(text[s:e]))
            novel = {t for t in span_terms if not same_word(t, q_terms)}
            if not novel:
                continue  # a span the question already names cannot be its answer
            if no_possessor and _POSSESSIVE.fullmatch(text[s:e].strip()):
                continue  # "the Kremlin's buildup": a possessor describes the noun after it, it names no answer
            measured = qtype.unit is not None and _has_unit(qtype.unit, text[s:e])  # "how much memory": 4MB
            if counted and not measured and not counted & span_terms and _near(text, s, e, counted, 40) == 0:
                continue  # "how many tanks": a number far from "tanks" answers something else
            # Unlikely, not impossible (the selector weighs the score): "how much did it cost" and
            # 500 missiles; "how long" and 27,534 nucleotides; "what is the size" and a number far from "size".
            far = bool(focus - counted) and not focus & span_terms and _near(text, s, e, focus, 40) == 0
            unitless = qtype.unit is not None and not measured
            named = span_terms - novel - focus
            score = (
                relevance_weight * sentence.relevance
                + 0.3 * _near(text, s, e, q_terms)
                + 0.2 * _adjacency(text, s, e, q_terms)
                - 0.3 * (len(named) / len(span_terms))  # half-named in the question
                # the focus noun inside or beside the span: "two battalions" for "how many battalions",
                # "Baranovichi Air Base" for "which air base", "Song Zhongping, a ... military expert"
                + 0.3 * any(same_word(h, span_terms) for h in head)  # Organisation ~ Organization
                + 0.3 * bool(qtype.kind == NAME and head & set(terms(_beside(text, s, e))))
                + 0.25 * bool(qtype.place and _PLACE_PREPOSITION.search(text[max(0, s - 30) : s]))
                + 0.3 * _shape(qtype, text[s:e])
                + draft_weight * (len(novel & draft_terms) / len(novel))
                - MISFIT * (bool(far) + unitless)
            )
            ranked.append(
                Span(passage, sentence, sentence.start + s, sentence.start + e, text[s:e].strip(" ,;:"), score)
            )
    return sorted(ranked, key=lambda span: -span.score)
