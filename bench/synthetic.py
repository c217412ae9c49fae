"""Synthetic collections for the scale benchmarks: clustered unit vectors and Zipf-distributed text.

Vectors: uniform noise in 384 dimensions has no near neighbours, so every
ANN index looks equally bad (or, for recall, equally meaningless). Sentence
embeddings are clustered and of low intrinsic dimension; these are drawn
from a mixture of Gaussians in a 64-dimensional latent space, projected to
384 dimensions, with a little isotropic noise, and L2-normalised.

Text: words sampled with Zipf's law (s = 1.07) over a vocabulary whose head is
the real corpus' own words (most frequent first) and whose tail is made-up
pronounceable words, so BM25 sees realistic posting-list lengths: a few
very long lists, a long tail of short ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

LATENT_DIM = 64
CLUSTERS = 2_000


class VectorSource:
    """Deterministic batches of clustered, normalised float32 vectors (the same seed, the same data)."""

    def __init__(self, dim: int = 384, seed: int = 0, clusters: int = CLUSTERS, spread: float = 0.55):
        rng = np.random.default_rng(seed)
        self.dim = dim
        self.centers = rng.normal(size=(clusters, LATENT_DIM)).astype(np.float32)
        # cluster sizes vary (a few big topics, many small ones)
        weights = rng.pareto(1.5, size=clusters) + 1.0
        self.weights = weights / weights.sum()
        self.projection = (rng.normal(size=(LATENT_DIM, dim)) / np.sqrt(LATENT_DIM)).astype(np.float32)
        self.spread = spread
        self.seed = seed

    def batch(self, n: int, stream: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, stream])
        labels = rng.choice(len(self.centers), size=n, p=self.weights)
        latent = self.centers[labels] + self.spread * rng.normal(size=(n, LATENT_DIM)).astype(np.float32)
        x = latent @ self.projection + 0.05 * rng.normal(size=(n, self.dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float32)

    def vectors(self, n: int, batch: int = 100_000) -> np.ndarray:
        out = np.empty((n, self.dim), dtype=np.float32)
        for i, start in enumerate(range(0, n, batch)):
            stop = min(n, start + batch)
            out[start:stop] = self.batch(stop - start, stream=i)
        return out

    def queries(self, n: int) -> np.ndarray:
        return self.batch(n, stream=10_000_000)  # a stream no collection batch uses


def corpus_words(folder: Path) -> list[str]:
    """Words of the real corpus, most frequent first."""
    counts: Counter[str] = Counter()
    for path in sorted(folder.glob("*.txt")):
        counts.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", path.read_text(encoding="utf-8")))
    return [w for w, _ in counts.most_common()]


def made_up_words(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    consonants, vowels = list("bcdfghklmnprstvz"), list("aeiou")
    words, seen = [], set()
    while len(words) < n:
        syllables = rng.integers(2, 5)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextSource:
    """Chunk-like texts of about `words` words, Zipf-sampled over a realistic vocabulary."""

    def __init__(self, corpus: Path, vocabulary: int = 200_000, words: int = 95, seed: int = 0, zipf_s: float = 1.07):
        head = corpus_words(corpus)
        self.vocab = np.array(head + made_up_words(max(0, vocabulary - len(head)), seed + 1), dtype=object)
        ranks = np.arange(1, len(self.vocab) + 1, dtype=np.float64)
        p = ranks**-zipf_s
        self.cdf = np.cumsum(p / p.sum())
        self.words = words
        self.seed = seed

    def texts(self, n: int, stream: int = 0, batch: int = 50_000) -> Iterator[str]:
        rng = np.random.default_rng([self.seed, stream])
        for start in range(0, n, batch):
            m = min(batch, n - start)
            lengths = rng.integers(self.words // 2, self.words * 3 // 2, size=m)
            ids = np.searchsorted(self.cdf, rng.random(int(lengths.sum())))
            ids = np.minimum(ids, len(self.vocab) - 1)
            words = self.vocab[ids]
            offset = 0
            for length in lengths:
                yield " ".join(words[offset : offset + length])
                offset += length

    def queries(self, texts: list[str], n: int, terms: int = 5, seed: int = 7) -> list[str]:
        """Questions made of a few content words of random collection texts (each has matches).

        The 200 most frequent words (function words, mostly) are left out, as a
        question's stop words are.
        """
        rng = np.random.default_rng(seed)
        common = set(self.vocab[:200].tolist())
        out = []
        for i in rng.choice(len(texts), size=n, replace=False):
            words = [w for w in texts[i].split() if w not in common] or texts[i].split()
            out.append(" ".join(rng.choice(words, size=min(terms, len(words)), replace=False)))
        return out


def shuffled_copies(corpus: Path, dest: Path, copies: int, seed: int = 0) -> Path:
    """A bigger real-text collection: `copies` of each article with its sentences reordered.

    Every copy has the corpus' vocabulary and sentence lengths (what
    embedding cost depends on) but different chunk texts, so no chunk is a
    duplicate that an ingest could embed once for several.
    """
    from rag.ingestion.sentences import split_sentences

    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        title, _, body = text.partition("\n")
        sentences = [body[s:e] for s, e in split_sentences(body, 0, len(body))]
        for copy in range(copies):
            order = rng.permutation(len(sentences))
            paragraphs = [" ".join(sentences[i] for i in order[p : p + 4]) for p in range(0, len(order), 4)]
            out = f"{title} (copy {copy})\n" + "\n\n".join(paragraphs) + "\n"
            (dest / f"{path.stem}_copy{copy:03d}.txt").write_text(out, encoding="utf-8")
    return dest
