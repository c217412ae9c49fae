"""Which of two things came first: the question's shape, dates read as written, their order."""

from __future__ import annotations

import pytest

from rag.answer.ordering import OrderQuestion, date_key, earlier, order_question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which came first, the Vostok drills or the Brest exercise?",
         OrderQuestion(("the Vostok drills", "the Brest exercise"), True)),
        ("Which happened earlier: the Polonez deal, or the Y-20 flights?",
         OrderQuestion(("the Polonez deal", "the Y-20 flights"), True)),
        ("Which was held last - the Vostok exercise or the Brest drills?",
         OrderQuestion(("the Vostok exercise", "the Brest drills"), False)),
        ("Which countries sent troops first to Belarus or Russia?", None),  # no pause before the alternatives
        ("Which came first?", None),
        ("Is rotavirus single or double-stranded?", None),
    ],
)  # fmt: skip
def test_a_question_asking_which_of_two_came_first(question: str, expected) -> None:
    assert order_question(question) == expected


def test_dates_are_read_as_written_with_the_articles_year_where_they_write_none() -> None:
    assert date_key("20 February 2022") == (2022, 2, 20)
    assert date_key("June 6", 2024) == (2024, 6, 6)
    assert date_key("June 6") == (0, 6, 6)
    assert date_key("April 16-19, 2023") == (2023, 4, 16)
    assert date_key("2014") == (2014, 0, 0)
    assert date_key("Thursday") is None and date_key("eleven days") is None


def test_dates_without_a_year_are_ordered_only_within_one_article() -> None:
    assert earlier((2021, 0, 0), (2022, 7, 9), same_document=False) is True
    assert earlier((0, 6, 6), (0, 7, 8), same_document=True) is True
    assert earlier((0, 6, 6), (0, 7, 8), same_document=False) is None  # years apart, for all we know
    assert earlier((0, 8, 30), (2024, 7, 8), same_document=True) is False
    assert earlier((2024, 7, 8), (2024, 7, 8), same_document=True) is None
