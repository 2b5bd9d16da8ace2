"""Terms to columns exactly as scikit-learn's ``HashingVectorizer`` places them, without its
per-call cost or its import: the signed 32-bit murmurhash3 (x86, 32-bit) of a term's UTF-8
bytes with seed 0, its absolute value modulo the width (``sklearn/feature_extraction/_hashing_fast.pyx``).
The lexical index hashes documents and queries with it and the ``hashing`` embedder each text;
tests compare both, and :func:`murmurhash3_32` itself, with scikit-learn's own output.

The hash is written here rather than imported from ``sklearn.utils``: importing scikit-learn
takes one to two seconds, paid by every process that searches a library (a replay whose
vectors are all in the cache, the MCP server, a command line search), and a term is hashed
once and then looked up (:func:`column` keeps the last 16,384).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from functools import lru_cache

_M32 = 0xFFFFFFFF
_C1, _C2 = 0xCC9E2D51, 0x1B873593


def murmurhash3_32(key: str | bytes, seed: int = 0) -> int:
    """MurmurHash3 x86_32 of ``key`` (a ``str`` is hashed as UTF-8), as a signed 32-bit int: what
    ``sklearn.utils.murmurhash3_32(key, seed)`` returns."""
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    n = len(data)
    h = seed & _M32
    nblocks = n // 4
    for k in struct.unpack_from(f"<{nblocks}I", data):
        k = (k * _C1) & _M32
        k = ((k << 15) | (k >> 17)) & _M32
        k = (k * _C2) & _M32
        h ^= k
        h = ((h << 13) | (h >> 19)) & _M32
        h = (h * 5 + 0xE6546B64) & _M32
    tail = data[4 * nblocks:]
    if tail:
        k = 0
        for i in range(len(tail) - 1, -1, -1):
            k = (k << 8) | tail[i]
        k = (k * _C1) & _M32
        k = ((k << 15) | (k >> 17)) & _M32
        k = (k * _C2) & _M32
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


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
    h = murmurhash3_32(term)
    return (2147483647 - (width - 1)) % width if h == -2147483648 else abs(h) % width
