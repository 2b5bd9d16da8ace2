"""``report.md`` of a run: who decided, every metric beside each baseline arm, the decision
confusion table, absorbed families, the recall trade-off, the per-skill table and the figures."""

from __future__ import annotations

from pathlib import Path

from . import metrics as M
from .config import ReplayConfig


def _v(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _diff(a, b) -> str:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        d = a - b
        return f"{d:+.3f}" if isinstance(d, float) else f"{d:+d}"
    return ""


def who(config: ReplayConfig) -> str:
    if config.distiller == "extractive":
        return "the **extractive** distiller (deterministic, no LLM)"
    if config.distiller == "nearest":
        return "the **nearest** baseline (no LLM)"
    return (f"the **{config.distiller}** distiller (model `{config.llm_model}`"
            + (f", cassette `{config.llm_cassette}`" if config.llm_cassette else "") + ")")


def report(corpus: Path, config: ReplayConfig, metrics: dict, plot_paths: dict, embedder_id: str,
           details: dict | None = None, arms: dict[str, tuple[dict, dict]] | None = None) -> str:
    details, arms = details or {}, arms or {}
    lines = [f"# Replay of `{corpus.name}`", "",
             f"Decisions in this run were made by {who(config)}; embeddings by `{embedder_id}`; "
             f"novelty bar {config.novelty_bar:g}" + (f" with schedule {list(map(list, config.bar_schedule))}"
                                                      if config.bar_schedule else "")
             + f"; recall k={config.recall_k}, min similarity {config.recall_min_similarity:g}."]
    if arms:
        lines += ["", "Baseline arms on the same sessions: " + "; ".join(
            f"**{n}** ({who(config.arm(n))}, joins at similarity {1 - config.novelty_bar:g})" for n in arms)
            + ". Intervals are 95% bootstrap intervals "
              f"({config.bootstrap} resamples, seed {config.seed})."]
    head = "| metric | skilllab |" + "".join(f" {n} | difference |" for n in arms) + " better | meaning |"
    lines += ["", head, "|---|---|" + "---|---|" * len(arms) + "---|---|"]
    for key, (meaning, better) in M.METRICS.items():
        row = f"| `{key}` | {M.fmt_ci(metrics, key)} |"
        for m, _ in arms.values():
            row += f" {M.fmt_ci(m, key)} | {_diff(metrics.get(key), m.get(key))} |"
        lines.append(row + f" {better or ''} | {meaning} |")
    lines += _confusion(details, arms)
    absorbed = details.get("absorbed_family_list") or []
    lines += ["", "## Absorbed families", "",
              (f"{len(absorbed)} famil{'y' if len(absorbed) == 1 else 'ies'} ended with no unit of their own, "
               "their sessions attributed to other families' units: " + ", ".join(f"`{f}`" for f in absorbed))
              if absorbed else "None: every family with successful sessions has a unit of its own, or none of its "
                               "sessions went elsewhere."]
    for n, (_m, d) in arms.items():
        if d.get("absorbed_family_list"):
            lines.append(f"\n{n}: " + ", ".join(f"`{f}`" for f in d["absorbed_family_list"]))
    lines += ["", "## Recall trade-off", "",
              "Precision@1 against false-recall rate with the recall floor swept over every logged score "
              "(see `recall_curve.csv`): ",
              "", "| arm | area under the curve | precision at 1 with false recall <= 0.2 | with false recall <= 0.3 | precision at 1 of a random skill | oracle precision at 1 (seen families) |",
              "|---|---|---|---|---|---|"]
    for name, m in [("skilllab", metrics)] + [(n, a[0]) for n, a in arms.items()]:
        lines.append(f"| {name} | {_v(m.get('recall_auc'))} | {_v(m.get('recall_p_at_1_at_fr20'))} | "
                     f"{_v(m.get('recall_p_at_1_at_fr30'))} | {_v(m.get('recall_p_at_1_random'))} | "
                     f"{_v(m.get('recall_seen_p_at_1_oracle'))} |")
    table = details.get("skill_table") or []
    if table:
        lines += ["", "## Skills", "", "| agent | skill | status | version | sources | branches | families | "
                                         "last used |", "|---|---|---|---|---|---|---|---|"]
        for r in table[:60]:
            lines.append(f"| {r['agent']} | `{r['skill']}` | {r['status']} | {r['version']} | {r['sources']} | "
                         f"{r['branches']} | {r['families']} | {r['last_used'][:10]} |")
        if len(table) > 60:
            lines.append(f"\n... and {len(table) - 60} more skills.")
    lines.append("")
    for name, path in plot_paths.items():
        title = PLOT_TITLES.get(name, name.replace("_", " ").capitalize())
        lines += [f"## {title}", "", f"![{title}](plots/{Path(path).name})", ""]
    return "\n".join(lines)


PLOT_TITLES = {"growth": "Library growth", "decisions": "Decisions over time",
               "nn_similarity": "Nearest-neighbour similarity among skills",
               "recall_precision": "Recall precision over time", "recall_tradeoff": "Recall precision against false recall"}


def _confusion(details: dict, arms: dict) -> list[str]:
    out = []
    for name, d in [("skilllab", details)] + [(n, a[1]) for n, a in arms.items()]:
        table = d.get("confusion")
        if not table:
            continue
        cols = sorted({c for row in table.values() for c in row}, key=_col_order)
        out += ["", f"## Decisions against the ideal ({name})", "",
                "Rows: the ideal decision for each successful labelled session; columns: what was done.", "",
                "| ideal \\ actual | " + " | ".join(cols) + " | total |", "|---|" + "---|" * (len(cols) + 1)]
        for ideal in M.IDEALS:
            row = table.get(ideal, {})
            out.append(f"| {ideal} | " + " | ".join(str(row.get(c, 0)) for c in cols) + f" | {sum(row.values())} |")
    return out


_ORDER = ["create", "new branch", "update (same family)", "update (other family)", "skip (same family)",
          "skip (other family)", "skip (no target)", "invalid/error"]


def _col_order(c: str) -> int:
    return _ORDER.index(c) if c in _ORDER else len(_ORDER)
