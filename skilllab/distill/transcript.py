"""Reading a transcript the way an engineer would: what was checked, what fixed it, what did not.

Used by the extractive distiller (to write runbooks), by the LLM distiller (to condense long
transcripts into its prompt) and by the flow (to build the dedup query). Everything here is
deterministic text processing; nothing calls a model.

:func:`analyse` splits a session's calls (see :mod:`skilllab.distill.actions` for read / write /
handoff) into:

* **fix**: the writes that worked, in order (a write that failed, or that the agent said did not
  help, is a dead end instead; of near-identical attempts at the same write the last is kept);
  their action keys are the session's *resolution*, its identity;
* **diagnosis**: the reads that earned their place: an output line that names a symptom, an
  output whose values the agent used later (in a call or its answer), or a look at the very
  object the fix then changed. Other reads (credential probes, ``uptime``, listings nobody used,
  re-checks and sentinels) are *noise* and never become steps;
* **verify**: the first read after the fix that looks at what was fixed;
* **dead ends**: failed calls and abandoned fixes, with the reason;
* the **signal**: the symptom line seen last before the first fix (what identifies the cause).

Values that belong to one incident (namespaces, services, hosts, ids, a tool argument that is an
identifier) become placeholders (``<namespace>``, ``<reservation_id>``); two different values
of one kind get two placeholders (``<host>``, ``<host-2>``). A multi-line script or heredoc is
kept whole as a file (``scripts/NAME``) instead of a flattened step. All text is redacted, and
each call's output is read only up to :data:`MAX_OUTPUT` characters, so huge transcripts cost
bounded time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from .._fold import folded, for_folded
from ..names import slugify
from ..session import Session, ToolStep
from .actions import HANDOFF, READ, WRITE, classify_command, words_of
from .redact import MASK, redact

MAX_STEPS = 12
NOTE_CHARS = 140
MAX_OUTPUT = 20_000  # characters of a call's output that are read
MAX_STEP_CHARS = 300  # a longer command is kept as a script file
MAX_TASK_CHARS = 20_000

# Outputs whose first lines say the call itself failed (not that it read an error message).
_CALL_FAILED = re.compile(
    r"^(?:error\b|err!|fatal\b|failed\b|failure\b|Error from server|.*command not found|.*permission denied|.*access denied"
    r"|.*forbidden|.*unauthorized|.*no such file or directory|.*connection refused|.*timed? ?out\b"
    r"|.*could not connect|.*unable to connect|.*unknown (?:flag|command|option|shorthand)|.*invalid argument"
    r"|.*(?:exit|return) (?:code|status)[: =]+[1-9]\d*|.*returned non-zero|Traceback \(most recent call last\)"
    r"|.*syntax error|usage: )", re.IGNORECASE)
_CALL_FAILED_FOLDED = for_folded(_CALL_FAILED)  # rules text out fast: a text it does not match, _CALL_FAILED does not
_MISSING_INSTANCE = re.compile(r"\b(not found|does not exist|no such|unknown (?:user|id|reservation|order))\b", re.I)
# Read-only calls whose output is expected to contain the symptom's error text.
_READS_LOGS = re.compile(r"\b(logs?|journalctl|tail|cat|grep|less|head|events|describe|dmesg)\b", re.IGNORECASE)
# The assistant saying the previous attempt did not help.
_ABANDONED = re.compile(
    r"(did(?:n'?t| not) (?:help|work|fix|change|resolve|solve)|no (?:effect|change|improvement|luck|difference)"
    r"|still (?:failing|crashing|down|broken|erroring|high|the same|timing out|not|fails|restarting|evicting|lagging)"
    r"|not the (?:cause|issue|problem|culprit)|dead end|wrong (?:track|guess|direction)|that was not it"
    r"|red herring|same error|came back|made (?:it|things) worse|had to (?:revert|roll back)|gave up on"
    r"|does(?:n'?t| not) (?:help|work|fix)|only (?:hid|delayed|helped for|masked|tidied|moved)|no better"
    r"|(?:was|is|are|were) still (?:\w+ ){0,2}(?:full|there|present|high|low|down|failing|broken|unreachable|slow)"
    r"|unchanged|filled up again|failed the same|the same way)", re.IGNORECASE)
# Every alternative of _ABANDONED holds one of these (lower case): a text whose folded form holds none
# of them cannot match it, and is not searched (the expression costs about 0.1 ms a message of 2,000 chars).
_ABANDONED_NEEDS = (
    "didn", "did not", "no effect", "no change", "no improvement", "no luck", "no difference", "still ",
    "not the cause", "not the issue", "not the problem", "not the culprit", "dead end", "wrong track",
    "wrong guess", "wrong direction", "that was not it", "red herring", "same error", "came back", "made it worse",
    "made things worse", "had to revert", "had to roll back", "gave up on", "doesn", "does not", "only hid",
    "only delayed", "only helped for", "only masked", "only tidied", "only moved", "no better", "unchanged",
    "filled up again", "failed the same", "the same way")


_ABANDONED_FOLDED = for_folded(_ABANDONED)


def abandoned(text: str) -> re.Match[str] | None:
    """Where ``text`` says the previous attempt did not help (:data:`_ABANDONED`), if it does. The
    expression runs only when :func:`~skilllab._fold.folded` ``text`` holds one of its literals and
    its form for folded text (:func:`~skilllab._fold.for_folded`) matches there."""
    low = folded(text)
    if not any(need in low for need in _ABANDONED_NEEDS) or not _ABANDONED_FOLDED.search(low):
        return None
    return _ABANDONED.search(text)


_SIGNAL = re.compile(
    r"\b(errors?|exception|panic|fatal|fail\w*|denied|refused|timeout|timed out|oomkilled|crashloop\w*|evict\w*"
    r"|expir\w*|too many|exhaust\w*|not found|unreachable|unavailable|lag|full|pressure|backoff|nxdomain|5\d\d"
    r"|killed|throttl\w*|saturat\w*|leak\w*|stale|stuck|deadlock\w*|corrupt\w*|invalid|unhealthy|degraded"
    r"|conflict\w*|mismatch\w*|missing|exceed\w*|overload\w*|bloat\w*|drop\w*|loss|down|not ready|pending)\b",
    re.IGNORECASE)
_SELF_PRAISE = re.compile(r"^\s*(excellent|perfect|great|awesome|done|success|all set|fantastic|wonderful|good news)"
                          r"[!.,:]*\s*", re.IGNORECASE)
_GENERIC_DONE = re.compile(r"^(all (?:the )?(?:requirements|tasks?|steps?|changes?) (?:have been|are|were) "
                           r"(?:successfully )?(?:implemented|completed|done|met)|the task (?:is|has been) "
                           r"(?:complete|completed|done)|i(?:'ve| have) (?:completed|finished|done))", re.IGNORECASE)

_KINDS = ("namespace", "service", "svc", "deployment", "deploy", "pod", "node", "host", "database", "db",
          "cluster", "topic", "queue", "bucket", "table", "job", "cronjob", "statefulset", "replica",
          "instance", "domain", "hostname", "zone", "region", "user", "volume", "disk", "ingress", "secret",
          "configmap", "app", "application", "endpoint", "consumer", "group", "index", "shard", "vm", "server")
_KIND_ALIAS = {"svc": "service", "deploy": "deployment", "db": "database", "app": "service",
               "application": "service", "hostname": "host", "vm": "host", "server": "host"}
_ID = r"[A-Za-z0-9][A-Za-z0-9_.:/-]*"
# "namespace payments" and "payments namespace" (case-insensitive). Run in the form for folded text
# (skilllab._fold.for_folded): it matches there exactly where these match the text, at the same
# places, several times faster on a long task (tests/test_redact.py compares the two).
_KIND_THEN_VALUE = re.compile(rf"(?<![\w-])({'|'.join(_KINDS)})s?\s+[`'\"]?({_ID})", re.IGNORECASE)
_VALUE_THEN_KIND = re.compile(rf"[`'\"]?({_ID})[`'\"]?\s+({'|'.join(_KINDS)})(?![\w-])", re.IGNORECASE)
_KIND_THEN_VALUE_FOLDED, _VALUE_THEN_KIND_FOLDED = for_folded(_KIND_THEN_VALUE), for_folded(_VALUE_THEN_KIND)
_PLAIN_VALUE_KINDS = {"namespace", "cluster", "topic", "queue", "bucket", "table", "zone", "region"}
_NAME_SUFFIXES = {"api", "service", "svc", "db", "pg", "sql", "worker", "redis", "cache", "gateway", "engine",
                  "sync", "indexer", "profile", "app", "web", "proxy", "job", "cron", "queue", "broker", "server",
                  "primary", "replica", "master", "node", "pool", "cluster", "frontend", "backend"}
_FILE_EXT = re.compile(r"\.(?:py|sh|bash|txt|md|json|ya?ml|toml|ini|cfg|conf|pem|crt|key|csr|der|p12|pfx|log|csv|tsv"
                       r"|sql|js|ts|go|rs|c|h|cpp|java|rb|php|html|css|xml|env|lock|gz|tar|zip|db|sqlite|out|err"
                       r"|service|timer|socket|rules|ovpn|jks)$", re.IGNORECASE)
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
where see seems seem started start now today still want wants trying try make sure
""".split())
_ID_KEYS = re.compile(r"(^|_)(id|ids|name|names|email|phone|number|code|key|token|user|username|account|address"
                      r"|date|time|ref|reference|host|url|path|file|ip|order|reservation|customer|ticket)s?$",
                      re.IGNORECASE)


@dataclass
class Step:
    """One call kept as a runbook step."""

    index: int
    kind: str  # read, write or handoff
    key: str  # the value-free action key
    text: str  # the step as written in the runbook
    signal: str = ""  # the symptom line its output showed
    target: str = ""
    script: tuple[str, str] | None = None  # (file name, content) of a long script the call carried


@dataclass
class Analysis:
    """What a session did, in runbook terms."""

    diagnosis: list[Step] = field(default_factory=list)
    fix: list[Step] = field(default_factory=list)
    verify: list[Step] = field(default_factory=list)
    noise: list[Step] = field(default_factory=list)
    dead_ends: list[str] = field(default_factory=list)
    worked: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # symptom lines seen in outputs
    signal: str = ""  # the symptom line seen last before the first fix
    placeholders: dict[str, str] = field(default_factory=dict)  # concrete value -> <kind>
    when: str = ""  # the task with its concrete values replaced
    handoff: bool = False  # the agent handed the task over (transfer, escalation)
    calls: int = 0
    title: str = ""  # the fix in words (from the session's summary when it says what was done)

    @property
    def keys(self) -> frozenset[str]:
        """The resolution: action keys of the writes that worked (empty: nothing was changed)."""
        return frozenset(s.key for s in self.fix)

    @property
    def steps(self) -> list[tuple[str, str]]:
        """Every kept step as (text, diagnose|fix), in order."""
        return [(s.text, "diagnose") for s in self.diagnosis] + [(s.text, "fix") for s in self.fix] + \
            [(s.text, "diagnose") for s in self.verify]

    def fix_steps(self) -> list[str]:
        return [s.text for s in self.fix]

    def copy(self) -> Analysis:
        """A copy whose lists and placeholders the caller may change. The steps are shared: once
        :func:`analyse` has made them, nothing changes a step (the distiller re-reads an analysis
        it keeps per session, and changes only its copy)."""
        return replace(self, diagnosis=list(self.diagnosis), fix=list(self.fix), verify=list(self.verify),
                       noise=list(self.noise), dead_ends=list(self.dead_ends), worked=list(self.worked),
                       signals=list(self.signals), placeholders=dict(self.placeholders))

    def scripts(self) -> dict[str, str]:
        return {s.script[0]: s.script[1] for s in self.diagnosis + self.fix + self.verify if s.script}


# ---- placeholders -------------------------------------------------------------------------------
_ARG_VALUE = [
    (re.compile(r"(?:^|\s)(?:-n|--namespace)[ =]([A-Za-z0-9][\w.-]*)"), "<namespace>"),
    (re.compile(r"(?:^|\s)(?:-h|--host|-H)[ =]([A-Za-z0-9][\w.-]*)"), "<host>"),
    (re.compile(r"\b(?:deploy|deployment|statefulset|sts|svc|service|daemonset|ds|app|job|cronjob)[/=]"
                r"([A-Za-z0-9][\w.-]*)"), "<service>"),
    (re.compile(r"\b(?:node|nodes)[/ ]([A-Za-z0-9][\w.-]*\d[\w.-]*)"), "<node>"),
    (re.compile(r"\bssh ([A-Za-z0-9][\w.-]*)"), "<host>"),
    (re.compile(r"(?:--cert-name|-servername|-connect)[ =]([A-Za-z0-9][\w.-]*?)(?::\d+)?(?=\s|$)"), "<domain>"),
]


def _is_host(tok: str) -> bool:
    return (not re.fullmatch(r"v?\d+(?:\.\d+)*", tok) and re.search(r"[a-z]", tok) is not None
            and not _FILE_EXT.search(tok) and "." in tok)


def find_placeholders(task: str, commands: list[str] | None = None) -> dict[str, str]:
    """Concrete values named in a task (services, namespaces, hosts...) and a placeholder for each.

    Values are recognised by the words around them in the task ("namespace payments",
    "checkout-api service"), by their shape (hyphenated names, host names, IPs; file names are
    not hosts), and by the tool calls: a task word the agent passed as a namespace, host or
    deployment is a value too.
    """
    task = task[:MAX_TASK_CHARS]
    out: dict[str, str] = {}
    task_words = set(re.findall(r"[A-Za-z0-9][\w.-]*[A-Za-z0-9]", task))
    for val, kind in command_values(commands or []).items():
        if val in task_words:
            out.setdefault(val, kind)
    for tok in re.findall(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b", task):
        if _is_host(tok):
            out.setdefault(tok, "<host>")
    in_calls = " ".join(commands or [])[:MAX_TASK_CHARS]
    low = folded(task)  # the same positions: each match is read from the task by its span

    def is_value(val: str, kind: str) -> bool:
        low = val.lower()
        if low in _STOP or low in _KINDS or val.isdigit():
            return False
        if re.search(r"[\d._-]", val) or val in in_calls.split() or f"/{val}" in in_calls:
            return True
        return kind in _PLAIN_VALUE_KINDS  # "namespace payments": plain words are values after these

    for m in _KIND_THEN_VALUE_FOLDED.finditer(low):
        kind, val = task[m.start(1):m.end(1)].lower(), task[m.start(2):m.end(2)].rstrip(".,:;")
        if is_value(val, kind):
            out.setdefault(val, f"<{_KIND_ALIAS.get(kind, kind)}>")
    for m in _VALUE_THEN_KIND_FOLDED.finditer(low):
        val, kind = task[m.start(1):m.end(1)].rstrip(".,:;"), task[m.start(2):m.end(2)].lower()
        if is_value(val, kind) and re.search(r"[\d._-]", val):
            out.setdefault(val, f"<{_KIND_ALIAS.get(kind, kind)}>")
    for tok in re.findall(rf"`({_ID})`", task):
        if not _FILE_EXT.search(tok) and "/" not in tok:
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
        cmd = cmd[:MAX_TASK_CHARS]
        for val, kind in (_values_in(cmd) if len(cmd) <= _REMEMBERED_COMMAND else _values_in.__wrapped__(cmd)):
            out.setdefault(val, kind)
    return out


_REMEMBERED_COMMAND = 2000  # characters: a longer command is not kept by _values_in


@lru_cache(maxsize=1024)  # a command is read for the placeholders and for its own values, and recurs
def _values_in(cmd: str) -> tuple[tuple[str, str], ...]:
    """The ``(value, kind)`` pairs of one command, in the order :func:`command_values` meets them."""
    out = []
    for pat, kind in _ARG_VALUE:
        for m in pat.finditer(cmd):
            val = m.group(1)
            if val.lower() not in _STOP and len(val) > 1 and not val.startswith(("<", "-")):
                out.append((val, kind))
    return tuple(out)


def number_placeholders(placeholders: dict[str, str]) -> dict[str, str]:
    """Give two different values of one kind two placeholders (``<host>``, ``<host-2>``)."""
    seen: dict[str, int] = {}
    out = {}
    for val, kind in placeholders.items():
        n = seen.get(kind, 0) + 1
        seen[kind] = n
        out[val] = kind if n == 1 else f"{kind[:-1]}-{n}>"
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
    core = re.sub(r"<[a-z][a-z0-9_-]*>", " ", core.lower())
    toks = re.findall(r"[a-z_][a-z0-9_.-]*", core)
    return frozenset(t for t in toks if t not in _STOP and len(t) > 1)


def same_step(a: frozenset[str], b: frozenset[str], threshold: float = 0.6) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SIGNAL_FOLDED = for_folded(_SIGNAL)


def first_line(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """The first non-empty line of ``text`` (matching ``pattern``, read with camelCase split so
    ``DiskPressure`` and ``CrashLoopBackOff`` name their symptom), cut to a note's length."""
    return _first_line(text[:MAX_OUTPUT], pattern)


@lru_cache(maxsize=256)  # a call's output is read by the analysis and again by the condensed account
def _first_line(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is _SIGNAL and not (_SIGNAL_FOLDED.search(folded(text))
                                   or _SIGNAL_FOLDED.search(folded(_CAMEL.sub(" ", text)))):
        # no line can match: a match of _SIGNAL never spans a line break (its words and spaces are
        # no line separator), and neither the whole text nor its camelCase split matches
        return ""
    for line in text.splitlines():
        line = line.strip()
        if line and (pattern is None or pattern.search(line) or pattern.search(_CAMEL.sub(" ", line))):
            return line[:NOTE_CHARS] + ("…" if len(line) > NOTE_CHARS else "")
    return ""


def _call_failed(step: ToolStep) -> str | None:
    if not step.answered:
        return "no output came back (abandoned)"
    return _output_failed(step.output[:MAX_OUTPUT], step.command[:500])


@lru_cache(maxsize=256)  # asked by the analysis and again by the condensed account
def _output_failed(output: str, command: str) -> str | None:
    """What says a call failed, from the start of its output (and whether it reads logs)."""
    head = "\n".join(output[:2000].strip().splitlines()[:2])
    if not head:
        return None
    if _READS_LOGS.search(command) and not re.match(
            r"^(error:|Error from server|.*command not found|.*no such file|.*unknown flag|.*permission denied)",
            head, re.IGNORECASE):
        return None
    if _CALL_FAILED_FOLDED.match(folded(head)) and _CALL_FAILED.match(head):
        return first_line(output)
    return None


def is_fix(command: str) -> bool:
    return classify_command(command).kind == WRITE


# ---- rendering one call as a step -------------------------------------------------------------------
def _value_placeholder(key: str, value: Any, task: str) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (list, dict)) and not value:
        return None
    return f"<{re.sub(r'[^A-Za-z0-9_-]', '_', key)}>"


def function_step(tool: str, args: dict[str, Any] | None, task: str) -> str:
    """``name(key=<key>, ...)``: every argument value becomes a placeholder named after its argument
    (an airport, a cabin class, an id: each varies from one session to the next); flags
    (true/false/null) stay."""
    if not args:
        return f"{tool}()"
    parts = []
    for k, v in args.items():
        ph = _value_placeholder(str(k), v, task)
        parts.append(f"{k}={ph}" if ph else f"{k}={json.dumps(v, ensure_ascii=False)}")
    text = f"{tool}({', '.join(parts)})"
    return text if len(text) <= MAX_STEP_CHARS else text[: MAX_STEP_CHARS - 2] + "…)"


def _script_of(st: ToolStep, key: str, target: str) -> tuple[str, str, str] | None:
    """(file name, content, step text) when the call carries a long or multi-line script."""
    raw = st.raw if st.raw is not None else ""
    if not raw or ("\n" not in raw.strip() and len(raw) <= MAX_STEP_CHARS):
        return None
    heredoc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?[^\n]*\n(.*?)\n\s*\1\s*$", raw, re.DOTALL | re.MULTILINE)
    interp = raw.split(None, 1)[0].rsplit("/", 1)[-1] if raw.split() else "sh"
    if heredoc and target:
        base = target.rsplit("/", 1)[-1]
        m = re.search(r"\.[A-Za-z0-9]{1,5}$", base)
        name = slugify(base[: m.start()] if m else base, max_len=40)
        return f"{name}{m.group(0) if m else '.txt'}", heredoc.group(2) + "\n", f"`{target}`"
    python = interp.startswith("python")
    body = heredoc.group(2) if heredoc else raw
    if python and not heredoc:
        m = re.search(r"-c\s+(['\"])(.*)\1\s*$", raw, re.DOTALL)
        body = m.group(2) if m else raw
    name = slugify(key or interp, max_len=40)
    ext = ".py" if python else ".sh"
    return f"{name}{ext}", body.rstrip("\n") + "\n", ""


def render_step(st: ToolStep, kind: str, key: str, target: str, placeholders: dict[str, str],
                task: str) -> tuple[str, tuple[str, str] | None]:
    """The runbook text of one call, and a script file when it carried one."""
    if st.raw is None and st.args is not None:
        return f"`{templated(function_step(st.tool, st.args, task), placeholders)}`", None
    script = _script_of(st, key, target)
    if script:
        name, content, shown = script
        if shown:  # a file written through a heredoc: the file is kept, the step says where
            return f"Write `{templated(target, placeholders)}` (content kept as `scripts/{name}`)", \
                (name, redact(content))
        run = "python3" if name.endswith(".py") else "bash"
        what = _script_purpose(content)
        return f"`{run} scripts/{name}`" + (f" ({what})" if what else ""), (name, redact(content))
    cmd = " ".join(st.command[:2000].split())
    cmd = templated(cmd, placeholders)
    if len(cmd) > MAX_STEP_CHARS - 60 and st.raw:  # too long to read as a step: kept whole as a file
        name = slugify(key or st.tool, max_len=40) + ".sh"
        return f"`bash scripts/{name}`", (name, redact(st.raw.rstrip("\n") + "\n"))
    if len(cmd) > MAX_STEP_CHARS - 60:
        cmd = cmd[: MAX_STEP_CHARS - 61] + "…"
    return f"`{cmd}`", None


def _script_purpose(content: str) -> str:
    for line in content.splitlines()[:10]:
        s = line.strip()
        m = re.match(r"^(?:#|//|\"\"\"|''')\s*(.+?)(?:\"\"\"|''')?$", s)
        if m and not s.startswith("#!") and len(m.group(1)) > 8:
            return m.group(1)[:100]
    writes = re.findall(r"open\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"][wa]", content)
    return f"writes {', '.join(dict.fromkeys(writes))[:100]}" if writes else ""


# ---- the analysis ---------------------------------------------------------------------------------
def _tokens(text: str) -> set[str]:
    out = set()
    for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{2,}", text[:MAX_OUTPUT]):
        t = t.lower().rstrip(".,:;/-")
        if t and t not in _STOP and not t.isdigit():
            out.add(t)
    return out


def _values(st: ToolStep) -> set[str]:
    """The instance values a call works on (its identifier-like arguments)."""
    if st.args:
        out = set()
        for k, v in st.args.items():
            if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v) and (_ID_KEYS.search(str(k))
                                                                                     or re.search(r"\d", str(v))):
                if st.raw is None or k not in ("cmd", "command", "args"):
                    out.add(str(v).lower())
        if st.raw is None:
            return out
    cmd = (st.raw or st.command)[:2000]
    vals = set(command_values([cmd]).keys())
    vals |= {m.group(0) for m in re.finditer(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b", cmd)}
    vals |= {t for t in re.findall(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b", cmd) if _is_host(t)}
    return {v.lower() for v in vals}


def analyse(session: Session, steps: list[ToolStep] | None = None) -> Analysis:
    """Split the transcript into diagnosis, fix, verification, dead ends and noise (see the module).
    ``steps``: ``session.tool_steps()`` when the caller has them."""
    steps = session.tool_steps() if steps is None else steps
    task = session.task[:MAX_TASK_CHARS]
    cmds = [st.command[:2000] for st in steps]
    ph = find_placeholders(task, cmds)
    for value, kind in command_values(cmds).items():
        ph.setdefault(value, kind)  # a namespace or host passed to a tool is an instance value anywhere
    ph = number_placeholders(ph)
    a = Analysis(placeholders=ph, when=redact(templated(task.strip(), ph)), calls=len(steps))
    acts = [st.action for st in steps]
    dead: dict[int, str] = {}
    for st, act in zip(steps, acts):
        why = _call_failed(st)
        if why and not (act.kind == READ and _MISSING_INSTANCE.search(why)):
            dead[st.index] = f"failed: {why}"
        elif why:
            dead[st.index] = ""  # a lookup of a wrong id: not a step, not worth a dead end
    commentary = session.assistant_texts()
    for calls_before, text in commentary:
        if calls_before == 0 or not abandoned(text[:2000]):
            continue
        prior = [s for s in steps[:calls_before] if s.index not in dead]
        fixes = [s for s in prior if acts[s.index].kind == WRITE]
        target = fixes[-1] if fixes else None
        if target is not None and not (session.success and target is _last_write(steps, acts, dead)):
            dead[target.index] = "did not help: " + first_line(text)
    a.handoff = any(act.kind == HANDOFF and st.index not in dead for st, act in zip(steps, acts))
    later_text = (session.summary or "") + "\n" + session.final_answer()[:MAX_OUTPUT]
    task_tokens = _tokens(task)
    # the fix: writes that worked; of repeated attempts at the same write keep the last
    writes = [st for st, act in zip(steps, acts) if act.kind == WRITE and st.index not in dead]
    last_of: dict[tuple[str, str], ToolStep] = {}
    for st in writes:
        last_of[(acts[st.index].key, acts[st.index].target)] = st
    fix_calls = [st for st in writes if last_of[(acts[st.index].key, acts[st.index].target)] is st]
    fix_idx = {st.index for st in fix_calls}
    fix_values = set().union(*(_values(st) for st in fix_calls)) if fix_calls else set()
    first_fix = fix_calls[0].index if fix_calls else len(steps)
    # the tokens every later call and the answer use, to tell a read whose output was used
    later_tokens: list[set[str]] = [set()] * len(steps)
    acc = _tokens(later_text)
    for i in range(len(steps) - 1, -1, -1):
        later_tokens[i] = acc
        acc = acc | _tokens(cmds[i])
    seen_sigs: list[frozenset[str]] = []
    for st, act in zip(steps, acts):
        if st.index in dead or act.kind == HANDOFF:
            continue
        text, script = render_step(st, act.kind, act.key, act.target, ph, task)
        text = redact(text)
        if MASK in text:
            if act.kind == READ:
                continue  # a look that only showed a credential is not a step
            text = text.replace(MASK, "<secret>")
        out_signal = first_line(st.output, _SIGNAL) if act.kind == READ else ""
        step = Step(st.index, act.kind, act.key, text, redact(templated(out_signal, ph)) if out_signal else "",
                    act.target, script)
        if act.kind == WRITE:
            if st.index in fix_idx:
                a.fix.append(step)
            continue
        sig = signature(text)
        if any(same_step(sig, s, 0.85) for s in seen_sigs):
            a.noise.append(step)  # a re-check of something already looked at
            continue
        if st.index > first_fix:
            if not a.verify and (_values(st) & fix_values or out_signal):
                step.text = text + (f" (look for: {step.signal})" if step.signal else "")
                a.verify.append(step)
                seen_sigs.append(sig)
            else:
                a.noise.append(step)
            continue
        out_tokens = {t for t in _tokens(st.output) - task_tokens - _tokens(st.command)
                      if len(t) > 3 and not re.fullmatch(r"[\d.,:%/-]+", t)}
        later = later_tokens[st.index]
        used_later = bool(out_tokens & later)
        on_fixed_object = bool(_values(st) & fix_values - {v for v, k in ph.items() if k == "<namespace>"})
        if out_signal or used_later or on_fixed_object:
            if out_signal:
                a.signals.append(step.signal)
                a.signal = step.signal
                step.text = text + f" (look for: {step.signal})"
            a.diagnosis.append(step)
            seen_sigs.append(sig)
        else:
            a.noise.append(step)
    if not a.diagnosis and not a.fix:
        # nothing else earned a place: the reads of what the task itself names are the procedure
        task_values = {v.lower() for v in ph if len(v) > 2}
        for step in list(a.noise):
            st = steps[step.index]
            if _values(st) & task_values or any(v in st.command.lower() for v in task_values):
                a.diagnosis.append(step)
                a.noise.remove(step)
    if len(a.diagnosis) > MAX_STEPS:  # long transcripts: the reads closest to the fix matter most
        keep = {id(s) for s in a.diagnosis if s.signal} | {id(s) for s in a.diagnosis[-MAX_STEPS:]}
        a.diagnosis = [s for s in a.diagnosis if id(s) in keep][-MAX_STEPS:]
    for st, act in zip(steps, acts):
        if dead.get(st.index):
            text, _ = render_step(st, act.kind, act.key, act.target, ph, task)
            a.dead_ends.append(redact(f"{text}: {templated(dead[st.index], ph)}").replace(MASK, "<secret>"))
    a.dead_ends = list(dict.fromkeys(a.dead_ends))
    a.title = fix_title(session.summary or "", ph) if session.success else ""
    if session.success:
        a.worked = [w for w in [_worked(session, a, ph)] if w]
    return a


def _last_write(steps: Any, acts: Any, dead: Any) -> ToolStep | None:
    writes = [s for s in steps if s.index not in dead and acts[s.index].kind == WRITE]
    return writes[-1] if writes else None


def _substantive(text: str) -> str:
    """The first sentence of ``text`` that says something (not self-praise, not "all done")."""
    text = _SELF_PRAISE.sub("", text.strip())
    for sent in re.split(r"(?<=[.!?])\s+|\n+", text):
        s = _SELF_PRAISE.sub("", sent.strip()).strip(" *#-:")
        if len(s) > 12 and not _GENERIC_DONE.match(s) and not s.endswith(":"):
            return s[:300]
    return ""


def _worked(session: Session, a: Analysis, ph: dict[str, str]) -> str:
    fix = a.fix[-1].text if a.fix else ""
    said = _substantive(session.summary or "") or _substantive(session.final_answer()[:4000])
    if said:
        said = redact(templated(said[0].upper() + said[1:], ph)).rstrip(".")
        return said + (f" (via {fix})" if fix and fix not in said else "")
    if fix:
        return f"Resolved with {fix}"
    return ""


_IRREGULAR = {"set": "set", "rebuilt": "rebuild", "ran": "run", "took": "take", "made": "make", "put": "put",
              "reset": "reset", "cut": "cut", "sent": "send", "rolled": "roll", "found": "find", "added": "add",
              "pointed": "point", "restarted": "restart", "reverted": "revert", "deleted": "delete",
              "created": "create", "updated": "update", "upgraded": "upgrade", "rotated": "rotate",
              "truncated": "truncate", "removed": "remove", "increased": "increase", "raised": "raise",
              "pruned": "prune", "restored": "restore", "renewed": "renew", "fixed": "fix", "killed": "kill",
              "scaled": "scale", "patched": "patch", "applied": "apply", "moved": "move", "cleared": "clear",
              "replaced": "replace", "resized": "resize", "rewrote": "rewrite", "wrote": "write",
              "terminated": "terminate", "cancelled": "cancel", "canceled": "cancel", "booked": "book",
              "changed": "change", "modified": "modify", "disabled": "disable", "enabled": "enable",
              "dropped": "drop", "bumped": "bump", "sized": "size", "re-referenced": "re-reference",
              "silenced": "silence", "cordoned": "cordon", "drained": "drain", "failed": "fail",
              "promoted": "promote", "vacuumed": "vacuum", "reindexed": "reindex", "tuned": "tune"}


def _base_verb(word: str) -> str:
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ed") and len(w) > 4:
        stem = w[:-2]
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "ls":
            return stem[:-1]  # stopped -> stop
        if re.search(r"(?:^|[^aeiou])[aeiou][^aeiouwxy]$", stem) and len(stem) <= 4:
            return stem + "e"  # timed -> time, tuned -> tune
        if re.search(r"(?:at|iz|is|ur|or|ov|ag|ic|ac|uc|ad|rg|rc|ns|ps)$", stem):
            return stem + "e"  # created, resized, raised, restored, removed, changed, reduced, purged
        return stem
    return w


def fix_title(summary: str, ph: dict[str, str]) -> str:
    """The fix as a short imperative phrase from a summary ("raised the memory limit from 512Mi
    to 1Gi" -> "raise the memory limit"), or "" when the summary does not say what was done."""
    said = _substantive(summary)
    if not said:
        return ""
    for clause in re.split(r"[;,:]|\s[-–—]\s|\b(?:after|because|since|so that|which|when|and then|then|and)\b",
                           said):
        words = clause.strip().split()
        if len(words) < 2 or not _is_verb(words[0]):
            continue  # a statement of the cause ("the env secret had been renamed"), not of what was done
        if words[1].lower() in ("it", "them", "this", "that", "these", "those", "everything", "things"):
            continue  # "re-referenced it": says nothing without the sentence before
        words[0] = _base_verb(words[0])
        cut: list[str] = []
        for w in words:
            if w.lower() in ("from", "to", "by", "with", "using", "via", "on", "in", "at", "for") and len(cut) >= 2:
                break
            cut.append(w)
        return redact(templated(" ".join(cut[:7]), ph))
    return ""


_BASE_VERBS = frozenset(_IRREGULAR.values()) | {"roll", "point", "raise", "prune", "drain", "rotate", "renew", "bump",
                                                "scale", "patch", "restart", "revert", "rebuild", "resize", "silence"}


def _is_verb(word: str) -> bool:
    w = word.lower().strip("*_`")
    return w in _IRREGULAR or w in _BASE_VERBS or (w.endswith("ed") and len(w) > 4 and w.isalpha())


_PROGRAMS = {"kubectl", "docker", "git", "helm", "systemctl", "aws", "gcloud", "az", "terraform", "psql", "mysql",
             "redis-cli", "sql", "crictl", "cmctl", "vtysh", "ipsec", "ipmitool", "amtool", "gh", "npm", "pip", "ip"}


def title_from_keys(keys: Any, handoff: bool = False) -> str:
    """A readable title for a resolution without a summary: its actions in words."""
    if not keys:
        return "No change: hand the case to a person" if handoff else "No change needed"
    parts = []
    for k in sorted(keys):
        words = words_of(k) if " " not in k else k.split()
        if len(words) > 1 and words[0] in _PROGRAMS:
            words = words[1:]  # "kubectl rollout undo" reads as "rollout undo"
        parts.append(" ".join(w for w in words if not w.startswith("<")))
    text = " and ".join(parts)
    return text[0].upper() + text[1:] if text else "Fix"


def condensed(session: Session, max_chars: int = 2000, steps: list[ToolStep] | None = None) -> str:
    """A short, redacted account of the session: task, calls (with failures marked), outcome.
    ``steps``: ``session.tool_steps()`` when the caller has them.

    Work is bounded by ``max_chars``: the text is built until it is full, then cut, and only
    then redacted, so a 50 MB transcript costs no more than a small one.
    """
    lines = [f"Task: {session.task.strip()[:max_chars]}"]
    used = len(lines[0])
    for st in session.tool_steps() if steps is None else steps:
        if used > max_chars:
            break
        why = _call_failed(st)
        out = first_line(st.output, _SIGNAL) or first_line(st.output)
        line = f"- {st.command[:400]}" + (f" -> FAILED: {why}" if why else (f" -> {out}" if out else ""))
        lines.append(line)
        used += len(line) + 1
    final = (session.summary or "")[:500] or first_line(session.final_answer()[:4000])
    lines.append(f"Outcome: {'success' if session.success else 'failure'}" + (f": {final}" if final else ""))
    text = "\n".join(lines)
    text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    return redact(text)


def query_text(session: Session, max_chars: int = 1000, steps: list[ToolStep] | None = None) -> str:
    """What the flow searches the library with: the task, then the condensed transcript."""
    return condensed(session, max_chars, steps)


def content_words(text: str, limit: int) -> list[str]:
    """Distinct meaningful words of ``text`` in order (no stop words, placeholders or kind words)."""
    words = [w for w in re.findall(r"[a-z][a-z0-9]+", re.sub(r"<[a-z][a-z0-9_-]*>", " ", text.lower()))
             if w not in _STOP and w not in _KINDS and len(w) > 2]
    return list(dict.fromkeys(words))[:limit]


def symptom_words(text: str, limit: int = 2) -> list[str]:
    """Words of ``text`` that name a symptom (OOMKilled, evicted, expired, timeout...)."""
    out = []
    for m in _SIGNAL.finditer(re.sub(r"<[a-z][a-z0-9_-]*>", " ", text)):
        w = re.sub(r"[^a-z0-9]", "", m.group(0).lower())
        if w and w not in out and w not in ("error", "errors", "fail", "failed", "failure", "down", "full"):
            out.append(w)
    return out[:limit]
