"""Faults: killed processes, damaged derived state, stale locks, bad input, and reads that must not write.

Each test here is a problem found by trying skilllab as a user would and under deliberate faults;
it failed before the fix it covers.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import CRASHLOOP_CALLS, make_session, make_skill
from openai_stub import StubOpenAI
from test_llm import completion, create_reply

from skilllab import Library
from skilllab.cli import main
from skilllab.corpus import CorpusError, read_corpus
from skilllab.session import Session

HERE = Path(__file__).parent
TASK = "Pods of checkout-api in namespace payments are in CrashLoopBackOff"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def crash(sid, day=2, **kw):
    return make_session(sid, TASK, CRASHLOOP_CALLS, summary="re-pointed the secret reference",
                        started_at=f"2026-03-{day:02d}T00:00:00Z", **kw)


def write_corpus(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ---- 1. a failed LLM call is an error that is retried, and an unusable endpoint stops the run ----------
def test_unreachable_endpoint_stops_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    corpus = write_corpus(tmp_path / "s.jsonl", [crash("s-1")])
    lib = tmp_path / "lib"
    code, out, err = run(capsys, "distill", corpus, "--library", lib, "--embedder", "hashing", "--distiller", "llm",
                         "--base-url", "http://127.0.0.1:9/v1")
    assert code == 1 and err.count("\n") == 1 and "cannot reach the llm endpoint at http://127.0.0.1:9/v1" in err
    assert not (lib / "sre-oncall" / "state").exists()
    code, out, err = run(capsys, "distill", corpus, "--library", lib, "--embedder", "hashing", "--distiller", "llm")
    assert code == 1 and "needs OPENAI_API_KEY" in err and "malformed" not in err
    with StubOpenAI([]) as stub:
        stub.models_status = 401
        code, out, err = run(capsys, "distill", corpus, "--library", lib, "--embedder", "hashing", "--distiller",
                             "llm", "--base-url", stub.base_url)
    assert code == 1 and "refused the API key" in err
    code, out, err = run(capsys, "replay", corpus, "--out", tmp_path / "run", "--set", "embedder=hashing",
                         "--set", "distiller=llm", "--set", "llm_base_url=http://127.0.0.1:9/v1")
    assert code == 1 and "cannot reach" in err and not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run.tmp-*"))


def test_a_failed_llm_call_is_an_error_retried_by_the_next_run(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "s.jsonl", [crash("s-1")])
    lib = ["--library", tmp_path / "lib", "--embedder", "hashing", "--distiller", "llm"]
    broken = [{"status": 500, "body": {"error": {"message": "upstream down"}}}] * 8
    with StubOpenAI(broken) as stub:
        code, out, err = run(capsys, "distill", corpus, *lib, "--base-url", stub.base_url)
    assert code == 1 and "error 1" in out and "the next run tries them again" in err
    agent = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    rec = agent.ledger.get("s-1")
    assert rec["decision"] == "error" and rec["attempts"] == 1 and "InternalServerError" in rec["error"]
    with StubOpenAI([completion(create_reply())]) as stub:
        code, out, err = run(capsys, "distill", corpus, *lib, "--base-url", stub.base_url)
    assert code == 0 and "0 already distilled, 1 new (create 1" in out
    # the command and the loop it runs both check the endpoint first: it is asked once
    assert [r["path"] for r in stub.requests].count("/v1/models") == 1
    rec = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall").ledger.get("s-1")
    assert rec["decision"] == "create" and rec["attempts"] == 2
    code, out, err = run(capsys, "distill", corpus, *lib, "--base-url", "http://127.0.0.1:9/v1")
    # settled now: a rerun asks nothing of the endpoint, not even whether it is there... but the
    # preflight still guards a run that might need it, so an unreachable endpoint is reported
    assert code == 1 and "cannot reach" in err


# ---- 2. huge input is bounded ---------------------------------------------------------------------
def test_a_line_over_the_limit_is_named_and_skipped_unread(tmp_path, capsys):
    big = crash("s-2", day=3)
    big["messages"][2]["content"] = "x" * (12 * 2**20)  # a 12 MB tool output on one line
    corpus = write_corpus(tmp_path / "big.jsonl", [crash("s-1"), big])
    with pytest.raises(CorpusError, match=r"big.jsonl:2: \(line\): \d+ bytes, over the limit of 10485760"):
        read_corpus(corpus)
    sessions, problems = read_corpus(corpus, lenient=True)
    assert [s.session_id for s in sessions] == ["s-1"] and problems[0].line == 2


def test_distilling_a_50_mb_line_takes_bounded_work(tmp_path):
    code = """
        import json, sys
        from helpers import CRASHLOOP_CALLS, make_session
        from skilllab import Library
        from skilllab.session import Session
        d = make_session("s-1", "Pods of a in namespace b are in CrashLoopBackOff", CRASHLOOP_CALLS, summary="fixed")
        d["messages"][4]["content"] = ("tok=" + "Ab3" * 40 + " ") * (50 * 2**20 // 125)
        d["task"] = d["task"] + " " + "y" * (2 * 2**20)
        res = Library(sys.argv[1], embedder="hashing").agent("sre-oncall").distill(Session.from_dict(d))
        print(res.decision)
    """
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    # a guard against a hang (the bug this covers ran for more than 15 minutes), not a speed goal
    res = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "lib")],
                         capture_output=True, text=True, env=env, timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "create"


# ---- 3. one-line errors ---------------------------------------------------------------------------------
def test_user_mistakes_are_one_line(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "binary.jsonl").write_bytes(json.dumps(crash("s-1")).encode() + b"\n\xff\xfe\x00garbage\n")
    (tmp_path / "empty.jsonl").write_text("")
    cases = [(["corpus", "validate", tmp_path / "nope.jsonl"], "nope.jsonl: no such corpus file"),
             (["distill", tmp_path / "folder", "--library", tmp_path / "lib"], "is a folder"),
             (["distill", tmp_path / "binary.jsonl", "--library", tmp_path / "lib", "--embedder", "hashing"],
              "binary.jsonl:2: (line): not UTF-8 text (byte 0"),
             (["replay", tmp_path / "empty.jsonl", "--out", tmp_path / "r"], "empty.jsonl: no sessions in the file"),
             (["corpus", "stats", tmp_path / "binary.jsonl"], "binary.jsonl:2:")]
    for argv, msg in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1 and err.count("\n") == 1 and msg in err and "Traceback" not in err, (argv, err)
    code, out, err = run(capsys, "corpus", "validate", tmp_path / "binary.jsonl", "--lenient")
    assert code == 0 and "binary.jsonl:2: (line): not UTF-8" in out
    # a full disk (or any failing write) reaches the user as one line naming the file
    lib = Library(tmp_path / "lib2", embedder="hashing")
    lib.agent("a1")

    def full(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "lib2" / "a1" / "skills" / "x" / "SKILL.md"))

    import skilllab.store as store

    orig = store.atomic_write
    store.atomic_write = full
    try:
        code, out, err = run(capsys, "distill", write_corpus(tmp_path / "one.jsonl", [crash("s-9")]), "--library",
                             tmp_path / "lib2", "--embedder", "hashing")
    finally:
        store.atomic_write = orig
    assert code == 1 and "No space left on device" in err and "SKILL.md" in err and "Traceback" not in err


def test_demo_runs_from_any_directory(tmp_path):
    res = subprocess.run([sys.executable, "-m", "skilllab", "demo", "--embedder", "hashing", "--json", "--out",
                          str(tmp_path / "demo")], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert {r["agent"] for r in rows} == {"sre-oncall", "dba"}


# ---- 4. the API validates as the reader does --------------------------------------------------------
def test_session_from_dict_validates_exactly_as_the_reader():
    bad = crash("s-1")
    bad["outcome"]["success"] = "false"
    with pytest.raises(CorpusError, match=r"outcome\.success: must be true or false"):
        Session.from_dict(bad)
    missing = crash("s-2")
    missing.pop("task")
    with pytest.raises(CorpusError, match=r"task: missing \(required\)"):
        Session.from_dict(missing)


# ---- 5 and 6. nothing that only reads ever writes -----------------------------------------------------
def test_replay_or_load_never_deletes_a_run(tmp_path):
    from skilllab.lab.analysis import replay_or_load
    from skilllab.lab.config import ReplayConfig

    corpus = write_corpus(tmp_path / "c.jsonl", [crash("s-1", family="A"), crash("s-2", day=3, family="A")])
    first = ReplayConfig(embedder="hashing", progress=False, bootstrap=0)
    a = replay_or_load(corpus, first, tmp_path / "main")
    stamp = (tmp_path / "main" / "metrics.json").read_bytes()
    b = replay_or_load(corpus, first.with_(novelty_bar=0.7), tmp_path / "main")
    assert a.path == tmp_path / "main" and b.path != a.path and b.path.parent == tmp_path
    assert (tmp_path / "main" / "metrics.json").read_bytes() == stamp
    again = replay_or_load(corpus, first.with_(novelty_bar=0.7), tmp_path / "main")
    assert again.path == b.path  # found beside it, not replayed


def test_a_finished_run_folder_opened_read_only_is_not_changed(tmp_path):
    from skilllab.lab.config import ReplayConfig
    from skilllab.lab.replay import run_replay

    corpus = write_corpus(tmp_path / "c.jsonl", [crash("s-1", family="A")])
    run_replay(corpus, ReplayConfig(embedder="hashing", progress=False, bootstrap=0, compare=()),
               out=tmp_path / "run")
    agent_dir = tmp_path / "run" / "library" / "sre-oncall"
    before = {p: p.stat().st_mtime_ns for p in agent_dir.rglob("*")}
    agent = Library(tmp_path / "run" / "library", embedder="minilm", read_only=True).agent("sre-oncall")
    assert agent.search("pods crash looping", k=1) and agent.recall("pods crash looping", min_similarity=0.0)
    agent.close()
    assert {p: p.stat().st_mtime_ns for p in agent_dir.rglob("*")} == before
    with pytest.raises(Exception, match="read-only"):
        agent.set_novelty_bar(0.6)


# ---- 7. lifecycle gaps ---------------------------------------------------------------------------
def test_reactivate_restore_status_and_argument_ranges(tmp_path, capsys):
    lib = ["--library", tmp_path / "lib", "--agent", "sre-oncall", "--embedder", "hashing"]
    corpus = write_corpus(tmp_path / "s.jsonl", [crash("s-1")])
    run(capsys, "distill", corpus, "--library", tmp_path / "lib", "--embedder", "hashing")
    name = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall").names()[0]
    assert run(capsys, "skills", "deprecate", name, *lib)[0] == 0
    code, out, _ = run(capsys, "skills", "reactivate", name, *lib)
    assert code == 0 and out.startswith(f"reactivated {name} (was deprecated)")
    run(capsys, "skills", "deprecate", name, *lib)
    run(capsys, "skills", "rm", name, *lib)
    code, out, _ = run(capsys, "skills", "restore", name, *lib)
    assert code == 0 and "with status deprecated" in out and f"skills reactivate {name}" in out
    run(capsys, "skills", "rm", name, *lib)
    code, out, _ = run(capsys, "skills", "restore", name, *lib, "--status", "active")
    assert code == 0 and "with status active" in out
    for argv in (["skills", "stale", "--days", "-5", *lib], ["search", "x", "-k", "0", *lib],
                 ["distill", corpus, "--bar", "1.5", "--library", tmp_path / "lib"]):
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in argv])
        assert exc.value.code == 2
    capsys.readouterr()


# ---- 9. a stale git lock neither bricks reads nor writes -------------------------------------------
def test_a_stale_git_lock_is_cleared_by_the_next_write(tmp_path, capsys, caplog):
    disk = make_session("s-1", "Node ip-10-0-3-4 is under DiskPressure and evicting pods", [
        ("kubectl describe node ip-10-0-3-4", "Conditions: DiskPressure True"),
        ("crictl rmi --prune", "Deleted 41 images")], summary="pruned images", started_at="2026-03-04T00:00:00Z")
    corpus = write_corpus(tmp_path / "s.jsonl", [disk, crash("s-2", day=3, success=False)])
    lib = ["--library", tmp_path / "lib", "--embedder", "hashing"]
    run(capsys, "distill", write_corpus(tmp_path / "first.jsonl", [crash("s-0", day=1)]), *lib)
    gitdir = tmp_path / "lib" / "sre-oncall" / ".git"
    for lock in (gitdir / "index.lock", gitdir / "refs" / "heads" / "master.lock"):
        lock.write_text("left by a killed process")
        os.utime(lock, (time.time() - 60, time.time() - 60))
    code, out, _ = run(capsys, "skills", "list", *lib, "--agent", "sre-oncall")
    assert code == 0 and out.count("\n") >= 2  # a read needs no git lock
    code, out, err = run(capsys, "distill", corpus, *lib)
    assert code == 0, err
    assert not (gitdir / "index.lock").exists() and not (gitdir / "refs" / "heads" / "master.lock").exists()
    assert "stale git lock" in caplog.text


# ---- 10. damaged derived state is rebuilt; a damaged blob is reported -------------------------------
def test_damaged_derived_state_is_rebuilt_and_a_bad_file_is_reported(tmp_path, capsys, caplog):
    lib = Library(tmp_path / "lib", embedder="hashing")
    agent = lib.agent("sre-oncall")
    first = agent.distill(Session.from_dict(crash("s-1")))
    agent.close()
    [index] = list((agent.root / "index").iterdir())
    (index / "meta.json").write_text('{"schema": 2, "embedder": "hash')  # torn
    again = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    assert again.search("pods crash", k=1)[0].name == first.skill
    again.close()
    labels = next(index.glob("*.labels.json"))
    meta = json.loads(labels.read_text())
    meta["dim"] = 7
    labels.write_text(json.dumps(meta))  # a wrong-dimension labels file
    assert Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall").search("pods crash", k=1)
    ledger = agent.root / "state" / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes() + b'{"session_id": "s-x", "dec\x00ision"}\n')
    again = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    assert again.ledger.get("s-1")["decision"] == "create" and again.ledger.bad_lines == [2]
    assert "unreadable ledger line" in caplog.text
    # a damaged embedding cache is moved aside and rebuilt
    cache = tmp_path / "cache"
    emb = Library(tmp_path / "lib3", embedder="st:" + str(Path(__file__).parent), cache_dir=cache)
    del emb
    cache.mkdir()
    (cache / "embeddings.sqlite").write_bytes(b"this is not a database" * 100)
    from skilllab.embed.cache import EmbeddingCache

    c = EmbeddingCache(cache / "embeddings.sqlite")
    assert c.get_many(["k"]) == {}
    c.put_many({"k": b"1234"})
    assert c.get_many(["k"]) == {"k": b"1234"} and list(cache.glob("embeddings.sqlite.damaged-*"))
    # a skill file that cannot be parsed is reported and left alone
    bad = agent.root / "skills" / first.skill / "SKILL.md"
    bad.write_text("---\nname: [unclosed\n---\n")
    code, out, err = run(capsys, "skills", "list", "--library", tmp_path / "lib", "--agent", "sre-oncall",
                         "--embedder", "hashing")
    assert code == 0 and "invalid YAML front matter" in err and bad.read_text() == "---\nname: [unclosed\n---\n"
    code, out, err = run(capsys, "check", "--library", tmp_path / "lib", "--agent", "sre-oncall", "--embedder",
                         "hashing", "--json")
    rows = {r["area"]: r for r in json.loads(out)}
    assert rows["skill files"]["status"] == "damaged" and rows["ledger"]["status"] == "repaired"
    assert code == 1


def test_a_damaged_git_blob_is_one_line_and_found_by_check(tmp_path, capsys):
    lib = Library(tmp_path / "lib", embedder="hashing")
    agent = lib.agent("sre-oncall")
    res = agent.distill(Session.from_dict(crash("s-1")))
    agent.close()
    objects = agent.root / ".git" / "objects"
    blob = agent.store.git.repo[agent.store.git.head().encode()].tree
    tree = agent.store.git.repo[blob]
    skills_tree = agent.store.git.repo[tree[b"skills"][1]]
    skill_tree = agent.store.git.repo[skills_tree[res.skill.encode()][1]]
    sha = skill_tree[b"SKILL.md"][1].decode()
    path = objects / sha[:2] / sha[2:]
    path.chmod(0o644)
    path.write_bytes(b"\x78\x9cgarbage")
    code, out, err = run(capsys, "skills", "history", res.skill, "--library", tmp_path / "lib", "--agent",
                         "sre-oncall", "--embedder", "hashing")
    assert code == 1 and "cannot be read" in err and "skilllab check" in err and "Traceback" not in err
    code, out, err = run(capsys, "check", "--library", tmp_path / "lib", "--agent", "sre-oncall", "--embedder",
                         "hashing", "--json")
    rows = {r["area"]: r for r in json.loads(out)}
    assert code == 1 and rows["git objects"]["status"] == "damaged" and "SKILL.md" in rows["git objects"]["detail"]


# ---- 11. write, commit and ledger are one recoverable step ------------------------------------------
@pytest.mark.parametrize("reopened_durable", [True, False])
@pytest.mark.parametrize("crash_at", ["before_commit", "after_commit"])
def test_a_crash_mid_change_is_finished_with_the_right_message_and_ledger(tmp_path, crash_at, reopened_durable):
    """A durable library killed mid-change leaves its intent record; the next handle finishes the
    change, a scratch one too (it writes no record itself, and looks for one once a hold)."""
    code = f"""
        import json, os, sys
        from skilllab import Library
        from skilllab.session import Session
        import skilllab.history as history
        import skilllab.distill.ledger as ledger
        if "{crash_at}" == "before_commit":
            orig = history.GitHistory._commit
            history.GitHistory._commit = lambda self, paths, message, when: (
                os._exit(9) if message.startswith("create") else orig(self, paths, message, when))
        else:
            ledger.Ledger.add = lambda *a, **k: os._exit(9)
        agent = Library(sys.argv[1], embedder="hashing").agent("sre-oncall")
        agent.distill(Session.from_dict(json.loads(sys.argv[2])))
    """
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    res = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "lib"),
                          json.dumps(crash("s-1"))], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 9, res.stderr
    assert (tmp_path / "lib" / "sre-oncall" / "state" / "intent.json").exists()
    agent = Library(tmp_path / "lib", embedder="hashing", durable=reopened_durable).agent("sre-oncall")
    again = agent.distill(Session.from_dict(crash("s-2", day=3)))  # the next change finishes the first
    assert again.decision in ("skip", "update")
    [name] = agent.names()
    messages = [v.message for v in agent.history(name)]
    assert messages[0].startswith(f"create {name} from session s-1")  # not "hand edit of ..."
    assert not any("hand edit" in m for m in messages)
    assert agent.ledger.get("s-1")["decision"] == "create"
    assert not (agent.root / "state" / "intent.json").exists()


@pytest.mark.parametrize("die_after", [1, 2, 3])
def test_a_change_cut_off_between_its_files_is_written_again_in_full(tmp_path, die_after):
    """A merge writes the survivor's script, then its SKILL.md, then removes the other skill. Killed
    after any of those files, the next writer must finish all of it as one commit with the merge's
    message (it used to commit whatever part had reached the disk)."""
    code = f"""
        import os, sys
        from helpers import make_skill
        from skilllab import Library
        import skilllab.store as store
        agent = Library(sys.argv[1], embedder="hashing").agent("sre-oncall")
        agent.write(make_skill("restart-api", "Restart the api pods."), "create restart-api")
        agent.write(make_skill("bounce-api", "Bounce the api pods.", source="s-2"), "create bounce-api",
                    files={{"scripts/bounce.sh": "kubectl delete pod -l app=api\\n"}})
        merged = make_skill("restart-api", "Restart the api pods (merged).", steps=("look", "restart", "check"))
        calls = [0]
        orig_write, orig_unlink = store.atomic_write, store.Path.unlink
        def counted(fn):
            def inner(*a, **k):
                out = fn(*a, **k)
                if "intent.json" not in str(a[0]):
                    calls[0] += 1
                    if calls[0] == {die_after}:
                        os._exit(9)
                return out
            return inner
        store.atomic_write = counted(orig_write)
        store.Path.unlink = counted(orig_unlink)
        agent.apply_change([(merged, {{"scripts/bounce.sh": "kubectl delete pod -l app=api\\n"}})], ["bounce-api"],
                           "merge bounce-api into restart-api")
    """
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{HERE.parent}"}
    res = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "lib")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 9, res.stderr
    agent = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    assert "merge bounce-api into restart-api" in agent.recover()
    assert agent.names() == ["restart-api"]
    assert agent.get("restart-api").description == "Restart the api pods (merged)."
    assert agent.store.read_bundled("restart-api", "scripts/bounce.sh") == b"kubectl delete pod -l app=api\n"
    assert not (agent.root / "skills" / "bounce-api").exists()
    messages = [v.message for v in agent.history("restart-api")]
    assert messages == ["create restart-api", "merge bounce-api into restart-api"]
    assert [v.message for v in agent.history("bounce-api")] == ["create bounce-api", "merge bounce-api into restart-api"]
    assert agent.store.pending("restart-api") is None and agent.recover() == ""  # nothing left, nothing done twice
    assert not (agent.root / "state" / "intent.json").exists()


def test_a_git_object_lock_left_by_a_killed_commit_does_not_block_the_next_one(tmp_path):
    """A kill while dulwich wrote a loose object left ``objects/ab/cdef....lock``; every later commit
    of that same object then failed with "the repository is locked by another git process"."""
    from helpers import make_skill

    from skilllab.store import git_blob_id

    agent = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    skill = make_skill("restart-api", "Restart the api pods.")
    blob = git_blob_id(skill.render().encode("utf-8")).decode()
    lock = agent.root / ".git" / "objects" / blob[:2] / f"{blob[2:]}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(b"half an object")
    assert agent.write(skill, "create restart-api")
    assert not lock.exists() and [v.message for v in agent.history("restart-api")] == ["create restart-api"]
    other = agent.root / ".git" / "objects" / "ab" / ("c" * 38 + ".lock")
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(b"")
    from skilllab.check import check_agent

    agent.close()
    assert any("removed" in f.detail and other.name in f.detail for f in check_agent(agent.library, "sre-oncall"))
    assert not other.exists()


# ---- 12. what was silently accepted -------------------------------------------------------------
@pytest.mark.parametrize("mutate,field,message", [
    (lambda d: d["messages"][1]["tool_calls"][0]["function"].update(arguments="{not json"),
     "messages[1].tool_calls[0].function.arguments", "not valid JSON"),
    (lambda d: d["outcome"].update(reward=float("nan")), "(line)", "NaN is not a number JSON allows"),
    (lambda d: d.update(started_at="2026-03-02T03:14:00"), "started_at", "has no time zone"),
])
def test_bad_input_that_used_to_pass_is_an_error(tmp_path, mutate, field, message):
    d = crash("s-1")
    mutate(d)
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(d, allow_nan=True) + "\n")
    with pytest.raises(CorpusError) as err:
        read_corpus(path)
    p = err.value.problems[0]
    assert (p.line, p.field) == (1, field) and message in p.message


def test_the_same_session_id_with_other_content_warns_naming_both(tmp_path, capsys):
    lib = ["--library", tmp_path / "lib", "--embedder", "hashing"]
    run(capsys, "distill", write_corpus(tmp_path / "a.jsonl", [crash("s-1")]), *lib)
    other = crash("s-1")
    other["task"] = "Something else entirely happened to checkout-api in payments"
    code, out, err = run(capsys, "distill", write_corpus(tmp_path / "b.jsonl", [other]), *lib)
    assert code == 0 and "was distilled before from other content" in err
    assert "ledger.jsonl:1" in err and "b.jsonl:1 is ignored" in err
    code, out, err = run(capsys, "distill", tmp_path / "a.jsonl", *lib)
    assert "other content" not in err  # the same content again is simply already distilled


# ---- the fault suite: kill distilling processes at random points -------------------------------------
def test_random_kills_lose_and_duplicate_nothing(tmp_path):
    from skilllab.lab.corpus_gen import generate_to_file

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=4, sessions=200)  # more than six kills' worth, so every kill lands mid-run
    argv = [sys.executable, "-m", "skilllab", "distill", str(corpus), "--embedder", "hashing", "--json"]
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    clean = subprocess.run(argv + ["--library", str(tmp_path / "clean")], capture_output=True, text=True, env=env,
                           timeout=600)
    assert clean.returncode == 0, clean.stderr
    rng = random.Random(3)
    kills = 0

    def settled() -> int:
        return sum(len(f.read_text().splitlines()) for f in (tmp_path / "killed").glob("*/state/ledger.jsonl"))

    for _ in range(6):
        start = settled()
        goal = start + rng.randint(3, 25)  # kill after a random number of sessions, at a random moment
        p = subprocess.Popen(argv + ["--library", str(tmp_path / "killed")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        while p.poll() is None and settled() < goal:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    final = subprocess.run(argv + ["--library", str(tmp_path / "killed")], capture_output=True, text=True, env=env,
                           timeout=600)
    assert final.returncode == 0, final.stderr
    assert kills == 6  # every run was killed mid-way
    sessions = [json.loads(line)["session_id"] for line in corpus.read_text().splitlines()]
    for root in ("clean", "killed"):
        for agent_id in Library(tmp_path / root, embedder="hashing").agents():
            agent = Library(tmp_path / root, embedder="hashing").agent(agent_id)
            lines = [json.loads(x)["session_id"] for x in (agent.root / "state" / "ledger.jsonl").read_text().splitlines()]
            assert len(lines) == len(set(lines))  # no session distilled twice
            writes = [r for r in agent.ledger.records() if r["decision"] in ("create", "update")]
            commits = sum(len(agent.history(n)) for n in agent.names())
            assert commits == len(writes), (root, agent_id)
    by_root = {}
    for root in ("clean", "killed"):
        lib = Library(tmp_path / root, embedder="hashing")
        by_root[root] = {a: sorted(r["session_id"] for r in lib.agent(a).ledger.records()) for a in lib.agents()}
    assert sorted(s for v in by_root["killed"].values() for s in v) == sorted(sessions)  # none lost
    # the library a killed run ends with is the library a clean run builds
    for a in by_root["clean"]:
        clean_files = {p.name: p.read_text() for p in (tmp_path / "clean" / a / "skills").glob("*/SKILL.md")}
        killed_files = {p.name: p.read_text() for p in (tmp_path / "killed" / a / "skills").glob("*/SKILL.md")}
        assert sorted(clean_files) == sorted(killed_files)


def test_atomic_write_makes_a_missing_folder_and_leaves_no_temporary_file(tmp_path):
    from skilllab._fs import atomic_write

    target = tmp_path / "a" / "b" / "SKILL.md"
    atomic_write(target, "first")  # the folders do not exist yet
    atomic_write(target, "second")  # the folder exists: replaced in place
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["SKILL.md"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):  # a file where a folder should be: an error, nothing written
        atomic_write(tmp_path / "file" / "SKILL.md", "third")
    assert (tmp_path / "file").read_text() == "x"


def test_a_durable_library_flushes_each_write_and_a_scratch_one_only_commits(tmp_path, monkeypatch):
    """``durable`` (the default) flushes the intent, the skill's files and the ledger record of
    every write to the disk; a library opened with ``durable=False`` (a replay's scratch library)
    writes the same files, atomically, and commits the same history, without those flushes."""
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    trees = {}
    for durable in (True, False):
        flushed.clear()
        lib = Library(tmp_path / str(durable), embedder="hashing", durable=durable)
        agent = lib.agent("sre-oncall")
        for i, day in enumerate((2, 3)):
            agent.distill(Session.from_dict(crash(f"s{i}", day=day)))
        # git's own files are flushed by git (dulwich); the index cache is saved once, on close
        ours = [p for p in flushed if "/.git/" not in p and "/index/" not in p]
        if durable:
            assert any(p.endswith("ledger.jsonl") for p in ours)
            assert any("/skills/" in p for p in ours) and any("intent" in Path(p).name for p in ours)
        else:
            assert ours == [], ours
        root = tmp_path / str(durable) / "sre-oncall"
        trees[durable] = ({p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "skills").rglob("*")
                           if p.is_file()}, len((root / "state" / "ledger.jsonl").read_text().splitlines()),
                          [c.message for c in agent.store.git.log("skills")])
        agent.close()
    assert trees[True] == trees[False] and trees[True][1] == 2 and trees[True][2]


def test_a_scratch_library_writes_its_git_index_once_on_close(tmp_path):
    """A library that is not durable keeps the git index of its commits in memory and writes it
    when the agent closes: until then the file is as the first commit left it; afterwards git
    sees every committed file staged and nothing changed (``git status`` is clean)."""
    from dulwich import porcelain
    from dulwich.repo import Repo

    agent = Library(tmp_path / "lib", embedder="hashing", durable=False).agent("sre-oncall")
    for i, day in enumerate((2, 3, 4)):
        agent.distill(Session.from_dict(crash(f"s{i}", day=day)))
    root = agent.root
    committed = {p.decode() for p, _m, _s in Repo(str(root)).object_store.iter_tree_contents(
        Repo(str(root))[Repo(str(root)).head()].tree)}
    on_disk_before = {p.decode() for p in Repo(str(root)).open_index()} if (root / ".git" / "index").exists() else set()
    assert agent.store.git.index_pending and on_disk_before != committed
    agent.close()
    assert not agent.store.git.index_pending
    assert {p.decode() for p in Repo(str(root)).open_index()} == committed
    st = porcelain.status(str(root))
    assert st.staged == {"add": [], "delete": [], "modify": []} and st.unstaged == []


def _disk_repo_state(root):
    """HEAD as the files on disk have it (a fresh dulwich handle), and every object of every commit
    reachable from it read back from those files (a missing object raises)."""
    from dulwich.repo import Repo

    repo = Repo(str(root))
    try:
        head = repo.head()
        commits = 0
        for entry in repo.get_walker():
            commits += 1
            for _path, _mode, sha in repo.object_store.iter_tree_contents(entry.commit.tree):
                repo.object_store[sha]  # noqa: B018 (read: present and whole)
        return head.decode(), commits
    finally:
        repo.close()


def test_a_scratch_library_writes_its_commits_when_the_lock_is_let_go(tmp_path):
    """A library that is not durable keeps the commits made while the agent's lock is held in
    memory (objects and HEAD) and writes them when the lock is let go: objects first, as one pack,
    then HEAD and a reflog line per commit. Meanwhile the repository on disk is whole and at its
    old HEAD, and the handle's own reads (history, old versions) see every commit."""
    agent = Library(tmp_path / "lib", embedder="hashing", durable=False).agent("sre-oncall")
    root = agent.root
    git = agent.store.git
    head0, n0 = _disk_repo_state(root)
    packs0 = set((root / ".git" / "objects" / "pack").glob("*.pack"))
    reflog = root / ".git" / "logs" / "refs" / "heads" / "master"
    lines0 = len(reflog.read_text().splitlines()) if reflog.exists() else 0
    services = ["payments", "checkout", "search", "billing", "ledger", "auth", "cart", "mail"]
    with agent.lock():
        for svc in services:  # 8 commits of a new skill: more than 32 objects
            agent.write(make_skill(f"restart-{svc}", f"restart the {svc} service when it hangs"), f"add {svc}")
        agent.write(make_skill("restart-mail", "restart the mail service when it hangs", steps=("drain", "restart")),
                    "second version of restart-mail")
        assert git.pending and git.head() != head0
        assert _disk_repo_state(root) == (head0, n0)  # nothing of them on disk yet, and the repository whole
        hist = agent.history("restart-mail")  # read through the handle: the commits kept in memory are there
        assert [v.commit for v in hist][-1] == git.head() and len(hist) == 2
        assert b"drain" not in git.read("skills/restart-mail/SKILL.md", hist[0].commit)
    made = 9
    assert not git.pending
    head, n = _disk_repo_state(root)
    assert head == git.head() and n == n0 + made
    new_packs = set((root / ".git" / "objects" / "pack").glob("*.pack")) - packs0
    assert len(new_packs) == 1  # one pack for the whole hold
    lines = reflog.read_text().splitlines()
    assert len(lines) == lines0 + made and lines[-1].split()[1] == head
    agent.close()


def test_a_scratch_library_killed_while_holding_commits_in_memory_keeps_its_files(tmp_path):
    """A process killed while its scratch library holds commits in memory leaves the repository on
    disk whole at its old HEAD and every skill file written: the next handle finds them and
    commits them as it commits changes made outside skilllab, so nothing written is lost."""
    code = """
        import os, sys
        from helpers import CRASHLOOP_CALLS, make_session
        from skilllab import Library
        from skilllab.session import Session
        TASK = "Pods of payments-api in namespace payments are in CrashLoopBackOff"
        agent = Library(sys.argv[1], embedder="hashing", durable=False).agent("sre-oncall")
        print(agent.store.git.head())
        agent.lock().acquire()
        res = agent.distill(Session.from_dict(make_session("s1", TASK, CRASHLOOP_CALLS, summary="fixed it",
                                                           started_at="2026-03-02T00:00:00Z")))
        print(res.skill, agent.store.git.head(), flush=True)
        os._exit(9)
    """
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    res = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "lib")],
                         capture_output=True, text=True, env=env, timeout=240)
    assert res.returncode == 9, res.stderr[-2000:]
    head0, (name, kept_head) = res.stdout.split()[0], res.stdout.split()[1:]
    root = tmp_path / "lib" / "sre-oncall"
    assert kept_head != head0 and _disk_repo_state(root)[0] == head0  # the killed commit never reached git
    assert (root / "skills" / name / "SKILL.md").is_file()
    agent = Library(tmp_path / "lib", embedder="hashing").agent("sre-oncall")
    assert agent.get(name).name == name  # the file is the truth, and it is found
    assert [h.name for h in agent.search(TASK, k=1)] == [name]
    assert agent.store.pending(name) == "added"  # as a file put there by hand is: committed before the next change
    assert agent.commit_hand_edits() is not None
    head, _n = _disk_repo_state(root)
    assert head != head0 and agent.store.pending(name) is None
    agent.close()


@pytest.mark.parametrize("limit", ["PENDING_LIMIT", "PENDING_BYTES"])
def test_a_scratch_library_writes_its_commits_past_a_bound_on_what_it_keeps(tmp_path, monkeypatch, limit):
    """Memory is bounded while the lock is held: past ``PENDING_LIMIT`` objects, or
    ``PENDING_BYTES`` of them, the commits are written (HEAD on disk moves) without letting the
    lock go."""
    import skilllab.history as history

    monkeypatch.setattr(history, limit, 12 if limit == "PENDING_LIMIT" else 2000)  # a write keeps 5 objects, ~900 bytes
    agent = Library(tmp_path / "lib", embedder="hashing", durable=False).agent("sre-oncall")
    head0, n0 = _disk_repo_state(agent.root)
    with agent.lock():
        agent.write(make_skill("restart-cart", "restart the cart service when it hangs"), "add cart")
        assert _disk_repo_state(agent.root) == (head0, n0) and agent.store.git.pending
        for svc in ("mail", "auth", "search"):
            agent.write(make_skill(f"restart-{svc}", f"restart the {svc} service when it hangs"), f"add {svc}")
        head, n = _disk_repo_state(agent.root)
        assert head != head0 and n > n0 and len(agent.store.git.pending_objects()) < 12
    assert _disk_repo_state(agent.root) == (agent.store.git.head(), n0 + 4)
    agent.close()


def test_a_scratch_library_killed_before_the_ledger_line_does_not_distill_the_session_twice(tmp_path):
    """A library that is not durable keeps each write's intent record in memory. A process killed
    after the skill file was written and before the session reached the ledger leaves no record
    on disk; the next handle finds the file, and the session among the skill's sources, so the
    session distilled again changes nothing."""
    code = """
        import os, sys
        from helpers import CRASHLOOP_CALLS, make_session
        from skilllab import Library
        from skilllab.distill.ledger import Ledger
        from skilllab.session import Session
        TASK = "Pods of payments-api in namespace payments are in CrashLoopBackOff"
        agent = Library(sys.argv[1], embedder="hashing", durable=False).agent("sre-oncall")
        Ledger.add = lambda self, record: (print(record["skill"], flush=True), os._exit(9))
        agent.distill(Session.from_dict(make_session("s1", TASK, CRASHLOOP_CALLS, summary="fixed it",
                                                     started_at="2026-03-02T00:00:00Z")))
    """
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    res = subprocess.run([sys.executable, "-c", __import__("textwrap").dedent(code), str(tmp_path / "lib")],
                         capture_output=True, text=True, env=env, timeout=240)
    assert res.returncode == 9, res.stderr[-2000:]
    name = res.stdout.split()[0]
    root = tmp_path / "lib" / "sre-oncall"
    assert (root / "skills" / name / "SKILL.md").is_file() and not (root / "state" / "intent.json").exists()
    agent = Library(tmp_path / "lib", embedder="hashing", durable=False).agent("sre-oncall")
    assert agent.ledger.get("s1") is None
    again = agent.distill(Session.from_dict(make_session("s1", "Pods of payments-api in namespace payments are in "
                                                         "CrashLoopBackOff", CRASHLOOP_CALLS, summary="fixed it",
                                                         started_at="2026-03-02T00:00:00Z")))
    assert (again.decision, again.skill, again.reason) == ("skip", name, f"already a source of {name}")
    assert agent.names() == [name] and agent.ledger.get("s1")["decision"] == "skip"
    agent.close()


@pytest.mark.parametrize("durable", [True, False])
def test_hand_edits_are_looked_for_before_every_write_or_once_a_hold_in_a_scratch_library(tmp_path, durable):
    """A durable library commits an edit made by hand before its next write, lock held or not. A
    scratch library (written by its holder alone) looks once a hold of the lock: an edit made by
    hand during a hold is committed, as such, by the first write of the next hold."""
    agent = Library(tmp_path / "lib", embedder="hashing", durable=durable).agent("sre-oncall")
    agent.write(make_skill("restart-cart", "restart the cart service when it hangs"), "add cart")
    hand = "hand edit of restart-cart (made by hand; committed before the next change)"

    def messages():
        return [c.message.decode().strip() for c in (e.commit for e in agent.store.git.repo.get_walker())]

    with agent.lock():
        agent.write(make_skill("restart-mail", "restart the mail service when it hangs"), "add mail")
        path = agent.root / "skills" / "restart-cart" / "SKILL.md"
        path.write_text(path.read_text().replace("restart the cart service", "restart the cart service by hand"))
        agent.write(make_skill("restart-auth", "restart the auth service when it hangs"), "add auth")
        assert (hand in messages()) is durable
    agent.write(make_skill("restart-auth", "restart the auth service when it hangs", steps=("drain", "restart")),
                "second version of auth")
    assert messages().count(hand) == 1 and messages()[0] == "second version of auth"
    agent.close()
