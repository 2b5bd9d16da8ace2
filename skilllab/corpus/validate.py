"""Checking one session against the session format: the JSON Schema, then what a schema cannot say.

:data:`SCHEMA` (``session.schema.json`` in this folder, printed by ``skilllab corpus schema``) is
the contract for the shape of a line; :func:`check_session` validates against it and then checks
the rest: times are ISO-8601 with a zone, a reward is a finite number, tool-call arguments are a
JSON object, every tool message answers a call made earlier in the same session, and ``tool_calls``
/ ``tool_call_id`` sit on the right roles. Every problem names the file, the line and the field.
The corpus reader and :meth:`skilllab.session.Session.from_dict` both use this one function.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import SkilllabError
from ..session import parse_time

SCHEMA_PATH = Path(__file__).with_name("session.schema.json")


@dataclass(frozen=True)
class LineProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class CorpusError(SkilllabError, ValueError):
    """A corpus (or a session given to the API) breaks the format; ``problems`` lists every way."""

    def __init__(self, problems: list[LineProblem]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


@lru_cache(maxsize=1)
def _accepts() -> Any:
    """The schema compiled to Python by fastjsonschema: a fast yes for a well-formed session
    (a replay validates every line). Any no, or any doubt, goes to :func:`_validator`, which finds
    and names every problem; the two agree on every line of the test corpora
    (``tests/test_corpus.py``)."""
    import fastjsonschema

    # a copy: compiling annotates the schema it is given, and schema() is what `corpus schema` prints
    return fastjsonschema.compile(json.loads(json.dumps(schema())), use_default=False, use_formats=False)


def schema_errors(d: Any) -> list[Any]:
    """The JSON Schema errors of ``d`` (jsonschema's error objects), by field."""
    try:
        _accepts()(d)
    except Exception:  # noqa: BLE001 - invalid, or anything fastjsonschema cannot judge: ask jsonschema
        return sorted(_validator().iter_errors(d), key=lambda e: list(map(str, e.absolute_path)))
    return []


def _field(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(line)"


def _schema_message(err: Any) -> str:
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{missing}: missing (required)"
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        names = {"boolean": "true or false", "string": "a string", "number": "a number", "null": "null",
                 "object": "an object", "array": "a list"}
        want = " or ".join(names.get(w, w) for w in want.split(" or "))
        return f"must be {want}, not {json.dumps(err.instance)[:60]}"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "pattern" and err.absolute_path and err.absolute_path[-1] == "agent_id":
        return f"{err.instance!r} does not match [a-z0-9][a-z0-9._-]{{0,63}}"
    if err.validator in ("minLength", "pattern"):
        return "must be a non-empty string"
    return str(err.message).splitlines()[0][:200]


def check_session(d: Any, where: tuple[str, int]) -> list[LineProblem]:
    """Every way the object ``d`` breaks the session format (an empty list when it does not)."""
    f, ln = where

    def P(field: str, msg: str) -> LineProblem:
        return LineProblem(f, ln, field, msg)

    if not isinstance(d, dict):
        return [P("(line)", "not a JSON object")]
    out: list[LineProblem] = []
    for err in schema_errors(d):
        path = list(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            path = path + [missing] if missing else path
            out.append(P(_field(path), "missing (required" + ("; may be an empty list)" if missing == "messages"
                                                              else ")")))
        else:
            out.append(P(_field(path), _schema_message(err)))
    for key in ("started_at", "ended_at"):
        value = d.get(key)
        if isinstance(value, str) and value:
            try:
                parse_time(value, strict=True)
            except ValueError as exc:
                out.append(P(key, str(exc)))
    outcome = d.get("outcome")
    if isinstance(outcome, dict):
        r = outcome.get("reward")
        if isinstance(r, float) and not math.isfinite(r):
            out.append(P("outcome.reward", f"{r} is not a finite number"))
    msgs = d.get("messages")
    if isinstance(msgs, list):
        calls: set[str] = set()
        for i, m in enumerate(msgs):
            if not isinstance(m, dict):
                continue
            fld = f"messages[{i}]"
            role = m.get("role")
            tcs = m.get("tool_calls")
            if tcs is not None and role != "assistant":
                out.append(P(f"{fld}.tool_calls", "only assistant messages may have tool_calls"))
            for j, call in enumerate(tcs if isinstance(tcs, list) else []):
                if not isinstance(call, dict):
                    continue
                if isinstance(call.get("id"), str):
                    calls.add(call["id"])
                fn = call.get("function")
                args = fn.get("arguments") if isinstance(fn, dict) else None
                if isinstance(args, str) and args.strip():
                    try:
                        parsed = json.loads(args)
                    except (json.JSONDecodeError, RecursionError) as exc:
                        out.append(P(f"{fld}.tool_calls[{j}].function.arguments",
                                     f"not valid JSON ({getattr(exc, 'msg', 'too deep')})"))
                    else:
                        if not isinstance(parsed, dict):
                            out.append(P(f"{fld}.tool_calls[{j}].function.arguments",
                                         "must encode a JSON object of arguments"))
            tid = m.get("tool_call_id")
            if role == "tool":
                if not isinstance(tid, str):
                    out.append(P(f"{fld}.tool_call_id", "missing on a tool message"))
                elif tid not in calls:
                    out.append(P(f"{fld}.tool_call_id", f"{tid!r} names no earlier tool call in this session"))
            elif tid is not None:
                out.append(P(f"{fld}.tool_call_id", "only tool messages may have tool_call_id"))
    return out
