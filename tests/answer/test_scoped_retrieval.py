"""Scoped retrieval: only the chosen documents' chunks, ranked exactly, and the evidence is still found."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, TINY_DOCS, doc_id, settings_for

from rag.answer.retrieval import RetrievalSettings


@pytest.fixture(scope="module")
def pipeline(base_index, embedder):
    from rag.answer.pipeline import Pipeline

    return Pipeline(settings_for(base_index.index_dir), embedder=embedder)


def _gold_in_tiny_index() -> list[dict]:
    tiny = {doc_id(n) for n in TINY_DOCS}
    rows = [json.loads(line) for line in (ROOT / "data/gold/dev.jsonl").read_text().splitlines() if line]
    return [r for r in rows if r.get("evidence") and r["evidence"][0]["doc"] in tiny]


def _hit(hits, evidence: dict) -> bool:
    return any(h.chunk.doc_id == evidence["doc"] and evidence["quote"] in h.chunk.text for h in hits)


def test_a_scoped_question_finds_its_passages_at_least_as_often(pipeline) -> None:
    """Measured on the dev questions about the tiny index's documents, each scoped to its evidence document."""
    gold = _gold_in_tiny_index()
    assert len(gold) >= 20
    whole = scoped = 0
    for row in gold:
        evidence = row["evidence"][0]
        whole += _hit(pipeline.retrieve(row["question"]), evidence)
        hits = pipeline.retrieve(row["question"], documents=[evidence["doc"]])
        assert hits and {h.chunk.doc_id for h in hits} == {evidence["doc"]}
        scoped += _hit(hits, evidence)
    print(f"hit@5 over {len(gold)} questions: whole collection {whole / len(gold):.3f}, scoped {scoped / len(gold):.3f}")
    assert scoped >= whole and scoped / len(gold) >= 0.95


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_scoped_ranking_is_the_whole_ranking_restricted_to_the_documents(pipeline, mode) -> None:
    """Exact, not oversampled: ranking every chunk and keeping the chosen document's gives the same list."""
    index, question = pipeline.index, "What did the Belarusian defence ministry announce?"
    doc = "003_096012cda1bf5463"
    n = len(index.chunks)
    everything = pipeline.retriever.search(question, RetrievalSettings(mode=mode, top_k=n, candidates=n))
    expected = [h.chunk.ordinal for h in everything if h.chunk.doc_id == doc]
    rows = index.rows_of([doc])
    within = pipeline.retriever.search(question, RetrievalSettings(mode=mode, top_k=n, candidates=n), rows=rows)
    got = [h.chunk.ordinal for h in within]
    if mode == "hybrid":  # fused ranks differ (other documents take rank places): same chunks, both fused orders
        assert sorted(got) == sorted(expected)
    else:
        assert got == expected[: len(got)] and 0 < len(got) <= len(rows)
