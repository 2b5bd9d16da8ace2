"""The embedder protocol: an ``id``, a ``dim`` and ``embed(texts)``.

Every embedder returns float32 rows of unit length, so a dot product is a cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    id: str  # names the model and its settings; part of every cache key and index sidecar

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of L2-normalised rows."""
        ...


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Float32 copy with each row scaled to unit length (zero rows stay zero)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)
