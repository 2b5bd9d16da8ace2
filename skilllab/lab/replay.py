"""Prequential replay of a session corpus: for each session, first recall, then distill.

Sessions are taken in ``started_at`` order. For each one, the agent's library *as it stands* is
asked for skills using only the task text (the test), the hits are logged, and then the session
is distilled into the library (the train step). The harness knows ``labels.family``; the
distiller never sees it. A skill's family is the majority family of its source sessions. A query
is *answerable* when an active (or in-review) skill of its family exists for that agent at that
moment. See :mod:`skilllab.lab.metrics` for every metric.

:func:`run_replay` writes a run folder (complete or absent):
``config.json``, ``events.csv``, ``metrics.json``, ``library/``, ``plots/``, ``report.md``.
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._fs import write_json
from ..corpus import corpus_sha256, read_corpus
from ..distill import distill_session, get_distiller
from ..library import Library
from . import metrics as M
from . import plots
from .config import ReplayConfig
from .rundir import RUN_SCHEMA, RunFolder, environment, utc_stamp

EVENT_COLUMNS = ["seq", "session_id", "agent_id", "family", "success", "decision", "skill", "top_similarity", "bar",
                 "library_size", "recall_top1", "recall_top1_family", "recall_correct", "llm_calls",
                 # further columns, for analysis
                 "started_at", "novelty", "recall_top1_similarity", "recall_hits", "recall_hit_at_k", "recall_rr",
                 "answerable", "novel_family", "wrong_merge", "target_family", "prompt_tokens", "completion_tokens",
                 "reason", "error"]


@dataclass
class ReplayResult:
    path: Path | None
    metrics: dict
    events: pd.DataFrame
    config: ReplayConfig


def make_distiller(config: ReplayConfig):
    if config.distiller.startswith("llm"):
        opts = {"model": config.llm_model, "base_url": config.llm_base_url, "cassette": config.llm_cassette,
                "cassette_mode": config.llm_cassette_mode}
        if ":" in config.distiller:
            opts["model"] = config.distiller.split(":", 1)[1]
        return get_distiller("llm", **{k: v for k, v in opts.items() if v is not None})
    return get_distiller(config.distiller)


def default_out(corpus: Path, config: ReplayConfig, results_dir: Path) -> Path:
    return Path(results_dir) / f"{utc_stamp()}_{Path(corpus).stem}_{config.config_hash()[:8]}"


def run_replay(corpus: str | Path, config: ReplayConfig | None = None, *, out: str | Path | None = None,
               results_dir: str | Path = "results", write: bool = True, distiller=None) -> ReplayResult:
    """Replay ``corpus`` under ``config`` and (by default) write the run folder.

    ``distiller`` overrides ``config.distiller`` with an object (a scripted distiller in tests,
    or one of your own); the config still records the string.
    """
    config = config or ReplayConfig()
    corpus = Path(corpus)
    sessions, problems = read_corpus(corpus, lenient=config.lenient)
    if config.agents:
        sessions = [s for s in sessions if s.agent_id in config.agents]
    if config.limit is not None:
        sessions = sessions[: config.limit]
    final = Path(out) if out else default_out(corpus, config, Path(results_dir))
    folder = RunFolder(final) if write else None
    work = folder.tmp if folder else Path(_tmpdir())
    try:
        events, lib, t_wall = _loop(sessions, config, work / "library", distiller)
        family_of = {s.session_id: s.family for s in sessions}
        skills = _final_skills(lib)
        metrics = M.compute(events, skills, family_of, k=config.recall_k, wall_seconds=t_wall,
                            embed_seconds=getattr(lib.embedder, "seconds", 0.0))
        df = pd.DataFrame(events, columns=EVENT_COLUMNS)
        if folder is None:
            return ReplayResult(None, metrics, df, config)
        sims = nearest_neighbour_similarities(lib)
        _write(work, corpus, config, metrics, df, sims, problems, lib)
        return ReplayResult(folder.commit(), metrics, df, config)
    except BaseException:
        if folder:
            folder.abort()
        raise
    finally:
        if folder is None:
            shutil.rmtree(work, ignore_errors=True)


def _tmpdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="skilllab-replay-")


def _loop(sessions, config: ReplayConfig, lib_root: Path, distiller=None):
    lib = Library(lib_root, embedder=config.embedder, cache_dir=config.cache_dir, index=config.index)
    distiller = distiller or make_distiller(config)
    family_of = {s.session_id: s.family for s in sessions}
    agents: dict = {}
    seen: dict[str, int] = defaultdict(int)
    events = []
    t0 = time.perf_counter()
    iterator = sessions
    if config.progress:
        from tqdm.auto import tqdm

        # disable=None: shown on a terminal only, never in logs or CI
        iterator = tqdm(sessions, desc="replay", unit="session", disable=None, leave=False)
    for seq, s in enumerate(iterator):
        agent = agents.get(s.agent_id)
        if agent is None:
            agent = agents[s.agent_id] = lib.agent(s.agent_id)
        when_ts = s.started.timestamp()
        bar = config.bar_for(seen[s.agent_id])
        if agent.settings.novelty_bar != bar:
            agent.set_novelty_bar(bar, f"schedule: bar {bar:g} from session {seen[s.agent_id]} of this agent",
                                  when=when_ts)
        seen[s.agent_id] += 1
        fam = s.family
        skill_fam = {n: M.majority([family_of.get(x) for x in e["sources"]])[0]
                     for n, e in agent._entries.items() if e["status"] != "deprecated"}
        answerable = fam is not None and fam in skill_fam.values()
        # test: recall with the task text only, against the library as it stands
        hits = agent.recall(s.task, k=config.recall_k, min_similarity=config.recall_min_similarity,
                            when=s.started_at)
        ranks = [i for i, h in enumerate(hits, 1) if skill_fam.get(h.name) == fam]
        top = hits[0] if hits else None
        # train: distill the session into the library
        res = distill_session(agent, s, distiller, bar=bar, k=config.candidates_k, skip_above=config.skip_above,
                              failed_to_dead_ends=config.failed_to_dead_ends)
        target_family = skill_fam.get(res.skill) if res.decision == "update" else None
        if config.record_outcomes and top is not None and top.name in agent:
            agent.record_outcome(top.name, s.success, when=s.started_at)
        events.append({
            "seq": seq, "session_id": s.session_id, "agent_id": s.agent_id, "family": fam, "success": s.success,
            "decision": res.decision, "skill": res.skill, "top_similarity": res.top_similarity, "bar": bar,
            "library_size": len(agent), "recall_top1": top.name if top else None,
            "recall_top1_family": skill_fam.get(top.name) if top else None,
            "recall_correct": bool(answerable and top is not None and skill_fam.get(top.name) == fam),
            "llm_calls": res.llm_calls, "started_at": s.started_at, "novelty": res.novelty,
            "recall_top1_similarity": round(top.similarity, 6) if top else None,
            "recall_hits": " ".join(h.name for h in hits), "recall_hit_at_k": bool(answerable and ranks),
            "recall_rr": (1.0 / ranks[0]) if (answerable and ranks) else 0.0, "answerable": answerable,
            "novel_family": fam is not None and fam not in skill_fam.values(),
            "wrong_merge": res.decision == "update" and target_family is not None and target_family != fam,
            "target_family": target_family, "prompt_tokens": res.prompt_tokens,
            "completion_tokens": res.completion_tokens, "reason": res.reason, "error": res.error,
        })
    t_wall = time.perf_counter() - t0
    for a in agents.values():
        a.close()
    return events, lib, t_wall


def _final_skills(lib: Library) -> list[M.FinalSkill]:
    out = []
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        for info in agent.list():
            out.append(M.FinalSkill(agent_id, info.name, info.status, info.sources))
    return out


def nearest_neighbour_similarities(lib: Library) -> dict[str, list[float]]:
    """For each agent, each skill's cosine similarity to its nearest other skill."""
    out = {}
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        names = agent.names()
        if len(names) < 2:
            out[agent_id] = []
            continue
        vecs = agent.embedder.embed([agent.get(n).search_text() for n in names])
        sims = []
        for n, v in zip(names, vecs):
            hits = [h for h in agent.search_vector(v, k=2, include_deprecated=True) if h.name != n]
            if hits:
                sims.append(round(hits[0].similarity, 6))
        out[agent_id] = sims
    return out


def _write(work: Path, corpus: Path, config: ReplayConfig, metrics: dict, df: pd.DataFrame,
           sims: dict, problems, lib: Library) -> None:
    write_json(work / "config.json", {
        "schema": RUN_SCHEMA, "config": config.to_dict(), "config_hash": config.config_hash(),
        "embedder_id": lib.embedder.id, "corpus": str(corpus), "corpus_sha256": corpus_sha256(corpus),
        "seed": config.seed, "skipped_lines": [str(p) for p in problems], "environment": environment(),
    })
    df.to_csv(work / "events.csv", index=False)
    write_json(work / "metrics.json", metrics)
    write_json(work / "nn_similarity.json", sims)
    for agent_id in lib.agents():
        shutil.rmtree(lib.root / agent_id / "index", ignore_errors=True)  # rebuildable from the files
    paths = plots.save_all(df, sims, work / "plots")
    (work / "report.md").write_text(report(corpus, config, metrics, paths, lib.embedder.id), encoding="utf-8")


def report(corpus: Path, config: ReplayConfig, metrics: dict, plot_paths: dict, embedder_id: str) -> str:
    who = ("the **extractive** distiller (deterministic, no LLM)" if config.distiller == "extractive"
           else f"the **{config.distiller}** distiller (model `{config.llm_model}`"
                + (f", cassette `{config.llm_cassette}`" if config.llm_cassette else "") + ")")
    lines = [f"# Replay of `{corpus.name}`", "",
             f"Decisions in this run were made by {who}; embeddings by `{embedder_id}`; "
             f"novelty bar {config.novelty_bar:g}" + (f" with schedule {list(map(list, config.bar_schedule))}"
                                                      if config.bar_schedule else "")
             + f"; recall k={config.recall_k}, min similarity {config.recall_min_similarity:g}.", "",
             "| metric | value | better | meaning |", "|---|---|---|---|"]
    for key, (meaning, better) in M.METRICS.items():
        v = metrics.get(key)
        shown = "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
        lines.append(f"| `{key}` | {shown} | {better or ''} | {meaning} |")
    lines.append("")
    for name, path in plot_paths.items():
        lines += [f"## {name.replace('_', ' ').capitalize()}", "", f"![{name}](plots/{Path(path).name})", ""]
    return "\n".join(lines)


def summary_table(metrics: dict) -> str:
    keys = ["sessions", "skills", "created", "updated", "skipped", "gated_failed", "duplicate_rate", "purity",
            "family_coverage", "wrong_merge_rate", "missed_novel_rate", "recall_p_at_1", "recall_hit_at_k",
            "recall_mrr", "false_recall_rate", "llm_calls", "wall_seconds", "embed_seconds", "sessions_per_second"]
    w = max(map(len, keys))
    rows = []
    for k in keys:
        v = metrics.get(k)
        rows.append(f"{k.ljust(w)}  {'n/a' if v is None else (f'{v:.3f}' if isinstance(v, float) else v)}")
    return "\n".join(rows)


