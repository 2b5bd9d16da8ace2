"""Runbooks a person would keep: one branch per cause, known branches are routine, noise is not a
step, scripts are files, placeholders only for values, identity by what the session did."""

import pytest
from helpers import session

from skilllab import Library, Skill
from skilllab.distill.actions import classify_command, classify_tool
from skilllab.distill.transcript import analyse
from skilllab.runbook import Runbook
from skilllab.skill import WHAT_DIDNT

TASK = "Pods of {svc} in namespace {ns} are in CrashLoopBackOff"
DIAG = [("kubectl -n {ns} get pods -l app={svc}", "{svc}-7d9f8b6c4-x2k9p   0/1   CrashLoopBackOff   12"),
        ("kubectl -n {ns} logs deploy/{svc} --previous", "{log}")]
CAUSES = {
    "env": ("panic: required environment variable DATABASE_URL is not set",
            [("kubectl -n {ns} set env deploy/{svc} --from=secret/{svc}-env", "deployment.apps/{svc} env updated")],
            "re-referenced the renamed env secret"),
    "db": ("FATAL: could not connect to orders-db:5432: connection timed out",
           [("kubectl -n {ns} apply -f netpol/{svc}-allow-db.yaml", "networkpolicy created")],
           "added an egress rule to the database"),
}
NOISE = [("uptime", "load average: 0.41, 0.52, 0.60"),
         ("aws sts get-caller-identity", "arn:aws:iam::123456789012:user/oncall")]


def crash(sid, cause, svc="checkout-api", ns="payments", day=2, noise=False):
    log, fix, summary = CAUSES[cause]
    calls = ([c for c in NOISE] if noise else []) + [
        (c.format(svc=svc, ns=ns), o.format(svc=svc, log=log)) for c, o in DIAG]
    calls += [(c.format(svc=svc, ns=ns), o.format(svc=svc)) for c, o in fix]
    calls += [(f"kubectl -n {ns} rollout status deploy/{svc}", f'deployment "{svc}" successfully rolled out')]
    return session(sid, TASK.format(svc=svc, ns=ns), calls, summary=summary,
                   started_at=f"2026-03-{day:02d}T03:14:00Z", family=f"crashloop-{cause}")


@pytest.fixture
def agent(tmp_path, minilm):
    return Library(tmp_path / "lib", embedder=minilm).agent("sre-oncall")


def test_one_symptom_two_causes_gives_two_branches_with_signals_and_fixes(agent):
    first = agent.distill(crash("s-1", "env"))
    second = agent.distill(crash("s-2", "db", "cart-service", "shop", day=3))
    assert first.decision == "create"
    assert second.decision == "update" and second.new_branch and second.skill == first.skill, second.reason
    skill = agent.get(first.skill)
    rb = Runbook.of(skill)
    assert len(rb.steps) == 2 and "get pods" in rb.steps[0] and "logs deploy/<service> --previous" in rb.steps[1]
    env, db = rb.branches
    assert "required environment variable" in env.signal and "set env" in env.fix[0]
    assert "could not connect" in db.signal and "apply -f netpol" in db.fix[0]
    assert env.sources == ["s-1"] and db.sources == ["s-2"]
    assert (env.key, db.key) == ("kubectl set env", "kubectl apply")
    assert second.branch == db.id and first.branch == env.id
    assert skill.version == 2 and "added the branch" in skill.section("Changelog")
    skill.validate(require_sections=True)
    # the document reads as a decision procedure: common steps, then one heading per cause
    text = skill.section("Steps")
    assert text.index("### Fix: Re-reference the renamed env secret") < text.index("### Fix: Add an egress rule")
    # a third session of a known branch changes nothing
    third = agent.distill(crash("s-3", "db", "checkout-api", "payments", day=4))
    assert third.decision == "skip" and third.branch == db.id and third.skill == first.skill, third.reason
    assert agent.get(first.skill).version == 2


def test_same_diagnostics_different_fix_is_never_a_skip(agent):
    agent.distill(crash("s-1", "env"))
    # same symptom text and the same diagnostic calls, a different decisive action
    res = agent.distill(crash("s-2", "db", day=3))
    assert res.decision in ("create", "update") and (res.decision == "create" or res.new_branch), res.reason


def test_repeated_session_with_the_same_fix_is_skipped(agent):
    agent.distill(crash("s-1", "env"))
    res = agent.distill(crash("s-2", "env", day=3))
    assert res.decision == "skip" and res.reason.startswith("routine")


def test_noise_calls_are_not_steps_and_secrets_never_show(agent):
    res = agent.distill(crash("s-1", "env", noise=True))
    skill = agent.get(res.skill)
    text = skill.render()
    assert "uptime" not in text and "get-caller-identity" not in text
    assert "[REDACTED]" not in skill.section("Steps")


def test_two_files_get_two_placeholders_and_host_is_not_a_file():
    s = session("s-1", "Serve shop.example.com over TLS with the cert in /app/ssl", [
        ("cat /app/ssl/server.crt /app/ssl/chain.crt > /app/ssl/fullchain.pem", ""),
        ("openssl s_client -connect shop.example.com:443", "Verify return code: 0 (ok)")], summary="built the chain")
    a = analyse(s)
    step = a.fix[0].text
    assert "server.crt" in step and "chain.crt" in step and "fullchain.pem" in step  # files are not values
    assert a.placeholders.get("shop.example.com") in ("<host>", "<domain>")


def test_long_script_is_kept_as_a_file_and_sentinels_and_praise_are_dropped(tmp_path, hashing):
    script = "cat > /app/gen_cert.sh <<'EOF'\n#!/bin/sh\n# make a self-signed certificate\n" + \
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout /app/key.pem -out /app/cert.pem -days 365 \\\n" + \
             "  -subj '/CN=localhost'\nEOF"
    s = session("s-1", "Create a self-signed TLS certificate with OpenSSL for localhost", [
        ('echo "=== checking ===" && ls -la /app', "total 0"),
        (script, ""),
        ("sh /app/gen_cert.sh", "writing new private key to '/app/key.pem'"),
        ("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")],
        final="Excellent! All the requirements have been successfully implemented:\n- cert in /app/cert.pem",
        agent="shell")
    agent = Library(tmp_path / "lib", embedder=hashing).agent("shell")
    res = agent.distill(s)
    assert res.decision == "create", res.reason
    folder = agent.root / "skills" / res.skill
    kept = (folder / "scripts" / "gen-cert.sh").read_text()
    assert "openssl req -x509" in kept and "\n  -subj" in kept  # newlines kept
    skill = agent.get(res.skill)
    steps = " ".join(Runbook.of(skill).all_steps())
    assert "scripts/gen-cert.sh" in steps and "COMPLETE_TASK" not in steps and "=== checking" not in steps
    assert "Excellent" not in skill.section("What worked") and "requirements have been" not in skill.section(
        "What worked")
    assert [v.message.split(":")[0] for v in agent.history(res.skill)] == [f"create {res.skill} from session s-1"]


def test_function_tool_calls_become_steps_with_named_placeholders():
    msgs_calls = [("get_reservation_details", {"reservation_id": "EHGLP3"}, '{"status": "ok", "flights": []}'),
                  ("cancel_reservation", {"reservation_id": "EHGLP3"}, '{"status": "cancelled"}'),
                  ("transfer_to_human_agents", {"summary": "done"}, "Transfer successful")]
    import json

    from skilllab.session import Session

    messages = [{"role": "user", "content": "cancel my trip EHGLP3"}]
    for i, (name, args, out) in enumerate(msgs_calls):
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": out})
    s = Session("t-1", "air", "2026-03-01T00:00:00Z", "You want to cancel reservation EHGLP3.", messages, True)
    a = analyse(s)
    assert a.keys == frozenset({"cancel_reservation"}) and a.handoff  # a handoff is not a fix
    assert a.fix[0].text == "`cancel_reservation(reservation_id=<reservation_id>)`"
    assert a.diagnosis[0].text == "`get_reservation_details(reservation_id=<reservation_id>)`"  # the fixed object


@pytest.mark.parametrize("cmd,kind,key", [
    ("kubectl -n payments get pods -l app=x", "read", "kubectl get pods"),
    ("kubectl -n payments set resources deploy/x --limits=memory=1Gi", "write", "kubectl set resources"),
    ("kubectl -n p rollout status deploy/x", "read", "kubectl rollout status"),
    ("kubectl -n p rollout undo deploy/x", "write", "kubectl rollout undo"),
    ("psql -h db -c 'ALTER SYSTEM SET max_connections = 300'", "write", "psql alter system"),
    ("psql -h db -c 'SELECT count(*) FROM pg_stat_activity'", "read", "psql select"),
    ("ssh worker-17 sudo crictl rmi --prune", "write", "crictl rmi"),
    ("aws route53 change-resource-record-sets --hosted-zone-id Z1", "write", "aws route53 change-resource-record-sets"),
    ("curl -s -o /dev/null -w '%{http_code}' https://x/large", "read", "curl"),
    ("ip link set dev wg0 mtu 1380", "write", "ip link set"),
    ("echo '=== done ==='", "read", "echo"),
])
def test_commands_are_classified_by_what_they_do(cmd, kind, key):
    act = classify_command(cmd)
    assert (act.kind, act.key) == (kind, key)


def test_tool_names_are_classified_by_their_verb():
    assert classify_tool("getUserDetails", {}, None).kind == "read"
    assert classify_tool("book_reservation", {}, None).kind == "write"
    assert classify_tool("transfer_to_human_agents", {}, None).kind == "handoff"
    assert classify_tool("kubectl", {"args": "-n x delete pod y"}, "-n x delete pod y").key == "kubectl delete pod"


def test_hand_written_flat_skill_gains_a_branch_and_keeps_its_steps(agent):
    flat = Skill.new("crashloop-runbook", "Handle pods in CrashLoopBackOff. Use when pods restart in a loop.",
                     agent="sre-oncall", when_to_use="Pods of a service are in CrashLoopBackOff",
                     steps=["`kubectl -n <namespace> get pods -l app=<service>`",
                            "`kubectl -n <namespace> logs deploy/<service> --previous`",
                            "`kubectl -n <namespace> set env deploy/<service> --from=secret/<service>-env`"],
                     worked=["re-referenced the secret"], dead_ends=[], source="s-0", date="2026-03-01")
    agent.write(flat, "hand-written")
    res = agent.distill(crash("s-1", "db", day=3), bar=0.7)
    assert res.decision == "update" and res.new_branch, res.reason
    rb = Runbook.of(agent.get("crashloop-runbook"))
    assert len(rb.steps) == 3 and len(rb.branches) == 1 and rb.branches[0].key == "kubectl apply"
    assert agent.get("crashloop-runbook").items(WHAT_DIDNT) == []


def test_branch_comments_split_as_the_shell_would():
    """A branch's marker comment is read with the shell's word rules: unquoted text is split on
    the shell's white space alone (a no-break space stays inside a word), quoted values keep
    their spaces, and both read exactly as ``shlex`` reads them."""
    import shlex

    from skilllab.runbook import Runbook, _attrs

    for text in ["id=pool-exhausted key=restart:deploy/api", "id=a\tkey=b\u00a0c  extra", 'id="two words" key=x',
                 "id=a\\ b key=c", "id=a #key=b"]:
        want = {k.strip(): v.strip() for k, sep, v in (p.partition("=") for p in shlex.split(text)) if sep}
        assert _attrs(text) == want, text
    assert _attrs("id=a\tkey=b\u00a0c") == {"id": "a", "key": "b\u00a0c"}
    rb = Runbook.parse("### When pool exhausted\n<!-- skilllab:branch id=pool key=\"restart deploy\" -->\n1. `kubectl rollout restart deploy/api`\n")
    assert (rb.branches[0].id, rb.branches[0].key) == ("pool", "restart deploy")


def test_the_literal_prefilter_of_abandoned_attempts_changes_no_answer():
    """Messages that say an attempt did not help are found by an expression that runs only on texts
    holding one of its literals: on every assistant message of the bundled corpus, on each of the
    expression's phrasings in mixed case, with the letters that match without case (ı, İ, ſ, K)
    and beside curly quotes and arrows, and on random mixes of its words, the answer is the
    expression's own."""
    import json
    import random
    import re
    from pathlib import Path

    from skilllab.distill.transcript import _ABANDONED, abandoned

    bundled = Path(__file__).resolve().parents[1] / "datasets" / "sre-sessions.jsonl"
    texts = [m["content"] for line in bundled.read_text().splitlines()
             for m in json.loads(line)["messages"] if m["role"] == "assistant" and m.get("content")]
    phrasings = ["didn't help", "did not fix", "no luck", "Still Failing", "not the culprit", "dead end",
                 "wrong guess", "that was not it", "red herring", "same error", "came back", "made things worse",
                 "had to roll back", "gave up on", "doesn't work", "only masked", "no better",
                 "is still mostly full", "were still there", "UNCHANGED", "filled up again", "failed the same",
                 "the same way", "NO EFFECT"]
    words = sorted({w for p in phrasings for w in re.findall(r"[\w']+", p.lower())} | {"the", "disk", "pod", "it"})
    rng = random.Random(7)
    mixes = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 8))) for _ in range(3000)]
    cased = [f"the restart {''.join(c.upper() if rng.random() < 0.5 else c for c in p)} again" for p in phrasings]
    folds = {"i": "ıİ", "s": "ſ", "k": "\u212a"}
    unicode = [f"It’s → {''.join(rng.choice(folds[c]) if c in folds and rng.random() < 0.5 else c for c in p)} —"
               for p in phrasings] + [f"{m} → ok’" for m in mixes[:500]]
    for t in texts + cased + mixes + unicode:
        assert bool(abandoned(t)) == bool(_ABANDONED.search(t)), t
    assert all(abandoned(t) for t in cased) and sum(bool(abandoned(t)) for t in texts) > 0
    assert all(abandoned(t) for t in unicode[:len(phrasings)])
    assert sum(bool(abandoned(t)) for t in mixes) > 300  # the mixes do reach the expression
    assert abandoned("that was ſtill failing") is not None and abandoned("It’s fixed → healthy") is None


def test_reading_a_calls_output_fast_gives_the_answers_of_the_expressions_line_by_line(monkeypatch):
    """A call's symptom line and whether it failed are ruled out on the folded text first: on every
    tool output of the bundled corpus, on single-line JSON, camelCase symptoms, letters that match
    without case and line separators, the answers are those the expressions give line by line as
    written (the same functions with the folded forms switched off)."""
    import json
    import random
    import re
    from pathlib import Path

    import skilllab.distill.transcript as T

    bundled = Path(__file__).resolve().parents[1] / "datasets" / "sre-sessions.jsonl"
    calls = []
    for line in bundled.read_text().splitlines():
        msgs = json.loads(line)["messages"]
        cmds = {c["id"]: c["function"]["arguments"] for m in msgs for c in m.get("tool_calls") or []}
        calls += [(m["content"], cmds.get(m.get("tool_call_id"), "")) for m in msgs
                  if m["role"] == "tool" and isinstance(m.get("content"), str)]
    rng = random.Random(5)
    pieces = ["DiskPressure", "CrashLoopBackOff", "ERROR: quota exceeded", "Permıssion Denied", "status: Pendıng",
              '{"status": "active", "balance": 550}', "exit code: 2", "tımed out", "ok", "→ fine", "İD 5", "uſage: x",
              "Traceback (most recent call last)", "returned non-zero", "all good", "HTTP 503", "oomKilled"]
    for _ in range(2000):
        sep = rng.choice(["\n", " ", "\u2028", "\x1c", "\r\n", "  \n  "])
        calls.append((sep.join(rng.choice(pieces) for _ in range(rng.randint(1, 5))),
                      rng.choice(["kubectl logs x", "get_user_details", "systemctl restart y"])))

    def answers():  # uncached: each call read afresh
        return [(T._first_line.__wrapped__(out, T._SIGNAL), T._output_failed.__wrapped__(out, cmd))
                for out, cmd in calls]

    fast = answers()
    everything = re.compile("")  # a folded form that rules nothing out: every line is read
    monkeypatch.setattr(T, "_SIGNAL_FOLDED", everything)
    monkeypatch.setattr(T, "_CALL_FAILED_FOLDED", everything)
    as_written = answers()
    for (output, _), got, want in zip(calls, fast, as_written):
        assert got == want, output[:80]
    assert sum(bool(s) for s, _ in as_written) > 500 and sum(f is not None for _, f in as_written) > 100


def test_the_extractive_distiller_reads_a_session_once_and_never_answers_for_another(monkeypatch):
    """The distiller lists a session's calls once for its search queries and its analysis, and
    analyses it once; another session object, even one with the same id (a session retried with
    other content), is read afresh, never answered from what was kept of the first."""
    from skilllab.distill.extractive import ExtractiveDistiller
    from skilllab.session import Session

    listed = []
    real = Session.tool_steps
    monkeypatch.setattr(Session, "tool_steps", lambda self: listed.append(self.session_id) or real(self))
    d = ExtractiveDistiller()
    first = session("s-1", "payments-api pods crash", [("kubectl -n payments get pods", "CrashLoopBackOff"),
                                                        ("kubectl -n payments rollout restart deploy/payments-api",
                                                         "restarted")])
    queries = d.search_queries(first)
    branch = d.resolution_branch(first)
    assert d.analysis(first) is d.analysis(first) and listed == ["s-1"]
    assert "rollout restart" in queries[1] and branch is not None
    other = session("s-1", "disk full on db-1", [("df -h /var/lib/postgresql", "100% used"),
                                                 ("rm /var/lib/postgresql/old.log", "")])
    assert d.resolution_branch(other) != branch and "df -h" in d.search_queries(other)[1]
    assert listed == ["s-1", "s-1"]
