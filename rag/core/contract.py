"""The `rag ask --json` object: a contract that `rag eval` and other tools read.

    {
      "question":  str,
      "answer":    str,            # short answer with [n] markers, or the abstention text
      "abstained": bool,
      "citations": [{"n", "doc", "title", "start", "end", "text", "support": [{"start", "end", "text"}]}],
      "claims":    [{"text", "n", "doc", "start", "end"}],   # each part of the answer and its own support
      "confidence": float | null,  # the answer selector's probability for the answer (also when abstaining;
                                   # a bound on its side of the threshold where the model was not needed)
      "retrieved": [{"doc", "start", "end", "text", "score"}],   # rank order
      "timings":   {stage: milliseconds, ..., "total": ms},
      "scope":     [doc, ...],     # the documents the question was asked of (--doc); empty: all
      "intent":    str             # "passages", or the collection question it was (about_collection.py)
    }

`rag summarize --json` prints `summary_to_json` (one document) or `topics_to_json` (`--all`).

`doc` is the file name without extension; `start`/`end` are character
offsets into the article text, so `article[start:end] == text`.
Fields may be added; none will be renamed or removed.
"""

from __future__ import annotations

from typing import Any

from rag.core.records import Answer, Citation, Claim, Document, Summary, Topic


def answer_to_json(answer: Answer, documents: dict[str, Document]) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "doc": c.doc_id,
                "title": c.title,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "support": [
                    {"start": s, "end": e, "text": documents[c.doc_id].text[s:e]} for s, e in c.support
                ],
            }
            for c in answer.citations
        ],
        "claims": [
            {"text": c.text, "n": c.n, "doc": c.doc_id, "start": c.start, "end": c.end} for c in answer.claims
        ],
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "retrieved": [
            {
                "doc": h.chunk.doc_id,
                "start": h.chunk.start,
                "end": h.chunk.end,
                "text": h.chunk.text,
                "score": round(h.score, 6),
            }
            for h in answer.retrieved
        ],
        "timings": answer.timings,
        "scope": list(answer.scope),
        "intent": answer.intent,
    }


def summary_to_json(summary: Summary) -> dict[str, Any]:
    """{"doc", "title", "sentences": [{"text", "start", "end"}]}: `article[start:end] == text`."""
    return {
        "doc": summary.doc_id,
        "title": summary.title,
        "sentences": [{"text": s.text, "start": s.start, "end": s.end} for s in summary.sentences],
    }


def topics_to_json(topics: list[Topic]) -> dict[str, Any]:
    """{"topics": [{"terms", "documents": [summary_to_json, ...]}]}, largest topic first."""
    return {"topics": [{"terms": list(t.terms), "documents": [summary_to_json(s) for s in t.summaries]}
                       for t in topics]}  # fmt: skip


def answer_from_json(data: dict[str, Any]) -> Answer:
    """An `Answer` back from its JSON object, for showing a stored turn again.

    Everything shown is restored (answer, citations with their support spans,
    claims, confidence, timings); `retrieved` stays empty, since a ranked chunk
    is not needed to show an answer and its JSON lacks what a `Hit` holds.
    """
    return Answer(
        question=data["question"],
        answer=data["answer"],
        abstained=bool(data["abstained"]),
        citations=[
            Citation(c["n"], c["doc"], c["title"], c["start"], c["end"], c["text"],
                     tuple((s["start"], s["end"]) for s in c.get("support", ())))
            for c in data.get("citations", ())
        ],
        timings=dict(data.get("timings", {})),
        claims=[Claim(c["text"], c["n"], c["doc"], c["start"], c["end"]) for c in data.get("claims", ())],
        confidence=data.get("confidence"),
        scope=tuple(data.get("scope", ())),
        intent=data.get("intent", "passages"),
    )
