"""Replay metrics: their meaning, which way is better, and how they are computed from a run.

Everything here is computed from the per-session event log and the final library (skill name,
agent, sources); labels (``labels.family``) are used only here, never by a distiller. Metrics
that need labels are ``None`` (``null`` in metrics.json) when the corpus has none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

METRICS: dict[str, tuple[str, str | None]] = {
    "sessions": ("sessions replayed", None),
    "skills": ("skills in the final library, all agents", None),
    "created": ("sessions that created a skill", None),
    "updated": ("sessions that updated a skill in place", None),
    "skipped": ("successful sessions judged routine (or invalid / failed decisions)", None),
    "gated_failed": ("failed sessions stopped by the quality gate", None),
    "duplicate_rate": ("1 - distinct families among skills / skills: share of skills that duplicate "
                       "another skill's family", "lower"),
    "purity": ("mean share of a skill's source sessions that are of its majority family", "higher"),
    "family_coverage": ("families with a skill at the end / families with at least one successful session",
                        "higher"),
    "wrong_merge_rate": ("updates whose target skill was of another family / updates", "lower"),
    "missed_novel_rate": ("successful sessions of a family with no skill yet that did not create one / such "
                          "sessions", "lower"),
    "recall_p_at_1": ("precision@1 of skill recall (task text only, before distilling): answerable queries "
                      "whose top hit is of the right family; abstaining counts as wrong", "higher"),
    "recall_hit_at_k": ("answerable queries with a right-family skill among the k hits", "higher"),
    "recall_mrr": ("mean reciprocal rank of the first right-family hit over answerable queries", "higher"),
    "k": ("hits recalled per query", None),
    "false_recall_rate": ("unanswerable queries (no active skill of the family yet) where recall surfaced "
                          "anything", "lower"),
    "llm_calls": ("LLM requests made by the distiller (cassette replays included)", "lower"),
    "prompt_tokens": ("prompt tokens reported by the LLM endpoint", "lower"),
    "completion_tokens": ("completion tokens reported by the LLM endpoint", "lower"),
    "wall_seconds": ("wall time of the replay loop", "lower"),
    "embed_seconds": ("time spent inside the embedding model (cache hits cost none)", "lower"),
    "sessions_per_second": ("sessions replayed per second of wall time", "higher"),
}
METRIC_KEYS = tuple(METRICS)


@dataclass(frozen=True)
class FinalSkill:
    agent: str
    name: str
    status: str
    sources: tuple[str, ...]


def majority(families: list[str]) -> tuple[str | None, float]:
    """The most common family (first seen wins a tie) and its share."""
    known = [f for f in families if f is not None]
    if not known:
        return None, 0.0
    fam, n = Counter(known).most_common(1)[0]
    return fam, n / len(known)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def compute(events: list[dict], skills: list[FinalSkill], family_of: dict[str, str | None], *, k: int,
            wall_seconds: float, embed_seconds: float) -> dict:
    """The metrics.json dict, keys exactly :data:`METRIC_KEYS`."""
    labelled = any(f is not None for f in family_of.values())
    n = len(events)
    dec = Counter(e["decision"] for e in events)
    out = {
        "sessions": n, "skills": len(skills), "created": dec["create"], "updated": dec["update"],
        "skipped": dec["skip"] + dec["invalid"] + dec["error"], "gated_failed": dec["gated"],
        "k": k,
        "llm_calls": sum(int(e.get("llm_calls") or 0) for e in events),
        "prompt_tokens": sum(int(e.get("prompt_tokens") or 0) for e in events),
        "completion_tokens": sum(int(e.get("completion_tokens") or 0) for e in events),
        "wall_seconds": round(wall_seconds, 3), "embed_seconds": round(embed_seconds, 3),
        "sessions_per_second": round(n / wall_seconds, 3) if wall_seconds > 0 else None,
    }
    label_keys = ("duplicate_rate", "purity", "family_coverage", "wrong_merge_rate", "missed_novel_rate",
                  "recall_p_at_1", "recall_hit_at_k", "recall_mrr", "false_recall_rate")
    if not labelled:
        out.update({key: None for key in label_keys})
        return {key: out[key] for key in METRIC_KEYS}
    fams = [majority([family_of.get(s) for s in sk.sources]) for sk in skills]
    with_family = [f for f, _ in fams if f is not None]
    out["duplicate_rate"] = _ratio(len(with_family) - len(set(with_family)), len(with_family))
    out["purity"] = _ratio(sum(share for f, share in fams if f is not None), len(with_family))
    succeeded = {(e["agent_id"], e["family"]) for e in events if e["success"] and e["family"] is not None}
    covered = {(sk.agent, f) for sk, (f, _) in zip(skills, fams) if f is not None}
    out["family_coverage"] = _ratio(len(succeeded & covered), len(succeeded))
    updates = [e for e in events if e["decision"] == "update"]
    out["wrong_merge_rate"] = _ratio(sum(bool(e["wrong_merge"]) for e in updates), len(updates))
    novel = [e for e in events if e["novel_family"] and e["success"]]
    out["missed_novel_rate"] = _ratio(sum(e["decision"] != "create" for e in novel), len(novel))
    answerable = [e for e in events if e["answerable"]]
    out["recall_p_at_1"] = _ratio(sum(bool(e["recall_correct"]) for e in answerable), len(answerable))
    out["recall_hit_at_k"] = _ratio(sum(bool(e["recall_hit_at_k"]) for e in answerable), len(answerable))
    out["recall_mrr"] = _ratio(sum(float(e["recall_rr"]) for e in answerable), len(answerable))
    unanswerable = [e for e in events if e["family"] is not None and not e["answerable"]]
    out["false_recall_rate"] = _ratio(sum(bool(e["recall_top1"]) for e in unanswerable), len(unanswerable))
    for key in label_keys:
        if out[key] is not None:
            out[key] = round(out[key], 6)
    return {key: out[key] for key in METRIC_KEYS}
