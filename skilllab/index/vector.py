"""Vector indexes keyed by document name: ``hnsw`` (hnswlib, the default) and ``exact`` (numpy).

Both speak one small protocol: ``upsert``, ``remove``, ``search`` (cosine similarity, higher
is closer) plus ``save``/``load``. hnswlib's cosine *distance* is turned into a similarity in
exactly one place, :func:`_similarity`. The HNSW index grows as needed; names map to integer
labels that are reused when a removed name comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from .._fs import atomic_write, read_json, write_json


class Hit(NamedTuple):
    """A document found and its cosine similarity (a named tuple: a search makes a hundred)."""

    name: str
    similarity: float


class VectorIndex(Protocol):
    dim: int

    def upsert(self, names: list[str], vectors: np.ndarray) -> None: ...
    def remove(self, name: str) -> None: ...
    def search(self, vector: np.ndarray, k: int,
               allow: Callable[[str], bool] | None = None) -> list[Hit]: ...
    def nearest(self, vector: np.ndarray, k: int,
                allow: Callable[[str], bool] | None = None) -> tuple[list[str], np.ndarray]: ...
    def vectors(self, names: list[str]) -> np.ndarray: ...
    def names(self) -> set[str]: ...
    def save(self, path: Path) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, name: str) -> bool: ...


def _similarity(distance: float) -> float:
    """hnswlib's cosine space returns ``1 - cos``; skilllab reports ``cos``."""
    return float(1.0 - distance)


class HnswIndex:
    """An hnswlib index in cosine space with name labels, growing by doubling.

    Defaults (M=32, ef_construction=400, ef_search=512) reach recall@5 >= 0.99 against exact
    search even on random 384-d vectors, the hardest case (see ``make bench``); a skill library
    of a few thousand entries searches in about a millisecond with them.
    """

    def __init__(self, dim: int, *, M: int = 32, ef_construction: int = 400, ef_search: int = 512,
                 initial_capacity: int = 64, seed: int = 100):
        import hnswlib

        self.dim = int(dim)
        self.M, self.ef_construction, self.ef_search = M, ef_construction, ef_search
        self._index = hnswlib.Index(space="cosine", dim=self.dim)
        self._index.init_index(max_elements=initial_capacity, M=M, ef_construction=ef_construction,
                               random_seed=seed)
        self._label: dict[str, int] = {}
        self._name: dict[int, str] = {}
        self._live: set[str] = set()

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, name: str) -> bool:
        return name in self._live

    def names(self) -> set[str]:
        return set(self._live)

    def upsert(self, names: list[str], vectors: np.ndarray) -> None:
        if not names:
            return
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(names), self.dim)
        labels = []
        for n in names:
            if n not in self._label:
                lab = len(self._label)
                self._label[n], self._name[lab] = lab, n
            labels.append(self._label[n])
        need = len(self._label)
        cap = self._index.get_max_elements()
        if need > cap:
            self._index.resize_index(max(need, 2 * cap))
        # add_items on a known label updates it in place and clears its deleted mark.
        self._index.add_items(vectors, np.asarray(labels, dtype=np.int64))
        self._live.update(names)

    def remove(self, name: str) -> None:
        if name in self._live:
            self._index.mark_deleted(self._label[name])
            self._live.discard(name)

    def search(self, vector: np.ndarray, k: int,
               allow: Callable[[str], bool] | None = None) -> list[Hit]:
        names, sims = self.nearest(vector, k, allow)
        return [Hit(n, s) for n, s in zip(names, sims.tolist())]

    def nearest(self, vector: np.ndarray, k: int,
                allow: Callable[[str], bool] | None = None) -> tuple[list[str], np.ndarray]:
        """What :meth:`search` finds as ``(names, similarities)``, best first: the similarities a
        float32 array (a fused search reads them as one array, not a hundred hits)."""
        k = min(int(k), len(self._live))
        if k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        q = np.asarray(vector, dtype=np.float32).reshape(1, self.dim)
        self._index.set_ef(max(self.ef_search, k))
        flt = None
        if allow is not None:
            name = self._name
            flt = lambda label: allow(name[label])
        try:
            labels, dists = self._index.knn_query(q, k=k, filter=flt)
        except RuntimeError:
            # Fewer than k allowed items were reached (a filter excluded most); scan them exactly.
            allowed = [n for n in self._live if allow is None or allow(n)]
            if not allowed:
                return [], np.zeros(0, dtype=np.float32)
            return _exact(q[0], allowed, self._vectors(allowed), min(k, len(allowed)))
        name = self._name  # cosine = 1 - distance, worked out in float32 as _similarity does
        return [name[lab] for lab in labels[0].tolist()], (1.0 - dists[0]).astype(np.float32, copy=False)

    def _vectors(self, names: list[str]) -> np.ndarray:
        return np.asarray(self._index.get_items([self._label[n] for n in names]), dtype=np.float32)

    def vectors(self, names: list[str]) -> np.ndarray:
        """The stored vectors of ``names`` (live names only), one row each."""
        if not names:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._vectors(names)

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        self._index.save_index(str(tmp))
        tmp.replace(path)
        write_json(path.with_suffix(".labels.json"), {
            "dim": self.dim, "labels": self._label, "live": sorted(self._live),
            "params": {"M": self.M, "ef_construction": self.ef_construction, "ef_search": self.ef_search},
        })

    @classmethod
    def load(cls, path: Path) -> HnswIndex:
        import hnswlib

        meta = read_json(Path(path).with_suffix(".labels.json"))
        if meta is None:
            raise FileNotFoundError(path)
        p = meta["params"]
        obj = cls.__new__(cls)
        obj.dim, obj.M, obj.ef_construction, obj.ef_search = meta["dim"], p["M"], p["ef_construction"], p["ef_search"]
        obj._index = hnswlib.Index(space="cosine", dim=obj.dim)
        obj._index.load_index(str(path), max_elements=max(64, len(meta["labels"])))
        obj._label = {n: int(lab) for n, lab in meta["labels"].items()}
        obj._name = {lab: n for n, lab in obj._label.items()}
        obj._live = set(meta["live"])
        return obj


class ExactIndex:
    """Brute-force cosine search in numpy: the reference HNSW is measured against."""

    def __init__(self, dim: int):
        self.dim = int(dim)
        self._names: list[str] = []
        self._pos: dict[str, int] = {}
        self._mat = np.zeros((0, self.dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._pos

    def names(self) -> set[str]:
        return set(self._names)

    def upsert(self, names: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(names), self.dim)
        new_rows = []
        for n, v in zip(names, vectors):
            if n in self._pos:
                self._mat[self._pos[n]] = v
            else:
                self._pos[n] = len(self._names)
                self._names.append(n)
                new_rows.append(v)
        if new_rows:
            self._mat = np.vstack([self._mat, np.asarray(new_rows, dtype=np.float32)])

    def vectors(self, names: list[str]) -> np.ndarray:
        return self._mat[[self._pos[n] for n in names]] if names else np.zeros((0, self.dim), dtype=np.float32)

    def remove(self, name: str) -> None:
        if name in self._pos:
            i = self._pos.pop(name)
            self._names.pop(i)
            self._mat = np.delete(self._mat, i, axis=0)
            self._pos = {n: j for j, n in enumerate(self._names)}

    def search(self, vector: np.ndarray, k: int,
               allow: Callable[[str], bool] | None = None) -> list[Hit]:
        names, sims = self.nearest(vector, k, allow)
        return [Hit(n, s) for n, s in zip(names, sims.tolist())]

    def nearest(self, vector: np.ndarray, k: int,
                allow: Callable[[str], bool] | None = None) -> tuple[list[str], np.ndarray]:
        """What :meth:`search` finds as ``(names, similarities)``, best first."""
        if allow is None:
            names, rows = self._names, self._mat
        else:
            names = [n for n in self._names if allow(n)]
            rows = self._mat[[self._pos[n] for n in names]]
        if not names or k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        return _exact(np.asarray(vector, dtype=np.float32).reshape(-1), names, rows, k)

    def save(self, path: Path) -> None:
        atomic_write(Path(path), self._mat.tobytes())
        write_json(Path(path).with_suffix(".labels.json"), {"dim": self.dim, "names": self._names})

    @classmethod
    def load(cls, path: Path) -> ExactIndex:
        meta = read_json(Path(path).with_suffix(".labels.json"))
        if meta is None:
            raise FileNotFoundError(path)
        obj = cls(meta["dim"])
        mat = np.frombuffer(Path(path).read_bytes(), dtype=np.float32).reshape(-1, obj.dim)
        obj.upsert(meta["names"], mat)
        return obj


def _exact(q: np.ndarray, names: list[str], rows: np.ndarray, k: int) -> tuple[list[str], np.ndarray]:
    sims = rows @ q
    order = np.argsort(-sims, kind="stable")[:k]
    return [names[i] for i in order.tolist()], sims[order]


INDEX_KINDS: dict[str, type] = {"hnsw": HnswIndex, "exact": ExactIndex}


def make_index(kind: str, dim: int, **params: Any) -> VectorIndex:
    try:
        cls = INDEX_KINDS[kind]
    except KeyError:
        from ..errors import ConfigError

        raise ConfigError(f"unknown index {kind!r}; choose one of: {', '.join(INDEX_KINDS)}") from None
    index: VectorIndex = cls(dim, **params)
    return index


def load_index(kind: str, path: Path) -> VectorIndex:
    index: VectorIndex = INDEX_KINDS[kind].load(path)  # type: ignore[attr-defined]  # every kind has load()
    return index


__all__ = ["ExactIndex", "Hit", "HnswIndex", "VectorIndex", "load_index", "make_index"]
