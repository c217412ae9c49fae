"""Fit the answer selector (rag/answer/selector.json) on every development collection, and score it honestly.

    python eval/fit_selector.py                  # collect candidates (cached), fit, write selector.json
    python eval/fit_selector.py --reuse          # fit again from the cached candidates
    python eval/fit_selector.py --ablate         # also the ablation table (each feature family off)
    RAG_FIT_DRAFT=1 python eval/fit_selector.py  # collect the model's drafts too (their variants)
    python eval/fit_selector.py --reuse --report-only  # the report for the shipped selector, no refit

For each collection of eval/suite.toml, every gold question goes through the
answer path up to the candidates (Pipeline.deliberate, unscored; with
RAG_FIT_DRAFT=1 also the model's draft, whose variants the ablation then
compares: the shipped selector does not use it); a second pass adds the
answer model's log-probabilities of each question's likeliest candidates.
Each candidate's target mixes holding a gold answer and its SQuAD span F1.
Fitted on the pooled candidates: a pairwise ranker (first stage), a second
one over the answer model's likelihood of the top K, and an answerability
model whose threshold maximises the pooled per-question utility: the
answer's quality (accuracy, or span F1 where the gold answers are spans)
when answerable, 1 for abstaining when not.

The honest estimate is leave-one-collection-out: the model and the threshold
are fitted on the other collections and score the one left out. Collections
sharing a folder (news dev and probe) are left out together. A collection the
suite marks `fit = false` is never read here: its rows in `rag eval --suite`
are out of sample for every fitted parameter.
Output: the selector, and eval/selector_report.json with both tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from rag.answer.extraction import question_type
from rag.answer.selection import (
    ANSWER_FEATURES,
    GROUPS,
    RESCORE_FEATURES,
    SELECTOR_FILE,
    Selection,
    Selector,
    admitted,
    answer_features,
    feature_names,
    load_selection,
    logit,
    question_form,
    rescore_features,
    scored,
    with_relative,
)
from rag.core.settings import load_settings
from rag.eval import metrics as M
from rag.eval.evaluation import index_dir_for, prepare_index
from rag.eval.gold import load_gold
from rag.eval.suite import load_suite

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / "reports" / "selector"
REPORT = HERE / "selector_report.json"
POSITIVE_F1 = 0.5
TOP_K = 8  # candidates the answer model re-weighs
LEARNER = os.environ.get("RAG_FIT_LEARNER", "pairwise")  # or "pointwise": compared in docs/evaluation.md
ANSWERER = os.environ.get("RAG_FIT_ANSWERER", "1") == "1"  # the answerability model (0: threshold the top)
DRAFT = os.environ.get("RAG_FIT_DRAFT", "0") == "1"  # collect the model's drafts (slow; off by default)
MARGIN = 0.25  # a pair counts when one candidate's target beats the other's by this much
PAIRS = 20  # wrong candidates paired with each right one, at most
SCORED = 16  # candidates per question scored by the answer model when collecting
C = 0.1  # inverse L2 strength: the best left-one-collection-out of 0.1 / 0.3 / 1 / 3 (docs/evaluation.md)
NLP_GROUPS = {"person", "org", "place", "group", "time", "number", "entity", "phrase"}
def _all(name: str) -> bool:
    return True


def _no_constraints(name: str) -> bool:
    return not name.startswith(("cover_", "numbers_missing", "years_missing", "names_missing", "term_"))


def _no_draft(name: str) -> bool:
    return name != "draft"


def _no_crosses(name: str) -> bool:
    return "*" not in name


def _shipped(name: str) -> bool:
    return _no_draft(name) and _no_crosses(name)


# name -> (features kept, second stage with the answer model's likelihood, records without spaCy mentions).
# The first one ships: it is the best left-one-collection-out (docs/evaluation.md). The hard rules are
# applied while collecting (Pipeline._consider), so they cannot be switched off here.
VARIANTS = {
    "model score, no draft, no form x label crosses": (_shipped, True, False),
    "with form x label crosses": (_no_draft, True, False),
    "draft + model score": (lambda n: _all(n) and _no_crosses(n), True, False),
    "draft, no model score": (lambda n: _all(n) and _no_crosses(n), False, False),
    "no answer model at all": (_shipped, False, False),
    "no constraint features": (lambda n: _shipped(n) and _no_constraints(n), True, False),
    "no spaCy mentions": (_shipped, True, True),
}
DRAFT_VARIANTS = {"draft + model score", "draft, no model score"}  # need candidates collected with drafts


# ------------------------------------------------------------ collecting candidates


def collect(entry, configured) -> list[dict]:
    """One record per gold question: the gold, and every candidate's text, features and label."""
    from rag.answer.pipeline import Pipeline, shaped

    settings = configured.with_overrides(collection=entry.collection, gold=entry.gold, draft=DRAFT)
    settings = settings.with_overrides(index_dir=index_dir_for(settings, entry.collection, configured))
    prepare_index(settings, entry.collection)
    pipeline = Pipeline(settings)
    records = []
    for item in load_gold(entry.gold):
        timings: dict[str, float] = {}
        deliberation = pipeline.deliberate(item.question, timings=timings, score=False)
        texts = [shaped(c.candidate, deliberation.view).text for c in deliberation.considered]  # as shown
        cands = []
        for c, text in zip(deliberation.considered, texts):
            cands.append({
                "text": text,
                "features": c.features,
                "f1": max((M.token_f1(text, a) for a in item.answers), default=0.0),
                "correct": M.answer_correct(item, text),
            })  # fmt: skip
        records.append({"id": item.id, "answerable": item.answerable, "spans": item.kind == "span",
                        "kind": item.kind, "gold": item.as_dict(), "candidates": cands,
                        "timings": timings})  # fmt: skip
        print(f"\r{entry.name}: {len(records)} questions", end="", file=sys.stderr)
    print(file=sys.stderr)
    return records


def add_model_scores(entry, configured, records: list[dict], first: Selector) -> None:
    """The answer model's log-probabilities of each question's SCORED top candidates under `first`
    (fitted on every collection: its top holds the top K of every leave-one-out fit but a few)."""
    from rag.answer.pipeline import Pipeline

    settings = configured.with_overrides(collection=entry.collection, gold=entry.gold)
    settings = settings.with_overrides(index_dir=index_dir_for(settings, entry.collection, configured))
    pipeline = Pipeline(settings)
    for n, record in enumerate(records, 1):
        cands = record["candidates"]
        if not cands:
            continue
        p = first.probabilities([c["features"] for c in cands])
        top = [cands[i] for i in np.argsort(-p, kind="stable")[:SCORED]]
        texts = [c["text"] for c in top if scored(c["text"])]
        deliberation = pipeline.deliberate(record["gold"]["question"], score=False)
        started = time.perf_counter()
        scores = pipeline.model_scores(deliberation.question, deliberation.passages, texts) or []
        record["timings"]["model_score"] = round((time.perf_counter() - started) * 1000, 2)
        by_text = dict(zip(texts, scores))
        for cand in cands:
            cand["lm"] = by_text.get(cand["text"])
            cand["lm_scored"] = cand["text"] in by_text or any(cand is t for t in top)
        print(f"\r{entry.name}: {n} questions scored", end="", file=sys.stderr)
    print(file=sys.stderr)


def load_records(reuse: bool) -> dict[str, tuple[str, list[dict]]]:
    """name -> (group, records); the group is the collection folder (news dev and probe share one)."""
    configured = load_settings()
    entries = [e for e in load_suite(HERE / "suite.toml") if e.fit]  # a held-out collection is never read
    out = {}
    CACHE.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        path = CACHE / f"{entry.name}.jsonl"
        if reuse and path.exists():
            records = [json.loads(line) for line in path.read_text().splitlines() if line]
        else:
            records = collect(entry, configured)
            _save(path, records)
        out[entry.name] = (str(entry.collection), [_relative(r) for r in records])
    pooled = [r for _, records in out.values() for r in records]
    first = fit(pooled, _all).first
    for entry in entries:
        records = out[entry.name][1]
        if any(c.get("lm_scored") is None for r in records for c in r["candidates"]):
            add_model_scores(entry, configured, records, first)
            _save(CACHE / f"{entry.name}.jsonl", records)
    return out


def _save(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


# ------------------------------------------------------------ fitting and scoring


def _matrix(groups: list[list[dict]], names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    at = {n: i for i, n in enumerate(names)}
    rows, labels, weights = [], [], []
    for cands in groups:
        for cand in cands:
            row = np.zeros(len(names))
            for name, value in cand["features"].items():
                if name in at:
                    row[at[name]] = value
            rows.append(row)
            labels.append(cand["f1"] >= POSITIVE_F1)
            weights.append(1.0 / len(cands))
    return np.array(rows).reshape(-1, len(names)), np.array(labels), np.array(weights)


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, names, c: float) -> Selector:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y, sample_weight=w)
    return Selector(tuple(names), mean, scale, model.coef_[0], float(model.intercept_[0]))


def _pointwise(groups: list[list[dict]], names, c: float) -> Selector:
    """A logistic regression of each candidate's label, each question weighing the same."""
    return _logistic(*_matrix(groups, names), names, c)


def target(cand: dict) -> float:
    """How good a candidate is: half for holding a gold answer (accuracy), half its span F1,
    so an exact span beats a sentence that holds it, which beats a wrong span."""
    return 0.5 * float(cand["correct"]) + 0.5 * cand["f1"]


def _ranker(groups: list[list[dict]], names, c: float) -> Selector:
    """A pairwise ranker (each question's better candidates against its worse ones), then calibrated.

    The ranking weights come from a logistic regression on feature differences
    (better minus worse by at least MARGIN in `target`, and the reverse),
    which ignores how easy a question is; a one-feature logistic regression of
    "target at least 0.5" on the ranking score (Platt scaling) then makes the
    score a probability. Both are linear: the result is one logistic model.
    """
    x, _, w = _matrix(groups, names)
    t = np.array([target(cand) for cands in groups for cand in cands])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    rng = np.random.default_rng(0)
    diffs, weights, offset = [], [], 0
    for cands in groups:
        rows = np.arange(offset, offset + len(cands))
        offset += len(cands)
        pairs = []
        for i in rows[t[rows] > 0]:
            worse = rows[t[rows] <= t[i] - MARGIN]
            pairs += [(i, j) for j in rng.permutation(worse)[:PAIRS]]
        for i, j in pairs:
            diffs.append(z[i] - z[j])
            weights.append((t[i] - t[j]) / len(pairs))
    d = np.array(diffs)
    model = LogisticRegression(C=c, max_iter=5000, fit_intercept=False)
    model.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))], sample_weight=np.r_[weights, weights])
    coef = model.coef_[0]
    platt = LogisticRegression(C=100.0, max_iter=5000)
    platt.fit((z @ coef)[:, None], t >= 0.5, sample_weight=w)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    return Selector(tuple(names), mean, scale, a * coef, b)


def fit(records: list[dict], keep, c: float = C, second: bool = False) -> Selection:
    """The first stage on every candidate; with `second`, the rescoring stage on each question's top K."""
    names = [n for n in feature_names() if keep(n) and n != "bias"]
    learn = _ranker if LEARNER == "pairwise" else _pointwise
    first = learn([r["candidates"] for r in records], names, c)
    rescorer = None
    if second:
        tops = [_rescored(r, first) for r in records]
        rescorer = learn([t for t in tops if t], RESCORE_FEATURES, c)
    staged = Selection(first, rescorer, TOP_K, 0.0)
    return with_answerer(records, staged, c) if ANSWERER else with_threshold(records, staged)


def with_answerer(records: list[dict], staged: Selection, c: float = C) -> Selection:
    """The staged selection with the answerability model and its threshold fitted on `records`."""
    rows, labels = [], []
    for record in records:
        cands, p = _ranked(record, staged)
        if cands:
            rows.append({"features": _answer_row(record, cands, p), "f1": 0.0, "correct": False})
            labels.append(record["answerable"] and quality(record, cands[0]) >= 0.5)
    x, _, _ = _matrix([rows], ANSWER_FEATURES)
    answerer = _logistic(x, np.array(labels), np.ones(len(labels)), ANSWER_FEATURES, c)
    return with_threshold(records, Selection(staged.first, staged.second, staged.top_k, 0.0, answerer))


def with_threshold(records: list[dict], selection: Selection) -> Selection:
    return Selection(selection.first, selection.second, selection.top_k, best_threshold(records, selection),
                     selection.answerer)  # fmt: skip


def _answer_row(record: dict, cands: list[dict], p: np.ndarray) -> dict:
    nxt = float(p[1]) if len(p) > 1 else None
    return answer_features(cands[0]["features"], float(p[0]), nxt, _form(cands[0]))


def _form(cand: dict) -> str:
    return next((n[5:] for n in cand["features"] if n.startswith("form_")), "other")


def _ranked(record: dict, selection: Selection) -> tuple[list[dict], np.ndarray]:
    """A question's candidates under the selection's last stage, best first, with their probabilities."""
    cands = _gated(record)
    if not cands:
        return [], np.zeros(0)
    if selection.second is not None:
        cands = _rescored(record, selection.first)
        p = selection.second.probabilities([c["features"] for c in cands])
    else:
        p = selection.first.probabilities([c["features"] for c in cands])
    order = np.argsort(-p, kind="stable")
    return [cands[i] for i in order], p[order]


def _gated(record: dict) -> list[dict]:
    """The candidates the answer path weighs (selection.admitted; a cache of older code may hold more)."""
    cands = record["candidates"]
    return [cands[i] for i in admitted([c["features"] for c in cands], _form(cands[0]) if cands else "")]


def _rescored(record: dict, first: Selector) -> list[dict]:
    """The first stage's top K candidates of a question, with the second stage's features."""
    cands = _gated(record)
    if not cands:
        return []
    p = first.probabilities([c["features"] for c in cands])
    order = np.argsort(-p, kind="stable")[:TOP_K]
    top = [cands[i] for i in order]
    rows = rescore_features(logit(p[order]).tolist(), [c.get("lm") for c in top])
    # beside its own, as the answer path's Considered.features: the answerability model reads both
    return [{**c, "features": {**c["features"], **row}} for c, row in zip(top, rows)]


def choose(record: dict, selection: Selection) -> tuple[dict | None, float]:
    """A question's best candidate and its probability under the last stage (None, 0 without candidates)."""
    cands, p = _ranked(record, selection)
    if not cands:
        return None, 0.0
    if selection.answerer is None:
        return cands[0], float(p[0])
    return cands[0], float(selection.answerer.probabilities([_answer_row(record, cands, p)])[0])


def quality(record: dict, cand: dict | None) -> float:
    if cand is None:
        return 0.0
    return cand["f1"] if record["spans"] else float(cand["correct"])


def best_threshold(records: list[dict], selection: Selection) -> float:
    chosen = [(r, *choose(r, selection)) for r in records]
    grid = sorted({round(p, 3) for _, _, p in chosen} | {0.0})

    def utility(t):
        return sum(
            (quality(r, c) if p >= t else 0.0) if r["answerable"] else float(p < t) for r, c, p in chosen
        )

    return max(grid, key=lambda t: (utility(t), -t))


def score(records: list[dict], selection: Selection) -> dict[str, float | None]:
    unanswerable, f1, correct, false_abstain = [], [], [], []
    for record in records:
        cand, p = choose(record, selection)
        answers = cand is not None and p >= selection.threshold
        if record["answerable"]:
            correct.append(bool(answers and cand["correct"]))
            f1.append(cand["f1"] if answers else 0.0)
            false_abstain.append(not answers)
        else:
            unanswerable.append(not answers)

    def mean(values):
        return round(float(np.mean(values)), 3) if values else None

    return {"accuracy": mean(correct), "f1": mean(f1), "abstention": mean(unanswerable),
            "false_abstention": mean(false_abstain), "n": len(records)}  # fmt: skip


def tables(data: dict[str, tuple[str, list[dict]]], keep, c: float = C, second: bool = False):
    """The selection fitted on everything, its in-sample scores, and the leave-one-collection-out scores."""
    return in_and_out(data, lambda records: fit(records, keep, c, second))


def answerer_tables(data: dict[str, tuple[str, list[dict]]], shipped: Selection, c: float = C):
    """The shipped stages kept, only the answerability model and threshold fitted: on everything
    (in-sample) and with each collection left out (its stages are in-sample there too)."""
    return in_and_out(data, lambda records: with_answerer(records, shipped, c))


def in_and_out(data: dict[str, tuple[str, list[dict]]], fit_on: Callable[[list[dict]], Selection]):
    """`fit_on` everything and its in-sample scores; `fit_on` all but each collection folder, scored on it."""
    pooled = [r for _, records in data.values() for r in records]
    selection = fit_on(pooled)
    in_sample = {name: score(records, selection) for name, (_, records) in data.items()}
    by_group = defaultdict(list)
    for name, (group, _) in data.items():
        by_group[group].append(name)
    loco = {}
    for group, names in by_group.items():
        held = fit_on([r for name, (g, records) in data.items() if g != group for r in records])
        for name in names:
            loco[name] = score(data[name][1], held)
    return selection, in_sample, loco


def show(title: str, in_sample: dict, loco: dict) -> None:
    print(f"\n{title}")
    print(f"{'collection':<20} {'acc':>11} {'F1':>11} {'abst':>11} {'false abst':>11}   (in-sample / left out)")
    for name in in_sample:
        a, b = in_sample[name], loco[name]

        def cell(k, a=a, b=b):
            return f"{_f(a[k]):>5}/{_f(b[k]):<5}"

        print(f"{name:<20} {cell('accuracy'):>11} {cell('f1'):>11} {cell('abstention'):>11} "
              f"{cell('false_abstention'):>11}")  # fmt: skip


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="fit from the cached candidates in reports/selector")
    parser.add_argument("--ablate", action="store_true", help="also fit every variant (ablation table)")
    parser.add_argument("--variant", default=next(iter(VARIANTS)), choices=list(VARIANTS),
                        help="the variant written to rag/answer/selector.json")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="do not overwrite rag/answer/selector.json")
    parser.add_argument("--sentences", type=int, default=None,
                        help="keep the candidates of each question's K most relevant sentences only (the "
                             "answer path's extract_sentences), from candidates collected with more")  # fmt: skip
    parser.add_argument("--answerer-only", action="store_true",
                        help="keep the shipped stages; fit only the answerability model and threshold")  # fmt: skip
    parser.add_argument("--report-only", action="store_true",
                        help="write eval/selector_report.json for the shipped selector (its replay and the "
                             "left-out fits of these candidates); rag/answer/selector.json is left as it is")  # fmt: skip
    args = parser.parse_args()
    data = load_records(args.reuse)
    if args.answerer_only:
        return _answerer_only(data, args.no_write)
    if args.report_only:
        return _report_only(data, args.variant)
    if args.sentences:
        data = {name: (g, [_within(r, args.sentences) for r in records]) for name, (g, records) in data.items()}
    nlp_off = _without_nlp_all(data)
    names = [n for n in VARIANTS if DRAFT or n not in DRAFT_VARIANTS] if args.ablate else [args.variant]
    report: dict = {"variant": args.variant, "variants": {}}
    chosen = None
    for name in names:
        keep, second, no_nlp = VARIANTS[name]
        selection, a, b = tables(nlp_off if no_nlp else data, keep, C, second)
        show(f"{name} (threshold {selection.threshold:.3f})", a, b)
        report["variants"][name] = {"threshold": selection.threshold, "in_sample": a, "leave_one_collection_out": b}
        if name == args.variant:
            chosen = selection
    if args.ablate:
        for c in (0.3, 1.0, 3.0):
            keep, second, _ = VARIANTS[args.variant]
            _, a, b = tables(data, keep, c, second)
            show(f"{args.variant}, C = {c}", a, b)
            report["variants"][f"{args.variant}, C={c}"] = {"in_sample": a, "leave_one_collection_out": b}
    if not args.no_write and chosen is not None:
        SELECTOR_FILE.write_text(json.dumps(chosen.as_dict(), indent=1) + "\n")
        REPORT.write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {SELECTOR_FILE} and {REPORT}")


def _report_only(data: dict[str, tuple[str, list[dict]]], variant: str) -> None:
    """The report the docs' tables quote, for a selector that was not refitted: without it, the
    committed report stays that of the last refit while the candidates it scored have changed."""
    shipped, replay = _shipped_replay(data)
    keep, second, no_nlp = VARIANTS[variant]
    selection, a, b = tables(_without_nlp_all(data) if no_nlp else data, keep, C, second)
    show(f"{variant}, fitted again (threshold {selection.threshold:.3f})", a, b)
    report = {"variant": variant, "shipped": {"threshold": shipped.threshold, "in_sample": replay},
              "variants": {variant: {"threshold": selection.threshold, "in_sample": a,
                                     "leave_one_collection_out": b}}}  # fmt: skip
    REPORT.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {REPORT} ({SELECTOR_FILE} unchanged)")


def _shipped_replay(data: dict[str, tuple[str, list[dict]]]) -> tuple[Selection, dict]:
    """The shipped selector and its in-sample scores on these candidates, printed."""
    shipped = load_selection(SELECTOR_FILE)
    scores = {name: score(records, shipped) for name, (_, records) in data.items()}
    show(f"shipped (threshold {shipped.threshold:.3f}; both columns in-sample)", scores, scores)
    return shipped, scores


def _without_nlp_all(data: dict[str, tuple[str, list[dict]]]) -> dict[str, tuple[str, list[dict]]]:
    return {name: (g, [_without_nlp(r) for r in records]) for name, (g, records) in data.items()}


def _answerer_only(data: dict[str, tuple[str, list[dict]]], no_write: bool) -> None:
    shipped, _ = _shipped_replay(data)
    selection, a, b = answerer_tables(data, shipped)
    show(f"answerer refitted (threshold {selection.threshold:.3f})", a, b)
    if not no_write:
        report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
        report["answerer_refit"] = {"threshold": selection.threshold, "in_sample": a, "leave_one_collection_out": b}
        SELECTOR_FILE.write_text(json.dumps(selection.as_dict(), indent=1) + "\n")
        REPORT.write_text(json.dumps(report, indent=1) + "\n")
        print(f"\nwrote {SELECTOR_FILE} and {REPORT}")


def _relative(record: dict) -> dict:
    """The record with the relative features; a yes/no question's candidates labelled by the sentence
    that settles it (its evidence quote): the verdict itself is no span, and rag eval scores it."""
    if record.get("kind") == "yesno" and record["gold"]["evidence"]:
        quote = record["gold"]["evidence"][0]["quote"]
        for c in record["candidates"]:
            c["f1"] = M.token_f1(c["text"], quote)
            c["correct"] = c["f1"] >= POSITIVE_F1
    form = question_form(record["gold"]["question"], question_type(record["gold"]["question"]))
    for c in record["candidates"]:  # the form as the answer path names it now (the cache may be older)
        feats = c["features"]
        for name in [n for n in feats if n.startswith("form_") or "*" in n]:
            del feats[name]
        feats[f"form_{form}"] = 1.0
        for group in [n[3:] for n in feats if n.startswith("is_")]:
            feats[f"{form}*{group}"] = 1.0
    rows = with_relative([c["features"] for c in record["candidates"]])
    return {**record, "candidates": [{**c, "features": row} for c, row in zip(record["candidates"], rows)]}


def _within(record: dict, sentences: int) -> dict:
    """The record as if only its `sentences` most relevant sentences had given candidates."""
    kept = [c for c in record["candidates"] if round(1 / c["features"]["sentence_rank"]) <= sentences]
    return _relative({**record, "candidates": kept})


def _without_nlp(record: dict) -> dict:
    """The record as if no spaCy mentions existed: candidates only they produced go, their labels too."""
    cands = []
    for cand in record["candidates"]:
        groups = {n[3:] for n in cand["features"] if n.startswith("is_")}
        if groups and groups <= NLP_GROUPS:
            continue
        feats = {n: v for n, v in cand["features"].items()
                 if not any(n in (f"is_{g}",) or n.endswith(f"*{g}") for g in NLP_GROUPS)}  # fmt: skip
        feats["n_sources"] = float(len(groups - NLP_GROUPS))
        cands.append({**cand, "features": feats})
    return {**record, "candidates": cands}


assert set(NLP_GROUPS) < set(GROUPS)

if __name__ == "__main__":
    main()
