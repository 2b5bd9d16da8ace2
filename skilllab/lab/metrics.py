"""Replay metrics: their meaning, which way is better, and how they are computed from a run.

Everything here is computed from the per-session event log, the final library and the corpus
labels; labels (``labels.family``, ``labels.write_actions``) are used only here, never by a
distiller. Metrics that need labels are ``None`` (``null`` in metrics.json) when the corpus has
none.

**Units.** A skill's runbook may hold several branches, one per cause (a signal and its fix).
Each branch is a *unit* of knowledge, attributed separately: every decision names the skill
*and* the branch it went to (creates, updates and skips alike), and a unit's family is the
majority family of the sessions it learned from (its sources: creates and updates; first seen
wins a tie). A skill without branches is one unit. The family metrics (duplicates, purity,
coverage, absorbed families, decision accuracy) are computed over units, so a skill whose
branches hold two families is not a wrong merge, and two branches of one family in two skills
are a duplicate. ``skill_purity`` measures whole skills, for the reader who wants to see how
mixed skills are.

**Ideal decisions.** For a successful labelled session the right decision at that moment is
known: *create* (a new skill, or a new branch) when the agent has no active unit of the
session's family; otherwise *keep* (update or skip) attributed to a unit of that family.

**Intervals.** ``*_lo`` / ``*_hi`` are 95% percentile-bootstrap intervals (``bootstrap``
resamples, seeded by the run's ``seed``) over sessions (recall, decisions) or units (duplicates).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

METRICS: dict[str, tuple[str, str | None]] = {
    "sessions": ("sessions replayed", None),
    "skills": ("skills in the final library, all agents", None),
    "created": ("sessions that created a skill", None),
    "updated": ("sessions that updated a skill in place (new branches included)", None),
    "skipped": ("successful sessions judged routine (or invalid / failed decisions)", None),
    "gated_failed": ("failed sessions stopped by the quality gate", None),
    "duplicate_rate": ("1 - distinct families among units / units: share of units (skills, or branches of a "
                       "branched skill) that duplicate another unit's family", "lower"),
    "purity": ("mean share of a unit's source sessions that are of its majority family", "higher"),
    "family_coverage": ("families with a unit at the end / families with at least one successful session",
                        "higher"),
    "wrong_merge_rate": ("updates of an existing unit of another family / updates", "lower"),
    "missed_novel_rate": ("successful sessions of a family with no unit yet that did not create one (a skill or "
                          "a branch) / such sessions", "lower"),
    "recall_p_at_1": ("precision@1 of skill recall (task text only, before distilling): answerable queries "
                      "whose top hit holds a unit of the right family; abstaining counts as wrong", "higher"),
    "recall_hit_at_k": ("answerable queries with a right-family skill among the k hits", "higher"),
    "recall_mrr": ("mean reciprocal rank of the first right-family hit over answerable queries", "higher"),
    "k": ("hits recalled per query", None),
    "false_recall_rate": ("unanswerable queries (no active unit of the family yet) where recall surfaced "
                          "anything", "lower"),
    "llm_calls": ("LLM requests made by the distiller (cassette replays included)", "lower"),
    "prompt_tokens": ("prompt tokens reported by the LLM endpoint", "lower"),
    "completion_tokens": ("completion tokens reported by the LLM endpoint", "lower"),
    "wall_seconds": ("wall time of the replay loop", "lower"),
    "embed_seconds": ("time spent inside the embedding model (cache hits cost none)", "lower"),
    "sessions_per_second": ("sessions replayed per second of wall time", "higher"),
    # ---- decisions against the labels
    "units": ("units at the end: skills, counting each branch of a branched skill", None),
    "decision_accuracy": ("successful labelled sessions whose decision matched the ideal: create when the "
                          "family had no unit, else update or skip a unit of that family", "higher"),
    "wrong_skip_rate": ("skips attributed to a unit of another family / skips with a target", "lower"),
    "absorbed_families": ("families with successful sessions that ended with no unit of their own because their "
                          "sessions went to other families' units", "lower"),
    "attributed_purity": ("share of every session attributed to a unit (created, updated and skipped) that is of "
                          "the unit's majority family, weighted by sessions", "higher"),
    "skill_purity": ("mean share of a whole skill's source sessions in its majority family (branches pooled)",
                     None),
    # ---- recall over the whole range of the floor, and its controls
    "recall_auc": ("area under recall precision@1 against false-recall rate, the floor swept over every "
                   "logged score (curve held flat to false recall 1)", "higher"),
    "recall_p_at_1_at_fr20": ("best precision@1 at a floor whose false-recall rate is at most 0.2", "higher"),
    "recall_p_at_1_at_fr30": ("best precision@1 at a floor whose false-recall rate is at most 0.3", "higher"),
    "recall_p_at_1_random": ("control: expected precision@1 of a random active skill of the agent", None),
    "false_recall_rate_random": ("control: false-recall rate of a random active skill (any library answers)", None),
    "recall_seen_p_at_1": ("precision@1 over queries whose family already had a successful session (library gaps "
                           "count as misses)", "higher"),
    "recall_seen_p_at_1_oracle": ("control: the best any ranking could do on those queries with the library as "
                                  "it stood (share that had a unit of the family)", "higher"),
    # ---- runbook content, where labels name the solving actions
    "action_recall": ("share of a unit's family's gold actions (labels.write_actions) its runbook names, mean "
                      "over units", "higher"),
    "step_noise": ("share of runbook steps that occur in fewer than half of their unit's source sessions",
                   "lower"),
    "median_steps": ("median number of steps of a runbook (common steps plus every branch)", None),
}
CI_METRICS = ("recall_p_at_1", "false_recall_rate", "duplicate_rate", "decision_accuracy", "wrong_skip_rate")
METRIC_KEYS = tuple(METRICS) + tuple(f"{m}_{end}" for m in CI_METRICS for end in ("lo", "hi"))
LABEL_KEYS = ("duplicate_rate", "purity", "family_coverage", "wrong_merge_rate", "missed_novel_rate", "recall_p_at_1",
              "recall_hit_at_k", "recall_mrr", "false_recall_rate", "decision_accuracy", "wrong_skip_rate",
              "absorbed_families", "attributed_purity", "skill_purity", "recall_auc", "recall_p_at_1_at_fr20",
              "recall_p_at_1_at_fr30", "recall_p_at_1_random", "false_recall_rate_random", "recall_seen_p_at_1",
              "recall_seen_p_at_1_oracle", "action_recall", "step_noise")
IDEALS = ("create", "keep")
ACTUALS = ("create", "new branch", "update", "skip", "skip (no target)", "invalid/error")


def unit_id(skill: str | None, branch: str | None) -> str | None:
    """The attribution unit: the skill, or ``skill#branch`` for one branch of a branched skill."""
    if not skill:
        return None
    return f"{skill}#{branch}" if branch else skill


def skill_of(unit: str) -> str:
    return unit.split("#", 1)[0]


def majority(families: Iterable[str | None]) -> tuple[str | None, float]:
    """The most common family (first seen wins a tie) and its share."""
    known = [f for f in families if f is not None]
    if not known:
        return None, 0.0
    fam, n = Counter(known).most_common(1)[0]
    return fam, n / len(known)


@dataclass
class UnitBook:
    """Which sessions went to which unit, kept by the harness as the replay goes (O(1) a session)."""

    sources: dict[tuple[str, str], Counter] = field(default_factory=dict)  # creates and updates
    attributed: dict[tuple[str, str], Counter] = field(default_factory=dict)  # plus skips
    source_ids: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    version: int = 0  # counts changes to any unit's family (what was derived from them may be stale)

    def family(self, agent: str, unit: str | None) -> str | None:
        if unit is None:
            return None
        c = self.sources.get((agent, unit))
        if not c:
            return None
        return max(c.items(), key=lambda kv: kv[1])[0]  # first seen wins a tie

    def add(self, agent: str, unit: str, family: str | None, session_id: str, *, source: bool) -> None:
        key = (agent, unit)
        if family is not None:
            self.attributed.setdefault(key, Counter())[family] += 1
            if source:
                self.sources.setdefault(key, Counter())[family] += 1
                self.version += 1
        if source:
            self.source_ids.setdefault(key, []).append(session_id)

    def rename(self, agent: str, old: str, new: str) -> None:
        """A skill renamed (or its units folded into another): move every unit of ``old``."""
        self.version += 1
        for book in (self.sources, self.attributed, self.source_ids):
            for (a, unit) in [k for k in book if k[0] == agent and skill_of(k[1]) == old]:
                value = book.pop((a, unit))
                new_unit = new + unit[len(old):]
                if isinstance(value, Counter):
                    book.setdefault((a, new_unit), Counter()).update(value)
                else:
                    book.setdefault((a, new_unit), []).extend(value)

    def move_unit(self, agent: str, old_unit: str, new_unit: str) -> None:
        self.version += 1
        for book in (self.sources, self.attributed, self.source_ids):
            if (agent, old_unit) in book:
                value = book.pop((agent, old_unit))
                if isinstance(value, Counter):
                    book.setdefault((agent, new_unit), Counter()).update(value)
                else:
                    book.setdefault((agent, new_unit), []).extend(value)


@dataclass(frozen=True)
class FinalUnit:
    """A unit of the final library, with what the content metrics need."""

    agent: str
    skill: str
    unit: str
    status: str
    steps: tuple[str, ...] = ()  # the unit's steps: common steps plus its branch's (or every step)
    text: str = ""  # the unit's runbook text (common part plus its branch)
    common: tuple[str, ...] = ()  # of ``steps``, those common to every branch of the skill


@dataclass(frozen=True)
class FinalSkill:
    agent: str
    name: str
    status: str
    sources: tuple[str, ...]


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


class Tally:
    """What :func:`compute` needs of the events, gathered in one pass: counts, the few per-event
    values the curve and the intervals resample (compact arrays), and nothing else. The events
    can then be a stream (an :class:`~skilllab.lab.eventlog.EventLog` re-read from disk) read
    once, whatever the corpus length."""

    def __init__(self, events: Iterable) -> None:
        self.n = 0
        self.dec: Counter = Counter()
        self.llm_calls = self.prompt_tokens = self.completion_tokens = 0
        self.succeeded: set[tuple[str, str]] = set()
        self.updates = self.wrong_merges = 0
        self.novel = self.missed_novel = 0
        self.seen = self.seen_correct = self.seen_answerable = 0
        self.una_library = 0
        # per event of each group, in order: 1/0 (resampled for the intervals) or a float
        self.correct = bytearray()  # answerable: recall_correct
        self.hit_at_k = bytearray()  # answerable: recall_hit_at_k
        self.rr, self.random_right = array("d"), array("d")  # answerable
        self.false_recall = bytearray()  # unanswerable (labelled): anything recalled
        self.decision_correct = bytearray()  # judged (an ideal decision is known)
        self.wrong_skip = bytearray()  # skips
        # the curve: (top score, right) of answerable queries and top scores of unanswerable ones
        self.ans_scores, self.ans_right, self.una_scores = array("d"), bytearray(), array("d")
        self.n_ans = self.n_una = 0
        for e in events:
            self.add(e)

    def add(self, e) -> None:
        """Count one event (a field it lacks counts as ``None``)."""
        self.n += 1
        decision, answerable, fam = e.get("decision"), e.get("answerable"), e.get("family")
        self.dec[decision] += 1
        self.llm_calls += int(e.get("llm_calls") or 0)
        self.prompt_tokens += int(e.get("prompt_tokens") or 0)
        self.completion_tokens += int(e.get("completion_tokens") or 0)
        if e.get("success") and fam is not None:
            self.succeeded.add((e.get("agent_id"), fam))
        if decision == "update":
            self.updates += 1
            if not e.get("new_branch"):  # a new branch is not a merge
                self.wrong_merges += bool(e.get("wrong_merge"))
        if e.get("novel_family") and e.get("success"):
            self.novel += 1
            self.missed_novel += e.get("actual") != "create"
        if e.get("ideal"):
            self.decision_correct.append(bool(e.get("decision_correct")))
        if e.get("actual") == "skip":
            self.wrong_skip.append(bool(e.get("wrong_skip")))
        self.add_top_score(e)
        if answerable:
            self.correct.append(bool(e.get("recall_correct")))
            self.hit_at_k.append(bool(e.get("recall_hit_at_k")))
            self.rr.append(float(e.get("recall_rr") or 0.0))
            self.random_right.append(float(e.get("random_right") or 0.0))
        elif fam is not None:
            self.false_recall.append(bool(e.get("recall_top1")))
            self.una_library += int(e.get("library_active") or 0) > 0
        if e.get("seen_family"):
            self.seen += 1
            self.seen_correct += bool(e.get("recall_correct"))
            self.seen_answerable += bool(answerable)

    def add_top_score(self, e) -> None:
        """What the curve reads of an event: whether it is answerable, and its top score."""
        score = e.get("recall_top1_score")
        if e.get("answerable"):
            self.n_ans += 1
            if _finite(score):
                self.ans_scores.append(float(score))
                self.ans_right.append(bool(e.get("recall_top1_right")))
        elif e.get("family") is not None:
            self.n_una += 1
            if _finite(score):
                self.una_scores.append(float(score))

    def curve(self) -> list[tuple[float, float, float]]:
        """See :func:`recall_curve`."""
        n_ans, n_una = self.n_ans, self.n_una
        if not n_ans:
            return []
        a_right = np.frombuffer(self.ans_right, dtype=np.uint8).astype(bool)
        right = np.sort(np.frombuffer(self.ans_scores, dtype=float)[a_right])  # top scores of right answers
        una = np.sort(np.frombuffer(self.una_scores, dtype=float))
        scores = sorted(set(self.ans_scores) | set(self.una_scores), reverse=True)
        fs = np.array(scores, dtype=float)
        # how many are at or above each floor: a binary search each, not a pass over every query
        n_right = len(right) - np.searchsorted(right, fs, side="left")
        n_false = len(una) - np.searchsorted(una, fs, side="left")
        pts = [(float("inf"), 0.0, 0.0)]
        for f, r, u in zip(scores, n_right.tolist(), n_false.tolist()):
            pts.append((f, u / n_una if n_una else 0.0, r / n_ans))
        return pts


def compute(events: Iterable, units: list[FinalUnit], book: UnitBook, family_of: dict[str, str | None], *,
            k: int, wall_seconds: float, embed_seconds: float, skills: int, bootstrap: int = 1000, seed: int = 0,
            gold_actions: dict[str, list[str]] | None = None, step_support: dict | None = None,
            details: dict | None = None) -> dict:
    """The metrics.json dict, keys exactly :data:`METRIC_KEYS`.

    ``events`` are read once, in order (a list, or an :class:`~skilllab.lab.eventlog.EventLog`).
    ``gold_actions`` maps a family to its solving actions; ``step_support`` maps
    ``(agent, unit)`` to the support (share of its sources) of each of its steps. ``details``, when
    given, receives what the report lists beside the numbers (the absorbed families).
    """
    labelled = any(f is not None for f in family_of.values())
    t = events if isinstance(events, Tally) else Tally(events)
    n, dec = t.n, t.dec
    out: dict = {
        "sessions": n, "skills": skills, "created": dec["create"], "updated": dec["update"],
        "skipped": dec["skip"] + dec["invalid"] + dec["error"], "gated_failed": dec["gated"], "k": k,
        "llm_calls": t.llm_calls, "prompt_tokens": t.prompt_tokens, "completion_tokens": t.completion_tokens,
        "wall_seconds": round(wall_seconds, 3), "embed_seconds": round(embed_seconds, 3),
        "sessions_per_second": round(n / wall_seconds, 3) if wall_seconds > 0 else None,
        "units": sum(1 for u in units if book.sources.get((u.agent, u.unit))),
    }
    steps_per_skill: dict[tuple[str, str], set[str]] = {}
    for u in units:
        steps_per_skill.setdefault((u.agent, u.skill), set()).update(u.steps)
    sizes = sorted(len(s) for s in steps_per_skill.values())
    out["median_steps"] = float(np.median(sizes)) if sizes else None
    if not labelled:
        out.update({key: None for key in LABEL_KEYS})
        out.update(_content(units, book, None, step_support))
        out["action_recall"] = None
        return _finish(out, details)
    fam_units = [(u, book.family(u.agent, u.unit), book.sources.get((u.agent, u.unit), Counter())) for u in units]
    fam_units = [(u, f, c) for u, f, c in fam_units if f is not None]
    fams = [f for _, f, _ in fam_units]
    per_agent = [(u.agent, f) for u, f, _ in fam_units]
    out["duplicate_rate"] = _ratio(len(per_agent) - len(set(per_agent)), len(per_agent))
    out["purity"] = _ratio(sum(c[f] / sum(c.values()) for _, f, c in fam_units), len(fams))
    skill_counts: dict[tuple[str, str], Counter] = {}
    for u, _, c in fam_units:
        skill_counts.setdefault((u.agent, u.skill), Counter()).update(c)
    out["skill_purity"] = _ratio(sum(max(c.values()) / sum(c.values()) for c in skill_counts.values()),
                                 len(skill_counts))
    succeeded = t.succeeded
    covered = set(per_agent)
    out["family_coverage"] = _ratio(len(succeeded & covered), len(succeeded))
    attr_total = attr_major = 0
    absorbed_by: dict[tuple[str, str], set[str]] = {}
    for u in units:
        att = book.attributed.get((u.agent, u.unit))
        if not att:
            continue
        fam = book.family(u.agent, u.unit) or max(att.items(), key=lambda kv: kv[1])[0]
        attr_total += sum(att.values())
        attr_major += att[fam]
        for f in att:
            if f != fam:
                absorbed_by.setdefault((u.agent, f), set()).add(u.unit)
    out["attributed_purity"] = _ratio(attr_major, attr_total)
    absorbed = sorted(f"{a}/{f}" for (a, f) in (set(absorbed_by) & succeeded) - covered)
    out["absorbed_families"] = len(absorbed)
    out["absorbed_family_list"] = absorbed
    out["wrong_merge_rate"] = _ratio(t.wrong_merges, t.updates)
    out["missed_novel_rate"] = _ratio(t.missed_novel, t.novel)
    out["decision_accuracy"] = _ratio(sum(t.decision_correct), len(t.decision_correct))
    out["wrong_skip_rate"] = _ratio(sum(t.wrong_skip), len(t.wrong_skip))
    n_ans = len(t.correct)
    out["recall_p_at_1"] = _ratio(sum(t.correct), n_ans)
    out["recall_hit_at_k"] = _ratio(sum(t.hit_at_k), n_ans)
    out["recall_mrr"] = _ratio(sum(t.rr), n_ans)
    n_una = len(t.false_recall)
    out["false_recall_rate"] = _ratio(sum(t.false_recall), n_una)
    out["recall_p_at_1_random"] = _ratio(sum(t.random_right), n_ans)
    out["false_recall_rate_random"] = _ratio(t.una_library, n_una)
    out["recall_seen_p_at_1"] = _ratio(t.seen_correct, t.seen)
    out["recall_seen_p_at_1_oracle"] = _ratio(t.seen_answerable, t.seen)
    curve = t.curve()
    out["recall_auc"] = curve_area(curve)
    out["recall_p_at_1_at_fr20"] = p_at_fr(curve, 0.2)
    out["recall_p_at_1_at_fr30"] = p_at_fr(curve, 0.3)
    out.update(_content(units, book, gold_actions, step_support))
    out.update(intervals(t, fam_units, bootstrap, seed))
    return _finish(out, details)


def _finish(out: dict, details: dict | None) -> dict:
    if details is not None:
        details["absorbed_family_list"] = out.get("absorbed_family_list", [])
    for key, v in list(out.items()):
        if isinstance(v, float) and key not in ("wall_seconds", "embed_seconds", "sessions_per_second"):
            out[key] = round(v, 6)
    return {key: out.get(key) for key in METRIC_KEYS}


# ---- the recall trade-off curve ---------------------------------------------------------------
def recall_curve(events: Iterable) -> list[tuple[float, float, float]]:
    """(floor, false-recall rate, precision@1) for the floor at every logged top score (and above all).

    A query counts at floor ``f`` when its top score is at least ``f``: answerable queries are
    right when that top hit holds the family; unanswerable ones are a false recall when anything
    is at or above the floor. ``events`` are read once (or given as a :class:`Tally`).
    """
    if isinstance(events, Tally):
        return events.curve()
    t = Tally(())
    for e in events:
        t.add_top_score(e)
    return t.curve()


def _finite(v) -> bool:
    try:
        return v is not None and np.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def curve_area(curve: list[tuple[float, float, float]]) -> float | None:
    """Trapezoid area under precision@1 (y) against false-recall rate (x), held flat to x = 1."""
    if not curve:
        return None
    pts: dict[float, float] = {}
    for _f, fr, p in curve:
        pts[fr] = max(pts.get(fr, 0.0), p)
    xs = sorted(pts)
    ys = np.maximum.accumulate([pts[x] for x in xs])
    xs, ys = list(xs), list(ys)
    if xs[-1] < 1.0:
        xs.append(1.0)
        ys.append(ys[-1])
    return float(np.trapezoid(ys, xs)) if hasattr(np, "trapezoid") else float(np.trapz(ys, xs))


def p_at_fr(curve: list[tuple[float, float, float]], max_fr: float) -> float | None:
    if not curve:
        return None
    return max((p for _f, fr, p in curve if fr <= max_fr + 1e-12), default=0.0)


# ---- confidence intervals -------------------------------------------------------------------
def _boot(values: np.ndarray, rng: np.random.Generator, b: int, stat=np.mean) -> tuple[float, float] | None:
    if len(values) == 0 or b <= 0:
        return None
    idx = rng.integers(0, len(values), size=(b, len(values)))
    stats = stat(values[idx])
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def intervals(events: Iterable, fam_units: list, b: int, seed: int) -> dict:
    """95% bootstrap intervals (``<metric>_lo`` / ``_hi``) for :data:`CI_METRICS` (``events``: a
    :class:`Tally`, or events to tally)."""
    t = events if isinstance(events, Tally) else Tally(events)
    rng = np.random.default_rng(seed)
    series = {"recall_p_at_1": t.correct, "false_recall_rate": t.false_recall,
              "decision_accuracy": t.decision_correct, "wrong_skip_rate": t.wrong_skip}
    out: dict = {}
    for name in CI_METRICS:
        if name == "duplicate_rate":
            # resample families with all their units (a cluster bootstrap): resampling single units
            # would invent duplicates by drawing the same unit twice
            counts = np.array(list(Counter((u.agent, f) for u, f, _ in fam_units).values()), dtype=float)

            def dup(sample: np.ndarray) -> np.ndarray:
                return (sample - 1.0).sum(axis=1) / sample.sum(axis=1)

            ci = _boot(counts, rng, b, dup)
        else:
            ci = _boot(np.frombuffer(series[name], dtype=np.uint8).astype(float), rng, b, lambda s: s.mean(axis=1))
        out[f"{name}_lo"], out[f"{name}_hi"] = ci if ci else (None, None)
    return out


def fmt_ci(metrics: dict, name: str) -> str:
    """``0.671 [0.610, 0.730]`` (or the bare value when there is no interval)."""
    v = metrics.get(name)
    if v is None:
        return "n/a"
    lo, hi = metrics.get(f"{name}_lo"), metrics.get(f"{name}_hi")
    s = f"{v:.3f}" if isinstance(v, float) else str(v)
    return s + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "")


# ---- runbook content --------------------------------------------------------------------------
def names_action(text: str, action: str) -> bool:
    """Whether ``text`` names ``action``: a tool name as a word, or every word of a command key
    (``kubectl set resources``) on one line."""
    low = text.lower()
    words = action.lower().split()
    if len(words) == 1:
        return re.search(rf"(?<![a-z0-9_]){re.escape(words[0])}(?![a-z0-9_])", low) is not None
    return any(all(re.search(rf"(?<![a-z0-9_]){re.escape(w)}(?![a-z0-9_])", line) for w in words)
               for line in low.splitlines())


def _content(units: list[FinalUnit], book: UnitBook, gold: dict[str, list[str]] | None,
             support: dict | None) -> dict:
    out: dict = {"action_recall": None, "step_noise": None}
    if gold:
        shares = []
        for u in units:
            fam = book.family(u.agent, u.unit)
            actions = gold.get(fam) if fam else None
            if actions:
                shares.append(sum(names_action(u.text, a) for a in actions) / len(actions))
        out["action_recall"] = _ratio(sum(shares), len(shares))
    if support:
        vals = [s for per_unit in support.values() for s in per_unit.values()]
        out["step_noise"] = _ratio(sum(1 for s in vals if s < 0.5), len(vals))
    return out
