"""Secrets never reach disk: the planted-secret corpus distilled and replayed, then audited; the
audit itself (path + kind, never the value) and its history-rewriting fix."""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from pathlib import Path

import pytest

from skilllab import Library
from skilllab.audit import audit, fix
from skilllab.cli import main
from skilllab.distill import DistillOptions, DistillQueue, distill_sessions
from skilllab.distill.redact import redact
from skilllab.lab.config import ReplayConfig
from skilllab.lab.corpus_gen.secrets import POSITIONS, SHAPES, planted_corpus
from skilllab.lab.replay import run_replay
from skilllab.session import Session


@pytest.fixture(scope="module")
def planted():
    return planted_corpus(7)


def every_byte_under(root: Path) -> bytes:
    """All file bytes under ``root``, git objects decompressed (loose and packed, via dulwich)."""
    from dulwich.repo import Repo

    chunks = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            data = p.read_bytes()
            if "/.git/objects/" in str(p) and "/pack/" not in str(p):
                with contextlib.suppress(zlib.error):  # a lock or stray file, not an object
                    data = zlib.decompress(data)
            chunks.append(data)
        if dirpath.endswith("/.git"):
            repo = Repo(str(Path(dirpath).parent))
            chunks += [repo.object_store[sha].as_raw_string() for sha in repo.object_store]
            repo.close()
    return b"\n".join(chunks)


def leaked(values, root: Path) -> list[str]:
    blob = every_byte_under(root)
    return [v["kind"] + "@" + v["position"] for v in values if v["value"].encode() in blob]


def test_the_planted_corpus_has_every_shape_in_every_position(planted):
    sessions, values = planted
    assert len(SHAPES) >= 25 and len({s.kind for s in SHAPES}) == len(SHAPES)
    assert len(sessions) == len(SHAPES) * len(POSITIONS)
    for s, v in zip(sessions, values):
        Session.from_dict(s)  # a valid session
        text = json.dumps(s)
        assert v["value"] in json.dumps(s, ensure_ascii=False) or json.dumps(v["value"])[1:-1] in text
        assert v["value"] not in json.dumps(s["labels"])
        assert s["labels"]["planted"] == {"kind": v["kind"], "position": v["position"]}
        where = {"task": s["task"], "summary": s["outcome"]["summary"],
                 "assistant": " ".join(m["content"] or "" for m in s["messages"] if m["role"] == "assistant"),
                 "diagnostic": " ".join(m["content"] for m in s["messages"] if m["role"] == "tool"),
                 "fix": " ".join(c["function"]["arguments"] for m in s["messages"] for c in m.get("tool_calls") or [])}
        assert v["value"] in where[v["position"]] or json.dumps(v["value"])[1:-1] in where[v["position"]]


def test_the_audit_sees_every_planted_shape_and_never_prints_the_value(planted, tmp_path, capsys):
    sessions, values = planted
    for s, v in zip(sessions, values):
        p = tmp_path / f"{s['session_id']}.json"
        p.write_text(json.dumps(s))
        assert audit([p]).findings, v["kind"] + "@" + v["position"]
    assert main(["audit", "--no-cache", "--library", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "planted-0001.json" in out and "aws_access_key_id" in out
    assert not [v for v in values if v["value"] in out]


@pytest.mark.parametrize("bar", [0.0, None], ids=["bar0", "default-bar"])
def test_distilling_the_planted_corpus_writes_no_secret(planted, tmp_path, hashing, bar):
    sessions, values = planted
    lib = Library(tmp_path / "lib", embedder=hashing)
    results = [r for _, r in distill_sessions(lib, [Session.from_dict(s) for s in sessions],
                                              options=DistillOptions(bar=bar))]
    made = sum(r.decision in ("create", "update") for r in results)
    assert made >= (len(sessions) * 0.9 if bar == 0.0 else 10)  # the sessions did reach skill files
    assert not [r for r in results if r.decision in ("error", "invalid")]
    queue = DistillQueue(lib, "sre-oncall")
    for s in sessions[:40]:
        queue.submit(dict(s, agent_id="sre-oncall"))
    report = audit([tmp_path / "lib"])
    assert report.repositories and report.git_objects > 100
    assert report.findings == []
    assert leaked(values, tmp_path / "lib") == []


def test_replaying_the_planted_corpus_leaves_no_secret_in_the_run_folder(planted, tmp_path):
    sessions, values = planted
    corpus = tmp_path / "planted.jsonl"
    corpus.write_text("".join(json.dumps(s) + "\n" for s in sessions))
    run_replay(corpus, ReplayConfig(embedder="hashing", progress=False, bootstrap=0, novelty_bar=0.0),
               out=tmp_path / "run")
    assert (tmp_path / "run" / "arms" / "nearest").is_dir()  # the baseline arm wrote its library too
    assert audit([tmp_path / "run"]).findings == []
    assert leaked(values, tmp_path / "run") == []


def hand_leak(tmp_path, hashing):
    """A library where a hand edit put a password in a skill file and it was committed (as an older
    skilllab, or a person, could), and a note file beside it holds the same password."""
    from helpers import make_skill

    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("sre-oncall")
    agent.write(make_skill("restart-checkout", "Restart the checkout pods when they stop answering."),
                "create restart-checkout")
    path = agent.store.skill_path("restart-checkout")
    secret = "Harbor7781#qpx"
    path.write_text(path.read_text().replace("look at it", f"mysql -h orders-db -u root -p{secret} -e 'SHOW STATUS'"))
    assert agent.commit_hand_edits() is not None
    (tmp_path / "lib" / "sre-oncall" / "notes.json").write_text(json.dumps({"db": {"password": secret}}))
    return agent.store.root, secret


def git_log(root: Path) -> list[str]:
    from dulwich.repo import Repo

    repo = Repo(str(root))
    try:
        return [e.commit.message.decode() for e in repo.get_walker()]
    finally:
        repo.close()


def test_fix_rewrites_history_so_the_value_is_gone_and_the_library_still_works(tmp_path, hashing, capsys):
    root, secret = hand_leak(tmp_path, hashing)
    assert secret.encode() in every_byte_under(root)
    before = audit([root])
    kinds = {(Path(f.path).name, f.kind, f.where.split()[-1] if f.where == "file" else f.where.split()[1])
             for f in before.findings}
    assert ("SKILL.md", "mysql_password", "blob") in kinds and ("SKILL.md", "mysql_password", "file") in kinds
    assert any(Path(f.path).name == "notes.json" for f in before.findings)
    messages = git_log(root)

    snapshot = every_byte_under(root)
    plan, _ = fix([root], dry_run=True)
    assert every_byte_under(root) == snapshot  # a dry run changes nothing
    assert str(root) in plan.rewrite_histories and plan.rewrite_histories[str(root)]["blobs"] >= 1
    assert any(p.endswith("SKILL.md") for p in plan.redact_files)

    assert main(["audit", "--no-cache", "--library", str(tmp_path / "lib"), "--fix"]) == 0
    out = capsys.readouterr().out
    assert "after the fix: 0 findings" in out and secret not in out
    assert secret.encode() not in every_byte_under(root)
    assert audit([root]).findings == []
    assert len(git_log(root)) == len(messages)  # the same commits, redacted
    assert not list(root.glob(".git.pre-audit-*")) and not list(root.glob(".git.audit-*"))

    agent = Library(tmp_path / "lib", embedder=hashing).agent("sre-oncall")
    skill = agent.get("restart-checkout")
    assert "-p[REDACTED]" in skill.render()
    assert len(agent.history("restart-checkout")) >= 2
    from helpers import make_skill

    agent.write(make_skill("drain-node", "Drain a node before maintenance."), "create drain-node")
    from dulwich.repo import Repo

    repo = Repo(str(root))
    tree = repo[repo.head()].tree
    paths = {p.decode() for p, _m, _s in repo.object_store.iter_tree_contents(tree)}
    repo.close()
    assert {"skills/restart-checkout/SKILL.md", "skills/drain-node/SKILL.md"} <= paths
    assert agent.store.pending("restart-checkout") is None  # the working file is what the new history holds


def test_redaction_keeps_names_ids_and_settings_that_are_not_secrets():
    for text in ["skilllab.sources: tau2-airline-azure-gpt-4o-036 tau2-airline-aide-claude-sonnet-4-5-001",
                 "skills/you-want-to-cancel-reservation-ehglp3-it-may-be/SKILL.md",
                 "skilllab.branch.kubectl-create-secret-write-host-fullchain-pem: s-000430 s-000483",
                 "ike=aes256-sha256-modp2048", "secretName: checkout-db", "max_tokens=4096"]:
        assert redact(text) == text, text
    for text, value in [("db.password=Harbor7781#q", "Harbor7781#q"), ("client_secret: k2J9xQ0pLm3", "k2J9xQ0pLm3"),
                        ("token=Zx81Kq0LmNvB72hHsd0Q1a9P", "Zx81Kq0LmNvB72hHsd0Q1a9P")]:
        assert value not in redact(text), text


def test_a_digest_alone_is_not_a_finding_but_a_hex_value_after_a_keyword_is():
    from skilllab.audit import scan_text

    digest = "3f" * 32  # a sha256 as skilllab writes them in sidecars and ledgers
    assert scan_text(f"file_sha: {digest}\ncommit {digest[:40]}\n") == {}
    assert scan_text(f"export API_KEY={digest}\n")  # the same shape after a secret's name is reported
