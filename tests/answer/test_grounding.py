"""The grounding check: an answer's context must mention what the question names (no models)."""

from rag.answer.grounding import (
    context_of,
    missing_names,
    question_identifiers,
    question_names,
    question_possessors,
    question_qualified_names,
)

ARTICLE = (
    "The Chinese People's Liberation Army began an exercise in Brest on July 8. "
    "Units came by air. "
    "Li is no stranger to Moscow. "
    "Defense Minister Li Shangfu visited in August. "
    "Belarus joined the Shanghai Cooperation Organization in July. "
    "On June 6, a contingent of Chinese troops arrived in Belarus."
)


def _context(sentence: str):
    start = ARTICLE.index(sentence)
    return context_of(ARTICLE, (start, start + len(sentence)), (start, start + len(sentence)))


def test_question_names_skip_the_opening_word_and_split_hyphenated_names() -> None:
    names = [n.text for n in question_names("Besides China, which China-Russia-led group did Belarus join?")]
    assert names == ["China", "China Russia", "Belarus"]
    assert [n.text for n in question_names("NATO said what?")] == ["NATO"]


def test_a_name_missing_from_the_context_is_reported() -> None:
    june = "On June 6, a contingent of Chinese troops arrived in Belarus."
    assert missing_names("When did Belarus join NATO?", _context(june)) == ["NATO"]
    assert missing_names("When did troops from China arrive in Belarus?", _context(june)) == []  # China ~ Chinese


def test_a_lower_case_possessor_narrows_the_question_as_a_name_does() -> None:
    assert question_possessors("Who won the men's singles, or the players' vote?") == ["men", "player"]
    assert question_possessors("What is Japan's budget, and what's it for?") == ["what"]  # Japan is a name
    june = "On June 6, a contingent of Chinese troops arrived in Belarus."
    assert missing_names("When did the troops' contingent arrive in Belarus?", _context(june)) == []
    assert missing_names("When did the navy's contingent arrive in Belarus?", _context(june)) == ["navy"]
    assert missing_names("What's the date the troops arrived?", _context(june)) == []  # a function word


def test_acronyms_match_their_expansion() -> None:
    first = "The Chinese People's Liberation Army began an exercise in Brest on July 8."
    assert missing_names("When did the PLA exercise in Brest begin?", _context(first)) == []
    assert missing_names("When did the GDP of Brest grow?", _context(first)) == ["GDP"]


def test_a_multi_word_name_needs_one_part_nearby_and_all_parts_in_the_article() -> None:
    li = "Li is no stranger to Moscow."
    assert missing_names("Where has Li Shangfu been?", _context(li)) == []
    assert missing_names("Where has Li Peng been?", _context(li)) == ["Li Peng"]


def test_a_multi_word_name_must_appear_as_a_phrase() -> None:
    text = "Drills were held in north-central China. South Korea scrambled jets. Ned Price said nothing."
    context = context_of(text, (0, len(text)), (text.index("Ned"), len(text)))
    assert missing_names("What did Ned Price say about North Korea?", context) == ["North Korea"]
    assert missing_names("What did Ned Price say about South Korea?", context) == []


def test_a_possessive_ends_a_name() -> None:
    names = [n.text for n in question_names("When did Russia's Pacific Fleet sail?")]
    assert names == ["Russia", "Pacific Fleet"]


def test_the_pronoun_i_is_no_name_and_the_collections_subject_narrows_nothing() -> None:
    june = "On June 6, a contingent of Chinese troops arrived in Belarus."
    assert question_names("How can I tell when the troops came?") == []
    assert missing_names("When did NATO troops arrive in Belarus?", _context(june), frozenset({"nato"})) == []
    assert missing_names("When did NATO troops arrive in Belarus?", _context(june)) == ["NATO"]
    common = frozenset({"unit", "state"})  # each word common, the name specific
    assert missing_names("When did United States troops arrive in Belarus?", _context(june), common) == [
        "United States"
    ]


def test_a_technical_identifier_counts_only_written_out_near_the_answer() -> None:
    text = (
        "work_mem (integer) Sets the base maximum amount of memory to be used by a query operation. "
        "The default value is four megabytes (4MB). See pg_hba.conf and the --schema-only option."
    )
    support = (text.index("The default"), text.index("(4MB).") + 6)
    context = context_of(text, support, support)
    assert missing_names("What is the default of work_mem?", context) == []
    assert missing_names("Which pg_hba.conf method and --schema-only flag?", context) == []
    assert missing_names("What is the default of maintenance_work_mem?", context) == ["maintenance_work_mem"]
    assert missing_names("What does the --filter option do?", context) == ["--filter"]
    assert missing_names("What does \\bind do?", context) == ["\\bind"]
    assert question_identifiers("Who is the U.S. president, e.g. in 2019-nCoV times?") == []


def test_a_qualified_name_with_a_capital_counts_written_anywhere_in_the_article() -> None:
    """A page documents a class's members apart from the class: "Path.read_text()" far below
    "class pathlib.Path"; a member the page never writes (a later version's) is missing."""
    filler = " ".join(f"Paths of flavour {n} behave alike." for n in range(6))
    text = f"class pathlib.Path(*pathsegments) A concrete path. {filler} Path.read_text() Return the contents."
    support = (text.index("Return"), len(text))
    context = context_of(text, support, support)
    assert missing_names("Which pathlib.Path method reads a whole file?", context) == []
    assert missing_names("What does Path.walk() yield for each directory?", context) == ["Path.walk"]
    assert question_qualified_names("Who is the U.S. president, e.g. in v4.19.0?") == []


def test_an_identifier_matches_where_a_pdf_wrote_its_underscores_as_spaces() -> None:
    text = "[Function]int asn1_write_value (asn1 node node_root, const char * name) Writes the value."
    support = (text.index("Writes"), len(text))
    context = context_of(text, support, support)
    assert missing_names("What does asn1_write_value do to an asn1_node?", context) == []
    assert missing_names("What does asn1_read_value do?", context) == ["asn1_read_value"]
    assert missing_names("What is an asn1_nodes list?", context) == ["asn1_nodes"]


def test_the_articles_title_is_near_every_sentence_of_it() -> None:
    text = "BUFFERS Include information on buffer usage, such as the number of shared blocks hit and read."
    support = (0, len(text))
    assert missing_names("Which EXPLAIN option shows shared blocks?", context_of(text, support, support)) == ["EXPLAIN"]
    assert missing_names("Which EXPLAIN option shows shared blocks?", context_of(text, support, support, "EXPLAIN")) == []
