"""Distilling many sessions: the one loop the command line, the replay and the queue share.

:func:`distill_sessions` opens each agent once, checks the distiller can work before the first
session (:func:`preflight`: an unreachable LLM endpoint or a refused key stops the run with one
line, before anything is written), and yields each session's :class:`DistillResult`. A ``before``
hook runs against the agent's library as it stands just before a session is distilled (the
replay asks recall there) and may override that session's options (a bar schedule).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..session import Session
from .flow import MAX_ATTEMPTS, DistillResult, distill_session, search_queries
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


AHEAD_BATCH = 1024  # texts a call of the embedder when embedding ahead


def embed_ahead(embedder: Any, sessions: Iterable[Session], distillers: Iterable[Any]) -> dict[str, Any]:
    """Embed every query text a run over ``sessions`` will search with (each task, and what each
    of ``distillers`` searches with for a successful session) in batches of
    :data:`AHEAD_BATCH`, into ``embedder``'s on-disk cache, before the first session: the loop
    then only looks vectors up, and a later run or a sweep reuses them. Does nothing for an
    embedder without a cache (one cheaper to compute than to look up, such as ``hashing``).
    ``sessions`` is read once (a stream is fine); memory grows by a hash a text. Returns how many
    texts were queued, how many of them the model computed (the others were in the cache), the
    seconds spent and the model's own seconds."""
    if not hasattr(embedder, "cache"):
        return {"texts": 0, "seconds": 0.0}
    t0 = time.perf_counter()
    before, misses = embedder.seconds, getattr(embedder, "misses", None)
    dists = list(distillers)
    seen: set[int] = set()  # hashes of the texts queued so far
    batch: list[str] = []
    count = 0

    def add(text: str) -> None:
        nonlocal count
        key = hash(text)
        if key not in seen:
            seen.add(key)
            batch.append(text)
            count += 1
            if len(batch) >= AHEAD_BATCH:
                embedder.embed(batch)
                batch.clear()

    for s in sessions:
        add(s.task)
        if s.success:
            view = s.without_labels().redacted()
            for d in dists:
                for q in search_queries(d, view):
                    add(q)
    if batch:
        embedder.embed(batch)
    computed = None if misses is None else embedder.misses - misses
    return {"texts": count, "computed": computed, "seconds": round(time.perf_counter() - t0, 3),
            "model_seconds": round(embedder.seconds - before, 3)}


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
