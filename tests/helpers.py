"""Builders used by several test modules."""

from __future__ import annotations

from skilllab import Skill


def make_skill(name: str, description: str, *, agent: str = "sre-oncall", when: str | None = None,
               steps=("look at it", "fix it"), source: str = "s-1") -> Skill:
    return Skill.new(name, description, agent=agent, when_to_use=when or description,
                     steps=list(steps), worked=["it worked"], dead_ends=["a dead end: it failed"],
                     source=source, date="2026-03-01")
