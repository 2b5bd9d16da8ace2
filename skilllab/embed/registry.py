"""Embedders chosen by a string: ``minilm`` (default), ``st:NAME``, ``openai:MODEL``, ``hashing``.

Heavy dependencies (torch, the openai client) are imported only when that embedder is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .cache import CachedEmbedder, EmbeddingCache, TimedEmbedder, default_cache_dir

DEFAULT_EMBEDDER = "minilm"
KINDS = ("minilm", "st:<name-or-path>", "openai:<model>", "hashing[:<dim>]")


def make_raw_embedder(spec: str, *, device: str | None = None, batch_size: int | None = None) -> Any:
    """The embedder named by ``spec``, without a cache. ``device`` (``auto``, ``cpu``, ``cuda``,
    ``mps``) and ``batch_size`` apply to sentence-transformers models."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    st_opts: dict[str, Any] = {k: v for k, v in (("device", device), ("batch_size", batch_size)) if v is not None}
    if spec == "minilm":
        from .st import minilm

        return minilm(**st_opts)
    if spec.startswith("st:") and len(spec) > 3:
        from .st import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(spec[3:], **st_opts)
    if spec.startswith("openai:") and len(spec) > 7:
        from .openai import OpenAIEmbedder

        return OpenAIEmbedder(spec[7:])
    if spec == "hashing" or spec.startswith("hashing:"):
        from .hashing import HashingEmbedder

        try:
            return HashingEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 1024)
        except ValueError:
            raise ConfigError(f"embedder {spec!r}: hashing takes a whole number of dimensions") from None
    raise ConfigError(f"unknown embedder {spec!r}; choose one of: {', '.join(KINDS)}")


def get_embedder(spec: str = DEFAULT_EMBEDDER, cache_dir: str | Path | None | bool = None, *,
                 device: str | None = None, batch_size: int | None = None) -> Any:
    """The embedder named by ``spec``, wrapped in the on-disk cache.

    ``cache_dir=None`` uses the default cache folder; ``False`` turns the cache off. The
    ``hashing`` embedder is never cached (computing it is cheaper than looking it up).
    """
    raw = make_raw_embedder(spec, device=device, batch_size=batch_size)
    if cache_dir is False or raw.id.startswith("hashing"):
        return TimedEmbedder(raw)
    folder = default_cache_dir() if cache_dir is None or cache_dir is True else Path(cache_dir)
    return CachedEmbedder(raw, EmbeddingCache(folder / "embeddings.sqlite"))
