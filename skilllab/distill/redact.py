"""Redaction of secrets before anything derived from a session is written or sent anywhere.

One rule set, used everywhere (skill files, bundled scripts, index sidecars, ledger reasons, the
queue spool, run folders, LLM prompts) and by ``skilllab audit``. Each rule has a *kind* so an
audit can say what it found without ever printing the value. The rules cover:

* provider key shapes: AWS access key ids, GitHub (``ghp_``, ``github_pat_``...), GitLab
  (``glpat-``), Slack tokens and webhooks, OpenAI / Anthropic (``sk-``), Stripe (``sk_live_``,
  ``rk_live_``, ``whsec_``), Google API keys (``AIza``) and OAuth tokens (``ya29.``), npm, PyPI,
  SendGrid, Twilio, Mailgun, Shopify, DigitalOcean, HashiCorp Vault, Telegram bots, JWTs, PEM
  private keys;
* where secrets sit in commands: ``Authorization: Bearer|Basic|Token``, URL credentials
  (``postgres://user:PASS@``), option values (``-p``/``--password``, ``mysql -pPASS``,
  ``redis-cli -a PASS``, ``curl -u user:PASS``, ``docker login -p``, ``--token``,
  ``--from-literal=key=VALUE``, ``PGPASSWORD=``), connection strings (``AccountKey=``,
  ``Password=``, ``SharedAccessSignature=``, ``sig=``), ``key=``/``token=``/``secret=`` pairs in
  any syntax (``=``, ``:``, JSON), Kubernetes Secret ``data:`` values;
* what looks random: long hex strings and base64-like tokens of mixed case and digits, and
  high-entropy values after ``=`` or ``:``.

A match becomes ``[REDACTED]`` (the key name is kept, so the text still reads). Every pattern is a
single pass without nested or overlapping repetition, and the generic token checks run in Python
on tokens found by a plain character class, so redaction is linear in the size of the text. A
rule whose literals (``AKIA``, ``ghp_``, ``://``...) a text lacks is skipped, and so are the rules
that need a long run of token characters (hex digests, bot tokens, random tokens) on a text with
none: the same result for less work, since most texts hold none of them.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from typing import Any

from .._fold import folded

MASK = "[REDACTED]"

_KEYWORDS = (r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
             r"|client[_-]?secret|auth[_-]?token|credentials?|accountkey|sharedaccesskey|x-api-key|session[_-]?key"
             r"|signing[_-]?key|encryption[_-]?key|db[_-]?pass)")

# (kind, pattern, replacement): replacement groups keep the key name and separators
RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("private_key", re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----[\s\S]{0,20000}?"
                               r"(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----|\Z)"), MASK),
    ("aws_access_key_id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"), MASK),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})"), MASK),
    ("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{16,64}"), MASK),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,200}"), MASK),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{10,200}"), MASK),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{16,200}"), MASK),
    ("stripe_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,200}|\bwhsec_[A-Za-z0-9]{16,200}"), MASK),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), MASK),
    ("google_oauth_token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,500}"), MASK),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}"), MASK),
    ("pypi_token", re.compile(r"\bpypi-[A-Za-z0-9_-]{50,300}"), MASK),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"), MASK),
    ("twilio_key", re.compile(r"\bSK[0-9a-fA-F]{32}\b"), MASK),
    ("mailgun_key", re.compile(r"\bkey-[0-9a-zA-Z]{32}\b"), MASK),
    ("shopify_token", re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"), MASK),
    ("digitalocean_token", re.compile(r"\bdo[pro]_v1_[a-f0-9]{64}"), MASK),
    ("vault_token", re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{20,200}"), MASK),
    ("telegram_bot_token", re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"), MASK),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{8,2000}"), MASK),
    ("auth_header", re.compile(r"(?i)\b(authorization\s*[:=]\s*)?(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,4000}"),
     rf"\1\2\3{MASK}"),
    ("auth_header", re.compile(r"(?i)\b(authorization\s*[:=]\s*)(basic|token|digest)(\s+)[A-Za-z0-9._~+/=-]{8,4000}"),
     rf"\1\2\3{MASK}"),
    ("auth_header", re.compile(r"\b(Basic|Token)(\s+)(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,4000}={0,2}"),
     rf"\1\2{MASK}"),
    ("url_credentials", re.compile(r"(?i)(\b[a-z][a-z0-9+.-]{0,20}://[^\s:/@]{0,200}:)([^\s@/]{1,300})(@)"), rf"\1{MASK}\3"),
    ("connection_string", re.compile(r"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|sig"
                                     r"|client_secret)(=)([^;&\s\"']{4,2000})"), rf"\1\2{MASK}"),
    # the key ends with the keyword (``db.password``, ``client_secret``, ``api_key``, ``secret_key``):
    # ``secretName``, ``token_url`` or ``max_tokens`` name no secret. Anchored on the keyword, not on
    # the start of the key, so the scan costs one try per position, not forty.
    ("keyword_value", re.compile(rf"(?i)({_KEYWORDS}(?:[_-]?(?:key|value|string))?)"
                                 r"(\"?'?\s*[:=]\s*)(?!\[REDACTED\])"
                                 r"(\"[^\"\n]{1,500}\"|'[^'\n]{1,500}'|[^\s,;&\"'\]\)}]{1,500})"), rf"\1\2{MASK}"),
    ("cli_password", re.compile(r"(?i)(?<!\S)(--?(?:password|passwd|token|secret|api-key|auth-token|access-token"
                                r"|client-secret|pass)[ =])(\S{1,500})"), rf"\1{MASK}"),
    ("mysql_password", re.compile(r"(\bmysql(?:dump|admin)?\b[^\n|;&]{0,300}?\s-p)([^\s\-][^\s]{0,200})"), rf"\1{MASK}"),
    ("short_option_password", re.compile(r"(\b(?:docker|podman|helm|skopeo)\s+(?:login|registry\s+login)\b[^\n|;&]{0,300}?"
                                         r"\s-p\s+)(\S{1,500})"), rf"\1{MASK}"),
    ("redis_password", re.compile(r"(\bredis-cli\b[^\n|;&]{0,300}?\s(?:-a|--pass)\s+)(\S{1,500})"), rf"\1{MASK}"),
    ("basic_user_password", re.compile(r"((?:^|\s)(?:-u|--user)\s+['\"]?[^\s:'\"]{1,100}:)([^\s'\"]{1,500})"), rf"\1{MASK}"),
    ("env_password", re.compile(r"\b((?:PGPASSWORD|MYSQL_PWD|REDISCLI_AUTH|PASSWORD|[A-Z_]{0,40}_(?:PASSWORD|TOKEN"
                                r"|SECRET|API_KEY|ACCESS_KEY|SECRET_KEY))=)([^\s;&]{1,500})"), rf"\1{MASK}"),
    ("literal_secret", re.compile(r"(--from-literal=[\w.-]{1,100}=)([^\s'\"]{1,500})"), rf"\1{MASK}"),
    ("long_hex", re.compile(r"\b[A-Fa-f0-9]{32,4096}\b"), MASK),
]

_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,4096}")
_AFTER_ASSIGN = re.compile(r"(?<=[=:])\s?([A-Za-z0-9+/_.~=-]{20,4096})")
_SECRET_BLOCK = re.compile(r"^(\s*)(data|stringData):\s*$")


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _wordy(tok: str) -> bool:
    """An identifier or a path made of words (``tau2-airline-gpt-4o-036``, ``skills/restart-it/SKILL``):
    three or more parts, at least half of them plain words, none long. Random tokens rarely split
    like that (a base64url character is a separator 1 time in 32)."""
    parts = [p for p in re.split(r"[-_./:]+", tok) if p]
    if len(parts) < 3 or max(len(p) for p in parts) > 20:
        return False
    words = sum(len(p) >= 2 and len(p) <= 12 and sum(c.isalpha() for c in p) >= sum(c.isdigit() for c in p)
                and not (any(c.isupper() for c in p) and any(c.islower() for c in p[1:])) for p in parts)
    return bool(words * 2 >= len(parts))


def _random_token(tok: str) -> bool:
    """Base64-like: mixed case and digits, long, not a path or a word with hyphens."""
    core = tok.rstrip("=")
    if len(core) < 32 or core.count("/") > len(core) // 8 or _wordy(core):
        return False
    return (any(c.isdigit() for c in core) and any(c.isupper() for c in core) and any(c.islower() for c in core)
            and _entropy(core) >= 4.0)


def _high_entropy_value(tok: str) -> bool:
    if len(tok) < 20 or tok.startswith("<") or "/" in tok[:1] or re.fullmatch(r"[\d.:-]+", tok):
        return False
    if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", tok) or _wordy(tok):  # a host name, an identifier
        return False
    classes = sum(bool(re.search(p, tok)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[+/_=~-]"))
    return classes >= 3 and _entropy(tok) >= 3.8


def _secret_blocks(text: str) -> str:
    """Values under a Kubernetes Secret's ``data:`` / ``stringData:`` (YAML), line by line."""
    if "data:" not in text and "Data:" not in text:
        return text
    out, indent = [], None
    for line in text.split("\n"):
        m = _SECRET_BLOCK.match(line)
        if m:
            indent = len(m.group(1))
            out.append(line)
            continue
        if indent is not None:
            stripped = len(line) - len(line.lstrip())
            kv = re.match(r"^(\s+[\w.-]+:\s+)(\S.*)$", line)
            if kv and stripped > indent:
                out.append(kv.group(1) + MASK)
                continue
            if line.strip():
                indent = None
        out.append(line)
    return "\n".join(out)


# Case-insensitive scans are the slow part of redaction; the two busiest rules also exist written
# for lower-case text, run on ``text.lower()`` and applied to the original by position (the same
# matches, about ten times faster). Used only when lowering keeps every position (ASCII and most
# text); otherwise the case-insensitive rule runs as written.
_LOWER_SOURCES = {
    "keyword_value": rf"({_KEYWORDS}(?:[_-]?(?:key|value|string))?)(\"?'?\s*[:=]\s*)(?!\[redacted\])"
                     r"(\"[^\"\n]{1,500}\"|'[^'\n]{1,500}'|[^\s,;&\"'\]\)}]{1,500})",
    "auth_header:bearer": r"\b(authorization\s*[:=]\s*)?(bearer)(\s+)[a-z0-9._~+/=-]{8,4000}",
}
# the rule (by its position in RULES) -> its lower-case form
_LOWER = {i: re.compile(_LOWER_SOURCES["auth_header:bearer" if kind == "auth_header" else kind])
          for i, (kind, pattern, _r) in enumerate(RULES)
          if kind == "keyword_value" or (kind == "auth_header" and "(bearer)" in pattern.pattern)}
_GROUP = re.compile(r"\\(\d)")


def _sub_by_position(pattern: re.Pattern[str], repl: str, text: str, low: str) -> str:
    out, last = [], 0
    for m in pattern.finditer(low):
        out.append(text[last:m.start()])
        def group(g: re.Match[str], m: re.Match[str] = m) -> str:
            i = int(g.group(1))
            return text[m.start(i):m.end(i)] if m.group(i) is not None else ""

        out.append(_GROUP.sub(group, repl))
        last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


# What each rule cannot match without: (look in the lower-cased text?, any of these substrings).
# A substring test is one fast C scan; a text with none of a rule's literals skips that rule's
# regular expression, which gives the same result (tests/test_redact.py checks it rule by rule).
_NEEDS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "private_key": (False, ("-----BEGIN ",)),
    "aws_access_key_id": (False, ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")),
    "github_token": (False, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    "gitlab_token": (False, ("glpat-",)),
    "slack_token": (False, ("xox",)),
    "slack_webhook": (False, ("hooks.slack.com/services/",)),
    "openai_key": (False, ("sk-",)),
    "stripe_key": (False, ("_live_", "_test_", "whsec_")),
    "google_api_key": (False, ("AIza",)),
    "google_oauth_token": (False, ("ya29.",)),
    "npm_token": (False, ("npm_",)),
    "pypi_token": (False, ("pypi-",)),
    "sendgrid_key": (False, ("SG.",)),
    "twilio_key": (False, ("SK",)),
    "mailgun_key": (False, ("key-",)),
    "shopify_token": (False, ("shp",)),
    "digitalocean_token": (False, ("_v1_",)),
    "vault_token": (False, ("hvs.", "hvb.", "hvr.")),
    "telegram_bot_token": (False, (":",)),
    "jwt": (False, ("eyJ",)),
    "url_credentials": (False, ("://",)),
    "connection_string": (False, ("=",)),
    "keyword_value": (False, (":", "=")),
    "cli_password": (True, ("pass", "token", "secret", "api-key")),
    "mysql_password": (False, ("mysql",)),
    "short_option_password": (False, ("docker", "podman", "helm", "skopeo")),
    "redis_password": (False, ("redis-cli",)),
    "basic_user_password": (False, ("-u",)),
    "env_password": (False, ("PASSWORD", "MYSQL_PWD", "REDISCLI_AUTH", "_TOKEN", "_SECRET", "_API_KEY", "_ACCESS_KEY")),
    "literal_secret": (False, ("--from-literal=",)),
}
_AUTH_NEEDS = {"(bearer)": (True, ("bearer",)), "(basic|token|digest)": (True, ("authorization",)),
               "(Basic|Token)": (False, ("Basic", "Token"))}
_RULE_NEEDS: list[tuple[bool, tuple[str, ...]] | None] = [
    next((v for k, v in _AUTH_NEEDS.items() if k in pattern.pattern), None) if kind == "auth_header"
    else _NEEDS.get(kind) for kind, pattern, _r in RULES]


# Each literal -> the rules that need it; rules with no literal always run. A text is scanned once
# for each distinct literal, not once a rule. A case-insensitive rule's literal is looked for in the
# text as :func:`skilllab._fold.folded` lowers it, which finds it wherever the rule could match.
_ALWAYS = tuple(i for i, need in enumerate(_RULE_NEEDS) if need is None)
_BY_LITERAL: dict[tuple[bool, str], tuple[int, ...]] = {}
for _i, _need in enumerate(_RULE_NEEDS):
    if _need is not None:
        for _lit in _need[1]:
            _BY_LITERAL[(_need[0], _lit)] = (*_BY_LITERAL.get((_need[0], _lit), ()), _i)
_CASED = tuple((lit, rules) for (folded, lit), rules in _BY_LITERAL.items() if not folded)
_LOWERED = tuple((lit, rules) for (folded, lit), rules in _BY_LITERAL.items() if folded)


def _rules_for(text: str, low: str) -> list[int]:
    """The positions in :data:`RULES` of the rules that could match ``text``, in order (``low``:
    ``text.lower()``). A rule's substitution never makes a literal of a later rule appear (it puts
    the mask, which holds none, between pieces of the text), so one scan before the first rule is
    enough."""
    run = set(_ALWAYS)
    for lit, rules in _CASED:
        if lit in text:
            run.update(rules)
    fold = folded(text, low)
    for lit, rules in _LOWERED:
        if lit in fold:
            run.update(rules)
    return sorted(run)


def redact(text: str, *, prefilter: bool = True) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``. ``prefilter=False`` runs
    every rule's expression even where its literals are absent (the same result, slower).

    Short texts are remembered (the last :data:`MEMO_SIZE` of up to :data:`MEMO_CHARS`
    characters): the same step, command or phrase is redacted again and again as a session is
    distilled, and the result depends on the text alone."""
    if not text:
        return text
    if prefilter and len(text) <= MEMO_CHARS:
        return _redact_short(text)
    return _redact(text, prefilter)


MEMO_SIZE = 2048
MEMO_CHARS = 1024


# Rules that cannot match without a run of 24 or more characters of _TOKEN's alphabet (their whole
# match is such a run, or holds one). A substitution puts the mask, bracketed, between pieces of the
# text, so it never makes a longer run: a text with none (one scan, the one _TOKEN.sub would make)
# skips them and the random-token pass.
_NEED_LONG_RUN = frozenset(i for i, (kind, _p, _r) in enumerate(RULES) if kind in ("long_hex", "telegram_bot_token"))


def _redact(text: str, prefilter: bool = True) -> str:
    low = text.lower()
    same = len(low) == len(text)
    long_run = not prefilter or _TOKEN.search(text) is not None
    for i in (_rules_for(text, low) if prefilter else range(len(RULES))):
        if not long_run and i in _NEED_LONG_RUN:
            continue
        _kind, pattern, repl = RULES[i]
        fast = _LOWER.get(i) if same else None
        if fast is not None:
            new = _sub_by_position(fast, repl, text, low)
            if new is not text:
                text, low = new, new.lower()
                same = len(low) == len(text)
            continue
        new = pattern.sub(repl, text)
        if new != text:
            text, low = new, new.lower()
            same = len(low) == len(text)
    if long_run:
        text = _TOKEN.sub(lambda m: MASK if _random_token(m.group(0)) else m.group(0), text)
    text = _AFTER_ASSIGN.sub(lambda m: MASK if _high_entropy_value(m.group(1)) else m.group(0), text)
    return _secret_blocks(text)


_redact_short = functools.lru_cache(maxsize=MEMO_SIZE)(_redact)


def find_secrets(text: str) -> list[tuple[str, str]]:
    """``(kind, value)`` of everything :func:`redact` would remove (for tests and audits; never print
    the value)."""
    found = []
    for kind, pattern, repl in RULES:
        for m in pattern.finditer(text):
            if m.expand(repl) == m.group(0):
                continue  # already redacted
            kept = [g for g in re.findall(r"\\(\d)", repl)]
            secret = [m.group(i) for i in range(1, (m.lastindex or 0) + 1) if str(i) not in kept and m.group(i)]
            value = secret[0] if secret and kind != "private_key" else m.group(0)
            if MASK not in value:
                found.append((kind, value))
    found += [("random_token", m.group(0)) for m in _TOKEN.finditer(text) if _random_token(m.group(0))]
    found += [("high_entropy_value", m.group(1)) for m in _AFTER_ASSIGN.finditer(text)
              if _high_entropy_value(m.group(1))]
    if _secret_blocks(text) != text:
        found.append(("kubernetes_secret_data", ""))
    return found


_SECRET_KEY = re.compile(rf"(?i)[\w.-]{{0,40}}?{_KEYWORDS}(?:[_-]?(?:key|value|string))?"
                         r"|(?:PGPASSWORD|MYSQL_PWD|REDISCLI_AUTH)")


def secret_key(key: str) -> bool:
    """Whether a key names a secret (``password``, ``db.password``, ``client_secret``, ``api_key``;
    not ``secretName`` or ``max_tokens``)."""
    return bool(_SECRET_KEY.fullmatch(key))


def redact_obj(obj: Any) -> Any:
    """Every string inside a JSON-like object (a session, tool-call arguments, a ledger record)
    redacted; a string value under a key that names a secret (``{"password": "..."}``) is masked
    whole, since the key and the value are separate strings no text rule sees together."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, list):
        return [redact_obj(x) for x in obj]
    if isinstance(obj, dict):
        return {k: MASK if isinstance(v, str) and v and isinstance(k, str) and secret_key(k) else redact_obj(v)
                for k, v in obj.items()}
    return obj
