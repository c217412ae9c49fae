"""Page furniture of a paged document (rag/ingestion/pages.py), on the shapes real PDFs print."""

from __future__ import annotations

from rag.ingestion.pages import page_text

BODY = "A paragraph of the manual that says something worth keeping about the library."


def test_running_head_with_the_page_number_goes_and_a_numbered_heading_stays() -> None:
    pages = [
        ["Title Page", BODY],
        ["1", "1 Introduction", BODY],  # the number of the page, then chapter 1's heading
        ["Chapter 1: Introduction 2", BODY],
        ["Chapter 1: Introduction 3", BODY],
        ["4", "2 Function reference", BODY],
    ]
    text = page_text(["\n".join(p) for p in pages])
    assert "1 Introduction" in text and "2 Function reference" in text
    assert "Chapter 1" not in text
    assert "\n1\n" not in text and "\n4\n" not in text


def test_recurring_head_without_numbers_goes_except_on_the_first_page() -> None:
    pages = [["Shared Database Spec", BODY, "1"]] + [["Shared Database Spec", BODY, str(n)] for n in range(2, 6)]
    text = page_text(["\n".join(p) for p in pages])
    assert text.count("Shared Database Spec") == 1 and text.startswith("Shared Database Spec")
    assert text.count(BODY) == 5


def test_a_head_on_few_pages_is_content() -> None:
    """A line recurring on two pages of ten is not furniture: the pattern must hold on most pages."""
    pages = [[f"Section {n}", BODY] for n in range(10)]
    pages[3][0] = pages[7][0] = "Notes"
    text = page_text(["\n".join(p) for p in pages])
    assert text.count("Notes") == 2


def test_contents_and_index_leaders_go() -> None:
    pages = ["Contents\n1 Introduction . . . . . . . . 1\nPreface . . . . . iv\nasn1_create_element . . . . 9", BODY]
    text = page_text(pages)
    assert text == "Contents\n\n" + BODY


def test_hyphenated_word_and_broken_identifier_are_joined() -> None:
    text = page_text(["Distinguished Encoding Rules manip-\nulation and the function asn1_der_\ndecoding()."])
    assert "manipulation" in text and "asn1_der_decoding()" in text


def test_a_hyphen_before_a_capital_stays() -> None:
    assert page_text(["infection with SARS-\nCoV-2 was confirmed"]) == "infection with SARS-\nCoV-2 was confirmed"


def test_few_pages_keep_their_edges() -> None:
    pages = ["Report\n" + BODY + "\n1", "Report\n" + BODY + "\n2"]
    assert page_text(pages) == "\n\n".join(pages)


def test_a_sentence_running_on_to_the_next_page_is_joined_by_one_line_break() -> None:
    assert page_text(["It listens on port 5432 and", "accepts connections."]) == (
        "It listens on port 5432 and\naccepts connections."
    )
    assert page_text(["It listens on port 5432.", "Then it accepts."]) == "It listens on port 5432.\n\nThen it accepts."
