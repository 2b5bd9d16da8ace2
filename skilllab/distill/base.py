"""The distiller protocol and the decision it returns.

A distiller sees one session (without labels), the candidate skills the library search found
(full documents with their similarity) and the novelty bar, and returns one :class:`Decision`:
skip, update a candidate (with the full new document) or create (with the full document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..session import Session
from ..skill import Skill

ACTIONS = ("skip", "update", "create")


@dataclass(frozen=True)
class Candidate:
    skill: Skill
    similarity: float


@dataclass
class Decision:
    action: str  # skip | update | create
    reason: str
    novelty: float  # 0 = already fully known, 1 = entirely new
    target: str | None = None  # the candidate an update rewrites
    skill: Skill | None = None  # the full new document for update / create
    changelog: str = ""  # what changed, for the Changelog line
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    extra: dict = field(default_factory=dict)


class Distiller(Protocol):
    name: str

    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        """Judge novelty and write the skill in one pass."""
        ...
