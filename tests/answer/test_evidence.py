"""Evidence sentences: relevance reads a sentence under the line above it, with the real embedder."""

from __future__ import annotations

from rag.answer.evidence import coverage, ranked_sentences, select_passages, terms
from rag.core.records import Chunk, Document, Hit

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
