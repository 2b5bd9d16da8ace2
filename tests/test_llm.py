"""The llm distiller through the real openai client against a local OpenAI-compatible server."""

import json

import pytest
from helpers import CRASHLOOP_CALLS, session
from openai_stub import StubOpenAI

from skilllab import Library
from skilllab.distill import distill_session, get_distiller

TASK = "Pods of checkout-api in namespace payments are in CrashLoopBackOff"


def completion(content: str, prompt_tokens: int = 900, completion_tokens: int = 300) -> dict:
    return {"status": 200, "body": {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1772400000, "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens}}}


def create_reply(name="restore-renamed-secret-ref", novelty=0.9):
    return json.dumps({
        "decision": "create", "target": None, "branch": "re-point the secret reference", "novelty": novelty,
        "reason": "no candidate covers crash loops from a renamed secret",
        "skill": {
            "name": name,
            "description": "Fix pods in CrashLoopBackOff whose secret reference points at a renamed secret. "
                           "Use when previous-container logs say a variable from a secret is not set.",
            "when_to_use": "Pods crash loop and `logs --previous` shows a missing environment variable.",
            "steps": ["`kubectl -n <namespace> logs deploy/<service> --previous`",
                      "`kubectl -n <namespace> get deploy <service> -o yaml` and compare secretKeyRef names"],
            "branches": [{"title": "re-point the secret reference",
                          "signal": "panic: DATABASE_URL not set",
                          "fix": ["`kubectl -n <namespace> patch deploy <service> -p <patch>`",
                                  "`kubectl -n <namespace> rollout status deploy/<service>`"],
                          "dead_ends": ["Deleting the pod: the new pod crashed the same way"]}],
            "what_worked": ["Pointing secretKeyRef at the renamed secret"],
            "what_didnt_work": ["Deleting the pod: the new pod crashed the same way"],
            "changelog": "created from a crash loop caused by a renamed secret"}})


def update_reply(target, steps, branches=None, branch="re-point the secret reference"):
    branches = branches or [{"title": "re-point the secret reference", "signal": "panic: DATABASE_URL not set",
                             "fix": ["`kubectl -n <namespace> patch deploy <service> -p <patch>`"], "dead_ends": []}]
    return json.dumps({
        "decision": "update", "target": target, "branch": branch, "novelty": 0.2,
        "reason": "same cause, adds a check of the secrets",
        "skill": {"name": target, "description": "Fix pods in CrashLoopBackOff whose secret reference is stale. "
                                                   "Use when logs say a variable from a secret is not set.",
                  "when_to_use": "Pods crash loop with a missing variable.", "steps": steps, "branches": branches,
                  "what_worked": ["Pointing secretKeyRef at the renamed secret"],
                  "what_didnt_work": ["Deleting the pod"], "changelog": "added a check of existing secrets"}})


def llm(stub, tmp_path=None, **kw):
    opts = {"model": "stub-model", "base_url": stub.base_url, "api_key": "sk-test-key-not-real", "timeout": 5,
            "max_retries": 2}
    opts.update(kw)
    return get_distiller("llm", **opts)


@pytest.fixture
def agent(tmp_path, minilm):
    return Library(tmp_path / "lib", embedder=minilm).agent("sre-oncall")


def crash(sid, day=2, success=True):
    return session(sid, TASK, CRASHLOOP_CALLS, summary="renamed secret reference fixed", success=success,
                   started_at=f"2026-03-{day:02d}T00:00:00Z", family="crashloop-missing-config")


def test_create_then_update_one_call_each_none_when_gated(agent):
    steps = ["`kubectl -n <namespace> logs deploy/<service> --previous`", "`kubectl -n <namespace> get secrets`"]
    with StubOpenAI([completion(create_reply()), completion(update_reply("restore-renamed-secret-ref", steps))]) as stub:
        dist = llm(stub)
        r1 = distill_session(agent, crash("s-1"), dist)
        r2 = distill_session(agent, crash("s-2", success=False, day=3), dist)
        r3 = distill_session(agent, crash("s-3", day=4), dist)
        assert len(stub.requests) == 2  # one per session that passed the gate, none for the failed one
    assert (r1.decision, r1.llm_calls, r1.prompt_tokens, r1.completion_tokens) == ("create", 1, 900, 300)
    assert (r2.decision, r2.llm_calls) == ("gated", 0)
    assert (r3.decision, r3.llm_calls, r3.skill) == ("update", 1, "restore-renamed-secret-ref")
    skill = agent.get("restore-renamed-secret-ref")
    assert skill.version == 2 and skill.sources == ["s-1", "s-3"]
    from skilllab.runbook import Runbook

    rb = Runbook.of(skill)
    assert rb.steps == steps and rb.branches[0].sources == ["s-1", "s-3"] and rb.branches[0].key == "kubectl patch deploy"
    assert r1.branch == r3.branch == rb.branches[0].id
    assert "v2: added a check of existing secrets (session s-3)" in skill.section("Changelog")
    body = stub.requests[0]["body"]
    assert body["response_format"]["type"] == "json_schema" and body["model"] == "stub-model"
    sent = json.dumps(body)
    assert "crashloop-missing-config" not in sent  # labels never sent
    second = json.loads(stub.requests[1]["body"]["messages"][1]["content"])
    assert [c["name"] for c in second["candidates"]] == ["restore-renamed-secret-ref"]
    assert "## Steps" in second["candidates"][0]["document"]  # the candidate's full text


def test_rate_limit_then_success_uses_client_retries(agent):
    with StubOpenAI([{"status": 429, "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
                     completion(create_reply())]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub))
        assert len(stub.requests) == 2
    assert res.decision == "create" and res.llm_calls == 1 and res.error is None


def test_malformed_body_and_content_get_one_repair_retry(agent):
    with StubOpenAI([{"raw": "{not json at all"}, completion(create_reply())]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub))
    assert res.decision == "create" and res.llm_calls == 2
    with StubOpenAI([completion("Sure! Here is the skill: ..."), completion(create_reply("second-skill"))]) as stub:
        res = distill_session(agent, session("s-2", "Disk full on node-3", [("df -h", "100%")], summary="cleaned",
                                             started_at="2026-03-03T00:00:00Z"), llm(stub))
        repair = stub.requests[1]["body"]["messages"]
    assert res.decision == "create" and res.llm_calls == 2
    assert repair[-1]["role"] == "user" and "not usable: not JSON" in repair[-1]["content"]


def test_unusable_output_twice_is_skipped_and_writes_nothing(agent):
    head = agent.store.git.head()
    bad = json.dumps({"decision": "rewrite-everything", "novelty": 2})
    with StubOpenAI([completion(bad), completion("[]")]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub))
    assert res.decision == "error" and res.llm_calls == 2 and "not a JSON object" in res.error
    assert agent.store.git.head() == head and len(agent) == 0
    assert agent.ledger.get("s-1")["error"] == res.error


def test_refusal_is_malformed(agent):
    refusal = completion("")
    refusal["body"]["choices"][0]["message"]["refusal"] = "I can't help with that."
    with StubOpenAI([refusal, refusal]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub))
    assert res.decision == "error" and "refused" in res.error


def test_timeout_is_recorded_not_raised(agent):
    with StubOpenAI([{"sleep": 1.5, **completion(create_reply())}, {"sleep": 1.5, **completion(create_reply())}]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub, timeout=0.3, max_retries=1))
    assert res.decision == "error" and res.error.startswith("APITimeoutError") and len(agent) == 0


def test_update_target_must_have_been_shown(agent):
    with StubOpenAI([completion(update_reply("some-other-skill", ["`x`"]))]) as stub:
        res = distill_session(agent, crash("s-1"), llm(stub))
    assert res.decision == "invalid" and "was not among the candidates" in res.error


def test_cassette_replay_is_reproducible_and_free(tmp_path, minilm):
    cassette = tmp_path / "llm.jsonl"
    outcomes = []
    for run, script in enumerate([[completion(create_reply())], []]):
        agent = Library(tmp_path / f"lib{run}", embedder=minilm).agent("sre-oncall")
        with StubOpenAI(script) as stub:
            mode = "auto" if run == 0 else "replay"
            res = distill_session(agent, crash("s-1"), llm(stub, cassette=str(cassette), cassette_mode=mode))
            outcomes.append((res.decision, res.skill, res.llm_calls, res.prompt_tokens,
                             (agent.root / "skills" / res.skill / "SKILL.md").read_text()))
            assert len(stub.requests) == (1 if run == 0 else 0)
    assert outcomes[0] == outcomes[1]
    text = cassette.read_text()
    assert "sk-test-key-not-real" not in text and len(text.splitlines()) == 1


def test_llm_writes_a_branchy_runbook_and_bad_ones_are_repaired_or_rejected(agent, tmp_path):
    from skilllab.runbook import Runbook

    cassette = tmp_path / "branchy.jsonl"
    second = {"title": "allow egress to the database", "signal": "FATAL: could not connect to <database>",
              "fix": ["`kubectl -n <namespace> apply -f netpol/<service>-allow-db.yaml`"],
              "dead_ends": ["Restarting the pods: the policy still blocks the port"]}
    first = json.loads(update_reply("x", []))["skill"]["branches"][0]
    too_long = "`" + "x" * 400 + "`"
    bad = json.loads(update_reply("restore-renamed-secret-ref", ["`kubectl get pods`"], [first, second],
                                  branch="allow egress to the database"))
    bad["skill"]["steps"] = [too_long]
    good = update_reply("restore-renamed-secret-ref", ["`kubectl -n <namespace> get pods`"], [first, second],
                        branch="allow egress to the database")
    script = [completion(create_reply()), completion(json.dumps(bad)), completion(good)]
    with StubOpenAI(script) as stub:
        dist = llm(stub, cassette=str(cassette))
        distill_session(agent, crash("s-1"), dist)
        res = distill_session(agent, crash("s-2", day=3), dist)
        repair = stub.requests[2]["body"]["messages"][-1]["content"]
    assert "at most 300" in repair  # the same rules as every written skill, sent back once
    assert res.decision == "update" and res.new_branch and res.llm_calls == 2
    rb = Runbook.of(agent.get("restore-renamed-secret-ref"))
    assert [b.title for b in rb.branches] == ["re-point the secret reference", "allow egress to the database"]
    assert rb.branches[1].sources == ["s-2"] and rb.branches[1].key == "kubectl apply" and res.branch == rb.branches[1].id
    assert "could not connect" in rb.branches[1].signal
    # twice malformed: rejected, nothing written
    head = agent.store.git.head()
    with StubOpenAI([completion(json.dumps(bad)), completion(json.dumps(bad))]) as stub:
        res = distill_session(agent, crash("s-3", day=4), llm(stub))
    assert res.decision == "error" and "at most 300" in res.error and agent.store.git.head() == head
