"""Per-agent settings in ``LIBRARY/<agent>/agent.toml``, kept in git with the skills.

The novelty bar lives here so every replica that opens the library uses the same bar. It is a
manual knob: skilllab never changes it by itself (no decay); a person or a research schedule does.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import asdict, dataclass, fields

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

    @staticmethod
    def parse(data: bytes, path: str) -> AgentSettings:
        """The settings in ``data``, the bytes of the file at ``path`` (named in every error).
        Remembered per file and content: an agent's settings are asked for several times a
        session, and the same bytes always give the same (frozen) settings."""
        return _parse(data, path)

    def dumps(self) -> str:
        head = ("# skilllab settings for this agent (edit by hand or with `skilllab agent set`).\n"
                "# novelty_bar: minimum novelty (0..1) for a finished session to become a new skill;\n"
                "# higher is stricter. It never changes by itself.\n"
                "# drift_failures of the last drift_window outcomes failing flags a skill for review.\n")
        return head + tomli_w.dumps(asdict(self))


@functools.lru_cache(maxsize=64)
def _parse(data: bytes, path: str) -> AgentSettings:
    try:
        found = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    known = {f.name for f in fields(AgentSettings)}
    unknown = sorted(set(found) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if "novelty_bar" in found:
        check_bar(found["novelty_bar"], f"{path}: novelty_bar")
    for key in ("drift_window", "drift_failures"):
        if key in found and (not isinstance(found[key], int) or isinstance(found[key], bool) or found[key] < 1):
            raise ConfigError(f"{path}: {key}: {found[key]!r} must be a whole number of at least 1")
    return AgentSettings(**found)
