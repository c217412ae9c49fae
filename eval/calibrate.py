"""Calibrate the answer-extraction and abstention settings on a gold set, reproducibly.

    .venv/bin/python eval/calibrate.py [--gold data/gold/dev.jsonl data/gold/probe.jsonl] [--out eval/calibration.json]

Each question goes through retrieval, evidence selection and the model's
draft once (the expensive, setting-independent part). Then every setting in
the grid is replayed through the pipeline's own final stage
(`Pipeline._settle`), so the numbers are exactly what `rag eval` would see.
The chosen setting maximises accuracy + abstention - false abstention over
all the given sets pooled; ties go to the highest abstention threshold (the
most cautious). The grid is a handful of global knobs, never per-question
rules. By default it pools the dev set with the probe set (questions written
after the pipeline was built, a third of them unanswerable), so the
threshold is not fitted to the dev set's three unanswerable questions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.evidence import select_passages  # noqa: E402
from rag.answer.pipeline import ABSTAIN, Pipeline  # noqa: E402
from rag.core.records import Answer  # noqa: E402
from rag.core.settings import load_settings  # noqa: E402
from rag.eval.gold import load_gold  # noqa: E402
from rag.eval.metrics import answer_correct  # noqa: E402

GRID = {
    "abstain_threshold": [0.25, 0.30, 0.35, 0.40, 0.45],
    "relevance_weight": [1.0, 2.0, 3.0, 4.0],
    "draft_weight": [0.0, 0.1, 0.2],
}


def collect(pipeline: Pipeline, items) -> list[tuple]:
    """Per question: passages and the model's draft (what the grid does not change)."""
    rows = []
    for item in items:
        answer = pipeline.ask(item.question)
        question = pipeline.check_question(item.question)
        vec = pipeline.embedder.encode_query(question)
        passages = select_passages(
            question, vec, answer.retrieved, pipeline.index.documents, pipeline.embedder,
            pipeline.settings.context_passages,
        )
        rows.append((item, question, passages, answer.draft))
        print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    return rows


def replay(pipeline: Pipeline, rows, settings) -> dict[str, float]:
    correct = abstained_unans = abstained_ans = n_ans = n_unans = 0
    for item, question, passages, draft in rows:
        answer = Answer(question=question, answer=ABSTAIN, abstained=True)
        if passages and max(p.relevance for p in passages) >= settings.abstain_threshold:
            pipeline._settle(answer, question, passages, draft, settings)
        if item.answerable:
            n_ans += 1
            abstained_ans += answer.abstained
            correct += (not answer.abstained) and answer_correct(item, answer.answer)
        else:
            n_unans += 1
            abstained_unans += answer.abstained
    return {
        "accuracy": correct / max(n_ans, 1),
        "abstention": abstained_unans / max(n_unans, 1) if n_unans else 1.0,
        "false_abstention": abstained_ans / max(n_ans, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, nargs="+", default=None, help="gold sets, pooled")
    parser.add_argument("--out", type=Path, default=Path("eval/calibration.json"))
    args = parser.parse_args()
    settings = load_settings()
    pipeline = Pipeline(settings)
    golds = args.gold or [settings.gold, settings.gold.parent / "probe.jsonl"]
    items = [item for gold in golds for item in load_gold(gold)]
    rows = collect(pipeline, items)
    results = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values))
        metrics = replay(pipeline, rows, replace(settings, **setting))
        objective = metrics["accuracy"] + metrics["abstention"] - metrics["false_abstention"]
        results.append({**setting, **metrics, "objective": round(objective, 4)})
    best = max(results, key=lambda r: (r["objective"], r["abstain_threshold"], r["draft_weight"]))
    current = next(
        r for r in results if all(r[k] == getattr(settings, k) for k in GRID)
    )
    print(f"{'threshold':>9} {'rel_w':>5} {'draft_w':>7} {'acc':>6} {'abst':>6} {'false':>6}")
    for r in sorted(results, key=lambda r: -r["objective"])[:12]:
        print(
            f"{r['abstain_threshold']:>9.2f} {r['relevance_weight']:>5.1f} {r['draft_weight']:>7.2f} "
            f"{r['accuracy']:>6.3f} {r['abstention']:>6.3f} {r['false_abstention']:>6.3f}"
        )
    print(f"best:    {best}")
    print(f"current: {current}")
    args.out.write_text(
        json.dumps({"gold": [str(g) for g in golds], "grid": GRID, "best": best,
                    "current": current, "results": results}, indent=1),
        encoding="utf-8",
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
