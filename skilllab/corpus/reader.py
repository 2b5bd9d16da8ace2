"""Reading session corpora (JSONL, one session per line) as a stream.

Every problem is reported as ``file:line: field: message``: a line that is not UTF-8, not JSON
(``NaN`` included), breaks the format (see :mod:`.validate`), repeats an earlier ``session_id``,
or is longer than ``max_line_bytes`` (10 MB by default; such a line is read no further than the
limit). Strict reading (the default) stops before anything is processed if any line is bad;
lenient reading skips bad lines and counts them. A missing file, a folder, or a file with no
session is an error naming the path. Sessions are replayed in ``started_at`` order; ties keep
file order.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import SkilllabError
from ..session import Session
from .validate import CorpusError, LineProblem, check_session

MAX_LINE_BYTES = 10 * 2**20
_CHUNK = 1 << 20


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def open_corpus(path: str | Path) -> Any:
    """The corpus file opened for reading, or one clear error naming it."""
    path = Path(path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise SkilllabError(f"{path}: no such corpus file") from None
    except IsADirectoryError:
        raise SkilllabError(f"{path}: is a folder; give a JSONL file of sessions") from None
    except PermissionError:
        raise SkilllabError(f"{path}: not allowed to read it") from None


def _raw_lines(path: Path, max_line_bytes: int, offsets: list[int] | None = None
               ) -> Iterator[tuple[int, bytes | None, int]]:
    """``(line number, bytes or None when too long, length)`` for every non-blank line; with
    ``offsets``, the byte offset of each line yielded is appended to it first."""
    with open_corpus(path) as fh:
        n = 0
        while True:
            at = fh.tell()
            line = fh.readline(max_line_bytes + 1)
            if not line:
                return
            n += 1
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                size = len(line)
                while True:  # skip the rest of the line without holding it
                    chunk = fh.readline(_CHUNK)
                    size += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                if offsets is not None:
                    offsets.append(at)
                yield n, None, size
                continue
            if line.strip():
                if offsets is not None:
                    offsets.append(at)
                yield n, line, len(line)


def parse_line(raw: bytes, where: tuple[str, int]) -> tuple[dict[str, Any] | None, list[LineProblem]]:
    f, n = where
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [LineProblem(f, n, "(line)", f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})")]
    try:
        d = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        return None, [LineProblem(f, n, "(line)", f"not valid JSON: {exc.msg} at column {exc.colno}")]
    except (ValueError, RecursionError) as exc:
        return None, [LineProblem(f, n, "(line)", f"not valid JSON: {exc}")]
    probs = check_session(d, where)
    return (None, probs) if probs else (d, [])


def iter_corpus(path: str | Path, *, lenient: bool = False, problems: list[LineProblem] | None = None,
                max_line_bytes: int = MAX_LINE_BYTES, offsets: list[int] | None = None) -> Iterator[Session]:
    """Stream sessions in file order. Strict: raise :class:`CorpusError` at the first bad line.

    Lenient: skip bad lines, appending their problems to ``problems``. Duplicate session ids
    are bad lines too (the later one is skipped). An empty file is an error either way. With
    ``offsets``, the byte offset of each session yielded is its last item when it is yielded.
    """
    path = Path(path)
    seen: dict[str, int] = {}
    good = 0
    for n, raw, size in _raw_lines(path, max_line_bytes, offsets):
        if raw is None:
            probs = [LineProblem(str(path), n, "(line)", f"{size} bytes, over the limit of {max_line_bytes} bytes "
                                                         "(max_line_bytes); skipped unread")]
            d = None
        else:
            d, probs = parse_line(raw, (str(path), n))
            if d is not None and d["session_id"] in seen:
                probs = [LineProblem(str(path), n, "session_id",
                                     f"{d['session_id']!r} repeats line {seen[d['session_id']]}")]
        if probs:
            if not lenient:
                raise CorpusError(probs)
            if problems is not None:
                problems.extend(probs)
            continue
        assert d is not None  # a line that did not parse has problems
        seen[d["session_id"]] = n
        good += 1
        yield Session.from_dict(d, (str(path), n), checked=True)
    if good == 0 and not seen and not (problems and lenient):
        raise SkilllabError(f"{path}: no sessions in the file")


def validate_corpus(path: str | Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> tuple[int, list[LineProblem]]:
    """(number of good sessions, every problem in the file)."""
    problems: list[LineProblem] = []
    n = sum(1 for _ in iter_corpus(path, lenient=True, problems=problems, max_line_bytes=max_line_bytes))
    return n, problems


def read_corpus(path: str | Path, *, lenient: bool = False,
                max_line_bytes: int = MAX_LINE_BYTES) -> tuple[list[Session], list[LineProblem]]:
    """All sessions sorted by ``started_at`` (stable). Strict mode checks every line first and
    raises :class:`CorpusError` listing all problems, so nothing is processed from a bad file."""
    problems: list[LineProblem] = []
    sessions = list(iter_corpus(path, lenient=True, problems=problems, max_line_bytes=max_line_bytes))
    if problems and not lenient:
        raise CorpusError(problems)
    sessions.sort(key=lambda s: s.started)
    return sessions, problems


class SortedCorpus(Sequence[Session]):
    """A corpus in ``started_at`` order (ties in file order, or in the order ``tie_key`` gives),
    held as a stream. One pass checks every line exactly as :func:`read_corpus` does (strict:
    nothing is kept from a bad file) and keeps, per session, only where its line is and what a
    replay asks of every session (its id and family); the session itself is parsed again from
    its line each time it is used. Memory grows by a few hundred bytes a session, whatever the
    length of the transcripts.
    """

    def __init__(self, path: str | Path, *, lenient: bool = False, max_line_bytes: int = MAX_LINE_BYTES,
                 tie_key: Any = None, agents: Any = None, limit: int | None = None):
        self.path = Path(path)
        self.problems: list[LineProblem] = []
        offsets: list[int] = []
        rows = []
        for i, s in enumerate(iter_corpus(self.path, lenient=True, problems=self.problems,
                                          max_line_bytes=max_line_bytes, offsets=offsets)):
            assert s.origin is not None
            rows.append((s.started, tie_key(i) if tie_key is not None else 0, i, offsets[-1], s.origin[1],
                         s.session_id, s.agent_id, s.family))
        if self.problems and not lenient:
            raise CorpusError(self.problems)
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        if agents:
            rows = [r for r in rows if r[6] in agents]
        if limit is not None:
            rows = rows[:limit]
        # positions as machine integers, and one copy of each family name (they repeat)
        self._offset = array("q", (r[3] for r in rows))
        self._line = array("q", (r[4] for r in rows))
        self.ids = [r[5] for r in rows]
        names: dict[str, str] = {}
        self.families = [names.setdefault(r[7], r[7]) if r[7] is not None else None for r in rows]
        del rows
        self._pos = {sid: i for i, sid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def _read(self, i: int, fh: Any) -> Session:
        fh.seek(self._offset[i])
        d = json.loads(fh.readline().decode("utf-8"), parse_constant=_no_constants)
        return Session.from_dict(d, (str(self.path), self._line[i]), checked=True)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        with open_corpus(self.path) as fh:
            return self._read(range(len(self))[i], fh)

    def __iter__(self) -> Iterator[Session]:
        with open_corpus(self.path) as fh:
            for i in range(len(self)):
                yield self._read(i, fh)

    def get(self, session_id: str) -> Session | None:
        """The session of this id, read from its line (``None`` if the corpus has none)."""
        i = self._pos.get(session_id)
        return None if i is None else self[i]

    def family_of(self) -> dict[str, str | None]:
        return dict(zip(self.ids, self.families))


def corpus_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open_corpus(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def session_sha256(session: Session) -> str:
    """A hash of a session's content (labels and metadata left out): what it would teach."""
    d = session.to_dict(with_labels=False)
    d.pop("metadata", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_corpus(sessions: Any, path: str | Path) -> None:
    from .._fs import atomic_write

    atomic_write(Path(path), "".join(json.dumps(s.to_dict() if isinstance(s, Session) else s,
                                                ensure_ascii=False) + "\n" for s in sessions))
