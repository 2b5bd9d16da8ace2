"""The per-agent ledger of distilled sessions: what was decided for each ``session_id``.

One JSON line per session in ``LIBRARY/<agent>/state/ledger.jsonl``, appended under the agent's
lock and fsynced. It makes distillation idempotent: a session already in the ledger is not
distilled again, by this process or any other.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        # session id -> (byte offset, length) of its latest record: the records stay on disk, so
        # memory grows by an offset a session, not by a record
        self._at: dict[str, tuple[int, int]] = {}
        self._lines: dict[str, int] = {}
        self._size = 0
        self._count = 0
        self.bad_lines: list[int] = []  # lines that could not be read (a torn or damaged record)

    def _refresh(self) -> None:
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == self._size:
            return
        if size < self._size:  # rewritten by hand: read it again from the start
            self._at, self._lines, self._size, self._count, self.bad_lines = {}, {}, 0, 0, []
        with open(self.path, "rb") as fh:
            fh.seek(self._size)
            chunk = fh.read(size - self._size)
        for raw in chunk.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # a torn last line from a crash; add() starts a fresh line after it
            start = self._size
            self._size += len(raw)
            self._count += 1
            try:
                rec = json.loads(raw.replace(b"\x00", b"").decode("utf-8"))
                sid = rec["session_id"]
                self._at[sid] = (start, len(raw))
                self._lines[sid] = self._count
            except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
                if raw.strip(b"\x00\r\n\t "):
                    self.bad_lines.append(self._count)
                    log.warning("%s:%d: unreadable ledger line skipped (its session will be distilled again)",
                                self.path, self._count)

    def line_of(self, session_id: str) -> int | None:
        self._refresh()
        return self._lines.get(session_id)

    def _load(self, at: tuple[int, int], fh: Any = None) -> dict[str, Any]:
        if fh is None:
            with open(self.path, "rb") as f:
                return self._load(at, f)
        fh.seek(at[0])
        rec: dict[str, Any] = json.loads(fh.read(at[1]).replace(b"\x00", b"").decode("utf-8"))
        return rec

    def get(self, session_id: str) -> dict[str, Any] | None:
        self._refresh()
        at = self._at.get(session_id)
        return None if at is None else self._load(at)

    def __contains__(self, session_id: str) -> bool:
        return self.get(session_id) is not None

    def __len__(self) -> int:
        self._refresh()
        return len(self._at)

    def records(self) -> list[dict[str, Any]]:
        self._refresh()
        if not self._at:
            return []
        with open(self.path, "rb") as fh:
            return [self._load(at, fh) for at in self._at.values()]

    def add(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with open(self.path, "ab") as fh:
            if fh.tell() > 0:
                with open(self.path, "rb") as rd:
                    rd.seek(-1, os.SEEK_END)
                    if rd.read(1) != b"\n":
                        line = b"\n" + line
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self._refresh()
