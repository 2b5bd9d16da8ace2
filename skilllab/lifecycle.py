"""The life of a skill after it is written: outcomes and drift, staleness, deprecation, audit.

A skill whose recent outcomes keep failing is flagged ``review`` (the system it describes has
probably changed underneath it); it is still recalled, marked as such. A person deprecates a
skill (kept, never recalled), removes it (gone from disk and search, still in history) or
restores it. Every status change is a commit.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import SkillNotFound
from .skill import today

if TYPE_CHECKING:
    from .library import Agent



@dataclass(frozen=True)
class StaleSkill:
    name: str
    status: str
    updated: str
    last_used: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def record_outcome(agent: Agent, name: str, success: bool, *, when: str | None = None) -> str:
    """Record whether a task that followed skill ``name`` succeeded; returns the skill's status.

    If ``drift_failures`` of the last ``drift_window`` outcomes failed, an active skill is set to
    ``review`` (one commit). An update that repairs it sets it back to active.
    """
    if name not in agent:
        raise SkillNotFound(f"agent {agent.id!r} has no skill {name!r}")
    with agent.lock():
        stats = agent.usage.record_outcome(name, success, when)
        settings = agent.settings
        status = agent.status_of(name)
        failures = stats.recent_failures(settings.drift_window)
        if status == "active" and failures >= settings.drift_failures:
            set_status(agent, name, "review",
                       f"{failures} of the last {min(len(stats.recent), settings.drift_window)} outcomes failed",
                       date=(when or today())[:10], when=at.timestamp() if (at := _parse(when)) else None)
            return "review"
        return status


def set_status(agent: Agent, name: str, status: str, reason: str, *, date: str | None = None,
               when: float | None = None) -> str | None:
    with agent.lock():
        skill = agent.get(name)
        if skill.status == status:
            return None
        old = skill.status
        skill.set_meta("status", status)
        skill.set_meta("updated", date or today())
        skill.add_changelog(f"status {old} -> {status}: {reason}", date=date)
        verb = {"review": "flag", "deprecated": "deprecate", "active": "reactivate"}[status]
        return agent.write(skill, f"{verb} {name}: {reason}", when=when)


def deprecate(agent: Agent, name: str, reason: str = "deprecated by hand", **kw: Any) -> str | None:
    """Keep the skill on disk and in history, but never recall it again."""
    return set_status(agent, name, "deprecated", reason, **kw)


def reactivate(agent: Agent, name: str, reason: str = "reactivated by hand", **kw: Any) -> str | None:
    return set_status(agent, name, "active", reason, **kw)


def stale(agent: Agent, days: int, *, now: _dt.datetime | None = None) -> list[StaleSkill]:
    """Skills neither updated nor used for ``days`` days, and skills in review, with why."""
    now = now or _dt.datetime.now(_dt.UTC)
    cutoff = now - _dt.timedelta(days=days)
    out = []
    for info in agent.list():
        if info.status == "deprecated":
            continue
        stats = agent.usage.get(info.name)
        updated = _parse(info.updated)
        used = _parse(stats.last_used)
        latest = max(filter(None, [updated, used]), default=None)
        reasons = []
        if info.status == "review":
            reasons.append(f"in review: {stats.recent_failures(agent.settings.drift_window)} recent failed outcomes")
        if latest is None or latest < cutoff:
            last = f"last used {stats.last_used[:10]}" if stats.last_used else "never used"
            reasons.append(f"not updated since {info.updated or '?'} and {last} ({days}+ days)")
        if reasons:
            out.append(StaleSkill(info.name, info.status, info.updated, stats.last_used, "; ".join(reasons)))
    return out


def diff(agent: Agent, name: str, v1: int, v2: int) -> str:
    """Unified diff of skill ``name`` between its versions ``v1`` and ``v2``."""
    a = agent.read_version(name, v1).render()
    b = agent.read_version(name, v2).render()
    return "".join(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                        fromfile=f"{name} v{v1}", tofile=f"{name} v{v2}"))


def _parse(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=_dt.UTC)
