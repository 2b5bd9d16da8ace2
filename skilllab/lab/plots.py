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


def growth(events: pd.DataFrame, title: str = "Skill library growth per agent"):
    fig, ax = _axes((7, 4))
    for agent, g in events.groupby("agent_id"):
        ax.step(g["seq"], g["library_size"], where="post", label=agent)
    return _finish(fig, ax, title, "sessions replayed (all agents, in time order)", "skills in the agent's library",
                   legend_title="agent")


def decisions(events: pd.DataFrame, title: str = "Decisions over time (cumulative)"):
    fig, ax = _axes((7, 4))
    for d, color in DECISION_COLORS.items():
        series = (events["decision"] == d).cumsum()
        if series.iloc[-1] if len(series) else 0:
            ax.plot(events["seq"], series, label=d, color=color)
    return _finish(fig, ax, title, "sessions replayed", "sessions (cumulative count)", legend_title="decision")


def nn_similarity(similarities: dict[str, list[float]], title: str = "Nearest-neighbour similarity among skills"):
    fig, ax = _axes((7, 4))
    bins = np.linspace(-0.2, 1.0, 25)
    for agent, sims in similarities.items():
        if sims:
            ax.hist(sims, bins=bins, alpha=0.6, label=f"{agent} ({len(sims)} skills)")
    return _finish(fig, ax, title, "cosine similarity of each skill to its nearest other skill (same agent)",
                   "skills", legend_title="agent")


def recall_precision(events: pd.DataFrame, window: int = 50, title: str = "Recall precision over time"):
    fig, ax = _axes((7, 4))
    ans = events[events["answerable"].astype(bool)]
    if len(ans):
        ax.plot(ans["seq"], ans["recall_correct"].astype(float).rolling(window, min_periods=1).mean(),
                label=f"precision@1 (rolling {window} answerable queries)")
        ax.plot(ans["seq"], ans["recall_hit_at_k"].astype(float).rolling(window, min_periods=1).mean(),
                label=f"hit@k (rolling {window})", linestyle="--")
    un = events[~events["answerable"].astype(bool) & events["family"].notna()]
    if len(un):
        ax.plot(un["seq"], un["recall_top1"].notna().astype(float).rolling(window, min_periods=1).mean(),
                label=f"false recall rate (rolling {window} unanswerable queries)", color="#e03131")
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, title, "sessions replayed", "share of queries", loc="lower right", fontsize=8)


def tradeoff(summary: pd.DataFrame, x: str = "param_novelty_bar", title: str = "Sprawl against coverage"):
    """Duplicate rate against family coverage and purity across a swept parameter."""
    fig, ax = _axes((7, 4.5))
    s = summary.sort_values(x)
    ax.plot(s[x], s["duplicate_rate"], marker="o", label="duplicate rate (lower is better)", color="#e03131")
    ax.plot(s[x], s["family_coverage"], marker="s", label="family coverage (higher is better)", color="#2b8a3e")
    ax.plot(s[x], s["purity"], marker="^", label="purity (higher is better)", color="#1971c2")
    if "recall_p_at_1" in s:
        ax.plot(s[x], s["recall_p_at_1"], marker="d", label="recall precision@1", color="#7048e8", linestyle="--")
    ax.set_ylim(-0.02, 1.02)
    return _finish(fig, ax, title, x.removeprefix("param_").replace("_", " "), "rate (0 to 1)", fontsize=8)


def save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def save_all(events: pd.DataFrame, similarities: dict[str, list[float]], folder: Path) -> dict[str, Path]:
    return {
        "growth": save(growth(events), folder / "growth.png"),
        "decisions": save(decisions(events), folder / "decisions.png"),
        "nn_similarity": save(nn_similarity(similarities), folder / "nn_similarity.png"),
        "recall_precision": save(recall_precision(events), folder / "recall_precision.png"),
    }


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
    """Several metrics of a sweep against one swept parameter."""
    fig, ax = _axes((7, 4))
    s = summary.sort_values(x)
    for m in metrics:
        ax.plot(s[x], s[m], marker="o", label=m.replace("_", " "))
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
