"""The answer selector: question forms, features, the fitted model file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.answer.candidates import Candidate
from rag.answer.evidence import Passage, Sentence, terms
from rag.answer.extraction import DATE, NAME, QUANTITY, question_type, states_default
from rag.answer.grounding import context_of
from rag.answer.selection import (
    DESCRIBE,
    EXPLAIN,
    PERSON,
    PLACE,
    SELECTOR_FILE,
    YES_NO,
    Selection,
    admissible,
    admitted,
    document_share,
    feature_names,
    features,
    load_selection,
    question_form,
    rescore_features,
    sentence_evidence,
    view_question,
)
from rag.core.errors import ConfigError
from rag.core.records import Chunk, Hit
from rag.index import store


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("When did the troops arrive?", DATE),
        ("How many troops arrived?", QUANTITY),
        ("Who leads the ministry?", PERSON),
        ("Where did the aircraft land?", PLACE),
        ("Which aircraft ferried the equipment?", NAME),
        ("Why did China join the drills?", EXPLAIN),
        ("How does VACUUM reclaim space?", EXPLAIN),
        ("What does CLUSTER do?", DESCRIBE),
        ("Did Li Shangfu meet Putin?", YES_NO),
        ("Is the default port 5432?", YES_NO),
    ],
)
def test_question_forms(question: str, form: str) -> None:
    assert question_form(question, question_type(question)) == form


def test_rare_question_words_weigh_more_and_numbers_are_constraints() -> None:
    rarity = {"win": 0.5, "wimbledon": 4.0, "2021": 6.0, "women": 2.0}.get
    view = view_question("Who won the women's singles at Wimbledon in 2021?", lambda t: rarity(t, 1.0))
    assert abs(sum(view.weights.values()) - 1) < 1e-9
    assert view.weights["2021"] > view.weights["wimbledon"] > view.weights["women"] > view.weights["won"]
    assert view.numbers == {"2021"}


def _candidate(text: str, start: int, end: int) -> Candidate:
    chunk = Chunk("doc", 0, 0, len(text), text, 10)
    sentence = Sentence(0, len(text), text, 0.7)
    passage = Passage(1, Hit(chunk, 1.0, 1, dense=0.6, bm25=3.0), "title", (sentence,))
    return Candidate(passage, sentence, 0, start, end, text[start:end], "PERSON")


def test_a_sentence_about_another_year_does_not_cover_the_question() -> None:
    view = view_question("Who won Wimbledon in 2021?", lambda t: 1.0)
    rows = {}
    for year in ("2021", "2022"):
        text = f"Ashleigh Barty won Wimbledon in {year}."
        cand = _candidate(text, 0, 14)
        evidence = sentence_evidence(view, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0)
        rows[year] = features(view, cand, frozenset({"PERSON"}), evidence, frozenset())
    assert rows["2021"]["numbers_missing"] == 0 and rows["2022"]["numbers_missing"] == 1
    assert rows["2021"]["years_missing"] == 0 and rows["2022"]["years_missing"] == 1
    assert admissible(rows["2021"], view.form) and not admissible(rows["2022"], view.form)
    assert rows["2021"]["cover_sentence"] > rows["2022"]["cover_sentence"]
    assert set(rows["2021"]) <= set(feature_names())
    assert rows["2021"]["person*person"] == 1 and rows["2021"]["novelty"] == 1


def test_a_sentence_in_another_terms_definition_is_told_from_one_in_the_named_terms() -> None:
    view = view_question("What is the default checkpoint_timeout?", lambda t: 1.0)
    text = "The default is five minutes (5min)."
    cand = _candidate(text, 15, 27)
    context = context_of(text, (0, len(text)), (0, len(text)))
    fits = {
        defined: sentence_evidence(view, cand, context, 0.6, 1.0, defined).sentence
        for defined in ("checkpoint_timeout", "checkpoint_warning", "")
    }
    assert fits["checkpoint_timeout"].get("term_named") == 1 and "term_other" not in fits["checkpoint_timeout"]
    assert fits["checkpoint_warning"].get("term_other") == 1 and "term_named" not in fits["checkpoint_warning"]
    assert "term_named" not in fits[""] and "term_other" not in fits[""]
    assert {"term_named", "term_other"} <= set(feature_names())


def test_a_defined_term_is_named_without_its_type_and_with_its_words_split() -> None:
    text = "A value of zero (the default) disables the timeout."
    cand = _candidate(text, 11, 15)
    context = context_of(text, (0, len(text)), (0, len(text)))
    for question, defined in (("What is statement_timeout set to by default?", "statement_timeout (integer)"),
                              ("How big are the shared buffers by default?", "shared_buffers")):  # fmt: skip
        view = view_question(question, lambda t: 1.0)
        assert sentence_evidence(view, cand, context, 0.6, 1.0, defined).sentence.get("term_named") == 1
    view = view_question("What is lock_timeout set to by default?", lambda t: 1.0)
    assert sentence_evidence(view, cand, context, 0.6, 1.0, "statement_timeout (integer)").sentence.get("term_other")
    view = view_question("How often do checkpoints happen by default?", lambda t: 1.0)
    assert sentence_evidence(view, cand, context, 0.6, 1.0, "checkpoint_timeout").sentence.get("term_other")


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("What is maintenance_work_mem set to by default?", True),
        ("Which TCP port does the server listen on unless configured otherwise?", True),
        ("Which index method does CREATE INDEX use when I don't specify one?", True),
        ("What is the default checkpoint_timeout?", True),
        ("Which environment variable sets the default database name?", False),  # names a thing
        ("How many troops arrived in Belarus?", False),
    ],
)
def test_a_question_asking_what_holds_when_nothing_is_chosen(question: str, asks: bool) -> None:
    assert question_type(question).default is asks


def test_a_default_asked_for_is_taken_from_a_sentence_stating_one_when_some_does() -> None:
    view = view_question("Which port does the server listen on unless configured otherwise?", lambda t: 1.0)
    rows = []
    for text in ("80 is the port a web server listens on.", "5432 is the port it listens on by default."):
        cand = _candidate(text, 0, 2)
        evidence = sentence_evidence(view, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0)
        rows.append({**features(view, cand, frozenset({"TYPED"}), evidence, frozenset()), "is_typed": 1.0})
    assert [r.get("default_stated") for r in rows] == [0.0, 1.0]
    assert admitted(rows, view.form) == [1]
    assert admitted(rows[:1], view.form) == [0]  # none states one: the rule takes nothing away
    plain = view_question("How many troops arrived?", lambda t: 1.0)
    assert "default_stated" not in sentence_evidence(plain, cand, context_of(text, (0, 1), (0, 1)), 0.6, 1.0).sentence


def test_a_default_stated_in_the_named_terms_own_entry_is_taken_over_one_stated_elsewhere() -> None:
    view = view_question("Which shutdown mode does pg_ctl use when -m is not given?", lambda t: 1.0)
    rows = []
    for text, defined in (("smart is the default in this example of pg_ctl -m.", ""),
                          ("If the -m option of pg_ctl is omitted, fast is the default.", "-m mode")):  # fmt: skip
        start = text.index("fast") if defined else 0
        cand = _candidate(text, start, start + 4 if defined else 5)
        evidence = sentence_evidence(view, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0, defined)
        rows.append({**features(view, cand, frozenset({"TYPED"}), evidence, frozenset()), "is_typed": 1.0})
    assert [r.get("default_stated") for r in rows] == [1.0, 1.0]
    assert [r.get("term_named") for r in rows] == [None, 1.0]
    assert admitted(rows, view.form) == [1]
    assert admitted(rows[:1], view.form) == [0]  # no entry of the named term says one: nothing taken away


def test_a_list_asked_for_is_taken_from_an_enumeration_of_its_focus_when_some_holds_one() -> None:
    view = view_question("Which isolation levels can be chosen?", lambda t: 1.0)
    texts = ("SERIALIZABLE is the strictest isolation level.",
             "The isolation level is one of: { SERIALIZABLE | READ COMMITTED }.",
             "CLOSE { name | ALL } frees a cursor.")  # fmt: skip
    spans = ((0, 12), (33, 62), (6, 18))
    rows = []
    for text, (start, end) in zip(texts, spans):
        cand = _candidate(text, start, end)
        evidence = sentence_evidence(view, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0)
        rows.append({**features(view, cand, frozenset({"TYPED"}), evidence, frozenset()), "is_typed": 1.0})
    # the third enumerates, but not isolation levels: it is another question's list
    assert [r.get("enumerated") for r in rows] == [None, 1.0, None]
    assert admitted(rows, view.form) == [1]
    assert admitted([rows[0], rows[2]], view.form) == [0, 1]  # none enumerates them: nothing taken away


def test_a_list_of_all_the_choices_is_taken_over_a_list_of_examples() -> None:
    view = view_question("What are the possible settings of log_statement?", lambda t: 1.0)
    texts = ("log_statement: Valid values are none (off), ddl, mod, and all (all statements).",
             "log_statement: ddl logs statements such as CREATE, ALTER, and DROP statements.")  # fmt: skip
    spans = ((32, 79), (43, 77))
    rows = []
    for text, (start, end) in zip(texts, spans):
        cand = _candidate(text, start, end)
        context = context_of(text, (0, len(text)), (0, len(text)))
        evidence = sentence_evidence(view, cand, context, 0.6, 1.0, "log_statement (enum)", (0, 0))
        rows.append({**features(view, cand, frozenset({"TYPED"}), evidence, frozenset()), "is_typed": 1.0})
    assert [r.get("enumerated") for r in rows] == [1.0, 1.0]  # both enumerate, in the named term's entry
    assert [r.get("offered") for r in rows] == [1.0, None]  # only the first lists all there are
    assert admitted(rows, view.form) == [0]
    assert admitted(rows[1:], view.form) == [0]  # examples only: nothing taken away


def test_a_value_is_not_read_off_the_header_of_a_terms_entry() -> None:
    view = view_question("What is the default port?", lambda t: 1.0)
    text = "port (integer) The TCP port the server listens on; 5432 by default."
    rows = []
    for start, end in ((6, 13), (51, 55)):  # "integer" in the header, "5432" in its description
        cand = _candidate(text, start, end)
        context = context_of(text, (0, len(text)), (0, len(text)))
        evidence = sentence_evidence(view, cand, context, 0.6, 1.0, "port (integer)", (0, 14))
        rows.append({**features(view, cand, frozenset({"TYPED"}), evidence, frozenset()), "is_typed": 1.0})
    assert [r.get("term_header") for r in rows] == [1.0, None]
    assert admitted(rows, view.form) == [1]
    name = view_question("Which setting is described as an integer?", lambda t: 1.0)  # a name may be the header
    cand = _candidate(text, 0, 4)
    evidence = sentence_evidence(name, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0, "port", (0, 14))
    assert "term_header" not in features(name, cand, frozenset({"TYPED"}), evidence, frozenset())


def test_what_an_abbreviation_is_is_its_long_form_when_a_candidate_spells_it_out() -> None:
    view = view_question("What is PHEIC?", lambda t: 1.0)
    text = "A Public Health Emergency of International Concern (PHEIC) is an extraordinary event."
    rows = []
    for (start, end), sources in (((2, 50), {"NP", "EXPANSION"}), ((63, 85), {"NP"})):
        cand = _candidate(text, start, end)
        evidence = sentence_evidence(view, cand, context_of(text, (0, len(text)), (0, len(text))), 0.6, 1.0)
        rows.append(features(view, cand, frozenset(sources), evidence, frozenset()))
    assert [r.get("expands") for r in rows] == [1.0, None] and rows[0]["is_phrase"] == 1.0
    assert admitted(rows, view.form) == [0]
    assert admitted(rows[1:], view.form) == [0]  # none spells it out: nothing taken away


def test_rescoring_features_are_relative_to_the_best_scored_candidate() -> None:
    rows = rescore_features([1.0, 0.5, -1.0], [[-0.5, -0.1], [-3.0], None])
    assert rows[0]["lm_best"] == 1 and rows[0]["lm_gap"] == 0
    assert rows[1]["lm_gap"] < 0 and rows[2]["lm_mean"] == -20.0


def test_a_floor_bounds_the_likelihoods_the_second_stage_reads() -> None:
    rows = rescore_features([0.0, 0.0], [[-35.0, -30.0], [-1.0]])
    assert rows[0]["lm_mean"] == rows[0]["lm_first"] == -20.0 and rows[0]["lm_gap"] == -19.0


def _random_logprobs(rng, lengths: list[int]) -> list[list[float] | None]:
    """Log-probabilities the answer model could give texts of these token counts (0: not scored)."""
    return [list(-rng.exponential(rng.choice([0.5, 5.0, 30.0]), n)) if n else None for n in lengths]


@pytest.mark.parametrize(
    ("first_logits", "settles"),
    [([3.0, -2.0, -2.5, -4.0], True), ([0.2, 0.0, -1.0], False), ([-8.0, -12.0], True), ([4.0], True)],
)
def test_a_settled_answer_is_what_every_likelihood_the_model_could_give_would_choose(first_logits, settles) -> None:
    """Selection.settled promises the second stage's choice and the answer-or-abstain decision for
    any log-probabilities at all; here thousands of random ones, wild ones included, are tried."""
    selection = load_selection(SELECTOR_FILE)
    rng = np.random.default_rng(7)
    lengths = [int(n) for n in rng.integers(0, 12, len(first_logits))]
    best = {"relevance": 0.5}
    settled = selection.settled(best, first_logits, lengths, "other")
    outcomes = set()
    for _ in range(3000):
        rows = rescore_features(first_logits, _random_logprobs(rng, lengths))
        p = selection.second.probabilities(rows)
        order = np.argsort(-p, kind="stable")
        confidence = selection.confidence([best], p[order][:2].tolist(), "other")
        outcomes.add((int(order[0]), confidence >= selection.threshold))
        if settled is not None:
            assert order[0] == 0 and (confidence >= selection.threshold) == (settled >= selection.threshold)
            assert (confidence >= settled) if settled >= selection.threshold else (confidence <= settled)
    if settled is None:  # the bounds are not loose for nothing: random likelihoods do change these
        assert len(outcomes) > 1, outcomes
    assert (settled is not None) == settles


def test_the_bundled_selector_loads_and_knows_its_features() -> None:
    selection = load_selection(SELECTOR_FILE)
    assert set(selection.first.names) <= set(feature_names())
    assert 0 < selection.threshold < 1
    p = selection.first.probabilities([{"relevance": 0.9}, {"relevance": 0.1}])
    assert p.shape == (2,) and np.all((p > 0) & (p < 1))
    again = Selection.from_dict(json.loads(json.dumps(selection.as_dict())))
    assert again.as_dict() == selection.as_dict()


def test_a_broken_selector_file_is_a_one_line_config_error(tmp_path) -> None:
    broken = tmp_path / "selector.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="answer selector"):
        load_selection(broken)


def test_a_when_or_how_many_question_takes_a_typed_span_only() -> None:
    assert admissible({"is_typed": 1.0}, QUANTITY) and not admissible({"is_number": 1.0}, QUANTITY)
    assert not admissible({"is_clause": 1.0}, DATE) and admissible({"is_clause": 1.0}, NAME)
    assert not admissible({"is_typed": 1.0, "names_missing": 1.0}, QUANTITY)


def test_document_share_reads_the_postings_of_the_real_index(base_index) -> None:
    index = store.load(base_index.index_dir)
    share = document_share(index.bm25, [c.doc_id for c in index.chunks])
    n = len(index.documents)
    for term in ("belarus", "troop", "nato"):
        holding = sum(term in set(terms(d.text)) for d in index.documents.values())
        assert share(term) == pytest.approx(holding / n)  # the same as reading every document
    assert share("no-such-term") == 0.0
    view = view_question("When did NATO troops arrive in Belarus?", lambda t: 1.0, share)
    assert view.subject == {t for t in view.terms if share(t) >= 0.5}


@pytest.mark.parametrize(
    ("sentence", "states"),
    [
        ("The default is “read committed”.", True),
        ("A value of zero (the default) disables the delay.", True),
        ("Values can be from 1.50 to 2.00; the latter is the default.", True),
        ("The default port number is determined at compile time.", True),
        ("The default, LOG, does not affect logging decisions at all.", True),
        ("It is off by default.", True),
        ("This parameter controls the default isolation level of each new transaction.", False),  # a mention
        ("Specifies the default tablespace for the database.", False),
    ],
)
def test_the_default_states_one_only_beside_a_copula_or_set_apart(sentence: str, states: bool) -> None:
    assert states_default(sentence) is states


def test_a_question_asking_for_a_default_names_a_term_whose_name_says_default() -> None:
    view = view_question("What isolation level do new transactions get unless told otherwise?", lambda t: 1.0)
    text = "The default is “read committed”."
    cand = _candidate(text, 0, len(text) - 1)
    context = context_of(text, (0, len(text)), (0, len(text)))
    for defined, fit in (("default_transaction_isolation (enum)", "term_named"),
                         ("default_transaction_read_only (boolean)", "term_other")):  # fmt: skip
        assert sentence_evidence(view, cand, context, 0.6, 1.0, defined).sentence.get(fit) == 1
    plain = view_question("What isolation level do new transactions get?", lambda t: 1.0)  # asks for no default
    assert sentence_evidence(plain, cand, context, 0.6, 1.0, "default_transaction_isolation").sentence.get("term_other")
