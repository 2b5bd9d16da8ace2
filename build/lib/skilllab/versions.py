"""Versions of a skill from git history: list them, read any of them, build a restored document.

A skill's *version* is its own counter (``metadata.skilllab.version``); a *revision* is a commit
that touched its file (1-based, oldest first). Restoring writes an old text back as a new
version, so versions only grow.
"""

from __future__ import annotations

from .errors import SkillNotFound
from .skill import Skill, today
from .store import AgentStore, Version


class Versions:
    """History of one agent's skills, read through its store."""

    def __init__(self, store: AgentStore):
        self.store = store

    def history(self, name: str) -> list[Version]:
        return self.store.history(name)

    def find_rev(self, name: str, rev: int | str) -> Version:
        hist = self.history(name)
        if not hist:
            raise SkillNotFound(f"agent {self.store.agent_id!r} has no history for skill {name!r}")
        for v in hist:
            if (isinstance(rev, int) and v.rev == rev) or (isinstance(rev, str) and len(rev) >= 4
                                                           and v.commit.startswith(rev)):
                return v
        raise SkillNotFound(f"skill {name!r} has no revision {rev!r} (it has 1..{len(hist)})")

    def find_version(self, name: str, version: int) -> Version:
        hist = [v for v in self.history(name) if v.version == int(version) and not v.deleted]
        if not hist:
            have = sorted({v.version for v in self.history(name) if v.version})
            raise SkillNotFound(f"skill {name!r} has no version {version} (it has {have or 'none'})")
        return hist[-1]

    def read_rev(self, name: str, rev: int | str) -> Skill:
        """The skill as it was at history revision ``rev`` (1-based) or commit id (prefix)."""
        v = self.find_rev(name, rev)
        data = self.store.read_at(name, v.commit)
        if data is None:
            raise SkillNotFound(f"skill {name!r} did not exist at revision {rev}")
        return self.store.parse(name, data)

    def read_version(self, name: str, version: int) -> Skill:
        """The skill as it was at its own version ``version`` (the latest revision carrying it)."""
        return self.read_rev(name, self.find_version(name, version).rev)

    def restored(self, name: str, version: int | None = None, *, rev: int | str | None = None,
                 reason: str = "", status: str | None = None) -> tuple[Skill, Version, str, str]:
        """The document that restores ``name`` (default: its last version before removal), the
        revision it came from, the status it had there and the commit message to use.

        The text is that revision's with the version moved past every version in history, the
        status set to ``status`` when given, and a changelog line saying what was restored.
        """
        hist = self.history(name)
        live = [v for v in hist if not v.deleted]
        if not live:
            raise SkillNotFound(f"agent {self.store.agent_id!r} has no history for skill {name!r}")
        if rev is not None:
            v = self.find_rev(name, rev)
        elif version is not None:
            v = self.find_version(name, version)
        else:
            v = live[-1]
        if v.deleted:
            raise SkillNotFound(f"revision {v.rev} of {name!r} is its removal; pick an earlier one")
        skill = self.store.parse(name, self.store.read_at(name, v.commit) or b"")
        old, old_status = skill.version, skill.status
        skill.set_meta("version", str(max((h.version or 0) for h in hist) + 1))
        skill.set_meta("updated", today())
        if status is not None and status != old_status:
            skill.set_meta("status", status)
        what = f"restored from revision {v.rev} (v{old}, status {skill.status})" + (f": {reason}" if reason else "")
        skill.add_changelog(what)
        message = f"restore {name} to revision {v.rev} (v{old}, status {skill.status})" + (f": {reason}" if reason
                                                                                          else "")
        return skill, v, old_status, message
