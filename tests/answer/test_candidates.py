"""Answer candidates: verbatim spans from mentions, literal tokens of technical text, clauses, sentences."""

from __future__ import annotations

import pytest

from rag.answer.candidates import CLAUSE, LITERAL, SENTENCE, TYPED, Candidate, candidates
from rag.answer.evidence import Passage, Sentence
from rag.core.records import Chunk, Hit, Mention

TEXT = (
    "The default is four megabytes (4MB), set with work_mem; run pg_dump --schema-only or \\timing "
    "to see it, and LOCK TABLE takes ACCESS EXCLUSIVE by default."
)


def _passage(text: str, mentions=()):
    chunk = Chunk("doc", 0, 0, len(text), text, 10)
    sentence = Sentence(0, len(text), text, 0.8)
    passage = Passage(1, Hit(chunk, 1.0, 1), "title", (sentence,))
    return passage, (lambda doc_id, start, end: [m for m in mentions if start <= m.start and m.end <= end])


def _by_source(found, source):
    return {c.text for c in found if c.source == source}


def test_literal_tokens_of_technical_text_are_candidates() -> None:
    passage, mentions_in = _passage(TEXT)
    literal = _by_source(candidates("What is the default of work_mem?", [passage], mentions_in), LITERAL)
    assert {"4MB", "work_mem", "--schema-only", "\\timing", "ACCESS EXCLUSIVE", "LOCK TABLE"} <= literal
    assert "The" not in literal and "default" not in literal
    passage, mentions_in = _passage("Local users connect via TCP/IP with the trust method.")
    literal = _by_source(candidates("Which method lets anyone connect?", [passage], mentions_in), LITERAL)
    assert not literal & {"TCP", "IP"}  # one side of a slashed token names nothing alone


def test_stored_mentions_become_candidates_with_their_label_and_exact_offsets() -> None:
    text = "On June 6, Li Shangfu arrived in Minsk."
    mentions = (Mention(3, 9, "DATE"), Mention(11, 21, "PERSON"), Mention(33, 38, "GPE"))
    passage, mentions_in = _passage(text, mentions)
    found = candidates("Who arrived in Minsk?", [passage], mentions_in)
    for c in found:
        assert text[c.start : c.end] == c.text
    assert _by_source(found, "PERSON") == {"Li Shangfu"} and _by_source(found, "DATE") == {"June 6"}


def test_clauses_and_the_sentence_itself_are_candidates_for_explanations() -> None:
    text = "Beijing joined the drills, its ministry said, to deepen practical and friendly cooperation."
    passage, mentions_in = _passage(text)
    found = candidates("Why did Beijing join the drills?", [passage], mentions_in)
    assert "to deepen practical and friendly cooperation" in _by_source(found, CLAUSE)
    assert _by_source(found, SENTENCE) == {text.rstrip(".")}


def test_a_papers_reference_marks_do_not_end_a_candidate() -> None:
    text = "SARS-CoV uses the ACE2 receptor, while MERS-CoV uses DPP4 [33] [34, 35]."
    passage, mentions_in = _passage(text)
    found = candidates("How does cell entry differ between SARS-CoV and MERS-CoV?", [passage], mentions_in)
    assert _by_source(found, SENTENCE) == {"SARS-CoV uses the ACE2 receptor, while MERS-CoV uses DPP4"}
    for c in found:
        assert text[c.start : c.end] == c.text


def test_typed_spans_carry_the_extractor_score() -> None:
    text = "On June 6, a contingent of Chinese military personnel arrived in Belarus."
    passage, mentions_in = _passage(text)
    typed = [c for c in candidates("When did the troops arrive?", [passage], mentions_in) if c.source == TYPED]
    assert [c.text for c in typed] == ["June 6"] and typed[0].typed_score > 0


def test_a_list_answer_takes_likely_items_of_the_same_kind_from_other_sentences() -> None:
    from rag.answer.candidates import Candidate
    from rag.answer.pipeline import Considered, _more_items

    texts = ["China sent troops.", "India sent troops too.", "The drills began in May.", "Laos sent a unit."]
    sentences = []
    start = 0
    for t in texts:
        sentences.append(Sentence(start, start + len(t), t, 0.5))
        start += len(t) + 1
    chunk = Chunk("doc", 0, 0, start, " ".join(texts), 10)
    passage = Passage(1, Hit(chunk, 1.0, 1), "title", tuple(sentences))

    def considered(i: int, word: str, source: str, p: float) -> Considered:
        s = sentences[i]
        at = s.text.index(word)
        return Considered(Candidate(passage, s, i, s.start + at, s.start + at + len(word), word, source), {}, p)

    ranked = (considered(0, "China", "GPE", 0.9), considered(0, "troops", "NP", 0.8),
              considered(1, "India", "GPE", 0.7), considered(2, "May", "DATE", 0.6),
              considered(3, "Laos", "GPE", 0.2))  # fmt: skip
    assert [c.text for c in _more_items(ranked, threshold=0.5)] == ["India"]
    assert [c.text for c in _more_items(ranked, threshold=0.1)] == ["India", "Laos"]


def test_a_quantity_ends_where_its_noun_phrase_ends() -> None:
    """The parse at ingest bounds the unit words: no verb after it, the whole counted noun."""
    text = "Past studies projected that 35 000 to 60 000 ventilators would be needed."
    start = text.index("60 000 ventilators")
    passage, mentions_in = _passage(text, (Mention(start, start + len("60 000 ventilators"), "NP"),))
    typed = _by_source(candidates("How many ventilators will be required?", [passage], mentions_in), TYPED)
    assert "35 000 to 60 000 ventilators" in typed and not any("would" in t for t in typed), typed
    text = "It has a classical genome organization with 10 open reading frames (ORFs)."
    start = text.index("10 open")
    passage, mentions_in = _passage(text, (Mention(start, start + len("10 open reading frames"), "NP"),))
    typed = _by_source(candidates("How many open reading frames are in the gene?", [passage], mentions_in), TYPED)
    assert "10 open reading frames" in typed, typed


def test_a_name_is_not_read_off_the_capital_that_opens_a_sentence() -> None:
    """"Specifies", "Each", "When": capitalised by position; an entity the parse found there stays."""
    for text, question in (
        ("Each index method has its own set of allowed storage parameters.", "Which index method is the default?"),
        ("Controls which message levels are written to the server log.", "Which setting writes messages?"),
    ):
        passage, mentions_in = _passage(text)
        typed = _by_source(candidates(question, [passage], mentions_in), TYPED)
        assert not typed & {"Each", "Controls"}, typed
    text = "Specifies the TCP port on which the server listens."
    passage, mentions_in = _passage(text)
    assert "Specifies the TCP" not in _by_source(candidates("Which port?", [passage], mentions_in), TYPED)
    text = "Lukashenko said the drills would continue."
    passage, mentions_in = _passage(text, (Mention(0, 10, "PERSON"),))
    found = candidates("Who said the drills would continue?", [passage], mentions_in)
    assert "Lukashenko" in _by_source(found, TYPED)


def test_a_span_the_source_marks_as_code_is_a_literal_candidate() -> None:
    from rag.answer.selection import group_of
    from rag.ingestion.nlp import MARKED

    text = "The default is to log to stderr only."
    start = text.index("stderr")
    passage, mentions_in = _passage(text, (Mention(start, start + 6, MARKED),))
    found = candidates("Where are log messages written by default?", [passage], mentions_in)
    assert _by_source(found, MARKED) == {"stderr"} and group_of(MARKED) == "literal"


@pytest.mark.parametrize(
    "text, question, clipped, unchanged_for",
    [
        # an opening that restates the question; one restated word cuts nothing
        ("An alternative way to estimate the course of the epidemic is to back-calculate infections from deaths.",
         "What is an alternative way to estimate the course of an epidemic?",
         "to back-calculate infections from deaths", "What causes the epidemic to spread?"),
        # a restated subject with its copula; not the subject, nothing is cut
        ("Carrageenan is a sulfated polymer derived from red seaweed.", "What is carrageenan?",
         "a sulfated polymer derived from red seaweed", "What is seaweed?"),
        # a closing that restates the question, from its auxiliary on; one adding what the question
        # does not ask (two of five words new) stays
        ("Calf septicemia is the main cause of death in the neonatal period.",
         "What is the main cause of death in the neonatal period of calves?",
         "Calf septicemia", "What is the main cause of illness in calves?"),
        # a label and a bracketed aside inside the restated subject go with it; the label alone
        # restates nothing. An aside not before a copula is kept: it may be what is asked
        ("Text: Hepatitis C virus (HCV, a member of the Flaviviridae family) is an enveloped RNA virus.",
         "What is the Hepatitis C virus?", "an enveloped RNA virus", "What is the Flaviviridae family?"),
        ("The vesicular stomatitis virus (VSV) spreads in the anterograde direction across synapses.",
         "In what direction does the vesicular stomatitis virus spread?",
         "(VSV) spreads in the anterograde direction across synapses", "What does VSV stand for?"),
    ],
)  # fmt: skip
def test_an_answer_sentence_loses_the_words_that_restate_the_question(
    text: str, question: str, clipped: str, unchanged_for: str
) -> None:
    from rag.answer.candidates import without_echo
    from rag.answer.evidence import terms

    passage, mentions_in = _passage(text)
    (sentence,) = [c for c in candidates(question, [passage], mentions_in) if c.source == SENTENCE]
    cut = without_echo(sentence, terms(question))
    assert cut.text == clipped and text[cut.start : cut.end] == clipped
    assert without_echo(sentence, terms(unchanged_for)) == sentence


def test_an_abbreviation_answer_takes_the_long_form_its_sentence_gives() -> None:
    from rag.answer.candidates import spelled_out

    text = "The Global Initiative on Sharing All Influenza Data (GISAID) platform was instrumental."
    passage, mentions_in = _passage(text)
    question = "Which platform was instrumental?"
    found = candidates(question, [passage], mentions_in)
    short = next(c for c in found if c.text == "GISAID")
    long = spelled_out(short)
    assert long.text == "Global Initiative on Sharing All Influenza Data (GISAID)"
    assert text[long.start : long.end] == long.text
    (other,) = [c for c in found if c.source == SENTENCE]
    assert spelled_out(other) == other  # no abbreviation: unchanged


def test_a_settings_value_is_a_typed_quantity_or_a_literal_the_source_marks_as_code() -> None:
    """'What is X set to by default?' asks for a value: a quantity, or a marked literal such as 'replica'."""
    text = "It defaults to 64 megabytes (64MB); the default level is replica, set with wal_level."
    marked = tuple(Mention(text.index(w), text.index(w) + len(w), "CODE") for w in ("replica", "wal_level"))
    passage, mentions_in = _passage(text, marked)
    typed = _by_source(candidates("What is wal_level set to by default?", [passage], mentions_in), TYPED)
    assert {"64 megabytes", "64MB", "replica"} <= typed
    assert "It" not in typed and "wal_level" not in typed  # the question names it


def test_an_answer_sentence_loses_the_pointer_that_closes_it() -> None:
    from rag.answer.candidates import without_pointer

    def sentence(text: str):
        passage, mentions_in = _passage(text)
        return next(c for c in candidates("How do the viruses spread?", [passage], mentions_in) if c.source == SENTENCE)

    text = "Both viruses spread across synapses (see Figure S1)."
    cut = without_pointer(sentence(text))
    assert cut.text == "Both viruses spread across synapses" and text[cut.start : cut.end] == cut.text
    assert without_pointer(sentence("They spread to the brain ( Table 1).")).text == "They spread to the brain"
    kept = sentence("It was adopted in 2019 (in March 2019).")
    assert without_pointer(kept) == kept  # a date in brackets is no cited source


def test_a_mention_ends_before_a_bracket_it_does_not_close() -> None:
    text = "The default is 0.2 (20% of table size), set in postgresql.conf."
    passage, mentions_in = _passage(text, (Mention(15, 23, "CARDINAL"),))  # "0.2 (20%", as the recogniser cut it
    found = candidates("What is the default scale factor?", [passage], mentions_in)
    assert _by_source(found, "CARDINAL") == {"0.2"}
    assert all(text[c.start : c.end] == c.text for c in found)


def test_a_dotted_abbreviation_keeps_its_stop_and_a_sentence_loses_its_own() -> None:
    text = "The drone flew for the U.S. Air Force, then landed in the U.K."
    mentions = (Mention(23, 26, "GPE"), Mention(58, 62, "GPE"))  # "U.S" and "U.K.": cut with and without the stop
    passage, mentions_in = _passage(text, mentions)
    found = candidates("Which countries flew the drone?", [passage], mentions_in)
    assert _by_source(found, "GPE") == {"U.S.", "U.K."}
    assert all(text[c.start : c.end] == c.text for c in found)
    assert _by_source(found, SENTENCE) == {text}  # its stop is the abbreviation's
    passage, mentions_in = _passage("It landed in Minsk.", (Mention(13, 18, "GPE"),))
    found = candidates("Where did it land?", [passage], mentions_in)
    assert _by_source(found, "GPE") == {"Minsk"} and _by_source(found, SENTENCE) == {"It landed in Minsk"}


@pytest.mark.parametrize(
    ("text", "question", "shown"),
    [
        ("10 open reading frames", "How many open reading frames are in the gene?", "10"),
        ("45% sputum positive cases", "How many sputum positive cases had no cough?", "45%"),
        ("ten days", "How many days did the drills last?", "ten days"),  # one restated word reads as a unit
        ("30,000 troops and 40 jets", "How many troops and jets were sent?", "30,000 troops and 40 jets"),
        ("20kb nucleotides", "What is the size of the gene?", "20kb nucleotides"),  # not the question's words
    ],
)
def test_a_quantity_loses_the_words_restating_what_is_counted(text: str, question: str, shown: str) -> None:
    from rag.answer.candidates import without_counted_echo
    from rag.answer.evidence import terms

    passage, _ = _passage(text)
    candidate = Candidate(passage, passage.sentences[0], 0, 0, len(text), text, TYPED)
    cut = without_counted_echo(candidate, terms(question))
    assert cut.text == shown and text[cut.start : cut.end] == shown


def test_in_a_source_marking_no_code_the_tokens_written_as_code_are_names() -> None:
    """A PDF's function reference marks nothing: its identifiers are the names a "which function"
    question asks for. Where the source marks code, only the marked spans are."""
    from rag.ingestion.nlp import MARKED

    text = "[Function]int asn1_parser2tree (const char * file) builds the definitions from a file."
    question = "Which function builds the definitions from a file?"
    passage, mentions_in = _passage(text)
    assert "asn1_parser2tree" in _by_source(candidates(question, [passage], mentions_in), TYPED)
    start = text.index("int")
    passage, mentions_in = _passage(text, (Mention(start, start + 3, MARKED),))
    typed = _by_source(candidates(question, [passage], mentions_in), TYPED)
    assert "asn1_parser2tree" not in typed and "int" in typed
    passage, mentions_in = _passage("Pass a flag, e.g. --verbose in the U.S. build, to print the details.")
    typed = _by_source(candidates("Which flag prints the details?", [passage], mentions_in), TYPED)
    assert "--verbose" in typed and not {"e.g", "U.S"} & typed
