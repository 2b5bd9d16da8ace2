"""Honest measurement: decisions against the ideal, wrong skips, absorbed families, attributed
purity, the baseline arm, the recall curve and bootstrap intervals, all known by construction."""

import json

import numpy as np
import pytest
from helpers import make_session

from skilllab import Skill
from skilllab.cli import main
from skilllab.distill import Decision
from skilllab.lab import metrics as M
from skilllab.lab.config import ReplayConfig
from skilllab.lab.replay import run_replay


def doc(name, word):
    return Skill.new(name, f"{word} runbook.", agent="a1", when_to_use=word, steps=[f"`{word}-tool --go`"],
                     worked=[word], dead_ends=[], source=None)


class Scripted:
    """Decisions given per session id: ("create", skill) | ("update", name) | ("skip", name or None)."""

    name = "scripted"

    def __init__(self, script):
        self.script = script

    def search_queries(self, session):
        return [session.task]

    def decide(self, session, candidates, bar):
        action, arg = self.script[session.session_id]
        if action == "create":
            return Decision("create", "scripted", 1.0, skill=arg)
        if action == "update":
            target = next(c.skill for c in candidates if c.skill.name == arg)
            return Decision("update", "scripted", 0.1, target=arg, skill=target.copy(), changelog="scripted")
        return Decision("skip", "scripted", 0.0, target=arg)


ROWS = [  # session, family, task; every session succeeds
    ("s1", "A", "alpha alpha alpha"),
    ("s2", "A", "alpha alpha"),
    ("s3", "B", "bravo alpha"),
    ("s4", "B", "bravo bravo alpha"),
    ("s5", "A", "alpha alpha delta"),
    ("s6", "C", "charlie charlie"),
]
SCRIPT = {"s1": ("create", doc("alpha", "alpha")),
          "s2": ("skip", "alpha"),  # a correct skip
          "s3": ("skip", "alpha"),  # a wrong skip: B had no unit, it went to A's skill
          "s4": ("skip", "alpha"),  # another: B never gets a unit, so B is absorbed
          "s5": ("create", doc("alpha-2", "alpha")),  # a create that should have been an update (A had one)
          "s6": ("create", doc("charlie", "charlie"))}


def corpus_of(tmp_path, rows=ROWS, name="c.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(make_session(sid, task, [("echo x", "x")], agent="a1", summary="done",
                                                    family=fam, started_at=f"2026-03-{i + 1:02d}T00:00:00Z"))
                            + "\n" for i, (sid, fam, task) in enumerate(rows)))
    return path


def test_decisions_against_the_ideal_known_by_construction(tmp_path):
    cfg = ReplayConfig(embedder="hashing", compare=(), bootstrap=200, progress=False)
    res = run_replay(corpus_of(tmp_path), cfg, distiller=Scripted(SCRIPT), write=False)
    m = res.metrics
    assert tuple(m) == M.METRIC_KEYS
    assert (m["skills"], m["units"], m["created"], m["skipped"]) == (3, 3, 3, 3)
    assert m["decision_accuracy"] == pytest.approx(3 / 6)  # s1, s2, s6 right; s3, s4, s5 wrong
    assert m["wrong_skip_rate"] == pytest.approx(2 / 3)  # s3, s4 of the three skips with a target
    assert m["absorbed_families"] == 1 and res.details["absorbed_family_list"] == ["a1/B"]
    assert m["attributed_purity"] == pytest.approx(4 / 6)  # alpha: 2 of 4 (A wins as its source); 1/1; 1/1
    assert m["purity"] == 1.0  # source purity cannot see the two skips of B
    assert m["duplicate_rate"] == pytest.approx(1 / 3)  # alpha and alpha-2 are both A
    assert m["family_coverage"] == pytest.approx(2 / 3)
    ev = res.events.set_index("session_id")
    assert list(ev["ideal"]) == ["create", "keep", "create", "create", "keep", "create"]
    assert list(ev["actual"]) == ["create", "skip", "skip", "skip", "create", "create"]
    assert list(ev["decision_correct"]) == [True, True, False, False, False, True]
    assert list(ev["wrong_skip"]) == [False, False, True, True, False, False]
    assert res.details["confusion"] == {"create": {"create": 2, "skip (other family)": 2},
                                        "keep": {"skip (same family)": 1, "create": 1}}


def test_report_shows_confusion_absorbed_and_baseline_side_by_side(tmp_path):
    cfg = ReplayConfig(embedder="hashing", bootstrap=100, progress=False)  # compare defaults to nearest
    res = run_replay(corpus_of(tmp_path), cfg, distiller=Scripted(SCRIPT), out=tmp_path / "run")
    text = (tmp_path / "run" / "report.md").read_text()
    assert "| metric | skilllab | nearest | difference |" in text
    assert "## Decisions against the ideal (skilllab)" in text and "| create | 2 |" in text
    assert "`a1/B`" in text and "## Decisions against the ideal (nearest)" in text
    assert (tmp_path / "run" / "arms" / "nearest" / "metrics.json").exists()
    assert (tmp_path / "run" / "plots" / "recall_tradeoff.png").exists()
    nearest = res.arms["nearest"].events.set_index("session_id")
    # remember every task: s1 creates; s2 (only alpha, like s1) joins it; charlie shares no word: creates
    assert nearest.loc["s1", "decision"] == "create" and nearest.loc["s2", "decision"] == "update"
    assert nearest.loc["s6", "decision"] == "create"
    assert res.arms["nearest"].metrics["sessions"] == 6


def test_recall_curve_and_its_area_known_by_construction():
    def ev(answerable, score, right, fam="A"):
        return {"answerable": answerable, "recall_top1_score": score, "recall_top1_right": right, "family": fam}

    events = [ev(True, 0.9, True), ev(True, 0.6, True), ev(True, 0.4, False), ev(True, None, False),
              ev(False, 0.7, False), ev(False, 0.3, False)]
    curve = M.recall_curve(events)
    pts = {(round(fr, 3), round(p, 3)) for _f, fr, p in curve}
    # floors 0.9 / 0.7 / 0.6 / 0.4 / 0.3: p@1 1/4, 1/4, 2/4, 2/4, 2/4; false recall 0, 1/2, 1/2, 1/2, 1
    assert {(0.0, 0.25), (0.5, 0.25), (0.5, 0.5), (1.0, 0.5)} <= pts
    assert M.p_at_fr(curve, 0.2) == 0.25 and M.p_at_fr(curve, 0.5) == 0.5
    # trapezoids (as for a ROC curve: mixing two floors reaches any point between them):
    # (0, 0.25) to (0.5, 0.5), then flat to false recall 1
    assert M.curve_area(curve) == pytest.approx(0.5 * (0.25 + 0.5) / 2 + 0.5 * 0.5)


def _events(n, p, seed):
    rng = np.random.default_rng(seed)
    return [{"answerable": True, "recall_correct": bool(x), "recall_top1": "s", "family": "A", "ideal": "keep",
             "decision_correct": bool(x), "actual": "skip", "wrong_skip": False}
            for x in rng.random(n) < p]


def test_intervals_contain_the_estimate_and_narrow_as_sessions_grow():
    small, large = _events(40, 0.7, 1), _events(1000, 0.7, 1)
    ci_small = M.intervals(small, [], 500, seed=3)
    ci_large = M.intervals(large, [], 500, seed=3)
    for events, ci in ((small, ci_small), (large, ci_large)):
        est = np.mean([e["recall_correct"] for e in events])
        assert ci["recall_p_at_1_lo"] <= est <= ci["recall_p_at_1_hi"]
    assert (ci_large["recall_p_at_1_hi"] - ci_large["recall_p_at_1_lo"]
            < (ci_small["recall_p_at_1_hi"] - ci_small["recall_p_at_1_lo"]) / 3)
    assert M.intervals(small, [], 500, seed=3) == ci_small  # the seed decides the resamples
    assert M.intervals(small, [], 500, seed=4) != ci_small


def test_same_seed_same_files_other_seed_other_intervals_only(tmp_path):
    corpus = corpus_of(tmp_path)
    base = ReplayConfig(embedder="hashing", compare=(), bootstrap=300, progress=False)
    runs = [run_replay(corpus, base.with_(seed=s), distiller=Scripted(SCRIPT), out=tmp_path / f"r{i}")
            for i, s in enumerate((5, 5, 6))]
    timing = {"wall_seconds", "embed_seconds", "sessions_per_second"}
    ev = [(tmp_path / f"r{i}" / "events.csv").read_text() for i in range(3)]
    assert ev[0] == ev[1] == ev[2]
    same = [{k: v for k, v in r.metrics.items() if k not in timing} for r in runs]
    assert same[0] == same[1]
    differ = {k for k in same[0] if same[0][k] != same[2][k]}
    assert differ and all(k.endswith(("_lo", "_hi")) for k in differ)


def test_shuffle_ties_orders_equal_start_times_by_seed(tmp_path):
    rows = [(f"t{i}", "A", "alpha") for i in range(8)]
    path = tmp_path / "ties.jsonl"
    path.write_text("".join(json.dumps(make_session(sid, task, [("echo x", "x")], agent="a1", family=f,
                                                    started_at="2026-03-01T00:00:00Z")) + "\n"
                            for sid, f, task in rows))
    from skilllab.lab.replay import load_sessions

    plain = [s.session_id for s in load_sessions(path, ReplayConfig())[0]]
    a = [s.session_id for s in load_sessions(path, ReplayConfig(shuffle_ties=True, seed=1))[0]]
    b = [s.session_id for s in load_sessions(path, ReplayConfig(shuffle_ties=True, seed=1))[0]]
    c = [s.session_id for s in load_sessions(path, ReplayConfig(shuffle_ties=True, seed=2))[0]]
    assert plain == [f"t{i}" for i in range(8)] and a == b and a != plain and sorted(a) == plain and c != a


def test_content_metrics_from_gold_actions_and_step_support():
    units = [M.FinalUnit("a1", "cancel", "cancel", "active", ("`get_reservation_details(id=<id>)`",
                                                                   "`cancel_reservation(id=<id>)`"),
                         "1. `get_reservation_details(id=<id>)`\n2. `cancel_reservation(id=<id>)`"),
             M.FinalUnit("a1", "book", "book", "active", ("`search_flights()`",), "1. `search_flights()`")]
    book = M.UnitBook()
    for sid in ("s1", "s2"):
        book.add("a1", "cancel", "cancel_reservation", sid, source=True)
    book.add("a1", "book", "book_reservation", "s3", source=True)
    gold = {"cancel_reservation": ["cancel_reservation"], "book_reservation": ["book_reservation"]}
    support = {("a1", "cancel"): {"a": 1.0, "b": 0.5}, ("a1", "book"): {"c": 0.25}}
    out = M._content(units, book, gold, support)
    assert out["action_recall"] == pytest.approx(0.5)  # cancel names its action, book does not
    assert out["step_noise"] == pytest.approx(1 / 3)  # one of three steps in fewer than half of its sources
    assert M.names_action("1. `kubectl -n <ns> set resources deploy/<svc>`", "kubectl set resources")
    assert not M.names_action("kubectl get pods\nset resources later", "kubectl set resources")


def test_compare_cli_prints_one_table_and_writes_a_plot(tmp_path, capsys):
    corpus = corpus_of(tmp_path)
    for name, bar in (("r1", 0.3), ("r2", 0.7)):
        assert main(["replay", str(corpus), "--out", str(tmp_path / name), "--set", "embedder=hashing",
                     "--set", f"novelty_bar={bar}", "--set", "bootstrap=50", "--set", "progress=false"]) == 0
    capsys.readouterr()
    code = main(["compare", str(tmp_path / "r1"), str(tmp_path / "r2"), str(tmp_path / "r1" / "arms" / "nearest"),
                 "--plot", str(tmp_path / "cmp.png")])
    text = capsys.readouterr().out
    assert code == 0 and "config.novelty_bar" in text and "decision_accuracy" in text and "r1/nearest" in text
    assert (tmp_path / "cmp.png").exists()
    from skilllab.lab.analysis import load_runs

    frame = load_runs([tmp_path / "r1", tmp_path / "r2"])
    assert list(frame["config.novelty_bar"]) == [0.3, 0.7] and "recall_p_at_1_lo" in frame


def test_a_recall_floor_sweep_is_one_replay_rescored_and_exact(tmp_path):
    from skilllab.lab.corpus_gen import generate_to_file
    from skilllab.lab.sweep import run_sweep

    corpus = tmp_path / "gen.jsonl"
    generate_to_file(corpus, seed=5, sessions=150)
    base = ReplayConfig(embedder="hashing", bootstrap=50, progress=False)
    floors = [0.2, 0.45, 0.7]
    timing = {"wall_seconds", "embed_seconds", "sessions_per_second"}
    summary = run_sweep(corpus, {"recall_min_similarity": floors}, base, out=tmp_path / "sweep", n_jobs=1)
    points = sorted((tmp_path / "sweep" / "points").iterdir())
    assert sum(p.name.startswith("replayed-") for p in points) == 1  # one replay for three floors
    for floor in (0.2, 0.7):  # the real thing, replayed at that floor
        real = run_replay(corpus, base.with_(recall_min_similarity=floor), write=False)
        for arm, metrics in [("skilllab", real.metrics), *((n, a.metrics) for n, a in real.arms.items())]:
            row = summary[(summary.param_recall_min_similarity == floor) & (summary.arm == arm)].iloc[0]
            for key in M.METRIC_KEYS:
                if key in timing or metrics.get(key) is None:
                    continue
                assert row[key] == pytest.approx(metrics[key]), (floor, arm, key)
    p1 = summary[summary.arm == "skilllab"].set_index("param_recall_min_similarity")["false_recall_rate"]
    assert p1[0.2] >= p1[0.45] >= p1[0.7]  # a higher floor recalls less that is wrong


def test_unit_book_and_index_count_the_changes_the_replay_derives_families_from():
    """The replay keeps each agent's skill families until a unit's family or the index changes:
    a skip (no source) leaves the book's version alone, a source, a move or a rename does not."""
    from skilllab.index import SkillIndex
    from skilllab.skill import Skill

    book = M.UnitBook()
    book.add("a1", "cancel", "cancel_reservation", "s1", source=True)
    v = book.version
    book.add("a1", "cancel", "cancel_reservation", "s2", source=False)  # a skip: no family can change
    assert book.version == v
    book.add("a1", "cancel", "book_reservation", "s3", source=True)
    book.move_unit("a1", "cancel", "cancel#b1")
    book.rename("a1", "cancel", "cancel-trip")
    assert book.version == v + 3 and book.family("a1", "cancel-trip#b1") == "cancel_reservation"
    from skilllab.embed import get_embedder

    index = SkillIndex(get_embedder("hashing:64", False))
    skill = Skill.new("restart-pod", "Restart a hung pod.", agent="a1", when_to_use="a pod hangs",
                      steps=["`kubectl delete pod <pod>`"], worked=["ok"], dead_ends=[], source=None, date="2026-01-01")
    seen = [index.version]
    index.update([(skill, "sha", [])])
    seen.append(index.version)
    index.remove("restart-pod")
    seen.append(index.version)
    assert seen[0] < seen[1] < seen[2]
