"""The lexical index: TF-IDF cosine over identifier-aware tokens, one document at a time.

SRE and support text is full of names a dense embedder blurs: alert names
(``KubePodCrashLooping``), components (``payments-api``), error strings, tool names
(``cancel_reservation``). Tokens split identifiers the way people read them
(``KubePodCrashLooping`` -> kube pod crash looping; ``payments-api`` -> payments api) and keep the
whole identifier too, so an exact name matches best. Terms are hashed into columns as
scikit-learn's ``HashingVectorizer`` hashes them (:mod:`skilllab._hashing`; stateless, so
documents are added and removed one at a time), without importing it; the index keeps document
frequencies and weights terms at query time:

    w(t, d) = (1 + log tf(t, d)) * idf(t),   idf(t) = log((1 + N) / (1 + df(t))) + 1
    score(q, d) = cos(w(., q), w(., d))  in [0, 1]

so a score is 1 for the same bag of terms and 0 for no shared term, whatever the library's size.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._hashing import hashed_counts

if TYPE_CHECKING:  # scipy is imported where it is used, so a command that never searches does not pay for it
    import scipy.sparse as sp

N_FEATURES = 2**18
RECENT_QUERIES = 8
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*[A-Za-z0-9]|[A-Za-z]")
_SPLIT = re.compile(r"[_.\-/]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_STOP = frozenset("""
a an the of in on at to for from by with and or is are was were be been being it its this that these those
there here as into onto over under after before during while since until than then so such not no yes our your
their my we you they he she i me us them please can could should would will shall may might must do does did
done has have had get got keep kept some any all each every very just also only about like what which who whom
why how when where see seems seem now today still want wants need needs use used using via if but
""".split())


@lru_cache(maxsize=65536)
def _word_stem(w: str) -> str:
    """A light stem so that restarts / restarting / restarted and pod / pods meet."""
    for suf, keep in (("ing", 4), ("ied", 3), ("ies", 3), ("ed", 4), ("es", 4), ("s", 3)):
        if w.endswith(suf) and len(w) - len(suf) >= keep and not w.endswith("ss"):
            base = w[: -len(suf)]
            return base + "y" if suf in ("ied", "ies") else base
    return w


def tokenize(text: str) -> list[str]:
    """Identifier-aware tokens: the parts of each identifier, stemmed, plus the whole identifier."""
    out: list[str] = []
    for raw in _TOKEN.findall(text):
        out += _terms(raw)
    return out


@lru_cache(maxsize=16384)  # the same identifiers and words come back in text after text
def _terms(raw: str) -> tuple[str, ...]:
    """The terms of one raw token (see :func:`tokenize`)."""
    out: list[str] = []
    parts = [p for chunk in _SPLIT.split(raw) for p in _CAMEL.split(chunk) if p]
    words = [p.lower() for p in parts]
    for w in words:
        if len(w) > 1 and w not in _STOP and not w.isdigit():
            out.append(_word_stem(w))
    if len(words) > 1:
        whole = raw.lower()
        if not whole.replace(".", "").replace("-", "").isdigit():
            # an exact compound name (an alert, a service, a tool) is strong evidence: counted twice
            out += [whole, whole] if len(words) > 2 else [whole]
    return tuple(out)


def _counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, counts)`` of one text, sorted by column."""
    counts = hashed_counts(tokenize(text), N_FEATURES)
    cols = np.fromiter(counts, dtype=np.int32, count=len(counts))
    vals = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    order = np.argsort(cols, kind="stable")
    return cols[order], vals[order]


def term_counts(texts: list[str]) -> sp.csr_matrix:
    """The term counts of ``texts``, one row each, columns sorted: what scikit-learn's
    ``HashingVectorizer(n_features=N_FEATURES, analyzer=tokenize, alternate_sign=False,
    norm=None, dtype=float32)`` gives (tests compare the two), without importing it."""
    import scipy.sparse as sp

    rows = [_counts(t) for t in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(c) for c, _ in rows], out=indptr[1:])
    indices = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int32)
    data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))


@lru_cache(maxsize=256)  # a session's texts are searched again after each change to the index
def query_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, counts)`` of one text, sorted by column (a row of :func:`term_counts`). The
    arrays are shared (read-only): the last few texts' are kept."""
    cols, vals = _counts(text)
    cols.flags.writeable = vals.flags.writeable = False
    return cols, vals


def _stack(rows: list[sp.csr_matrix]) -> sp.csr_matrix:
    """One-row CSR matrices stacked into one: what ``scipy.sparse.vstack`` gives, its arrays
    joined directly (a tenth of its time for a thousand rows)."""
    import scipy.sparse as sp

    if not rows:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([r.nnz for r in rows], out=indptr[1:])
    data = np.concatenate([r.data for r in rows])
    indices = np.concatenate([r.indices for r in rows]).astype(np.int32, copy=False)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))


class LexicalIndex:
    """TF-IDF cosine search over named documents, updated one document at a time."""

    def __init__(self) -> None:
        self._names: list[str] = []
        self._pos: dict[str, int] = {}
        self._rows: list[sp.csr_matrix] = []  # log-scaled term frequencies, one 1 x F row per document
        self._df = np.zeros(N_FEATURES, dtype=np.int32)
        self._mat: sp.csr_matrix | None = None
        self._norms: np.ndarray | None = None
        self._recent: dict[str, np.ndarray | None] = {}  # the last few queries' scores, until a change

    def __len__(self) -> int:
        return len(self._pos)

    def __contains__(self, name: str) -> bool:
        return name in self._pos

    def names(self) -> set[str]:
        return set(self._pos)

    def upsert(self, names: list[str], texts: list[str]) -> None:
        if not names:
            return
        rows = term_counts(texts)
        rows.data = 1.0 + np.log(rows.data)
        for i, name in enumerate(names):
            row = rows.getrow(i)
            if name in self._pos:
                old = self._rows[self._pos[name]]
                self._df[old.indices] -= 1
                self._rows[self._pos[name]] = row
            else:
                self._pos[name] = len(self._names)
                self._names.append(name)
                self._rows.append(row)
            self._df[row.indices] += 1
        self._mat = self._norms = None
        self._recent.clear()

    def remove(self, name: str) -> None:
        i = self._pos.pop(name, None)
        if i is None:
            return
        self._df[self._rows[i].indices] -= 1
        last = len(self._names) - 1
        if i != last:  # move the last document into the hole
            self._names[i], self._rows[i] = self._names[last], self._rows[last]
            self._pos[self._names[i]] = i
        self._names.pop()
        self._rows.pop()
        self._mat = self._norms = None
        self._recent.clear()

    def _idf_of(self, cols: np.ndarray) -> np.ndarray:
        """``idf`` of the terms at ``cols`` (the formula of the module, term by term)."""
        n = len(self._names)
        idf: np.ndarray = (np.log((1.0 + n) / (1.0 + self._df[cols])) + 1.0).astype(np.float32)
        return idf

    def _prepare(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The stacked rows and their idf-weighted norms, worked out again after a change only
        (idf for the terms the documents use: a query works out its own terms' weights)."""
        import scipy.sparse as sp

        if self._mat is None:
            self._mat = _stack(self._rows)
        if self._norms is None:
            mat = self._mat
            used = np.unique(mat.indices)
            idf = np.zeros(N_FEATURES, dtype=np.float32)
            idf[used] = self._idf_of(used)
            # every stored value is a term's log-tf (>= 1) and every used term's idf is >= 1: the
            # weighted matrix has the same entries, each times its term's idf
            weighted = sp.csr_matrix((mat.data * idf[mat.indices], mat.indices, mat.indptr), shape=mat.shape)
            self._norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        return self._mat, self._norms

    def query(self, text: str) -> np.ndarray | None:
        """The cosine score of ``text`` against every document, in the order of :meth:`names_in_order`
        (None when no term of ``text`` is known). The array is shared: read it, do not change it.
        The last few texts' scores are kept until the index changes (a session's task is searched
        for recall, then again for its candidates, then scored against same-fix skills)."""
        if not self._names:
            return None
        if text in self._recent:
            return self._recent[text]
        out = self._query(text)
        if len(self._recent) >= RECENT_QUERIES:
            del self._recent[next(iter(self._recent))]
        self._recent[text] = out
        return out

    def _query(self, text: str) -> np.ndarray | None:
        cols, counts = query_counts(text)
        if not len(cols):
            return None
        logtf = 1.0 + np.log(counts)
        mat, norms = self._prepare()
        w = self._idf_of(cols)
        qnorm = float(np.sqrt(np.sum((logtf * w) ** 2)))
        if qnorm == 0:
            return None
        # rows hold log-tf only, so the query carries idf twice: sum_t logtf_d * idf * (logtf_q * idf)
        qv = np.zeros(mat.shape[1], dtype=np.float32)
        qv[cols] = logtf * w * w
        dots = np.asarray(mat @ qv).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(norms > 0, dots / (norms * qnorm), 0.0)
        return np.minimum(out, 1.0)

    def position(self, name: str) -> int | None:
        return self._pos.get(name)

    def names_in_order(self) -> list[str]:
        return self._names

    def scores(self, text: str) -> dict[str, float]:
        """Every document sharing a term with ``text`` and its cosine score (others score 0)."""
        arr = self.query(text)
        if arr is None:
            return {}
        hit = np.nonzero(arr)[0]
        return {self._names[i]: float(arr[i]) for i in hit}

    def search(self, text: str, k: int) -> list[tuple[str, float]]:
        s = self.scores(text)
        return sorted(s.items(), key=lambda kv: -kv[1])[:k]

    # ---- persistence (derived state: rebuilt from the files when missing or damaged) ----------------
    def save(self, path: Path) -> None:
        import scipy.sparse as sp

        from .._fs import atomic_write

        path = Path(path)
        mat = _stack(self._rows)
        import io

        buf = io.BytesIO()
        sp.save_npz(buf, mat, compressed=True)
        atomic_write(path, buf.getvalue())
        atomic_write(path.with_suffix(".names"), "\n".join(self._names) + ("\n" if self._names else ""))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        import scipy.sparse as sp

        path = Path(path)
        mat = sp.load_npz(path).tocsr()
        names = path.with_suffix(".names").read_text(encoding="utf-8").splitlines()
        if mat.shape != (len(names), N_FEATURES):
            raise ValueError(f"{path}: {mat.shape[0]} rows for {len(names)} names")
        obj = cls()
        obj._names = list(names)
        obj._pos = {n: i for i, n in enumerate(names)}
        obj._rows = [mat.getrow(i) for i in range(len(names))]
        for r in obj._rows:
            obj._df[r.indices] += 1
        return obj
