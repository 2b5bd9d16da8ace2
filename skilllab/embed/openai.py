"""``openai:<model>``: any OpenAI-compatible embeddings endpoint (OpenAI, vLLM, Ollama, ...).

The endpoint comes from ``base_url`` or ``OPENAI_BASE_URL``, the key from ``api_key`` or
``OPENAI_API_KEY`` (never from a config file that is written to a run folder).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import normalize


class OpenAIEmbedder:
    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 batch_size: int = 256, timeout: float = 60.0, max_retries: int = 3):
        self.model = model
        self.id = f"openai:{model}"
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.api_key = api_key
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: Any = None
        self._dim: int | None = None

    def _clientobj(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            key = self.api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
            self._client = OpenAI(base_url=self.base_url, api_key=key, timeout=self.timeout,
                                  max_retries=self.max_retries)
        return self._client

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        rows: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            resp = self._clientobj().embeddings.create(model=self.model, input=texts[i : i + self.batch_size])
            rows.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        out = normalize(np.asarray(rows, dtype=np.float32))
        self._dim = out.shape[1]
        return out
