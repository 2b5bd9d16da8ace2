"""The contract every registered distiller keeps (extractive, nearest, llm through a cassette, and a
registered ``scripted`` one): decision shape, targets only among the candidates shown, the
sections a skill needs, the same decisions and files when run again, and never a label."""

from __future__ import annotations

import pytest
from helpers import CRASHLOOP_CALLS, CRASHLOOP_NOTES, make_skill, session
from openai_stub import StubOpenAI
from test_llm import completion, create_reply, update_reply

from skilllab import Library
from skilllab.distill import Decision, distill_session, get_distiller, register_distiller
from skilllab.distill.base import ACTIONS
from skilllab.distill.registry import distiller_names

TASK = "Pods of checkout-api in namespace payments are in CrashLoopBackOff"


class Scripted:
    """A registered distiller of a test: creates from the first session, skips later ones."""

    name = "scripted"

    def decide(self, s, candidates, bar):
        if not candidates:
            return Decision("create", "scripted", 1.0, skill=make_skill("scripted-crashloop", "Fix a crash loop.",
                                                                        source=s.session_id))
        return Decision("skip", "scripted", 0.0, target=candidates[0].skill.name)


register_distiller("scripted", lambda arg=None, **_: Scripted())


class Spy:
    """Wraps a distiller and keeps what it was shown."""

    def __init__(self, inner):
        self.inner, self.seen = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def decide(self, s, candidates, bar):
        self.seen.append((dict(s.labels), [c.skill.name for c in candidates]))
        return self.inner.decide(s, candidates, bar)


def crash(sid, day):
    return session(sid, TASK, CRASHLOOP_CALLS, summary="pointed the deployment at the renamed secret",
                   started_at=f"2026-03-{day:02d}T00:00:00Z", family="crashloop-missing-config", notes=CRASHLOOP_NOTES)


def run_once(tmp, name, embedder, cassette=None, stub=None):
    opts = {}
    if name == "llm":
        opts = {"model": "stub-model", "base_url": stub.base_url if stub else "http://127.0.0.1:9",
                "api_key": "sk-test-key-not-real", "timeout": 5, "max_retries": 0, "cassette": str(cassette),
                "cassette_mode": "auto" if stub else "replay"}
    spy = Spy(get_distiller(name, **opts))
    agent = Library(tmp, embedder=embedder).agent("sre-oncall")
    results = [distill_session(agent, s, spy) for s in (crash("s-1", 2), crash("s-2", 3))]
    files = {p.relative_to(tmp).as_posix(): p.read_text() for p in sorted((tmp / "sre-oncall" / "skills").rglob("*"))
             if p.is_file() and p.name != "usage.json"}
    return spy, results, files, agent


@pytest.mark.parametrize("name", ["extractive", "nearest", "llm", "scripted"])
def test_every_distiller_keeps_the_contract(tmp_path, minilm, name):
    assert name in distiller_names()
    cassette = tmp_path / "llm.jsonl"
    script = [completion(create_reply()), completion(update_reply("restore-renamed-secret-ref", [
        "`kubectl -n <namespace> logs deploy/<service> --previous`"]))]
    with StubOpenAI(script) as stub:
        spy, results, files, agent = run_once(tmp_path / "a", name, minilm, cassette, stub if name == "llm" else None)
    first, second = results
    for r in results:
        assert r.decision in (*ACTIONS, "gated")
        assert r.error in (None, "")
    assert first.decision == "create" and first.skill in agent.names()
    skill = agent.get(first.skill)
    skill.validate(require_sections=True)  # name, description, When to use, Steps, What worked/didn't, Changelog
    assert second.decision in ("update", "skip")
    shown = spy.seen[1][1]
    assert second.skill in shown  # a target is always one of the candidates shown
    assert all(labels == {} for labels, _ in spy.seen)  # labels never reach a distiller
    # the same sessions again give the same decisions and the same files (the llm from its cassette)
    spy2, results2, files2, _ = run_once(tmp_path / "b", name, minilm, cassette, None)
    assert [(r.decision, r.skill) for r in results2] == [(r.decision, r.skill) for r in results]
    strip = lambda fs: {k: "\n".join(x for x in v.splitlines() if "skilllab.created" not in x) for k, v in fs.items()}
    assert strip(files2) == strip(files)
