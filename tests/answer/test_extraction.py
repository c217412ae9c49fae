"""Question typing and typed span candidates (no models involved)."""

import pytest

from rag.answer.evidence import Passage, Sentence
from rag.answer.extraction import (
    DATE,
    NAME,
    OTHER,
    QUANTITY,
    VALUE,
    _candidates,
    _has_unit,
    alternatives,
    answer_sentences,
    as_asked,
    chosen_alternative,
    enumerations,
    expansions,
    question_type,
    rank_spans,
)
from rag.core.records import Chunk, Hit


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
        ("What is the default maxsize of lru_cache?", VALUE),
        ("What is statement_timeout set to by default?", VALUE),
        ("What does shared_buffers default to?", VALUE),
        ("What is the default value of work_mem?", VALUE),
        ("How many connections does the server accept by default?", QUANTITY),
        ("Which compression level does gzip use unless told otherwise?", VALUE),
        ("Where does the daemon write its log by default?", VALUE),
        ("Which variable sets the default printer?", NAME),
        ("What kind of lock does VACUUM FULL take?", NAME),
        ("What type of cells line the gut?", NAME),
        # "what" + a noun group + an auxiliary picks among several, as "which" does
        ("What test can detect reduced efficacy in the field?", NAME),
        ("What influenza virus was identified in China in 2013?", NAME),
        ("What causes the disease to spread?", OTHER),  # no auxiliary: a verb, not a noun
        ("What role does the protein play?", OTHER),  # a noun asking for a description
        ("What wal_level does a new server run with?", OTHER),  # a term's name: its value is asked for
        ("What rate was observed in the trial?", OTHER),  # a measure: not a name
        ("What age group had the most infections?", NAME),  # the group's head is no measure
        # the measure heads the noun group after "what is": a quantity; a measure further on is not asked for
        ("What is the mean time of onset of symptoms to ICU admission?", QUANTITY),
        ("What is the maximum nesting depth the decoder allows?", QUANTITY),
        ("What is the main cause of death in the neonatal period of calves?", OTHER),
        ("What is the role of CT?", OTHER),
        ("What output format does pg_dump write if no format is chosen?", OTHER),  # a default: not a name
    ],
)
def test_question_types(question: str, kind: str) -> None:
    assert question_type(question).kind == kind


def test_focus_and_lists() -> None:
    assert question_type("How many tanks did China send to Belarus?").focus == ("tank",)
    assert question_type("Which countries sent officials?").wants_list
    assert not question_type("What is the population of Belarus?").wants_list
    assert question_type("How many Chinese and Russian aircraft violated the zone?").wants_list
    # a plural-looking word before a verb's object is the verb: these ask for one
    assert not question_type("Which parameter logs every statement that runs too long?").wants_list
    assert not question_type("Which company manufactures the Y-20 airlifter?").wants_list
    assert question_type("Which countries sent the troops?").wants_list
    assert question_type("What are the possible settings of log_statement?").wants_list
    # the head of "X of Y" is X; a noun group ends at an auxiliary
    assert question_type("What kind of lock does VACUUM FULL take?").focus == ("lock",)
    assert question_type("What other tests should be considered?").focus == ("test",)
    assert question_type("What other tests should be considered?").wants_list
    assert not question_type("What kind of missiles is Mitsubishi developing?").wants_list
    assert question_type("What kinds of missiles is Mitsubishi developing?").wants_list
    assert not question_type("What did six Y-20s deliver to Serbia?").wants_list
    # singulars ending in -us, -is and adjectives in -ous are no plurals
    assert not question_type("What influenza virus was identified in China in 2013?").wants_list
    assert not question_type("Which analysis was used for the serious cases?").wants_list


def _texts(kind: str, text: str, wants_list: bool = False) -> list[str]:
    return [text[s:e] for s, e in _candidates(kind, text, wants_list)]


@pytest.mark.parametrize(
    ("question", "pair"),
    [
        ("Is rotavirus single or double-stranded?", ("single", "double-stranded")),
        ("Is it a virus or a bacterium?", ("virus", "bacterium")),
        ("Is the default port 5432 or 5433 when unset?", ("5432", "5433")),
        ("Does pg_dump write plain text or binary format by default?", ("plain text", "binary format")),
        ("Did Li Shangfu meet Putin?", None),  # a plain yes/no question
        ("Is the setting enabled or not?", None),  # "or not" offers nothing to choose
        ("Which port or socket does it use?", None),  # not a yes/no question
    ],
)
def test_the_alternatives_a_yes_no_question_offers(question: str, pair) -> None:
    assert alternatives(question) == pair


def test_the_chosen_alternative_is_the_one_the_sentence_holds_alone() -> None:
    pair = ("single", "double-stranded")
    sentence = "They have a double-stranded RNA genome, unlike single-stranded viruses."
    start, end = chosen_alternative(pair, sentence)
    assert sentence[start:end] == "double-stranded"  # "single" inside "single-stranded" is no match
    assert chosen_alternative(pair, "Its genome is single or double-stranded.") is None
    assert chosen_alternative(pair, "Its genome is made of RNA.") is None


def test_date_candidates() -> None:
    text = "On June 6, troops arrived; drills ran April 16-19 and ended on 20 February 2022."
    assert _texts(DATE, text) == ["June 6", "April 16-19", "20 February 2022"]


def test_quantity_candidates_carry_their_unit_and_skip_codes() -> None:
    text = "Russia sent up to 30,000 troops, two battalions of S-400 systems and US$51 billion."
    found = _texts(QUANTITY, text)
    assert "30,000 troops" in found and "two battalions" in found and "US$51 billion" in found
    assert not any(t.startswith("400") for t in found)  # the 400 of S-400 is a name, not a count


def test_quantity_candidates_read_ranges_grouped_thousands_and_glued_units() -> None:
    text = "An estimated 35\u202f000 to 60\u202f000 ventilators, three to five million cases, R of 3.87 [3.01-4.66]."
    found = _texts(QUANTITY, text)
    assert "35\u202f000 to 60\u202f000 ventilators" in found and "60\u202f000 ventilators" in found  # each end too
    assert "three to five million cases" in found and "3.87 [3.01-4.66]" in found
    assert "20kb nucleotides" in _texts(QUANTITY, "the orf1ab (20kb nucleotides, at the 5' end)")
    assert not any("2013" in t for t in _texts(QUANTITY, "In 2013 500 people came."))  # a year is no thousands


def test_name_candidates_drop_sentence_initial_function_words() -> None:
    found = _texts(NAME, "The Institute for the Study of War published it. In Brest, near NATO.")
    assert "Institute for the Study of War" in found and "Brest" in found


def test_a_name_does_not_start_inside_a_word() -> None:
    assert _texts(NAME, "Serology is advised for 2019-nCoV and anti-CD40 studies.") == ["Serology", "CD40"]


def test_enumerations_answer_list_questions() -> None:
    text = "China studies tactics such as hybrid warfare, drone operations, and urban assault methods, insights which matter."
    assert _texts(NAME, text, wants_list=True) == ["hybrid warfare, drone operations, and urban assault methods"]


def test_a_manual_enumerates_choices_after_its_own_markers_and_in_braces() -> None:
    def listed(text: str) -> list[str]:
        return [text[s:e] for s, e in enumerations(text)]

    assert listed("Valid values are none (off), ddl, mod, and all (all statements).") == [
        "none (off), ddl, mod, and all (all statements)"
    ]
    assert listed("mode can be smart, fast, or immediate.") == ["smart, fast, or immediate"]
    assert listed("ISOLATION LEVEL { SERIALIZABLE | READ COMMITTED } READ WRITE | READ ONLY") == [
        "SERIALIZABLE | READ COMMITTED"
    ]
    # the last item does not run on into the next sentence
    assert listed("It logs statements such as CREATE, ALTER, and DROP statements. mod logs more.") == [
        "CREATE, ALTER, and DROP statements"
    ]
    assert listed("The value can be changed at any time.") == []


def test_what_are_the_plural_asks_for_several() -> None:
    assert question_type("What are the possible settings of log_statement?").wants_list
    # the head of "X of Y" is X; a noun group ends at an auxiliary
    assert question_type("What kind of lock does VACUUM FULL take?").focus == ("lock",)
    assert not question_type("What kind of missiles is Mitsubishi developing?").wants_list
    assert question_type("What kinds of missiles is Mitsubishi developing?").wants_list
    assert not question_type("What did six Y-20s deliver to Serbia?").wants_list
    # singulars ending in -us, -is and adjectives in -ous are no plurals
    assert not question_type("What influenza virus was identified in China in 2013?").wants_list
    assert not question_type("Which analysis was used for the serious cases?").wants_list
    assert not question_type("What is the setting of log_statement?").wants_list


def _passage_of(texts: list[str], relevances: tuple[float, ...]) -> Passage:
    """One passage of these sentences, one space apart, each with its relevance."""
    text = " ".join(texts)
    sentences, at = [], 0
    for relevance, piece in zip(relevances, texts):
        sentences.append(Sentence(at, at + len(piece), piece, relevance))
        at += len(piece) + 1
    return Passage(1, Hit(Chunk("doc", 0, 0, len(text), text, 10), 1.0, 1), "title", tuple(sentences))


def test_a_quantity_in_the_unit_asked_for_measures_the_noun_asked_about_even_far_from_it() -> None:
    passage = _passage_of(["Sets the amount of memory the server uses for shared buffers.",
                           "The default is one hundred twenty-eight megabytes, or 128MB, for every server that "
                           "starts with the stock configuration.",
                           "The server keeps 12 buffers reserved."], (0.8, 0.7, 0.6))  # fmt: skip
    found = [s.text for s in rank_spans("How much memory is used for shared buffers?", [passage])]
    assert "128MB" in found  # megabytes measure memory: no need to be written beside it
    assert "12 buffers" not in found  # a count in no size unit, far from "memory"


def test_a_duration_may_be_given_by_its_end_point() -> None:
    text = "The effects of SET LOCAL last only till the end of the current transaction, whether committed or not."
    found = [text[s:e] for s, e in _candidates(QUANTITY, text, unit="duration")]
    assert found == ["till the end of the current transaction"]
    assert _candidates(QUANTITY, text) == []  # "how much" or "how many" asks for no end point
    passage = _passage_of([text], (0.8,))
    assert [s.text for s in rank_spans("How long does a value set with SET LOCAL stay in effect?", [passage])] == [
        "till the end of the current transaction"
    ]


def test_letters_glued_to_a_currency_sign_are_no_name_candidate() -> None:
    found = _texts(NAME, "Japan will have a budget exceeding US$51 billion, twice HK$ 20 billion.")
    assert "Japan" in found and "US" not in found


def test_one_side_of_a_slashed_token_is_no_name_candidate() -> None:
    found = _texts(NAME, "Local users connect via TCP/IP to Minsk.")
    assert "Minsk" in found and "TCP" not in found and "IP" not in found


def test_a_possessor_answers_no_name_question_unless_the_question_has_one() -> None:
    passage = _passage_of(["The Kremlin's buildup began with the Union Shield exercise."], (0.9,))
    plain = [s.text for s in rank_spans("What was the name of the exercise?", [passage])]
    possessive = [s.text for s in rank_spans("Which country's exercise began?", [passage])]
    assert "Kremlin's" not in plain and "Union Shield" in " ".join(plain)
    assert "Kremlin's" in possessive


def test_the_term_a_description_belongs_to_answers_though_it_lies_before_the_passage() -> None:
    text = "With a parameter, turns displaying of how long each SQL statement takes on or off."
    at = 5000  # the passage is the second chunk of the term's description
    passage = Passage(1, Hit(Chunk("doc", 1, at, at + len(text), text, 20), 1.0, 1), "psql",
                      (Sentence(at, at + len(text), text, 0.9),))  # fmt: skip
    question = "Which psql meta-command shows how long each statement takes?"

    def named(term):
        return [s.text for s in rank_spans(question, [passage], defining=lambda p, s: term)]

    near, far = (at - 400, at - 380, "\\timing [ on | off ]"), (at - 4000, at - 3980, "\\timing [ on | off ]")
    assert named(near)[0] == "\\timing [ on | off ]"
    assert "\\timing [ on | off ]" not in named(far)  # too far above to be cited with the passage
    question = "Which psql meta-command \\timing shows how long each statement takes?"
    assert "\\timing [ on | off ]" not in named(near)  # named by the question, though not with its synopsis
    question = "Which parameter sets the order in which schemas are searched?"
    assert "search_path (string)" in named((at - 400, at - 380, "search_path (string)"))  # "searched" is no name


def test_a_defined_term_answers_only_a_question_asking_for_a_kind_of_name() -> None:
    text = "Loggers are created at NOTSET; the root logger is created at level WARNING, which it keeps."
    passage = Passage(1, Hit(Chunk("doc", 1, 100, 100 + len(text), text, 10), 1.0, 1), "logging",
                      (Sentence(100, 100 + len(text), text, 0.9),))  # fmt: skip

    def ranked(question):
        return [s.text for s in rank_spans(question, [passage], defining=lambda p, s: (40, 55, "setLevel(level)"))]

    assert ranked("Which method sets the level of the root logger?")[0] == "setLevel(level)"
    assert ranked("What level is the root logger created at?") == ["WARNING", "NOTSET"]


def test_a_question_asking_for_several_also_reads_the_sentences_enumerating_choices() -> None:
    texts = ["Specifies the shutdown mode.", "The server is stopped.", "mode can be smart, fast, or immediate."]
    passage = _passage_of(texts, (0.9, 0.8, 0.1))
    several = question_type("Which shutdown modes does pg_ctl offer?")
    one = question_type("Which shutdown mode is the fastest?")
    assert [s.text for _, s in answer_sentences(several, [passage], 2)] == texts
    assert [s.text for _, s in answer_sentences(one, [passage], 2)] == texts[:2]


def test_a_question_asking_for_a_measure_also_reads_the_sentences_holding_one_in_its_unit() -> None:
    texts = ["Sets the memory a sort may use.", "It is taken as kilobytes.", "The default is four megabytes (4MB).",
             "Sorts spill to temporary files when it is exceeded after 3 seconds."]  # fmt: skip
    passage = _passage_of(texts, (0.9, 0.8, 0.1, 0.05))
    memory = question_type("How much memory can a sort use before it spills to temporary files?")
    assert memory.unit == "size"
    assert [s.text for _, s in answer_sentences(memory, [passage], 2)] == texts[:3]  # not the seconds
    count = question_type("How many sorts spill?")  # no unit: the most relevant sentences only
    assert [s.text for _, s in answer_sentences(count, [passage], 2)] == texts[:2]


@pytest.mark.parametrize(
    "question, abbreviation",
    [("What is PHEIC?", "PHEIC"), ("What does WAL stand for?", "WAL"), ("What is qRT-PCR?", "qRT-PCR"),
     ("What is Bacillus subtilis?", ""), ("What is the role of CT in COVID-19?", ""), ("What is the port?", "")],
)  # fmt: skip
def test_a_question_asking_what_an_abbreviation_is(question: str, abbreviation: str) -> None:
    assert question_type(question).abbreviation == abbreviation


def test_an_abbreviation_is_spelled_out_by_its_long_form_even_in_quotes() -> None:
    text = "WHO did not declare a 'Public Health Emergency of International Concern' (PHEIC) then."
    assert [text[s:e] for s, e in expansions(text, "PHEIC")] == ["Public Health Emergency of International Concern"]
    assert expansions(text, "WHO") == []  # not spelled out here
    assert expansions("The write-ahead log (WAL)\nis flushed.", "WAL") == [(4, 19)]  # "write-ahead log"


def test_date_ranges_are_one_candidate() -> None:
    text = "The exercises would take place from August 30 to September 5 and end in 2022."
    assert _texts(DATE, text) == ["August 30 to September 5", "2022"]


def test_months_are_not_names_and_designations_are_not_counts() -> None:
    assert "August" not in _texts(NAME, "Li Shangfu arrived in Belarus on August 16 for a visit.")
    found = _texts(QUANTITY, "Mitsubishi is developing Type 12 missiles; the fleet checked 12 ships on September 5.")
    assert found == ["12 ships"]  # not the 12 of "Type 12", nor the 5 of a date


@pytest.mark.parametrize(
    "question, grain, unit",
    [
        ("On what date did Russia invade Ukraine?", "day", None),
        ("In which year did Russia annex Crimea?", "year", None),
        ("When did the talks start?", None, None),
        ("How long was the official visit?", None, "duration"),
        ("How far is the air base from Minsk?", None, "distance"),
        ("How much did the system cost?", None, "money"),
        ("How many troops took part?", None, None),
        ("How large may the log grow?", None, "size"),
        ("How much memory may a sort use?", None, "size"),
    ],
)
def test_what_precision_or_unit_a_question_wants(question: str, grain, unit) -> None:
    qtype = question_type(question)
    assert (qtype.grain, qtype.unit) == (grain, unit)


@pytest.mark.parametrize(
    "question, term",
    [
        ("Which setting terminates idle sessions?", True),
        ("What exception does subprocess.run raise on a non-zero exit?", True),
        ("Which pg_dump option dumps only the schema?", True),
        ("What level is the root logger set to when it is created?", False),  # what an entry says
        ("Which archive formats can shutil.make_archive produce?", False),
        ("Who commands the special forces?", False),  # a person, though "commands" reads as a kind
        ("What type of cells form the barrier?", False),
    ],
)
def test_whether_a_question_asks_for_a_name_a_manual_defines(question: str, term: bool) -> None:
    assert question_type(question).term is term


def test_place_questions() -> None:
    assert question_type("To which country did she flee?").place
    assert question_type("Where is the district headquartered?").place
    assert not question_type("Which analyst is quoted?").place


def test_the_earliest_sign_of_a_kind_decides_the_question_type() -> None:
    """A "how many" inside a clause about the name asked for does not make a count question."""
    assert question_type("Which EXPLAIN option shows how many shared blocks were hit and read?").kind == NAME
    assert question_type("Which psql meta-command shows how long each statement takes?").kind == NAME
    assert question_type("How many soldiers took part in the drills, which began in June?").kind == QUANTITY
    assert question_type("In which year did the drills begin?").kind == DATE


def test_a_size_is_read_off_a_unit_glued_to_its_number() -> None:
    assert _has_unit("size", "128MB") and _has_unit("size", "1 GB") and not _has_unit("size", "30 seconds")
    assert _has_unit("duration", "5 minutes") and not _has_unit("size", "GBP")


def test_a_question_asking_for_a_default_also_reads_the_sentences_stating_one() -> None:
    texts = ["Specifies the index method to be used by the command.", "Methods are listed in the catalog.",
             "The default method is btree."]  # fmt: skip
    passage = _passage_of(texts, (0.9, 0.8, 0.1))
    asks = question_type("Which index method is used when I don't specify one?")
    plain = question_type("Which index method is listed in the catalog?")
    assert [s.text for _, s in answer_sentences(asks, [passage], 2)] == [texts[0], texts[1], texts[2]]
    assert [s.text for _, s in answer_sentences(plain, [passage], 2)] == texts[:2]


@pytest.mark.parametrize(
    ("question", "read", "kind"),
    [
        ("Was was the sample size?", "What was the sample size?", QUANTITY),
        ("Was is the response rate of the virus to the drugs?", "What is the response rate of the virus to the drugs?",
         QUANTITY),
        ("Is the drill over?", "Is the drill over?", OTHER),  # one auxiliary: a yes/no question, as written
        ("Did Russia send tanks?", "Did Russia send tanks?", OTHER),
    ],
)
def test_an_auxiliary_doubled_at_the_opening_is_a_mistyped_question_word(question, read, kind) -> None:
    from rag.answer.selection import YES_NO, question_form

    assert as_asked(question) == read
    qtype = question_type(question)
    assert qtype.kind == kind
    assert (question_form(question, qtype) == YES_NO) == (read == question)
