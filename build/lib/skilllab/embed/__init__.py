"""Embedders behind one protocol, chosen by a string, with a shared on-disk cache."""

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
