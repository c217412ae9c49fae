"""Question typing and typed span candidates (no models involved)."""

import pytest

from rag.extraction import DATE, NAME, OTHER, QUANTITY, _candidates, question_type


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When did Chinese troops arrive in Belarus?", DATE),
        ("On what date were the drills due to conclude?", DATE),
        ("How many troops did Russia send?", QUANTITY),
        ("What is Japan's military budget for 2023?", QUANTITY),
        ("How far is the border from Kyiv?", QUANTITY),
        ("Who commands the special forces?", NAME),
        ("At which air base did the airlifter land?", NAME),
        ("What did Putin disclose in October 2019?", OTHER),
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert question_type(question).kind == kind


def test_focus_and_lists() -> None:
    assert question_type("How many tanks did China send to Belarus?").focus == ("tank",)
    assert question_type("Which countries sent officials?").wants_list
    assert not question_type("What is the population of Belarus?").wants_list
    assert question_type("How many Chinese and Russian aircraft violated the zone?").wants_list


def _texts(kind: str, text: str, wants_list: bool = False) -> list[str]:
    return [text[s:e] for s, e in _candidates(kind, text, wants_list)]


def test_date_candidates() -> None:
    text = "On June 6, troops arrived; drills ran April 16-19 and ended on 20 February 2022."
    assert _texts(DATE, text) == ["June 6", "April 16-19", "20 February 2022"]


def test_quantity_candidates_carry_their_unit_and_skip_codes() -> None:
    text = "Russia sent up to 30,000 troops, two battalions of S-400 systems and US$51 billion."
    found = _texts(QUANTITY, text)
    assert "30,000 troops" in found and "two battalions" in found and "US$51 billion" in found
    assert not any(t.startswith("400") for t in found)  # the 400 of S-400 is a name, not a count


def test_name_candidates_drop_sentence_initial_function_words() -> None:
    found = _texts(NAME, "The Institute for the Study of War published it. In Brest, near NATO.")
    assert "Institute for the Study of War" in found and "Brest" in found


def test_enumerations_answer_list_questions() -> None:
    text = "China studies tactics such as hybrid warfare, drone operations, and urban assault methods, insights which matter."
    assert _texts(NAME, text, wants_list=True) == ["hybrid warfare, drone operations, and urban assault methods"]
