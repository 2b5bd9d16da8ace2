"""One agent's search index kept in step with its skill files.

:class:`AgentIndex` owns the agent's :class:`~skilllab.index.SkillIndex`: it loads it from its cache
folder (one per embedder, index kind and search settings, so searching with another embedder never
overwrites the one the library was built with), brings it in step with the files on first use
(so a command that only lists, shows or reads history never loads a model), updates it after each
write, saves it when it changed, and rebuilds it from the files on demand. The files stay the
truth: everything here can be thrown away and rebuilt.

It reads the agent's files through :class:`~skilllab.store.AgentStore` only, and never writes a
skill; the one write it may ask for is committing hand edits during a sync, which the store does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import phrasings as phrasings_mod
from .errors import InvalidSkill, SkillParseError, UnsafePath
from .index import SkillIndex
from .names import slugify
from .skill import Skill
from .store import AgentStore, Problem, sha256

if TYPE_CHECKING:
    from .library import Library

log = logging.getLogger(__name__)


class AgentIndex:
    """The search index of the agent whose files ``store`` holds (see the module docstring).

    ``lock`` returns the agent's write lock; ``on_new_version(name)`` is called when a write brings
    an active skill to a new version (the usage book starts a fresh drift window there)."""

    def __init__(self, store: AgentStore, library: Library, *, read_only: bool,
                 lock: Callable[[], AbstractContextManager[Any]],
                 on_new_version: Callable[[str], None] | None = None,
                 held: Callable[[], int | None] | None = None):
        self.store = store
        self._held = held  # the number of this process's hold of the lock (see AgentLock.held_epoch)
        self._synced_hold: int | None = None  # that number when the index was last in step
        self.library = library
        self.read_only = read_only
        self._lock = lock
        self._on_new_version = on_new_version
        self._index: SkillIndex | None = None
        self.needs_sync = False  # set when the agent is opened: the first use syncs with the files
        self.synced_head: str | None = None  # the commit the index was last brought in step with
        self._problems: list[Problem] = []

    # ---- the index -----------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """Whether the index is in memory and in step (reading it now loads no model)."""
        return self._index is not None and not self.needs_sync

    @property
    def index(self) -> SkillIndex:
        if self._index is None:
            idx = self._empty()
            try:
                loaded = idx.load(self.cache_dir())
            except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
                log.warning("agent %s: index cache in %s could not be read (%s); rebuilding it from the files",
                            self.store.agent_id, self.cache_dir(), exc)
                loaded = False
            if not loaded:
                idx = self._empty()
                idx.dirty = True
            self._index = idx
        if self.needs_sync:
            self.needs_sync = False
            self.sync()
        return self._index

    def _empty(self) -> SkillIndex:
        lib = self.library
        return SkillIndex(lib.embedder, lib.index_kind, lib.index_params, lib.search)

    def cache_dir(self) -> Path:
        """Where this index is cached (``index/<embedder> <kind> <search settings>``)."""
        search = self._index.settings.id if self._index is not None else self.library.search.id
        return self.store.path("index/" + slugify(f"{self.library.embedder.id} {self.library.index_kind} {search}",
                                                  max_len=64))

    # ---- keeping it in step ----------------------------------------------------------------
    def sync(self, commit_hand_edits: bool = False) -> None:
        """Bring the index in step with the skill files on disk (and, when asked and writable,
        commit edits made by hand so history stays whole)."""
        self.needs_sync = False
        if self.read_only:
            self.sync_locked(False)
        else:
            with self._lock():
                self.sync_locked(commit_hand_edits)

    def sync_locked(self, commit_hand_edits: bool) -> None:
        """:meth:`sync` for a caller that already holds the agent's lock (or reads only)."""
        index = self.index
        found, problems = self.store.scan()
        if commit_hand_edits:
            self.store.commit_untracked_changes(found)
        changed: list[tuple[Skill, str, list[str]]] = []
        keep: set[str] = set()
        self._problems = problems  # phrasing reads below add theirs to the same list
        for name, data in found.items():
            phr = self.phrasing_bytes(name)
            fsha = sha256(data + b"\0" + phr)
            old = index.entries.get(name)
            if old is not None and old.file_sha == fsha:
                keep.add(name)
                continue
            skill = self._valid(name, data, problems)
            if skill is None:
                continue
            changed.append((skill, fsha, phrasings_mod.parse(phr.decode("utf-8", "replace"))))
            keep.add(name)
        for name in set(index.entries) - keep:
            index.remove(name)
        index.update(changed)
        self._problems = problems
        self._in_step(self.store.git.head())
        self.flush()

    def refresh(self) -> None:
        """Re-sync if another process committed since this handle last looked. Nothing is read
        while this process has held the agent's lock without a break since then: no other writer
        can have come in."""
        hold = self._held() if self._held is not None else None
        if hold is not None and hold == self._synced_hold:
            return
        if self.store.git.head() != self.synced_head:
            self.sync()
        else:
            self._synced_hold = hold

    def _in_step(self, head: str | None) -> None:
        self.synced_head = head
        self._synced_hold = self._held() if self._held is not None else None

    def after_write(self, skill: Skill) -> None:
        """Take the skill just written (and committed by this process) into the index."""
        data = self.store.skill_path(skill.name).read_bytes()
        phr = self.phrasing_bytes(skill.name)
        old = self.index.entries.get(skill.name)
        if old is not None and skill.version > old.version and skill.status == "active" \
                and self._on_new_version is not None:
            self._on_new_version(skill.name)
        self.index.update([(skill, sha256(data + b"\0" + phr), phrasings_mod.parse(phr.decode("utf-8", "replace")))])
        self._in_step(self.store.git.head())

    def forget(self, name: str) -> None:
        """Drop a skill this process just removed (or renamed away)."""
        self.index.remove(name)

    def committed(self) -> None:
        """This process committed a change that needs nothing in the index (settings)."""
        self._in_step(self.store.git.head())

    def flush(self) -> None:
        """Persist the index if it changed (it is rebuildable, so this is an optimisation)."""
        if self._index is not None and self._index.dirty and not self.read_only:
            self._index.save(self.cache_dir())

    def rebuild(self) -> int:
        """Drop the index and build it again from the files; returns the number of skills."""
        with self._lock():
            self._index = self._empty()
            self._index.dirty = True
            self.sync_locked(False)
        return len(self.index)

    # ---- reading the files -------------------------------------------------------------------
    def phrasing_bytes(self, name: str) -> bytes:
        """The bytes of skill ``name``'s ``references/phrasings.md`` (empty when it has none; a
        link there is refused and reported as a problem)."""
        try:
            return self.store.read_bundled(name, phrasings_mod.PHRASINGS_FILE) or b""
        except UnsafePath as exc:
            self._problems.append(Problem(str(self.store.skill_dir(name)), str(exc)))
            return b""

    def catalogue(self) -> tuple[list[Skill], list[Problem]]:
        """Every skill that parses, and the problems of the rest, read from the files alone (no
        index, no model)."""
        found, problems = self.store.scan()
        skills = []
        for name, data in sorted(found.items()):
            skill = self._valid(name, data, problems)
            if skill is not None:
                skills.append(skill)
        return skills, problems

    def _valid(self, name: str, data: bytes, problems: list[Problem]) -> Skill | None:
        """The skill in ``data`` if it parses and passes validation; else ``None``, its problem added."""
        try:
            skill = self.store.parse(name, data)
            skill.validate()
        except (SkillParseError, InvalidSkill) as exc:
            problems.append(Problem(str(self.store.skills_dir / name / "SKILL.md"), getattr(exc, "reason", str(exc))))
            return None
        return skill

    @property
    def problems(self) -> list[Problem]:
        """Skill files that could not be used (path and reason), as of the last sync; before the
        index is first used, found by parsing the files (no embedding)."""
        if self.needs_sync:
            return self.catalogue()[1]
        return self._problems
