"""One agent's search index over its skills, derived from the files and rebuilt from them.

Each skill is indexed as several *documents*: its own text (name, description and when to use
it) and the task phrasings of the sessions it learned from (the "Seen as" lines of its When to
use section, at most ``phrasings`` of them). Every document is in a dense vector index
(:mod:`skilllab.index.vector`) and in a lexical index (:mod:`skilllab.index.lexical`). A query
scores each document by

    score = (1 - lexical_weight) * max(cosine_dense, 0) + lexical_weight * cosine_tfidf

and a skill by its best document. Both cosines are in [0, 1] (1: the same meaning / the same
terms), so the score is too; the recall floor and the novelty bar compare against it.
``lexical_weight`` 0 is dense search alone (what the baseline arm uses), 1 lexical alone.

The files are the truth: :class:`SkillIndex` keeps, per skill, the file's hash and each
document's text hash, re-embeds only what changed, and is saved under ``<agent>/index/`` as a
cache that can be deleted at any time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._fs import read_json, write_json
from .lexical import RECENT_QUERIES, LexicalIndex
from .vector import VectorIndex, load_index, make_index

if TYPE_CHECKING:
    from ..embed.base import Embedder
    from ..skill import Skill


INDEX_SCHEMA = 2
DOC_SEP = "\x1f"
_SEEN_AS = re.compile(r"^\s*[-*]\s*Seen as:\s*(.+?)\s*$", re.MULTILINE)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SearchSettings:
    """How skills are searched: the lexical share of the fused score, and how many learned
    phrasings of a skill are indexed beside its own text."""

    lexical_weight: float = 0.3
    phrasings: int = 24
    fusion: str = "linear"  # "linear": the weighted mean; "boost": the dense score, raised toward the mean when terms match better

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        if not 0.0 <= float(self.lexical_weight) <= 1.0:
            raise ConfigError(f"lexical_weight: {self.lexical_weight!r} must be between 0 and 1")
        if not isinstance(self.phrasings, int) or self.phrasings < 0:
            raise ConfigError(f"phrasings: {self.phrasings!r} must be a whole number, 0 or more")

    @property
    def id(self) -> str:
        return f"w{self.lexical_weight:g}-p{self.phrasings}-{self.fusion}"

    def fuse(self, dense: float, lexical: float) -> float:
        w = self.lexical_weight
        linear = (1.0 - w) * max(dense, 0.0) + w * lexical
        return max(max(dense, 0.0), linear) if self.fusion == "boost" else linear

    def fuse_arrays(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """:meth:`fuse` of each pair, in float64: the same operations, so the same values."""
        w = self.lexical_weight
        d = np.maximum(dense, 0.0)
        linear: np.ndarray = (1.0 - w) * d + w * lexical
        return np.maximum(d, linear) if self.fusion == "boost" else linear


@dataclass(frozen=True)
class SkillEntry:
    """What the index knows of one skill file (enough to list and filter without reading it)."""

    name: str
    file_sha: str
    status: str
    description: str
    version: int
    updated: str
    sources: tuple[str, ...]
    branches: tuple[str, ...]
    docs: tuple[str, ...]  # the text hash of each indexed document, own text first

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"], d["branches"], d["docs"] = list(self.sources), list(self.branches), list(self.docs)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SkillEntry:
        return cls(d["name"], d["file_sha"], d["status"], d["description"], int(d["version"]), d.get("updated", ""),
                   tuple(d.get("sources", ())), tuple(d.get("branches", ())), tuple(d.get("docs", ())))


def documents(skill: Skill, phrasings: list[str], limit: int) -> list[str]:
    """The texts a skill is found by: its own text, then the task phrasings it has met (its
    ``references/phrasings.md``, or the "Seen as" lines of When to use when it has no such file),
    at most ``limit`` of them."""
    own = skill.search_text(with_examples=False)
    seen = list(phrasings) or _SEEN_AS.findall(skill.section("When to use"))
    seen = [re.sub(r"<([a-z][a-z0-9_-]*)>", r"\1", p) for p in seen]
    return [own] + [p for p in dict.fromkeys(seen) if p != own][:limit]


def entry_for(skill: Skill, file_sha: str, docs: list[str]) -> SkillEntry:
    from ..runbook import Runbook

    return SkillEntry(skill.name, file_sha, skill.status, skill.description, skill.version, skill.meta("updated"),
                      tuple(skill.sources), tuple(b.id for b in Runbook.of(skill).branches),
                      tuple(_sha(d) for d in docs))


@dataclass
class SkillIndex:
    """Dense and lexical documents of one agent's skills, searched as one fused score."""

    embedder: Embedder
    kind: str = "hnsw"
    params: dict[str, Any] = field(default_factory=dict)
    settings: SearchSettings = field(default_factory=SearchSettings)

    def __post_init__(self) -> None:
        self.entries: dict[str, SkillEntry] = {}
        self._owners: dict[str, str] | None = None  # session id -> the skill that lists it as a source
        self._dense: VectorIndex | None = None
        self.lexical = LexicalIndex()
        self.dirty = False
        self.version = 0  # counts changes to the entries (what a caller derived from them may be stale)
        self._deprecated = (-1, False)  # (version, whether any entry was deprecated then)
        self._vectors: dict[str, np.ndarray] = {}  # the last few query texts' vectors (they depend on the text alone)

    def query_vector(self, text: str) -> np.ndarray:
        """``text``'s vector; the last few are kept (a session's task is embedded for recall, for
        its candidates and for scoring same-fix skills)."""
        vec = self._vectors.get(text)
        if vec is None:
            vec = self.embedder.embed([text])[0]
            if len(self._vectors) >= RECENT_QUERIES:
                del self._vectors[next(iter(self._vectors))]
            self._vectors[text] = vec
        return vec

    @property
    def dense(self) -> Any:
        if self._dense is None:
            self._dense = make_index(self.kind, self.embedder.dim, **self.params)
        return self._dense

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    # ---- persistence -----------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {"schema": INDEX_SCHEMA, "embedder": self.embedder.id, "kind": self.kind, "search": self.settings.id}

    def load(self, folder: Path) -> bool:
        """Load what was saved in ``folder`` if it was made the same way; False means rebuild."""
        meta = read_json(folder / "meta.json")
        if not (isinstance(meta, dict) and all(meta.get(k) == v for k, v in self.meta().items())):
            return False
        entries = {n: SkillEntry.from_dict(e) for n, e in meta["entries"].items()}
        dense = load_index(self.kind, folder / f"skills.{self.kind}")
        lexical = LexicalIndex.load(folder / "lexical.npz")
        docs = {f"{n}{DOC_SEP}{i}" for n, e in entries.items() for i in range(len(e.docs))}
        if dense.names() != docs or lexical.names() != docs or dense.dim != self.embedder.dim:
            return False
        self.entries, self._dense, self.lexical, self.dirty = entries, dense, lexical, False
        self._owners = None
        self.version += 1
        return True

    def save(self, folder: Path) -> None:
        self.dense.save(folder / f"skills.{self.kind}")
        self.lexical.save(folder / "lexical.npz")
        write_json(folder / "meta.json", {**self.meta(), "dim": self.dense.dim,
                                          "entries": {n: e.to_dict() for n, e in sorted(self.entries.items())}})
        self.dirty = False

    # ---- changes ---------------------------------------------------------------------------------
    def update(self, skills: Sequence[tuple[Skill, str, list[str]]]) -> int:
        """Index ``(skill, files_sha, phrasings)`` triples, embedding only documents whose text
        changed (in one batch). Returns how many documents were embedded."""
        todo: list[tuple[str, str]] = []
        for skill, fsha, phrasings in skills:
            docs = documents(skill, phrasings, self.settings.phrasings)
            old = self.entries.get(skill.name)
            new = entry_for(skill, fsha, docs)
            for i, text in enumerate(docs):
                doc_id = f"{skill.name}{DOC_SEP}{i}"
                if not (old and i < len(old.docs) and old.docs[i] == new.docs[i] and doc_id in self.dense):
                    todo.append((doc_id, text))
            for i in range(len(docs), len(old.docs) if old else 0):
                self._remove_doc(f"{skill.name}{DOC_SEP}{i}")
            self._set(new)
            self.dirty = True
        if todo:
            ids, texts = [d for d, _ in todo], [t for _, t in todo]
            self.dense.upsert(ids, self.embedder.embed(texts))
            self.lexical.upsert(ids, texts)
        return len(todo)

    def _remove_doc(self, doc_id: str) -> None:
        self.dense.remove(doc_id)
        self.lexical.remove(doc_id)

    def remove(self, name: str) -> None:
        e = self.entries.pop(name, None)
        self.version += 1
        if e is not None and self._owners is not None:
            for sid in e.sources:
                if self._owners.get(sid) == name:
                    del self._owners[sid]
        if e is not None:
            for i in range(len(e.docs)):
                self._remove_doc(f"{name}{DOC_SEP}{i}")
            self.dirty = True

    def set_entry(self, entry: SkillEntry) -> None:
        """Replace what the index knows of a skill whose documents did not change (a status change)."""
        self._set(entry)
        self.dirty = True

    def _set(self, entry: SkillEntry) -> None:
        old = self.entries.get(entry.name)
        self.entries[entry.name] = entry
        self.version += 1
        if self._owners is not None:
            for sid in old.sources if old else ():
                if self._owners.get(sid) == entry.name:
                    del self._owners[sid]
            for sid in entry.sources:
                self._owners.setdefault(sid, entry.name)

    def has_deprecated(self) -> bool:
        """Whether any skill in the index is deprecated (worked out again only after a change, so
        a search over a library with none needs no per-document filter)."""
        if self._deprecated[0] != self.version:
            self._deprecated = (self.version, any(e.status == "deprecated" for e in self.entries.values()))
        return self._deprecated[1]

    def owner(self, session_id: str) -> str | None:
        """The skill whose sources include ``session_id`` (kept as a map, so the lookup does not grow
        with the library)."""
        if self._owners is None:
            self._owners = {}
            for name, e in self.entries.items():
                for sid in e.sources:
                    self._owners.setdefault(sid, name)
        return self._owners.get(session_id)

    # ---- search ----------------------------------------------------------------------------------
    def search(self, text: str, k: int, allow: Callable[[str], bool] | None = None,
               vector: np.ndarray | None = None) -> list[tuple[str, float, float]]:
        """The ``k`` best skills for ``text`` as ``(name, score, own)``, best first: ``score`` is the
        skill's best document, ``own`` the score of its own text (learned phrasings left out)."""
        if not self.entries or k <= 0:
            return []
        w = self.settings.lexical_weight
        per_skill = 1 + self.settings.phrasings
        m = min(len(self.dense), k * per_skill + 10)
        doc_ok: Callable[[str], bool] | None = None
        if allow is not None:
            skill_ok = allow

            def doc_ok(d: str) -> bool:
                return skill_ok(d.split(DOC_SEP, 1)[0])
        # every candidate document's dense and lexical score, as arrays in one order: the dense
        # hits, then the lexical top that dense search did not reach
        docs: list[str] = []
        dense_sims = np.zeros(0, dtype=np.float32)
        vec = None
        if w < 1.0:
            vec = vector if vector is not None else self.query_vector(text)
            docs, dense_sims = self.dense.nearest(vec, m, doc_ok)
        lex = self.lexical.query(text) if w > 0.0 else None
        lexical: dict[str, float] = {}  # the lexical top (2m), allowed or not, and each dense hit
        dense_lex = np.zeros(len(docs))
        extra: list[str] = []
        if lex is not None:
            names = self.lexical.names_in_order()
            hit = np.flatnonzero(lex)
            if len(hit) > 2 * m:  # the best few by score, without sorting every document that shares a term
                hit = hit[np.argpartition(-lex[hit], 2 * m)[: 2 * m]]
            hit = hit[np.argsort(-lex[hit], kind="stable")]
            order = hit.tolist()
            lexical = dict(zip([names[i] for i in order], lex[hit].tolist()))
            lex_top = [names[i] for i in order if doc_ok is None or doc_ok(names[i])][:m]
            pos = self.lexical.position
            at = [pos(d) for d in docs]
            if docs:
                known = np.fromiter((p is not None for p in at), dtype=bool, count=len(at))
                idx = np.fromiter((p or 0 for p in at), dtype=np.intp, count=len(at))
                dense_lex = np.where(known, lex[idx], 0.0)
                lexical.update(zip(docs, dense_lex.tolist()))
            in_dense = set(docs)
            extra = [d for d in dict.fromkeys(lex_top) if d not in in_dense]
        extra_dense = np.zeros(len(extra))
        dense: dict[str, float] = dict(zip(docs, dense_sims.tolist()))
        if extra and vec is not None:
            extra_dense = np.array([float(v @ vec) for v in self.dense.vectors(extra)])
            dense.update(zip(extra, extra_dense.tolist()))
        all_docs = docs + extra
        if not all_docs:
            return []
        fused = self.settings.fuse_arrays(np.concatenate([dense_sims.astype(np.float64), extra_dense]),
                                          np.concatenate([dense_lex, [lexical.get(d, 0.0) for d in extra]]))
        best: dict[str, float] = {}
        for d, score in zip(all_docs, fused.tolist()):
            name = d.split(DOC_SEP, 1)[0]
            if score > best.get(name, -1.0):
                best[name] = score
        top = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        own_ids = [f"{n}{DOC_SEP}0" for n, _ in top]
        missing = [d for d in own_ids if d not in dense]
        if missing and vec is not None:
            dense.update({d: float(v @ vec) for d, v in zip(missing, self.dense.vectors(missing))})
        return [(n, sc, self.settings.fuse(dense.get(d, 0.0), lexical.get(d, 0.0))) for (n, sc), d in zip(top, own_ids)]

    def score_skills(self, text: str, names: list[str], vector: np.ndarray | None = None
                     ) -> dict[str, tuple[float, float]]:
        """The exact ``(score, own)`` of ``text`` for each of ``names`` (skills this index has),
        however far down a search they would rank."""
        names = [n for n in names if n in self.entries]
        if not names:
            return {}
        w = self.settings.lexical_weight
        docs = {n: [f"{n}{DOC_SEP}{i}" for i in range(len(self.entries[n].docs))] for n in names}
        dense: dict[str, float] = {}
        if w < 1.0:
            vec = vector if vector is not None else self.query_vector(text)
            ids = [d for ds in docs.values() for d in ds]
            dense = {d: float(v @ vec) for d, v in zip(ids, self.dense.vectors(ids))}
        lex = self.lexical.query(text) if w > 0.0 else None
        lexical: dict[str, float] = {}
        if lex is not None:
            for ds in docs.values():
                for d in ds:
                    pos = self.lexical.position(d)
                    lexical[d] = float(lex[pos]) if pos is not None else 0.0
        out = {}
        for n, ds in docs.items():
            fused = [self.settings.fuse(dense.get(d, 0.0), lexical.get(d, 0.0)) for d in ds]
            out[n] = (max(fused), fused[0])
        return out
