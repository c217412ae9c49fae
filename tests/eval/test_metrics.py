"""Unit tests for rag.eval.metrics on hand-made cases: every number here can be checked by hand."""

from __future__ import annotations

import math

import pytest

from rag.eval import metrics as M
from rag.eval.gold import Evidence, GoldItem


def item(answers=("July 8",), match="any", quotes=("beginning on July 8",), answerable=True, kind="fact", id="x"):
    return GoldItem(
        id=id,
        question="q?",
        answers=tuple(answers),
        match=match,
        evidence=tuple(Evidence(doc="d", quote=q) for q in quotes),
        answerable=answerable,
        kind=kind,
    )


# ---------------------------------------------------------------- normalisation


def test_normalize_curly_quotes_dashes_nbsp_and_case():
    assert M.normalize("China\u2019s \u201cAnti\u2011Terror\u201d") == "china's \"anti-terror\""
    assert M.normalize("27\u201328 \u2014 late") == "27-28 - late"  # en and em dash
    assert M.normalize("160\u00a0km") == "160 km"  # no-break space
    assert M.normalize("  a \n\t b  ") == "a b"
    assert M.normalize("STRASSE") == M.normalize("straße")  # casefold
    assert M.normalize("\uff21\uff22") == "ab"  # NFKC: fullwidth letters
    assert M.normalize("") == "" and M.normalize(None) == ""


def test_contains_is_normalised_substring():
    passage = "exercises in China\u2019s Ningxia\u00a0region, on October 27\u201328"
    assert M.contains(passage, "China's Ningxia region")
    assert M.contains(passage, "October 27-28")
    assert not M.contains(passage, "Ningxia province")
    assert not M.contains(passage, "   ")  # an empty quote matches nothing


def test_contains_words_respects_word_boundaries():
    assert M.contains_words("It began on July 8.", "July 8")
    assert not M.contains_words("It began on July 18.", "July 8")
    assert not M.contains_words("It began on July 80.", "July 8")
    assert M.contains_words("an 11\u2013day exercise", "11-day")
    assert M.contains_words("a budget of US$51 billion", "US$51")
    assert not M.contains_words("hybridisation", "hybrid")
    assert M.contains_words("THE SCO.", "sco")


def test_word_count_ignores_citation_markers():
    assert M.strip_markers("On June 6 [1] [2]") == "On June 6"
    assert M.word_count("On June 6 [1] [2]") == 3
    assert M.word_count("") == 0


# ---------------------------------------------------------------- retrieval

PASSAGES = ["nothing here", "it began on July\u00a08 with drills", "again beginning on July 8", "other"]


def test_quote_ranks_and_evidence_rank():
    gold = item(quotes=("beginning on July 8", "with drills"))
    assert M.quote_ranks(gold, PASSAGES) == [3, 2]
    assert M.evidence_rank(gold, PASSAGES) == 2
    assert M.evidence_rank(item(quotes=("absent",)), PASSAGES) is None
    assert M.evidence_rank(["with drills"], PASSAGES) == 2  # plain quote lists work too


def test_hit_recall_mrr():
    ranks = [3, None]  # two quotes: one at rank 3, one never retrieved
    assert M.hit_at_k(ranks, 1) == 0.0
    assert M.hit_at_k(ranks, 3) == 1.0
    assert M.recall_at_k(ranks, 2) == 0.0
    assert M.recall_at_k(ranks, 5) == 0.5
    assert M.reciprocal_rank(ranks) == pytest.approx(1 / 3)
    assert M.reciprocal_rank([None]) == 0.0
    # no evidence: undefined, not zero
    assert M.hit_at_k([], 5) is None and M.recall_at_k([], 5) is None and M.reciprocal_rank([]) is None


def test_ndcg():
    assert M.ndcg_at_k([1], 5) == 1.0
    assert M.ndcg_at_k([2], 5) == pytest.approx(1 / math.log2(3))
    assert M.ndcg_at_k([6], 5) == 0.0
    assert M.ndcg_at_k([None], 5) == 0.0
    # two quotes at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3)
    assert M.ndcg_at_k([1, 3], 5) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # both quotes first found in the same passage: that passage counts once
    assert M.ndcg_at_k([1, 1], 5) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # ideal is capped at k: three quotes, k=1, one at rank 1
    assert M.ndcg_at_k([1, 2, 3], 1) == 1.0
    assert M.ndcg_at_k([], 5) is None


# ---------------------------------------------------------------- answers and citations


def test_answer_correct_any_and_all():
    assert M.answer_correct(item(answers=("11 days", "11-day")), "An 11\u2011day exercise [1]")
    assert not M.answer_correct(item(answers=("July 8",)), "July 18 [1]")
    both = item(answers=("Uzbekistan", "Kazakhstan"), match="all")
    assert M.answer_correct(both, "Uzbekistan and Kazakhstan [1]")
    assert not M.answer_correct(both, "Uzbekistan [1]")
    assert M.answer_correct(item(answers=("Uzbekistan", "Kazakhstan"), match="any"), "Uzbekistan [1]")


def test_answer_correct_word_limit_counts_without_markers():
    gold = item(answers=("Y-20",))
    sixty = " ".join(["word"] * 59) + " Y-20"
    assert M.word_count(sixty + " [1] [2]") == 60
    assert M.answer_correct(gold, sixty + " [1] [2]")
    assert not M.answer_correct(gold, sixty + " more")  # 61 words


def test_answer_correct_unanswerable_is_never_correct():
    assert not M.answer_correct(item(answers=(), answerable=False, quotes=()), "anything")


def test_citation_relevance_and_evidence():
    gold = item(answers=("Y-20",), quotes=("one Y-20 heavy airlifter",))
    assert M.citation_relevant(gold, "equipment ferried on just one Y\u201120 heavy airlifter")  # evidence
    assert M.citation_relevant(gold, "The Y-20 landed.")  # answer string
    assert not M.citation_relevant(gold, "The Y-200 landed.")  # not at a word boundary
    assert M.cites_evidence(gold, ["x", "just one Y-20 heavy airlifter"]) is True
    assert M.cites_evidence(gold, ["The Y-20 landed."]) is False
    assert M.cites_evidence(item(quotes=()), ["x"]) is None


def test_score_question():
    gold = item(answers=("July 8",), quotes=("beginning on July 8",))
    o = M.score_question(gold, PASSAGES, "On July 8 [1]", False, ["again beginning on July 8", "other"], {"total": 5})
    assert o.correct is True and o.ok and o.evidence_rank == 3
    assert (o.n_citations, o.n_relevant_citations, o.cites_evidence) == (2, 1, True)
    abstained = M.score_question(gold, PASSAGES, "The documents do not say.", True, [])
    assert abstained.correct is False and abstained.cites_evidence is None and not abstained.ok
    none = item(answers=(), quotes=(), answerable=False, kind="unanswerable")
    assert M.score_question(none, PASSAGES, "x", True, []).ok
    assert M.score_question(none, PASSAGES, "x", False, ["p"]).correct is None


# ---------------------------------------------------------------- aggregates


def outcome(answerable=True, abstained=False, correct=True, ranks=(1,), cit=(1, 1), cites=True, kind="fact", t=None):
    return M.Outcome(
        id="x",
        kind=kind,
        answerable=answerable,
        abstained=abstained,
        correct=correct if answerable else None,
        quote_ranks=list(ranks) if answerable else [],
        n_citations=cit[0],
        n_relevant_citations=cit[1],
        cites_evidence=cites,
        timings=t or {},
    )


def test_answer_metrics():
    outcomes = [
        outcome(correct=True),
        outcome(correct=False),
        outcome(abstained=True, correct=False, cit=(0, 0), cites=None),
        outcome(answerable=False, abstained=True, cit=(0, 0), cites=None),
        outcome(answerable=False, abstained=False, cit=(1, 0), cites=None),
    ]
    a = M.answer_metrics(outcomes)
    assert a["accuracy"] == pytest.approx(1 / 3)
    assert a["false_abstention"] == pytest.approx(1 / 3)
    assert a["abstention"] == 0.5
    assert M.answer_metrics([outcome()])["abstention"] is None  # no unanswerable items


def test_citation_metrics_micro_precision_and_zero_citations():
    outcomes = [
        outcome(cit=(2, 1), cites=True),
        outcome(cit=(1, 1), cites=False),
        outcome(cit=(0, 0), cites=False),  # answered without citing: counts for recall and "uncited"
        outcome(abstained=True, cit=(0, 0), cites=None),  # abstained: ignored
        outcome(answerable=False, cit=(3, 0), cites=None),  # unanswerable: ignored
    ]
    c = M.citation_metrics(outcomes)
    assert c["precision"] == pytest.approx(2 / 3)  # relevant citations / all citations
    assert c["recall"] == pytest.approx(1 / 3)
    assert c["uncited"] == pytest.approx(1 / 3)
    assert M.citation_metrics([outcome(cit=(0, 0), cites=False)])["precision"] is None


def test_retrieval_metrics_over_questions_with_evidence():
    outcomes = [outcome(ranks=(1,)), outcome(ranks=(4,)), outcome(ranks=(None,)), outcome(answerable=False)]
    r = M.retrieval_metrics(outcomes)
    assert r["n"] == 3
    assert r["hit@1"] == pytest.approx(1 / 3)
    assert r["hit@5"] == pytest.approx(2 / 3)
    assert r["mrr"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert set(r) >= {"hit@3", "hit@10", "recall@5", "recall@10", "ndcg@5", "ndcg@10"}


def test_percentile_nearest_rank():
    values = [5, 1, 4, 2, 3]
    assert M.percentile(values, 50) == 3
    assert M.percentile(values, 95) == 5
    assert M.percentile(list(range(1, 21)), 95) == 19  # ceil(0.95 * 20) = 19th value
    assert M.percentile([7], 50) == 7
    assert M.percentile([], 50) is None


def test_latency_metrics_per_stage_and_total_last():
    outs = [outcome(t={"retrieve": 10, "total": 30, "generate": 20}), outcome(t={"retrieve": 30, "total": 30})]
    lat = M.latency_metrics(outs)
    assert list(lat) == ["retrieve", "generate", "total"]
    assert lat["retrieve"]["p50"] == 10 and lat["retrieve"]["p95"] == 30 and lat["retrieve"]["mean"] == 20
    assert lat["generate"]["n"] == 1


def test_aggregate_and_lookup():
    agg = M.aggregate([outcome()])
    assert M.lookup(agg, "retrieval.hit@5") == 1.0
    assert M.lookup(agg, "answers.accuracy") == 1.0
    assert M.lookup(agg, "no.such") is None


# ---------------------------------------------------------------- span answers (SQuAD F1 / EM) and long quotes


def test_span_tokens_follow_squad_normalisation_without_markers():
    assert M.span_tokens("The enveloped, non-segmented RNA viruses [1][2]") == ["enveloped", "nonsegmented", "rna", "viruses"]
    assert M.span_tokens("an apple a day") == ["apple", "day"]
    assert M.span_tokens("") == []


def test_token_f1_by_hand():
    # prediction 4 tokens, gold 4 tokens, 3 shared: precision 3/4, recall 3/4, F1 0.75
    assert M.token_f1("enveloped positive-strand RNA viruses", "enveloped positive-sense RNA viruses") == 0.75
    assert M.token_f1("June 6 [1]", "June 6") == 1.0
    assert M.token_f1("nothing shared", "June 6") == 0.0
    # a longer answer that holds the gold: precision 2/5, recall 1 -> F1 = 2*0.4/(1.4)
    assert math.isclose(M.token_f1("on June 6 they arrived", "June 6"), 0.8 / 1.4)


def test_span_f1_and_exact_match_take_the_best_gold_answer():
    gold = item(answers=("11 days", "eleven days"))
    assert M.span_f1(gold, "eleven days [1]") == 1.0 and M.exact_match(gold, "eleven days [1]") is True
    assert M.span_f1(gold, "11") == 2 * (1 * 0.5) / 1.5 and M.exact_match(gold, "11") is False
    unanswerable = item(answers=(), quotes=(), answerable=False)
    assert M.span_f1(unanswerable, "x") is None and M.exact_match(unanswerable, "x") is None


def test_outcome_scores_f1_zero_when_abstained_and_none_when_unanswerable():
    answered = M.score_question(item(), ["beginning on July 8"], "July 8 [1]", False, ["beginning on July 8"])
    abstained = M.score_question(item(), ["beginning on July 8"], "The documents do not say.", True, [])
    unanswerable = M.score_question(item(answers=(), quotes=(), answerable=False), [], "x", True, [])
    assert (answered.f1, answered.exact) == (1.0, True)
    assert (abstained.f1, abstained.exact) == (0.0, False)
    assert (unanswerable.f1, unanswerable.exact) == (None, None)
    metrics = M.answer_metrics([answered, abstained, unanswerable])
    assert metrics["f1"] == 0.5 and metrics["exact_match"] == 0.5


LONG_QUOTE = ("the virus binds to the receptor on the surface of the host cell and then "
              "fuses its envelope with the cell membrane to release its genome")  # 26 words


def test_a_passage_holding_most_of_a_long_quote_holds_it():
    words = LONG_QUOTE.split()
    head = " ".join(words[:17])  # 17 of 26 words, one run: 0.65 >= 0.6
    assert M.holds_quote(f"Earlier text. {head}", LONG_QUOTE)
    assert not M.holds_quote(" ".join(words[:15]), LONG_QUOTE)  # 15 of 26 = 0.58
    scattered = " ".join(words[:9]) + " and so on " + " ".join(words[9:18])  # two runs of 9: no run is most
    assert not M.holds_quote(scattered, LONG_QUOTE)


def test_short_quotes_must_be_held_whole():
    assert M.holds_quote("beginning on July 8, the", "beginning on July 8")
    assert not M.holds_quote("beginning on July", "beginning on July 8")


def test_long_quote_counts_for_retrieval_and_citations():
    gold = item(quotes=(LONG_QUOTE,), answers=("fuses its envelope",))
    half = " ".join(LONG_QUOTE.split()[9:])  # the last 17 words, which straddle the chunk boundary
    assert M.quote_ranks(gold, ["unrelated", half]) == [2]
    assert M.cites_evidence(gold, [half]) is True
