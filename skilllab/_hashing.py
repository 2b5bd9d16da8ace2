"""Terms to columns exactly as scikit-learn's ``HashingVectorizer`` places them, without its
per-call cost: the signed 32-bit murmurhash3 of a term's UTF-8 bytes (seed 0), its absolute value
modulo the width (``sklearn/feature_extraction/_hashing_fast.pyx``). The lexical index hashes each
query with it and the ``hashing`` embedder each text; both are tested to equal the vectorizer's
own output."""

from __future__ import annotations

from collections.abc import Iterable


def hashed_counts(terms: Iterable[str], width: int) -> dict[int, int]:
    """How many times each column is hit by ``terms``."""
    from sklearn.utils import murmurhash3_32

    counts: dict[int, int] = {}
    for term in terms:
        h = int(murmurhash3_32(term, seed=0))
        col = (2147483647 - (width - 1)) % width if h == -2147483648 else abs(h) % width
        counts[col] = counts.get(col, 0) + 1
    return counts
