"""Usage and outcome counts per skill, in a sidecar ``skills/<name>/usage.json`` (git-ignored).

Reading or recalling a skill never rewrites ``SKILL.md`` and never makes a commit. Uses are
batched in memory and written when ``batch_size`` events are pending, when the oldest pending
event is ``max_delay`` seconds old (checked at the next event), and on flush/close; so a crash
loses at most the last batch of use counts, never skill content. Outcomes are written at once,
since they drive drift flagging and another process may be reading them; a harness that owns its
handles and closes them (the replay) sets ``batch_outcomes`` to batch them with the uses, or
``hold`` to keep every count (and the emptying of a drift window by a new version) in memory until
it lets the agent's lock go or closes (:meth:`UsageBook.write_held`). What a
caller reads (:meth:`UsageBook.get`, the stats :meth:`UsageBook.record_outcome` returns, which
drive drift flagging) is what is on disk plus this handle's pending batch. Writes add to what is
on disk under the agent's lock, so several processes count into the same sidecar. They are
atomic (a reader sees the old counts or the new ones) but not flushed to the disk one by one:
counters are soft state, and a power loss costs at most the counts of the last moments, never a
skill.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._fs import read_json, write_json

USAGE_FILE = "usage.json"
RECENT = 20  # outcomes kept for the drift window


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class UsageStats:
    uses: int = 0
    last_used: str | None = None
    successes: int = 0
    failures: int = 0
    recent: list[int] = field(default_factory=list)  # 1 = success, 0 = failure, oldest first

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> UsageStats:
        d = d or {}
        return cls(int(d.get("uses", 0)), d.get("last_used"), int(d.get("successes", 0)),
                   int(d.get("failures", 0)), [int(x) for x in d.get("recent", [])][-RECENT:])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def recent_failures(self, window: int) -> int:
        return sum(1 for x in self.recent[-window:] if x == 0)


@dataclass
class _Pending:
    """Counts not yet on disk. Memory stays bounded however long they are held: outcomes are
    counted, and only the last :data:`RECENT` are kept for the drift window."""

    uses: int = 0
    last_used: str | None = None
    outcomes: list[int] = field(default_factory=list)  # the last RECENT: 1 = success, 0 = failure, oldest first
    successes: int = 0
    failures: int = 0
    reset: bool = False  # held only: the drift window was emptied (a new version) since the file was read

    def add_outcome(self, success: bool) -> None:
        self.successes += success
        self.failures += not success
        self.outcomes = (self.outcomes + [1 if success else 0])[-RECENT:]

    def add_to(self, stats: UsageStats) -> UsageStats:
        stats.uses += self.uses
        stats.last_used = max(filter(None, [stats.last_used, self.last_used]), default=None)
        stats.successes += self.successes
        stats.failures += self.failures
        stats.recent = (([] if self.reset else stats.recent) + self.outcomes)[-RECENT:]
        return stats


class UsageBook:
    def __init__(self, skills_dir: Path, lock: Any, batch_size: int = 32, *, read_only: bool = False,
                 guard: Callable[[str], Path] | None = None, max_delay: float = 2.0,
                 batch_outcomes: bool = False):
        self.skills_dir = Path(skills_dir)
        self.lock = lock
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.batch_outcomes = batch_outcomes  # False: each outcome is written at once
        # True: nothing is written before the lock is let go (the holder calls write_held) or a flush
        self.hold = False
        self._guard = guard  # the agent store's path check: a linked sidecar is refused
        self.read_only = read_only  # counts are kept in memory only (a finished run folder is never written)
        self._pending: dict[str, _Pending] = {}
        self._events = 0
        self._since: float | None = None  # monotonic time of the oldest pending event

    def _path(self, name: str) -> Path:
        return self._guard(name) if self._guard is not None else self.skills_dir / name / USAGE_FILE

    def _read(self, name: str) -> UsageStats:
        return UsageStats.from_dict(read_json(self._path(name)))

    def get(self, name: str) -> UsageStats:
        """The counts on disk plus this process's pending ones."""
        stats = self._read(name)
        pending = self._pending.get(name)
        return pending.add_to(stats) if pending is not None else stats

    def _add(self, name: str) -> _Pending:
        if self._since is None:
            self._since = time.monotonic()
        self._events += 1
        return self._pending.setdefault(name, _Pending())

    def _due(self) -> bool:
        if self.hold:
            return False
        return self._events >= self.batch_size or (
            self._since is not None and time.monotonic() - self._since >= self.max_delay)

    def record_use(self, name: str, when: str | None = None) -> None:
        p = self._add(name)
        p.uses += 1
        p.last_used = max(filter(None, [p.last_used, when or now_iso()]))
        if self._due():
            self.flush()

    def record_outcome(self, name: str, success: bool, when: str | None = None) -> UsageStats:
        """Count an outcome (written at once unless ``batch_outcomes``); returns the skill's counts
        with it (disk plus pending)."""
        if self.read_only:
            from .errors import SkilllabError

            raise SkilllabError(f"{self.skills_dir}: opened read-only; outcomes cannot be recorded")
        with self.lock:
            self._add(name).add_outcome(success)
            stats = self.get(name)
            if not (self.batch_outcomes or self.hold) or self._due():
                self.flush()
            return stats

    def reset_recent(self, name: str) -> None:
        """Forget the drift window: outcomes before a new version say nothing about it."""
        with self.lock:  # this skill's pending counts are added first (they came before the version)
            if self.hold and not self.read_only:
                self._reset_held(name)
                return
            pending = self._pending.pop(name, None) if not self.read_only else None
            stats = self._read(name)
            if pending is not None:
                stats = pending.add_to(stats)
            if (pending is not None or stats.recent) and self._path(name).parent.is_dir():
                stats.recent = []
                write_json(self._path(name), stats.to_dict(), durable=False)

    def forget(self, name: str) -> None:
        """Drop the pending counts of a skill whose folder was removed (deleted, merged into
        another, renamed): they are lost with the folder, as written ones are, and a skill made
        later under the same name starts with none."""
        self._pending.pop(name, None)

    def _reset_held(self, name: str) -> None:
        """:meth:`reset_recent` for a book that holds its counts: the outcomes counted so far
        leave the drift window in memory, to be written with the rest. Writes what the immediate
        reset would have written: nothing for a skill with no counts at all."""
        p = self._pending.get(name)
        if p is None:
            if not self._read(name).recent or not self._path(name).parent.is_dir():
                return
            p = self._pending[name] = _Pending()
        p.reset, p.outcomes = True, []

    def flush(self) -> None:
        """Add the pending counts to what is on disk (under the agent's lock)."""
        if not self._pending or self.read_only:
            return
        with self.lock:
            self.write_held()

    def write_held(self) -> None:
        """:meth:`flush` for a caller that holds the agent's lock already (its release hook,
        which must not take the lock again)."""
        if not self._pending or self.read_only:
            return
        pending, self._pending, self._events, self._since = self._pending, {}, 0, None
        for name, p in pending.items():
            if not self._path(name).parent.is_dir():
                continue  # removed meanwhile
            write_json(self._path(name), p.add_to(self._read(name)).to_dict(), durable=False)
