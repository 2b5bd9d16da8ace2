"""The distillation flow with the extractive distiller, real MiniLM, real files and git."""

import json

import pytest
from helpers import CRASHLOOP_CALLS, CRASHLOOP_NOTES, session

from skilllab import Library
from skilllab.distill import Decision, distill_session
from skilllab.skill import WHAT_DIDNT

FIX = "pointed the secret reference at the renamed secret"


def crashloop(sid, service="checkout-api", ns="payments", day=2, notes=CRASHLOOP_NOTES, extra=()):
    calls = [(c.replace("payments", ns).replace("checkout-api", service), o.replace("checkout-api", service))
             for c, o in CRASHLOOP_CALLS]
    calls = calls[:3] + list(extra) + calls[3:]
    return session(sid, f"Pods of {service} in namespace {ns} are in CrashLoopBackOff", calls, notes=notes,
                   summary=FIX, started_at=f"2026-03-{day:02d}T03:14:00Z", family="crashloop-missing-config")


DISK = [("kubectl describe node ip-10-0-3-4", "Conditions: DiskPressure True"),
        ("df -h /var/lib/containerd", "/dev/nvme0n1  100G  97G  3G  97% /var/lib/containerd"),
        ("crictl rmi --prune", "Deleted 41 images, reclaimed 38GB")]


@pytest.fixture
def agent(tmp_path, minilm):
    return Library(tmp_path / "lib", embedder=minilm).agent("sre-oncall")


def test_novel_session_creates_a_skill(agent):
    res = agent.distill(crashloop("s-1"))
    assert res.decision == "create" and res.novelty == 1.0
    skill = agent.get(res.skill)
    assert skill.sources == ["s-1"] and skill.version == 1
    assert "CrashLoopBackOff" in skill.description
    steps = " ".join(skill.items("Steps"))
    assert "logs deploy/<service> --previous" in steps and "payments" not in steps  # values are templated
    assert any("delete pod" in d and "did not help" in d for d in skill.items(WHAT_DIDNT))
    assert FIX in skill.section("What worked").lower()
    skill.validate(require_sections=True)
    hist = agent.history(res.skill)
    assert [v.message for v in hist] == [f"create {res.skill} from session s-1: no similar skill in the library"]


def test_same_cause_with_a_new_dead_end_updates_in_place(agent):
    first = agent.distill(crashloop("s-1"))
    extra = [("kubectl -n shop get secrets", "cart-db-v2   Opaque   1   2d"),  # a look nobody used: noise
             ("kubectl -n shop rollout restart deploy/cart-service", "deployment.apps/cart-service restarted")]
    res = agent.distill(crashloop("s-2", "cart-service", "shop", day=3, notes={4: "Restarting did not help."},
                                  extra=extra))
    assert res.decision == "update" and res.skill == first.skill and not res.new_branch, res.reason
    assert len(agent) == 1
    skill = agent.get(first.skill)
    assert skill.version == 2 and skill.sources == ["s-1", "s-2"]
    assert not any("get secrets" in s for s in skill.items("Steps"))
    assert any("rollout restart" in d and "did not help" in d for d in skill.items(WHAT_DIDNT))
    assert [v.version for v in agent.history(first.skill)] == [1, 2]
    assert "v2: added 1 dead end (session s-2)" in skill.section("Changelog")


def test_routine_repeat_is_skipped(agent):
    first = agent.distill(crashloop("s-1"))
    res = agent.distill(crashloop("s-9", "checkout-api", "payments", day=9, notes={}))
    assert res.decision == "skip" and res.skill == first.skill and res.reason.startswith("routine")
    assert agent.get(first.skill).version == 1 and len(agent.history(first.skill)) == 1


def test_different_problem_creates_second_skill(agent):
    agent.distill(crashloop("s-1"))
    res = agent.distill(session("s-2", "Node ip-10-0-3-4 is under DiskPressure and evicting pods", DISK,
                                summary="pruned unused container images", started_at="2026-03-04T00:00:00Z"))
    assert res.decision == "create" and len(agent) == 2
    assert res.novelty >= 0.4


def test_failed_session_never_creates(agent):
    res = agent.distill(session("s-1", "Pods of a in namespace b are in CrashLoopBackOff", CRASHLOOP_CALLS,
                                success=False))
    assert res.decision == "gated" and len(agent) == 0 and res.llm_calls == 0


def test_failed_session_dead_ends_added_when_enabled(agent):
    first = agent.distill(crashloop("s-1"))
    failed = session("s-2", "Pods of checkout-api in namespace payments are in CrashLoopBackOff",
                     CRASHLOOP_CALLS[:2] + [("kubectl -n payments set resources deploy/checkout-api --limits=memory=2Gi",
                                             "deployment.apps/checkout-api resource requirements updated")],
                     success=False, notes={2: "Raising the memory limit did not help, still crashing."},
                     started_at="2026-03-05T00:00:00Z")
    res = distill_session(agent, failed, failed_to_dead_ends=True)
    assert res.decision == "gated" and res.skill == first.skill
    skill = agent.get(first.skill)
    assert skill.version == 2 and "s-2" in skill.sources
    assert any("set resources" in d for d in skill.items(WHAT_DIDNT))
    assert len(agent) == 1


def test_same_session_twice_changes_library_once(agent):
    a = agent.distill(crashloop("s-1"))
    head = agent.store.git.head()
    b = agent.distill(crashloop("s-1"))
    assert b.repeated and b.decision == a.decision and b.skill == a.skill
    assert agent.store.git.head() == head and len(agent.ledger) == 1
    # also across handles / processes: the ledger is on disk
    again = agent.library.agent("sre-oncall")
    assert again.distill(crashloop("s-1")).repeated and again.store.git.head() == head


def test_labels_never_reach_the_distiller(agent):
    seen = []

    class Spy:
        name = "spy"

        def decide(self, s, candidates, bar):
            seen.append(s)
            return Decision("skip", "just looking", 0.0)

    agent.distill(crashloop("s-1"), Spy())
    assert seen and seen[0].labels == {} and "crashloop-missing-config" not in json.dumps(seen[0].to_dict())


def test_skip_above_pregate_calls_no_distiller(agent):
    agent.distill(crashloop("s-1"))
    calls = []

    class Counting:
        name = "counting"

        def decide(self, s, c, bar):
            calls.append(s.session_id)
            return Decision("skip", "x", 0.0)

    res = distill_session(agent, crashloop("s-2", day=3), Counting(), skip_above=0.5)
    assert res.decision == "skip" and res.reason.startswith("pre-gate") and calls == []
    res = distill_session(agent, crashloop("s-3", day=4), Counting(), skip_above=0.999)
    assert calls == ["s-3"]


def test_malformed_decisions_write_nothing(agent):
    first = agent.distill(crashloop("s-1"))
    head = agent.store.git.head()
    other = agent.get(first.skill).copy()

    class Bad:
        name = "bad"

        def __init__(self, decision):
            self.decision = decision

        def decide(self, s, candidates, bar):
            return self.decision

    unknown_target = other.copy()
    unknown_target.front["name"] = "never-shown"
    no_steps = other.copy()
    no_steps.sections = [sec for sec in no_steps.sections if sec.heading != "Steps"]
    cases = [
        (Decision("update", "x", 0.1, target="never-shown", skill=unknown_target), "was not among the candidates"),
        (Decision("update", "x", 0.1, target=first.skill, skill=no_steps), "missing section"),
        (Decision("create", "x", 0.9, skill=None), "no skill document"),
        (Decision("update", "x", 0.1, target=first.skill, skill=unknown_target), "differs from target"),
    ]
    for i, (decision, why) in enumerate(cases):
        res = distill_session(agent, crashloop(f"s-bad-{i}", day=10 + i), Bad(decision))
        assert res.decision == "invalid" and why in res.error, res.error
    assert agent.store.git.head() == head and agent.names() == [first.skill]
    assert all(r["decision"] == "invalid" for r in agent.ledger.records() if r["session_id"].startswith("s-bad"))


def test_create_with_taken_name_gets_a_suffix(agent):
    first = agent.distill(crashloop("s-1"))
    doc = agent.get(first.skill).copy()

    class Creator:
        name = "creator"

        def decide(self, s, candidates, bar):
            return Decision("create", "forced", 1.0, skill=doc)

    res = distill_session(agent, crashloop("s-2", day=5), Creator())
    assert res.decision == "create" and res.skill == f"{first.skill}-2"
    assert agent.get(res.skill).sources == ["s-2"]


def test_bar_from_agent_settings_and_per_call(agent):
    assert agent.settings.novelty_bar == 0.5  # the default
    agent.set_novelty_bar(0.95, "young agent: keep the library small")
    assert "novelty_bar = 0.95" in (agent.root / "agent.toml").read_text()
    assert agent.library.agent("sre-oncall").settings.novelty_bar == 0.95  # another replica sees it
    assert "set novelty bar 0.5 -> 0.95: young agent" in agent.store.git.log("agent.toml")[-1].message
    agent.distill(crashloop("s-1"))
    # the same pods crash for a cause of their own: novelty 0.6, a new skill at the default bar
    odd = session("s-2", "checkout-api is down after the config change in namespace payments", [
        ("kubectl -n payments get pods -l app=checkout-api", "checkout-api-7d9f8b6c4-x2k9p   0/1   CrashLoopBackOff"),
        ("kubectl -n payments get configmap checkout-api -o yaml", "LISTEN_PORT: 80801"),
        ("kubectl -n payments edit configmap checkout-api", "configmap/checkout-api edited")],
        summary="fixed the listen port in the config map", started_at="2026-03-04T00:00:00Z")
    res = agent.distill(odd)
    assert res.bar == 0.95 and res.decision == "update" and res.new_branch  # strict bar: a branch, not a skill
    # a different problem altogether still gets a skill of its own: no bar makes a grab bag
    res = agent.distill(session("s-4", "Node ip-10-0-3-4 is under DiskPressure and evicting pods", DISK,
                                summary="pruned images", started_at="2026-03-04T01:00:00Z"))
    assert res.decision == "create" and "checked other things" in res.reason
    res = agent.distill(session("s-3", "TLS certificate for shop.example.com expired", [
        ("openssl s_client -connect shop.example.com:443", "notAfter=Mar  1 00:00:00 2026 GMT")],
        summary="renewed the certificate", started_at="2026-03-05T00:00:00Z"), bar=0.0)
    assert res.bar == 0.0 and res.decision == "create"


def test_secrets_never_reach_skill_files(agent):
    aws = "AKIAIOSFODNN7EXAMPLE"
    bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNlY3JldA"
    calls = [
        (f"curl -H 'Authorization: Bearer {bearer}' https://api.internal/health", "HTTP/1.1 503 upstream unavailable"),
        (f"AWS_ACCESS_KEY_ID={aws} aws s3 ls s3://backups", "2026-03-01 backup.tar"),
        ("psql postgres://app:hunter2secret@db:5432/orders -c 'select 1'", "FATAL: too many clients already"),
        ("kubectl -n api rollout restart deploy/gateway", "deployment.apps/gateway restarted"),
    ]
    s = session("s-1", f"gateway returns 503; token {bearer} in use", calls, summary=f"restarted with key {aws}",
                final=f"Fixed. Used password=hunter2secret and Bearer {bearer}")
    res = agent.distill(s)
    assert res.decision == "create"
    text = (agent.root / "skills" / res.skill / "SKILL.md").read_text()
    for secret in (aws, bearer, "hunter2secret"):
        assert secret not in text
    assert "[REDACTED]" in text
    ledger = (agent.root / "state" / "ledger.jsonl").read_text()
    assert aws not in ledger and bearer not in ledger


def test_session_without_tool_calls_teaches_nothing(agent):
    res = agent.distill(session("s-1", "Say hello to the team", [], summary="said hello"))
    assert res.decision == "skip" and "no tool calls" in res.reason and len(agent) == 0


def test_ledger_keeps_positions_and_reads_records_from_disk(tmp_path):
    """The ledger holds where each session's latest record is, not the records: a later record of
    a session wins, every record reads back as written, and a torn last line is skipped."""
    from skilllab.distill.ledger import Ledger

    led = Ledger(tmp_path / "state" / "ledger.jsonl")
    led.add({"session_id": "a", "decision": "error", "attempts": 1})
    led.add({"session_id": "b", "decision": "create", "skill": "restart-pod"})
    led.add({"session_id": "a", "decision": "skip", "attempts": 2})
    assert all(isinstance(v, int) for v in led._at.values()) and len(led._start) == 2  # a slot a session
    assert led.get("a") == {"session_id": "a", "decision": "skip", "attempts": 2} and led.line_of("a") == 3
    assert led.records() == [{"session_id": "a", "decision": "skip", "attempts": 2},
                             {"session_id": "b", "decision": "create", "skill": "restart-pod"}]
    with open(led.path, "ab") as fh:
        fh.write(b'{"session_id": "c", "decis')  # a crash mid-append
    fresh = Ledger(led.path)
    assert len(fresh) == 2 and fresh.get("c") is None and fresh.get("b")["skill"] == "restart-pod"
    fresh.add({"session_id": "c", "decision": "skip"})
    assert Ledger(led.path).get("c") == {"session_id": "c", "decision": "skip"}
    # a line this ledger appends is noted without reading it back: the same positions as a
    # ledger that reads the whole file, whether or not another writer appended in between
    for sid in ("d", "a", "e"):
        fresh.add({"session_id": sid, "decision": "skip", "note": "é\x00"})
    Ledger(led.path).add({"session_id": "f", "decision": "create"})  # another handle, another process
    fresh.add({"session_id": "g", "decision": "skip"})
    reread = Ledger(led.path)
    assert len(reread) == len(fresh) == 7
    state = lambda x: (x._at, list(x._start), list(x._length), list(x._line), x._size, x._count)  # noqa: E731
    assert state(fresh) == state(reread) and fresh.line_of("a") == reread.line_of("a") == 7
    assert fresh.get("f") == {"session_id": "f", "decision": "create"} and fresh.get("a")["note"] == "é\x00"


def test_a_result_record_is_its_fields_in_order_without_warning_and_timings():
    """The ledger record of a result is what ``dataclasses.asdict`` gives, in field order, less the
    warning and the timings; its lists are copies."""
    from dataclasses import asdict

    from skilllab.distill.flow import DistillResult

    res = DistillResult("s-1", "a1", "update", skill="drain-node", novelty=0.25, candidates=["drain-node", "cordon"],
                        branch="b1", warning="said once", timings={"search": 0.1})
    want = asdict(res)
    del want["warning"], want["timings"]
    got = res.to_dict()
    assert list(got.items()) == list(want.items())
    got["candidates"].append("x")
    assert res.candidates == ["drain-node", "cordon"]


def test_settings_edited_by_hand_are_read_at_once_and_a_bad_file_is_named(tmp_path, hashing):
    """An agent's settings are asked for several times a session: the file is read again when it
    changes (by the knob or by hand, even within the same second) and parsed once per content; a
    file that is not TOML, not UTF-8 or holds an unknown key is refused with its path."""
    from skilllab.errors import ConfigError
    from skilllab.settings import _parse

    agent = Library(tmp_path / "lib", embedder=hashing).agent("a")
    assert agent.settings.novelty_bar == 0.5  # no file: the defaults
    agent.set_novelty_bar(0.7)
    path = agent.root / "agent.toml"
    _parse.cache_clear()
    assert agent.settings.novelty_bar == 0.7 and agent.settings is agent.settings  # parsed once
    assert _parse.cache_info().misses == 1
    for bar in (0.35, 0.9):  # edits by hand, one right after the other
        path.write_text(path.read_text().replace("novelty_bar = 0.7", f"novelty_bar = {bar}")
                        .replace("novelty_bar = 0.35", f"novelty_bar = {bar}"))
        assert agent.settings.novelty_bar == bar
    path.write_text("novelty_bar = 0.5\ndrfit_window = 4\n")
    with pytest.raises(ConfigError, match=r"agent\.toml: unknown key 'drfit_window'"):
        _ = agent.settings
    path.write_bytes(b"novelty_bar = 0.5 # \xff\n")
    with pytest.raises(ConfigError, match=r"agent\.toml: not UTF-8 text"):
        _ = agent.settings
    path.write_text("novelty_bar = [\n")
    with pytest.raises(ConfigError, match=r"agent\.toml: "):
        _ = agent.settings
    path.unlink()
    assert agent.settings.novelty_bar == 0.5
