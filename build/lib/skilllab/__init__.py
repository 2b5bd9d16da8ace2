"""skilllab: post-session skill distillation for LLM agents.

Skills are runbooks in plain ``SKILL.md`` files, one folder per skill, scoped per agent, kept
in git and found by meaning through an hnswlib index rebuilt from the files.

    >>> from skilllab import Library
    >>> lib = Library("library", embedder="hashing")
    >>> agent = lib.agent("sre-oncall")          # doctest: +SKIP
    >>> agent.search("pods crash looping", k=3)  # doctest: +SKIP
"""

from ._compat import install as _install_aliases
from .errors import (
    ConfigError,
    InvalidName,
    InvalidSkill,
    SkilllabError,
    SkillNotFound,
    SkillParseError,
    UnsafePath,
)
from .library import Agent, Library, SkillHit, SkillInfo
from .names import slugify, validate_agent_id, validate_skill_name
from .skill import Skill

__version__ = "0.1.0"

_install_aliases()

__all__ = [
    "Agent",
    "ConfigError",
    "InvalidName",
    "InvalidSkill",
    "Library",
    "Skill",
    "SkillHit",
    "SkillInfo",
    "SkillNotFound",
    "SkillParseError",
    "SkilllabError",
    "UnsafePath",
    "__version__",
    "slugify",
    "validate_agent_id",
    "validate_skill_name",
]
