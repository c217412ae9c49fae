"""Follow-up questions: detection, verification, the deterministic paths, and rewriting with the real model."""

from __future__ import annotations

import pytest

from rag.answer.prompting import load_template
from rag.core.settings import PROJECT_ROOT
from rag.serve.chat import turns_from_history
from rag.serve.conversation import (
    Rewrite,
    Rewriter,
    Turn,
    choice_grammar,
    fallback,
    is_follow_up,
    referents,
    verified,
)

EXERCISE = Turn(
    "When did the joint exercise between Chinese PLA ground units and Belarusian forces begin?", "July 8 [1]"
)
AIRCRAFT = Turn("Which aircraft ferried the Chinese equipment to Belarus?", "Y-20 [1]")
TROOPS = Turn("When did Chinese troops arrive in Belarus?", "June 6 [1]")


class _Refusing:
    """A stand-in model that must never be consulted (deterministic paths)."""

    def format_chat(self, system: str, user: str) -> str:
        raise AssertionError("the model was consulted")

    def stream(self, prompt, settings):
        raise AssertionError("the model was consulted")


class _Saying:
    """A stand-in model that says one fixed thing, whatever the grammar allows."""

    def __init__(self, text: str):
        self.text = text

    def format_chat(self, system: str, user: str) -> str:
        return f"{system}\n{user}"

    def stream(self, prompt, settings):
        yield self.text


def _template():
    return load_template(PROJECT_ROOT / "prompts", "rewrite")


@pytest.mark.parametrize(
    "question",
    [
        "and when did it end?",
        "What about tanks?",
        "where did they land?",
        "So how long did it last?",
        "and in Poland?",
    ],
)
def test_follow_ups_are_detected(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "When did Chinese troops arrive in Belarus?",
        "What is the capital of Peru?",
        "When did Li Shangfu arrive in Belarus for his official visit?",  # a pronoun, but self-contained
        "How many troops are there in Belarus?",  # existential "there"
    ],
)
def test_standalone_questions_are_left_alone(question: str) -> None:
    assert not is_follow_up(question)
    assert Rewriter(_Refusing(), _template()).rewrite(question, TROOPS) == Rewrite(
        question, question, "standalone"
    )


def test_first_question_is_never_rewritten() -> None:
    rewrite = Rewriter(_Refusing(), _template()).rewrite("and when did it end?", None)
    assert not rewrite.rewritten and rewrite.standalone == "and when did it end?"


@pytest.mark.parametrize(
    ("previous", "follow_up", "expected"),
    [
        (
            Turn("How many troops did Russia send to Belarus?"),
            "what about tanks?",
            "How many tanks did Russia send to Belarus?",
        ),
        (TROOPS, "what about Russian troops?", "When did Russian troops arrive in Belarus?"),
        (TROOPS, "and in Poland?", "When did Chinese troops arrive in Poland?"),
    ],
)
def test_rules_settle_what_about_questions_without_the_model(previous, follow_up, expected) -> None:
    rewrite = Rewriter(_Refusing(), _template()).rewrite(follow_up, previous)
    assert rewrite == Rewrite(follow_up, expected, "rule")


def test_verification_needs_the_follow_up_words_and_some_context() -> None:
    assert verified("When did the joint exercise end?", "When did it end", EXERCISE)
    assert not verified("When did it end?", "When did it end", EXERCISE)  # nothing resolved
    assert not verified("When did the joint exercise begin?", "When did it end", EXERCISE)  # dropped "end"
    assert not verified("", "When did it end", EXERCISE)
    assert not verified("When " + "very " * 50 + "exercise end?", "When did it end", EXERCISE)  # too long


def test_unverifiable_model_output_falls_back_to_a_deterministic_rewrite() -> None:
    for said in ("", "The joint exercise began on July 8.", "When did the joint exercise begin?"):
        rewrite = Rewriter(_Saying(said), _template()).rewrite("and when did it end?", EXERCISE)
        assert rewrite.method == "fallback", said
        assert rewrite.standalone == fallback("and when did it end?", EXERCISE)
    assert fallback("and when did it end?", EXERCISE) == (
        "When did it end (joint exercise Chinese PLA ground units Belarusian forces begin)?"
    )


def test_fallback_names_the_person_for_he_and_she() -> None:
    previous = Turn("Who is the Chinese Defense Minister?", "Li Shangfu [1]")
    assert fallback("when did he arrive?", previous).startswith("When did he arrive (Li Shangfu ")


def test_referents_are_noun_like_spans_without_the_follow_ups_words() -> None:
    found = referents(TROOPS, "where did they arrive?")
    assert "Chinese troops" in found and "Belarus" in found and "June 6" in found
    assert not any("arrive" in span for span in found)
    assert all(not span.lower().startswith(("when", "did", "in ")) for span in found)


def test_choice_grammar_allows_only_the_options() -> None:
    grammar = choice_grammar('When did "', ["the exercise", 'a "quoted" one'], " end?")
    assert grammar.startswith('root ::= "When did \\"" choice " end?"\n')
    assert 'choice ::= "the exercise" | "a \\"quoted\\" one"' in grammar


def test_turns_come_back_from_the_chat_history() -> None:
    history = [
        {"role": "user", "content": [{"type": "text", "text": "When did Chinese troops arrive in Belarus?"}]},
        {
            "role": "assistant",
            "content": '<div class="rag-turn rag-answered" data-rag-question="When did Chinese troops arrive '
            'in Belarus?" data-rag-answer="June 6 [1]">…</div>',
        },
        {"role": "user", "content": "and where did they land?"},
        {
            "role": "assistant",
            "content": "Where did Chinese troops land?",
            "metadata": {"title": "Rewritten question"},
        },
        {"role": "assistant", "content": '<div class="rag-turn rag-error">…</div>'},
        {"role": "user", "content": "plain &lt;question&gt;"},
        {"role": "assistant", "content": "plain answer"},
    ]
    assert turns_from_history(history) == [
        Turn("When did Chinese troops arrive in Belarus?", "June 6 [1]"),
        Turn("plain <question>", "plain answer"),
    ]
    assert turns_from_history(None) == []


# ---------------------------------------------------------------- with the real model


@pytest.fixture(scope="module")
def rewriter():
    from rag.answer.generation.llama import Generator

    return Rewriter(Generator("smollm2", n_ctx=1024, n_threads=1), _template())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("previous", "follow_up", "must_have"),
    [
        (EXERCISE, "and when did it end?", ("joint exercise", "end")),
        (AIRCRAFT, "where did it land?", ("Chinese equipment", "land")),
        (TROOPS, "where did they arrive?", ("Chinese troops", "arrive")),
        (
            Turn("Who is the Chinese Defense Minister?", "Li Shangfu [1]"),
            "when did he arrive in Belarus?",
            ("Li Shangfu",),
        ),
    ],
)
def test_the_model_resolves_pronouns(rewriter, previous, follow_up, must_have) -> None:
    rewrite = rewriter.rewrite(follow_up, previous)
    assert rewrite.method == "model", rewrite
    assert rewrite.standalone.endswith("?") and rewrite.standalone[0].isupper()
    for words in must_have:
        assert words in rewrite.standalone, rewrite
    assert verified(rewrite.standalone, follow_up, previous)


@pytest.mark.slow
def test_the_model_path_always_ends_in_a_usable_question(rewriter) -> None:
    """Whatever the model does with an open-ended follow-up, the result keeps both turns' words."""
    rewrite = rewriter.rewrite("and how about the year before?", TROOPS)
    assert rewrite.method in ("model", "fallback", "rule")
    assert verified(rewrite.standalone, "year before", TROOPS)
