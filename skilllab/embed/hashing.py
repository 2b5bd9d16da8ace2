"""``hashing``: a model-free embedder from scikit-learn's HashingVectorizer.

Words and word pairs are hashed into a fixed number of buckets. It knows no synonyms, so it
is a fast stand-in for big sweeps and quick tests, not the default. The vectorizer's own analyzer
makes the terms and :func:`skilllab._hashing.hashed_counts` puts them in its columns: the very
same vectors at a tenth of the cost of a ``transform`` call per text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from .._hashing import hashed_counts
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

    @property
    def dim(self) -> int:
        return self.n_features

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for i, text in enumerate(texts):
            for col, n in hashed_counts(self._analyze(text), self.n_features).items():
                out[i, col] = n
        norms = np.sqrt((out ** 2).sum(axis=1, keepdims=True))  # the vectorizer's l2 norm, then ours
        norms[norms == 0] = 1.0
        return normalize(out / norms)
