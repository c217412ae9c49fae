"""Every development collection in one run: `rag eval --suite eval/suite.toml` (`make eval-all`).

A suite file lists collections of different kinds, each with its gold set
and its own quality-gate baseline:

    [[collection]]
    name = "news-dev"
    collection = "../data/corpus"
    gold = "../data/gold/dev.jsonl"
    baseline = "baseline.json"           # optional: gate this collection against it
    fit = false                          # optional: held out, eval/fit_selector.py never reads it

Paths are relative to the suite file's folder. Each
collection is evaluated like `rag eval --collection C --gold G --check B`
(`session.run_session`) and its reports go to `<report_dir>/<name>/`; the
result is one row per collection, so overfitting to one of them shows.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import ConfigError
from rag.core.settings import Settings
from rag.eval.session import EvalRequest, EvalResult, SessionProgress, run_session

_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")


@dataclass(frozen=True)
class SuiteEntry:
    name: str
    collection: Path
    gold: Path
    baseline: Path | None = None
    fit: bool = True  # the answer selector is fitted on it (false: held out, its rows are out of sample)


@dataclass(frozen=True)
class SuiteResult:
    entry: SuiteEntry
    result: EvalResult

    @property
    def passed(self) -> bool:
        return self.result.gate is None or self.result.gate.passed


def _entry(raw: object, base: Path, where: str) -> SuiteEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each [[collection]] must be a table")
    unknown = sorted(set(raw) - {"name", "collection", "gold", "baseline", "fit"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: name, collection, gold, baseline, fit)")
    if not isinstance(raw.get("fit", True), bool):
        raise ConfigError(f"{where}: 'fit' must be true or false")
    for key in ("name", "collection", "gold"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: {key!r} must be a non-empty string")
    if not _NAME.fullmatch(raw["name"]):
        raise ConfigError(f"{where}: name {raw['name']!r} must be letters, digits, '.', '_' or '-'")
    baseline = raw.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or not baseline.strip()):
        raise ConfigError(f"{where}: 'baseline' must be a non-empty string")
    return SuiteEntry(raw["name"], (base / raw["collection"]).resolve(), (base / raw["gold"]).resolve(),
                      (base / baseline).resolve() if baseline else None, raw.get("fit", True))


def load_suite(path: Path) -> list[SuiteEntry]:
    """The collections of a suite file; a one-line ConfigError when it cannot be used."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"suite {path}: {' '.join(str(exc).split())}") from None
    rows = data.get("collection")
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"suite {path} lists no [[collection]]")
    base = Path(path).resolve().parent
    entries = [_entry(raw, base, f"suite {path}, collection {i}") for i, raw in enumerate(rows, 1)]
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ConfigError(f"suite {path}: collection names must be unique")
    return entries


def run_suite(configured: Settings, entries: Sequence[SuiteEntry], report_dir: Path, *,
              index_root: Path | None = None, limit: int | None = None,
              progress: Callable[[SuiteEntry], SessionProgress] | None = None,
              write_baselines: bool = False) -> list[SuiteResult]:
    """Evaluate each collection with the configured retriever (or its baseline's), gated by its baseline
    (or, with `write_baselines`, writing this run as the baseline of each collection that names one).

    Each collection keeps its own index: `index_root/<name>` when given, else where `rag eval`
    would put it (the configured index for the configured collection, a cache folder otherwise).
    """
    results = []
    for entry in entries:
        settings = configured if index_root is None else configured.with_overrides(index_dir=index_root / entry.name)
        check = entry.baseline if entry.baseline is not None and entry.baseline.exists() else None
        written = entry.baseline if write_baselines else None
        request = EvalRequest(gold=entry.gold, collection=entry.collection, check=None if written else check,
                              report_dir=report_dir / entry.name, limit=limit, write_baseline=written)
        results.append(SuiteResult(entry, run_session(settings, request, progress(entry) if progress else None)))
    return results
