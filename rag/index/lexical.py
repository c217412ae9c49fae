"""Tokenisation for BM25: lower-case words, English stop words out, Snowball stems.

Single characters are kept (the default bm25s pattern drops them), because
dates and numbers such as "June 6" or "Y-20" hinge on them.
"""

from __future__ import annotations

from functools import lru_cache

TOKEN_PATTERN = r"(?u)\b\w+\b"


@lru_cache(maxsize=1)
def stemmer():
    """The English Snowball stemmer, loaded once (BM25 and evidence terms share it)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts,
        token_pattern=TOKEN_PATTERN,
        stopwords="english",
        stemmer=stemmer(),
        return_ids=False,
        show_progress=False,
    )
