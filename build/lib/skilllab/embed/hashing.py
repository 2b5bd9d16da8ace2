"""``hashing``: a model-free embedder from scikit-learn's HashingVectorizer.

Words and word pairs are hashed into a fixed number of buckets. It knows no synonyms, so it
is a fast stand-in for big sweeps and quick tests, not the default.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

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

    @property
    def dim(self) -> int:
        return self.n_features

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize(self._vec.transform(list(texts)).toarray())
