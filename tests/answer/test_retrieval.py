"""Dense, BM25 and hybrid retrieval over a real index (MiniLM + FAISS + bm25s)."""

import pytest

from rag.answer.retrieval import RetrievalSettings, Retriever
from rag.index import store

EVIDENCE = "On June 6, a contingent of Chinese military personnel arrived in Belarus"


@pytest.fixture(scope="module")
def retriever(base_index, embedder) -> Retriever:
    return Retriever(store.load(base_index.index_dir), embedder)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_finds_the_evidence(retriever: Retriever, mode: str) -> None:
    hits = retriever.search("When did Chinese troops arrive in Belarus?", RetrievalSettings(mode=mode, top_k=5))
    assert 0 < len(hits) <= 5
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert any(EVIDENCE in h.chunk.text for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    # every hit carries both signals, whichever retriever ranked it
    assert all(h.dense is not None and h.bm25 is not None for h in hits)


def test_top_k_is_respected(retriever: Retriever) -> None:
    for k in (1, 3, 8):
        assert len(retriever.search("Belarus exercises", RetrievalSettings(top_k=k))) == k


def test_hybrid_fuses_both_rankings(retriever: Retriever) -> None:
    """Reciprocal rank fusion: the fused top-k draws on both lists and equals the formula."""
    q = "Which Belarusian political analyst is quoted about Lukashenko?"
    dense = retriever.search(q, RetrievalSettings(mode="dense", top_k=30))
    bm25 = retriever.search(q, RetrievalSettings(mode="bm25", top_k=30))
    hybrid = retriever.search(q, RetrievalSettings(mode="hybrid", top_k=5, candidates=30, rrf_k=60))
    key = lambda h: (h.chunk.doc_id, h.chunk.start)  # noqa: E731
    rank_d = {key(h): h.rank for h in dense}
    rank_b = {key(h): h.rank for h in bm25}
    for h in hybrid:
        expected = sum(1 / (60 + r[key(h)]) for r in (rank_d, rank_b) if key(h) in r)
        assert h.score == pytest.approx(expected)


def test_a_query_with_no_known_words_still_returns_dense_hits(retriever: Retriever) -> None:
    assert retriever.search("zzzqx", RetrievalSettings(mode="bm25", top_k=5)) == []
    assert len(retriever.search("zzzqx", RetrievalSettings(mode="hybrid", top_k=5))) == 5


def test_hits_holding_the_question_numbers_come_first_in_fused_order() -> None:
    from rag.answer.retrieval import promote_constrained
    from rag.core.records import Chunk, Hit

    def hit(rank: int, text: str) -> Hit:
        return Hit(Chunk("d", rank, 0, len(text), text, 5), 1.0 / rank, rank)

    hits = [hit(1, "She won Wimbledon in 2022."), hit(2, "Results of 2,021 games."), hit(3, "In 2021 she won."),
            hit(4, "The 2021 final, in 2,021 seconds.")]  # fmt: skip
    ordered = promote_constrained(hits, frozenset({"2021"}))
    assert [h.rank for h in ordered] == [2, 3, 4, 1]
    assert promote_constrained(hits, frozenset()) == hits
