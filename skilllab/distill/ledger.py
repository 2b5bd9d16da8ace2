"""The per-agent ledger of distilled sessions: what was decided for each ``session_id``.

One JSON line per session in ``LIBRARY/<agent>/state/ledger.jsonl``, appended under the agent's
lock and fsynced (unless the library is not ``durable``). It makes distillation idempotent: a session already in the ledger is not
distilled again, by this process or any other.
"""

from __future__ import annotations

import json
import logging
import os
from array import array
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Ledger:
    def __init__(self, path: Path, *, durable: bool = True):
        self.path = Path(path)
        self.durable = durable
        # session id -> slot of its latest record; a slot is the record's byte offset, length and
        # line in three arrays. The records stay on disk: memory grows by a dict entry and 24 bytes
        # a session, not by a record.
        self._at: dict[str, int] = {}
        self._start, self._length, self._line = array("q"), array("q"), array("q")
        self._size = 0
        self._count = 0
        self.bad_lines: list[int] = []  # lines that could not be read (a torn or damaged record)

    def _refresh(self) -> None:
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == self._size:
            return
        if size < self._size:  # rewritten by hand: read it again from the start
            self._at, self._size, self._count, self.bad_lines = {}, 0, 0, []
            self._start, self._length, self._line = array("q"), array("q"), array("q")
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
                self._place(rec["session_id"], start, len(raw))
            except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
                if raw.strip(b"\x00\r\n\t "):
                    self.bad_lines.append(self._count)
                    log.warning("%s:%d: unreadable ledger line skipped (its session will be distilled again)",
                                self.path, self._count)

    def _place(self, sid: str, start: int, length: int) -> None:
        """Note that line ``self._count`` (at ``start``, ``length`` bytes) is ``sid``'s latest record."""
        slot = self._at.get(sid)
        if slot is None:  # a session's first record: a new slot (records() keeps this order)
            self._at[sid] = len(self._start)
            self._start.append(start)
            self._length.append(length)
            self._line.append(self._count)
        else:  # a later record of the same session wins
            self._start[slot], self._length[slot], self._line[slot] = start, length, self._count

    def line_of(self, session_id: str) -> int | None:
        self._refresh()
        slot = self._at.get(session_id)
        return None if slot is None else self._line[slot]

    def _load(self, slot: int, fh: Any = None) -> dict[str, Any]:
        if fh is None:
            with open(self.path, "rb") as f:
                return self._load(slot, f)
        fh.seek(self._start[slot])
        rec: dict[str, Any] = json.loads(fh.read(self._length[slot]).replace(b"\x00", b"").decode("utf-8"))
        return rec

    def get(self, session_id: str) -> dict[str, Any] | None:
        self._refresh()
        slot = self._at.get(session_id)
        return None if slot is None else self._load(slot)

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
            return [self._load(slot, fh) for slot in self._at.values()]

    def add(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with open(self.path, "ab") as fh:
            before = fh.tell()
            if before > 0:
                with open(self.path, "rb") as rd:
                    rd.seek(-1, os.SEEK_END)
                    if rd.read(1) != b"\n":
                        line = b"\n" + line
            fh.write(line)
            fh.flush()
            if self.durable:
                os.fsync(fh.fileno())
            after = fh.tell()
        sid = record.get("session_id") if isinstance(record, dict) else None
        if before == self._size and after == before + len(line) and isinstance(sid, str):
            # the file held what this ledger had read, then this line alone: it is the next record
            # (read back, the same line would give the same session id), so it is not read again
            self._size = after
            self._count += 1
            self._place(sid, before, len(line))
        else:
            self._refresh()
