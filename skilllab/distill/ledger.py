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
        self._records: dict[str, dict[str, Any]] = {}
        self._lines: dict[str, int] = {}
        self._size = 0
        self._count = 0
        self.bad_lines: list[int] = []  # lines that could not be read (a torn or damaged record)

    def _refresh(self) -> None:
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == self._size:
            return
        if size < self._size:  # rewritten by hand: read it again from the start
            self._records, self._lines, self._size, self._count, self.bad_lines = {}, {}, 0, 0, []
        with open(self.path, "rb") as fh:
            fh.seek(self._size)
            chunk = fh.read(size - self._size)
        for raw in chunk.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # a torn last line from a crash; add() starts a fresh line after it
            self._size += len(raw)
            self._count += 1
            try:
                rec = json.loads(raw.replace(b"\x00", b"").decode("utf-8"))
                self._records[rec["session_id"]] = rec
                self._lines[rec["session_id"]] = self._count
            except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
                if raw.strip(b"\x00\r\n\t "):
                    self.bad_lines.append(self._count)
                    log.warning("%s:%d: unreadable ledger line skipped (its session will be distilled again)",
                                self.path, self._count)

    def line_of(self, session_id: str) -> int | None:
        self._refresh()
        return self._lines.get(session_id)

    def get(self, session_id: str) -> dict[str, Any] | None:
        self._refresh()
        return self._records.get(session_id)

    def __contains__(self, session_id: str) -> bool:
        return self.get(session_id) is not None

    def __len__(self) -> int:
        self._refresh()
        return len(self._records)

    def records(self) -> list[dict[str, Any]]:
        self._refresh()
        return list(self._records.values())

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
