"""Exceptions raised by skilllab.

Every user-facing failure is a :class:`SkilllabError`; the CLI prints its message on one line
and exits 1. Subclasses say what kind of thing went wrong so callers can react precisely.
"""

from __future__ import annotations


class SkilllabError(Exception):
    """Base class for errors a user can fix (bad input, bad name, missing skill)."""


class InvalidName(SkilllabError, ValueError):
    """An agent id or skill name does not follow the naming rules."""


class UnsafePath(SkilllabError):
    """A path would resolve outside the agent's folder (``..``, absolute, symlink)."""


class SkillNotFound(SkilllabError, KeyError):
    """The agent has no skill of that name (another agent's skills count as absent)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "skill not found"


class SkillParseError(SkilllabError):
    """A SKILL.md file cannot be parsed. Carries the path and the reason."""

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class InvalidSkill(SkilllabError, ValueError):
    """A skill document breaks the format (missing field, bad section, too long)."""


class ConfigError(SkilllabError, ValueError):
    """A configuration key or value is not valid."""
