"""The task phrasings a skill has met, kept beside it in ``references/phrasings.md``.

A skill is found by meaning through its own text and through every way the problem was put to
an agent when it learned from a session (instance values replaced by placeholders). They live in
a file of their own so the runbook stays short; the file is plain Markdown, one phrasing per
bullet, edited or trimmed by hand like any other file of the skill, and indexed with it.
"""

from __future__ import annotations

import re
from functools import lru_cache

PHRASINGS_FILE = "references/phrasings.md"
MAX_CHARS = 1500
HEADER = ("# Phrasings of the problem this skill has met\n\n"
          "Each bullet is one way the task was put to an agent (instance values replaced). skilllab finds the\n"
          "skill by any of them; edit or delete lines freely.\n\n")
_ITEM = re.compile(r"^\s*[-*]\s+(.+?)\s*$")


def parse(text: str) -> list[str]:
    """The phrasings of a file's text, one a bullet, in order (a new list the caller may change)."""
    return list(_parse(text))


@lru_cache(maxsize=256)  # a candidate's file is read again for every session it is a candidate of
def _parse(text: str) -> tuple[str, ...]:
    return tuple(m.group(1) for m in map(_ITEM.match, text.splitlines()) if m)


def render(phrasings: list[str]) -> str:
    return HEADER + "".join(f"- {p}\n" for p in phrasings)


def clean(text: str) -> str:
    """One line, at most :data:`MAX_CHARS` characters, cut at a word."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(" ", 1)[0] + "…"
