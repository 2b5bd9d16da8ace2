"""The command line, in process (fast) and as a real subprocess (entry points, exit codes)."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import copy_examples

from skilllab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json_best_first_with_minilm(tmp_path, capsys):
    copy_examples(tmp_path)
    code, out, err = run(capsys, "search", "pods restart, log says DATABASE_URL missing", "--library",
                         str(tmp_path), "--agent", "sre-oncall", "-k", "3", "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert [h["name"] for h in hits][0] == "crashloop-missing-config"
    assert len(hits) == 3 and {"name", "similarity", "description"} <= set(hits[0])
    sims = [h["similarity"] for h in hits]
    assert sims == sorted(sims, reverse=True)


def test_skills_list_show_history(tmp_path, capsys):
    copy_examples(tmp_path)
    lib = ["--library", str(tmp_path), "--agent", "dba", "--embedder", "hashing"]
    code, out, _ = run(capsys, "skills", "list", *lib, "--json")
    assert code == 0
    assert [s["name"] for s in json.loads(out)] == ["postgres-connection-pool-exhausted", "postgres-replication-lag"]
    code, out, _ = run(capsys, "skills", "show", "postgres-replication-lag", *lib)
    src = tmp_path / "dba" / "skills" / "postgres-replication-lag" / "SKILL.md"
    assert code == 0 and out == src.read_text()
    code, out, _ = run(capsys, "skills", "history", "postgres-replication-lag", *lib, "--json")
    [row] = json.loads(out)  # reading commits nothing: the hand-added file is pending
    assert row["rev"] == "-" and row["message"].startswith("added by hand, not committed yet")
    from skilllab import Library

    Library(tmp_path, embedder="hashing").agent("dba").commit_hand_edits()
    code, out, _ = run(capsys, "skills", "history", "postgres-replication-lag", *lib, "--json")
    [row] = json.loads(out)
    assert row["rev"] == 1 and row["version"] == 1 and row["sources"] == "s-000120"
    assert "hand edit" in row["message"]
    code, out, _ = run(capsys, "skills", "list", *lib)
    assert out.splitlines()[0].split() == ["name", "status", "version", "updated", "description"]


def test_index_rebuild_all_agents(tmp_path, capsys):
    copy_examples(tmp_path)
    for agent in ("dba", "sre-oncall"):
        run(capsys, "skills", "list", "--library", str(tmp_path), "--agent", agent, "--embedder", "hashing")
    assert not (tmp_path / "dba" / "index").exists() and not (tmp_path / "dba" / ".git").exists()  # reads wrote nothing
    code, out, _ = run(capsys, "index", "rebuild", "--library", str(tmp_path), "--embedder", "hashing", "--json")
    assert code == 0 and json.loads(out) == {"dba": 2, "sre-oncall": 4}
    assert list((tmp_path / "dba" / "index").glob("*/meta.json"))


def test_user_errors_are_one_line_without_traceback(tmp_path, capsys):
    code, out, err = run(capsys, "skills", "show", "../../etc", "--library", str(tmp_path), "--agent", "a1",
                         "--embedder", "hashing")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    copy_examples(tmp_path)
    code, _, err = run(capsys, "skills", "show", "no-such-skill", "--library", str(tmp_path), "--agent", "dba",
                       "--embedder", "hashing")
    assert code == 1 and err == "skilllab: error: agent 'dba' has no skill 'no-such-skill'\n"
    code, _, err = run(capsys, "search", "x", "--library", str(tmp_path), "--agent", "BAD!", "--embedder", "hashing")
    assert code == 1 and "invalid agent id 'BAD!'" in err


def test_entry_point_subprocess(tmp_path):
    copy_examples(tmp_path)
    exe = Path(sys.executable).parent / "skilllab"
    res = subprocess.run([str(exe), "search", "replica is behind the primary", "--library", str(tmp_path),
                          "--agent", "dba", "--json", "-k", "1", "--embedder", "hashing"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["name"] == "postgres-replication-lag"
    res = subprocess.run([sys.executable, "-m", "skilllab", "skills", "show", "nope", "--library",
                          str(tmp_path), "--agent", "ghost", "--embedder", "hashing"], capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr and "no agent 'ghost'" in res.stderr


def test_distill_command_lines_summary_and_bad_lines(tmp_path, capsys):
    from helpers import CRASHLOOP_CALLS, make_session

    rows = [make_session("s-1", "Pods of checkout-api in namespace payments are in CrashLoopBackOff", CRASHLOOP_CALLS,
                         summary="fixed the secret reference"),
            make_session("s-2", "Pods of checkout-api in namespace payments are in CrashLoopBackOff", CRASHLOOP_CALLS,
                         summary="fixed", success=False, started_at="2026-03-03T00:00:00Z")]
    corpus = tmp_path / "s.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    lib = ["--library", str(tmp_path / "lib"), "--embedder", "hashing"]
    code, out, err = run(capsys, "distill", str(corpus), *lib)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("s-1  sre-oncall  create ") and lines[1].startswith("s-2  sre-oncall  gated ")
    assert lines[-1] == "2 sessions: 0 already distilled, 2 new (create 1, update 0, skip 0, gated 1, invalid 0, error 0)"
    code, out, err = run(capsys, "distill", str(corpus), *lib)  # a rerun is no new work
    assert code == 0 and out.splitlines()[-1] == ("2 sessions: 2 already distilled, 0 new (create 0, update 0, skip 0, "
                                                  "gated 0, invalid 0, error 0)")
    assert "already distilled: create" in out.splitlines()[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({**rows[1], "outcome": {"success": "maybe"}}) + "\n")
    code, out, err = run(capsys, "distill", str(bad), *lib)
    assert code == 1 and err == f"skilllab: error: {bad}:2: outcome.success: must be true or false, not \"maybe\"\n"
    code, out, err = run(capsys, "distill", str(bad), *lib, "--lenient")
    assert code == 0 and f"skipped {bad}:2: outcome.success" in err and "1 bad lines skipped" in out
    assert "1 already distilled, 0 new" in out


def test_reading_commands_import_no_model(tmp_path, hashing):
    """skills list/show/history/stale and corpus validate/stats never import torch or
    sentence-transformers (checked with python -X importtime on a library built with MiniLM's name)."""
    import subprocess
    import sys

    from helpers import make_skill

    from skilllab import Library

    a = Library(tmp_path / "lib", embedder=hashing).agent("sre-oncall")
    a.write(make_skill("drain-node", "Drain a node before maintenance."), "create drain-node")
    corpus = tmp_path / "c.jsonl"
    from helpers import make_session
    corpus.write_text(json.dumps(make_session("s1", "a task", [("echo x", "x")])) + "\n")
    lib = ["--library", str(tmp_path / "lib"), "--agent", "sre-oncall"]  # the default embedder: minilm
    for argv in (["skills", "list", *lib], ["skills", "show", "drain-node", *lib],
                 ["skills", "history", "drain-node", *lib], ["skills", "stale", "--days", "1", *lib],
                 ["corpus", "validate", str(corpus)], ["corpus", "stats", str(corpus)]):
        out = subprocess.run([sys.executable, "-X", "importtime", "-m", "skilllab.cli", *argv],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, (argv, out.stderr[-500:])
        modules = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if "import time:" in line}
        assert "skilllab.cli" in modules  # importtime did report what was imported
        assert not {"torch", "sentence_transformers", "matplotlib", "pandas"} & modules, argv


def test_distill_command_embeds_every_query_text_ahead_in_batches(tmp_path, capsys, monkeypatch):
    """``skilllab distill`` with MiniLM (real) reads the corpus as a stream and embeds every task
    (and what the distiller searches with) in one batch before the first session, into the
    on-disk cache; the loop then looks them up. Without it, each search embedded one text."""
    from skilllab.embed.cache import CachedEmbedder
    from skilllab.lab.corpus_gen import generate_to_file

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=23, sessions=30)
    tasks = {json.loads(line)["task"] for line in corpus.read_text().splitlines()}
    monkeypatch.setenv("SKILLLAB_CACHE_DIR", str(tmp_path / "cache"))  # a cache no other test filled
    calls: list[list[str]] = []
    real = CachedEmbedder.embed

    def embed(self, texts):
        calls.append(list(texts))
        return real(self, texts)

    monkeypatch.setattr(CachedEmbedder, "embed", embed)
    code, out, err = run(capsys, "distill", str(corpus), "--library", str(tmp_path / "lib"), "--embedder", "minilm")
    assert code == 0, err
    assert out.splitlines()[-1].startswith("30 sessions: 0 already distilled, 30 new")
    assert tasks <= set(calls[0]) and len(calls[0]) > len(tasks)  # tasks and search texts, one batch
    later = {t for c in calls[1:] for t in c}
    assert tasks & later  # the loop still asks for them, and the cache answers
