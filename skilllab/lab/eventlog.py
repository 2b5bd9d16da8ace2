"""The replay's events, appended to a file as they come instead of held in memory.

A replay logs one event per session (:data:`EVENT_COLUMNS`). Held as Python objects they cost
about a kilobyte a session, so a long replay's memory would grow with the corpus. An
:class:`EventLog` keeps the last :data:`CHUNK` events in memory and appends the rest to a spool
file (one JSON array of rows per line, so values keep their types: ``None``, booleans, integers,
floats as written). Metrics are computed in passes over the file; ``events.csv`` and
``timings.csv`` are written from it a chunk at a time; a DataFrame is built only when someone
asks for one (:meth:`EventLog.frame`, or ``ReplayResult.events``).

The spool lives in its own temporary folder, removed when the log is garbage collected or
:meth:`EventLog.discard` is called; it is a private working file, not part of a run folder.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

EVENT_COLUMNS = ["seq", "session_id", "agent_id", "family", "success", "decision", "skill", "top_similarity", "bar",
                 "library_size", "recall_top1", "recall_top1_family", "recall_correct", "llm_calls",
                 # further columns, for analysis
                 "started_at", "novelty", "recall_top1_similarity", "recall_hits", "recall_hit_at_k", "recall_rr",
                 "answerable", "novel_family", "wrong_merge", "target_family", "prompt_tokens", "completion_tokens",
                 "reason", "error",
                 # attribution and ideal decisions (see skilllab.lab.metrics)
                 "branch", "new_branch", "unit", "unit_family", "ideal", "actual", "decision_correct", "wrong_skip",
                 # recall over every floor and its controls
                 "recall_top1_score", "recall_top1_right", "seen_family", "random_right", "library_active",
                 # what a consolidation pass after this session did (consolidate_every)
                 "consolidation",
                 # every hit whatever the floor, as [name, score, right family], so any floor can be re-scored
                 "recall_all",
                 # milliseconds the harness spent on this session (recall, distillation, bookkeeping)
                 "loop_ms"]

CHUNK = 256  # events buffered before they are appended to the spool (one line of the file)
_INDEX = {c: i for i, c in enumerate(EVENT_COLUMNS)}


class EventRow(tuple):
    """One event: its values in :data:`EVENT_COLUMNS` order, read like a dict (``e["decision"]``,
    ``e.get(...)``, ``{**e}``)."""

    __slots__ = ()
    _index = _INDEX

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> EventRow:
        return cls(d.get(c) for c in EVENT_COLUMNS)

    def __getitem__(self, key):  # type: ignore[override]
        return tuple.__getitem__(self, self._index[key] if isinstance(key, str) else key)

    def get(self, key: str, default=None):
        i = self._index.get(key)
        return default if i is None else tuple.__getitem__(self, i)

    def keys(self) -> list[str]:
        return EVENT_COLUMNS


def _close_and_remove(handle: list[TextIO], folder: str) -> None:
    for fh in handle:
        fh.close()
    shutil.rmtree(folder, ignore_errors=True)


class EventLog(Sequence[EventRow]):
    """Events in the order they were appended, on disk but for the last few. Iterating reads the
    spool again each time, so a pass costs a read of the file and memory stays flat; ``len`` and
    appending cost nothing. ``log[i]`` reads up to row ``i`` (for tests and spot checks, not loops).
    """

    def __init__(self, folder: str | Path | None = None):
        self._dir = tempfile.mkdtemp(prefix="skilllab-events-", dir=folder)
        self.path = Path(self._dir) / "events.jsonl"
        self.path.touch()
        self._fh: list[TextIO] = []  # the file open for appending, while the log is being written
        self._buf: list[list] = []
        self._n = 0
        self._done = weakref.finalize(self, _close_and_remove, self._fh, self._dir)

    # ---- writing ---------------------------------------------------------------------------------
    def append(self, row: Mapping[str, Any] | Sequence[Any]) -> None:
        """Add one event (a dict by column name, or its values in :data:`EVENT_COLUMNS` order)."""
        values = [row.get(c) for c in EVENT_COLUMNS] if isinstance(row, Mapping) else list(row)
        if len(values) != len(EVENT_COLUMNS):
            raise ValueError(f"an event has {len(EVENT_COLUMNS)} values, not {len(values)}")
        self._buf.append(values)
        self._n += 1
        if len(self._buf) >= CHUNK:
            self._spill()

    def _spill(self) -> None:
        if self._buf:
            if not self._fh:
                self._fh.append(open(self.path, "a", encoding="utf-8"))
            self._fh[0].write(json.dumps(self._buf, ensure_ascii=False, separators=(",", ":")))
            self._fh[0].write("\n")
            self._buf = []
        if self._fh:
            self._fh[0].flush()

    def close(self) -> None:
        """Write what is buffered and close the file (appending later opens it again); the log
        stays readable. A finished replay's logs hold no open file."""
        self._spill()
        while self._fh:
            self._fh.pop().close()

    def hand_over(self) -> tuple[str, int]:
        """Close the log and give its spool away (for :meth:`adopt`, in another process): returns
        the spool's folder and the event count; this object no longer removes the folder."""
        self.close()
        self._done.detach()
        return self._dir, self._n

    @classmethod
    def adopt(cls, folder: str, n: int) -> EventLog:
        """The log whose spool :meth:`hand_over` gave away (``folder`` holding ``n`` events); it is
        removed with this object, as a log's own spool is."""
        log = cls.__new__(cls)
        log._dir, log.path = folder, Path(folder) / "events.jsonl"
        log._fh, log._buf, log._n = [], [], n
        log._done = weakref.finalize(log, _close_and_remove, log._fh, log._dir)
        return log

    def discard(self) -> None:
        """Remove the spool now (the log is empty afterwards)."""
        self._done()
        self._n, self._buf = 0, []

    # ---- reading ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def rows(self) -> Iterator[list]:
        """Each event's values (a list in :data:`EVENT_COLUMNS` order), in order."""
        if not self._done.alive:
            return
        self._spill()
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield from json.loads(line)

    def __iter__(self) -> Iterator[EventRow]:
        for r in self.rows():
            yield EventRow(r)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        i = range(self._n)[i]
        for j, r in enumerate(self.rows()):
            if j == i:
                return EventRow(r)
        raise IndexError(i)  # pragma: no cover - the range check above answers first

    def column(self, name: str) -> list:
        """One column's values, in order."""
        k = _INDEX[name]
        return [r[k] for r in self.rows()]

    def chunks(self, size: int = 4096, columns: Sequence[str] | None = None, dtype: Any = None
               ) -> Iterator[pd.DataFrame]:
        """The events as DataFrames of at most ``size`` rows (all columns, or ``columns``; with
        ``dtype=object``, each value as it was logged, no column converted)."""
        cols = list(columns or EVENT_COLUMNS)
        keep = [_INDEX[c] for c in cols]
        block: list[list] = []
        for r in self.rows():
            block.append([_name(r[k]) for k in keep])
            if len(block) >= size:
                yield pd.DataFrame(block, columns=cols, dtype=dtype)
                block = []
        if block or not self._n:
            yield pd.DataFrame(block, columns=cols, dtype=dtype)

    def frame(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every event in one DataFrame (all columns, or only ``columns``). This holds them all in
        memory; over a long replay, prefer :meth:`chunks`, :meth:`column` or ``events.csv``."""
        cols = list(columns or EVENT_COLUMNS)
        keep = [_INDEX[c] for c in cols]
        return pd.DataFrame([[_name(r[k]) for k in keep] for r in self.rows()], columns=cols)

    def to_csv(self, path: str | Path, columns: Sequence[str] | None = None) -> None:
        """Write the events (all columns, or ``columns``) as CSV, a chunk at a time. Every column is
        written as its values are (``None`` empty, an integer without a decimal point)."""
        with open(path, "w", encoding="utf-8", newline="") as fh:
            for i, df in enumerate(self.chunks(columns=columns, dtype=object)):
                df.to_csv(fh, index=False, header=i == 0)


def _name(x):
    """Names repeat in every event: one copy each when a frame is built."""
    return sys.intern(x) if isinstance(x, str) and len(x) < 64 else x
