"""Consolidation with the real MiniLM model: a planted over-merged skill is split, a planted
duplicate merged, each one commit, with history and aliases intact; --dry-run writes nothing."""

from __future__ import annotations

import json

import pytest

from skilllab import Library, Skill
from skilllab.cli import main
from skilllab.runbook import Branch, Runbook

CRASH = ["Pods of checkout-api in namespace payments are in CrashLoopBackOff: DATABASE_URL is not set",
         "orders-api keeps restarting, the logs say environment variable DATABASE_URL missing"]
CERT = ["The TLS certificate of shop.example.com expired, browsers show a certificate warning",
        "certificate for api.example.com is about to expire in two days, renew it"]


def branchy(name: str, branches: list[Branch], description: str, when: str) -> Skill:
    sk = Skill.new(name, description, agent="sre-oncall", when_to_use=when, steps=["placeholder"],
                   worked=[f"{b.title.removeprefix('Fix: ')} brought the service back" for b in branches],
                   dead_ends=["restarting the pod did not help"], source=None, date="2026-03-01")
    Runbook(steps=["`kubectl -n <namespace> get pods`"], branches=branches).apply(sk)
    sk.set_meta("sources", " ".join(s for b in branches for s in b.sources))
    return sk


@pytest.fixture
def library(tmp_path, minilm):
    lib = Library(tmp_path / "lib", embedder=minilm)
    a = lib.agent("sre-oncall")
    over = branchy("fix-service-problems", [
        Branch("Fix: Set env", ["`kubectl -n <namespace> set env deploy/<service> --from=secret/<service>-env`"],
               "`panic: DATABASE_URL not set`", key="kubectl set env", sources=["c1", "c2"]),
        Branch("Fix: Renew certificate", ["`certbot renew --cert-name <domain>`"], "`certificate has expired`",
               key="certbot renew", sources=["t1", "t2"])],
        "Fix service problems. Use when a service is unhealthy.", "a service is unhealthy")
    a.write(over, "create fix-service-problems")
    desc = "Restart the checkout deployment when its pods hang and stop answering health checks."
    restart = Branch("Fix: Rollout restart deployment", ["`kubectl -n <namespace> rollout restart deploy/<service>`"],
                     "`readiness probe failed`", key="kubectl rollout restart deployment")
    one = branchy("restart-hung-checkout", [Branch(**{**restart.__dict__, "sources": ["r1", "r2", "r3"]})], desc,
                  "the checkout pods hang and stop answering health checks")
    two = branchy("bounce-hanging-checkout", [Branch(**{**restart.__dict__, "sources": ["r4"]})],
                  "Restart the checkout deployment when its pods hang and stop answering their health checks.",
                  "checkout pods hang and stop answering health checks")
    a.write(one, "create restart-hung-checkout")
    a.write(two, "create bounce-hanging-checkout")
    sessions = {"c1": CRASH[0], "c2": CRASH[1], "t1": CERT[0], "t2": CERT[1],
                "r1": "checkout pods hang", "r2": "checkout stopped answering", "r3": "checkout hung", "r4": "hung"}
    return lib, a, sessions


def commits(agent) -> int:
    return len(list(agent.store.git.repo.get_walker()))


def test_dry_run_plans_a_split_and_a_merge_and_writes_nothing(library, tmp_path, capsys):
    lib, a, sessions = library
    before, files = commits(a), sorted(p.name for p in (tmp_path / "lib" / "sre-oncall" / "skills").iterdir())
    p = a.consolidate(sessions, dry_run=True)
    assert [(s.skill, s.stays) for s in p.splits] == [("fix-service-problems", ["kubectl-set-env"])]
    assert p.splits[0].parts[0][1] == ["certbot-renew"] and p.splits[0].similarity < 0.5
    assert [(m.into, m.absorbed) for m in p.merges] == [("restart-hung-checkout", "bounce-hanging-checkout")]
    assert commits(a) == before
    assert sorted(p.name for p in (tmp_path / "lib" / "sre-oncall" / "skills").iterdir()) == files
    corpus = tmp_path / "c.jsonl"
    from helpers import make_session
    corpus.write_text("".join(json.dumps(make_session(sid, task, [("echo", "x")])) + "\n"
                              for sid, task in sessions.items()))
    assert main(["consolidate", "--library", str(tmp_path / "lib"), "--agent", "sre-oncall", "--embedder", "minilm",
                 "--sessions", str(corpus), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would split fix-service-problems" in out and "would merge bounce-hanging-checkout into" in out
    assert commits(a) == before


def test_consolidate_splits_and_merges_one_commit_each_with_history_and_aliases(library):
    lib, a, sessions = library
    before = commits(a)
    p = a.consolidate(sessions)
    assert commits(a) == before + 2  # one split, one merge
    name = p.splits[0].parts[0][0]
    assert "renew" in name and "certificate" not in a.get("fix-service-problems").section("Steps").lower()
    new = a.get(name)
    rb = Runbook.of(new)
    assert [b.key for b in rb.branches] == ["certbot renew"] and rb.branches[0].sources == ["t1", "t2"]
    assert new.sources == ["t1", "t2"] and a.get("fix-service-problems").sources == ["c1", "c2"]
    assert "split from fix-service-problems" in new.section("Changelog")
    left = Runbook.of(a.get("fix-service-problems"))
    assert [b.key for b in left.branches] == ["kubectl set env"]

    merged = a.get("restart-hung-checkout")
    assert merged.sources == ["r1", "r2", "r3", "r4"]
    assert Runbook.of(merged).branches[0].sources == ["r1", "r2", "r3", "r4"]
    assert merged.meta("aliases") == "bounce-hanging-checkout"
    assert not (a.store.skills_dir / "bounce-hanging-checkout").exists()
    assert a.resolve("bounce-hanging-checkout") == "restart-hung-checkout"
    loaded = json.loads(a.tools().handle({"id": "1", "function": {"name": "load_skill", "arguments": json.dumps(
        {"name": "bounce-hanging-checkout"})}})["content"])
    assert loaded["name"] == "restart-hung-checkout"
    hist = a.history("restart-hung-checkout")
    assert any("bounce-hanging-checkout" in v.message for v in hist)
    assert any(v.message.startswith("create bounce-hanging-checkout") for v in hist)  # the old name's history
    assert [h.name for h in a.search("renew the expiring TLS certificate", k=1)] == [name]
    # a second pass finds nothing left to do
    assert not a.consolidate(sessions)
    assert commits(a) == before + 2


def test_a_replay_can_consolidate_every_n_sessions_and_attribution_follows(tmp_path):
    from helpers import make_session

    from skilllab.distill import Decision
    from skilllab.lab.config import ReplayConfig
    from skilllab.lab.replay import run_replay

    desc = "Restart the checkout deployment when its pods hang and stop answering health checks."

    def restart_skill(name: str, sid: str) -> Skill:
        b = Branch("Fix: Rollout restart deployment", ["`kubectl -n <namespace> rollout restart deploy/<service>`"],
                   "`readiness probe failed`", key="kubectl rollout restart deployment", sources=[sid])
        return branchy(name, [b], desc, "the checkout pods hang and stop answering health checks")

    class Twice:
        """Creates the same runbook twice under two names: the duplicate a consolidation merges."""
        name = "twice"

        def decide(self, session, candidates, bar):
            name = {"s1": "restart-hung-checkout", "s2": "bounce-hung-checkout"}.get(session.session_id)
            if name:
                d = Decision("create", "scripted", 1.0, skill=restart_skill(name, session.session_id))
                d.branch = "kubectl-rollout-restart-deployment"
                return d
            return Decision("skip", "scripted", 0.0, target="restart-hung-checkout",
                            branch="kubectl-rollout-restart-deployment")

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(make_session(
        f"s{i}", "checkout pods hang, health checks fail", [("kubectl rollout restart deploy/checkout", "ok")],
        family="hung-checkout", started_at=f"2026-03-0{i}T00:00:00Z")) + "\n" for i in range(1, 5)))
    cfg = ReplayConfig(embedder="hashing", compare=(), bootstrap=0, progress=False, consolidate_every=2)
    res = run_replay(corpus, cfg, distiller=Twice(), out=tmp_path / "run")
    ev = res.events
    assert "merge bounce-hung-checkout into restart-hung-checkout" in ev.loc[1, "consolidation"]
    assert ev["consolidation"].isna().sum() == 3
    assert res.metrics["skills"] == 1 and res.metrics["duplicate_rate"] == 0.0
    assert res.metrics["units"] == 1  # both sources are attributed to the one unit that remains
    off = run_replay(corpus, cfg.with_(consolidate_every=0), distiller=Twice(), out=tmp_path / "run0")
    assert off.metrics["skills"] == 2 and off.metrics["duplicate_rate"] > 0


def test_the_llm_proposes_a_consolidation_validated_like_decisions(library):
    from openai_stub import StubOpenAI
    from test_llm import completion

    from skilllab.distill import get_distiller

    lib, a, sessions = library
    bad = json.dumps({"splits": [{"skill": "fix-service-problems", "leave": [["no-such-branch"]], "reason": "x"}],
                      "merges": []})
    good = json.dumps({"splits": [{"skill": "fix-service-problems", "leave": [["certbot-renew"]],
                                   "reason": "certificates are not crash loops"}],
                       "merges": [{"into": "restart-hung-checkout", "absorbed": "bounce-hanging-checkout",
                                   "reason": "the same runbook"}]})
    with StubOpenAI([completion(bad), completion(good)]) as stub:
        llm = get_distiller("llm", model="stub-model", base_url=stub.base_url, api_key="sk-test-key-not-real",
                            timeout=5, max_retries=0)
        before = commits(a)
        p = a.consolidate(sessions, proposer=llm)
        sent = json.loads(stub.chat_requests[0]["body"]["messages"][1]["content"])
        repair = stub.chat_requests[1]["body"]["messages"][-1]["content"]
    assert {s["name"] for s in sent["skills"]} == {"fix-service-problems", "restart-hung-checkout",
                                                   "bounce-hanging-checkout"}
    assert "no branch 'no-such-branch'" in repair  # the invalid proposal went back for repair
    assert [(s.skill, s.stays, [ids for _, ids in s.parts]) for s in p.splits] == \
        [("fix-service-problems", ["kubectl-set-env"], [["certbot-renew"]])]
    assert [(m.into, m.absorbed) for m in p.merges] == [("restart-hung-checkout", "bounce-hanging-checkout")]
    assert commits(a) == before + 2
    assert a.resolve("bounce-hanging-checkout") == "restart-hung-checkout"

    # proposals that cannot be applied are refused however often they are repeated
    unrelated = json.dumps({"splits": [], "merges": [{"into": "fix-service-problems",
                                                      "absorbed": "restart-hung-checkout", "reason": "x"}]})
    with StubOpenAI([completion(unrelated), completion(unrelated)]) as stub:
        llm = get_distiller("llm", model="stub-model", base_url=stub.base_url, api_key="sk-test-key-not-real",
                            timeout=5, max_retries=0)
        with pytest.raises(ValueError, match="share no fix"):
            a.consolidate(sessions, proposer=llm)
    assert commits(a) == before + 2
