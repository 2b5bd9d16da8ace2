"""What a tool call did: read, changed something, or handed the work to someone else.

A session's *identity* is its resolution: the calls that changed something and were not undone
or abandoned. Diagnostic reads are shared by whole groups of problems; the write that fixed it
says which problem it was. This module classifies one call and gives it an *action key*, a short
value-free name for "the same action" across sessions:

* a function tool (``cancel_reservation(reservation_id=...)``, ``getUserDetails``) is judged by
  the verb its name starts with; its key is the tool name;
* a command-bearing tool (``shell``, ``bash``, ``kubectl``, ``db_query``...) is judged by the
  command: the program and its sub-command (``kubectl set resources``, ``crictl rmi``), a SQL
  statement's leading keywords, output redirection into a file; its key is those words
  (``kubectl set resources``, ``psql alter system``, ``write server.crt``).

Kinds: ``read`` (looks), ``write`` (changes state: a fix, a booking, a file written) and
``handoff`` (escalates or talks: ``transfer_to_human_agents``, ``notify``), which is not a
resolution: handing a task over does not solve it.

Nothing here is specific to one corpus; the verb lists are ordinary English and common tools.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass
from typing import Any

READ, WRITE, HANDOFF = "read", "write", "handoff"

# Leading verbs of function-tool names.
READ_VERBS = frozenset("""
get list search find lookup look query describe show read fetch view check inspect calculate calc compute
count status think plan reason explain validate verify diff grep cat ls head tail log logs top watch wait ping
trace traceroute dig nslookup test probe peek browse retrieve scan analyze analyse summarize summarise estimate
preview lint parse whoami echo print glob stat tree locate identify lookup resolve_name fetch_url open inspect
review evaluate measure monitor poll can is has exists compare filter sort select count_tokens tokenize ask_user
""".split())
HANDOFF_VERBS = frozenset("""
transfer escalate handoff hand reply respond respond_to say message chat notify ask answer clarify tell inform
greet apologize apologise end finish done final submit_answer page
""".split())
# Programs that only read, whatever their arguments (unless output is redirected into a file).
READ_PROGRAMS = frozenset("""
ls cat less more head tail grep egrep fgrep rg ag find locate ps pgrep top htop free df du uptime whoami id env
printenv which whereis type file stat wc diff cmp md5sum sha256sum sha1sum dig nslookup host ping ping6 traceroute
tracepath mtr curl wget http nc netstat ss lsof ip ifconfig ethtool iperf3 journalctl dmesg echo printf pwd date
hostname uname lsblk blkid findmnt vmstat iostat sar mpstat strace ltrace tcpdump tshark openssl jq yq awk
cut sort uniq tr column xxd hexdump od strings test true false sleep watch man help promtool amtool crane nproc
lscpu lspci lsusb getent timedatectl hostnamectl tree realpath readlink basename dirname seq expr bc
""".split())
# Tools with sub-commands, and which sub-commands only read.
SUBCOMMAND_READS = {
    "kubectl": {"get", "describe", "logs", "top", "explain", "api-resources", "api-versions", "version",
                "cluster-info", "events", "auth", "diff", "wait", "port-forward", "exec"},
    "docker": {"ps", "logs", "inspect", "images", "stats", "top", "version", "info", "history", "events", "port",
               "diff"},
    "git": {"status", "log", "diff", "show", "branch", "blame", "grep", "ls-files", "rev-parse", "describe",
            "remote", "fetch", "shortlog", "reflog", "config"},
    "systemctl": {"status", "show", "list-units", "list-unit-files", "is-active", "is-enabled", "is-failed", "cat"},
    "helm": {"list", "ls", "status", "get", "history", "show", "template", "search", "version", "lint"},
    "crictl": {"ps", "images", "logs", "inspect", "inspecti", "stats", "info", "version", "pods"},
    "aws": set(), "gcloud": set(), "az": set(),  # decided by the action words below
    "terraform": {"plan", "show", "validate", "fmt", "output", "state", "version", "graph"},
    "pip": {"list", "show", "freeze", "check", "search", "download"},
    "npm": {"ls", "list", "view", "info", "outdated", "audit", "search"},
    "apt": {"list", "show", "search", "policy"}, "apt-get": set(),
    "cmctl": {"status", "check", "inspect", "version"},
    "ipsec": {"status", "statusall", "listcerts", "listall"},
    "vtysh": set(), "redis-cli": set(), "psql": set(), "mysql": set(), "sqlite3": set(),
    "amtool": {"alert", "check-config", "config", "template"},
    "etcdctl": {"get", "endpoint", "member", "version", "check"},
}
# Cloud CLI action words that only read (aws ec2 describe-instances, gcloud compute instances list).
_CLOUD_READ = re.compile(r"^(describe|list|get|show|lookup|check|wait|search|view|read|head)(-|$)")
_SQL_READ = re.compile(r"^\s*(select|show|explain|describe|desc|with\s+\w+\s+as\s*\(\s*select|info|get|keys|scan"
                       r"|hgetall|hget|lrange|smembers|zrange|ttl|type|exists|dbsize|ping|config\s+get|slowlog\s+get"
                       r"|client\s+list|memory\s+(?:usage|stats)|\\d|\\l|pragma)\b", re.IGNORECASE)
_SQL_WORDS = re.compile(r"[A-Za-z_]+")
# Verbs that change something, for commands no rule above recognises.
_MUTATING = re.compile(
    r"\b(apply|patch|edit|set|scale|restart|undo|delete|drain|cordon|uncordon|kill|terminate|rotate|renew|create"
    r"|update|upgrade|install|uninstall|rm|rmi|mv|cp|chmod|chown|start|stop|reload|enable|disable|alter|vacuum"
    r"|reindex|grant|revoke|truncate|drop|insert|flush|failover|promote|purge|prune|resize|extend|rollback|revert"
    r"|annotate|label|taint|silence|ack|mute|increase|raise|bump|evict|clear|reset|recreate|mkdir|touch|tee|write"
    r"|add|remove|modify|change|replace|book|cancel|refund|send|issue|assign|exchange|return|toggle|configure"
    r"|register|deploy|commit|push|merge|tag|build|compile|sed|ln|useradd|passwd|mount|umount|format|init|run|cycle"
    r"|exec|execute|call|trigger|schedule|suspend|resume|refuel|activate|deactivate|approve|reject|close|open)\b",
    re.IGNORECASE)
COMMAND_TOOLS = frozenset("""
shell bash sh zsh exec execute run run_command runcommand run_shell_command shell_command terminal cmd command
local_shell container.exec exec_command execute_command bash_tool
""".split())
_PROGRAM_TOOLS = {"kubectl", "docker", "git", "helm", "aws", "gcloud", "az", "terraform", "psql", "mysql",
                  "redis-cli", "systemctl", "db_query", "sql", "query_db", "run_sql", "execute_sql"}
_SQL_TOOLS = {"db_query", "sql", "query_db", "run_sql", "execute_sql", "query", "run_query"}
# Options that take a value, so the value is not mistaken for a sub-command.
_VALUE_OPTS = {"-n", "--namespace", "-l", "--selector", "-o", "--output", "-c", "--container", "--context", "-f",
               "--filename", "-h", "--host", "-H", "-p", "--port", "-U", "--username", "-u", "--user", "-d",
               "--dbname", "-C", "-k", "--kubeconfig", "-i", "--region", "--profile", "-e", "--project", "-t",
               "--since", "--tail", "-q1", "-w", "-W", "--cert-name", "-a", "-s", "-m", "--zone", "-A",
               "--format", "-F", "-X", "--request", "--data", "-D", "--field-selector", "--sort-by", "--timeout",
               "-g", "--resource-group", "--message", "-am"}
_PREFIXES = {"sudo", "time", "nohup", "exec", "env", "command", "nice", "ionice", "timeout", "stdbuf", "xargs"}
_WORD = re.compile(r"^[a-z][a-z0-9_.+-]*$")
_REDIRECT = re.compile(r"(?<![0-9&<>])>>?\s*(?!&|/dev/null)([^\s;&|<>]+)")
_PLACEHOLDER = re.compile(r"<[A-Za-z][\w-]*>")
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


@dataclass(frozen=True)
class Action:
    """One call, classified: ``kind`` is read, write or handoff; ``key`` names the action
    without its values; ``target`` is the file a write produced, when it wrote one."""

    kind: str
    key: str
    target: str = ""


def is_command_tool(tool: str) -> bool:
    """Whether ``tool`` takes a command line (``shell``, ``bash``, ``kubectl``, ``db_query``...)."""
    low = tool.lower()
    return (low in COMMAND_TOOLS or low in _PROGRAM_TOOLS or low in _SQL_TOOLS or low.split(".")[-1] in COMMAND_TOOLS
            or re.search(r"(shell|bash|terminal|exec|command|cmd|sql|kubectl)", low) is not None)


def words_of(name: str) -> list[str]:
    """``cancel_reservation`` / ``getUserDetails`` / ``search-flights`` -> lower-case words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return [w.lower() for w in re.split(r"[\s_.:/-]+", spaced) if w]


def classify_tool(tool: str, arguments: dict[str, Any] | None, command: str | None) -> Action:
    """Classify one call of ``tool`` given its parsed arguments and, for command tools, the command."""
    low = tool.lower()
    if command is not None and (low in COMMAND_TOOLS or low in _PROGRAM_TOOLS or low.split(".")[-1] in COMMAND_TOOLS
                                or low in _SQL_TOOLS):
        if low in _SQL_TOOLS:
            return classify_command(command, sql_tool=True)
        prefix = low if low in _PROGRAM_TOOLS and command.split(" ", 1)[0] != low else ""
        return classify_command(command, program=prefix)
    words = words_of(tool)
    verb = words[0] if words else low
    if verb in HANDOFF_VERBS or (len(words) > 1 and f"{verb}_{words[1]}" in HANDOFF_VERBS):
        return Action(HANDOFF, tool)
    if verb in READ_VERBS:
        return Action(READ, tool)
    if _MUTATING.search(verb) or len(words) > 1:
        return Action(WRITE, tool)
    return Action(READ, tool)  # a bare noun (``weather``, ``calculator``) looks something up


def _tokens(command: str) -> list[str]:
    try:
        return shlex.split(command, posix=True)
    except ValueError:
        return command.split()


def _strip_prefix(tokens: list[str]) -> list[str]:
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", t) or t in _PREFIXES:
            i += 1
        elif t == "ssh" and i + 1 < len(tokens):  # ssh HOST CMD...: the remote command is the action
            j = i + 1
            while j < len(tokens) and tokens[j].startswith("-"):
                j += 2 if tokens[j] in ("-i", "-p", "-l", "-o", "-J", "-F") else 1
            i = j + 1 if j + 1 < len(tokens) else i + 1
            if i >= len(tokens):
                return tokens[-1:]
        else:
            break
    return tokens[i:]


def _first_segment(command: str) -> str:
    """The first command of a pipeline or chain that is not a mere ``cd``/``echo`` of a banner."""
    parts = [p.strip() for p in re.split(r"\s*(?:&&|\|\||;|\n)\s*", command) if p.strip()]
    for p in parts:
        head = p.split()[0] if p.split() else ""
        if head in ("cd", "set", "export", "source", ".") or (head == "echo" and not _REDIRECT.search(p)):
            continue
        return p
    return parts[0] if parts else command


@functools.lru_cache(maxsize=65536)
def classify_command(command: str, *, sql_tool: bool = False, program: str = "") -> Action:
    """Classify a shell command (or a SQL statement given to a database tool). Pure and cached:
    the same command is classified once per process."""
    text = command.strip()
    if program and not text.startswith(program):
        text = f"{program} {text}"
    if sql_tool and not re.match(r"^\s*(psql|mysql|redis-cli|sqlite3|mongo\w*|cqlsh)\b", text):
        return _sql_action(text, "sql")
    target = ""
    plain = _PLACEHOLDER.sub("VALUE", text)  # a runbook's <service> is a value, not a redirection
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", "''", plain.split("<<")[0] if "<<" in plain else plain)
    writes = [m.group(1) for m in _REDIRECT.finditer(unquoted)]
    if writes:
        target = writes[-1].strip("'\"")
    seg = _first_segment(text)
    stages = [p.strip() for p in re.split(r"(?<!\|)\|(?!\|)", seg) if p.strip()]
    feeders = ("echo", "printf", "yes", "true")
    pipeline_head = next((p for p in stages if p.split()[0] not in feeders), stages[0] if stages else seg)
    toks = _strip_prefix(_tokens(pipeline_head))
    if not toks:
        return Action(READ, "", target)
    prog = toks[0].rsplit("/", 1)[-1].lower()
    rest = _subcommand_words(toks[1:])
    if prog in ("psql", "mysql", "redis-cli", "sqlite3", "cqlsh") or prog.startswith("mongo"):
        stmt = _option_value(toks, ("-c", "--command", "-e", "--execute", "--eval")) or " ".join(rest)
        return _sql_action(stmt, prog, target)
    if prog in ("python", "python3", "node", "ruby", "perl", "bash", "sh") and ("<<" in text or " -c " in f" {seg} "
                                                                               or " -e " in f" {seg} "):
        kind = WRITE if (target or _writes_in_script(text)) else READ
        return Action(kind, f"{prog} script" + (f" {_basename(target)}" if target else ""), target)
    if target and prog in ("cat", "echo", "printf", "tee") or (prog == "tee" and rest):
        dest = target or (rest[-1] if rest else "")
        return Action(WRITE, f"write {_basename(dest)}", dest)
    key_words = [prog] + rest[:2]
    if prog in ("aws", "gcloud", "az"):
        action_word = next((w for w in rest if "-" in w or w in ("list", "describe", "create", "delete", "update")),
                           rest[-1] if rest else "")
        key = " ".join([prog] + rest[:1] + ([action_word] if action_word and action_word not in rest[:1] else []))
        kind = READ if _CLOUD_READ.match(action_word) else WRITE
        return Action(WRITE if target else kind, key, target)
    if prog == "ip":
        kind = WRITE if any(w in ("set", "add", "del", "delete", "change", "replace", "flush") for w in rest) else READ
        return Action(WRITE if target else kind, " ".join(key_words), target)
    if prog in ("iptables", "ip6tables", "nft", "ufw", "firewall-cmd"):
        kind = READ if (re.search(r"\s(-L|--list|-S|list|status)\b", f" {seg} ") and
                        not re.search(r"\s(-A|-I|-D|-R|-F|-P|add|delete|allow|deny)\b", f" {seg} ")) else WRITE
        return Action(kind, prog, target)
    if prog in ("vtysh", "bash", "sh", "su", "zsh") and _option_value(toks, ("-c",)):
        cmds = [toks[i + 1] for i, t in enumerate(toks[:-1]) if t == "-c"]
        if prog == "vtysh":
            kind = WRITE if any(c.strip().lower().startswith(("conf", "clear", "write")) for c in cmds) else READ
            return Action(kind, "vtysh " + " ".join(cmds[0].split()[:2]).lower(), target)
        inner = classify_command(cmds[0])
        return Action(WRITE if target else inner.kind, inner.key, inner.target or target)
    if prog in SUBCOMMAND_READS:
        sub = rest[0] if rest else ""
        reads = SUBCOMMAND_READS[prog]
        if prog == "kubectl" and sub == "rollout":
            kind = READ if (rest[1:2] and rest[1] in ("status", "history")) else WRITE
        elif prog == "kubectl" and sub == "config":
            kind = READ if (rest[1:2] and rest[1] in ("view", "get-contexts", "current-context")) else WRITE
        elif reads:
            kind = READ if sub in reads else WRITE
        else:
            kind = WRITE if _MUTATING.search(" ".join(rest[:2])) else READ
        return Action(WRITE if target else kind, " ".join(key_words), target)
    if prog in READ_PROGRAMS:
        if prog == "openssl" and re.search(r"\s-out\s", f" {seg} "):
            return Action(WRITE, " ".join(key_words), _option_value(toks, ("-out",)) or target)
        if prog in ("curl", "wget", "http") and re.search(r"(-X\s*(POST|PUT|PATCH|DELETE)|--request\s+(POST|PUT|PATCH"
                                                             r"|DELETE)|\s-d\s|--data|-o\s+(?!/dev/null)|-O\b)", seg):
            return Action(WRITE, " ".join(key_words[:2]), target)
        if prog == "sed" or (prog == "awk" and "-i" in toks):
            pass
        else:
            return Action(WRITE if target else READ, " ".join(key_words[:2]), target)
    if prog == "sed":
        kind = WRITE if any(t.startswith("-i") for t in toks[1:]) else READ
        return Action(WRITE if target else kind, "sed -i" if kind == WRITE else "sed", target or (toks[-1] if kind
                                                                                                 == WRITE else ""))
    words = [t.lower() for t in toks[1:8] if _WORD.match(t) and not t.startswith("-")]
    kind = WRITE if (target or _MUTATING.search(" ".join([prog] + rest[:2] + words[:5]))) else READ
    return Action(kind, " ".join(key_words), target)


def _writes_in_script(text: str) -> bool:
    return bool(re.search(r"open\([^)]*['\"][wa]b?['\"]|\.write\(|write_text|writeFile|>\s*\S|mkdir|shutil\."
                          r"|os\.(remove|rename|makedirs)|\.to_csv\(|json\.dump\(", text))


_HOSTLIKE = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|internal|local|dev|cloud|example|corp|svc)\b\.?",
                       re.IGNORECASE)


def _basename(path: str) -> str:
    """A written file's name without its folder or an instance host name in it (``<host>.fullchain.pem``)."""
    name = path.rstrip("/").rsplit("/", 1)[-1] or path
    return _HOSTLIKE.sub("<host>.", name).replace("..", ".")


def _option_value(toks: list[str], names: tuple[str, ...]) -> str:
    for i, t in enumerate(toks):
        if t in names and i + 1 < len(toks):
            return toks[i + 1]
        for n in names:
            if n.startswith("--") and t.startswith(n + "="):
                return t.split("=", 1)[1]
    return ""


def _subcommand_words(toks: list[str]) -> list[str]:
    """The leading word tokens after the program (options and their values skipped), up to the
    first token that is a value (a path, a resource/name, a quoted string)."""
    out: list[str] = []
    i = 0
    while i < len(toks) and len(out) < 3:
        t = toks[i]
        if t.startswith("-"):
            i += 2 if (t in _VALUE_OPTS and "=" not in t) else 1
            continue
        if not _WORD.match(t) or re.search(r"[/=.:@]|-\d|\d-|^\d+$", t) or t.startswith("<"):
            break
        out.append(t.lower())
        i += 1
    return out


_SQL_SIDE_EFFECT = re.compile(r"\b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_drop_replication_slot"
                              r"|pg_create_\w+|pg_promote|pg_switch_wal|pg_rotate_logfile|setval|nextval|lo_unlink"
                              r"|pg_advisory_unlock_all)\s*\(", re.IGNORECASE)


def _sql_action(statement: str, prog: str, target: str = "") -> Action:
    stmt = statement.strip().strip("'\"").strip()
    words = [w.lower() for w in _SQL_WORDS.findall(stmt)[:3]]
    head = " ".join(words[:2]) if words else ""
    if not words:
        return Action(WRITE if target else READ, prog, target)
    if _SQL_SIDE_EFFECT.search(stmt):
        return Action(WRITE, f"{prog} {head}", target)
    if _SQL_READ.match(stmt):
        return Action(WRITE if target else READ, f"{prog} {words[0]}" if words else prog, target)
    return Action(WRITE, f"{prog} {head}".strip(), target)


_CALL_FORM = re.compile(r"^([A-Za-z_][\w.-]*)\((.*)\)$", re.DOTALL)


def step_command(step: str) -> str:
    """The command of a runbook step: the first `backticked` part, else the whole text."""
    m = re.search(r"`([^`]+)`", step)
    return (m.group(1) if m else step).strip()


@functools.lru_cache(maxsize=4096)  # the same steps are classified each time a skill is judged; Action is frozen
def step_action(step: str) -> Action:
    """Classify a runbook step as written (``cancel_reservation(reservation_id=<id>)`` or a command)."""
    cmd = step_command(step)
    m = _CALL_FORM.match(cmd)
    if m and " " not in m.group(1):
        return classify_tool(m.group(1), {}, None)
    head = cmd.split(" ", 1)[0] if cmd else ""
    if head and head.lower() in _SQL_TOOLS:
        return classify_tool(head, {}, cmd.split(" ", 1)[1] if " " in cmd else "")
    return classify_command(cmd)
