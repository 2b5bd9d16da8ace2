"""Redaction of secrets before anything from a transcript reaches a skill file or an LLM.

Covers the common shapes: bearer tokens, AWS access key ids and secret keys, private key blocks,
passwords in URLs, ``password=...``-style pairs (also ``token``, ``secret``, ``api_key``),
provider tokens (GitHub, Slack, OpenAI-style ``sk-``), JWTs, and long hex or base64 strings.
Each match becomes ``[REDACTED]``, keeping the key name so the runbook still reads well.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_RULES: list[tuple[re.Pattern, str]] = [
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
     MASK),
    (re.compile(r"(?i)\b(bearer|token|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
                r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}|glpat-[A-Za-z0-9_-]{16,})"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)", re.IGNORECASE), rf"\1{MASK}\3"),
    (re.compile(r"""(?ix)
        (\b[\w.-]*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key
                   |client[_-]?secret)[\w.-]*)
        (["']?\s*[:=]\s*)(?!\[REDACTED\])
        ("[^"\n]*"|'[^'\n]*'|[^\s,;&"'\]\)}]+)"""), rf"\1\2{MASK}"),
    (re.compile(r"(?i)(?<!\S)(--?(?:password|passwd|token|secret|api-key)[ =])(\S+)"), rf"\1{MASK}"),
    (re.compile(r"\b[A-Fa-f0-9]{32,}\b"), MASK),
    (re.compile(r"(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/_-]*[0-9])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*[a-z])"
                r"[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])"), MASK),
]


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``."""
    if not text:
        return text
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text


def find_secrets(text: str) -> list[str]:
    """The substrings :func:`redact` would remove (for tests and audits)."""
    found = []
    for pattern, _ in _RULES:
        found += [m.group(0) for m in pattern.finditer(text)]
    return found
