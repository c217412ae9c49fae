"""Constrained generation with the real packaged GGUF: what `forbid` rules out never appears."""

from __future__ import annotations

import pytest

from rag.answer.generation.base import GenerationSettings, forbid_grammar
from rag.answer.generation.llama import Generator

# A prompt that draws out exactly what the answer path forbids: several lines and bracketed numbers.
LISTING = (
    "List three facts about Belarus, one per line, each ending with a citation like [1], [2] or [3]."
)


@pytest.fixture(scope="module")
def generator() -> Generator:
    return Generator("smollm2", n_ctx=512, n_threads=2)


def reply(generator: Generator, settings: GenerationSettings) -> str:
    return "".join(generator.stream_chat("You answer in lists.", LISTING, settings))


def test_forbidden_characters_never_appear(generator) -> None:
    free = reply(generator, GenerationSettings(max_tokens=60, stop=()))
    assert any(c in free for c in "\n[]"), free  # the model does write them when allowed
    masked = reply(generator, GenerationSettings(max_tokens=60, stop=(), forbid="\n[]"))
    assert masked.strip() and not any(c in masked for c in "\n[]"), masked


def test_the_mask_only_rules_out_what_it_names(generator) -> None:
    """Forbidding a character the reply would not use leaves greedy decoding unchanged."""
    plain = reply(generator, GenerationSettings(max_tokens=30, stop=()))
    masked = reply(generator, GenerationSettings(max_tokens=30, stop=(), forbid="\x07"))
    assert masked == plain


def test_the_server_grammar_says_the_same(generator) -> None:
    """`forbid_grammar` is what remote servers get; through llama.cpp's grammar it rules out the same."""
    grammar = forbid_grammar("\n[]")
    assert grammar == r"root ::= [^\n\[\]]+"
    constrained = reply(generator, GenerationSettings(max_tokens=60, stop=(), grammar=grammar))
    masked = reply(generator, GenerationSettings(max_tokens=60, stop=(), forbid="\n[]"))
    assert constrained == masked


# ---------------------------------------------------------------- scoring continuations

PASSAGE = "Passage: On June 6, a contingent of Chinese troops arrived in Brest, Belarus.\nQuestion: When did they arrive?"


def test_continuation_logprobs_rank_the_stated_answer_first_and_repeat_exactly(generator) -> None:
    prompt = generator.format_chat("Answer from the passage.", PASSAGE)
    texts = ["On June 6", "In a contingent of volcanoes"]
    first = generator.continuation_logprobs(prompt, texts)
    assert [len(lp) for lp in first] == [len(generator._llm.tokenize(t.encode(), add_bos=False)) for t in texts]
    assert all(v <= 0 for lp in first for v in lp)
    assert sum(first[0]) / len(first[0]) > sum(first[1]) / len(first[1])
    assert generator.continuation_logprobs(prompt, texts) == first  # the cached prompt gives the same numbers


def test_generation_after_scoring_equals_generation_from_a_fresh_context(generator) -> None:
    prompt = generator.format_chat("Answer from the passage.", PASSAGE)
    settings = GenerationSettings(max_tokens=12)
    fresh = "".join(Generator("smollm2", n_ctx=512, n_threads=2).stream(prompt, settings))
    generator.continuation_logprobs(prompt, ["Brest", "a contingent of Chinese troops"])
    assert "".join(generator.stream(prompt, settings)) == fresh
    other = generator.format_chat("Answer from the passage.", "Passage: Paris is in France.\nQuestion: Where is Paris?")
    generator.continuation_logprobs(other, ["France"])  # a different prompt in between
    assert "".join(generator.stream(prompt, settings)) == fresh


def test_continuation_lengths_count_what_scoring_scores_without_evaluating(generator) -> None:
    prompt = generator.format_chat("Answer from the passage.", PASSAGE)
    texts = ["On June 6", "", "a contingent of Chinese troops", "word " * 600]
    lengths = generator.continuation_lengths(prompt, texts)
    assert lengths == [len(lp) for lp in generator.continuation_logprobs(prompt, texts)]
    assert lengths[1] == 0 and lengths[3] == 0  # nothing to score; would overflow the 512-token context
