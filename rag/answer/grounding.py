"""Is an answer's context about what the question names?

Retrieval always returns passages and the extractor finds a date in any
date-shaped sentence, so "When did Belarus join NATO?" would be answered with
the date Chinese troops arrived in Belarus. What gives such an answer away is
that its context never mentions NATO: a question's proper names (NATO,
Taiwan, Shanghai Cooperation Organisation) say what it is about, and an answer
whose surroundings lack one of them is answering a different question.

A name counts as present when, near the supporting sentence (the cited
passage plus two sentences either side), one of its words appears, allowing
demonyms (China ~ Chinese) and acronyms (PLA ~ People's Liberation Army), and
the whole name, its words in a row, appears somewhere in the same article
(Li Shangfu may be "Li" near the answer, but must be "Li Shangfu" somewhere;
"North Korea" is not found in "north-central China ... South Korea").

A lower-case possessor narrows what follows it as a name does: "the men's
singles" is not answered from a page about the women's singles.

A technical identifier (work_mem, postgresql.conf, --filter, \\bind) is a name
too, but one with a single spelling: it counts as present only written out,
near the supporting sentence. A manual that never mentions the setting a
question asks about does not answer it with another setting's default.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.evidence import terms
from rag.ingestion.sentences import split_sentences

CONTEXT_SENTENCES = 2  # either side of the supporting sentence

# Capitalised words in a row: "Shanghai Cooperation Organisation", "NATO", "Li Shangfu".
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’]*")
# Identifiers: snake_case, lower-case dotted names, option flags, backslash commands.
_IDENTIFIER = re.compile(
    r"(?<![\w\\.-])(?:\w*[A-Za-z]\w*_\w+(?:\.\w+)*|[a-z]\w*(?:\.[a-z]\w+)+|-{1,2}[A-Za-z][\w-]*|\\[A-Za-z]+)(?![\w\\])"
)

# Qualified names with a capital (pathlib.Path, Path.walk, argparse.ArgumentParser): a class and its members.
_QUALIFIED = re.compile(r"(?<![\w.\\-])(?=[\w.]*[A-Z])[A-Za-z]\w+(?:\.[A-Za-z]\w+)+")


# A lower-case possessor: "the men's singles", "the players' union" (not "Russia's": a name).
_POSSESSOR = re.compile(r"(?<![\w'’-])([a-z][a-z-]*)(?:['’]s|s['’])(?=[\s,;:?])")


@dataclass(frozen=True)
class Name:
    text: str  # as the question writes it
    parts: tuple[str, ...]  # its stemmed terms
    acronyms: frozenset[str] = frozenset()  # parts written in capitals: "pla" for PLA


def question_names(question: str) -> list[Name]:
    """The proper names a question mentions: runs of capitalised words, less a capitalised opener.

    A possessive ends a name: "Russia's Pacific Fleet" names Russia and the Pacific Fleet.
    """
    names = []
    for match in _NAME.finditer(question):
        words = match.group(0).split()
        if match.start() == len(question) - len(question.lstrip()) and not words[0].isupper():
            words = words[1:]  # capitalised by position ("Besides China, ..."), unless an acronym
        # "Chinese-led", "China-Russia-led": the capitalised pieces are the names
        words = [p for w in words for p in w.split("-") if p[:1].isupper() or p[:1].isdigit()]
        group: list[str] = []
        for word in words:
            possessive = re.search(r"['’]s?$", word)
            group.append(word[: possessive.start()] if possessive else word)
            if possessive:
                names += _name(group)
                group = []
        names += _name(group)
    return names


def _name(words: list[str]) -> list[Name]:
    parts = tuple(dict.fromkeys(t for w in words for t in terms(w)))
    acronyms = frozenset(w.lower() for w in words if w.isupper() and w.isalpha() and 2 <= len(w) <= 6)
    return [Name(" ".join(words), parts, acronyms)] if parts else []


def same_word(term: str, words: set[str]) -> bool:
    """`term` or a variant of it: China/Chinese, Russia/Russian, Organisation/Organization."""
    if term in words:
        return True
    for word in words:
        common = len(os.path.commonprefix([term, word]))
        if common >= 4 and common >= min(len(term), len(word)) - 1:
            return True
    return False


def _initials(text: str) -> str:
    return "".join(w[0] for w in _CAPITALISED.findall(text))


def _present(part: str, acronym: bool, words: set[str], initials: str) -> bool:
    return same_word(part, words) or (acronym and part.upper() in initials)


@dataclass(frozen=True)
class Context:
    """The text around a supporting sentence, as term sets."""

    near: set[str]
    near_initials: str
    article: set[str]
    article_initials: str
    article_sequence: tuple[str, ...] = ()  # the article's terms in order, for multi-word names
    near_text: str = ""  # the text `near` holds the terms of, for identifiers
    article_text: str = ""  # the whole article, for qualified names


def context_of(document_text: str, passage: tuple[int, int], support: tuple[int, int], title: str = "",
               defined: str = "") -> Context:  # fmt: skip
    """The cited passage plus CONTEXT_SENTENCES either side of the support, and the whole article.

    The article's title is part of it and near every sentence of it: a manual's
    page on EXPLAIN describes its BUFFERS option without writing "EXPLAIN" again.
    So is the term whose definition the support belongs to (`defined`): "The
    default is five minutes" is said of checkpoint_timeout.
    """
    spans, sequence, initials = _article(document_text)
    at = next((i for i, (s, e) in enumerate(spans) if s <= support[0] < e), None)
    pieces = [title, defined, document_text[passage[0] : passage[1]]]
    if at is not None:
        lo, hi = max(0, at - CONTEXT_SENTENCES), at + CONTEXT_SENTENCES + 1
        pieces += [document_text[s:e] for s, e in spans[lo:hi]]
    near = " ".join(pieces)
    sequence = (*terms(title), *sequence)
    return Context(
        set(terms(near)), _initials(near), set(sequence), _initials(title) + initials, sequence, near, document_text
    )


@lru_cache(maxsize=16)
def _article(document_text: str) -> tuple[list[tuple[int, int]], tuple[str, ...], str]:
    """Sentence spans, terms in order and capital initials of an article, computed once per article."""
    return split_sentences(document_text, 0, len(document_text)), tuple(terms(document_text)), _initials(document_text)


def _phrase_in(name: Name, context: Context) -> bool:
    """The whole name, its words in a row, somewhere in the article ("North Korea", not "north ... South Korea")."""
    if len(name.parts) == 1 or name.acronyms:  # an acronym stands for several words: match part by part
        return all(_present(p, p in name.acronyms, context.article, context.article_initials) for p in name.parts)
    n = len(name.parts)
    sequence = context.article_sequence
    for i in range(len(sequence) - n + 1):
        if all(same_word(part, {sequence[i + k]}) for k, part in enumerate(name.parts)):
            return True
    return False


def missing_names(question: str, context: Context, subject: frozenset[str] = frozenset()) -> list[str]:
    """The question's names, identifiers and lower-case possessors that the answer's context does
    not mention, and its qualified names that the answer's article does not write. A one-word
    name in `subject` (held by most documents: "PostgreSQL" in its manual) narrows nothing and is
    skipped; a longer one ("United States") is specific even when each of its words is common."""
    missing = []
    for name in question_names(question):
        if len(name.parts) == 1 and name.parts[0] in subject:
            continue
        nearby = any(_present(p, p in name.acronyms, context.near, context.near_initials) for p in name.parts)
        in_article = _phrase_in(name, context)
        if not (nearby and in_article):
            missing.append(name.text)
    for identifier in question_identifiers(question):
        if not set(terms(identifier)) <= subject and not _written(identifier, context.near_text):
            missing.append(identifier)
    for qualified in question_qualified_names(question):
        if not _written_in_article(qualified, context.article_text):
            missing.append(qualified)
    for possessor in question_possessors(question):
        if not set(terms(possessor)) <= subject | context.near:
            missing.append(possessor)
    return missing


def question_possessors(question: str) -> list[str]:
    """The lower-case possessors a question writes: "men" in "the men's singles"."""
    return [m.group(1) for m in _POSSESSOR.finditer(question)]


def question_identifiers(question: str) -> list[str]:
    """The technical identifiers a question writes: work_mem, pg_hba.conf, --schema-only, \\timing."""
    return [m.group(0) for m in _IDENTIFIER.finditer(question)]


def question_qualified_names(question: str) -> list[str]:
    """The qualified names with a capital a question writes: Path.walk, argparse.ArgumentParser.
    A page documents a class's members apart from the class ("Path.read_text" under "class
    pathlib.Path"), so such a name need only be written somewhere in the answer's article."""
    return [m.group(0) for m in _QUALIFIED.finditer(question)]


@lru_cache(maxsize=64)
def _written_in_article(identifier: str, article_text: str) -> bool:
    """`_written` for a whole article, searched once per name and article, not once per candidate sentence."""
    return _written(identifier, article_text)


def _written(identifier: str, text: str) -> bool:
    """Whether `text` writes the identifier; an underscore may be a space there, as a PDF's text
    layer writes it where the typesetter drew the underscore as a rule ("asn1 node" for asn1_node)."""
    pattern = re.escape(identifier).replace("_", r"[_\s]")
    return re.search(rf"(?<![\w-]){pattern}(?!\w)", text, re.I) is not None
