"""A content-addressed, on-disk embedding cache shared across runs, processes and sweeps.

Keys are ``sha256(embedder id + NUL + text)``; values are the float32 vector bytes. It is one
SQLite file in WAL mode, so several processes (sweep workers) read and write it at once.
The default location is ``$SKILLLAB_CACHE_DIR`` or ``~/.cache/skilllab``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    env = os.environ.get("SKILLLAB_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "skilllab"


def text_key(embedder_id: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_id}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._open()
            except sqlite3.DatabaseError as exc:
                conn = self._rebuild(exc)
            self._local.conn = conn
        return conn

    def _rebuild(self, exc: Exception) -> sqlite3.Connection:
        """The cache file is damaged: move it aside and start an empty one (it only saves time)."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        log.warning("%s: embedding cache unreadable (%s); moved to %s and started afresh", self.path, exc, aside)
        old = getattr(self._local, "conn", None)
        if old is not None:
            old.close()
            self._local.conn = None
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                p.replace(Path(f"{aside}{suffix}"))
        return self._open()

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        try:
            conn = self._conn()
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                q = "SELECT key, vec FROM vectors WHERE key IN ({})".format(",".join("?" * len(chunk)))
                out.update(conn.execute(q, chunk).fetchall())
        except sqlite3.DatabaseError as exc:
            self._local.conn = self._rebuild(exc)
            return {}
        return out

    def put_many(self, items: dict[str, bytes]) -> None:
        if not items:
            return
        try:
            conn = self._conn()
            with conn:
                conn.execute("BEGIN")
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", list(items.items()))
        except sqlite3.DatabaseError as exc:
            self._local.conn = self._rebuild(exc)

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def __getstate__(self) -> Any:  # picklable for worker processes: connections are per process
        return {"path": self.path}

    def __setstate__(self, state: Any) -> None:
        self.path = state["path"]
        self._local = threading.local()


class CachedEmbedder:
    """Wraps an embedder: texts already embedded by the same model come from the cache.

    ``seconds`` counts only time spent in the wrapped model; ``hits`` / ``misses`` count texts.
    Identical texts within one call are embedded once.
    """

    def __init__(self, inner: Any, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.id = inner.id
        self.hits = 0
        self.misses = 0
        self.seconds = 0.0

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            empty: np.ndarray = self.inner.embed([])
            return empty
        keys = [text_key(self.id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in found:
                todo.setdefault(k, t)
        if todo:
            t0 = time.perf_counter()
            vecs = self.inner.embed(list(todo.values()))
            self.seconds += time.perf_counter() - t0
            new = {k: np.ascontiguousarray(v, dtype=np.float32).tobytes() for k, v in zip(todo, vecs)}
            self.cache.put_many(new)
            found.update(new)
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        return np.stack([np.frombuffer(found[k], dtype=np.float32) for k in keys]).copy()


class TimedEmbedder:
    """Wraps an embedder that is not worth caching (``hashing``), counting its time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.id = inner.id
        self.seconds = 0.0
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        t0 = time.perf_counter()
        out: np.ndarray = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t0
        self.misses += len(texts)
        return out
