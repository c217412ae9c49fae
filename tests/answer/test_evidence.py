"""Evidence sentences: relevance reads a sentence under the line above it, with the real embedder."""

from __future__ import annotations

from rag.answer.evidence import Passage, Sentence, coverage, ranked_sentences, rerank, select_passages, terms
from rag.core.records import Chunk, Document, Hit
from rag.index.store import SentenceTable
from rag.ingestion.sentences import sentences_of_chunks

MANUAL = (
    "Resource settings\n"
    "shared_buffers (integer)\n"
    "Sets the amount of memory used for shared buffers. The default value is 128 megabytes (128MB).\n"
    "work_mem (integer)\n"
    "Sets the base maximum amount of memory used by a sort before it spills to disk. "
    "The default value is four megabytes (4MB). Several sessions may sort at once."
)


def _passages(question: str, embedder, weights=None):
    doc = Document("guc", "guc.html", MANUAL, "Resource settings", None, ((0, len(MANUAL)),), "hash")
    hit = Hit(Chunk("guc", 0, 0, len(MANUAL), MANUAL, 60), 1.0, 1)
    return select_passages(question, embedder.encode_query(question), [hit], {"guc": doc}, embedder, 1,
                           weights=weights)  # fmt: skip


def test_a_sentence_is_read_under_the_entry_it_belongs_to(embedder) -> None:
    """Two entries say "The default value is ..."; only the paragraph of one opens with work_mem."""
    question = "What is work_mem set to by default?"
    ranked = [s.text for _, s in ranked_sentences(_passages(question, embedder))]
    ours, other = "The default value is four megabytes (4MB).", "The default value is 128 megabytes (128MB)."
    assert ranked.index(ours) < ranked.index(other), ranked  # read alone, the two are alike
    assert all(MANUAL[s.start : s.end] == s.text for _, s in ranked_sentences(_passages(question, embedder)))


def test_rare_question_words_weigh_more_in_coverage() -> None:
    q_terms = set(terms("default value of work_mem"))
    assert coverage(q_terms, "The default value is 4MB.") == 2 / 3
    weights = {t: (0.8 if t == "work_mem" else 0.1) for t in q_terms}
    assert abs(coverage(q_terms, "The default value is 4MB.", weights) - 0.2) < 1e-9
    assert abs(coverage(q_terms, "work_mem sets memory", weights) - 0.8) < 1e-9


def test_stored_sentence_vectors_give_the_relevance_live_embedding_gives(embedder) -> None:
    """The index's sentence vectors (embedded at ingest) stand in for embedding at question time."""
    doc = Document("guc", "guc.html", MANUAL, "Resource settings", None, ((0, len(MANUAL)),), "hash")
    spans = sentences_of_chunks(MANUAL, [(0, len(MANUAL))])
    table = SentenceTable({"guc": spans}, embedder.encode([MANUAL[s:e] for s, e in spans]))
    question = "What is work_mem set to by default?"
    hit = Hit(Chunk("guc", 0, 0, len(MANUAL), MANUAL, 60), 1.0, 1)
    stored = select_passages(question, embedder.encode_query(question), [hit], {"guc": doc}, embedder, 1,
                             sentences=table)  # fmt: skip
    live = _passages(question, embedder)
    assert [s.text for s in stored[0].sentences] == [s.text for s in live[0].sentences]
    for a, b in zip(stored[0].sentences, live[0].sentences):
        assert abs(a.relevance - b.relevance) < 1e-4


def _passage(n: int, relevance: float) -> Passage:
    hit = Hit(Chunk(f"d{n}", 0, 0, 1, "x", 1), 1.0, n)
    return Passage(n, hit, "", (Sentence(0, 1, "x", relevance),))


def test_rerank_puts_the_passage_with_the_best_sentence_first_and_keeps_some_fused_order() -> None:
    passages = [_passage(1, 0.50), _passage(2, 0.52), _passage(3, 0.80)]
    order = rerank(passages, rank_prior=0.1)
    assert [p.hit.chunk.doc_id for p in order] == ["d3", "d1", "d2"]  # 0.52 - 0.1 log 2 < 0.50
    assert [p.n for p in order] == [1, 2, 3]
    assert [p.hit.chunk.doc_id for p in rerank(passages, rank_prior=0.0)] == ["d3", "d2", "d1"]
    assert [p.hit.chunk.doc_id for p in rerank(passages, rank_prior=1.0)] == ["d1", "d2", "d3"]
