import pytest

from skilllab.distill.redact import MASK, redact

SECRETS = [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123456", "eyJhbGciOiJIUzI1NiJ9"),
    ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA"),
    ("psql postgres://app:hunter2@db.internal:5432/orders", "hunter2"),
    ("mysql --password=Sup3rS3cret -h db", "Sup3rS3cret"),
    ("DB_PASSWORD: 'correct horse battery'", "correct horse"),
    ("api_key=abcd1234efgh5678", "abcd1234efgh5678"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghij"),
    ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
    ("key sk-proj-abcdefghijklmnopqrstuv", "sk-proj-abcdefghij"),
    ("digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081884c7d65"),
    ("blob dGhpc0lzQVZlcnlMb25nU2VjcmV0VmFsdWUxMjM0NTY3OA==", "dGhpc0lzQVZlcnlMb25nU2VjcmV0"),
]


@pytest.mark.parametrize("text,secret", SECRETS)
def test_common_secret_shapes_are_removed(text, secret):
    out = redact(text)
    assert secret not in out and MASK in out


@pytest.mark.parametrize("text", [
    "kubectl -n payments logs deploy/checkout-api --previous",
    "kubectl -n payments get secret checkout-db -o yaml",
    "SELECT state, count(*) FROM pg_stat_activity GROUP BY state;",
    "raise memory limit from 512Mi to 1Gi",
    "openssl s_client -connect shop.example.com:443",
])
def test_ordinary_runbook_text_is_kept(text):
    assert redact(text) == text


def test_the_lower_case_fast_path_redacts_exactly_like_the_rules_as_written():
    import json

    from skilllab.distill import redact as R
    from skilllab.lab.corpus_gen.secrets import planted_corpus

    def as_written(text):
        for _kind, pattern, repl in R.RULES:
            text = pattern.sub(repl, text)
        text = R._TOKEN.sub(lambda m: R.MASK if R._random_token(m.group(0)) else m.group(0), text)
        text = R._AFTER_ASSIGN.sub(lambda m: R.MASK if R._high_entropy_value(m.group(1)) else m.group(0), text)
        return R._secret_blocks(text)

    sessions, _ = planted_corpus(3)
    texts = [json.dumps(s) for s in sessions] + [
        "Authorization: BEARER abcdefghijkl123", 'PASSWORD: "Hello World"', "Api_Key=XYZ123abc",
        "İstanbul password=abcdef and token: Zx81Kq0LmNvB72hHsd0Q1a9P", "authorization = Bearer x.y.z-123456789"]
    assert len(R._LOWER) == 2
    for t in texts:
        assert R.redact(t) == as_written(t), t[:80]
    assert "Hello World" not in R.redact('PASSWORD: "Hello World"')


def test_skipping_rules_whose_literals_are_absent_changes_nothing():
    """The literal prefilter is only a shortcut: with and without it, every text redacts the same
    (the planted-secret corpus message by message, the bundled corpus, every shape above, and
    case folds that lower() does not know, for which the case-insensitive rules always run)."""
    import json
    from pathlib import Path

    from skilllab.distill import redact as R
    from skilllab.lab.corpus_gen.secrets import planted_corpus

    def texts_of(session):
        yield session["task"]
        for m in session["messages"]:
            if isinstance(m.get("content"), str):
                yield m["content"]
            for c in m.get("tool_calls") or []:
                yield c["function"]["arguments"]

    sessions, _ = planted_corpus(3)
    bundled = Path(__file__).resolve().parents[1] / "datasets" / "sre-sessions.jsonl"
    sessions += [json.loads(line) for line in bundled.read_text().splitlines()[:150]]
    texts = [t for s in sessions for t in texts_of(s)] + [t for t, _ in SECRETS] + [
        "paſſword=hunter2isgood", "Authorization: Bearer abcdefgh1234 İ", "my KEY-abcdefghijklmnopqrstuvwxyz012345",
        # case folds that lower() does not know, in the literals of the case-insensitive rules
        "AUTHORİZATION: Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==", "authorızation: token abcdefgh12345678",
        "run it with --toKen s3cr3tvalue → done", "then --ſecret hunter2isgood — it worked",
        "curl -H 'Authorization: Bearer abcdefgh12345678' → 200 ’ok’", "It’s fixed → the pods are healthy",
        # long runs (hex digests, bot tokens) beside short ones and separators the token alphabet lacks
        "sha 9f86d081884c7d659a2feaa0c55ad015 and id 12345", "bot 123456789:AAH2kq9LmNvB72hHsd0Q1a9PzXcVbNmQwEr ok",
        "short.runs.only:abc-123_def=ghi/jkl+mno", "x" * 23 + " " + "y" * 23, "[REDACTED]" * 5 + "a1" * 5]
    changed = 0
    for t in texts:
        fast = R.redact(t)
        assert fast == R.redact(t, prefilter=False), t[:80]
        changed += fast != t
    assert changed >= 50  # the comparison covers texts that do hold secrets
    assert MASK in R.redact("paſſword=hunter2isgood")
    for t in ("AUTHORİZATION: Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==", "run it with --toKen s3cr3tvalue → done",
              "then --ſecret hunter2isgood — it worked"):
        assert MASK in R.redact(t), t
    # a text that is not ASCII but holds no literal of a case-insensitive rule skips those rules
    folded_rules = {i for _, rules in R._LOWERED for i in rules}
    calm = "It’s fixed → the pods are healthy"
    assert not folded_rules & set(R._rules_for(calm, calm.lower()))


def test_the_fold_table_is_every_character_that_matches_an_ascii_letter_without_case():
    """The prefilters trust :func:`skilllab._fold.folded` to hold every ASCII literal that a
    case-insensitive expression could match: checked against every code point this Python's
    ``re`` knows."""
    import re
    import sys

    from skilllab._fold import TO_ASCII, folded

    letter = re.compile("[a-z]", re.IGNORECASE)
    found = {chr(cp): chr(cp).lower() for cp in range(128, sys.maxunicode + 1) if letter.fullmatch(chr(cp))}
    assert set(found) == set(TO_ASCII)
    for ch, to in TO_ASCII.items():
        assert re.fullmatch(to, ch, re.IGNORECASE) and folded(f"x{ch}y") == f"x{to}y"
    assert folded("PAſſWORD → İD") == "password → id" and folded("MIXED Case") == "mixed case"
    # what for_folded relies on: lowering keeps every position but U+0130's (folded first), keeps
    # word characters, digits and spaces what they are, and gives an ASCII character only where
    # re.IGNORECASE matches one
    classes = [re.compile(p) for p in (r"\w", r"\d", r"\s")]
    longer, changed, to_ascii = [], [], []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        low = ch.lower()
        if len(low) != 1:
            longer.append(ch)
        elif any(bool(c.match(ch)) != bool(c.match(low)) for c in classes):
            changed.append(ch)
        if cp > 127 and any(ord(x) < 128 for x in low):
            to_ascii.append(ch)
    assert longer == ["\u0130"] and changed == [] and set(to_ascii) <= set(TO_ASCII)
    assert all(len(folded(t)) == len(t) for t in ("İstanbul", "ſ K ı", "plain"))


def test_an_expression_for_folded_text_matches_wherever_its_original_does():
    """for_folded is a fast way to rule text out: on real tool outputs (the bundled corpus), on every
    word of the expressions in mixed case, with letters that match without case (ı, İ, ſ, K),
    camelCase and line separators, it matches the folded text exactly when the original matches
    the text; an expression it cannot lower is refused."""
    import json
    import random
    import re
    from pathlib import Path

    import pytest

    from skilllab._fold import folded, for_folded
    from skilllab.distill.transcript import _CALL_FAILED, _CAMEL, _SIGNAL

    bundled = Path(__file__).resolve().parents[1] / "datasets" / "sre-sessions.jsonl"
    texts = [m["content"] for line in bundled.read_text().splitlines()[:300] for m in json.loads(line)["messages"]
             if m["role"] == "tool" and isinstance(m.get("content"), str)]
    rng = random.Random(11)
    words = re.findall(r"[a-z][a-z ]+[a-z]", _SIGNAL.pattern + "|" + _CALL_FAILED.pattern.lower())
    folds = {"i": "ıİI", "s": "ſS", "k": "\u212aK"}
    def noisy(w):
        return "".join(rng.choice(folds[c]) if c in folds and rng.random() < 0.4 else
                       (c.upper() if rng.random() < 0.3 else c) for c in w)
    for _ in range(3000):
        parts = [rng.choice(["pod", "Disk", "ok", "→", "’", "İ", "x1", "= 5", "exit code: 3", ":"])
                 if rng.random() < 0.5 else noisy(rng.choice(words)) for _ in range(rng.randint(1, 6))]
        texts.append(rng.choice([" ", "", "\n", "\u2028", "\x1c", "_"]).join(parts))
    for pattern in (_SIGNAL, _CALL_FAILED):
        fast = for_folded(pattern)
        hits = 0
        for t in texts:
            for variant in (t, _CAMEL.sub(" ", t)):
                want = bool(pattern.search(variant))
                assert bool(fast.search(folded(variant))) == want, (pattern.pattern[:20], variant[:80])
                assert bool(fast.match(folded(variant))) == bool(pattern.match(variant)), variant[:80]
                hits += want
        assert hits > 500  # the comparison reaches matching texts, not only misses
    # where the matches themselves are used, the form for folded text finds the same ones, at
    # the same places, group by group (find_placeholders reads each from the task by its span)
    from skilllab.distill.transcript import _KIND_THEN_VALUE, _KINDS, _VALUE_THEN_KIND

    tasks = [json.loads(line)["task"] for line in bundled.read_text().splitlines()]
    for _ in range(2000):
        parts = [noisy(rng.choice(_KINDS)) if rng.random() < 0.4 else
                 rng.choice(["payments", "Checkout-API", "`db-1`", "'orders'", "ıd-7", "İnfra", "→", "the", "s"])
                 for _ in range(rng.randint(2, 7))]
        tasks.append(rng.choice([" ", "  ", "\t", "-", "\n"]).join(parts))
    spans = lambda ms: [(m.span(), m.span(1), m.span(2)) for m in ms]  # noqa: E731
    found = 0
    for pattern in (_KIND_THEN_VALUE, _VALUE_THEN_KIND):
        fast = for_folded(pattern)
        for t in tasks:
            want = spans(pattern.finditer(t))
            assert spans(fast.finditer(folded(t))) == want, t[:80]
            found += len(want)
    assert found > 1000
    with pytest.raises(ValueError):
        for_folded(re.compile(r"\Bkey", re.IGNORECASE))


def test_short_texts_are_remembered_and_redact_the_same():
    """A short text is redacted once and then looked up (the same step or phrase comes back many
    times as sessions are distilled); the answer is the one the rules give, and a long text is
    never held."""
    from skilllab.distill import redact as R

    R._redact_short.cache_clear()
    text = "psql postgres://app:hunter2isgood@db:5432/app -c 'select 1'"
    first = R.redact(text)
    assert first == R._redact(text) and "hunter2isgood" not in first
    assert R.redact(text) == first
    info = R._redact_short.cache_info()
    assert (info.hits, info.misses, info.maxsize) == (1, 1, R.MEMO_SIZE)
    long = "token=" + "Zx81Kq0LmNvB72hHsd0Q1a9P " * 60  # over MEMO_CHARS
    assert len(long) > R.MEMO_CHARS and MASK in R.redact(long)
    assert R._redact_short.cache_info().currsize == 1
