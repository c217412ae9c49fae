"""The numpy forward pass reproduces SentenceTransformer's vectors, and answering never imports torch."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS

from rag.index.embedding import Embedder, resolve_model_dir
from rag.index.numpy_encoder import NumpyEncoder, supported

TEXTS = [
    "When did Chinese troops arrive in Belarus?",
    "",
    "a",
    "Ünïcödé: 中文, emoji 🙂, naïve café — and “quotes”.",
    "The Y-20 landed at Baranovichi Air Base on June 6, 2024.",
    " ".join(["word"] * 400),  # longer than the model's 256 word pieces: truncated, as sentence-transformers does
    (CORPUS / "001_bdcb0c2d230817f0.txt").read_text(encoding="utf-8")[:1500],
]


@pytest.fixture(scope="module")
def reference():
    torch_embedder = Embedder(backend="torch")
    return torch_embedder.encode(TEXTS)


def test_numpy_matches_sentence_transformers(reference):
    model_dir = resolve_model_dir("all-MiniLM-L6-v2")
    assert supported(model_dir)
    encoder = NumpyEncoder(model_dir)
    for batch_size in (1, 3, 32):  # padding inside a batch must not change a text's vector
        ours = encoder.encode(TEXTS, batch_size=batch_size)
        assert ours.dtype == np.float32 and ours.shape == reference.shape
        assert np.abs(ours - reference).max() < 1e-5
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_embedder_picks_numpy_for_small_inputs_and_torch_for_large(reference, monkeypatch):
    embedder = Embedder()
    assert embedder.dim == 384 and embedder.max_seq_length == 256
    assert embedder._model is None  # nothing loaded through sentence-transformers yet
    assert np.abs(embedder.encode(TEXTS) - reference).max() < 1e-5
    assert embedder._model is None  # a question's worth of text stays in numpy
    many = [t for t in TEXTS if t] * 40
    assert sum(map(len, many)) > Embedder.NUMPY_MAX_CHARS
    assert np.abs(embedder.encode(many)[: len(TEXTS) - 1] - reference[[i for i, t in enumerate(TEXTS) if t]]).max() < 1e-5
    assert embedder._model is not None  # an ingest's worth went through torch


def test_unsupported_model_directory(tmp_path):
    assert not supported(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "t5"}')
    assert not supported(tmp_path)


def test_bfloat16_weights_go_through_sentence_transformers(tmp_path, reference):
    """numpy has no bfloat16: such a model is not `supported`, and the embedder runs it on torch."""
    import torch
    from safetensors.torch import load_file, save_file

    model_dir = tmp_path / "minilm-bf16"
    shutil.copytree(resolve_model_dir("all-MiniLM-L6-v2"), model_dir)
    weights = load_file(model_dir / "model.safetensors")
    save_file({k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in weights.items()},
              model_dir / "model.safetensors")
    assert not supported(model_dir)
    with pytest.raises(ValueError, match="unsupported dtype BF16"):
        NumpyEncoder(model_dir)
    embedder = Embedder(str(model_dir))
    assert embedder._numpy is None and embedder._model is not None and embedder.dim == 384
    assert np.abs(embedder.encode(TEXTS) - reference).max() < 0.05  # bfloat16 keeps 8 bits of mantissa
    (model_dir / "model.safetensors").write_bytes(b"not a safetensors file")
    assert not supported(model_dir)


ASK_WITHOUT_TORCH = """
import sys
from pathlib import Path
from rag.core.settings import Settings
from rag.answer.pipeline import Pipeline
from rag.answer.evidence import select_passages
pipeline = Pipeline(Settings(index_dir=Path(sys.argv[1])))
question = "When did Chinese troops arrive in Belarus?"
vec = pipeline.embedder.encode_query(question)
hits = pipeline.retrieve(question, query_vec=vec)
select_passages(question, vec, hits, pipeline.index.documents, pipeline.embedder, 4)
print("torch" in sys.modules, "sentence_transformers" in sys.modules, hits[0].chunk.doc_id)
"""


def test_answering_never_imports_torch(base_index, cli_env):
    """Everything `rag ask` does before generation: load, embed the question, retrieve, score evidence."""
    proc = subprocess.run(
        [sys.executable, "-c", ASK_WITHOUT_TORCH, str(base_index.index_dir)],
        env=cli_env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False", "000_9c9ac89b68401338"]


class CountingEmbedder(Embedder):
    """The real embedder, counting the texts it actually runs through the model."""

    embedded = 0

    def encode(self, texts, progress=None):
        texts = list(texts)
        self.embedded += len(texts)
        return super().encode(texts, progress)


def test_evidence_sentences_are_embedded_once_and_the_cache_is_bounded() -> None:
    embedder = CountingEmbedder()
    embedder.SENTENCE_CACHE = 4
    first = ["June 6.", "Brest.", "June 6.", "Eleven days."]  # overlapping chunks repeat sentences
    vectors = embedder.encode_sentences(first)
    assert embedder.embedded == 3
    np.testing.assert_allclose(vectors, embedder.encode(first), atol=1e-5)
    embedder.embedded = 0
    again = embedder.encode_sentences(["Brest.", "Eleven days.", "Minsk."])
    assert embedder.embedded == 1  # only the new sentence
    np.testing.assert_allclose(again[:2], vectors[[1, 3]], atol=1e-6)
    embedder.encode_sentences(["One.", "Two.", "Three."])
    assert len(embedder._sentences) == 4  # least recently used out
    embedder.embedded = 0
    embedder.encode_sentences(["Brest."])  # pushed out by the last call
    assert embedder.embedded == 1
