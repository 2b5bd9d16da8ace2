"""The library: a root folder of agents, and the handle through which one agent's skills are used.

``Library(root)`` only stores its settings. ``library.agent(agent_id)`` opens one agent: it
creates the agent's folder and repository if asked to, and brings the agent's search index in
step with the skill files (the files are the truth; the index is loaded from its cache, patched
or rebuilt from them). Opening only reads: hand edits are committed by the next write, never
by a read. ``Library(root, read_only=True)`` opens agents that can never be changed through it
(no commit, no index written to disk), which is how finished run folders are read.

:class:`Agent` is a thin handle over collaborators with one job each: :class:`~skilllab.store.
AgentStore` (files and git), :class:`~skilllab.index.SkillIndex` (search),
:class:`~skilllab.versions.Versions` (history and restore), :class:`~skilllab.settings.
AgentSettings` (``agent.toml``), :class:`~skilllab.distill.ledger.Ledger` and
:class:`~skilllab.usage.UsageBook`. Everything it does is confined to that agent's folder and
that agent's index.

An ``Agent`` handle is meant for one thread; open one handle per thread or process. Handles of
the same agent coordinate through the agent's file lock and git HEAD, so concurrent writers
never lose an update.
"""

from __future__ import annotations

import builtins
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dulwich.objects import Commit
from filelock import FileLock

from . import lifecycle
from . import phrasings as phrasings_mod
from . import recall as recall_mod
from ._fs import atomic_write
from .distill.ledger import Ledger
from .embed import DEFAULT_EMBEDDER, get_embedder
from .errors import SkilllabError, SkillNotFound, UnsafePath
from .index import SearchSettings, SkillEntry, SkillIndex
from .index.skills import DOC_SEP
from .indexing import AgentIndex
from .names import AGENT_ID_RE, validate_agent_id, validate_skill_name
from .recall import DEFAULT_MIN_SIMILARITY
from .settings import SETTINGS_FILE, AgentSettings, check_bar
from .skill import Skill
from .store import AgentStore, Change, Problem, Version
from .usage import UsageBook
from .versions import Versions

if TYPE_CHECKING:
    from .distill.flow import DistillResult
    from .lifecycle import StaleSkill
    from .session import Session

log = logging.getLogger(__name__)


class ReadOnly(SkilllabError):
    """A write was asked of an agent opened read-only."""


@dataclass(frozen=True)
class SkillHit:
    """A search or recall result: a skill of this agent and its score for the query (see
    :mod:`skilllab.index.skills` for what the score means; higher is closer, in [0, 1])."""

    name: str
    similarity: float
    description: str
    status: str
    path: str
    own_similarity: float | None = None  # the score of the skill's own text alone (no learned phrasing)

    def to_dict(self) -> dict[str, Any]:
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

    def to_dict(self) -> dict[str, Any]:
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
        index_params: parameters of the vector index (``M``, ``ef_construction``, ``ef_search``).
        search: :class:`~skilllab.index.SearchSettings` (or a dict of them): the lexical share of
            the fused score and how many learned phrasings of a skill are indexed.
        read_only: open agents that never commit and never write their index to disk.
        durable: flush each write of a skill, the intent and the ledger to the disk before it
            counts (``fsync``), so a power loss cannot undo a write that returned. A scratch
            library kept only as a whole (a replay's, flushed once before its run folder is named)
            turns it off: every write stays atomic and every commit is made, only the per-write
            flush is skipped. Commits made while the agent's lock is held without a break are
            kept in memory and written, as one pack and then HEAD, when the lock is let go (see
            :class:`~skilllab.history.GitHistory`); so is each write's intent record, and edits
            made by hand (and a record an earlier handle left) are looked for once a hold, not
            before every write. Git's index file (staging, which only ``git status`` reads) is
            written when the agent closes.
    """

    def __init__(self, root: str | Path, embedder: Any = DEFAULT_EMBEDDER, *, cache_dir: Any = None,
                 index: str = "hnsw", index_params: dict[str, Any] | None = None,
                 search: SearchSettings | dict[str, Any] | None = None, read_only: bool = False,
                 durable: bool = True):
        self.root = Path(root)
        self.embedder_spec = embedder if isinstance(embedder, str) else getattr(embedder, "id", "custom")
        self._embedder = None if isinstance(embedder, str) else embedder
        self.cache_dir = cache_dir
        self.index_kind = index
        self.index_params = dict(index_params or {})
        self.search = search if isinstance(search, SearchSettings) else SearchSettings(**(search or {}))
        self.read_only = read_only
        self.durable = durable

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = get_embedder(self.embedder_spec or DEFAULT_EMBEDDER, self.cache_dir)
        return self._embedder

    def agent(self, agent_id: str, *, create: bool = True) -> Agent:
        """Open one agent's skills (creating its folder and repository if ``create``)."""
        handle = Agent(self, agent_id)
        handle.open(create=create and not self.read_only)
        return handle

    def agents(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.is_symlink() and AGENT_ID_RE.fullmatch(p.name)
                      and ((p / ".git").is_dir() or (p / "skills").is_dir()))


class AgentLock:
    """An agent's write lock: a :class:`filelock.FileLock` (one holder across processes and
    threads), re-entered by the thread that holds it with a count of its own. Only the outermost
    ``acquire`` and ``release`` reach the file lock, whose own re-entry walks frames and resolves
    the path each time (the replay holds the lock throughout and re-enters it for every write and
    outcome). A context manager, like the file lock."""

    def __init__(self, path: str, timeout: float = 600, before_release: Callable[[], None] | None = None):
        self.file_lock = FileLock(path, timeout=timeout)
        self._held = threading.local()
        self.epoch = 0  # counts the times the file lock was taken: a hold without a break keeps its number
        # run before the file lock is let go (it still holds it), even when it fails: what the
        # holder kept in memory is written while no other writer can come in
        self.before_release = before_release

    @property
    def depth(self) -> int:
        """How many times this thread holds the lock (0: not held)."""
        return getattr(self._held, "depth", 0)

    @property
    def is_locked(self) -> bool:
        """Whether this thread holds the lock."""
        return self.depth > 0

    @property
    def held_epoch(self) -> int | None:
        """The number of this thread's hold (None when it does not hold the lock): equal numbers at
        two moments mean the lock was held throughout, so no other writer came in between."""
        return self.epoch if self.depth > 0 else None

    def acquire(self, timeout: float | None = None) -> AgentLock:
        depth = self.depth
        if depth == 0:
            self.file_lock.acquire(timeout=timeout)
            self.epoch += 1
        self._held.depth = depth + 1
        return self

    def release(self, force: bool = False) -> None:
        depth = self.depth
        if depth == 0:
            return
        self._held.depth = 0 if force else depth - 1
        if self._held.depth == 0:
            try:
                if self.before_release is not None:
                    self.before_release()
            finally:
                self.file_lock.release(force=True)

    def __enter__(self) -> AgentLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class Agent:
    """One agent's skills. Obtain it with :meth:`Library.agent`."""

    def __init__(self, library: Library, agent_id: str):
        self.library = library
        self.id = validate_agent_id(agent_id)
        self.store = AgentStore(library.root, self.id, durable=library.durable)
        self.root = self.store.root
        self.read_only = library.read_only
        self.versions = Versions(self.store)
        # a library that is not durable keeps its commits in memory while the lock is held, and a
        # harness that holds the lock may keep usage counts there too: written before it is let go
        self._lock = AgentLock(str(self.root / ".lock"), timeout=600, before_release=self._before_release)
        self._ledger: Ledger | None = None
        self._usage: UsageBook | None = None
        self._intent: dict[str, Any] | None = None  # the change being written, when not durable
        self._looked: dict[str, int | None] = {}  # what a scratch library looked for on disk -> in which hold
        # the search index, kept in step with the files (see skilllab.indexing)
        self.indexer = AgentIndex(self.store, library, read_only=self.read_only, lock=self.lock,
                                  on_new_version=lambda name: self.usage.reset_recent(name),
                                  held=lambda: self._lock.held_epoch)

    # ---- opening and syncing ---------------------------------------------------------------
    def open(self, create: bool = True) -> None:
        if self.root.is_symlink():
            raise UnsafePath(f"{self.root}: agent folder is a symlink; refused")
        if not self.store.exists():
            if not create:
                raise SkillNotFound(f"no agent {self.id!r} in library {self.library.root}")
        if create:
            with self.lock():
                self.store.ensure()
        # The index (and with it the embedding model) is brought in step with the files on first
        # use, so a command that only lists, shows or reads history never loads a model.
        self.indexer.needs_sync = True

    @property
    def problems(self) -> builtins.list[Problem]:
        """Skill files that could not be used (path and reason), as of the last sync; before the
        index is first used, found by parsing the files (no embedding)."""
        return self.indexer.problems

    def _before_release(self) -> None:
        """What was kept in memory while the lock was held, written while it still is: usage
        counts a holding harness kept (:attr:`UsageBook.hold`), then commits (a library that is
        not durable)."""
        try:
            if self._usage is not None and self._usage.hold:
                self._usage.write_held()
        finally:
            self.store.git.flush()

    def _forget_usage(self, name: str) -> None:
        """A skill's folder was removed: its usage counts not yet written are dropped with it."""
        if self._usage is not None:
            self._usage.forget(name)

    def lock(self) -> AgentLock:
        """The agent's write lock (reentrant; serializes writers across processes)."""
        self._check_writable()
        if not self._lock.is_locked:  # held: the folder and the lock file were checked when it was taken
            self.root.mkdir(parents=True, exist_ok=True)
            self.store.path(".lock")
        return self._lock

    def _check_writable(self) -> None:
        if self.read_only:
            raise ReadOnly(f"agent {self.id!r} was opened read-only ({self.library.root}); nothing can change it")

    @property
    def embedder(self) -> Any:
        return self.library.embedder

    @property
    def index(self) -> SkillIndex:
        """The agent's search index (derived from the files; see :mod:`skilllab.indexing`)."""
        return self.indexer.index

    def sync(self, commit_hand_edits: bool = False) -> None:
        """Bring the index in step with the skill files on disk (and, when asked and writable,
        commit edits made by hand so history stays whole)."""
        self.indexer.sync(commit_hand_edits)

    def refresh(self) -> None:
        """Re-sync if another process committed since this handle last looked."""
        self.indexer.refresh()

    def flush(self) -> None:
        """Persist the index if it changed (it is rebuildable, so this is an optimisation)."""
        self.indexer.flush()

    def rebuild_index(self) -> int:
        """Drop the index and build it again from the files; returns the number of skills."""
        return self.indexer.rebuild()

    # ---- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, name: str) -> bool:
        return name in self.index

    def names(self) -> list[str]:
        return sorted(self.index.entries)

    def entry(self, name: str) -> SkillEntry | None:
        """What the index knows of skill ``name`` (status, version, sources, branches), if it has it."""
        return self.index.entries.get(name)

    def list(self, include_deprecated: bool = True) -> list[SkillInfo]:
        """Every skill (name, description, status, version, updated, sources, path), by name. Read
        from the index when it is in use, else from the files (no model is loaded)."""
        if not self.indexer.loaded:
            return [SkillInfo(sk.name, sk.description, sk.status, sk.version, sk.meta("updated"), tuple(sk.sources),
                              str(self.store.skill_path(sk.name)))
                    for sk in self.indexer.catalogue()[0] if include_deprecated or sk.status != "deprecated"]
        out = []
        for name in sorted(self.index.entries):
            e = self.index.entries[name]
            if include_deprecated or e.status != "deprecated":
                out.append(SkillInfo(name, e.description, e.status, e.version, e.updated, e.sources,
                                     str(self.store.skill_path(name))))
        return out

    def get(self, name: str) -> Skill:
        """The skill document (``SkillNotFound`` for a name this agent does not have)."""
        return self.store.read(name)

    def status_of(self, name: str) -> str:
        e = self.index.entries.get(name)
        return e.status if e else ""

    def active_units(self) -> dict[str, builtins.list[str]]:
        """Each skill that can be recalled (not deprecated) and the ids of its branches."""
        return {n: list(e.branches) for n, e in self.index.entries.items() if e.status != "deprecated"}

    def search(self, text: str, k: int = 5, *, include_deprecated: bool = False,
               min_similarity: float | None = None) -> builtins.list[SkillHit]:
        """This agent's skills nearest to ``text`` (meaning and terms fused), best first."""
        if not len(self.index) or k <= 0:
            return []
        entries = self.index.entries
        allow = None if include_deprecated or not self.index.has_deprecated() else (
            lambda n: entries[n].status != "deprecated")
        out = []
        for name, score, own in self.index.search(text, k, allow):
            if min_similarity is not None and score < min_similarity:
                continue
            e = entries[name]
            out.append(SkillHit(name, score, e.description, e.status, self.store.shown_path(name), own))
        return out

    def with_branch(self, branch_id: str) -> builtins.list[str]:
        """Skills (not deprecated) that have a branch of this id: the same resolution."""
        return sorted(n for n, e in self.index.entries.items() if branch_id in e.branches and e.status != "deprecated")

    def score(self, text: str, names: builtins.list[str]) -> builtins.list[SkillHit]:
        """The hits ``search`` would give ``names`` for ``text``, scored exactly, best first."""
        entries = self.index.entries
        scored = self.index.score_skills(text, names)
        hits = [SkillHit(n, sc, entries[n].description, entries[n].status,
                         self.store.shown_path(n), own) for n, (sc, own) in scored.items()]
        return sorted(hits, key=lambda h: -h.similarity)

    def nearest_neighbour_similarities(self) -> builtins.list[float]:
        """Each skill's dense similarity (own text) to its nearest other skill of this agent: a
        measure of sprawl."""
        names = self.names()
        if len(names) < 2:
            return []
        dense = self.index.dense
        vecs = dense.vectors([f"{n}{DOC_SEP}0" for n in names])
        sims = []
        for n, v in zip(names, vecs):
            hits = [h for h in dense.search(v, 3, lambda d: d.endswith(f"{DOC_SEP}0")) if
                    h.name.split(DOC_SEP, 1)[0] != n]
            if hits:
                sims.append(round(hits[0].similarity, 6))
        return sims

    # ---- writing ---------------------------------------------------------------------------
    def write(self, skill: Skill, message: str, *, when: float | None = None,
              files: dict[str, str | bytes] | None = None, renamed_from: str | None = None,
              intent: dict[str, Any] | None = None) -> str | None:
        """Validate, write atomically, commit with ``message`` and update the index.

        ``files`` are bundled files to write beside SKILL.md (``scripts/NAME.sh``); ``renamed_from``
        moves an existing skill's folder (history kept) before writing. The whole change (every
        file's new content, the message) is kept in ``state/intent.json`` until it is committed
        and, when ``intent`` (the ledger record of the session making the change) is given, until
        the caller has added that record to the ledger (:meth:`clear_intent`). A crash anywhere in
        between is finished by :meth:`recover`: the change is written again in full, committed
        with its own message, and its ledger line added. A library that is not durable keeps the
        intent in memory, as it keeps its commits: a process killed meanwhile leaves the files,
        which the next handle commits as edits by hand, and a session whose change reached its
        skill file is found there as one of its sources. Returns the commit id, or ``None`` when
        nothing changed on disk.
        """
        skill.validate()
        with self.lock():
            self.recover()
            self._commit_pending()
            change = self.store.plan_write(skill, message, when, files=files, renamed_from=renamed_from)
            if change is None:
                return None
            cid = self._apply(change, intent)
            if renamed_from and renamed_from != skill.name:
                self.indexer.forget(renamed_from)
                self._forget_usage(renamed_from)
            self.indexer.after_write(skill)
            return cid

    def _apply(self, change: Change, record: dict[str, Any] | None) -> str | None:
        """Record ``change`` as the intent, apply and commit it; the intent stays while ``record``
        still has to reach the ledger (the caller clears it), and goes at once otherwise."""
        intent = {**change.to_json(), "parent": self.store.git.head(), "record": record}
        if self.library.durable:
            atomic_write(self._intent_path(), json.dumps(intent, ensure_ascii=False))
        else:
            self._intent = intent
        cid = self.store.apply(change)
        if record is None:
            self.clear_intent()
        return cid

    def apply_change(self, writes: builtins.list[tuple[Skill, dict[str, str | bytes]]], deletes: builtins.list[str],
                     message: str, *, when: float | None = None) -> str | None:
        """Write ``writes`` (skill, bundled files) and delete ``deletes`` as one commit (a split or a
        merge). Every written skill is validated first; a crash part-way is finished by
        :meth:`recover` from the intent record, with this message."""
        for skill, _ in writes:
            skill.validate()
        with self.lock():
            self.recover()
            self._commit_pending()
            cid = self._apply(self.store.plan_change(writes, deletes, message, when), None)
            for name in deletes:
                self.indexer.forget(name)
                self._forget_usage(name)
            for skill, _ in writes:
                self.indexer.after_write(skill)
            self.flush()
            return cid

    def consolidate(self, sessions: Any=None, *, dry_run: bool = False, when: float | None = None,
                    date: str | None = None, **thresholds: Any) -> Any:
        """Split skills holding unrelated problems and merge duplicates (see
        :mod:`skilllab.consolidate`); ``sessions`` (session id -> task, or sessions) lets it see
        what each branch's sources were asked. Returns the plan; with ``dry_run`` nothing is written."""
        from . import consolidate as cons

        if sessions is not None and not isinstance(sessions, dict):
            sessions = {s.session_id: s.task for s in sessions}
        p = cons.plan(self, sessions, **thresholds)
        if not dry_run and p:
            cons.apply(self, p, sessions=sessions, when=when, date=date)
        return p

    def resolve(self, name: str) -> str:
        """``name``, or the skill that now carries it as an earlier name (``skilllab.aliases``, set
        by a rename or a merge); raises ``SkillNotFound`` when neither exists."""
        name = validate_skill_name(name)
        if self.store.skill_path(name).is_file():
            return name
        for sk in self.indexer.catalogue()[0]:
            if name in sk.meta("aliases").split():
                return sk.name
        raise SkillNotFound(f"agent {self.id!r} has no skill {name!r}")

    def _intent_path(self) -> Path:
        return self.store.path("state/intent.json")

    def clear_intent(self) -> None:
        """The session whose change was written is in the ledger now: nothing left to recover."""
        if not self.library.durable and (self._intent is not None or self._looked_this_hold("intent")):
            self._intent = None  # kept in memory, and no record on disk
            return
        try:
            self._intent_path().unlink()
        except FileNotFoundError:
            pass

    def _looked_this_hold(self, what: str) -> bool:
        """Whether this hold of the lock already looked on disk for ``what`` (``"edits"`` made by
        hand, an ``"intent"`` record an earlier handle left). A library that is not durable is
        written by the lock's holder alone, so once a hold is enough; it writes no intent record."""
        epoch = self._lock.held_epoch
        return epoch is not None and self._looked.get(what) == epoch

    def recover(self) -> str | None:
        """Finish a change a crash interrupted (see :meth:`write`): write its files again in full
        and commit them with its own message if that commit was not made, and add its ledger line
        if it is missing. Running it again does nothing new. Returns what was done ("" when
        nothing was pending). A library that is not durable looks for a record on disk once a
        hold of the lock (it writes none itself)."""
        if self.library.durable or self._intent is not None:
            return self._recover()
        if self._looked_this_hold("intent"):
            return ""
        epoch = self._lock.held_epoch
        done = self._recover()
        self._looked["intent"] = epoch
        return done

    def _recover(self) -> str | None:
        path = self._intent_path()
        try:
            intent = self._intent if self._intent is not None else json.loads(path.read_text(encoding="utf-8"))
            change = Change.from_json(intent)
        except FileNotFoundError:
            return ""
        except (ValueError, OSError, KeyError, TypeError, AttributeError):
            log.warning("agent %s: unreadable %s (a crash while writing it) removed", self.id, path)
            path.unlink(missing_ok=True)
            return "dropped an unreadable intent record"
        with self.lock():
            record = intent.get("record") or {}
            done = []
            head = self.store.git.head()
            last = cast(Commit, self.store.git.repo[head.encode()]).message.decode("utf-8", "replace").strip() \
                if head else ""
            if last == change.message and head != intent.get("parent"):  # the commit was made
                if record and not record.get("commit"):
                    record = {**record, "commit": head}
            else:
                cid = self.store.apply(change)
                if cid:
                    record = {**record, "commit": cid} if record else record
                    done.append(f"committed {', '.join(sorted(change.files))} as {change.message!r}")
                self.indexer.sync_locked(False)
            if record.get("session_id") and self.ledger.get(record["session_id"]) is None:
                self.ledger.add(record)
                done.append(f"recorded session {record['session_id']} in the ledger")
            self._intent = None
            path.unlink(missing_ok=True)
            if done:
                log.warning("agent %s: finished an interrupted change: %s", self.id, "; ".join(done))
            return "; ".join(done)

    def _commit_pending(self) -> None:
        """Commit edits made by hand since the last write, so history names them as such (only
        files whose stat changed are read: see :meth:`AgentStore.blob_ids`). A library that is not
        durable looks once a hold of the lock: a scratch library is written by its holder alone."""
        if not self.library.durable:
            if self._looked_this_hold("edits"):
                return
            self._looked["edits"] = self._lock.held_epoch
        if self.store.commit_untracked_changes() is not None:
            self.indexer.sync_locked(False)

    def commit_hand_edits(self) -> str | None:
        """Commit what was edited, added or removed by hand (every write does this first);
        returns the commit id, or None when there was nothing to commit."""
        with self.lock():
            cid = self.store.commit_untracked_changes()
            if cid is not None:
                self.indexer.sync_locked(False)
            return cid

    def phrasings(self, name: str) -> builtins.list[str]:
        """The task phrasings skill ``name`` has met (its ``references/phrasings.md``)."""
        return phrasings_mod.parse(self.indexer.phrasing_bytes(name).decode("utf-8", "replace"))

    def delete(self, name: str, reason: str = "removed", *, when: float | None = None) -> str | None:
        """Delete the skill's folder (it stays in history) and drop it from search."""
        with self.lock():
            self.recover()
            self._commit_pending()
            cid = self._apply(self.store.plan_delete(name, f"remove {name}: {reason}", when), None)
            self.indexer.forget(name)
            self._forget_usage(name)
            self.indexer.committed()
            return cid

    def history(self, name: str) -> builtins.list[Version]:
        return self.versions.history(name)

    def read_rev(self, name: str, rev: int | str) -> Skill:
        """The skill as it was at history revision ``rev`` (1-based) or commit id (prefix)."""
        return self.versions.read_rev(name, rev)

    def read_version(self, name: str, version: int) -> Skill:
        """The skill as it was at its own version ``version`` (the latest revision carrying it)."""
        return self.versions.read_version(name, version)

    def restore(self, name: str, version: int | None = None, *, rev: int | str | None = None,
                reason: str = "", status: str | None = None, when: float | None = None) -> str:
        """Bring back the skill as it was at its ``version`` (or history ``rev``); by default the
        last version before it was removed, with the status it had then (or ``status``).

        The restored document is that version's text with the version number moved past every
        version in history and a changelog line saying what was restored, so versions only grow.
        """
        skill, v, _old_status, message = self.versions.restored(name, version, rev=rev, reason=reason, status=status)
        cid = self.write(skill, message, when=when)
        return cid or v.commit

    # ---- settings and ledger ----------------------------------------------------------------
    @property
    def settings(self) -> AgentSettings:
        """The agent's settings as its ``agent.toml`` says now (the defaults without one); the
        file is read again only when its stat changed, and parsed once per content."""
        path = self.store.path(SETTINGS_FILE)
        try:
            data = self.store.read_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return AgentSettings()
        return AgentSettings.parse(data, str(path))

    def set_novelty_bar(self, bar: float, reason: str = "", *, when: float | None = None) -> str | None:
        """Turn the novelty knob (0..1, higher is stricter); the change is a commit."""
        bar = check_bar(bar)
        with self.lock():
            self.recover()
            old = self.settings
            path = self.store.path(SETTINGS_FILE)
            if old.novelty_bar == bar and path.exists():
                return None
            atomic_write(path, replace(old, novelty_bar=bar).dumps(), durable=self.library.durable)
            msg = f"set novelty bar {old.novelty_bar:g} -> {bar:g}" + (f": {reason}" if reason else "")
            cid = self.store.git.commit([SETTINGS_FILE], msg, when)
            self.indexer.committed()
            return cid

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger(self.store.path("state/ledger.jsonl"), durable=self.library.durable)
        return self._ledger

    def distill(self, session: Session, distiller: Any = "extractive", *, bar: float | None = None, k: int = 5,
                skip_above: float | None = None, failed_to_dead_ends: bool = False,
                when: float | None = None) -> DistillResult:
        """Distill one finished session into this agent's library (see :func:`skilllab.distill.distill_session`)."""
        from .distill import distill_session

        return distill_session(self, session, distiller, bar=bar, k=k, skip_above=skip_above,
                               failed_to_dead_ends=failed_to_dead_ends, when=when)

    def source_owner(self, session_id: str) -> str | None:
        """The skill whose sources already include ``session_id``, if any."""
        return self.index.owner(session_id)

    # ---- recall and lifecycle (see recall.py and lifecycle.py) --------------------------------
    @property
    def usage(self) -> UsageBook:
        if self._usage is None:
            self._usage = UsageBook(self.store.skills_dir, self._lock, read_only=self.read_only,
                                    guard=lambda name: self.store.path(f"skills/{name}/usage.json"))
        return self._usage

    def recall(self, task: str, k: int = 3, min_similarity: float = DEFAULT_MIN_SIMILARITY, *,
               record_use: bool = True, when: str | None = None) -> builtins.list[SkillHit]:
        """Skills for ``task`` before it starts: best first, none below ``min_similarity``."""
        return recall_mod.recall(self, task, k, min_similarity, record_use=record_use, when=when)

    def recall_context(self, task: str, *, k: int = 3, min_similarity: float = DEFAULT_MIN_SIMILARITY,
                       budget_chars: int = recall_mod.DEFAULT_BUDGET_CHARS, when: str | None = None) -> str:
        """A prompt-ready block with the best skills' full text within ``budget_chars``."""
        return recall_mod.recall_context(self, task, k=k, min_similarity=min_similarity,
                                         budget_chars=budget_chars, when=when)

    def tools(self, *, min_similarity: float = 0.0) -> recall_mod.SkillTools:
        """OpenAI function-calling tools (search_skills, load_skill) scoped to this agent."""
        return recall_mod.SkillTools(self, min_similarity=min_similarity)

    def record_outcome(self, name: str, success: bool, *, when: str | None = None) -> str:
        return lifecycle.record_outcome(self, name, success, when=when)

    def deprecate(self, name: str, reason: str = "deprecated by hand", *, date: str | None = None,
                  when: float | None = None) -> str | None:
        return lifecycle.deprecate(self, name, reason, date=date, when=when)

    def reactivate(self, name: str, reason: str = "reactivated by hand", *, date: str | None = None,
                   when: float | None = None) -> str | None:
        return lifecycle.reactivate(self, name, reason, date=date, when=when)

    def stale(self, days: int, *, now: Any = None) -> builtins.list[StaleSkill]:
        return lifecycle.stale(self, days, now=now)

    def diff(self, name: str, v1: int, v2: int) -> str:
        return lifecycle.diff(self, name, v1, v2)

    def close(self) -> None:
        if self._usage is not None:
            self._usage.flush()
        self.flush()
        git = self.store.git
        if git.pending or git.index_pending:  # a library that is not durable writes its commits and git index now
            with self.lock():
                git.flush()
                git.flush_index()
        self.store.git.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, skills={len(self.index)}, root={str(self.root)!r})"
