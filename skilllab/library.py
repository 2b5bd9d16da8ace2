"""The library: a root folder of agents, and the handle through which one agent's skills are used.

``Library(root)`` only stores its settings. ``library.agent(agent_id)`` opens one agent: it
creates the agent's folder and repository if needed, commits hand edits so history stays
whole, and syncs the agent's vector index with the skill files (the files are the truth; the
index is rebuilt or patched from them). Everything an :class:`Agent` does is confined to that
agent's folder and that agent's index.

An ``Agent`` handle is meant for one thread; open one handle per thread or process. Handles of
the same agent coordinate through the agent's file lock and git HEAD, so concurrent writers
never lose an update.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from filelock import FileLock

from . import lifecycle
from . import recall as recall_mod
from ._fs import atomic_write, read_json, write_json
from .distill.ledger import Ledger
from .embed import DEFAULT_EMBEDDER, get_embedder
from .errors import InvalidSkill, SkillNotFound, SkillParseError, UnsafePath
from .index import Hit, load_index, make_index
from .names import AGENT_ID_RE, validate_agent_id
from .recall import DEFAULT_MIN_SIMILARITY
from .settings import SETTINGS_FILE, AgentSettings, check_bar
from .skill import Skill, today
from .store import AgentStore, Problem, Version, sha256
from .usage import UsageBook

INDEX_SCHEMA = 1


@dataclass(frozen=True)
class SkillHit:
    """A search result: a skill of this agent and its cosine similarity to the query."""

    name: str
    similarity: float
    description: str
    status: str
    path: str

    def to_dict(self) -> dict:
        return {"name": self.name, "similarity": round(self.similarity, 6),
                "description": self.description, "status": self.status, "path": self.path}


@dataclass(frozen=True)
class SkillInfo:
    name: str
    description: str
    status: str
    version: int
    updated: str
    sources: tuple[str, ...]
    path: str

    def to_dict(self) -> dict:
        d = self.__dict__.copy()
        d["sources"] = list(self.sources)
        return d


class Library:
    """A library root holding one folder per agent.

    Args:
        root: the library folder (created on first write).
        embedder: an embedder spec (``"minilm"``, ``"hashing"``, ``"st:NAME"``, ``"openai:MODEL"``)
            or an embedder object.
        cache_dir: the embedding cache folder; ``None`` for the default, ``False`` for none.
        index: ``"hnsw"`` (default) or ``"exact"``.
    """

    def __init__(self, root: str | Path, embedder="minilm", *, cache_dir=None, index: str = "hnsw",
                 index_params: dict | None = None):
        self.root = Path(root)
        self.embedder_spec = embedder if isinstance(embedder, str) else getattr(embedder, "id", "custom")
        self._embedder = None if isinstance(embedder, str) else embedder
        self.cache_dir = cache_dir
        self.index_kind = index
        self.index_params = dict(index_params or {})

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.embedder_spec or DEFAULT_EMBEDDER, self.cache_dir)
        return self._embedder

    def agent(self, agent_id: str, *, create: bool = True) -> Agent:
        """Open one agent's skills (creating its folder if ``create``)."""
        handle = Agent(self, agent_id)
        handle.open(create=create)
        return handle

    def agents(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.is_symlink() and AGENT_ID_RE.fullmatch(p.name)
                      and ((p / ".git").is_dir() or (p / "skills").is_dir()))


class Agent:
    """One agent's skills. Obtain it with :meth:`Library.agent`."""

    def __init__(self, library: Library, agent_id: str):
        self.library = library
        self.id = validate_agent_id(agent_id)
        self.store = AgentStore(library.root, self.id)
        self.root = self.store.root
        self.problems: list[Problem] = []
        self._index = None
        self._entries: dict[str, dict] = {}
        self._synced_head: str | None = None
        self._lock = FileLock(str(self.root / ".lock"), timeout=600)
        self._dirty = False
        self._ledger: Ledger | None = None
        self._usage: UsageBook | None = None

    # ---- opening and syncing ---------------------------------------------------------------
    def open(self, create: bool = True) -> None:
        if self.root.is_symlink():
            raise UnsafePath(f"{self.root}: agent folder is a symlink; refused")
        if not self.store.exists():
            if not create:
                raise SkillNotFound(f"no agent {self.id!r} in library {self.library.root}")
        with self.lock():
            self.store.ensure()
            self.sync(commit_hand_edits=True)

    def lock(self) -> FileLock:
        """The agent's write lock (reentrant; serializes writers across processes)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self._lock

    @property
    def embedder(self):
        return self.library.embedder

    def _index_dir(self) -> Path:
        return self.root / "index"

    def _load_index(self):
        meta = read_json(self._index_dir() / "meta.json")
        emb_id = self.embedder.id
        if (meta and meta.get("schema") == INDEX_SCHEMA and meta.get("embedder") == emb_id
                and meta.get("kind") == self.library.index_kind):
            try:
                self._index = load_index(meta["kind"], self._index_dir() / f"skills.{meta['kind']}")
                self._entries = meta["entries"]
                if set(self._entries) == self._index.names():
                    return
            except (OSError, KeyError, ValueError, RuntimeError):
                pass
        self._index = make_index(self.library.index_kind, self.embedder.dim, **self.library.index_params)
        self._entries = {}
        self._dirty = True

    def sync(self, commit_hand_edits: bool = False) -> None:
        """Bring the index in step with the skill files on disk."""
        with self.lock():
            if self._index is None:
                self._load_index()
            found, problems = self.store.scan()
            if commit_hand_edits:
                self.store.commit_untracked_changes(found)
            todo: dict[str, Skill] = {}
            entries: dict[str, dict] = {}
            for name, data in found.items():
                fsha = sha256(data)
                old = self._entries.get(name)
                if old and old["file_sha"] == fsha and name in self._index:
                    entries[name] = old
                    continue
                try:
                    skill = self.store.parse(name, data)
                    skill.validate()
                except (SkillParseError, InvalidSkill) as exc:
                    problems.append(Problem(str(self.store.skills_dir / name / "SKILL.md"),
                                            getattr(exc, "reason", str(exc))))
                    continue
                entries[name] = self._entry(skill, fsha)
                if not (old and old["text_sha"] == entries[name]["text_sha"] and name in self._index):
                    todo[name] = skill
            for name in set(self._entries) - set(entries):
                self._index.remove(name)
                self._dirty = True
            if todo:
                names = list(todo)
                self._index.upsert(names, self.embedder.embed([todo[n].search_text() for n in names]))
            if todo or entries != self._entries:
                self._dirty = True
            self._entries = entries
            self.problems = problems
            self._synced_head = self.store.git.head()
            self.flush()

    @staticmethod
    def _entry(skill: Skill, fsha: str) -> dict:
        return {"file_sha": fsha, "text_sha": sha256(skill.search_text().encode("utf-8")),
                "status": skill.status, "description": skill.description,
                "version": skill.version, "updated": skill.meta("updated"),
                "sources": skill.sources}

    def refresh(self) -> None:
        """Re-sync if another process committed since this handle last looked."""
        if self.store.git.head() != self._synced_head:
            self.sync()

    def flush(self) -> None:
        """Persist the index if it changed (it is rebuildable, so this is an optimisation)."""
        if self._dirty and self._index is not None:
            d = self._index_dir()
            self._index.save(d / f"skills.{self.library.index_kind}")
            write_json(d / "meta.json", {"schema": INDEX_SCHEMA, "embedder": self.embedder.id,
                                         "kind": self.library.index_kind, "dim": self._index.dim,
                                         "entries": self._entries})
            self._dirty = False

    def rebuild_index(self) -> int:
        """Drop the index and build it again from the files; returns the number of skills."""
        with self.lock():
            self._index = make_index(self.library.index_kind, self.embedder.dim, **self.library.index_params)
            self._entries = {}
            self._dirty = True
            self.sync()
        return len(self._entries)

    # ---- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def list(self, include_deprecated: bool = True) -> list[SkillInfo]:
        out = []
        for name in sorted(self._entries):
            e = self._entries[name]
            if include_deprecated or e["status"] != "deprecated":
                out.append(SkillInfo(name, e["description"], e["status"], e["version"],
                                     e["updated"], tuple(e["sources"]), str(self.store.skill_path(name))))
        return out

    def get(self, name: str) -> Skill:
        """The skill document (``SkillNotFound`` for a name this agent does not have)."""
        return self.store.read(name)

    def status_of(self, name: str) -> str:
        return self._entries[name]["status"] if name in self._entries else ""

    def search(self, text: str, k: int = 5, *, include_deprecated: bool = False,
               min_similarity: float | None = None) -> list[SkillHit]:
        """This agent's skills nearest in meaning to ``text``, best first."""
        if not self._entries or k <= 0:
            return []
        vec = self.embedder.embed([text])[0]
        return self.search_vector(vec, k, include_deprecated=include_deprecated,
                                  min_similarity=min_similarity)

    def search_vector(self, vec, k: int = 5, *, include_deprecated: bool = False,
                      min_similarity: float | None = None) -> list[SkillHit]:
        allow = None
        if not include_deprecated:
            allow = lambda n: self._entries.get(n, {}).get("status") != "deprecated"
        hits: list[Hit] = self._index.search(vec, k, allow)
        out = []
        for h in hits:
            if min_similarity is not None and h.similarity < min_similarity:
                continue
            e = self._entries[h.name]
            out.append(SkillHit(h.name, h.similarity, e["description"], e["status"],
                                str(self.store.skill_path(h.name))))
        return out

    # ---- writing ---------------------------------------------------------------------------
    def write(self, skill: Skill, message: str, *, when: float | None = None) -> str | None:
        """Validate, write atomically, commit with ``message`` and update the index.

        Returns the commit id, or ``None`` when the file already had exactly this content.
        """
        skill.validate()
        with self.lock():
            cid = self.store.write(skill, message, when)
            if cid is not None:
                self._after_write(skill)
            return cid

    def _after_write(self, skill: Skill) -> None:
        data = self.store.skill_path(skill.name).read_bytes()
        entry = self._entry(skill, sha256(data))
        old = self._entries.get(skill.name)
        if old and entry["version"] > old["version"] and entry["status"] == "active":
            self.usage.reset_recent(skill.name)  # a new version starts a fresh drift window
        if not (old and old["text_sha"] == entry["text_sha"] and skill.name in self._index):
            self._index.upsert([skill.name], self.embedder.embed([skill.search_text()]))
        self._entries[skill.name] = entry
        self._synced_head = self.store.git.head()
        self._dirty = True

    def delete(self, name: str, reason: str = "removed", *, when: float | None = None) -> str:
        """Delete the skill's folder (it stays in history) and drop it from search."""
        with self.lock():
            cid = self.store.delete(name, f"remove {name}: {reason}", when)
            self._index.remove(name)
            self._entries.pop(name, None)
            self._synced_head = self.store.git.head()
            self._dirty = True
            return cid

    def history(self, name: str) -> list[Version]:
        return self.store.history(name)

    def read_rev(self, name: str, rev: int | str) -> Skill:
        """The skill as it was at history revision ``rev`` (1-based) or commit id (prefix)."""
        v = self._find_rev(name, rev)
        data = self.store.read_at(name, v.commit)
        if data is None:
            raise SkillNotFound(f"skill {name!r} did not exist at revision {rev}")
        return self.store.parse(name, data)

    def read_version(self, name: str, version: int) -> Skill:
        """The skill as it was at its own version ``version`` (the latest revision carrying it)."""
        return self.read_rev(name, self._find_version(name, version).rev)

    def _find_version(self, name: str, version: int):
        hist = [v for v in self.history(name) if v.version == int(version) and not v.deleted]
        if not hist:
            have = sorted({v.version for v in self.history(name) if v.version})
            raise SkillNotFound(f"skill {name!r} has no version {version} (it has {have or 'none'})")
        return hist[-1]

    def _find_rev(self, name: str, rev: int | str) -> Version:
        hist = self.history(name)
        if not hist:
            raise SkillNotFound(f"agent {self.id!r} has no history for skill {name!r}")
        for v in hist:
            if (isinstance(rev, int) and v.rev == rev) or (isinstance(rev, str) and len(rev) >= 4
                                                           and v.commit.startswith(rev)):
                return v
        raise SkillNotFound(f"skill {name!r} has no revision {rev!r} (it has 1..{len(hist)})")

    def restore(self, name: str, version: int | None = None, *, rev: int | str | None = None,
                reason: str = "", when: float | None = None) -> str:
        """Bring back the skill as it was at its ``version`` (or history ``rev``); by default the
        last version before it was removed.

        The restored document is that version's text with the version number moved past every
        version in history and a changelog line saying what was restored, so versions only grow.
        """
        hist = self.history(name)
        live = [v for v in hist if not v.deleted]
        if not live:
            raise SkillNotFound(f"agent {self.id!r} has no history for skill {name!r}")
        if rev is not None:
            v = self._find_rev(name, rev)
        elif version is not None:
            v = self._find_version(name, version)
        else:
            v = live[-1]
        if v.deleted:
            raise SkillNotFound(f"revision {v.rev} of {name!r} is its removal; pick an earlier one")
        skill = self.store.parse(name, self.store.read_at(name, v.commit) or b"")
        old = skill.version
        skill.set_meta("version", str(max((h.version or 0) for h in hist) + 1))
        skill.set_meta("updated", today())
        what = f"restored from revision {v.rev} (v{old})" + (f": {reason}" if reason else "")
        skill.add_changelog(what)
        cid = self.write(skill, f"restore {name} to revision {v.rev} (v{old})"
                         + (f": {reason}" if reason else ""), when=when)
        return cid or v.commit

    # ---- settings and ledger ----------------------------------------------------------------
    @property
    def settings(self) -> AgentSettings:
        return AgentSettings.read(self.root / SETTINGS_FILE)

    def set_novelty_bar(self, bar: float, reason: str = "", *, when: float | None = None) -> str | None:
        """Turn the novelty knob (0..1, higher is stricter); the change is a commit."""
        bar = check_bar(bar)
        with self.lock():
            old = self.settings
            if old.novelty_bar == bar and (self.root / SETTINGS_FILE).exists():
                return None
            atomic_write(self.root / SETTINGS_FILE, replace(old, novelty_bar=bar).dumps())
            msg = f"set novelty bar {old.novelty_bar:g} -> {bar:g}" + (f": {reason}" if reason else "")
            cid = self.store.git.commit([SETTINGS_FILE], msg, when)
            self._synced_head = self.store.git.head()
            return cid

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.root / "state" / "ledger.jsonl")
        return self._ledger

    def distill(self, session, distiller="extractive", **options):
        """Distill one finished session into this agent's library (see :func:`skilllab.distill.distill_session`)."""
        from .distill import distill_session

        return distill_session(self, session, distiller, **options)

    def source_owner(self, session_id: str) -> str | None:
        """The skill whose sources already include ``session_id``, if any."""
        for name, e in self._entries.items():
            if session_id in e["sources"]:
                return name
        return None

    # ---- recall and lifecycle (see recall.py and lifecycle.py) --------------------------------
    @property
    def usage(self) -> UsageBook:
        if self._usage is None:
            self._usage = UsageBook(self.store.skills_dir, self.lock())
        return self._usage

    def recall(self, task: str, k: int = 3, min_similarity: float = DEFAULT_MIN_SIMILARITY, **kw):
        """Skills for ``task`` before it starts: best first, none below ``min_similarity``."""
        return recall_mod.recall(self, task, k, min_similarity, **kw)

    def recall_context(self, task: str, **kw) -> str:
        """A prompt-ready block with the best skills' full text within ``budget_chars``."""
        return recall_mod.recall_context(self, task, **kw)

    def tools(self, **kw) -> recall_mod.SkillTools:
        """OpenAI function-calling tools (search_skills, load_skill) scoped to this agent."""
        return recall_mod.SkillTools(self, **kw)

    def record_outcome(self, name: str, success: bool, **kw) -> str:
        return lifecycle.record_outcome(self, name, success, **kw)

    def deprecate(self, name: str, reason: str = "deprecated by hand", **kw):
        return lifecycle.deprecate(self, name, reason, **kw)

    def reactivate(self, name: str, reason: str = "reactivated by hand", **kw):
        return lifecycle.reactivate(self, name, reason, **kw)

    def stale(self, days: int, **kw):
        return lifecycle.stale(self, days, **kw)

    def diff(self, name: str, v1: int, v2: int) -> str:
        return lifecycle.diff(self, name, v1, v2)

    def close(self) -> None:
        if self._usage is not None:
            self._usage.flush()
        self.flush()
        self.store.git.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, skills={len(self._entries)}, root={str(self.root)!r})"
