"""Per-agent settings in ``LIBRARY/<agent>/agent.toml``, kept in git with the skills.

The novelty bar lives here so every replica that opens the library uses the same bar. It is a
manual knob: skilllab never changes it by itself (no decay); a person or a research schedule does.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import tomli_w

from .errors import ConfigError

DEFAULT_NOVELTY_BAR = 0.5
SETTINGS_FILE = "agent.toml"


def check_bar(value: object, where: str = "novelty_bar") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{where}: {value!r} must be a number from 0 to 1 (higher is stricter)")
    return float(value)


@dataclass(frozen=True)
class AgentSettings:
    novelty_bar: float = DEFAULT_NOVELTY_BAR  # minimum novelty for a session to create a new skill
    drift_window: int = 5  # recent outcomes looked at for drift
    drift_failures: int = 3  # failures within the window that flag a skill for review

    @classmethod
    def read(cls, path: Path) -> AgentSettings:
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        if "novelty_bar" in data:
            check_bar(data["novelty_bar"], f"{path}: novelty_bar")
        for key in ("drift_window", "drift_failures"):
            if key in data and (not isinstance(data[key], int) or isinstance(data[key], bool) or data[key] < 1):
                raise ConfigError(f"{path}: {key}: {data[key]!r} must be a whole number of at least 1")
        return cls(**data)

    def dumps(self) -> str:
        head = ("# skilllab settings for this agent (edit by hand or with `skilllab agent set`).\n"
                "# novelty_bar: minimum novelty (0..1) for a finished session to become a new skill;\n"
                "# higher is stricter. It never changes by itself.\n"
                "# drift_failures of the last drift_window outcomes failing flags a skill for review.\n")
        return head + tomli_w.dumps(asdict(self))
