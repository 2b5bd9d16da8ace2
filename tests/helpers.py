"""Builders used by several test modules."""

from __future__ import annotations

from skilllab import Skill


def make_skill(name: str, description: str, *, agent: str = "sre-oncall", when: str | None = None,
               steps=("look at it", "fix it"), source: str = "s-1") -> Skill:
    return Skill.new(name, description, agent=agent, when_to_use=when or description,
                     steps=list(steps), worked=["it worked"], dead_ends=["a dead end: it failed"],
                     source=source, date="2026-03-01")


def make_session(sid: str, task: str, calls, *, agent: str = "sre-oncall", success: bool = True,
                 summary: str | None = None, final: str = "", family: str | None = None,
                 started_at: str = "2026-03-02T03:14:00Z", notes: dict | None = None) -> dict:
    """A session in the corpus format. ``calls`` is a list of (command, output) run through the
    ``shell`` tool; ``notes`` maps a call index to assistant commentary placed after that call."""
    import json

    msgs = [{"role": "user", "content": task}]
    for i, (cmd, out) in enumerate(calls):
        cid = f"c{i}"
        msgs.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": "shell", "arguments": json.dumps({"cmd": cmd})}}]})
        msgs.append({"role": "tool", "tool_call_id": cid, "content": out})
        if notes and i in notes:
            msgs.append({"role": "assistant", "content": notes[i]})
    if final:
        msgs.append({"role": "assistant", "content": final})
    d = {"session_id": sid, "agent_id": agent, "started_at": started_at, "task": task, "messages": msgs,
         "outcome": {"success": success, "reward": 1.0 if success else 0.0, "summary": summary}}
    if family:
        d["labels"] = {"family": family}
    return d


def session(*args, **kw):
    from skilllab.session import Session

    return Session.from_dict(make_session(*args, **kw))


CRASHLOOP_CALLS = [
    ("kubectl -n payments get pods -l app=checkout-api", "checkout-api-7d9f8b6c4-x2k9p   0/1   CrashLoopBackOff   12"),
    ("kubectl -n payments logs deploy/checkout-api --previous", "panic: DATABASE_URL not set"),
    ("kubectl -n payments delete pod checkout-api-7d9f8b6c4-x2k9p", "pod deleted"),
    ("kubectl -n payments get deploy checkout-api -o yaml", "secretKeyRef: name: checkout-db-old"),
    ("kubectl -n payments patch deploy checkout-api -p '{\"spec\":{}}'", "deployment.apps/checkout-api patched"),
    ("kubectl -n payments rollout status deploy/checkout-api", "successfully rolled out"),
]
CRASHLOOP_NOTES = {2: "Deleting the pod did not help: it came back crashing with the same error."}
