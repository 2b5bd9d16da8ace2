"""Embedders behind one protocol, chosen by a string, with a shared on-disk cache.

What lives here: the protocol (``base``), the registry (``registry``: ``minilm``, ``st:NAME``,
``openai:MODEL``, ``hashing``), the SQLite cache keyed by content hash (``cache``), and the
backends (``st``, ``openai``, ``hashing``). What it may import: numpy, ``skilllab._hashing``, ``skilllab.errors``;
torch and the openai client only inside the backend that needs them.
"""

from .base import Embedder, normalize
from .cache import CachedEmbedder, EmbeddingCache
from .registry import DEFAULT_EMBEDDER, get_embedder, make_raw_embedder

__all__ = [
           "DEFAULT_EMBEDDER",
           "CachedEmbedder",
           "Embedder",
           "EmbeddingCache",
           "get_embedder",
           "make_raw_embedder",
           "normalize",
]
