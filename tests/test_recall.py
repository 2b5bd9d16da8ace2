"""Recall, the on-demand tools, usage, drift, staleness and the lifecycle commands."""

import datetime as dt
import json

import pytest
from helpers import make_skill
from openai_stub import StubOpenAI

from skilllab import Library
from skilllab.cli import main
from skilllab.usage import UsageStats

CRASH_TASK = "checkout-api pods keep restarting; the previous logs say DATABASE_URL is not set"


def test_recall_abstains_below_threshold_and_finds_above(example_lib):
    floor = 0.4  # hand-written skills have no learned phrasings yet, so they score lower than learned ones
    agent = example_lib.agent("sre-oncall")
    hits = agent.recall(CRASH_TASK, k=3, min_similarity=floor)
    assert hits and hits[0].name == "crashloop-missing-config" and hits[0].similarity >= floor
    assert all(h.similarity >= floor for h in hits)
    assert agent.recall("book a table for two at an italian restaurant tonight", min_similarity=floor) == []
    assert agent.recall("postgres says sorry, too many clients already", min_similarity=floor) == []  # dba's
    assert agent.recall_context("book a table for two at an italian restaurant") == ""


def test_recall_context_is_prompt_ready_and_within_budget(example_lib):
    agent = example_lib.agent("sre-oncall")
    ctx = agent.recall_context(CRASH_TASK, k=3, min_similarity=0.3, budget_chars=2500)
    assert len(ctx) <= 2500
    assert "=== skill: crashloop-missing-config (similarity" in ctx
    assert "## Steps" in ctx and "name: crashloop-missing-config" not in ctx  # body, no front matter
    small = agent.recall_context(CRASH_TASK, k=3, min_similarity=0.3, budget_chars=800)
    assert len(small) <= 800 and "cut to fit; load_skill('crashloop-missing-config')" in small


def test_deprecated_never_recalled_and_review_is_marked(example_lib):
    agent = example_lib.agent("sre-oncall")
    agent.deprecate("crashloop-missing-config", "superseded")
    assert "crashloop-missing-config" not in [h.name for h in agent.recall(CRASH_TASK, min_similarity=0.0, k=5)]
    assert agent.get("crashloop-missing-config").status == "deprecated"
    assert agent.history("crashloop-missing-config")[-1].message == "deprecate crashloop-missing-config: superseded"
    agent.reactivate("crashloop-missing-config")
    for _ in range(3):
        agent.record_outcome("crashloop-missing-config", False)
    assert agent.get("crashloop-missing-config").status == "review"
    ctx = agent.recall_context(CRASH_TASK, min_similarity=0.3)
    assert "crashloop-missing-config (similarity" in ctx and "[REVIEW:" in ctx


def test_drift_flagging_window(tmp_path, hashing):
    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    agent.write(make_skill("restart-pod", "Restart a hung pod."), "create")
    for ok in (True, False, True, False):
        assert agent.record_outcome("restart-pod", ok) == "active"
    assert agent.record_outcome("restart-pod", False) == "review"  # 3 of the last 5 failed
    skill = agent.get("restart-pod")
    assert skill.status == "review" and "status active -> review: 3 of the last 5 outcomes failed" in skill.section(
        "Changelog")
    assert agent.history("restart-pod")[-1].message.startswith("flag restart-pod: 3 of the last 5")
    stats = agent.usage.get("restart-pod")
    assert (stats.successes, stats.failures, stats.recent) == (2, 3, [1, 0, 1, 0, 0])
    assert "usage" not in (agent.root / "skills" / "restart-pod" / "SKILL.md").read_text()


def test_usage_counts_survive_restart_without_commits(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("a1")
    agent.write(make_skill("restart-pod", "Restart a hung pod when it stops answering."), "create")
    head = agent.store.git.head()
    skill_bytes = (agent.root / "skills" / "restart-pod" / "SKILL.md").read_bytes()
    for _ in range(5):
        agent.recall("restart a hung pod", min_similarity=0.1, when="2026-03-05T10:00:00+00:00")
    agent.close()
    again = lib.agent("a1")
    stats = again.usage.get("restart-pod")
    assert stats.uses == 5 and stats.last_used == "2026-03-05T10:00:00+00:00"
    assert again.store.git.head() == head  # reads make no commits
    assert (again.root / "skills" / "restart-pod" / "SKILL.md").read_bytes() == skill_bytes
    # a crash loses at most the pending batch: flushed counts are on disk
    again.usage.batch_size = 2
    for _ in range(3):
        again.recall("restart a hung pod", min_similarity=0.1)
    on_disk = UsageStats.from_dict(json.loads((again.root / "skills" / "restart-pod" / "usage.json").read_text()))
    assert on_disk.uses == 7  # two flushed by the batch, the third still pending


def test_stale_listing_with_controlled_timestamps(tmp_path, hashing):
    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    for name, updated in [("old-unused", "2026-01-01"), ("old-but-used", "2026-01-01"), ("fresh", "2026-03-01"),
                          ("gone-bad", "2026-03-01"), ("retired", "2026-01-01")]:
        s = make_skill(name, f"Skill {name}.")
        s.set_meta("updated", updated)
        agent.write(s, f"create {name}")
    agent.usage.record_use("old-but-used", "2026-02-25T00:00:00+00:00")
    agent.usage.flush()
    for _ in range(3):
        agent.record_outcome("gone-bad", False, when="2026-03-02")
    agent.deprecate("retired")
    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    rows = {s.name: s.reason for s in agent.stale(30, now=now)}
    assert set(rows) == {"old-unused", "gone-bad"}
    assert rows["old-unused"] == "not updated since 2026-01-01 and never used (30+ days)"
    assert rows["gone-bad"].startswith("in review: 3 recent failed outcomes")
    assert {s.name for s in agent.stale(5, now=now)} == {"old-unused", "old-but-used", "fresh", "gone-bad"}
    assert {s.name for s in agent.stale(20, now=now)} == {"old-unused", "gone-bad"}


def test_tool_round_trip_through_openai_objects(example_lib):
    from openai import OpenAI

    agent = example_lib.agent("sre-oncall")
    tools = agent.tools()
    assistant = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "search_skills", "arguments": json.dumps({"query": CRASH_TASK, "k": 2})}},
        {"id": "call_2", "type": "function",
         "function": {"name": "load_skill", "arguments": json.dumps({"name": "crashloop-missing-config"})}},
        {"id": "call_3", "type": "function",
         "function": {"name": "load_skill", "arguments": json.dumps({"name": "postgres-replication-lag"})}}]}
    first = {"status": 200, "body": {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
                                     "choices": [{"index": 0, "finish_reason": "tool_calls", "message": assistant}]}}
    final = {"status": 200, "body": {"id": "y", "object": "chat.completion", "created": 2, "model": "m",
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": "done"}}]}}
    with StubOpenAI([first, final]) as stub:
        client = OpenAI(base_url=stub.base_url, api_key="sk-test")
        messages = [{"role": "user", "content": CRASH_TASK}]
        resp = client.chat.completions.create(model="m", messages=messages, tools=tools.definitions)
        msg = resp.choices[0].message  # a real openai ChatCompletionMessage object
        replies = tools.handle_message(msg)
        messages += [msg.model_dump(exclude_none=True), *replies]
        client.chat.completions.create(model="m", messages=messages, tools=tools.definitions)
        sent = stub.requests[1]["body"]["messages"]
    assert [t["function"]["name"] for t in stub.requests[0]["body"]["tools"]] == ["search_skills", "load_skill"]
    assert [m["tool_call_id"] for m in sent if m["role"] == "tool"] == ["call_1", "call_2", "call_3"]
    found = json.loads(replies[0]["content"])["results"]
    assert found[0]["name"] == "crashloop-missing-config" and len(found) == 2
    loaded = json.loads(replies[1]["content"])
    assert loaded["name"] == "crashloop-missing-config" and "## Steps" in loaded["content"]
    assert json.loads(replies[2]["content"]) == {"error": "skill 'postgres-replication-lag' not found"}
    bad = tools.handle({"id": "c9", "function": {"name": "load_skill", "arguments": "{oops"}})
    assert "bad arguments" in json.loads(bad["content"])["error"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lifecycle_cli_rm_restore_diff_stale_recall(tmp_path, capsys):
    lib = ["--library", str(tmp_path), "--agent", "a1", "--embedder", "hashing"]
    agent = Library(tmp_path, embedder="hashing").agent("a1")
    s = make_skill("restart-pod", "Restart a hung pod when it stops answering.")
    agent.write(s, "create restart-pod from session s-1")
    s = agent.get("restart-pod")
    s.set_meta("version", "2")
    s.set_list("Steps", s.items("Steps") + ["check readiness"], numbered=True)
    agent.write(s, "update restart-pod from session s-2")
    agent.close()
    code, out, _ = run(capsys, "skills", "diff", "restart-pod", "1", "2", *lib)
    assert code == 0 and "--- restart-pod v1" in out and "+3. check readiness" in out
    code, out, _ = run(capsys, "skills", "rm", "restart-pod", *lib, "--reason", "obsolete")
    assert code == 0 and "removed restart-pod" in out
    code, out, _ = run(capsys, "search", "restart hung pod", *lib, "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, "skills", "restore", "restart-pod", "--version", "1", *lib)
    assert code == 0 and "restored restart-pod as version 3" in out
    code, out, _ = run(capsys, "recall", "restart a hung pod", *lib, "--min-similarity", "0.1", "--json")
    assert [h["name"] for h in json.loads(out)] == ["restart-pod"]
    code, out, _ = run(capsys, "skills", "history", "restart-pod", *lib, "--json")
    assert [r["version"] for r in json.loads(out)] == [1, 2, "deleted", 3]
    code, out, _ = run(capsys, "skills", "stale", "--days", "1", *lib, "--json")
    assert code == 0 and json.loads(out) == []  # just used by recall
    code, out, _ = run(capsys, "recall", "restart a hung pod", *lib, "--min-similarity", "0.1", "--context")
    assert "=== skill: restart-pod" in out
    code, out, err = run(capsys, "skills", "diff", "restart-pod", "1", "9", *lib)
    assert code == 1 and "has no version 9" in err


@pytest.mark.parametrize("bar", ["1.5", "-0.1"])
def test_agent_set_rejects_bad_bar(tmp_path, capsys, bar):
    code, _, err = run(capsys, "agent", "set", "--bar", bar, "--library", str(tmp_path), "--agent", "a1",
                       "--embedder", "hashing")
    assert code == 1 and "must be a number from 0 to 1" in err


def test_update_after_review_starts_a_fresh_drift_window(tmp_path, hashing):
    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    agent.write(make_skill("renew-cert", "Renew a TLS certificate."), "create")
    for _ in range(3):
        agent.record_outcome("renew-cert", False)
    assert agent.get("renew-cert").status == "review"
    repaired = agent.get("renew-cert")
    repaired.set_meta("version", str(repaired.version + 1))
    repaired.set_meta("status", "active")
    agent.write(repaired, "update renew-cert: new procedure")
    assert agent.usage.get("renew-cert").recent == []
    assert agent.record_outcome("renew-cert", True) == "active"
    assert agent.record_outcome("renew-cert", False) == "active"  # one failure of a fresh window


def test_outcomes_are_batched_yet_drift_sees_every_one(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("a1")
    agent.write(make_skill("restart-pod", "Restart a hung pod."), "create")
    sidecar = agent.root / "skills" / "restart-pod" / "usage.json"
    assert agent.record_outcome("restart-pod", True) == "active"  # by default an outcome is written at once
    assert UsageStats.from_dict(json.loads(sidecar.read_text())).successes == 1
    sidecar.unlink()
    agent.usage.batch_outcomes = True  # a harness that closes its handles (the replay) batches them
    agent.usage.max_delay = 3600.0  # only the batch size (32) or a flush writes
    assert agent.record_outcome("restart-pod", False) == "active"
    assert agent.record_outcome("restart-pod", True) == "active"
    assert not sidecar.exists()  # pending in memory, not one file write per outcome
    stats = agent.usage.get("restart-pod")  # what is read is disk plus the pending batch
    assert (stats.successes, stats.failures, stats.recent) == (1, 1, [0, 1])
    # another process counting into the same sidecar meanwhile: the flush adds to it
    sidecar.write_text(json.dumps({"uses": 4, "successes": 2, "failures": 0, "recent": [1, 1]}))
    assert agent.record_outcome("restart-pod", False) == "active"  # recent 1 1 0 1 0: 2 of the last 5 failed
    assert agent.record_outcome("restart-pod", False) == "review"  # 1 1 0 1 0 0: 3 of the last 5
    assert agent.get("restart-pod").status == "review"
    agent.usage.flush()
    on_disk = UsageStats.from_dict(json.loads(sidecar.read_text()))
    assert (on_disk.uses, on_disk.successes, on_disk.failures, on_disk.recent) == (4, 3, 3, [1, 1, 0, 1, 0, 0])
    agent.usage.max_delay = 0.0  # an event older than max_delay is written at the next event
    agent.record_outcome("restart-pod", True)
    assert UsageStats.from_dict(json.loads(sidecar.read_text())).successes == 4
    agent.usage.max_delay = 3600.0
    agent.record_outcome("restart-pod", True)
    agent.close()  # close writes what is pending
    assert UsageStats.from_dict(json.loads(sidecar.read_text())).successes == 5


def test_a_new_version_writes_its_own_pending_outcomes_and_leaves_the_others_batched(tmp_path, hashing):
    """A new version of a skill starts a fresh drift window: its pending outcomes are added to its
    totals on disk with the window emptied, and another skill's pending batch is not written."""
    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    for name in ("renew-cert", "restart-pod"):
        agent.write(make_skill(name, f"Skill {name}."), f"create {name}")
    agent.usage.batch_outcomes, agent.usage.max_delay = True, 3600.0
    agent.record_outcome("renew-cert", True)
    agent.record_outcome("renew-cert", False)
    agent.record_outcome("restart-pod", False)
    new = agent.get("renew-cert")
    new.set_meta("version", str(new.version + 1))
    new.set_list("Steps", new.items("Steps") + ["check the expiry"], numbered=True)
    agent.write(new, "update renew-cert: new procedure")
    cert = UsageStats.from_dict(json.loads((agent.root / "skills" / "renew-cert" / "usage.json").read_text()))
    assert (cert.successes, cert.failures, cert.recent) == (1, 1, [])
    assert not (agent.root / "skills" / "restart-pod" / "usage.json").exists()  # still batched
    pod = agent.usage.get("restart-pod")
    assert (pod.failures, pod.recent) == (1, [0])
    agent.close()
    pod = UsageStats.from_dict(json.loads((agent.root / "skills" / "restart-pod" / "usage.json").read_text()))
    assert (pod.failures, pod.recent) == (1, [0])


def test_counts_held_until_the_lock_is_let_go_are_the_counts_written_at_once(tmp_path, hashing):
    """A holder that keeps its usage counts in memory (``hold``, the replay) writes nothing while it
    holds the agent's lock, reads what an immediate writer reads at every step (drift flagging
    included), a new version's emptied drift window among them, and leaves on disk, once it lets
    the lock go, the very sidecars the immediate writer left."""
    def run(agent, hold):
        sidecars = {n: agent.root / "skills" / n / "usage.json" for n in ("renew-cert", "restart-pod", "rotate-key")}
        seen = []
        agent.usage.hold = hold
        with agent.lock():
            for name in sidecars:
                agent.write(make_skill(name, f"Skill {name}."), f"create {name}")
            agent.usage.record_use("renew-cert", "2026-03-02T00:00:00+00:00")
            for ok in (True, False, False):
                seen.append(agent.record_outcome("renew-cert", ok))
            seen.append(agent.record_outcome("restart-pod", False))
            new = agent.get("renew-cert")
            new.set_meta("version", str(new.version + 1))
            new.set_list("Steps", new.items("Steps") + ["check the expiry"], numbered=True)
            agent.write(new, "update renew-cert: new procedure")  # empties renew-cert's drift window
            new = agent.get("rotate-key")  # no counts at all: its new version writes no sidecar
            new.set_meta("version", str(new.version + 1))
            agent.write(new, "update rotate-key")
            for ok in (False, False):
                seen.append(agent.record_outcome("renew-cert", ok))
            seen += [agent.usage.get(n).to_dict() for n in sidecars]
            held_on_disk = [p.exists() for p in sidecars.values()]
        on_disk = {n: json.loads(p.read_text()) if p.exists() else None for n, p in sidecars.items()}
        agent.close()
        return seen, held_on_disk, on_disk

    at_once = run(Library(tmp_path / "a", embedder=hashing).agent("a1"), hold=False)
    held = run(Library(tmp_path / "b", embedder=hashing).agent("a1"), hold=True)
    assert held[0] == at_once[0]
    assert held[1] == [False, False, False] and at_once[1] == [True, True, False]
    assert held[2] == at_once[2]
    cert = held[2]["renew-cert"]
    assert (cert["uses"], cert["successes"], cert["failures"], cert["recent"]) == (1, 1, 4, [0, 0])
    assert held[2]["rotate-key"] is None


def test_a_removed_skill_takes_its_counts_with_it_held_or_not(tmp_path, hashing):
    """Counts go with a skill's folder: a skill deleted and made again under the same name starts
    with none, whether its counts were written at once or held in memory (the replay)."""
    def run(agent, hold):
        agent.usage.hold = hold
        with agent.lock():
            for name in ("renew-cert", "restart-pod"):
                agent.write(make_skill(name, f"Skill {name}."), f"create {name}")
            for ok in (False, False):
                agent.record_outcome("renew-cert", ok)
            agent.usage.record_use("renew-cert", "2026-03-02T00:00:00+00:00")
            agent.delete("renew-cert", "merged by hand")
            agent.write(make_skill("renew-cert", "Renew the certificate again."), "create renew-cert again")
            fresh = agent.usage.get("renew-cert").to_dict()
            status = agent.record_outcome("renew-cert", False)
        sidecar = agent.root / "skills" / "renew-cert" / "usage.json"
        on_disk = json.loads(sidecar.read_text())
        agent.close()
        return fresh, status, on_disk

    at_once = run(Library(tmp_path / "a", embedder=hashing).agent("a1"), hold=False)
    held = run(Library(tmp_path / "b", embedder=hashing).agent("a1"), hold=True)
    assert held == at_once
    fresh, status, on_disk = held
    assert (fresh["uses"], fresh["failures"], fresh["recent"]) == (0, 0, [])
    assert status == "active" and (on_disk["failures"], on_disk["recent"]) == (1, [0])


def test_counts_held_through_a_long_run_stay_bounded_and_exact(tmp_path, hashing):
    """However many outcomes a holder keeps in memory, it keeps the counts and the last RECENT
    of them only, and reads and writes what immediate writes give."""
    from skilllab.usage import RECENT

    outcomes = [i % 3 != 0 for i in range(5 * RECENT)]
    results = []
    for hold, root in ((False, "a"), (True, "b")):
        agent = Library(tmp_path / root, embedder=hashing).agent("a1")
        agent.write(make_skill("restart-pod", "Restart a hung pod."), "create")
        agent.usage.hold = hold
        with agent.lock():
            for ok in outcomes:
                agent.usage.record_outcome("restart-pod", ok)
            if hold:
                assert len(agent.usage._pending["restart-pod"].outcomes) == RECENT
            seen = agent.usage.get("restart-pod").to_dict()
        results.append((seen, json.loads((agent.root / "skills" / "restart-pod" / "usage.json").read_text())))
        agent.close()
    assert results[0] == results[1]
    assert (results[1][1]["successes"], results[1][1]["failures"]) == (sum(outcomes), len(outcomes) - sum(outcomes))
    assert results[1][1]["recent"] == [int(x) for x in outcomes[-RECENT:]]
