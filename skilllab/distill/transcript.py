"""Reading a transcript the way an SRE would: which calls diagnosed, which fixed, which failed.

Used by the extractive distiller (to write runbooks), by the LLM distiller (to condense long
transcripts into its prompt) and by the flow (to build the dedup query). Everything here is
deterministic text processing; nothing calls a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..session import Session, ToolStep
from .redact import redact

MAX_STEPS = 12
NOTE_CHARS = 140

# Calls that change the system (as opposed to reading it).
_MUTATING = re.compile(
    r"\b(apply|patch|edit|set|scale|restart|rollout\s+(?:restart|undo)|undo|delete|drain|cordon|uncordon|kill"
    r"|terminate|rotate|renew|create|update|upgrade|install|rm|mv|chmod|chown|start|stop|reload|enable|disable"
    r"|alter|vacuum|reindex|grant|revoke|truncate|drop|insert|flush|failover|promote|purge|prune|resize|extend"
    r"|rollback|revert|annotate|label|taint|silence|ack|mute|pg_terminate_backend|pg_cancel_backend|cmctl\s+renew"
    r"|helm\s+(?:upgrade|rollback|install)|terraform\s+apply|increase|raise|bump|evict|clear|reset|recreate)\b",
    re.IGNORECASE)
# Outputs whose first lines say the call itself failed (not that it read an error message).
_CALL_FAILED = re.compile(
    r"^(?:error\b|err!|fatal\b|Error from server|.*command not found|.*permission denied|.*access denied"
    r"|.*forbidden|.*unauthorized|.*no such file or directory|.*connection refused|.*timed? ?out\b"
    r"|.*could not connect|.*unable to connect|.*unknown (?:flag|command|option|shorthand)|.*invalid argument"
    r"|.*(?:exit|return) (?:code|status)[: =]+[1-9]\d*|.*returned non-zero|Traceback \(most recent call last\)"
    r"|.*syntax error|usage: )", re.IGNORECASE)
# Read-only calls whose output is expected to contain the symptom's error text.
_READS_LOGS = re.compile(r"\b(logs?|journalctl|tail|cat|grep|less|head|events|describe|dmesg)\b", re.IGNORECASE)
# The assistant saying the previous attempt did not help.
_ABANDONED = re.compile(
    r"(did(?:n'?t| not) (?:help|work|fix|change|resolve|solve)|no (?:effect|change|improvement|luck|difference)"
    r"|still (?:failing|crashing|down|broken|erroring|high|the same|timing out|not|fails|restarting|evicting|lagging)"
    r"|not the (?:cause|issue|problem|culprit)|dead end|wrong (?:track|guess|direction)|that was not it"
    r"|red herring|same error|came back|made (?:it|things) worse|had to (?:revert|roll back)|gave up on"
    r"|does(?:n'?t| not) (?:help|work|fix))", re.IGNORECASE)
_SIGNAL = re.compile(
    r"\b(errors?|exception|panic|fatal|fail\w*|denied|refused|timeout|timed out|oomkilled|crashloop\w*|evict\w*"
    r"|expir\w*|too many|exhaust\w*|not found|unreachable|unavailable|lag|full|pressure|backoff|nxdomain|5\d\d"
    r"|killed|throttl\w*|saturat\w*|leak\w*|stale|stuck|deadlock\w*|corrupt\w*)\b", re.IGNORECASE)

_KINDS = ("namespace", "service", "svc", "deployment", "deploy", "pod", "node", "host", "database", "db",
          "cluster", "topic", "queue", "bucket", "table", "job", "cronjob", "statefulset", "replica",
          "instance", "domain", "hostname", "zone", "region", "user", "volume", "disk", "ingress", "secret",
          "configmap", "app", "application", "endpoint", "consumer", "group", "index", "shard", "vm", "server")
_KIND_ALIAS = {"svc": "service", "deploy": "deployment", "db": "database", "app": "service",
               "application": "service", "hostname": "host", "vm": "host", "server": "host"}
_ID = r"[A-Za-z0-9][A-Za-z0-9_.:/-]*"
_PLAIN_VALUE_KINDS = {"namespace", "cluster", "topic", "queue", "bucket", "table", "zone", "region"}
_NAME_SUFFIXES = {"api", "service", "svc", "db", "pg", "sql", "worker", "redis", "cache", "gateway", "engine",
                  "sync", "indexer", "profile", "app", "web", "proxy", "job", "cron", "queue", "broker", "server",
                  "primary", "replica", "master", "node", "pool", "cluster", "frontend", "backend"}
_GENERIC = [
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]{8,10}-[a-z0-9]{5}\b"), "<pod>"),
    (re.compile(r"\b[0-9a-f]{12,}\b"), "<hash>"),
    (re.compile(r"\bv\d+(?:\.\d+)+\b"), "<version>"),
]
_STOP = frozenset("""
a an the of in on at to for from by with and or is are was were be been being it its this that
these those there here as into onto over under after before during while since until than then
so such not no yes our your their my we you they he she i me us them please can could should
would will shall may might must do does did done has have had get got getting keep keeps kept
again some any all each every very just also only about like what which who whom why how when
where see seems seem started start now today still
""".split())


@dataclass
class Analysis:
    """What a session did, in runbook terms."""

    steps: list[tuple[str, str]] = field(default_factory=list)  # (step text, kind: diagnose|fix)
    dead_ends: list[str] = field(default_factory=list)
    worked: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # symptom lines seen in outputs
    placeholders: dict[str, str] = field(default_factory=dict)  # concrete value -> <kind>
    when: str = ""  # the task with its concrete values replaced

    def fix_steps(self) -> list[str]:
        return [s for s, k in self.steps if k == "fix"]


_ARG_VALUE = [
    (re.compile(r"(?:^|\s)(?:-n|--namespace)[ =]([A-Za-z0-9][\w.-]*)"), "<namespace>"),
    (re.compile(r"(?:^|\s)(?:-h|--host|-H)[ =]([A-Za-z0-9][\w.-]*)"), "<host>"),
    (re.compile(r"\b(?:deploy|deployment|statefulset|sts|svc|service|daemonset|ds|app|job|cronjob)[/=]"
                r"([A-Za-z0-9][\w.-]*)"), "<service>"),
    (re.compile(r"\b(?:node|nodes)[/ ]([A-Za-z0-9][\w.-]*\d[\w.-]*)"), "<node>"),
    (re.compile(r"\bssh ([A-Za-z0-9][\w.-]*)"), "<host>"),
    (re.compile(r"(?:--cert-name|-servername|-connect)[ =]([A-Za-z0-9][\w.-]*?)(?::\d+)?(?=\s|$)"), "<domain>"),
]


def find_placeholders(task: str, commands: list[str] | None = None) -> dict[str, str]:
    """Concrete values named in a task (services, namespaces, hosts...) and a placeholder for each.

    Values are recognised by the words around them in the task ("namespace payments",
    "checkout-api service"), by their shape (hyphenated names, hostnames, IPs), and by the tool
    calls: a task word the agent passed as a namespace, host or deployment is a value too.
    """
    out: dict[str, str] = {}
    task_words = set(re.findall(r"[A-Za-z0-9][\w.-]*[A-Za-z0-9]", task))
    for val, kind in command_values(commands or []).items():
        if val in task_words:
            out.setdefault(val, kind)
    for tok in re.findall(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b", task):
        if not re.fullmatch(r"v?\d+(?:\.\d+)*", tok) and re.search(r"[a-z]", tok):
            out.setdefault(tok, "<host>")
    kinds = "|".join(_KINDS)
    in_calls = " ".join(commands or [])

    def is_value(val: str, kind: str) -> bool:
        low = val.lower()
        if low in _STOP or low in _KINDS or val.isdigit():
            return False
        if re.search(r"[\d._-]", val) or val in in_calls.split() or f"/{val}" in in_calls:
            return True
        return kind in _PLAIN_VALUE_KINDS  # "namespace payments": plain words are values after these

    for m in re.finditer(rf"(?<![\w-])({kinds})s?\s+[`'\"]?({_ID})", task, re.I):
        kind, val = m.group(1).lower(), m.group(2).rstrip(".,:;")
        if is_value(val, kind):
            out.setdefault(val, f"<{_KIND_ALIAS.get(kind, kind)}>")
    for m in re.finditer(rf"[`'\"]?({_ID})[`'\"]?\s+({kinds})(?![\w-])", task, re.I):
        val, kind = m.group(1).rstrip(".,:;"), m.group(2).lower()
        if is_value(val, kind) and re.search(r"[\d._-]", val):
            out.setdefault(val, f"<{_KIND_ALIAS.get(kind, kind)}>")
    for tok in re.findall(rf"`({_ID})`", task):
        out.setdefault(tok, "<name>")
    for tok in re.findall(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b", task):
        # hyphenated names (checkout-api, db-primary-2) are values when the calls use them, when they
        # carry a digit, or when they end like a service name; "read-only" or "ephemeral-storage" are not
        if tok in in_calls or re.search(r"\d", tok) or tok.rsplit("-", 1)[-1] in _NAME_SUFFIXES:
            out.setdefault(tok, "<name>")
    return out


def command_values(commands: list[str]) -> dict[str, str]:
    """Values the tool calls pass in argument positions (``-n payments``, ``deploy/checkout-api``)."""
    out: dict[str, str] = {}
    for cmd in commands:
        for pat, kind in _ARG_VALUE:
            for m in pat.finditer(cmd):
                val = m.group(1)
                if val.lower() not in _STOP and len(val) > 1 and not val.startswith(("<", "-")):
                    out.setdefault(val, kind)
    return out


def templated(text: str, placeholders: dict[str, str]) -> str:
    """``text`` with concrete values replaced by placeholders (longest value first)."""
    for pat, repl in _GENERIC:
        text = pat.sub(repl, text)
    for val in sorted(placeholders, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9_<-]){re.escape(val)}(?![A-Za-z0-9_>])", placeholders[val], text)
    return text


def signature(text: str) -> frozenset[str]:
    """Tokens that identify a step regardless of concrete values, for matching across sessions."""
    m = re.search(r"`([^`]+)`", text)
    core = m.group(1) if m else text
    core = re.sub(r"<[a-z-]+>", " ", core.lower())
    toks = re.findall(r"[a-z_][a-z0-9_.-]*", core)
    return frozenset(t for t in toks if t not in _STOP and len(t) > 1)


def same_step(a: frozenset[str], b: frozenset[str], threshold: float = 0.6) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


def first_line(text: str, pattern: re.Pattern | None = None) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and (pattern is None or pattern.search(line)):
            return line[:NOTE_CHARS] + ("…" if len(line) > NOTE_CHARS else "")
    return ""


def _call_failed(step: ToolStep) -> str | None:
    if not step.answered:
        return "no output came back (abandoned)"
    head = "\n".join(step.output.strip().splitlines()[:2])
    if not head:
        return None
    if _READS_LOGS.search(step.command) and not re.match(r"^(error:|Error from server|.*command not found|"
                                                         r".*no such file|.*unknown flag|.*permission denied)",
                                                         head, re.IGNORECASE):
        return None
    if _CALL_FAILED.match(head):
        return first_line(step.output)
    return None


def is_fix(command: str) -> bool:
    return bool(_MUTATING.search(command))


def analyse(session: Session) -> Analysis:
    """Split the transcript into steps on the path to success, dead ends, and what worked."""
    steps = session.tool_steps()
    ph = find_placeholders(session.task, [st.command for st in steps])
    for value, kind in command_values([st.command for st in steps]).items():
        ph.setdefault(value, kind)  # a namespace or host passed to a tool is an instance value anywhere
    a = Analysis(placeholders=ph, when=redact(templated(session.task.strip(), ph)))
    commentary = session.assistant_texts()
    dead: dict[int, str] = {}
    for st in steps:
        why = _call_failed(st)
        if why:
            dead[st.index] = f"failed: {why}"
    # assistant commentary that says the previous attempt did not help marks the last fix as dead
    for calls_before, text in commentary:
        m = _ABANDONED.search(text)
        if not m or calls_before == 0:
            continue
        prior = [s for s in steps[:calls_before] if s.index not in dead]
        fixes = [s for s in prior if is_fix(s.command)]
        target = fixes[-1] if fixes else (prior[-1] if prior else None)
        if target is not None and not (session.success and target is _last_fix(steps, dead)):
            dead[target.index] = "did not help: " + first_line(text)
    seen: list[frozenset[str]] = []
    kept: list[tuple[str, str, ToolStep]] = []
    for st in steps:
        if st.index in dead:
            continue
        cmd = templated(st.command, ph)
        sig = signature(f"`{cmd}`")
        if any(same_step(sig, s, 0.85) for s in seen):
            continue
        seen.append(sig)
        kind = "fix" if is_fix(st.command) else "diagnose"
        note = first_line(st.output, _SIGNAL) if kind == "diagnose" else ""
        text = f"`{cmd}`" + (f" (look for: {templated(note, ph)})" if note else "")
        kept.append((redact(text), kind, st))
        sig_line = first_line(st.output, _SIGNAL)
        if sig_line and kind == "diagnose":
            a.signals.append(redact(templated(sig_line, ph)))
    if len(kept) > MAX_STEPS:  # long transcripts: keep every fix, then the earliest diagnostics
        fixes = [k for k in kept if k[1] == "fix"]
        room = max(MAX_STEPS - len(fixes), 2)
        diag = [k for k in kept if k[1] == "diagnose"][:room]
        keep_ids = {id(k) for k in fixes + diag}
        kept = [k for k in kept if id(k) in keep_ids]
    a.steps = [(t, k) for t, k, _ in kept]
    for st in steps:
        if st.index in dead:
            a.dead_ends.append(redact(f"`{templated(st.command, ph)}`: {templated(dead[st.index], ph)}"))
    if session.success:
        resolution = (session.summary or "").strip() or first_line(session.final_answer())
        fixes = [t for t, k in a.steps if k == "fix"]
        if resolution:
            a.worked.append(redact(templated(resolution[0].upper() + resolution[1:], ph)
                                   + (f" (via {fixes[-1]})" if fixes else "")))
        elif fixes:
            a.worked.append(fixes[-1])
    return a


def _last_fix(steps: list[ToolStep], dead: dict[int, str]) -> ToolStep | None:
    fixes = [s for s in steps if s.index not in dead and is_fix(s.command)]
    return fixes[-1] if fixes else None


def condensed(session: Session, max_chars: int = 2000) -> str:
    """A short, redacted account of the session: task, calls (with failures marked), outcome."""
    lines = [f"Task: {session.task.strip()}"]
    for st in session.tool_steps():
        why = _call_failed(st)
        out = first_line(st.output, _SIGNAL) or first_line(st.output)
        lines.append(f"- {st.command}" + (f" -> FAILED: {why}" if why else (f" -> {out}" if out else "")))
    final = (session.summary or "") or first_line(session.final_answer())
    lines.append(f"Outcome: {'success' if session.success else 'failure'}" + (f": {final}" if final else ""))
    text = redact("\n".join(lines))
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def query_text(session: Session, max_chars: int = 1000) -> str:
    """What the flow searches the library with: the task, then the condensed transcript."""
    return condensed(session, max_chars)


def content_words(text: str, limit: int) -> list[str]:
    """Distinct meaningful words of ``text`` in order (no stop words, placeholders or kind words)."""
    words = [w for w in re.findall(r"[a-z][a-z0-9]+", re.sub(r"<[a-z-]+>", " ", text.lower()))
             if w not in _STOP and w not in _KINDS and len(w) > 2]
    return list(dict.fromkeys(words))[:limit]
