"""Usage and outcome counts per skill, in a sidecar ``skills/<name>/usage.json`` (git-ignored).

Reading or recalling a skill never rewrites ``SKILL.md`` and never makes a commit. Uses are
batched in memory and written every ``batch_size`` events (and on flush/close), so a crash
loses at most the last batch of use counts, never skill content. Outcomes are written at once,
since they drive drift flagging. Writes add to what is on disk under the agent's lock, so
several processes count into the same sidecar. They are atomic (a reader sees the old counts or
the new ones) but not flushed to the disk one by one: counters are soft state, and a power loss
costs at most the counts of the last moments, never a skill.
"""

from __future__ import annotations

import datetime as _dt
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


class UsageBook:
    def __init__(self, skills_dir: Path, lock: Any, batch_size: int = 32, *, read_only: bool = False,
                 guard: Callable[[str], Path] | None = None):
        self.skills_dir = Path(skills_dir)
        self.lock = lock
        self.batch_size = batch_size
        self._guard = guard  # the agent store's path check: a linked sidecar is refused
        self.read_only = read_only  # counts are kept in memory only (a finished run folder is never written)
        self._pending: dict[str, tuple[int, str]] = {}
        self._events = 0

    def _path(self, name: str) -> Path:
        return self._guard(name) if self._guard is not None else self.skills_dir / name / USAGE_FILE

    def _read(self, name: str) -> UsageStats:
        return UsageStats.from_dict(read_json(self._path(name)))

    def get(self, name: str) -> UsageStats:
        stats = self._read(name)
        if name in self._pending:
            n, last = self._pending[name]
            stats.uses += n
            stats.last_used = max(filter(None, [stats.last_used, last]))
        return stats

    def record_use(self, name: str, when: str | None = None) -> None:
        n, last = self._pending.get(name, (0, None))
        when = when or now_iso()
        self._pending[name] = (n + 1, max(filter(None, [last, when])))
        self._events += 1
        if self._events >= self.batch_size:
            self.flush()

    def record_outcome(self, name: str, success: bool, when: str | None = None) -> UsageStats:
        if self.read_only:
            from .errors import SkilllabError

            raise SkilllabError(f"{self.skills_dir}: opened read-only; outcomes cannot be recorded")
        with self.lock:
            self.flush()
            stats = self._read(name)
            if success:
                stats.successes += 1
            else:
                stats.failures += 1
            stats.recent = (stats.recent + [1 if success else 0])[-RECENT:]
            if self._path(name).parent.is_dir():
                write_json(self._path(name), stats.to_dict(), durable=False)
            return stats

    def reset_recent(self, name: str) -> None:
        """Forget the drift window: outcomes before a new version say nothing about it."""
        with self.lock:
            stats = self._read(name)
            if stats.recent and self._path(name).parent.is_dir():
                stats.recent = []
                write_json(self._path(name), stats.to_dict(), durable=False)

    def flush(self) -> None:
        if not self._pending or self.read_only:
            return
        with self.lock:
            pending, self._pending, self._events = self._pending, {}, 0
            for name, (n, last) in pending.items():
                if not self._path(name).parent.is_dir():
                    continue  # removed meanwhile
                stats = self._read(name)
                stats.uses += n
                stats.last_used = max(filter(None, [stats.last_used, last]))
                write_json(self._path(name), stats.to_dict(), durable=False)
