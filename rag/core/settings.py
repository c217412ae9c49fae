"""All settings in one place: defaults < config file < RAG_* environment < CLI flags.

The config file is TOML: `$RAG_CONFIG` if set, else `./rag.toml`, else
`~/.config/rag/config.toml`. Keys are the field names of `Settings`
(top level or under a `[rag]` table). Environment variables are the field
names upper-cased with a `RAG_` prefix (`RAG_TOP_K=8`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_path(relative: str) -> Path:
    """Repo-relative defaults when run from a checkout, else relative to the cwd."""
    candidate = PROJECT_ROOT / relative
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return candidate
    return Path.cwd() / relative


RETRIEVERS = ("dense", "bm25", "hybrid")
VECTOR_INDEXES = ("auto", "flat", "hnsw", "ivfpq")
BACKENDS = ("llama", "openai")  # in-process llama-cpp-python | any OpenAI-compatible chat server
VECTOR_STORES = ("faiss", "pgvector")  # dense vectors on disk (FAISS) | in PostgreSQL with pgvector


@dataclass(frozen=True)
class Settings:
    # where things are
    collection: Path = field(default_factory=lambda: _default_path("data/corpus"))
    index_dir: Path = field(default_factory=lambda: _default_path("index"))
    gold: Path = field(default_factory=lambda: _default_path("data/gold/dev.jsonl"))
    prompts_dir: Path = field(default_factory=lambda: _default_path("prompts"))
    # embedding + chunking
    embedding_model: str = "all-MiniLM-L6-v2"  # packaged name, or a local model directory
    embed_batch_size: int = 32  # bench/results.md: on 2 cores 16-32 embed ~10 % faster than 64 and 128
    embed_checkpoint: int = 1024  # chunks embedded between checkpoints an interrupted ingest resumes from
    chunk_tokens: int = 128
    chunk_overlap: int = 32
    # dense vector index (rag/index/vector_index.py); chosen from bench/results.md (make bench, make bench-scale)
    vector_index: str = "auto"  # auto | flat | hnsw | ivfpq
    flat_max_vectors: int = 50_000  # auto: exact search up to this many chunks (~15 ms a query at 50k)
    hnsw_max_vectors: int = 250_000  # auto: HNSW up to this many, IVF-PQ above (HNSW builds 7x slower at 1M)
    hnsw_m: int = 32
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 64
    ivf_nprobe: int = 64  # clusters scanned per query, of about sqrt(n): recall@10 0.97 at 100k and 1M
    pq_bytes: int = 48  # bytes per compressed vector
    rerank_candidates: int = 200  # IVF-PQ candidates re-scored exactly against vectors.npy
    # where dense vectors are searched (rag/index/vector_store.py): FAISS files, or PostgreSQL with pgvector
    vector_store: str = "faiss"  # faiss | pgvector
    database_url: str = ""  # postgresql://...; empty: the bundled local server (rag/index/pg_local.py)
    pg_table_prefix: str = "rag"  # tables <prefix>_chunks, ... (several indexes can share a database)
    # retrieval
    retriever: str = "hybrid"
    top_k: int = 5
    candidates: int = 30  # depth each retriever contributes before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # the fused top hits re-ordered by their most relevant sentence (0: the fused order);
    # each step down the fused order costs rerank_prior x log1p(rank - 1) of relevance
    rerank_depth: int = 20
    rerank_prior: float = 0.1
    # generation
    model: str = "smollm2"  # "smollm2", "gemma3", or a path to any GGUF file
    model_dir: Path | None = None  # extra folder scanned for *.gguf (UI model picker)
    n_ctx: int = 2048
    n_threads: int = 0  # 0: all cores for one-shot commands, all but one in servers (see for_server)
    max_answer_tokens: int = 24
    temperature: float = 0.0
    seed: int = 0
    context_passages: int = 4  # passages whose sentences are considered
    # where the answer model runs (rag/answer/generation/remote.py): "llama" loads `model` in
    # process; "openai" sends chat requests to an OpenAI-compatible server (llama.cpp's
    # server, vLLM, Ollama, a hosted API) at `base_url`, with `n_ctx` as the prompt budget
    backend: str = "llama"
    base_url: str = "http://127.0.0.1:8080/v1"  # llama.cpp server's default address
    remote_model: str = ""  # model name sent to the server; "" = the first one its /v1/models lists
    api_key_env: str = "OPENAI_API_KEY"  # environment variable holding the server's API key
    remote_timeout: float = 60.0  # seconds per request
    remote_retries: int = 1  # retries after a failed connection or a 5xx/429 answer
    remote_grammar: bool = True  # send the answer's constraint as a GBNF grammar (llama.cpp's `grammar` field)
    prompt_sentences: int = 4  # most relevant sentences shown to the model
    # answering
    # the answer selector's probability below which the answer is "the documents do not say";
    # None: the threshold fitted with the selector (eval/fit_selector.py)
    abstain_threshold: float | None = None
    extract_sentences: int = 12  # most relevant sentences whose spans are answer candidates
    # answer selection (rag/answer/selection.py): the fitted selector, and whether the answer
    # model's draft is asked for (one of the selector's features)
    selector: Path | None = None  # None: the bundled rag/answer/selector.json (eval/fit_selector.py)
    draft: bool = False  # off: it adds nothing the selector can use (docs/evaluation.md), and costs ~0.6 s
    constraints: bool = True  # retrieval puts the hits holding the years the question writes first
    model_score: bool = True  # the answer model re-weighs the selector's top candidates by their likelihood
    skip_settled: bool = True  # ... unless no likelihood it could give would change the answer (Selection.settled)
    max_question_chars: int = 2000
    # the documents questions are asked of (IDs, prefixes or globs; rag/index/scope.py); empty: all of them
    documents: tuple[str, ...] = ()
    summary_sentences: int = 5  # sentences in a document's summary (rag/answer/summary.py)
    # ingestion
    max_file_mb: float = 50.0

    def __post_init__(self) -> None:
        if self.retriever not in RETRIEVERS:
            raise ConfigError(f"retriever must be one of {', '.join(RETRIEVERS)}, got {self.retriever!r}")
        if self.vector_index not in VECTOR_INDEXES:
            raise ConfigError(
                f"vector_index must be one of {', '.join(VECTOR_INDEXES)}, got {self.vector_index!r}"
            )
        for name in ("embed_batch_size", "embed_checkpoint", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search",
                     "ivf_nprobe", "pq_bytes", "rerank_candidates"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.vector_store not in VECTOR_STORES:
            raise ConfigError(
                f"vector_store must be one of {', '.join(VECTOR_STORES)}, got {self.vector_store!r}"
            )
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("database_url must be a postgresql:// URL (or empty for the bundled local server)")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", self.pg_table_prefix):
            raise ConfigError(
                f"pg_table_prefix must be lower-case letters, digits and _ (at most 41), got {self.pg_table_prefix!r}"
            )
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}")
        if self.chunk_tokens < 16:
            raise ConfigError(f"chunk_tokens must be at least 16, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError("chunk_overlap must be >= 0 and smaller than chunk_tokens")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.backend == "openai" and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must be an http:// or https:// URL, got {self.base_url!r}")
        if self.remote_timeout <= 0:
            raise ConfigError(f"remote_timeout must be positive, got {self.remote_timeout}")
        if self.summary_sentences < 1:
            raise ConfigError(f"summary_sentences must be at least 1, got {self.summary_sentences}")
        if self.remote_retries < 0:
            raise ConfigError(f"remote_retries must be >= 0, got {self.remote_retries}")

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the non-None overrides applied (CLI flags)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        return _coerce(self, clean, "command line")

    def for_server(self) -> Settings:
        """These settings for a long-lived server that also embeds queries while it generates.

        llama.cpp's worker threads spin while they wait: with a thread on every
        core, a busy neighbour (the embedder, another request, another process)
        slowed one generation here from 0.5 s to 80 s. So an unset `n_threads`
        leaves one core free in the UI and API servers.
        """
        if self.n_threads:
            return self
        return replace(self, n_threads=max(1, (os.cpu_count() or 2) - 1))

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain values; a password in database_url is masked (`rag config`, reports)."""
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        data["database_url"] = mask_password(self.database_url)
        return data


def mask_password(url: str) -> str:
    """`url` with the password of its user part, if any, replaced by ***."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^/]*@", r"\1:***@", url)


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _field_types() -> dict[str, Any]:
    return {f.name: f.type for f in fields(Settings)}


def _convert(name: str, raw: Any, where: str) -> Any:
    kind = _field_types()[name]
    try:
        if "Path" in str(kind):
            return None if raw in (None, "") else Path(str(raw)).expanduser()
        if kind == "bool":  # TOML true/false; from the environment or a flag, the usual spellings
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in _BOOL_WORDS:
                return _BOOL_WORDS[raw.strip().lower()]
            raise TypeError(name)
        # A TOML value of the wrong type is refused, not coerced: `top_k = 2.9` must not
        # silently become 2, nor `top_k = true` become 1, nor `model = 5` become "5".
        if kind == "int":
            if isinstance(raw, (bool, float)):
                raise TypeError(name)
            return int(raw)
        if kind == "tuple[str, ...]":  # a TOML list, or comma-separated from the environment or a flag
            items = raw.split(",") if isinstance(raw, str) else raw
            if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
                raise TypeError(name)
            return tuple(x.strip() for x in items if x.strip())
        if kind == "float | None" and raw in (None, ""):
            return None
        if kind in ("float", "float | None"):
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
