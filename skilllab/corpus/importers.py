"""Importers: the logs agent tools already write, turned into sessions in skilllab's format.

``skilllab corpus import FORMAT PATH... --agent ID`` (or :func:`import_sessions`). Each importer
reads its tool's own log and yields session dicts: the task as handed to the agent (the first
user message, or the benchmark's task statement), the transcript as OpenAI chat messages (assistant
text, tool calls with JSON-string arguments, tool results paired by call id; hidden reasoning is
left out), the outcome, and where the session came from in ``metadata``. Every session is checked
against the format before it is yielded; an unreadable record is an :class:`ImportProblem` naming
the file, the line and the field.

Formats:

* ``tau2`` -- tau2-bench results files (``{info, tasks, simulations}``): one session per
  simulation; the task from the task's user scenario (``reason_for_call`` + ``task_instructions``),
  success when the reward is 1, labels from the task (``task_id``, ``write_actions``, and a family
  chosen by ``family_from``: ``write-actions`` (the sorted write tools of the gold actions, a
  hand-off to a human counted as one, as in the bundled tau2 corpus),
  ``task-id``, or ``none``).
* ``claude-code`` -- Claude Code session JSONL (``~/.claude/projects/*/*.jsonl``).
* ``codex`` -- Codex CLI rollout JSONL (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``).
* ``gemini-cli`` -- Gemini CLI session JSONL (records, ``$set`` updates, tool calls with results).
* ``opencode`` -- OpenCode session JSON (``{info, messages: [{info, parts}]}``).
* ``copilot-cli`` -- GitHub Copilot CLI JSONL, both the event log (``user.message``,
  ``assistant.message`` with ``toolRequests``, ``tool.execution_complete``) and the flat
  ``message`` / ``tool_use`` / ``tool_result`` form.
* ``langchain`` -- trajectories of LangChain messages (``SystemMessage``, ``HumanMessage``,
  ``AIMessage`` with ``tool_calls``, ``ToolMessage``), e.g. Stratus; stages are joined in order.
* ``openai-messages`` -- a JSON or JSONL file of OpenAI chat-completions message lists: each item a
  list of messages, or an object ``{"messages": [...], "id"?, "task"?, "success"?, "reward"?}``.

The agent tools' logs do not say whether the task succeeded: give ``outcome`` (a results file with
``success``, as SREGym writes beside them) or ``success``; without either the import stops with a
message saying so. No importer needs the network or the tool itself.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SkilllabError
from .validate import LineProblem, check_session


class ImportProblem(SkilllabError, ValueError):
    """A record that could not be imported: ``file:line: field: message``."""

    def __init__(self, file: str, line: int, field: str, message: str):
        self.problem = LineProblem(file, line, field, message)
        super().__init__(str(self.problem))


@dataclass(frozen=True)
class ImportOptions:
    agent_id: str
    success: bool | None = None  # the outcome when the log has none and no results file is given
    outcome_file: str | None = None  # a results file with "success" (SREGym's *_results_*.json)
    family_from: str = "write-actions"  # tau2: write-actions | task-id | none

    def __post_init__(self) -> None:
        if self.family_from not in ("write-actions", "task-id", "none"):
            raise SkilllabError(f"family_from: {self.family_from!r} is not write-actions, task-id or none")


# ---- shared helpers ---------------------------------------------------------------------------

def _text(content: Any) -> str:
    """Text of a content value: a string, or a list of parts with ``text``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for p in content:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                out.append(p["text"])
        return "\n".join(out)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return str(content["text"])
    return json.dumps(content, ensure_ascii=False)


def _args(value: Any) -> str:
    """Tool-call arguments as the JSON string of an object."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return json.dumps({"input": value}, ensure_ascii=False)
        return value if isinstance(parsed, dict) else json.dumps({"input": parsed}, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps({"input": value}, ensure_ascii=False)


def _call(cid: Any, name: Any, args: Any) -> dict[str, Any]:
    return {"id": str(cid), "type": "function", "function": {"name": str(name or "tool"), "arguments": _args(args)}}


def _iso(value: Any) -> str | None:
    """An ISO-8601 time with a zone from what logs write (ISO strings, epoch seconds or ms)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        secs = value / 1000.0 if value > 1e11 else float(value)
        return _dt.datetime.fromtimestamp(secs, _dt.UTC).isoformat().replace("+00:00", "Z")
    text = str(value).strip()
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)  # a naive time is taken as UTC
    return t.isoformat().replace("+00:00", "Z")


class _Builder:
    """Collects one transcript: assistant text and calls merged into one message per turn."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.calls: set[str] = set()
        self.answered: set[str] = set()

    def system(self, text: str) -> None:
        if text.strip():
            self.messages.append({"role": "system", "content": text})

    def user(self, text: str) -> None:
        if text.strip():
            self.messages.append({"role": "user", "content": text})

    def assistant(self, text: str = "", calls: Iterable[dict[str, Any]] = (), *, merge: bool = False) -> None:
        calls = list(calls)
        last = self.messages[-1] if self.messages else None
        if merge and last is not None and last["role"] == "assistant" and not last.get("_closed"):
            if text.strip():
                last["content"] = (last["content"] + "\n" + text) if last["content"] else text
            if calls:
                last.setdefault("tool_calls", []).extend(calls)
        elif text.strip() or calls:
            m: dict[str, Any] = {"role": "assistant", "content": text if text.strip() else None}
            if calls:
                m["tool_calls"] = calls
            self.messages.append(m)
        self.calls.update(c["id"] for c in calls)

    def tool(self, cid: Any, output: Any) -> None:
        cid = str(cid)
        if cid not in self.calls or cid in self.answered:
            return  # a result for a call the log does not show (or a repeat): not part of the transcript
        self.answered.add(cid)
        if self.messages and self.messages[-1]["role"] == "assistant":
            self.messages[-1]["_closed"] = True
        self.messages.append({"role": "tool", "tool_call_id": cid, "content": _text(output)})

    def done(self) -> list[dict[str, Any]]:
        for m in self.messages:
            m.pop("_closed", None)
        return self.messages


def _first_user(messages: list[dict[str, Any]]) -> str:
    return next((m["content"] for m in messages if m["role"] == "user" and m.get("content")), "")


def _final_text(messages: list[dict[str, Any]]) -> str | None:
    for m in reversed(messages):
        if m["role"] == "assistant" and m.get("content"):
            return str(m["content"])[:500]
    return None


def _outcome(opts: ImportOptions, file: str, fmt: str) -> tuple[bool, float | None]:
    if opts.outcome_file:
        try:
            d = json.loads(Path(opts.outcome_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ImportProblem(opts.outcome_file, 1, "(file)", f"cannot read the results file: {exc}") from None
        if not isinstance(d, dict) or not isinstance(d.get("success"), bool):
            raise ImportProblem(opts.outcome_file, 1, "success", "missing or not true/false")
        return d["success"], (1.0 if d["success"] else 0.0)
    if opts.success is not None:
        return opts.success, (1.0 if opts.success else 0.0)
    raise ImportProblem(file, 1, "outcome", f"a {fmt} log does not say whether the task succeeded; "
                                            "give --outcome RESULTS.json or --success true|false")


def _session(sid: str, opts: ImportOptions, started: str | None, ended: str | None, task: str,
             messages: list[dict[str, Any]], success: bool, reward: float | None, *, summary: str | None = None,
             labels: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None, file: str = "", line: int = 1) -> dict[str, Any]:
    if not started:
        raise ImportProblem(file, line, "started_at", "the log has no time the session started")
    if not task.strip():
        raise ImportProblem(file, line, "task", "the log has no task (no user message)")
    d: dict[str, Any] = {"session_id": sid, "agent_id": opts.agent_id, "started_at": started, "task": task,
               "messages": messages, "outcome": {"success": success, "reward": reward,
                                                 "summary": summary if summary is not None else _final_text(messages)}}
    if ended:
        d["ended_at"] = ended
    if labels:
        d["labels"] = labels
    d["metadata"] = {"imported_from": Path(file).name, **(metadata or {})}
    problems = check_session(d, (file, line))
    if problems:
        p = problems[0]
        raise ImportProblem(p.file, p.line, p.field, p.message)
    return d


def _jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, record)``; an unparseable line raises :class:`ImportProblem` (skipped by a
    lenient import, which carries on with the next line)."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except ValueError as exc:
                yield n, ImportProblem(str(path), n, "(line)", f"not JSON ({str(exc)[:80]})")


def _records(path: Path, problems: list[ImportProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, rec in _jsonl(path):
        if isinstance(rec, ImportProblem):
            problems.append(rec)
        elif isinstance(rec, dict):
            yield n, rec
        else:
            problems.append(ImportProblem(str(path), n, "(line)", "not a JSON object"))


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ImportProblem(str(path), getattr(exc, "lineno", 1), "(file)", f"not JSON ({str(exc)[:80]})") from None


# ---- tau2-bench ----------------------------------------------------------------------------------

def import_tau2(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    from ..distill.actions import HANDOFF, WRITE, classify_tool

    d = _load_json(path)
    if not isinstance(d, dict) or not isinstance(d.get("simulations"), list):
        raise ImportProblem(str(path), 1, "simulations", "not a tau2-bench results file ({info, tasks, simulations})")
    tasks = {str(t.get("id")): t for t in d.get("tasks") or [] if isinstance(t, dict)}
    info = d.get("info") or {}
    model = ((info.get("agent_info") or {}).get("llm")) if isinstance(info, dict) else None
    for i, sim in enumerate(d["simulations"]):
        try:
            if not isinstance(sim, dict):
                raise ImportProblem(str(path), 1, f"simulations[{i}]", "not an object")
            tid = str(sim.get("task_id"))
            task = tasks.get(tid)
            if task is None:
                raise ImportProblem(str(path), 1, f"simulations[{i}].task_id", f"{tid!r} is not among the tasks")
            instr = ((task.get("user_scenario") or {}).get("instructions") or {})
            if isinstance(instr, str):
                text = instr
            else:
                text = "\n".join(x.strip() for x in (instr.get("reason_for_call"), instr.get("task_instructions"))
                                 if isinstance(x, str) and x.strip())
            b = _Builder()
            for m in sim.get("messages") or []:
                role = m.get("role")
                if role == "user":
                    b.user(_text(m.get("content")))
                elif role == "assistant":
                    calls = [_call(c.get("id"), c.get("name"), c.get("arguments") or {}) for c in m.get("tool_calls") or []]
                    b.assistant(_text(m.get("content")), calls)
                elif role == "tool":
                    b.tool(m.get("id") or m.get("tool_call_id"), m.get("content"))
            reward = (sim.get("reward_info") or {}).get("reward")
            reward = float(reward) if isinstance(reward, (int, float)) else None
            gold = [a for a in ((task.get("evaluation_criteria") or {}).get("actions") or []) if isinstance(a, dict)]
            writes = []
            for a in gold:
                act = classify_tool(str(a.get("name")), a.get("arguments") or {}, None)
                if act.kind in (WRITE, HANDOFF):  # a transfer changes the case's state too, as tau2 counts it
                    writes.append(str(a.get("name")))
            labels: dict[str, Any] = {"task_id": tid, "write_actions": writes}
            if opts.family_from == "write-actions":
                labels["family"] = "+".join(sorted(set(writes))) or "no-write"
            elif opts.family_from == "task-id":
                labels["family"] = tid
            yield _session(f"tau2-{sim.get('id') or i}", opts, _iso(sim.get("start_time") or sim.get("timestamp")),
                           _iso(sim.get("end_time")), text, b.done(), reward is not None and reward >= 1.0, reward,
                           labels=labels, file=str(path), line=1,
                           metadata={"simulation": i, "trial": sim.get("trial"), "model": model,
                                     "termination_reason": sim.get("termination_reason"),
                                     "first_user_message": _first_user(b.messages)})
        except ImportProblem as exc:
            problems.append(exc)


# ---- Claude Code ------------------------------------------------------------------------------

def import_claude_code(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    b = _Builder()
    sid = started = ended = None
    last_msg_id = None
    for _n, r in _records(path, problems):
        sid = sid or r.get("sessionId")
        t = _iso(r.get("timestamp"))
        started, ended = started or t, t or ended
        if r.get("type") not in ("user", "assistant") or r.get("isSidechain"):
            continue
        msg = r.get("message") or {}
        content = msg.get("content")
        if r["type"] == "user":
            if isinstance(content, str):
                b.user(content)
            else:
                for part in content or []:
                    if not isinstance(part, dict):
                        continue
                    if part.get("type") == "tool_result":
                        b.tool(part.get("tool_use_id"), part.get("content"))
                    elif part.get("type") == "text":
                        b.user(part.get("text") or "")
            last_msg_id = None
            continue
        texts, calls = [], []
        for part in content if isinstance(content, list) else [{"type": "text", "text": _text(content)}]:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text":
                texts.append(part.get("text") or "")
            elif part.get("type") == "tool_use":
                calls.append(_call(part.get("id"), part.get("name"), part.get("input") or {}))
        same = msg.get("id") is not None and msg.get("id") == last_msg_id
        b.assistant("\n".join(t for t in texts if t.strip()), calls, merge=same)
        last_msg_id = msg.get("id")
    messages = b.done()
    success, reward = _outcome(opts, str(path), "Claude Code")
    yield _session(f"claude-code-{sid or path.stem}", opts, started, ended, _first_user(messages), messages,
                   success, reward, file=str(path), metadata={"tool": "claude-code", "tool_session_id": sid})


# ---- Codex CLI ----------------------------------------------------------------------------------

def import_codex(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    b = _Builder()
    sid = started = ended = None
    task = ""
    final = None
    for _n, r in _records(path, problems):
        t = _iso(r.get("timestamp"))
        started, ended = started or t, t or ended
        p = r.get("payload") or {}
        kind, ptype = r.get("type"), p.get("type")
        if kind == "session_meta":
            sid = p.get("id") or p.get("session_id")
        elif kind == "event_msg" and ptype == "user_message":
            text = p.get("message") or ""
            task = task or text
            b.user(text)
        elif kind == "event_msg" and ptype == "task_complete":
            final = p.get("last_agent_message")
        elif kind == "response_item" and ptype == "message" and p.get("role") == "assistant":
            b.assistant(_text(p.get("content")), merge=False)
        elif kind == "response_item" and ptype in ("function_call", "custom_tool_call"):
            b.assistant("", [_call(p.get("call_id") or p.get("id"), p.get("name"),
                                   p.get("arguments") if ptype == "function_call" else {"input": p.get("input")})],
                        merge=True)
        elif kind == "response_item" and ptype in ("function_call_output", "custom_tool_call_output"):
            out = p.get("output")
            b.tool(p.get("call_id"), out.get("content") if isinstance(out, dict) else out)
    messages = b.done()
    success, reward = _outcome(opts, str(path), "Codex")
    yield _session(f"codex-{sid or path.stem}", opts, started, ended, task or _first_user(messages), messages,
                   success, reward, summary=(final or None) and final[:500], file=str(path),
                   metadata={"tool": "codex", "tool_session_id": sid})


# ---- Gemini CLI ---------------------------------------------------------------------------------

def import_gemini_cli(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    sid = started = ended = None
    for _n, r in _records(path, problems):
        if "sessionId" in r and "type" not in r:
            sid, started = r.get("sessionId"), _iso(r.get("startTime"))
            continue
        if "$set" in r or not r.get("id") or r.get("type") not in ("user", "gemini"):
            continue
        if r["id"] not in records:
            order.append(r["id"])
        records[r["id"]] = r  # a later copy of a record (with its tool calls) replaces the first
        ended = _iso(r.get("timestamp")) or ended
    b = _Builder()
    responses: dict[str, Any] = {}
    for rid in order:
        r = records[rid]
        if r["type"] == "user":
            content = r.get("content")
            for part in content if isinstance(content, list) else [content]:
                if isinstance(part, dict) and "functionResponse" in part:
                    fr = part["functionResponse"]
                    responses[str(fr.get("id"))] = (fr.get("response") or {}).get("output", fr.get("response"))
    for rid in order:
        r = records[rid]
        if r["type"] == "user":
            content = r.get("content")
            texts: list[str] = [p["text"] for p in (content if isinstance(content, list) else [])
                                if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if isinstance(r.get("content"), str):
                texts = [r["content"]]
            if texts:
                b.user("\n".join(texts))
            continue
        calls = r.get("toolCalls") or []
        b.assistant(_text(r.get("content")), [_call(c.get("id"), c.get("name"), c.get("args") or {}) for c in calls])
        for c in calls:
            out = None
            for res in c.get("result") or []:
                fr = res.get("functionResponse") if isinstance(res, dict) else None
                if fr:
                    out = (fr.get("response") or {}).get("output", fr.get("response"))
            b.tool(c.get("id"), out if out is not None else responses.get(str(c.get("id")), ""))
    messages = b.done()
    user_texts = [m["content"] for m in messages if m["role"] == "user"]
    task = next((t for t in user_texts if not t.lstrip().startswith("<session_context>")), "")
    success, reward = _outcome(opts, str(path), "Gemini CLI")
    yield _session(f"gemini-cli-{sid or path.stem}", opts, started or ended, ended, task, messages, success, reward,
                   file=str(path), metadata={"tool": "gemini-cli", "tool_session_id": sid})


# ---- OpenCode -----------------------------------------------------------------------------------

def import_opencode(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    d = _load_json(path)
    if not isinstance(d, dict) or not isinstance(d.get("messages"), list):
        raise ImportProblem(str(path), 1, "messages", "not an OpenCode session ({info, messages})")
    info = d.get("info") or {}
    b = _Builder()
    times = []
    for m in d["messages"]:
        mi = m.get("info") or {}
        times.append((mi.get("time") or {}).get("created"))
        parts = m.get("parts") or []
        if mi.get("role") == "user":
            b.user("\n".join(p.get("text") or "" for p in parts if p.get("type") == "text"))
            continue
        for p in parts:
            if p.get("type") == "text":
                b.assistant(p.get("text") or "", merge=True)
            elif p.get("type") == "tool":
                state = p.get("state") or {}
                cid = p.get("callID") or p.get("id")
                b.assistant("", [_call(cid, p.get("tool"), state.get("input") or {})], merge=True)
                b.tool(cid, state.get("output") if state.get("output") is not None else state.get("error", ""))
    messages = b.done()
    times = [t for t in times if t is not None]
    success, reward = _outcome(opts, str(path), "OpenCode")
    yield _session(f"opencode-{info.get('id') or path.stem}", opts,
                   _iso(((info.get("time") or {}).get("created")) or (times[0] if times else None)),
                   _iso(times[-1]) if times else None, _first_user(messages), messages, success, reward,
                   file=str(path), metadata={"tool": "opencode", "tool_session_id": info.get("id"),
                                             "title": info.get("title")})


# ---- GitHub Copilot CLI -------------------------------------------------------------------------

def import_copilot_cli(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    b = _Builder()
    sid = started = ended = None
    pending_text: dict[str, str] = {}
    for _n, r in _records(path, problems):
        t = _iso(r.get("timestamp"))
        started, ended = started or t, t or ended
        kind = r.get("type")
        data = r.get("data") or {}
        if kind == "user.message":
            b.user(_text(data.get("content")))
        elif kind == "assistant.message":
            calls = [_call(c.get("toolCallId"), c.get("name"), c.get("arguments") or {})
                     for c in data.get("toolRequests") or []]
            b.assistant(_text(data.get("content")), calls)
            pending_text.pop(str(data.get("messageId")), None)
        elif kind == "tool.execution_complete":
            res = data.get("result") or {}
            b.tool(data.get("toolCallId"), res.get("content") if isinstance(res, dict) else res)
        elif kind == "result":
            sid = r.get("sessionId") or sid
        elif kind == "message":  # the flat form
            if r.get("role") == "user":
                b.user(_text(r.get("content")))
            elif r.get("role") == "assistant":
                b.assistant(_text(r.get("content")))
        elif kind == "tool_use":
            b.assistant("", [_call(r.get("id"), r.get("name"), r.get("input") or {})], merge=True)
        elif kind == "tool_result":
            b.tool(r.get("tool_use_id"), r.get("content"))
    messages = b.done()
    success, reward = _outcome(opts, str(path), "Copilot CLI")
    yield _session(f"copilot-cli-{sid or path.stem}", opts, started, ended, _first_user(messages), messages,
                   success, reward, file=str(path), metadata={"tool": "copilot-cli", "tool_session_id": sid})


# ---- LangChain trajectories (Stratus) -----------------------------------------------------------

_LC_ROLE = {"SystemMessage": "system", "HumanMessage": "user", "AIMessage": "assistant", "ToolMessage": "tool",
            "system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def import_langchain(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    meta: dict[str, Any] = {}
    last_of_stage: dict[str, dict[str, Any]] = {}
    stages: list[str] = []
    for _n, r in _records(path, problems):
        if r.get("type") == "metadata":
            meta = r
        elif r.get("type") == "event" and isinstance(r.get("messages"), list):
            st = str(r.get("stage", ""))
            if st not in last_of_stage:
                stages.append(st)
            prev = last_of_stage.get(st)
            if prev is None or int(r.get("event_index", 0)) >= int(prev.get("event_index", 0)):
                last_of_stage[st] = r  # each event holds the stage's whole conversation so far
    b = _Builder()
    seq = 0
    for st in stages:
        renamed: dict[str, str] = {}
        waiting: list[str] = []  # calls of the last AIMessage not answered yet, in order
        for m in last_of_stage[st]["messages"]:
            role = _LC_ROLE.get(str(m.get("type") or m.get("role")))
            if role == "system":
                if not b.messages:  # each stage repeats a system prompt; keep the first
                    b.system(_text(m.get("content")))
            elif role == "user":
                b.user(_text(m.get("content")))
            elif role == "assistant":
                calls = []
                for c in m.get("tool_calls") or []:
                    seq += 1
                    renamed[str(c.get("id"))] = f"{c.get('id')}#{seq}"  # ids repeat across stages
                    calls.append(_call(renamed[str(c.get("id"))], c.get("name"), c.get("args") or {}))
                b.assistant(_text(m.get("content")), calls)
                waiting = [c["id"] for c in calls]
            elif role == "tool":
                cid = m.get("tool_call_id")
                # some logs leave the id out: a ToolMessage then answers the next call still waiting
                mine = renamed.get(str(cid), str(cid)) if cid else (waiting[0] if waiting else "")
                if mine in waiting:
                    waiting.remove(mine)
                b.tool(mine, m.get("content"))
    messages = b.done()
    success, reward = _outcome(opts, str(path), "LangChain")
    when = meta.get("timestamp_readable")
    started = _iso(when.replace(" ", "T")) if isinstance(when, str) else None
    sid = "-".join(str(x) for x in (meta.get("problem_id"), meta.get("timestamp")) if x) or path.stem
    yield _session(f"langchain-{sid}", opts, started, None, _first_user(messages), messages, success, reward,
                   file=str(path), metadata={"tool": "langchain", "stages": stages,
                                             "problem_id": meta.get("problem_id")})


# ---- OpenAI chat-completions message lists ------------------------------------------------------

def import_openai_messages(path: Path, opts: ImportOptions, problems: list[ImportProblem]) -> Iterator[dict[str, Any]]:
    if path.suffix == ".jsonl":
        items: Iterable[tuple[int, Any]] = ((n, r) for n, r in _jsonl(path))
    else:
        d = _load_json(path)
        if isinstance(d, list) and d and all(isinstance(m, dict) and "role" in m for m in d):
            d = [d]  # one conversation
        items = ((1, x) for x in (d if isinstance(d, list) else [d]))
    for k, (n, item) in enumerate(items):
        try:
            if isinstance(item, ImportProblem):
                raise item
            record = item if isinstance(item, dict) else {"messages": item}
            msgs = record.get("messages")
            if not isinstance(msgs, list):
                raise ImportProblem(str(path), n, "messages", "not a list of chat messages")
            b = _Builder()
            for j, m in enumerate(msgs):
                if not isinstance(m, dict):
                    raise ImportProblem(str(path), n, f"messages[{j}]", "not an object")
                role = m.get("role")
                if role == "system":
                    b.system(_text(m.get("content")))
                elif role == "user":
                    b.user(_text(m.get("content")))
                elif role == "assistant":
                    calls = [_call(c.get("id"), (c.get("function") or {}).get("name") or c.get("name"),
                                   (c.get("function") or {}).get("arguments", c.get("arguments")) or {})
                             for c in m.get("tool_calls") or [] if isinstance(c, dict)]
                    b.assistant(_text(m.get("content")), calls)
                elif role == "tool":
                    b.tool(m.get("tool_call_id"), m.get("content"))
            messages = b.done()
            if isinstance(record.get("success"), bool) or isinstance(record.get("outcome"), dict):
                out = record.get("outcome") or {}
                success = record.get("success", out.get("success"))
                reward = record.get("reward", out.get("reward"))
                if not isinstance(success, bool):
                    raise ImportProblem(str(path), n, "outcome.success", "must be true or false")
            else:
                success, reward = _outcome(opts, str(path), "message-list")
            sid = str(record.get("id") or record.get("session_id") or f"{path.stem}-{k + 1}")
            yield _session(sid, opts, _iso(record.get("started_at") or record.get("created"))
                           or _iso(path.stat().st_mtime), _iso(record.get("ended_at")),
                           str(record.get("task") or _first_user(messages)), messages, success,
                           reward if isinstance(reward, (int, float)) else None, file=str(path), line=n,
                           metadata={"tool": "openai-messages"})
        except ImportProblem as exc:
            problems.append(exc)


IMPORTERS: dict[str, Callable[[Path, ImportOptions, list[ImportProblem]], Iterator[dict[str, Any]]]] = {
    "tau2": import_tau2,
    "claude-code": import_claude_code,
    "codex": import_codex,
    "gemini-cli": import_gemini_cli,
    "opencode": import_opencode,
    "copilot-cli": import_copilot_cli,
    "langchain": import_langchain,
    "openai-messages": import_openai_messages,
}


def import_sessions(fmt: str, paths: Iterable[str | Path], opts: ImportOptions, *,
                    lenient: bool = False, problems: list[ImportProblem] | None = None) -> Iterator[dict[str, Any]]:
    """Sessions from ``paths`` in format ``fmt``, one at a time. A record that cannot be imported
    stops the import (raising :class:`ImportProblem`) unless ``lenient``, which skips it and adds
    it to ``problems``."""
    if fmt not in IMPORTERS:
        raise SkilllabError(f"unknown format {fmt!r}; formats: {', '.join(IMPORTERS)}")
    problems = [] if problems is None else problems
    seen: set[str] = set()
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise SkilllabError(f"{path}: no such file")
        found: list[ImportProblem] = []
        try:
            for session in IMPORTERS[fmt](path, opts, found):
                if not lenient and found:
                    raise found[0]
                if session["session_id"] in seen:
                    found.append(ImportProblem(str(path), 1, "session_id",
                                               f"{session['session_id']!r} was already imported; skipped"))
                    continue
                seen.add(session["session_id"])
                yield session
        except ImportProblem as exc:
            if not lenient:
                raise
            found.append(exc)
        if found and not lenient:
            raise found[0]
        problems.extend(found)
