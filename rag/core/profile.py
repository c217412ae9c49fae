"""Language profiles: the words the rule-based stages look for, read from data files.

Boilerplate removal, sentence splitting, answer typing and extraction, and
follow-up rewriting are rules over English words ("Related stories",
"Jan.", "how many", "it"). The rules' shapes stay in code; the words live in
`rag/profiles/<name>.toml` (documented there), so supporting another
language means writing a profile, not editing regular expressions.

A profile is immutable data, parsed once per name (`load_profile`).
"""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.core.errors import ConfigError

PROFILES_DIR = Path(__file__).resolve().parents[1] / "profiles"
DEFAULT_PROFILE = "en"

Words = tuple[str, ...]


@dataclass(frozen=True)
class Calendar:
    months: tuple[Words, ...]  # January first: the full name, then abbreviations, longest first
    weekdays: Words
    ordinal_suffixes: Words

    @property
    def month_forms(self) -> Words:
        """Every month form, in the order a regex should try them."""
        return tuple(form for forms in self.months for form in forms)

    @property
    def month_abbreviations(self) -> frozenset[str]:
        return frozenset(form.lower() for forms in self.months for form in forms[1:])

    def month_number(self, form: str) -> int:
        """1-12 for a month form (any case); ValueError for anything else."""
        low = form.lower()
        for number, forms in enumerate(self.months, start=1):
            if low in (f.lower() for f in forms):
                return number
        raise ValueError(f"not a month: {form!r}")


@dataclass(frozen=True)
class BoilerplateWords:
    comment_prompts: Words
    comment_counts: Words
    comment_notices: Words
    page_anchors: Words
    counter_labels: Words
    counter_nouns: Words
    rating_labels: Words
    breadcrumb_roots: Words
    share_prompts: Words
    share_on_site: Words
    copyright_words: Words
    rights_reserved: Words
    related_adjectives: Words
    related_nouns: Words
    related_phrases: Words
    related_from: Words
    date_labels: Words
    date_label_particles: Words
    banner_weekdays: Words
    banner_weekday_ending: str
    day_month_joiners: Words
    time_prepositions: Words
    time_markers: Words
    source_labels: Words
    byline_labels: Words
    bare_byline_marks: Words
    byline_name_joiners: Words


@dataclass(frozen=True)
class SentenceWords:
    titles: frozenset[str]
    before_number: frozenset[str]
    starters: frozenset[str]
    abbreviations: frozenset[str]


@dataclass(frozen=True)
class EvidenceWords:
    extra_stop_words: frozenset[str]


@dataclass(frozen=True)
class QuestionWords:
    date_openers: Words
    date_phrases: Words
    day_phrases: Words
    year_phrases: Words
    quantity_phrases: Words
    quantity_openers: Words
    quantity_nouns: Words
    count_phrases: Words
    name_openers: Words
    name_phrases: Words
    list_words: Words
    list_links: Words
    which_words: Words
    other_words: Words
    group_ends: Words
    plural_endings: Words
    not_plural_endings: Words
    not_plural: frozenset[str]
    determiners: frozenset[str]
    past_endings: Words
    place_openers: Words
    person_openers: Words
    place_nouns: Words
    quantity_list_joiner: str
    term_kinds: Words = ()
    explain_openers: Words = ()
    describe_openers: Words = ()
    yes_no_openers: Words = ()
    choice_joiners: Words = ()
    order_openers: Words = ()
    order_first: Words = ()
    order_last: Words = ()
    order_asks: str = "{}"
    abbreviation_openers: Words = ()
    abbreviation_closers: Words = ()
    value_openers: Words = ()
    value_words: Words = ()
    default_words: Words = ()
    picking_openers: Words = ()
    describing_nouns: frozenset[str] = frozenset()
    mistyped_opener: str = ""  # what an auxiliary doubled at the opening stands for ("Was was ...")


@dataclass(frozen=True)
class Unit:
    """What one kind of quantity question ("how far") wants its answer measured in."""

    kind: str
    words: Words
    asked_by: Words
    also: Words = ()
    currency: bool = False
    lead: str = ""
    lead_with: Words = ()
    ends: Words = ()  # words giving it by an end point instead: "until the end of the transaction"


@dataclass(frozen=True)
class AnswerWords:
    date_range_words: Words
    month_qualifiers: Words
    number_words: Words
    scale_words: Words
    currency_symbols: Words
    currency_prefixes: Words
    number_range_words: Words
    name_joiners: Words
    demonym_endings: Words
    place_prepositions: Words
    apposition_articles: Words
    coordinators: Words
    list_markers: Words
    choice_markers: Words
    list_item_stops: Words
    list_joiners: Words
    units: tuple[Unit, ...]
    yes_no: Words = ("Yes", "No")  # the two verdicts of a yes/no answer, affirmative first
    default_markers: Words = ()  # the words of a sentence stating a default ("by default")
    default_names: Words = ()  # words stating a default beside a copula or set apart ("X is the default")
    copulas: frozenset[str] = frozenset()  # "X is Y": what follows a restated subject is the answer
    reference_words: Words = ()  # "(see Table 1)": a bracket opening with one points elsewhere


@dataclass(frozen=True)
class ConversationWords:
    wh_words: frozenset[str]
    auxiliaries: frozenset[str]
    quantifiers: frozenset[str]
    referring: frozenset[str]
    possessive: frozenset[str]
    personal: frozenset[str]
    possessive_ending: str
    existential: str
    demonstrative: str
    prepositions: frozenset[str]
    function_words: frozenset[str]
    articles: frozenset[str]
    definite_article: str
    openers: Words
    about_conjunctions: Words
    about_phrases: Words
    about_question: str
    focus_phrases: Words
    no_answer: str


@dataclass(frozen=True)
class EntityKind:
    """Words a question uses for a kind of entity ("dates"), and the entity labels it means."""

    words: Words
    labels: Words


@dataclass(frozen=True)
class CollectionWords:
    """Questions about the collection itself: nouns, and one list of templates per form."""

    document: Words
    documents: Words
    collection: Words
    determiners: Words
    overview: Words
    listing: Words
    count: Words
    mentions: Words
    count_mentions: Words
    entities: Words
    summary: Words
    kinds: tuple[EntityKind, ...]


@dataclass(frozen=True)
class Profile:
    """One language's vocabulary, table by table as in the profile file."""

    name: str
    calendar: Calendar
    boilerplate: BoilerplateWords
    sentences: SentenceWords
    evidence: EvidenceWords
    questions: QuestionWords
    answers: AnswerWords
    conversation: ConversationWords
    collection: CollectionWords


def load_profile(name: str = DEFAULT_PROFILE) -> Profile:
    """The profile `rag/profiles/<name>.toml`, parsed once."""
    return _load_profile(name)


@lru_cache(maxsize=8)
def _load_profile(name: str) -> Profile:
    if not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ConfigError(f"language profile name must be letters, digits, - and _, got {name!r}")
    path = PROFILES_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))
        raise ConfigError(f"no language profile {name!r} (known: {known}); add {path}")
    return read_profile(path)


def read_profile(path: Path) -> Profile:
    """Parse and check one profile file; any problem is a one-line ConfigError naming it."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"language profile {path}: {' '.join(str(error).split())}") from None
    return _build(Profile, {**data, "name": Path(path).stem}, f"language profile {path}:", "")


def words_pattern(phrases: Iterable[str], space: str = " ") -> str:
    """Regex alternatives matching the phrases literally, in order; `space` stands between words."""
    return "|".join(space.join(re.escape(word) for word in phrase.split(" ")) for phrase in phrases)


def words_group(phrases: Iterable[str], space: str = " ") -> str:
    """`words_pattern` as one non-capturing group, to embed in a larger pattern."""
    return f"(?:{words_pattern(phrases, space)})"


# --- Checking the file against the dataclasses. ---------------------------


def _build(cls: type, data: Any, where: str, key: str) -> Any:
    """An instance of dataclass `cls` from TOML table `data`; `key` names the table in messages."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} {key} must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where} unknown key {_join(key, unknown[0])}")
    values = {}
    for f in fields(cls):
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name], where, _join(key, f.name))
        elif f.default is MISSING:
            raise ConfigError(f"{where} {_join(key, f.name)} is missing")
    return cls(**values)


def _value(kind: Any, raw: Any, where: str, key: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if is_dataclass(kind):
        return _build(kind, raw, where, key)
    if kind in (str, bool):
        if type(raw) is not kind:
            raise ConfigError(f"{where} {key} must be a {'string' if kind is str else 'boolean'}")
        return raw
    if origin in (tuple, frozenset) and isinstance(raw, list):
        item = args[0]
        items = tuple(_value(item, x, where, f"{key}[{i}]") for i, x in enumerate(raw))
        if "" in items:  # an empty alternative would match everywhere
            raise ConfigError(f"{where} {key} holds an empty string")
        return frozenset(items) if origin is frozenset else items
    raise ConfigError(f"{where} {key} must be a list")


def _join(table: str, key: str) -> str:
    return f"{table}.{key}" if table else key
