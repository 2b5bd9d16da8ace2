"""Recorded agent sessions (the format: ``docs/session-format.md``).

A :class:`Session` is one task an agent worked on: the task text, the transcript as OpenAI chat
messages, the outcome and, for evaluation only, ground-truth labels. :meth:`Session.tool_steps`
pairs every tool call with its output, which the distillers build runbooks from.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .distill.actions import Action


def content_text(content: Any) -> str:
    """A message's content as text: strings as-is, lists of text parts joined by newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content)


def parse_time(value: str, *, strict: bool = False) -> _dt.datetime:
    """ISO-8601 to an aware datetime. ``strict``: a time without a zone is an error (the session
    format asks for one); otherwise it is taken as UTC."""
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 time") from None
    if t.tzinfo is None:
        if strict:
            raise ValueError(f"{value!r} has no time zone (add Z or +00:00)")
        t = t.replace(tzinfo=_dt.UTC)
    return t


@dataclass(frozen=True)
class ToolStep:
    """One tool call and what came back."""

    call_id: str
    tool: str
    arguments: str  # the raw JSON arguments string
    command: str  # a readable one-line form of the call
    output: str
    index: int  # position of the call among the session's calls
    answered: bool  # a tool message answered it
    args: dict[str, Any] | None = None  # the arguments parsed (None when they are not a JSON object)
    raw: str | None = None  # for command-bearing tools, the command string itself

    @property
    def action(self) -> Action:
        """What the call did (read, write or handoff) and its value-free key; see :mod:`skilllab.distill.actions`."""
        from .distill.actions import classify_tool

        return classify_tool(self.tool, self.args, self.raw)


COMMAND_KEYS = ("cmd", "command", "query", "sql", "args", "script", "code", "input")


def parse_arguments(arguments: str) -> dict[str, Any] | None:
    """The JSON arguments of a call as a dict, or None when they are not a JSON object."""
    try:
        args = json.loads(arguments) if arguments else {}
    except (json.JSONDecodeError, RecursionError):
        return None
    return args if isinstance(args, dict) else None


def raw_command(args: dict[str, Any] | None, tool: str | None = None) -> str | None:
    """The command string a call of a command-bearing ``tool`` (``shell``, ``kubectl``...) carries
    (``cmd``, ``command``...); None for other tools, whose arguments are values."""
    if not args:
        return None
    if tool is not None:
        from .distill.actions import is_command_tool

        if not is_command_tool(tool):
            return None
    strs = [v for v in args.values() if isinstance(v, str)]
    for key in COMMAND_KEYS:
        value = args.get(key)
        if isinstance(value, str):
            return value
    if len(args) == 1 and strs:
        return strs[0]
    if isinstance(args.get("command"), list) and all(isinstance(x, str) for x in args["command"]):
        return " ".join(args["command"])
    return None


@dataclass
class Session:
    session_id: str
    agent_id: str
    started_at: str
    task: str
    messages: list[dict[str, Any]]
    success: bool
    reward: float | None = None
    summary: str | None = None
    ended_at: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: tuple[str, int] | None = field(default=None, compare=False, repr=False)  # (file, line) it was read from

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: tuple[str, int] = ("<session>", 0), *, checked: bool = False) -> Session:
        """A session from its JSON object, validated exactly as the corpus reader validates a line
        (:func:`skilllab.corpus.check_session`): a bad field raises
        :class:`~skilllab.corpus.CorpusError` naming it (``where`` says which file and line)."""
        if not checked:
            from .corpus.validate import CorpusError, check_session

            problems = check_session(d, where)
            if problems:
                raise CorpusError(problems)
        out = d.get("outcome") or {}
        return cls(
            session_id=d["session_id"], agent_id=d["agent_id"], started_at=d["started_at"],
            task=d["task"], messages=list(d.get("messages") or []), success=out.get("success") is True,
            reward=out.get("reward"), summary=out.get("summary"), ended_at=d.get("ended_at"),
            labels=dict(d.get("labels") or {}), metadata=dict(d.get("metadata") or {}),
            origin=where if where[0] != "<session>" else None,
        )

    def to_dict(self, *, with_labels: bool = True) -> dict[str, Any]:
        d = {"session_id": self.session_id, "agent_id": self.agent_id, "started_at": self.started_at,
             "task": self.task, "messages": self.messages,
             "outcome": {"success": self.success, "reward": self.reward, "summary": self.summary}}
        if self.ended_at:
            d["ended_at"] = self.ended_at
        if with_labels and self.labels:
            d["labels"] = self.labels
        if self.metadata:
            d["metadata"] = self.metadata
        return d

    def redacted(self, max_chars: int = 65_536) -> Session:
        """The session with every text a distiller reads redacted (task, message contents, tool-call
        arguments value by value, the summary), each first cut to ``max_chars`` characters so the
        cost stays bounded on huge transcripts. Distillers are given this copy, so no text derived
        from a session (a step, a description, a phrasing, a name) can carry a secret, whatever
        templating later does to the text around it."""
        from .distill.redact import redact, redact_obj

        def text(t: Any) -> Any:
            return redact(t[:max_chars]) if isinstance(t, str) else t

        def cut(obj: Any) -> Any:
            if isinstance(obj, str):
                return obj[:max_chars]
            if isinstance(obj, list):
                return [cut(x) for x in obj]
            if isinstance(obj, dict):
                return {k: cut(v) for k, v in obj.items()}
            return obj

        msgs = []
        for m in self.messages:
            m = dict(m)
            c = m.get("content")
            if isinstance(c, str):
                m["content"] = text(c)
            elif isinstance(c, list):
                m["content"] = [{**p, "text": text(p["text"])} if isinstance(p, dict) and isinstance(p.get("text"), str)
                                else p for p in c]
            if m.get("tool_calls"):
                calls = []
                for call in m["tool_calls"]:
                    call = dict(call)
                    fn = dict(call.get("function") or {})
                    args = fn.get("arguments")
                    if isinstance(args, str):
                        parsed = parse_arguments(args)
                        fn["arguments"] = (json.dumps(redact_obj(cut(parsed)), ensure_ascii=False)
                                           if parsed is not None else text(args))
                    call["function"] = fn
                    calls.append(call)
                m["tool_calls"] = calls
            msgs.append(m)
        return Session(**{**self.__dict__, "task": text(self.task), "messages": msgs,
                          "summary": text(self.summary)})

    def without_labels(self) -> Session:
        """The session as a distiller may see it: ground-truth labels removed."""
        return Session(**{**self.__dict__, "labels": {}})

    @property
    def started(self) -> _dt.datetime:
        return parse_time(self.started_at)

    @property
    def family(self) -> str | None:
        return self.labels.get("family")

    def tool_steps(self) -> list[ToolStep]:
        outputs: dict[str, str] = {}
        for m in self.messages:
            if m.get("role") == "tool" and m.get("tool_call_id"):
                outputs[m["tool_call_id"]] = content_text(m.get("content"))
        steps: list[ToolStep] = []
        for m in self.messages:
            if m.get("role") != "assistant":
                continue
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                args = fn.get("arguments") or ""
                cid = call.get("id", "")
                parsed = parse_arguments(args)
                steps.append(ToolStep(cid, fn.get("name", "tool"), args, command_line(fn.get("name", "tool"), args),
                                      outputs.get(cid, ""), len(steps), cid in outputs, parsed,
                                      raw_command(parsed, fn.get("name", "tool"))))
        return steps

    def assistant_texts(self) -> list[tuple[int, str]]:
        """(number of tool calls made before it, text) for each assistant message with text."""
        out, calls = [], 0
        for m in self.messages:
            if m.get("role") == "assistant":
                text = content_text(m.get("content")).strip()
                if text:
                    out.append((calls, text))
                calls += len(m.get("tool_calls") or [])
        return out

    def final_answer(self) -> str:
        texts = self.assistant_texts()
        return texts[-1][1] if texts else ""


SHELL_TOOLS = frozenset({"shell", "bash", "sh", "zsh", "exec", "run", "terminal", "exec_command", "run_shell_command",
                         "execute_command", "shell_command", "run_command", "run_terminal_cmd", "powershell",
                         "container.exec", "local_shell"})
# arguments that say how a command runs, not what it does (agent tools add them to shell calls)
RUN_OPTION_KEYS = frozenset({"description", "timeout", "timeout_ms", "workdir", "cwd", "dir_path", "directory",
                             "yield_time_ms", "max_output_tokens", "is_background", "run_in_background",
                             "justification", "with_escalated_permissions", "sandbox_permissions", "login",
                             "intentionSummary"})


def command_line(tool: str, arguments: str) -> str:
    """A readable form of a tool call: the command string when there is one, else tool(k=v).
    Run options of shell tools (a description, a timeout, a working folder) are left out."""
    try:
        args = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return f"{tool} {arguments}".strip()
    shell = tool.lower() in SHELL_TOOLS
    if isinstance(args, dict):
        if shell:
            args = {k: v for k, v in args.items() if k not in RUN_OPTION_KEYS}
        strs = [v for v in args.values() if isinstance(v, str)]
        if len(args) == 1 and strs:
            val = strs[0]
            return val if shell else f"{tool} {val}"
        if shell and isinstance(args.get("command"), list) and all(isinstance(x, str) for x in args["command"]):
            return " ".join(args["command"])
        for key in ("cmd", "command", "query", "sql", "args"):
            if isinstance(args.get(key), str):
                rest = {k: v for k, v in args.items() if k != key}
                tail = " ".join(f"{k}={v}" for k, v in rest.items())
                head = args[key] if shell else f"{tool} {args[key]}"
                return f"{head} ({tail})" if tail else head
        return f"{tool}(" + ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items()) + ")"
    return f"{tool} {json.dumps(args)}"
