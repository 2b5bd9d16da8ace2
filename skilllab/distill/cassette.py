"""Record and replay of LLM exchanges, keyed by a hash of the request.

A cassette is a JSONL file; each line holds ``key``, the request body and the response body.
Modes: ``record`` (always call, store the answer), ``replay`` (never call; a missing request is
an error), ``auto`` (replay when present, otherwise call and record). Credentials are never part
of the request body, so they never reach the file. Appends are serialized by a file lock, so
sweep workers can share one cassette.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from filelock import FileLock

from ..errors import ConfigError, SkilllabError

MODES = ("auto", "record", "replay")


class CassetteMiss(SkilllabError):
    """Replay mode met a request the cassette does not hold."""


def request_key(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Cassette:
    def __init__(self, path: str | Path, mode: str = "auto"):
        if mode not in MODES:
            raise ConfigError(f"cassette mode {mode!r}: choose one of {', '.join(MODES)}")
        self.path = Path(path)
        self.mode = mode
        self._entries: dict[str, dict[str, Any]] | None = None
        self._size = -1
        self.hits = 0
        self.misses = 0

    def _load(self) -> dict[str, dict[str, Any]]:
        size = self.path.stat().st_size if self.path.exists() else 0
        if self._entries is None or size != self._size:
            entries: dict[str, dict[str, Any]] = {}
            if size:
                with open(self.path, encoding="utf-8") as fh:
                    for line in fh:
                        line = line.strip()
                        if line:
                            try:
                                rec = json.loads(line)
                            except json.JSONDecodeError:
                                continue  # a torn last line from a crash; the rest is good
                            entries[rec["key"]] = rec["response"]
            self._entries, self._size = entries, size
        return self._entries

    def get(self, request: dict[str, Any]) -> dict[str, Any] | None:
        if self.mode == "record":
            return None
        found = self._load().get(request_key(request))
        if found is None and self.mode == "replay":
            raise CassetteMiss(f"{self.path}: no recorded response for this request "
                               f"(key {request_key(request)[:12]}); record it with mode 'auto' or 'record'")
        if found is not None:
            self.hits += 1
        return found

    def put(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        self.misses += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": request_key(request), "request": request, "response": response},
                          ensure_ascii=False, sort_keys=True)
        with FileLock(str(self.path) + ".lock"):
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
