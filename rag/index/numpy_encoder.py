"""A BERT sentence encoder (e.g. all-MiniLM-L6-v2) run in numpy.

Why: importing torch, transformers and sentence-transformers costs seconds
of every `rag ask` cold start, to embed one question and a few dozen
evidence sentences. This forward pass needs only numpy and the Rust
`tokenizers` and `safetensors` packages, reads the same `model.safetensors`
and `tokenizer.json`, and reproduces SentenceTransformer's vectors to float32
rounding (about 1e-6; tests/index/test_numpy_encoder.py checks it). Only the
layout sentence-transformers uses for BERT with mean pooling, in float32 or
float16 weights, is supported; `supported()` says whether a model directory
has it, and anything else (bfloat16 weights included: numpy has no such type)
goes through sentence-transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

# the safetensors dtypes read here; numpy has no bfloat16, so `supported` sends BF16 weights to torch
_DTYPES = frozenset({"F32", "F16", "I64"})


def supported(model_dir: Path) -> bool:
    """True for a sentence-transformers BERT with mean pooling (and optional normalisation)."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and kinds[:2] == ["Transformer", "Pooling"]
        and set(kinds[2:]) <= {"Normalize"}
        and modes == {"pooling_mode_mean_tokens"}
        and (model_dir / "tokenizer.json").is_file()
        and _numpy_holds(model_dir / "model.safetensors")
    )


def _numpy_holds(weights: Path) -> bool:
    """Whether `weights` is a safetensors file whose tensors all have a dtype read here."""
    try:
        with safe_open(weights, framework="np") as tensors:
            return _foreign_dtype(tensors) is None
    except (OSError, SafetensorError):
        return False


def _foreign_dtype(tensors) -> tuple[str, str] | None:
    """(name, dtype) of the first tensor of an open safetensors file whose dtype is not read here."""
    for name in tensors.keys():
        dtype = tensors.get_slice(name).get_dtype()
        if dtype not in _DTYPES:
            return name, dtype
    return None


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT uses; erf to 1.5e-7 by Abramowitz & Stegun 7.1.26, in place.

    No scipy import, and the approximation error is below float32 rounding.
    """
    z = x * np.float32(0.7071067811865476)
    a = np.abs(z)
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(c)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|z|)
    np.subtract(np.float32(1.0), poly, out=poly)
    np.copysign(poly, z, out=poly)  # erf(z)
    poly += 1.0
    poly *= x
    poly *= np.float32(0.5)
    return poly


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


class NumpyEncoder:
    """SentenceTransformer(model_dir).encode(texts, normalize_embeddings=True), in numpy."""

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        st_config_path = model_dir / "sentence_bert_config.json"
        st_config = json.loads(st_config_path.read_text(encoding="utf-8")) if st_config_path.is_file() else {}
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        self.normalize = any(m["type"].endswith("Normalize") for m in modules)
        self.max_seq_length = int(st_config.get("max_seq_length") or config["max_position_embeddings"])
        self.dim = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._read_weights(model_dir / "model.safetensors", int(config["num_hidden_layers"]))

    def _read_weights(self, path: Path, n_layers: int) -> None:
        """The weights as float32, tensor by tensor; Q, K and V joined into one matrix per layer."""
        with safe_open(path, framework="np") as tensors:
            foreign = _foreign_dtype(tensors)
            if foreign:
                raise ValueError(f"{path.name}: unsupported dtype {foreign[1]} for {foreign[0]}")
            prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors.keys() else ""

            def get(name: str) -> np.ndarray:
                return np.asarray(tensors.get_tensor(prefix + name), dtype=np.float32)

            self.word = get("embeddings.word_embeddings.weight")
            self.position = get("embeddings.position_embeddings.weight")
            self.token_type = get("embeddings.token_type_embeddings.weight")[0]
            self.emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
            self.layers = []
            for i in range(n_layers):
                p = f"encoder.layer.{i}."
                qkv_w = np.concatenate(
                    [get(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]
                ).T.copy()
                qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
                self.layers.append(
                    (
                        qkv_w,
                        qkv_b,
                        get(p + "attention.output.dense.weight").T,  # a view: BLAS reads it transposed
                        get(p + "attention.output.dense.bias"),
                        (get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias")),
                        get(p + "intermediate.dense.weight").T,
                        get(p + "intermediate.dense.bias"),
                        get(p + "output.dense.weight").T,
                        get(p + "output.dense.bias"),
                        (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                    )
                )

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings of `texts`, batched by length (less padding), returned in input order.

        BLAS runs on one thread: the per-head attention products are small, and
        multi-threaded OpenBLAS spinning on them on a busy 2-core machine was
        measured 100x slower than one thread.
        """
        from threadpoolctl import threadpool_limits

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                out[rows] = self._forward([encodings[i].ids for i in rows])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.emb_ln, self.eps).reshape(n * length, self.dim)
        head_dim = self.dim // self.heads
        scale = np.float32(1.0 / np.sqrt(head_dim))
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padding gets no attention
        for qkv_w, qkv_b, out_w, out_b, ln1, in_w, in_b, ff_w, ff_b, ln2 in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(n, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, self.dim)
            x = _layer_norm(x + (context @ out_w + out_b), *ln1, self.eps)
            x = _layer_norm(x + (_gelu(x @ in_w + in_b) @ ff_w + ff_b), *ln2, self.eps)
        x = x.reshape(n, length, self.dim)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)
