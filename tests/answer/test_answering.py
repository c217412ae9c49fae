"""End to end through the real CLI: retrieval, the real GGUF model, grounding, citations."""

import json

import pytest
from conftest import settings_for

pytestmark = pytest.mark.slow

EVIDENCE = "On June 6, a contingent of Chinese military personnel arrived in Belarus"
ARTICLE = "000_9c9ac89b68401338"


def _ask(rag_cli, base_index, *args):
    return rag_cli("--index-dir", str(base_index.index_dir), "ask", *args)


def test_sample_question_is_answered_with_the_passage_that_says_so(rag_cli, base_index) -> None:
    result = _ask(rag_cli, base_index, "When did Chinese troops arrive in Belarus?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "citations", "retrieved", "timings"}
    assert not data["abstained"]
    assert "June 6" in data["answer"]
    assert len(data["answer"].split()) <= 60
    cited = data["citations"]
    assert cited and all(f"[{c['n']}]" in data["answer"] for c in cited)
    assert any(c["doc"] == ARTICLE and EVIDENCE in c["text"] for c in cited)
    article = (base_index.collection / f"{ARTICLE}.txt").read_text(encoding="utf-8")
    for c in cited:
        assert article[c["start"] : c["end"]] == c["text"]
        for s in c["support"]:
            assert article[s["start"] : s["end"]] == s["text"]
    assert any(EVIDENCE in s["text"] for c in cited for s in c["support"])
    assert [r["score"] for r in data["retrieved"]] == sorted((r["score"] for r in data["retrieved"]), reverse=True)
    assert {"retrieve", "evidence", "select", "model_score", "total"} <= set(data["timings"])
    assert "generate" not in data["timings"]  # no draft unless asked for (draft = true)
    assert 0 < data["confidence"] <= 1
    (claim,) = data["claims"]
    assert article[claim["start"] : claim["end"]] == claim["text"] == "June 6"


def test_unanswerable_question_abstains(rag_cli, base_index) -> None:
    result = _ask(rag_cli, base_index, "What is the population of Belarus?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["abstained"] and data["citations"] == []


def test_terminal_output_streams_and_marks_the_supporting_sentence(rag_cli, base_index) -> None:
    result = rag_cli("--index-dir", str(base_index.index_dir), "ask", "When did Chinese troops arrive in Belarus?",
                     "--retriever", "bm25", env={"RAG_DRAFT": "true"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "draft:" in result.stderr  # tokens streamed as they were generated
    assert "Answer: June 6 [" in result.stdout
    assert f"»{EVIDENCE}" in result.stdout.replace("\n", " ").replace("  ", " ") or "»On June 6" in result.stdout
    assert ARTICLE in result.stdout


def test_a_yes_no_question_gets_a_verdict_and_the_sentence_that_settles_it(rag_cli, base_index) -> None:
    question = "Did the RQ-4B Global Hawk fly over Ukraine during its June 6 mission?"
    data = json.loads(_ask(rag_cli, base_index, question, "--json").stdout)
    assert not data["abstained"], data
    verdict, _, rest = data["answer"].partition(" — ")
    assert verdict in ("Yes", "No") and rest, data["answer"]
    (claim,) = data["claims"]
    assert claim["text"] == verdict
    article = (base_index.collection / f"{claim['doc']}.txt").read_text(encoding="utf-8")
    assert article[claim["start"] : claim["end"]].rstrip(" .;,") in rest


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("Did the RQ-4B Global Hawk fly over Ukraine during its June 6 mission?", "No"),  # "it avoided flying over Ukraine"
        ("Was the Polonez rocket artillery system developed with Chinese help?", "Yes"),  # "with significant Chinese support"
    ],
)
def test_the_verdict_is_what_the_passages_add_to_the_question(rag_cli, base_index, question, verdict) -> None:
    """The small model's own verdicts are "Yes" and "No" for these two: its lean, not the passages'."""
    data = json.loads(_ask(rag_cli, base_index, question, "--json").stdout)
    assert data["answer"].startswith(f"{verdict} — "), data["answer"]


class _Counting:
    """The real answer model, counting the times it is asked to score text."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def continuation_logprobs(self, prompt, texts):
        self.calls += 1
        return self.model.continuation_logprobs(prompt, texts)

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_the_model_is_skipped_only_where_it_could_not_change_the_answer(base_index, embedder) -> None:
    """With `skip_settled` the answers are those of the model always scoring; some need no call."""
    from rag.answer.generation.factory import load_answer_model
    from rag.answer.pipeline import Pipeline

    settings = settings_for(base_index.index_dir)
    model = _Counting(load_answer_model(settings))
    pipeline = Pipeline(settings, generator=model, embedder=embedder)
    questions = ["When did Chinese troops arrive in Belarus?", "Which aircraft ferried the Chinese equipment to Belarus?",
                 "Where is Russia's eastern military district headquartered?", "What is the population of Belarus?",
                 "Which Russian general arrived in Belarus to oversee the joint drills?",
                 "How many troops did Russia send to Belarus for the joint exercises?"]  # fmt: skip
    skipped = 0
    for question in questions:
        before = model.calls
        quick = pipeline.ask(question)
        skipped += model.calls == before
        full = pipeline.ask(question, skip_settled=False)
        assert (quick.answer, quick.abstained, quick.claims) == (full.answer, full.abstained, full.claims)
        threshold = pipeline.threshold(pipeline.settings)
        assert (quick.confidence >= threshold) == (full.confidence >= threshold)
    assert 0 < skipped < len(questions)
