"""Grounding and citations: every claim must point at a passage that states it.

The small model's own [n] markers are not trusted: markers that point at no
passage are dropped, and the cited passage is whichever one actually holds
the answer's key terms (numbers and names must all appear; most of the
other words too). An answer no passage supports is reported as ungrounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .evidence import Passage, Sentence, terms

_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Support:
    passage: Passage
    sentence: Sentence
    share: float  # share of the answer's terms found in the sentence


@dataclass(frozen=True)
class Grounding:
    text: str  # the answer without markers
    claimed: tuple[int, ...]  # valid [n] markers the model wrote
    supports: tuple[Support, ...]  # best first

    @property
    def grounded(self) -> bool:
        return bool(self.supports)


def strip_markers(answer: str, n_passages: int) -> tuple[str, tuple[int, ...]]:
    """Remove [n] markers; keep the numbers of those that point at a passage."""
    claimed = tuple(
        dict.fromkeys(int(m.group(1)) for m in _MARKER.finditer(answer) if 1 <= int(m.group(1)) <= n_passages)
    )
    return _MARKER.sub("", answer).strip(), claimed


def _key_terms(answer: str) -> set[str]:
    """Terms that must appear verbatim: numbers and capitalised words."""
    key = []
    for word in re.findall(r"\w+(?:[.,]\d+)*", answer):
        if _NUMBER.search(word) or word[:1].isupper():
            key.extend(terms(word))
    return set(key)


def ground(answer: str, passages: list[Passage], min_share: float = 0.6) -> Grounding:
    """Find the sentences that support `answer`, preferring the ones the model cited."""
    text, claimed = strip_markers(answer, len(passages))
    answer_terms = set(terms(text))
    if not answer_terms:
        return Grounding(text, claimed, ())
    key = _key_terms(text)
    supports = []
    for passage in passages:
        for sentence in passage.sentences:
            sentence_terms = set(terms(sentence.text))
            if not key <= sentence_terms:
                continue
            share = len(answer_terms & sentence_terms) / len(answer_terms)
            if share >= min_share:
                supports.append(Support(passage, sentence, share))
    supports.sort(key=lambda s: (-s.share, s.passage.n not in claimed, -s.sentence.relevance, s.passage.n))
    return Grounding(text, claimed, tuple(supports))
