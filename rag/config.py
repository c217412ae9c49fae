"""All settings in one place: defaults < config file < RAG_* environment < CLI flags.

The config file is TOML: `$RAG_CONFIG` if set, else `./rag.toml`, else
`~/.config/rag/config.toml`. Keys are the field names of `Settings`
(top level or under a `[rag]` table). Environment variables are the field
names upper-cased with a `RAG_` prefix (`RAG_TOP_K=8`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting that cannot be used; the message is one line for the user."""


def _default_path(relative: str) -> Path:
    """Repo-relative defaults when run from a checkout, else relative to the cwd."""
    candidate = PROJECT_ROOT / relative
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return candidate
    return Path.cwd() / relative


RETRIEVERS = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class Settings:
    # where things are
    collection: Path = field(default_factory=lambda: _default_path("data/corpus"))
    index_dir: Path = field(default_factory=lambda: _default_path("index"))
    gold: Path = field(default_factory=lambda: _default_path("data/gold/dev.jsonl"))
    prompts_dir: Path = field(default_factory=lambda: _default_path("prompts"))
    # embedding + chunking
    embedding_model: str = "all-MiniLM-L6-v2"  # packaged name, or a local model directory
    embed_batch_size: int = 64
    chunk_tokens: int = 128
    chunk_overlap: int = 32
    # retrieval
    retriever: str = "hybrid"
    top_k: int = 5
    candidates: int = 30  # depth each retriever contributes before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # generation
    model: str = "smollm2"  # "smollm2", "gemma3", or a path to any GGUF file
    model_dir: Path | None = None  # extra folder scanned for *.gguf (UI model picker)
    n_ctx: int = 2048
    n_threads: int = 0  # 0: all cores
    max_answer_tokens: int = 24
    temperature: float = 0.0
    seed: int = 0
    context_passages: int = 4  # passages whose sentences are considered
    prompt_sentences: int = 4  # most relevant sentences shown to the model
    # answering
    abstain_threshold: float = 0.35  # min sentence relevance to answer; eval/calibrate.py
    # answer extraction (rag/extraction.py); calibrated by eval/calibrate.py
    extract_sentences: int = 5  # most relevant sentences searched for a typed answer
    relevance_weight: float = 3.0
    draft_weight: float = 0.1
    max_question_chars: int = 2000
    # ingestion
    max_file_mb: float = 50.0

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ConfigError(f"retriever must be one of {', '.join(RETRIEVERS)}, got {self.retriever!r}")
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}")
        if self.chunk_tokens < 16:
            raise ConfigError(f"chunk_tokens must be at least 16, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError("chunk_overlap must be >= 0 and smaller than chunk_tokens")

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the non-None overrides applied (CLI flags)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return _coerce(self, clean, "command line")

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def _field_types() -> dict[str, Any]:
    return {f.name: f.type for f in fields(Settings)}


def _convert(name: str, raw: Any, where: str) -> Any:
    kind = _field_types()[name]
    try:
        if "Path" in str(kind):
            return None if raw in (None, "") else Path(str(raw)).expanduser()
        # A TOML value of the wrong type is refused, not coerced: `top_k = 2.9` must not
        # silently become 2, nor `top_k = true` become 1, nor `model = 5` become "5".
        if kind == "int":
            if isinstance(raw, (bool, float)):
                raise TypeError(name)
            return int(raw)
        if kind == "float":
            if isinstance(raw, bool):
                raise TypeError(name)
            return float(raw)
        if not isinstance(raw, str):
            raise TypeError(name)
        return raw
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} must be {kind}, got {raw!r}") from None


def _coerce(base: Settings, values: Mapping[str, Any], where: str) -> Settings:
    known = _field_types()
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    converted = {k: _convert(k, v, where) for k, v in values.items()}
    try:
        return replace(base, **converted)
    except ConfigError as exc:  # a range check in Settings: say which layer set the value
        raise ConfigError(f"{where}: {exc}") from None


def config_file(env: Mapping[str, str]) -> Path | None:
    """The config file in force, if any."""
    if env.get("RAG_CONFIG"):
        path = Path(env["RAG_CONFIG"]).expanduser()
        if not path.is_file():
            raise ConfigError(f"RAG_CONFIG points to {path}, which is not a file")
        return path
    for candidate in (Path.cwd() / "rag.toml", Path.home() / ".config" / "rag" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Resolve settings through every layer; `overrides` are CLI flags (None = not given)."""
    env = os.environ if env is None else env
    settings = Settings()
    path = config_file(env)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        data = data.get("rag", data)
        settings = _coerce(settings, data, str(path))
    from_env = {
        name: env[f"RAG_{name.upper()}"] for name in _field_types() if f"RAG_{name.upper()}" in env
    }
    settings = _coerce(settings, from_env, "environment")
    return settings.with_overrides(**overrides)
