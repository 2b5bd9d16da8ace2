"""Embedders behind one protocol, chosen by a string, with a shared on-disk cache."""

from .base import Embedder, normalize
from .cache import CachedEmbedder, EmbeddingCache
from .registry import DEFAULT_EMBEDDER, get_embedder, make_raw_embedder

__all__ = ["Embedder", "normalize", "CachedEmbedder", "EmbeddingCache", "DEFAULT_EMBEDDER",
           "get_embedder", "make_raw_embedder"]
