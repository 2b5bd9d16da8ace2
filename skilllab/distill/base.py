"""The distiller protocol and the decision it returns.

A distiller sees one session (without labels), the candidate skills the library search found
(full documents with their similarity) and the novelty bar, and returns one :class:`Decision`:
skip, update a candidate (with the full new document) or create (with the full document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..session import Session
from ..skill import Skill

ACTIONS = ("skip", "update", "create")


@dataclass(frozen=True)
class Candidate:
    """A skill the library search found for the session, with its score and the task phrasings it
    has met (``references/phrasings.md`` in its folder)."""

    skill: Skill
    similarity: float  # the best score over the distiller's search queries
    phrasings: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()  # the score for each search query, in the distiller's order (0: none)
    own_scores: tuple[float, ...] = ()  # the same for the skill's own text alone (no learned phrasing)


@dataclass
class Decision:
    """What a distiller decided for one session.

    ``target`` is the candidate an update rewrites, or the skill a skip leaves as it is (the
    skill that already covers the session; ``None`` when nothing does). ``branch`` is the branch
    of that skill the session belongs to (a skill's runbook has one branch per cause; ``None`` for
    a skill without branches), and ``new_branch`` says the update adds that branch.
    """

    action: str  # skip | update | create
    reason: str
    novelty: float  # 0 = already fully known, 1 = entirely new
    target: str | None = None  # the candidate an update rewrites, or the skill a skip is attributed to
    skill: Skill | None = None  # the full new document for update / create
    changelog: str = ""  # what changed, for the Changelog line
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    branch: str | None = None  # the branch (cause) of the target the session belongs to
    new_branch: bool = False  # the update adds that branch
    files: dict[str, str] = field(default_factory=dict)  # bundled files to write beside SKILL.md (scripts/...)
    extra: dict[str, Any] = field(default_factory=dict)


class Distiller(Protocol):
    """``decide`` judges novelty and writes the skill in one pass.

    A distiller may also define ``search_queries(session) -> list[str]``: the texts the library is
    searched with for candidates (default: the task, and the task with a condensed transcript).
    """

    name: str

    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        """Judge novelty and write the skill in one pass."""
        ...
