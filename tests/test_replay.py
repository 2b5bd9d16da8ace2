"""The replay harness: metrics known by construction, run folders, corpora with bad lines, sweeps."""

import json

import pandas as pd
import pytest
from helpers import make_session

from skilllab import ConfigError, Skill
from skilllab.cli import main
from skilllab.distill import Decision
from skilllab.lab.config import ReplayConfig
from skilllab.lab.metrics import METRIC_KEYS
from skilllab.lab.replay import EVENT_COLUMNS, run_replay


def runbook(name, word, agent="a1"):
    return Skill.new(name, f"Handle {word} problems.", agent=agent, when_to_use=word, steps=[f"`{word}`"],
                     worked=[word], dead_ends=[], source=None)


class Scripted:
    """A registered-style distiller whose decisions are given per session id."""

    name = "scripted"

    def __init__(self, script):
        self.script = script

    def decide(self, session, candidates, bar):
        action, arg = self.script[session.session_id]
        if action == "create":
            return Decision("create", "scripted", 1.0, skill=arg)
        if action == "update":
            target = next(c.skill for c in candidates if c.skill.name == arg)
            return Decision("update", "scripted", 0.1, target=arg, skill=target.copy(), changelog="scripted")
        return Decision("skip", "scripted", 0.0)


def tiny_corpus(tmp_path):
    rows = [
        ("s1", "A", "alpha alpha alpha", True),
        ("s2", "B", "bravo bravo bravo", True),
        ("s3", "A", "alpha alpha", True),
        ("s4", "C", "charlie charlie alpha", True),
        ("s5", "B", "bravo bravo", False),
        ("s6", "C", "charlie charlie charlie", True),
        ("s7", "A", "alpha charlie charlie charlie", True),
    ]
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(make_session(sid, task, [("echo x", "x")], agent="a1", success=ok,
                                                    summary="done", family=fam,
                                                    started_at=f"2026-03-0{i + 1}T00:00:00Z")) + "\n"
                            for i, (sid, fam, task, ok) in enumerate(rows)))
    script = {"s1": ("create", runbook("alpha-runbook", "alpha")), "s2": ("update", "alpha-runbook"),
              "s3": ("skip", None), "s4": ("create", runbook("charlie-runbook", "charlie")), "s6": ("skip", None),
              "s7": ("skip", None)}
    return path, Scripted(script)


def test_metrics_known_by_construction(tmp_path):
    corpus, dist = tiny_corpus(tmp_path)
    cfg = ReplayConfig(embedder="hashing", recall_min_similarity=0.2, recall_k=3, progress=False, compare=())
    res = run_replay(corpus, cfg, distiller=dist, write=False)
    m = res.metrics
    assert tuple(m) == METRIC_KEYS
    assert (m["sessions"], m["skills"], m["created"], m["updated"], m["skipped"], m["gated_failed"]) == (7, 2, 2, 1, 3, 1)
    assert m["duplicate_rate"] == 0.0  # alpha-runbook is family A (s1 wins the A/B tie), charlie-runbook C
    assert m["purity"] == pytest.approx(0.75)  # (1/2 + 1/1) / 2
    assert m["family_coverage"] == pytest.approx(2 / 3)  # A and C of A, B, C
    assert m["wrong_merge_rate"] == 1.0  # s2 (B) merged into the A skill
    assert m["missed_novel_rate"] == pytest.approx(1 / 3)  # s1, s2, s4 were novel; s2 did not create
    assert m["recall_p_at_1"] == pytest.approx(2 / 3)  # s3 and s6 right, s7 topped by charlie
    assert m["recall_hit_at_k"] == 1.0
    assert m["recall_mrr"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert m["false_recall_rate"] == 0.25  # s4 (no C skill yet) surfaced alpha; s1, s2, s5 surfaced nothing
    assert m["k"] == 3 and m["llm_calls"] == 0
    ev = res.events.set_index("session_id")
    assert list(res.events.columns) == EVENT_COLUMNS
    assert ev.loc["s7", "recall_top1"] == "charlie-runbook" and ev.loc["s7", "recall_rr"] == 0.5
    assert bool(ev.loc["s2", "wrong_merge"]) and ev.loc["s2", "target_family"] == "A"
    assert ev.loc["s5", "decision"] == "gated"
    assert list(ev["library_size"]) == [1, 1, 1, 2, 2, 2, 2]


def test_unlabelled_corpus_gives_null_label_metrics(tmp_path):
    corpus, dist = tiny_corpus(tmp_path)
    rows = [json.loads(x) for x in corpus.read_text().splitlines()]
    for r in rows:
        r.pop("labels")
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = run_replay(corpus, ReplayConfig(embedder="hashing", progress=False), distiller=dist, write=False).metrics
    assert m["duplicate_rate"] is None and m["recall_p_at_1"] is None and m["sessions"] == 7


def test_bar_schedule_is_a_person_turning_the_knob(tmp_path):
    corpus, dist = tiny_corpus(tmp_path)
    cfg = ReplayConfig(embedder="hashing", bar_schedule=((0, 0.9), (3, 0.3)), progress=False)
    res = run_replay(corpus, cfg, distiller=dist, out=tmp_path / "run")
    assert list(res.events["bar"]) == [0.9, 0.9, 0.9, 0.3, 0.3, 0.3, 0.3]
    msgs = [line for line in (tmp_path / "run" / "library" / "a1").glob("agent.toml")]
    assert msgs and "novelty_bar = 0.3" in msgs[0].read_text()


def test_replay_cli_writes_complete_run_folder(tmp_path, capsys):
    from skilllab.lab.corpus_gen import generate_to_file

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=3, sessions=60)
    out = tmp_path / "run"
    code = main(["replay", str(corpus), "--out", str(out), "--set", "embedder=hashing", "--set", "progress=false"])
    text = capsys.readouterr().out
    assert code == 0 and "recall_p_at_1" in text and f"run folder: {out}" in text
    for f in ["config.json", "events.csv", "metrics.json", "report.md", "plots/growth.png", "plots/decisions.png",
              "plots/nn_similarity.png", "plots/recall_precision.png"]:
        assert (out / f).is_file(), f
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["embedder"] == "hashing" and len(cfg["corpus_sha256"]) == 64
    assert cfg["environment"]["packages"]["hnswlib"] and "git_commit" in cfg["environment"]
    events = pd.read_csv(out / "events.csv")
    assert len(events) == 60 and list(events.columns[:14]) == EVENT_COLUMNS[:14]
    assert any((out / "library").glob("*/skills/*/SKILL.md"))
    assert "extractive** distiller (deterministic, no LLM)" in (out / "report.md").read_text()
    assert not list(tmp_path.glob(".run.tmp-*"))


def test_bad_line_fails_validation_and_lenient_replays_the_rest(tmp_path, capsys):
    corpus, dist = tiny_corpus(tmp_path)
    lines = corpus.read_text().splitlines()
    lines.insert(2, json.dumps({"session_id": "x", "agent_id": "a1", "task": "t", "messages": [],
                                "outcome": {"success": True}}))
    corpus.write_text("\n".join(lines) + "\n")
    assert main(["corpus", "validate", str(corpus)]) == 1
    out = capsys.readouterr()
    assert f"{corpus}:3: started_at: missing (required)" in out.out
    code = main(["replay", str(corpus), "--out", str(tmp_path / "r1"), "--set", "embedder=hashing"])
    assert code == 1 and f"{corpus}:3: started_at" in capsys.readouterr().err
    assert not (tmp_path / "r1").exists()
    res = run_replay(corpus, ReplayConfig(embedder="hashing", lenient=True, progress=False), distiller=dist,
                     out=tmp_path / "r2")
    assert res.metrics["sessions"] == 7
    assert json.loads((tmp_path / "r2" / "config.json").read_text())["skipped_lines"][0].startswith(f"{corpus}:3:")


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'novelty'"):
        ReplayConfig.load(None, ["novelty=0.3"])
    with pytest.raises(ConfigError, match="novelty_bar: 2.0 must be a number from 0 to 1"):
        ReplayConfig.load(None, ["novelty_bar=2"])
    with pytest.raises(ConfigError, match="progress: 'yes' must be true or false"):
        ReplayConfig.load(None, ["progress=yes"])
    toml = tmp_path / "c.toml"
    toml.write_text("[replay]\nnovelty_bar = 0.7\nbar_schedule = [[0, 0.9], [50, 0.7]]\n")
    cfg = ReplayConfig.load(toml, ["recall_k=5"])
    assert cfg.novelty_bar == 0.7 and cfg.bar_schedule == ((0, 0.9), (50, 0.7)) and cfg.recall_k == 5
    assert cfg.config_hash() == cfg.with_(progress=False).config_hash() != cfg.with_(recall_k=4).config_hash()


def test_sweep_three_bars_on_a_dask_local_cluster(tmp_path):
    from skilllab.lab.corpus_gen import generate_to_file
    from skilllab.lab.sweep import run_sweep

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=5, sessions=80)
    base = ReplayConfig(embedder="hashing", progress=False)
    out = tmp_path / "sweep"
    full = run_sweep(corpus, {"novelty_bar": [0.2, 0.5, 0.9]}, base, out=out, backend="dask", n_jobs=2)
    assert list(full["arm"]) == ["skilllab", "nearest"] * 3  # the baseline arm on the same axes
    summary = full[full["arm"] == "skilllab"]
    assert list(summary["param_novelty_bar"]) == [0.2, 0.5, 0.9]
    assert set(METRIC_KEYS) <= set(summary.columns)
    skills = list(summary["skills"])
    assert skills[0] >= skills[1] >= skills[2] and skills[0] > skills[2]  # a stricter bar, fewer skills
    assert (out / "summary.csv").exists() and (out / "plots" / "tradeoff.png").exists()
    assert len(list((out / "points").iterdir())) == 3
    # a second run reuses every finished point (local backend this time: same function, same folders)
    again = run_sweep(corpus, {"novelty_bar": [0.2, 0.5, 0.9]}, base, out=out, backend="local")
    assert list(again[again["arm"] == "skilllab"]["skills"]) == skills


def test_every_figure_has_title_axis_labels_and_legend(tmp_path):
    from skilllab.lab import plots

    corpus, dist = tiny_corpus(tmp_path)
    res = run_replay(corpus, ReplayConfig(embedder="hashing", progress=False), distiller=dist, write=False)
    summary = pd.DataFrame({"param_novelty_bar": [0.3, 0.6, 0.3, 0.6], "arm": ["skilllab"] * 2 + ["nearest"] * 2,
                            "duplicate_rate": [0.5, 0.1, 0.7, 0.4], "family_coverage": [1, 0.8, 1, 0.9],
                            "decision_accuracy": [0.6, 0.8, 0.3, 0.4], "recall_p_at_1": [0.5, 0.6, 0.4, 0.5]})
    figs = [plots.growth(res.events), plots.decisions(res.events), plots.nn_similarity({"a1": [0.2, 0.4]}),
            plots.recall_precision(res.events), plots.tradeoff(summary), plots.growth_compare({"x": res.events}),
            plots.recall_tradeoff({"skilllab": [(1.0, 0.0, 0.2), (0.5, 0.3, 0.6)], "nearest": []}),
            plots.metric_curves(summary[summary["arm"] == "skilllab"], "param_novelty_bar", ["decision_accuracy"], "Decisions")]
    for fig in figs:
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
        fig.savefig(tmp_path / "f.png")


def test_replay_with_the_llm_distiller_through_a_cassette(tmp_path):
    from openai_stub import StubOpenAI
    from test_llm import completion, create_reply

    corpus, _ = tiny_corpus(tmp_path)
    skip = json.dumps({"decision": "skip", "target": None, "novelty": 0.1, "reason": "routine", "skill": None})
    script = [completion(create_reply("alpha-procedure"))] + [completion(skip)] * 5
    with StubOpenAI(script) as stub:
        cfg = ReplayConfig(embedder="hashing", distiller="llm", llm_model="stub-model", llm_base_url=stub.base_url,
                           llm_cassette=str(tmp_path / "cassette.jsonl"), progress=False)
        res = run_replay(corpus, cfg, out=tmp_path / "run")
        assert len(stub.chat_requests) == 6  # one per session that passed the gate (s5 failed)
    m = res.metrics
    assert (m["llm_calls"], m["prompt_tokens"], m["completion_tokens"]) == (6, 5400, 1800)
    assert (m["created"], m["skipped"], m["gated_failed"]) == (1, 5, 1)
    assert "the **llm** distiller (model `stub-model`" in (tmp_path / "run" / "report.md").read_text()
    # the same replay again is answered from the cassette: no request reaches the endpoint
    with StubOpenAI([]) as stub:
        again = run_replay(corpus, cfg.with_(llm_base_url=stub.base_url, llm_cassette_mode="replay"), write=False)
        assert len(stub.requests) == 0  # replaying: not even the model list is asked
    assert again.metrics["created"] == 1 and again.metrics["llm_calls"] == 6


def test_sweep_cli_local_backend(tmp_path, capsys):
    from skilllab.lab.corpus_gen import generate_to_file

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=2, sessions=40)
    code = main(["sweep", str(corpus), "--grid", "novelty_bar=0.3,0.8", "--set", "embedder=hashing",
                 "--out", str(tmp_path / "sw"), "--json"])
    rows = [r for r in json.loads(capsys.readouterr().out) if r["arm"] == "skilllab"]
    assert code == 0 and [r["param_novelty_bar"] for r in rows] == [0.3, 0.8]
    assert rows[0]["skills"] >= rows[1]["skills"]
    assert (tmp_path / "sw" / "summary.csv").read_text().startswith("param_novelty_bar,arm,config_hash,run,sessions")


def test_sweep_embeds_every_query_text_once_before_its_points(tmp_path):
    """The sweep fills the shared cache ahead of its points (real MiniLM): a point's own look-ahead
    then finds every query text already there and runs the model on none."""
    from skilllab.lab.corpus_gen import generate_to_file
    from skilllab.lab.sweep import embed_ahead, points

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=5, sessions=40)
    base = ReplayConfig(embedder="minilm", cache_dir=str(tmp_path / "cache"), progress=False, bootstrap=0)
    pts = points({"novelty_bar": [0.3, 0.6]}, base)
    ahead = embed_ahead(str(corpus), pts)
    (only,) = ahead.values()  # one embedder and cache for both points: embedded once
    assert only["texts"] >= 40 and only["model_seconds"] > 0
    res = run_replay(corpus, pts[1][1], write=False)
    assert res.details["embedding_ahead"]["texts"] == only["texts"]
    assert res.details["embedding_ahead"]["model_seconds"] == 0.0  # (skill texts are embedded as they are written)


def test_bench_tables_show_stages_by_cost_and_growth_as_ratios():
    from skilllab.lab.replay_bench import component_table, scaling_table

    comp = component_table({"hashing": {"ms_per_session": {"write": 3.0, "search": 5.0}, "sessions_per_second": 66.7},
                            "minilm_warm": {"ms_per_session": {"write": 4.0, "search": 1.0, "read": 0.5},
                                            "sessions_per_second": 57.2}})
    lines = comp.splitlines()
    assert [ln.split()[0] for ln in lines[1:4]] == ["search", "write", "read"]  # by the largest cost in any column
    assert lines[3].split()[1:] == ["0.00", "0.50"] and lines[-1].split()[-2:] == ["66.7", "57.2"]
    rows = [{"sessions": 1000, "sessions_per_second": 60.0, "first_ms": 16.0, "last_ms": 8.0, "peak_rss_mb": 200.0,
             "skills": 40},
            {"sessions": 30000, "sessions_per_second": 55.0, "first_ms": 15.0, "last_ms": 15.0, "peak_rss_mb": 300.0,
             "skills": 60}]
    table = [ln.split() for ln in scaling_table(rows).splitlines()[1:]]
    assert [(r[0], r[4], r[6]) for r in table] == [("1000", "0.50", "1.00"), ("30000", "1.00", "1.50")]


def test_the_bench_reports_the_median_run_with_every_run_beside_it():
    """A cheap replay is run three times and the run of median harness overhead is reported (not
    the best: that would flatter), with every run's overhead and whole-replay time."""
    from skilllab.lab.replay_bench import median_run

    runs = iter([{"overhead_ms_per_session": 9.0, "replay_ms_per_session": 14.0, "tag": "slow"},
                 {"overhead_ms_per_session": 5.0, "replay_ms_per_session": 12.5, "tag": "fast"},
                 {"overhead_ms_per_session": 6.0, "replay_ms_per_session": 11.0, "tag": "middle"}])
    out = median_run(lambda: next(runs))
    assert out["tag"] == "middle" and out["overhead_ms_per_session"] == 6.0
    assert out["overhead_ms_per_session_runs"] == [5.0, 6.0, 9.0]
    assert out["replay_ms_per_session_runs"] == [11.0, 12.5, 14.0]


def test_peak_memory_of_a_child_is_its_own_not_its_parents():
    """The scaling table runs each replay in a child process; its peak must not be the peak of the
    process that started it (``ru_maxrss`` keeps that across fork and exec)."""
    import subprocess
    import sys

    from skilllab.lab.replay_bench import peak_rss_mb

    ballast = b"\x01" * (600 * 2**20)  # pages touched: the parent's peak is at least this
    parent = peak_rss_mb()
    out = subprocess.run([sys.executable, "-c", "from skilllab.lab.replay_bench import peak_rss_mb; "
                          "print(peak_rss_mb())"], capture_output=True, text=True, check=True)
    child = float(out.stdout.strip())
    del ballast
    assert parent >= 600 and 0 < child < parent - 400


def test_a_replay_takes_each_agents_lock_once_and_gives_it_back(tmp_path, monkeypatch):
    """The replay owns its scratch library: it takes an agent's lock from the system once, when the
    agent's first session comes, and every write, outcome and usage flush re-enters it; the lock
    is free when the replay ends."""
    import filelock

    taken: list[str] = []
    real = filelock.FileLock._acquire

    def acquire(self):  # the system call that takes the lock (a re-entry does not reach it)
        taken.append(self.lock_file)
        return real(self)

    monkeypatch.setattr(filelock.FileLock, "_acquire", acquire)
    path, scripted = tiny_corpus(tmp_path)
    cfg = ReplayConfig(embedder="hashing", compare=(), bootstrap=0, progress=False)
    res = run_replay(path, cfg, distiller=scripted, out=tmp_path / "run")
    during = [f for f in taken if ".run" in f and f.endswith("/a1/.lock")]
    # once for the loop (opening the agent and reading the final library take it too), where a lock
    # taken at every write, outcome and flush came 15 times for these 7 sessions
    assert 1 <= len(during) < res.metrics["sessions"] == 7
    assert res.metrics["created"] == 2 and res.metrics["updated"] == 1
    lock = filelock.FileLock(str(res.path / "library" / "a1" / ".lock"), timeout=0)
    lock.acquire()  # free once the replay is over
    lock.release()


def _arms_may_run_apart(tmp_path, monkeypatch, *, seed: int, sessions: int):
    """A generated corpus, and the names of the baseline arms started in processes of their own
    (recorded as they start), on a machine taken to have two cores, from one session on."""
    import os

    import skilllab.lab.replay as replay
    from skilllab.lab.corpus_gen import generate_to_file

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=seed, sessions=sessions)
    monkeypatch.setattr(replay, "ARMS_APART_MIN", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    started: list[str] = []
    real_init = replay.ArmApart.__init__

    def spy(self, *a, **kw):
        started.append(a[0])
        real_init(self, *a, **kw)

    monkeypatch.setattr(replay.ArmApart, "__init__", spy)
    return corpus, started


def test_baseline_arms_in_processes_of_their_own_give_the_same_run(tmp_path, monkeypatch):
    """With ``parallel_arms`` (the default, from ``ARMS_APART_MIN`` sessions on a machine of more
    than one core) each baseline arm is replayed by a fresh interpreter beside skilllab's arm: the
    run folder holds the same events, metrics and library as when the arms run in this process,
    and nothing of the hand-over (job, result, spool) is left behind."""
    corpus, started = _arms_may_run_apart(tmp_path, monkeypatch, seed=3, sessions=60)
    runs = {}
    for apart in (False, True):
        cfg = ReplayConfig(embedder="hashing", progress=False, bootstrap=50, parallel_arms=apart)
        res = run_replay(corpus, cfg, out=tmp_path / f"run-{apart}", floors=(0.3,))
        runs[apart] = res
    assert started == ["nearest"]  # only the run that asked for it
    a, b = tmp_path / "run-False", tmp_path / "run-True"
    for rel in ["events.csv", "arms/nearest/events.csv", "arms/nearest/recall_curve.csv",
                "arms/nearest/nn_similarity.json"]:
        assert (a / rel).read_text() == (b / rel).read_text(), rel
    strip = lambda m: {k: v for k, v in m.items() if "second" not in k}  # noqa: E731  (times differ)
    assert strip(runs[True].arms["nearest"].metrics) == strip(runs[False].arms["nearest"].metrics)
    assert strip(json.loads((b / "arms/nearest/metrics.json").read_text())) == strip(
        json.loads((a / "arms/nearest/metrics.json").read_text()))
    assert strip(runs[True].arms["nearest"].details["rescored"][0.3]) == strip(
        runs[False].arms["nearest"].details["rescored"][0.3])
    assert runs[True].arms["nearest"].metrics["sessions"] == 60
    skills = lambda run: sorted(p.relative_to(run).as_posix() for p in run.glob("arms/nearest/library/*/skills/*/SKILL.md"))  # noqa: E731
    assert skills(a) == skills(b) and skills(a)
    assert not [p for p in (b / "arms" / "nearest").iterdir() if p.suffix in (".pickle", ".tmp")]


def test_with_a_model_the_arms_run_apart_only_when_the_cache_holds_every_query_text(tmp_path, monkeypatch):
    """With MiniLM the first replay of a corpus embeds its query texts ahead, so its baseline arm
    stays in this process (a model in the arm's process would only take turns with this one's on
    the same cores). Replayed again with the same cache, nothing is embedded ahead: the arm runs in
    a process of its own, reading its vectors from the cache, and the run is the same."""
    import skilllab.lab.replay as replay

    corpus, started = _arms_may_run_apart(tmp_path, monkeypatch, seed=5, sessions=30)
    cfg = ReplayConfig(embedder="minilm", cache_dir=str(tmp_path / "cache"), progress=False, bootstrap=20)
    first = run_replay(corpus, cfg, out=tmp_path / "first")
    ahead = first.details["embedding_ahead"]
    assert ahead["texts"] > 30 and ahead["computed"] == ahead["texts"] and started == []
    again = run_replay(corpus, cfg, out=tmp_path / "again")
    assert again.details["embedding_ahead"]["computed"] == 0 and started == ["nearest"]
    for rel in ["events.csv", "arms/nearest/events.csv", "arms/nearest/recall_curve.csv"]:
        assert (tmp_path / "first" / rel).read_text() == (tmp_path / "again" / rel).read_text(), rel
    strip = lambda m: {k: v for k, v in m.items() if "second" not in k}  # noqa: E731  (times differ)
    assert strip(again.arms["nearest"].metrics) == strip(first.arms["nearest"].metrics)
    assert again.arms["nearest"].metrics["embed_seconds"] == 0.0  # every vector came from the cache
    # the bench's cold ratio counts the model's time for every text of the run, the baseline arm's
    # skill texts too (embedded with the model as it writes them: its skill text is not a query)
    from skilllab.lab.replay_bench import model_seconds

    cold, warm = model_seconds(first), model_seconds(again)
    assert set(cold) == {"ahead", "skilllab", "nearest"}
    assert cold["ahead"] == ahead["model_seconds"] > 0 and cold["skilllab"] == first.metrics["embed_seconds"]
    assert cold["nearest"] == first.arms["nearest"].metrics["embed_seconds"] > 0
    assert warm["ahead"] == 0.0 and warm["nearest"] == 0.0
    # asked for none, too few cores, or a texts count with none of them known: one process
    assert not replay._arms_apart(cfg.with_(parallel_arms=False), 30, object(), {"texts": 5, "computed": 0})
    assert not replay._arms_apart(cfg, 30, type("E", (), {"cache": None})(), {"texts": 5, "computed": None})
    assert not replay._arms_apart(cfg, 30, type("E", (), {"cache": None})(), {"texts": 0, "computed": 0})


def test_a_baseline_arm_that_fails_in_its_own_process_fails_the_run(tmp_path):
    """The arm's error is raised in the run (here: an arm that does not exist, so the arm's
    process fails reading its own configuration)."""
    from skilllab.lab.replay import ArmApart

    corpus, _script = tiny_corpus(tmp_path)
    arm = ArmApart("no-such-arm", corpus, ReplayConfig(embedder="hashing", progress=False), tmp_path / "work", ())
    with pytest.raises(Exception, match="no-such-arm"):
        arm.result(None)
    arm.stop()
    assert not list((tmp_path / "work" / "arms" / "no-such-arm").glob("*.pickle"))
