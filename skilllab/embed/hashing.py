"""``hashing``: a model-free embedder from scikit-learn's HashingVectorizer.

Words and word pairs are hashed into a fixed number of buckets. It knows no synonyms, so it
is a fast stand-in for big sweeps and quick tests, not the default. The vectorizer's own analyzer
makes the terms; each term's bucket is computed here as the vectorizer computes it (signed 32-bit
murmurhash3, seed 0, absolute value modulo the width) and remembered, which gives the very same
vectors at a tenth of the cost of a ``transform`` call per text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from .base import normalize


class HashingEmbedder:
    def __init__(self, n_features: int = 1024):
        self.n_features = int(n_features)
        self.id = f"hashing:{self.n_features}"
        self._vec = HashingVectorizer(
            n_features=self.n_features,
            alternate_sign=False,
            ngram_range=(1, 2),
            norm="l2",
            stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9_]+\b",
        )

        self._analyze = self._vec.build_analyzer()
        width = self.n_features

        @lru_cache(maxsize=1 << 18)
        def bucket(term: str) -> int:
            h = int(murmurhash3_32(term, seed=0))
            return (2147483647 - (width - 1)) % width if h == -2147483648 else abs(h) % width

        self._bucket = bucket

    @property
    def dim(self) -> int:
        return self.n_features

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for i, text in enumerate(texts):
            for term in self._analyze(text):
                out[i, self._bucket(term)] += 1.0
        norms = np.sqrt((out ** 2).sum(axis=1, keepdims=True))  # the vectorizer's l2 norm, then ours
        norms[norms == 0] = 1.0
        return normalize(out / norms)
