"""Figures of a replay, drawn from its event log (and, for similarity, from its final library).

Every function takes data and returns a matplotlib Figure with a title, axis labels with units and
a legend where there is more than one series; :func:`save_all` writes the standard set. Figures
are built with the object API (no pyplot state, no GUI backend), so they work the same in scripts,
worker processes and notebooks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _axes(figsize=(7, 4)):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _finish(fig, ax, title: str, xlabel: str, ylabel: str, legend_title: str | None = None, **legend) -> Figure:
    """Title, axis labels, a legend (when anything is labelled) and a light grid."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title, **legend)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


DECISION_COLORS = {"create": "#2b8a3e", "update": "#1971c2", "skip": "#868e96", "gated": "#e03131",
                   "invalid": "#f08c00", "error": "#000000"}


# the event columns the figures of a run read (a replay builds them a frame of these alone)
COLUMNS = ["seq", "agent_id", "library_size", "decision", "answerable", "recall_correct", "recall_hit_at_k", "family",
           "recall_top1"]


def growth(events: pd.DataFrame, title: str = "Skill library growth per agent"):
    fig, ax = _axes((7, 4))
    for agent, g in events.groupby("agent_id"):
        ax.step(g["seq"], g["library_size"], where="post", label=agent)
    return _finish(fig, ax, title, "sessions replayed (all agents, in time order)", "skills in the agent's library",
                   legend_title="agent")


def decisions(events: pd.DataFrame, title: str = "Decisions over time (cumulative)"):
    """Cumulative count of each decision, on a log scale when one kind dominates (skips usually do),
    so the rare ones stay readable."""
    fig, ax = _axes((7, 4))
    finals = {}
    for d, color in DECISION_COLORS.items():
        series = (events["decision"] == d).cumsum()
        if len(series) and series.iloc[-1]:
            ax.plot(events["seq"], series, label=f"{d} ({int(series.iloc[-1])})", color=color)
            finals[d] = int(series.iloc[-1])
    ylabel = "sessions (cumulative count)"
    if finals and max(finals.values()) > 8 * max(1, min(finals.values())):
        ax.set_yscale("symlog", linthresh=10)
        ylabel += ", log scale above 10"
    return _finish(fig, ax, title, "sessions replayed", ylabel, legend_title="decision (total)")


def nn_similarity(similarities: dict[str, list[float]], threshold: float | None = None,
                  title: str = "Nearest-neighbour similarity among skills"):
    """Histogram of each skill's similarity to its nearest other skill, one panel row per agent
    (no blended bars), integer counts, and the join threshold drawn when given."""
    from matplotlib.ticker import MaxNLocator

    agents = [a for a, sims in similarities.items() if sims] or list(similarities)[:1] or ["(no skills)"]
    fig = Figure(figsize=(7, 1.2 + 1.3 * len(agents)))
    axes = fig.subplots(len(agents), 1, sharex=True, squeeze=False)[:, 0]
    bins = np.linspace(-0.2, 1.0, 25)
    for ax, agent in zip(axes, agents):
        sims = similarities.get(agent, [])
        ax.hist(sims, bins=bins, color="#1971c2", edgecolor="white", label=f"{agent} ({len(sims)} skills)")
        if threshold is not None:
            ax.axvline(threshold, color="#e03131", linestyle="--", label=f"join threshold {threshold:g}")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("skills")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_title(title)
    axes[-1].set_xlabel("cosine similarity of each skill to its nearest other skill (same agent)")
    fig.tight_layout()
    return fig


def recall_precision(events: pd.DataFrame, window: int = 50, k: int | None = None, warmup: int | None = None,
                     title: str = "Recall precision over time"):
    """Rolling precision@1 and hit@k over answerable queries, and the false-recall rate over
    unanswerable ones; the warm-up window (the first ``window`` answerable queries) is shaded."""
    fig, ax = _axes((7, 4.3))
    ans = events[events["answerable"].astype(bool)]
    kk = f"hit@{k}" if k else "hit@k"
    if len(ans):
        ax.plot(ans["seq"], ans["recall_correct"].astype(float).rolling(window, min_periods=1).mean(),
                label=f"precision@1 (rolling {window} answerable queries)")
        ax.plot(ans["seq"], ans["recall_hit_at_k"].astype(float).rolling(window, min_periods=1).mean(),
                label=f"{kk} (rolling {window})", linestyle="--")
        edge = ans["seq"].iloc[min(len(ans), warmup or window) - 1]
        ax.axvspan(events["seq"].min(), edge, color="#868e96", alpha=0.15, label="warm-up (rolling window filling)")
    un = events[~events["answerable"].astype(bool) & events["family"].notna()]
    if len(un):
        ax.plot(un["seq"], un["recall_top1"].notna().astype(float).rolling(window, min_periods=1).mean(),
                label=f"false recall rate (rolling {window} unanswerable queries)", color="#e03131")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.set_xlabel("sessions replayed")
    ax.set_ylabel("share of queries")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def recall_tradeoff(curves: dict[str, list], title: str = "Recall precision against false recall"):
    """Precision@1 against false-recall rate as the recall floor is swept, one line per arm."""
    fig, ax = _axes((6, 4.5))
    for name, curve in curves.items():
        if not curve:
            continue
        pts = sorted((fr, p) for _f, fr, p in curve)
        xs = [x for x, _ in pts]
        ys = list(np.maximum.accumulate([y for _, y in pts]))
        ax.step(xs + [1.0], ys + [ys[-1]], where="post", label=name)
    for x in (0.2, 0.3):
        ax.axvline(x, color="#868e96", linestyle=":", linewidth=1)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, title, "false-recall rate (unanswerable queries that surfaced a skill)",
                   "precision@1 (answerable queries)", legend_title="arm", loc="lower right")


def tradeoff(summary: pd.DataFrame, x: str = "param_novelty_bar", title: str = "Sprawl against coverage"):
    """A sweep as trade-offs: duplicate rate against family coverage (left) and against decision
    accuracy (right), one line per arm (and per value of any second swept parameter), each point
    labelled with the swept value ``x``."""
    fig = Figure(figsize=(10, 4.5))
    axes = fig.subplots(1, 2, sharey=True)
    s = summary.copy()
    if "arm" not in s:
        s["arm"] = "skilllab"
    others = [c for c in s.columns if c.startswith("param_") and c != x]
    group_cols = ["arm"] + others
    for keys, g in s.sort_values(x).groupby(group_cols, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        label = ", ".join([str(keys[0])] + [f"{c.removeprefix('param_')}={v}" for c, v in zip(others, keys[1:])])
        style = "--" if keys[0] != "skilllab" else "-"
        for ax, col in zip(axes, ("family_coverage", "decision_accuracy")):
            if col not in g or g[col].isna().all():
                continue
            line = ax.plot(g[col], g["duplicate_rate"], marker="o", linestyle=style, label=label)[0]
            for xv, yv, pv in zip(g[col], g["duplicate_rate"], g[x]):
                ax.annotate(f"{pv:g}" if isinstance(pv, (int, float)) else str(pv), (xv, yv), fontsize=7,
                            color=line.get_color(), xytext=(3, 3), textcoords="offset points")
    name = x.removeprefix("param_").replace("_", " ")
    for ax, col in zip(axes, ("family coverage", "decision accuracy")):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"{col} (higher is better)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("duplicate rate (lower is better)")
    axes[0].set_title(f"{title}: points labelled by {name}", fontsize=10)
    axes[1].set_title("Sprawl against decision accuracy", fontsize=10)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(title="arm", fontsize=8)
    fig.tight_layout()
    return fig


def save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def save_all(events: pd.DataFrame, similarities: dict[str, list[float]], folder: Path, *,
             curves: dict[str, list] | None = None, threshold: float | None = None, k: int | None = None
             ) -> dict[str, Path]:
    out = {
        "growth": save(growth(events), folder / "growth.png"),
        "decisions": save(decisions(events), folder / "decisions.png"),
        "nn_similarity": save(nn_similarity(similarities, threshold), folder / "nn_similarity.png"),
        "recall_precision": save(recall_precision(events, k=k), folder / "recall_precision.png"),
    }
    if curves:
        out["recall_tradeoff"] = save(recall_tradeoff(curves), folder / "recall_tradeoff.png")
    return out


def growth_compare(runs: dict[str, pd.DataFrame], agent: str | None = None,
                   title: str = "Library growth under different novelty settings"):
    """Skills over sessions for several runs (one line per run), for one agent or all agents."""
    fig, ax = _axes((7, 4))
    for label, ev in runs.items():
        e = ev if agent is None else ev[ev["agent_id"] == agent]
        if agent is None:
            sizes = e.groupby("agent_id")["library_size"].cummax()
            total = pd.Series(0, index=e.index, dtype=float)
            last = {}
            for i, (a, s) in enumerate(zip(e["agent_id"], sizes)):
                last[a] = s
                total.iloc[i] = sum(last.values())
            ax.step(e["seq"], total, where="post", label=label)
        else:
            ax.step(range(1, len(e) + 1), e["library_size"], where="post", label=label)
    return _finish(fig, ax, title + (f" ({agent})" if agent else " (all agents)"),
                   "sessions of this agent replayed" if agent else "sessions replayed", "skills in the library")


def metric_curves(summary: pd.DataFrame, x: str, metrics: list[str], title: str, xlabel: str | None = None):
    """Several metrics of a sweep against one swept parameter. A second swept parameter (or several
    arms) gives separate lines: one colour per metric, one line style per value of the other."""
    fig, ax = _axes((7, 4))
    s = summary.sort_values(x)
    others = [c for c in s.columns if (c.startswith("param_") and c != x or c == "arm") and s[c].nunique() > 1]
    groups = list(s.groupby(others, sort=True)) if others else [((), s)]
    styles = ["-", "--", ":", "-."]
    colours = {m: f"C{i}" for i, m in enumerate(metrics)}
    for gi, (keys, g) in enumerate(groups):
        keys = keys if isinstance(keys, tuple) else (keys,)
        tag = ", ".join(f"{c.removeprefix('param_')}={v}" for c, v in zip(others, keys))
        for m in metrics:
            ax.plot(g[x], g[m], marker="o", color=colours[m], linestyle=styles[gi % len(styles)],
                    label=m.replace("_", " ") + (f" ({tag})" if tag else ""))
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, title, xlabel or x.removeprefix("param_").replace("_", " "), "rate (0 to 1)", fontsize=8)


def drift_timeline(timeline: pd.DataFrame, flags: list[tuple[str, str]], drift_date: str | None = None,
                   title: str = "A skill drifting out of date"):
    """Sessions of one family over time (success or failure), with the skill's status changes."""
    fig, ax = _axes((8, 3.8))
    t = pd.to_datetime(timeline["started_at"])
    ok = timeline["success"].astype(bool)
    ax.scatter(t[ok], [1] * int(ok.sum()), marker="o", color="#2b8a3e", label="session succeeded")
    ax.scatter(t[~ok], [0] * int((~ok).sum()), marker="x", color="#e03131", label="session failed")
    for i, (when, what) in enumerate(flags):
        ax.axvline(pd.to_datetime(when), color="#7048e8" if "review" in what else "#1971c2", linestyle="--")
        ax.text(pd.to_datetime(when), 0.5 + 0.45 * (i % 2), " " + what, rotation=90, va="center", fontsize=8)
    if drift_date:
        ax.axvline(pd.to_datetime(drift_date), color="#868e96", linewidth=3, alpha=0.4, label="procedure changed")
    ax.set_yticks([0, 1], ["failed", "succeeded"])
    ax.set_ylim(-0.5, 1.5)
    ax.set_title(title)
    ax.set_xlabel("session start (UTC)")
    ax.set_ylabel("outcome")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def compare_runs(runs: pd.DataFrame, metrics=("recall_p_at_1", "false_recall_rate", "duplicate_rate",
                                             "decision_accuracy", "family_coverage", "attributed_purity"),
                 title: str = "Runs compared (95% bootstrap intervals where computed)"):
    """Grouped bars of the headline metrics, one bar per run, with interval whiskers."""
    fig, ax = _axes((8, 4.5))
    n = len(runs)
    width = 0.8 / max(n, 1)
    xs = np.arange(len(metrics))
    for i, (label, r) in enumerate(runs.iterrows()):
        vals = [r.get(m) if r.get(m) is not None else np.nan for m in metrics]
        vals = [float(v) if v is not None and v == v else np.nan for v in vals]
        err = [[max(0.0, v - r.get(f"{m}_lo")) if r.get(f"{m}_lo") == r.get(f"{m}_lo") and r.get(f"{m}_lo")
                is not None else 0 for m, v in zip(metrics, vals)],
               [max(0.0, r.get(f"{m}_hi") - v) if r.get(f"{m}_hi") == r.get(f"{m}_hi") and r.get(f"{m}_hi")
                is not None else 0 for m, v in zip(metrics, vals)]]
        ax.bar(xs + i * width - 0.4 + width / 2, vals, width, yerr=err, capsize=2, label=str(label))
    ax.set_xticks(xs, [m.replace("_", " ") for m in metrics], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    return _finish(fig, ax, title, "metric", "value (0 to 1)", legend_title="run", fontsize=7)
