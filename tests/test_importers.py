"""Importers run on the real logs in ../shared: counts, roles, tool-call pairing, and the imported
session distills."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from skilllab import Library
from skilllab.cli import main
from skilllab.corpus import read_corpus
from skilllab.corpus.importers import ImportOptions, ImportProblem, import_sessions
from skilllab.session import Session

FIXTURES = Path(__file__).parent / "fixtures"  # real logs, copied with their licences (see README there)
LOGS = FIXTURES / "agent-logs"
TAU2 = FIXTURES / "tau2" / "tau2-airline-gpt-4.1-results.json"
# labels.family of these tasks in the bundled tau2-airline corpus (../shared/corpora)
TAU2_FAMILIES = {
    "2": "send_certificate", "6": "no-write", "8": "book_reservation", "13": "transfer_to_human_agents",
    "16": "update_reservation_flights", "18": "update_reservation_flights", "19": "cancel_reservation",
    "22": "update_reservation_baggages+update_reservation_flights+update_reservation_passengers",
    "24": "book_reservation", "25": "book_reservation", "26": "no-write",
    "29": "update_reservation_baggages+update_reservation_flights", "30": "update_reservation_flights",
    "31": "no-write", "32": "update_reservation_flights", "35": "book_reservation",
    "37": "cancel_reservation+update_reservation_flights", "44": "cancel_reservation+update_reservation_flights",
    "45": "no-write", "48": "no-write"}


def one(pattern: str) -> Path:
    found = sorted(LOGS.glob(pattern))
    assert len(found) == 1, pattern
    return found[0]


def paired(session: dict) -> tuple[int, int]:
    calls = [c["id"] for m in session["messages"] for c in m.get("tool_calls") or []]
    results = [m["tool_call_id"] for m in session["messages"] if m["role"] == "tool"]
    assert len(set(calls)) == len(calls)
    assert set(results) <= set(calls)
    # every result comes after its call
    seen: set[str] = set()
    for m in session["messages"]:
        seen.update(c["id"] for c in m.get("tool_calls") or [])
        if m["role"] == "tool":
            assert m["tool_call_id"] in seen
    return len(calls), len(results)


# (format, log, outcome file or None, calls, results) -- counted by hand from each log
AGENT_LOGS = [
    ("claude-code", "claudecode_run/sessions/projects/*/*.jsonl", "claudecode_run/claudecode_results_*.json", 16, 16),
    ("codex", "codex_run/sessions/*/*/*/rollout-*.jsonl", "codex_run/codex_results_*.json", 33, 33),
    ("gemini-cli", "gemini_run/sessions/*/*/*/session-*.jsonl", None, 34, 34),
    ("opencode", "opencode_run/sessions/*/*/*/session-*.json", "opencode_run/opencode_results_*.json", 18, 18),
    ("copilot-cli", "copilot_run_real/copilot-cli.jsonl", None, 10, 10),
    ("copilot-cli", "copilot_run_flat/copilot-cli.jsonl", None, 2, 2),
    ("langchain", "stratus_run/*.jsonl", None, 30, 30),
    ("langchain", "stratus_run_ids/*.jsonl", None, 5, 5),
]


@pytest.mark.parametrize("fmt,log,outcome,calls,results", AGENT_LOGS,
                         ids=[f"{a[0]}:{a[1].split('/')[0]}" for a in AGENT_LOGS])
def test_each_agent_log_imports_to_one_valid_session_that_distills(tmp_path, hashing, fmt, log, outcome,
                                                                   calls, results):
    opts = ImportOptions("sre-agent", outcome_file=str(one(outcome)) if outcome else None,
                         success=None if outcome else True)
    problems: list[ImportProblem] = []
    sessions = list(import_sessions(fmt, [one(log)], opts, lenient=True, problems=problems))
    assert len(sessions) == 1
    s = sessions[0]
    assert paired(s) == (calls, results)
    roles = Counter(m["role"] for m in s["messages"])
    assert roles["user"] >= 1 and roles["assistant"] >= 1
    assert "hotel" in s["task"].lower() or "recommendation" in s["task"].lower()
    assert s["outcome"]["success"] is True and s["agent_id"] == "sre-agent"
    assert not [p for p in problems if "not JSON" not in str(p)]  # only the tools' stray non-JSON lines
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(s) + "\n")
    [session], problems = read_corpus(path)  # what the reader takes
    assert problems == []
    res = Library(tmp_path / "lib", embedder=hashing).agent("sre-agent").distill(session)
    assert res.decision == "create", res.error or res.reason
    text = (tmp_path / "lib" / "sre-agent" / "skills" / res.skill / "SKILL.md").read_text()
    assert "kubectl" in text


def test_a_stray_line_stops_a_strict_import_and_is_named(tmp_path):
    log = LOGS / "copilot_run_flat" / "copilot-cli.jsonl"
    with pytest.raises(ImportProblem) as exc:
        list(import_sessions("copilot-cli", [log], ImportOptions("a", success=True)))
    assert f"{log}:2: (line): not JSON" in str(exc.value)
    # without an outcome the import says what to give
    with pytest.raises(ImportProblem, match="--outcome RESULTS.json or --success"):
        list(import_sessions("copilot-cli", [log], ImportOptions("a"), lenient=False))


def test_tau2_results_files_import_with_the_bundled_corpus_labels(tmp_path, hashing, capsys):
    out = tmp_path / "tau2.jsonl"
    assert main(["corpus", "import", "tau2", str(TAU2), "--agent", "tau2-airline", "--out", str(out)]) == 0
    sessions, _ = read_corpus(out)
    assert len(sessions) == 20
    for s in sessions:
        assert s.labels["family"] == TAU2_FAMILIES[s.labels["task_id"]]  # the bundled corpus's family rule
        assert s.success == (s.reward == 1.0)
        calls, results = paired(s.to_dict())
        assert calls == results
    assert sum(s.success for s in sessions) == 10  # rewards of 1.0 in the file
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("tau2-airline")
    decisions = Counter(agent.distill(s).decision for s in sessions[:20])
    assert decisions["create"] >= 1 and not decisions["error"] and not decisions["invalid"]


def test_openai_message_lists(tmp_path, hashing):
    convo = [{"role": "system", "content": "You are the on-call agent."},
             {"role": "user", "content": "checkout-api pods crash: DATABASE_URL missing"},
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": json.dumps(
                     {"cmd": "kubectl -n payments logs deploy/checkout-api --previous"})}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "panic: DATABASE_URL not set"},
             {"role": "assistant", "content": None, "tool_calls": [
                 {"id": "c2", "type": "function", "function": {"name": "shell", "arguments": json.dumps(
                     {"cmd": "kubectl -n payments set env deploy/checkout-api --from=secret/checkout-env"})}}]},
             {"role": "tool", "tool_call_id": "c2", "content": "deployment.apps/checkout-api env updated"},
             {"role": "assistant", "content": "Restored the variable from the secret."}]
    one_file = tmp_path / "one.json"
    one_file.write_text(json.dumps(convo))
    many = tmp_path / "many.jsonl"
    many.write_text(json.dumps({"id": "x1", "messages": convo, "success": True}) + "\n" + "{oops\n"
                    + json.dumps({"id": "x2", "messages": convo, "outcome": {"success": False, "reward": 0}}) + "\n")
    [s] = list(import_sessions("openai-messages", [one_file], ImportOptions("ops", success=True)))
    assert s["task"] == "checkout-api pods crash: DATABASE_URL missing" and paired(s) == (2, 2)
    problems: list[ImportProblem] = []
    got = list(import_sessions("openai-messages", [many], ImportOptions("ops"), lenient=True, problems=problems))
    assert [(g["session_id"], g["outcome"]["success"]) for g in got] == [("x1", True), ("x2", False)]
    assert [str(p).split(": ")[0] for p in problems] == [f"{many}:2"]
    res = Library(tmp_path / "lib", embedder=hashing).agent("ops").distill(Session.from_dict(got[0]))
    assert res.decision == "create"


def test_corpus_schema_prints_the_schema_the_reader_uses(capsys):
    from skilllab.corpus import schema

    assert main(["corpus", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()
