"""Durable asynchronous distillation and concurrent writers, with real processes."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers import make_session

from skilllab import Library
from skilllab.distill import DistillQueue

HERE = Path(__file__).parent


def crash_sessions(prefix, n, agent="sre-oncall"):
    out = []
    for i in range(n):
        svc = f"svc{i}-api"
        out.append(make_session(
            f"{prefix}-{i}", f"Pods of {svc} in namespace ns{i} are in CrashLoopBackOff",
            [(f"kubectl -n ns{i} logs deploy/{svc} --previous", "panic: DATABASE_URL not set"),
             (f"kubectl -n ns{i} get secrets", f"{svc}-db-v{i}   Opaque"),
             (f"kubectl -n ns{i} patch deploy {svc} --step{i}", "patched")],
            agent=agent, summary="fixed the secret reference", started_at=f"2026-03-{i + 1:02d}T00:00:00Z"))
    return out


def same_problem(prefix, n):
    """Sessions of one problem, each with a failed attempt of its own (a new dead end): every one
    after the first updates the same skill."""
    return [make_session(
        f"{prefix}-{i}", "Pods of checkout-api in namespace payments are in CrashLoopBackOff",
        [("kubectl -n payments logs deploy/checkout-api --previous", "panic: DATABASE_URL not set"),
         (f"kubectl -n payments exec deploy/checkout-api -- try{prefix}{i} step{prefix}{i} probe{prefix}{i}",
          f"error: attempt {prefix}{i} failed"),
         ("kubectl -n payments patch deploy checkout-api", "patched")],
        summary="fixed the secret reference", started_at=f"2026-03-{i + 1:02d}T00:00:00Z") for i in range(n)]


def run_py(code, *args):
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_submit_returns_and_worker_distills(tmp_path):
    lib = Library(tmp_path / "lib", embedder="hashing")
    with DistillQueue(lib, "sre-oncall") as q:
        for s in crash_sessions("s", 3):
            q.submit(s)
        assert q.wait(60)
    assert [r.session_id for r in q.results] == ["s-0", "s-1", "s-2"]
    assert q.pending() == [] and q.errors == []
    agent = lib.agent("sre-oncall")
    assert len(agent.ledger) == 3 and len(agent) >= 1


def test_process_killed_after_submit_loses_nothing(tmp_path):
    root = tmp_path / "lib"
    sessions = crash_sessions("k", 3)
    code = """
        import json, os, signal, sys
        from skilllab import Library
        from skilllab.distill import DistillQueue
        q = DistillQueue(Library(sys.argv[1], embedder="hashing"), "sre-oncall")
        for line in sys.argv[2:]:
            q.submit(json.loads(line))
        print("submitted", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)   # dies before any worker ran
    """
    res = run_py(code, root, *[json.dumps(s) for s in sessions])
    assert res.returncode == -9 and "submitted" in res.stdout
    lib = Library(root, embedder="hashing")
    q = DistillQueue(lib, "sre-oncall")
    assert len(q.pending()) == 3
    q.start()
    assert q.wait(60)
    q.stop()
    agent = lib.agent("sre-oncall")
    assert sorted(r["session_id"] for r in agent.ledger.records()) == ["k-0", "k-1", "k-2"]
    # resubmitting after the restart changes nothing (idempotent by session id)
    head = agent.store.git.head()
    with DistillQueue(lib, "sre-oncall") as q2:
        q2.submit(sessions[0])
        assert q2.wait(60)
    assert q2.results[0].repeated and lib.agent("sre-oncall").store.git.head() == head


def test_two_processes_writing_one_agent_lose_no_update(tmp_path):
    root = tmp_path / "lib"
    Library(root, embedder="hashing").agent("sre-oncall").close()
    code = """
        import json, sys
        from skilllab import Library
        from skilllab.session import Session
        agent = Library(sys.argv[1], embedder="hashing").agent("sre-oncall")
        for line in sys.argv[2:]:
            agent.distill(Session.from_dict(json.loads(line)), bar=0.8)
    """
    a = [json.dumps(s) for s in same_problem("a", 6)]
    b = [json.dumps(s) for s in same_problem("b", 6)]
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(root), *batch],
                              stderr=subprocess.PIPE, text=True, env=env) for batch in (a, b)]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    agent = Library(root, embedder="hashing").agent("sre-oncall")
    records = agent.ledger.records()
    assert len(records) == 12
    writes = [r for r in records if r["decision"] in ("create", "update")]
    assert sum(r["decision"] == "update" for r in writes) >= 8, records
    for r in writes:
        assert r["session_id"] in agent.get(r["skill"]).sources, r
    commits = sum(len(agent.history(n)) for n in agent.names())
    assert commits == len(writes)
    # every update raised the version by exactly one: no write was based on a stale read
    for n in agent.names():
        versions = [v.version for v in agent.history(n)]
        assert versions == list(range(1, len(versions) + 1))
