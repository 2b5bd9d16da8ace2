"""Validation of the names skilllab puts on disk: agent ids and skill names.

Agent ids follow the session format (``[a-z0-9][a-z0-9._-]{0,63}``); skill names follow the
Agent Skills specification (lowercase letters, digits and single hyphens, 1-64 characters,
no leading or trailing hyphen). Both are checked before any path is built from them.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidName

AGENT_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
SKILL_NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_NAME = 64


def validate_agent_id(agent_id: object) -> str:
    """Return ``agent_id`` if valid, else raise :class:`InvalidName` saying why."""
    if not isinstance(agent_id, str) or not AGENT_ID_RE.fullmatch(agent_id):
        raise InvalidName(
            f"invalid agent id {agent_id!r}: use 1-64 characters of a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit"
        )
    if agent_id in {".", ".."} or ".." in agent_id:
        raise InvalidName(f"invalid agent id {agent_id!r}: '..' is not allowed")
    return agent_id


def validate_skill_name(name: object) -> str:
    """Return ``name`` if it is a valid skill name, else raise :class:`InvalidName`."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not SKILL_NAME_RE.fullmatch(name):
        raise InvalidName(
            f"invalid skill name {name!r}: use 1-64 lowercase letters, digits and single "
            "hyphens, with no leading or trailing hyphen"
        )
    return name


def slugify(text: str, max_len: int = MAX_NAME) -> str:
    """Turn free text into a valid skill name (``"Pods OOMKilled!"`` -> ``"pods-oomkilled"``).

    Cuts at a word boundary so names stay readable; never returns an empty string.
    """
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", norm.lower())
    out = ""
    for w in words:
        cand = f"{out}-{w}" if out else w
        if len(cand) > max_len:
            break
        out = cand
    if not out:
        out = (words[0][:max_len] if words else "skill")
    return out
