"""Distilling many sessions: the one loop the command line, the replay and the queue share.

:func:`distill_sessions` opens each agent once, checks the distiller can work before the first
session (:func:`preflight`: an unreachable LLM endpoint or a refused key stops the run with one
line, before anything is written), and yields each session's :class:`DistillResult`. A ``before``
hook runs against the agent's library as it stands just before a session is distilled (the
replay asks recall there) and may override that session's options (a bar schedule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..session import Session
from .flow import MAX_ATTEMPTS, DistillResult, distill_session
from .registry import get_distiller


@dataclass(frozen=True)
class DistillOptions:
    """How each session is distilled (see :func:`~skilllab.distill.flow.distill_session`)."""

    bar: float | None = None  # None: each agent's own bar (agent.toml)
    k: int = 5
    skip_above: float | None = None
    failed_to_dead_ends: bool = False
    retry_errors: bool = True
    max_attempts: int = MAX_ATTEMPTS

    def __post_init__(self) -> None:
        from ..errors import ConfigError
        from ..settings import check_bar

        if self.bar is not None:
            check_bar(self.bar, "bar")
        if self.skip_above is not None:
            check_bar(self.skip_above, "skip_above")
        if not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"k: {self.k!r} must be a whole number of at least 1")
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ConfigError(f"max_attempts: {self.max_attempts!r} must be a whole number of at least 1")


def preflight(distiller: Any) -> None:
    """Let the distiller check it can work at all (an LLM endpoint that answers, a key it takes);
    raises :class:`~skilllab.errors.ConfigError` with one line when it cannot."""
    check = getattr(distiller, "preflight", None)
    if check is not None:
        check()


def distill_sessions(library: Any, sessions: Iterable[Session], distiller: Any = "extractive", *,
                     options: DistillOptions | None = None, agents: dict[str, Any] | None = None,
                     before: Callable[[Any, Session], dict[str, Any] | None] | None = None
                     ) -> Iterator[tuple[Session, DistillResult]]:
    """Distill ``sessions`` (each into its own agent of ``library``), one at a time, in order."""
    options = options or DistillOptions()
    dist = get_distiller(distiller) if isinstance(distiller, str) else distiller
    preflight(dist)
    agents = {} if agents is None else agents
    for s in sessions:
        agent = agents.get(s.agent_id)
        if agent is None:
            agent = agents[s.agent_id] = library.agent(s.agent_id)
        opts = options
        if before is not None:
            overrides = before(agent, s)
            if overrides:
                opts = replace(options, **overrides)
        res = distill_session(agent, s, dist, **asdict(opts))
        yield s, res
