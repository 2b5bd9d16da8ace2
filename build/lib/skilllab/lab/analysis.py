"""Reading finished runs for research: skill tables, duplicate and merged pairs, drift timelines,
scoped against unscoped search, and the recommended setting of a sweep.

The notebooks call these; they hold no analysis logic of their own.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..corpus import corpus_sha256, iter_corpus
from ..errors import SkillParseError
from ..index import ExactIndex
from ..library import Library
from ..store import AgentStore
from .config import ReplayConfig
from .metrics import majority
from .replay import ReplayResult, run_replay
from .rundir import read_run


def replay_or_load(corpus: str | Path, config: ReplayConfig, folder: str | Path) -> ReplayResult:
    """The run in ``folder`` if it was made from this corpus with this config; otherwise replay.

    A run folder is never deleted or overwritten: when ``folder`` holds a run made another way, the
    new run goes beside it, in ``<folder>-<config hash>`` (and is reused from there next time).
    """
    folder = Path(folder)
    want = (config.config_hash(), corpus_sha256(corpus))
    for candidate in (folder, folder.with_name(f"{folder.name}-{want[0][:8]}")):
        if (candidate / "metrics.json").exists():
            cfg = json.loads((candidate / "config.json").read_text())
            if (cfg["config_hash"], cfg["corpus_sha256"]) == want:
                return load_result(candidate, config)
        elif not candidate.exists():
            return run_replay(corpus, config, out=candidate)
    from ..errors import SkilllabError

    raise SkilllabError(f"{folder} and {folder.name}-{want[0][:8]} hold other runs; choose another folder")


def load_result(folder: str | Path, config: ReplayConfig | None = None) -> ReplayResult:
    """A finished run folder as a :class:`ReplayResult` (with its baseline arms and details)."""
    from .replay import ArmResult

    folder = Path(folder)
    run = read_run(folder)
    config = config or ReplayConfig.from_dict(run["config"]["config"])
    arms = {}
    if (folder / "arms").is_dir():
        for d in sorted((folder / "arms").iterdir()):
            if (d / "metrics.json").exists():
                arms[d.name] = ArmResult(d.name, json.loads((d / "metrics.json").read_text()),
                                         pd.read_csv(d / "events.csv"), _details(d))
    return ReplayResult(folder, run["metrics"], run["events"], config, arms, _details(folder))


def _details(folder: Path) -> dict:
    path = Path(folder) / "details.json"
    return json.loads(path.read_text()) if path.exists() else {}


def arm_table(result: ReplayResult, keys: list[str] | None = None) -> pd.DataFrame:
    """Every headline metric of a run, skilllab beside each baseline arm, as ``value [lo, hi]``."""
    from .metrics import METRICS, fmt_ci

    keys = keys or [k for k in METRICS if k not in ("wall_seconds", "embed_seconds", "sessions_per_second")]
    cols = {"skilllab": result.metrics, **{n: a.metrics for n, a in result.arms.items()}}
    return pd.DataFrame({name: [fmt_ci(m, k) for k in keys] for name, m in cols.items()}, index=keys)


def confusion_table(result: ReplayResult, arm: str | None = None) -> pd.DataFrame:
    """Ideal decision (rows) against what was done (columns), from a run's details."""
    details = result.arms[arm].details if arm else result.details
    table = details.get("confusion", {})
    return pd.DataFrame(table).T.fillna(0).astype(int)


def floor_table(events: pd.DataFrame, floors) -> pd.DataFrame:
    """Recall precision@1 and false-recall rate at each recall floor, re-scored from the top score
    logged per query (one replay gives every floor; nothing is replayed)."""
    ans = events[events["answerable"].astype(bool)]
    una = events[~events["answerable"].astype(bool) & events["family"].notna()]
    rows = []
    for f in floors:
        p = ((ans["recall_top1_score"] >= f) & ans["recall_top1_right"].astype(bool)).sum() / max(len(ans), 1)
        fr = (una["recall_top1_score"] >= f).sum() / max(len(una), 1)
        rows.append({"floor": f, "recall_p_at_1": round(float(p), 4), "false_recall_rate": round(float(fr), 4)})
    return pd.DataFrame(rows)


def families(corpus: str | Path) -> dict[str, str | None]:
    return {s.session_id: s.family for s in iter_corpus(corpus, lenient=True)}


def _stores(library_root: str | Path):
    """Each agent's store, for reading files and history without opening (and re-indexing) a run."""
    for agent_id in Library(library_root).agents():
        yield AgentStore(Path(library_root), agent_id)


def _skills(store: AgentStore):
    found, _problems = store.scan()
    for name, data in found.items():
        try:
            yield store.parse(name, data)
        except SkillParseError:
            continue


def skill_names(library_root: str | Path, agent: str) -> set[str]:
    """The names of one agent's skills, read from the files."""
    return {s.name for s in _skills(AgentStore(Path(library_root), agent))}


def skill_table(run_folder: str | Path, corpus: str | Path) -> pd.DataFrame:
    """One row per skill of the run's final library: agent, name, status, version, sources,
    majority family and purity (share of sources in it)."""
    from ..runbook import Runbook

    fam = families(corpus)
    rows = []
    for store in _stores(Path(run_folder) / "library"):
        for skill in _skills(store):
            f, share = majority([fam.get(x) for x in skill.sources])
            rows.append({"agent": store.agent_id, "skill": skill.name, "status": skill.status,
                         "version": skill.version, "sources": len(skill.sources), "family": f,
                         "purity": round(share, 3), "branches": len(Runbook.of(skill).branches),
                         "families": sorted({fam.get(x) for x in skill.sources if fam.get(x)})})
    return pd.DataFrame(rows)


def unit_table(run_folder: str | Path, corpus: str | Path) -> pd.DataFrame:
    """One row per branch of every branched skill (per skill when it has none): the cause's title,
    its resolution key, its sources, their majority family and its share."""
    from ..runbook import Runbook

    fam = families(corpus)
    rows = []
    for store in _stores(Path(run_folder) / "library"):
        for skill in _skills(store):
            rb = Runbook.of(skill)
            units = [(b.title, b.key, b.sources) for b in rb.branches] or [("", "", skill.sources)]
            for title, key, sources in units:
                f, share = majority([fam.get(x) for x in sources])
                rows.append({"agent": store.agent_id, "skill": skill.name, "branch": title, "key": key,
                             "sources": len(sources), "family": f, "purity": round(share, 3)})
    return pd.DataFrame(rows, columns=["agent", "skill", "branch", "key", "sources", "family", "purity"])


def duplicated_families(table: pd.DataFrame) -> pd.DataFrame:
    """Families that have more than one skill in the same agent (sprawl)."""
    counts = table.groupby(["agent", "family"]).size().rename("skills").reset_index()
    return counts[counts["skills"] > 1].sort_values("skills", ascending=False).reset_index(drop=True)


def merged_skills(table: pd.DataFrame) -> pd.DataFrame:
    """Skills whose sources span several families (a wrong merge happened), least pure first."""
    return table[table["families"].map(len) > 1].sort_values("purity").reset_index(drop=True)


def skill_text(run_folder: str | Path, agent: str, skill: str) -> str:
    return (Path(run_folder) / "library" / agent / "skills" / skill / "SKILL.md").read_text(encoding="utf-8")


def side_by_side(left: str, right: str, titles: tuple[str, str] = ("", "")) -> str:
    """Two documents as an HTML table of two columns (for ``IPython.display.HTML``)."""
    cell = ('<td style="vertical-align:top;text-align:left;width:50%"><b>{}</b>'
            '<pre style="white-space:pre-wrap;font-size:11px">{}</pre></td>')
    return ("<table><tr>" + cell.format(html.escape(titles[0]), html.escape(left))
            + cell.format(html.escape(titles[1]), html.escape(right)) + "</tr></table>")


def skill_history(run_folder: str | Path, agent: str, skill: str) -> pd.DataFrame:
    """Every version of a skill from the run library's git history."""
    store = AgentStore(Path(run_folder) / "library", agent)
    return pd.DataFrame([{"rev": v.rev, "date": v.date, "version": v.version, "message": v.message,
                          "deleted": v.deleted} for v in store.history(skill)])


def family_timeline(events: pd.DataFrame, family: str) -> pd.DataFrame:
    """The sessions of one family in order: outcome, what recall surfaced, what distillation did."""
    cols = ["seq", "started_at", "session_id", "success", "recall_top1", "recall_top1_similarity", "decision",
            "skill", "reason"]
    return events[events["family"] == family][cols].reset_index(drop=True)


def skills_by_family_status(run_folder: str | Path, corpus: str | Path, family: str) -> pd.DataFrame:
    t = skill_table(run_folder, corpus)
    return t[t["family"] == family].reset_index(drop=True)


def unscoped_search(library_root: str | Path, queries: list[str], embedder="minilm", k: int = 1) -> pd.DataFrame:
    """What ONE index over every agent's skills would return (the contamination skilllab prevents).

    Built here only for comparison: skilllab itself never searches across agents.
    """
    lib = Library(library_root, embedder=embedder)
    names, texts, owners = [], [], []
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        for n in agent.names():
            names.append(f"{agent_id}/{n}")
            texts.append(agent.get(n).search_text())
            owners.append(agent_id)
    index = ExactIndex(lib.embedder.dim)
    index.upsert(names, lib.embedder.embed(texts))
    rows = []
    for q, v in zip(queries, lib.embedder.embed(queries)):
        for rank, h in enumerate(index.search(v, k), 1):
            agent_id, skill = h.name.split("/", 1)
            rows.append({"query": q, "rank": rank, "agent": agent_id, "skill": skill,
                         "similarity": round(h.similarity, 3)})
    return pd.DataFrame(rows)


def scoped_search(library_root: str | Path, agent_id: str, queries: list[str], embedder="minilm",
                  k: int = 1) -> pd.DataFrame:
    lib = Library(library_root, embedder=embedder)
    agent = lib.agent(agent_id, create=False)
    rows = []
    for q in queries:
        for rank, h in enumerate(agent.search(q, k=k), 1):
            rows.append({"query": q, "rank": rank, "agent": agent_id, "skill": h.name,
                         "similarity": round(h.similarity, 3)})
    return pd.DataFrame(rows, columns=["query", "rank", "agent", "skill", "similarity"])


def recommend(summary: pd.DataFrame, max_duplicate_rate: float = 0.35, max_absorbed: int = 0,
              arm: str = "skilllab") -> pd.Series:
    """The sweep point (of ``arm``) with the best decision accuracy, then family coverage, then recall
    area, among those whose duplicate rate stays under ``max_duplicate_rate`` and that absorb at
    most ``max_absorbed`` families (all points of the arm if none do)."""
    s = summary[summary["arm"] == arm] if "arm" in summary else summary
    ok = s[(s["duplicate_rate"] <= max_duplicate_rate) & (s["absorbed_families"].fillna(0) <= max_absorbed)]
    pool = ok if len(ok) else s
    return pool.sort_values(["decision_accuracy", "family_coverage", "recall_auc"], ascending=False).iloc[0]


def rolling_rate(values, window: int = 50) -> np.ndarray:
    return pd.Series(values, dtype=float).rolling(window, min_periods=1).mean().to_numpy()


def sample_tasks(corpus: str | Path, agent: str, n: int = 5) -> list[str]:
    """The first task of each of the agent's ``n`` most common families (for probing search)."""
    from collections import Counter

    sessions = [s for s in iter_corpus(corpus, lenient=True) if s.agent_id == agent]
    common = [f for f, _ in Counter(s.family for s in sessions).most_common(n)]
    return [next(s.task for s in sessions if s.family == f) for f in common]


def drift_start(corpus: str | Path) -> str | None:
    """When the first session labelled ``drift: post`` started, if any."""
    for s in sorted(iter_corpus(corpus, lenient=True), key=lambda s: s.started):
        if s.labels.get("drift") == "post":
            return s.started_at
    return None


def skill_version_text(run_folder: str | Path, agent: str, skill: str, version: int) -> str:
    """The text of a skill at its ``version`` (the latest revision carrying it)."""
    store = AgentStore(Path(run_folder) / "library", agent)
    rev = [v for v in store.history(skill) if v.version == version and not v.deleted][-1]
    return (store.read_at(skill, rev.commit) or b"").decode("utf-8")


# ---- comparing finished runs -------------------------------------------------------------------
def load_runs(paths) -> pd.DataFrame:
    """Finished runs as one frame, a row per run (or arm folder ``<run>/arms/<name>``): the run's
    label, every ``config.*`` setting, then every metric with its interval columns."""
    from .metrics import METRIC_KEYS

    rows = []
    for p in paths:
        p = Path(p)
        if not (p / "metrics.json").exists():
            from ..errors import SkilllabError

            raise SkilllabError(f"{p}: not a finished run folder (no metrics.json)")
        top = p if (p / "config.json").exists() else p.parent.parent
        cfg = json.loads((top / "config.json").read_text())
        config = cfg["config"]
        if top != p:
            config = cfg.get("arms", {}).get(p.name, config)
        label = p.name if top == p else f"{top.name}/{p.name}"
        metrics = json.loads((p / "metrics.json").read_text())
        row = {"run": label, "path": str(p)}
        row.update({f"config.{k}": (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in config.items()})
        row.update({k: metrics.get(k) for k in METRIC_KEYS})
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def compare_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Settings that differ between the runs, then every metric as ``value [lo, hi]``."""
    from .metrics import CI_METRICS, METRICS, fmt_ci

    cfg_cols = [c for c in runs.columns if c.startswith("config.") and runs[c].astype(str).nunique() > 1]
    out = runs[cfg_cols].copy()
    for key in METRICS:
        if key in CI_METRICS:
            out[key] = [fmt_ci(r, key) for r in runs.to_dict(orient="records")]
        else:
            out[key] = runs[key]
    return out.T


def read_curve(run_folder: str | Path) -> list[tuple[float, float, float]]:
    """A run's (or arm's) recall trade-off curve: (floor, false-recall rate, precision@1) rows."""
    frame = pd.read_csv(Path(run_folder) / "recall_curve.csv")
    return [tuple(map(float, r)) for r in frame[["floor", "false_recall_rate", "recall_p_at_1"]].to_numpy()]


def fmt(metrics: dict, key: str) -> str:
    """A metric with its 95% interval when it has one: ``0.671 [0.610, 0.730]``."""
    from .metrics import fmt_ci

    return fmt_ci(metrics, key)


def repo_root() -> Path:
    """The folder that holds ``datasets/`` and ``results/``: the working directory or a parent of it,
    else the checkout this package was installed from, so notebooks run from anywhere."""
    for base in [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]]:
        if (base / "datasets" / "sre-sessions.jsonl").exists():
            return base
    from ..errors import SkilllabError

    raise SkilllabError("no datasets/sre-sessions.jsonl above the working directory; run from a skilllab checkout")
