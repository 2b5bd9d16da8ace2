"""Reading and validating session corpora (JSONL, one session per line).

Every problem is reported as ``file:line: field: message``. Strict reading (the default) stops
before anything is processed if any line is bad; lenient reading skips bad lines and counts them.
Sessions are replayed in ``started_at`` order; ties keep file order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import SkilllabError
from .names import AGENT_ID_RE
from .session import Session, parse_time

ROLES = {"system", "user", "assistant", "tool", "developer"}


@dataclass(frozen=True)
class LineProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class CorpusError(SkilllabError):
    """A corpus has bad lines; ``problems`` lists every one of them."""

    def __init__(self, problems: list[LineProblem]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


def _is_str(v) -> bool:
    return isinstance(v, str)


def check_session(d, where: tuple[str, int]) -> list[LineProblem]:
    """Every way the object ``d`` breaks the session format."""
    f, ln = where
    P = lambda field, msg: LineProblem(f, ln, field, msg)
    if not isinstance(d, dict):
        return [P("(line)", "not a JSON object")]
    out: list[LineProblem] = []
    for key in ("session_id", "agent_id", "started_at", "task"):
        if key not in d:
            out.append(P(key, "missing (required)"))
        elif not _is_str(d[key]) or not d[key].strip():
            out.append(P(key, "must be a non-empty string"))
    if _is_str(d.get("agent_id")) and not AGENT_ID_RE.fullmatch(d["agent_id"]):
        out.append(P("agent_id", f"{d['agent_id']!r} does not match [a-z0-9][a-z0-9._-]{{0,63}}"))
    for key in ("started_at", "ended_at"):
        if _is_str(d.get(key)):
            try:
                parse_time(d[key])
            except ValueError:
                out.append(P(key, f"{d[key]!r} is not an ISO-8601 time"))
        elif key == "ended_at" and d.get(key) is not None:
            out.append(P(key, "must be an ISO-8601 string"))
    outcome = d.get("outcome")
    if outcome is None:
        out.append(P("outcome", "missing (required)"))
    elif not isinstance(outcome, dict):
        out.append(P("outcome", "must be an object"))
    else:
        if not isinstance(outcome.get("success"), bool):
            out.append(P("outcome.success", "must be true or false"))
        r = outcome.get("reward")
        if r is not None and (isinstance(r, bool) or not isinstance(r, (int, float))):
            out.append(P("outcome.reward", "must be a number or null"))
        if outcome.get("summary") is not None and not _is_str(outcome.get("summary")):
            out.append(P("outcome.summary", "must be a string or null"))
    for key in ("labels", "metadata"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            out.append(P(key, "must be an object"))
    if isinstance(d.get("labels"), dict) and "family" in d["labels"] and not _is_str(d["labels"]["family"]):
        out.append(P("labels.family", "must be a string"))
    msgs = d.get("messages")
    if msgs is None:
        out.append(P("messages", "missing (required; may be an empty list)"))
    elif not isinstance(msgs, list):
        out.append(P("messages", "must be a list"))
    else:
        calls: set[str] = set()
        for i, m in enumerate(msgs):
            fld = f"messages[{i}]"
            if not isinstance(m, dict):
                out.append(P(fld, "must be an object"))
                continue
            role = m.get("role")
            if role not in ROLES:
                out.append(P(f"{fld}.role", f"{role!r} is not one of system, user, assistant, tool"))
            c = m.get("content")
            if c is not None and not _is_str(c):
                if not isinstance(c, list) or not all(isinstance(p, dict) and "type" in p for p in c):
                    out.append(P(f"{fld}.content", "must be a string, null or a list of parts"))
            if "tool_calls" in m and m["tool_calls"] is not None:
                if role != "assistant":
                    out.append(P(f"{fld}.tool_calls", "only assistant messages may have tool_calls"))
                elif not isinstance(m["tool_calls"], list):
                    out.append(P(f"{fld}.tool_calls", "must be a list"))
                else:
                    for j, call in enumerate(m["tool_calls"]):
                        cf = f"{fld}.tool_calls[{j}]"
                        if not isinstance(call, dict) or not _is_str(call.get("id")):
                            out.append(P(f"{cf}.id", "missing or not a string"))
                            continue
                        fn = call.get("function")
                        if not isinstance(fn, dict) or not _is_str(fn.get("name")):
                            out.append(P(f"{cf}.function.name", "missing or not a string"))
                        elif fn.get("arguments") is not None and not _is_str(fn["arguments"]):
                            out.append(P(f"{cf}.function.arguments", "must be a JSON string"))
                        calls.add(call["id"])
            if role == "tool":
                tid = m.get("tool_call_id")
                if not _is_str(tid):
                    out.append(P(f"{fld}.tool_call_id", "missing on a tool message"))
                elif tid not in calls:
                    out.append(P(f"{fld}.tool_call_id", f"{tid!r} names no earlier tool call in this session"))
            elif "tool_call_id" in m and m["tool_call_id"] is not None:
                out.append(P(f"{fld}.tool_call_id", "only tool messages may have tool_call_id"))
    return out


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield n, line


def iter_corpus(path: str | Path, *, lenient: bool = False,
                problems: list[LineProblem] | None = None) -> Iterator[Session]:
    """Stream sessions in file order. Strict: raise :class:`CorpusError` at the first bad line.

    Lenient: skip bad lines, appending their problems to ``problems``. Duplicate session ids
    are bad lines too (the later one is skipped).
    """
    path = Path(path)
    seen: set[str] = set()
    for n, line in _lines(path):
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            probs = [LineProblem(str(path), n, "(line)", f"not valid JSON: {exc.msg} at column {exc.colno}")]
        else:
            probs = check_session(d, (str(path), n))
            if not probs and d["session_id"] in seen:
                probs = [LineProblem(str(path), n, "session_id", f"{d['session_id']!r} repeats an earlier line")]
        if probs:
            if not lenient:
                raise CorpusError(probs)
            if problems is not None:
                problems.extend(probs)
            continue
        seen.add(d["session_id"])
        yield Session.from_dict(d)


def validate_corpus(path: str | Path) -> tuple[int, list[LineProblem]]:
    """(number of good sessions, every problem in the file)."""
    problems: list[LineProblem] = []
    n = sum(1 for _ in iter_corpus(path, lenient=True, problems=problems))
    return n, problems


def read_corpus(path: str | Path, *, lenient: bool = False) -> tuple[list[Session], list[LineProblem]]:
    """All sessions sorted by ``started_at`` (stable). Strict mode checks every line first and
    raises :class:`CorpusError` listing all problems, so nothing is processed from a bad file."""
    problems: list[LineProblem] = []
    sessions = list(iter_corpus(path, lenient=True, problems=problems))
    if problems and not lenient:
        raise CorpusError(problems)
    sessions.sort(key=lambda s: s.started)
    return sessions, problems


def corpus_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_corpus(sessions, path: str | Path) -> None:
    from ._fs import atomic_write

    atomic_write(Path(path), "".join(json.dumps(s.to_dict() if isinstance(s, Session) else s,
                                                ensure_ascii=False) + "\n" for s in sessions))
