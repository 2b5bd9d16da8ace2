"""Durable asynchronous distillation: ``submit`` returns at once, a background worker distills.

Submitted sessions are spooled to ``LIBRARY/<agent>/queue/`` (one JSON file each, written
atomically and fsynced) before ``submit`` returns, so a crash or restart loses nothing: the next
worker for that agent picks the files up. A file is removed only after its session is in the
ledger, and the ledger makes processing idempotent, so a session distilled twice (two workers,
a crash between distilling and removing) changes the library once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._fs import atomic_write
from ..names import validate_agent_id
from ..session import Session
from .batch import DistillOptions, distill_sessions
from .flow import DistillResult
from .redact import redact_obj
from .registry import get_distiller

if TYPE_CHECKING:
    from ..library import Agent, Library


SPOOL_TEXT_CHARS = 65_536


def _bounded(d: dict[str, Any]) -> dict[str, Any]:
    """A session dict with every message's text cut to :data:`SPOOL_TEXT_CHARS` characters."""
    def cut(text: Any) -> Any:
        if isinstance(text, str) and len(text) > SPOOL_TEXT_CHARS:
            return text[:SPOOL_TEXT_CHARS] + "…[cut when spooled]"
        return text
    d = dict(d)
    d["task"] = cut(d.get("task"))
    msgs = []
    for m in d.get("messages") or []:
        m = dict(m)
        if isinstance(m.get("content"), str):
            m["content"] = cut(m["content"])
        msgs.append(m)
    d["messages"] = msgs
    return d

log = logging.getLogger(__name__)


class DistillQueue:
    """Background distillation for one agent of a library.

    Args:
        library: the :class:`~skilllab.Library`.
        agent_id: the agent whose sessions this queue takes.
        distiller: a distiller spec or object.
        options: :class:`~skilllab.distill.DistillOptions` (``bar``, ``k``, ``skip_above``...), or the
            same as keyword arguments.
    """

    def __init__(self, library: Library, agent_id: str, distiller: Any="extractive", *, poll_seconds: float = 1.0,
                 options: DistillOptions | None = None, **legacy_options: Any) -> None:
        self.library = library
        self.agent_id = validate_agent_id(agent_id)
        self.distiller = get_distiller(distiller) if isinstance(distiller, str) else distiller
        self.options = options or DistillOptions(**legacy_options)
        self.poll_seconds = poll_seconds
        from ..store import AgentStore

        self.spool = AgentStore(Path(library.root), self.agent_id).path("queue")  # a linked queue/ is refused
        self.results: list[DistillResult] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._agent: Agent | None = None
        self.errors: list[str] = []

    # ---- producer side ------------------------------------------------------------------
    def submit(self, session: Session | dict[str, Any]) -> Path:
        """Spool ``session`` durably and return; the worker distills it later.

        The spooled copy is redacted (secrets never reach the spool folder) and each message or tool
        output is kept up to :data:`SPOOL_TEXT_CHARS` characters, more than a distiller reads.
        """
        if isinstance(session, dict):
            session = Session.from_dict(session)
        if session.agent_id != self.agent_id:
            from ..errors import InvalidName

            raise InvalidName(f"session {session.session_id} is for agent {session.agent_id!r}, "
                              f"this queue takes {self.agent_id!r}")
        digest = hashlib.sha1(session.session_id.encode()).hexdigest()[:16]
        path = self.spool / f"{time.time_ns():020d}-{digest}.json"
        atomic_write(path, json.dumps(redact_obj(_bounded(session.to_dict())), ensure_ascii=False))
        self._idle.clear()
        self._wake.set()
        return path

    def pending(self) -> list[Path]:
        return sorted(self.spool.glob("*.json")) if self.spool.is_dir() else []

    # ---- consumer side ------------------------------------------------------------------
    def process_pending(self) -> list[DistillResult]:
        """Distill every spooled session, oldest first, in this thread."""
        done = []
        for path in self.pending():
            if self._stop.is_set() and self._thread is not None and threading.current_thread() is self._thread:
                break
            try:
                session = Session.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue  # another worker took it
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                bad = self.spool / "bad" / path.name
                bad.parent.mkdir(exist_ok=True)
                path.replace(bad)
                self.errors.append(f"{path}: unreadable spool file moved to {bad}: {exc}")
                continue
            if self._agent is None:
                self._agent = self.library.agent(self.agent_id)
            agents = {self.agent_id: self._agent}
            for _s, res in distill_sessions(self.library, [session], self.distiller, options=self.options,
                                            agents=agents):
                self.results.append(res)
                done.append(res)
                if res.decision == "error" and res.attempts < self.options.max_attempts:
                    continue  # stays spooled: the next pass tries it again
                if res.decision == "error":
                    failed = self.spool / "failed" / path.name
                    failed.parent.mkdir(exist_ok=True)
                    path.replace(failed)
                    self.errors.append(f"{session.session_id}: gave up after {res.attempts} attempts ({res.error}); "
                                       f"kept in {failed}")
                else:
                    path.unlink(missing_ok=True)
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.process_pending()
            except Exception as exc:  # keep the worker alive; the spool file stays for a retry
                log.exception("distillation worker error")
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self._stop.wait(self.poll_seconds)
            if not self.pending():
                self._idle.set()
            self._wake.wait(self.poll_seconds)

    def start(self) -> DistillQueue:
        """Start the background worker (it first takes whatever an earlier run left spooled)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._idle.clear()
            self._thread = threading.Thread(target=self._run, name=f"skilllab-distill-{self.agent_id}",
                                            daemon=True)
            self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the spool is empty; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._idle.wait(0.05 if left is None else min(0.05, left))
        return True

    def stop(self, drain: bool = True, timeout: float | None = None) -> None:
        if drain:
            self.wait(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._agent is not None:
            self._agent.close()
            self._agent = None

    def __enter__(self) -> DistillQueue:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
