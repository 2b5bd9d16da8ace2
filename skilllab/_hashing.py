"""Terms to columns exactly as scikit-learn's ``HashingVectorizer`` places them, without its
per-call cost: the signed 32-bit murmurhash3 of a term's UTF-8 bytes (seed 0), its absolute value
modulo the width (``sklearn/feature_extraction/_hashing_fast.pyx``). The lexical index hashes each
query with it and the ``hashing`` embedder each text; both are tested to equal the vectorizer's
own output."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def hashed_counts(terms: Iterable[str], width: int) -> dict[int, int]:
    """How many times each column is hit by ``terms``."""
    counts: dict[int, int] = {}
    for term in terms:
        col = column(term, width)
        counts[col] = counts.get(col, 0) + 1
    return counts


@lru_cache(maxsize=16384)  # a vocabulary is small next to the texts hashed
def column(term: str, width: int) -> int:
    """The column of one term."""
    from sklearn.utils import murmurhash3_32

    h = int(murmurhash3_32(term, seed=0))
    return (2147483647 - (width - 1)) % width if h == -2147483648 else abs(h) % width
