"""Lower-casing that a literal prefilter can trust for case-insensitive regular expressions.

A search with ``re.IGNORECASE`` for an ASCII literal can be skipped when the lower-cased text
does not hold the literal, but only if lower-casing finds every text the expression would match.
``str.lower`` misses four characters that Python's ``re`` matches to an ASCII letter without
case: ``İ`` (U+0130, lowered to two characters) and ``ı`` (U+0131) match ``i``, ``ſ`` (U+017F)
matches ``s``, and the Kelvin sign (U+212A) matches ``k``. :func:`folded` maps those four to their
letter first, so an ASCII literal that a case-insensitive match needs is always found in it
(tests/test_redact.py checks the table against every code point). :func:`for_folded` goes one
step further: a case-insensitive expression rewritten to run on folded text, which matches there
exactly where the original matches the text.

Real transcripts need it: a quarter of the messages LLM agents write hold a curly quote, an
arrow or a dash, and without it each of those was searched with every expression.
"""

from __future__ import annotations

import re

# every code point above ASCII that ``re.IGNORECASE`` matches to an ASCII letter, and that letter
TO_ASCII = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
_TABLE = str.maketrans(TO_ASCII)


def folded(text: str, low: str | None = None) -> str:
    """``text`` lower-cased for an ASCII-literal prefilter: every ASCII literal that a
    case-insensitive match of ``text`` holds is in it, lower-cased. ``low``: ``text.lower()``
    when the caller has it (the answer for every text without one of the four characters)."""
    if low is None:
        low = text.lower()
    if text.isascii() or not any(ch in text for ch in TO_ASCII):  # a C scan each; translate is per character
        return low
    return text.translate(_TABLE).lower()


def for_folded(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` (case-insensitive, written in ASCII) as a case-sensitive expression for text
    that :func:`folded` lowered. It matches the folded text exactly where ``pattern`` matches the
    text, with the same spans group by group, two to five times faster. That holds because
    folding keeps every position (``str.lower`` changes the length of U+0130 alone, which is
    folded first), keeps what is a word character, a digit or a space, and lowers a character to
    an ASCII letter only when ``re.IGNORECASE`` matches it to that letter (tests/test_redact.py
    checks each against every code point, and compares the two forms on real and generated
    text). Where a miss is cheap and a mistake is not, use it to rule text out and run
    ``pattern`` itself where it matches; where the matches are used, read them from the original
    text by their spans."""
    src = pattern.pattern
    if not src.isascii() or re.search(r"\\[A-Z]", src):
        raise ValueError(f"{src[:40]!r}: only an ASCII expression without upper-case escapes can be lowered")
    return re.compile(src.lower(), pattern.flags & ~re.IGNORECASE)
