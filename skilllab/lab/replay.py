"""Prequential replay of a session corpus: for each session, first recall, then distill.

Sessions are taken in ``started_at`` order (ties keep file order, or are shuffled by ``seed``
with ``shuffle_ties``). For each one, the agent's library *as it stands* is asked for skills
using only the task text (the test), the hits are logged with their scores, and then the session
is distilled into the library (the train step). The harness knows ``labels.family``; the
distiller never sees it. Every decision is attributed to a *unit* (a skill, or one branch of a
branched skill) and a unit's family is the majority family of its sources, kept incrementally
(:class:`~skilllab.lab.metrics.UnitBook`). A query is *answerable* when an active unit of its
family exists for that agent at that moment. See :mod:`skilllab.lab.metrics` for every metric.

Each baseline arm in ``compare`` (default: ``nearest``) is replayed the same way on the same
sessions. :func:`run_replay` writes a run folder (complete or absent): ``config.json``,
``events.csv``, ``timings.csv`` (milliseconds per session), ``metrics.json``, ``details.json`` (with time
per stage), ``recall_curve.csv``, ``library/``, ``plots/``, ``report.md``,
and ``arms/<name>/`` with the same files for each baseline arm.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .._fs import write_json
from ..corpus import SortedCorpus, corpus_sha256
from ..distill import DistillOptions, distill_sessions, get_distiller, preflight
from ..distill.actions import step_action
from ..distill.batch import embed_ahead
from ..distill.transcript import find_placeholders, same_step, signature, templated
from ..embed import get_embedder
from ..library import Library
from . import metrics as M
from .config import ReplayConfig
from .eventlog import EVENT_COLUMNS, EventLog
from .report import report
from .rundir import RUN_SCHEMA, RunFolder, environment, utc_stamp


class _Events:
    """``events``: a DataFrame, built from the replay's :class:`EventLog` the first time it is read."""

    def __init__(self, events: pd.DataFrame | EventLog):
        self.events = events

    @property
    def events(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self.event_log.frame() if self.event_log is not None else pd.DataFrame(columns=EVENT_COLUMNS)
        return self._frame

    @events.setter
    def events(self, value: pd.DataFrame | EventLog) -> None:
        self.event_log = value if isinstance(value, EventLog) else None
        self._frame = None if isinstance(value, EventLog) else value


class ArmResult(_Events):
    """One arm of a replay: its metrics, events and details. ``events`` is a DataFrame (built when
    first read); ``event_log`` is the :class:`EventLog` it comes from, to read in passes or chunks
    without holding every event (``None`` for a run loaded from its folder)."""

    def __init__(self, name: str, metrics: dict, events: pd.DataFrame | EventLog, details: dict | None = None,
                 curve: list | None = None):
        super().__init__(events)
        self.name, self.metrics, self.details, self.curve = name, metrics, details or {}, curve or []

    def __repr__(self) -> str:
        return f"ArmResult({self.name!r}, sessions={self.metrics.get('sessions')})"


class ReplayResult(_Events):
    """A replay: its folder (``None`` when not written), metrics, events, config, baseline arms by
    name and details. ``events`` is a DataFrame, built from ``event_log`` when first read."""

    def __init__(self, path: Path | None, metrics: dict, events: pd.DataFrame | EventLog, config: ReplayConfig,
                 arms: dict[str, ArmResult] | None = None, details: dict | None = None):
        super().__init__(events)
        self.path, self.metrics, self.config = path, metrics, config
        self.arms: dict[str, ArmResult] = arms or {}
        self.details: dict = details or {}

    def __repr__(self) -> str:
        return f"ReplayResult({str(self.path) if self.path else None!r}, sessions={self.metrics.get('sessions')})"


def make_distiller(config: ReplayConfig):
    extractive = {"similarity_weight": config.similarity_weight, "resolution_weight": config.resolution_weight,
                  "phrasings": config.phrasings, "branch_similarity": config.branch_similarity
                  } if config.distiller == "extractive" else {}
    return get_distiller(config.distiller, model=config.llm_model, base_url=config.llm_base_url,
                         cassette=config.llm_cassette, cassette_mode=config.llm_cassette_mode, **extractive)


def default_out(corpus: Path, config: ReplayConfig, results_dir: Path) -> Path:
    return Path(results_dir) / f"{utc_stamp()}_{Path(corpus).stem}_{config.config_hash()[:8]}"


def load_sessions(corpus: Path, config: ReplayConfig) -> tuple[SortedCorpus, list]:
    """The sessions to replay, in replay order, as a stream (:class:`~skilllab.corpus.SortedCorpus`:
    every line checked first; then only positions and labels are held, not transcripts), and the
    problems of the lines skipped under ``lenient``."""
    tie = None
    if config.shuffle_ties:  # ties broken by the seed: one draw per session, in file order
        rng = random.Random(config.seed)
        tie = lambda _i: rng.random()  # noqa: E731
    sessions = SortedCorpus(corpus, lenient=config.lenient, tie_key=tie, agents=config.agents, limit=config.limit)
    return sessions, sessions.problems


def run_replay(corpus: str | Path, config: ReplayConfig | None = None, *, out: str | Path | None = None,
               results_dir: str | Path = "results", write: bool = True, distiller=None,
               floors: tuple = ()) -> ReplayResult:
    """Replay ``corpus`` under ``config`` (and each baseline arm) and, by default, write the run folder.

    ``distiller`` overrides ``config.distiller`` with an object (a scripted distiller in tests,
    or one of your own); the config still records the string. ``floors``: recall floors to
    re-score the same replay at (``details["rescored"][floor]`` of each arm holds their metrics).
    """
    config = config or ReplayConfig()
    corpus = Path(corpus)
    sessions, problems = load_sessions(corpus, config)
    if distiller is None:
        distiller = make_distiller(config)
        preflight(distiller)  # an LLM endpoint that cannot answer stops the run before a folder exists
    final = Path(out) if out else default_out(corpus, config, Path(results_dir))
    folder = RunFolder(final) if write else None
    work = folder.tmp if folder else Path(_tmpdir())
    try:
        embedder = get_embedder(config.embedder, config.cache_dir, device=config.embed_device,
                                batch_size=config.embed_batch_size)
        ahead = embed_ahead(embedder, sessions, [distiller] + [make_distiller(config.arm(n)) for n in config.compare])
        apart = {name: ArmApart(name, corpus, config, work, floors)
                 for name in config.compare if _arms_apart(config, len(sessions), embedder, ahead)}
        try:
            gold = gold_actions(sessions)
            main = _arm("skilllab", sessions, config, work, distiller, gold, embedder, floors)
            arms = {name: apart[name].result(embedder) if name in apart else
                    _arm(name, sessions, config.arm(name), work / "arms" / name, None, gold, embedder, floors)
                    for name in config.compare}
        finally:
            for a in apart.values():
                a.stop()
        main.details["embedding_ahead"] = ahead
        result = ReplayResult(None, main.metrics, main.event_log, config, dict(arms), main.details)
        if folder is None:
            return result
        _write(work, corpus, config, problems, main, arms)
        result.path = folder.commit()
        return result
    except BaseException:
        if folder:
            folder.abort()
        raise
    finally:
        if folder is None:
            shutil.rmtree(work, ignore_errors=True)


def rescore(events: Iterable, floor: float) -> Iterator[dict]:
    """The events as a replay with recall floor ``floor`` would have logged them, one at a time
    (a pass over ``events``). Exact: the floor decides which hits are shown, and nothing the
    distiller does depends on it."""
    for e in events:
        hits = [h for h in json.loads(e["recall_all"] or "[]") if h[1] >= floor]
        ranks = [i for i, h in enumerate(hits, 1) if h[2]]
        answerable = bool(e["answerable"])
        yield {**e, "recall_top1": hits[0][0] if hits else None,
               "recall_top1_similarity": hits[0][1] if hits else None,
               "recall_correct": bool(answerable and hits and hits[0][2]),
               "recall_hits": " ".join(h[0] for h in hits), "recall_hit_at_k": bool(answerable and ranks),
               "recall_rr": (1.0 / ranks[0]) if (answerable and ranks) else 0.0,
               "recall_top1_family": None}


ARMS_APART_MIN = 500  # sessions from which a baseline arm is replayed in a process of its own


def _arms_apart(config: ReplayConfig, n_sessions: int, embedder: Any, ahead: dict) -> bool:
    """Whether the baseline arms run in processes of their own: asked for, more than one core, a
    corpus long enough to pay for starting a process (two seconds or so), and nothing for a model
    to do there: an embedder with no model (``hashing``: cheaper to compute than to look up, so
    it has no cache), or an embedding cache that already held every query text of the run
    (``ahead``: what :func:`~skilllab.distill.batch.embed_ahead` did; nothing was computed), as
    when a corpus is replayed again. Texts a model would embed in the arm's process, beside this
    one's on the same cores, would only take turns with them; so the arm runs apart only when its
    vectors are read from the cache (a text missing there is embedded by the arm's process)."""
    if not (config.parallel_arms and (os.cpu_count() or 1) > 1 and n_sessions >= ARMS_APART_MIN):
        return False
    if not hasattr(embedder, "cache"):
        return True
    return ahead.get("texts", 0) > 0 and ahead.get("computed") == 0


class ArmApart:
    """A baseline arm replayed in a process of its own, beside skilllab's arm in this one.

    The process is a fresh interpreter (``python -m skilllab.lab.replay_arm``: it inherits no
    thread, lock or model of this one and does not import the caller's script), importing the same
    skilllab as this process. It reads the corpus and makes its embedder itself (one without a
    model, or one whose vectors the shared cache holds: see :func:`_arms_apart`), writes the arm's
    library where the arm would, and hands its events over as a spool. It is the same code on the
    same inputs and vectors, so the arm's results are the ones it gives in this process."""

    def __init__(self, name: str, corpus: Path, config: ReplayConfig, work: Path, floors: tuple):
        import pickle
        import subprocess
        import sys

        self.name, self.config, self.work = name, config, work
        folder = work / "arms" / name
        folder.mkdir(parents=True, exist_ok=True)
        self.job, self.out = folder / "job.pickle", folder / "result.pickle"
        self.job.write_bytes(pickle.dumps({"name": name, "corpus": str(corpus), "config": config,
                                           "work": str(work), "floors": floors}))
        here = str(Path(__file__).resolve().parents[2])  # the folder this skilllab is imported from
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._proc = subprocess.Popen([sys.executable, "-m", "skilllab.lab.replay_arm", str(self.job), str(self.out)],
                                      env=env, stdin=subprocess.DEVNULL)

    def result(self, embedder: Any) -> _Arm:
        """The arm, once its process is done (its error, raised here, if it failed)."""
        import pickle

        code = self._proc.wait()
        try:
            status, payload = pickle.loads(self.out.read_bytes())
        except FileNotFoundError:
            raise RuntimeError(f"baseline arm {self.name!r}: its process ended without a result "
                               f"(exit code {code})") from None
        finally:
            self.job.unlink(missing_ok=True)
            self.out.unlink(missing_ok=True)
        if status == "error":
            raise payload
        cfg = self.config.arm(self.name)
        lib = Library(self.work / "arms" / self.name / "library", embedder=embedder, cache_dir=cfg.cache_dir,
                      index=cfg.index, read_only=True)
        return _Arm(self.name, EventLog.adopt(*payload["events"]), lib, payload["metrics"], payload["details"],
                    payload["curve"], payload["sims"])

    def stop(self) -> None:
        """End the process if it still runs (this run failed or was interrupted)."""
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait()


def replay_arm(job: dict) -> tuple[str, Any]:
    """The work of an :class:`ArmApart` process: replay the arm ``job`` names; ``("ok", what the
    run needs back)`` or ``("error", the exception)``."""
    name, config, work = job["name"], job["config"], Path(job["work"])
    try:
        sessions, _problems = load_sessions(Path(job["corpus"]), config)
        embedder = get_embedder(config.embedder, config.cache_dir, device=config.embed_device,
                                batch_size=config.embed_batch_size)
        arm = _arm(name, sessions, config.arm(name).with_(progress=False), work / "arms" / name, None,
                   gold_actions(sessions), embedder, tuple(job["floors"]))
        assert arm.event_log is not None
        return "ok", {"metrics": arm.metrics, "details": arm.details, "curve": arm.curve, "sims": arm.sims,
                      "events": arm.event_log.hand_over()}
    except Exception as exc:
        return "error", exc


def _tmpdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="skilllab-replay-")


class _Arm(ArmResult):
    """An arm as the replay leaves it for writing: also its library and figures' data."""

    def __init__(self, name, log, lib, metrics, details, curve, sims):
        super().__init__(name, metrics, log, details, curve)
        self.lib, self.sims = lib, sims


def _arm(name: str, sessions, config: ReplayConfig, work: Path, distiller, gold, embedder=None,
         floors: tuple = ()) -> _Arm:
    book = M.UnitBook()
    timing: Counter = Counter()
    emb_before = getattr(embedder, "seconds", 0.0)
    events, lib, t_wall = _loop(sessions, config, work / "library", distiller, book, timing, embedder)
    emb_seconds = getattr(lib.embedder, "seconds", 0.0) - emb_before
    t_metrics = time.perf_counter()
    family_of = sessions.family_of()
    units, skills = final_units(lib)
    support = step_support(units, book, sessions)
    details: dict = {}
    tally = M.Tally(events)  # one pass over the log gives every metric drawn from the events
    metrics = M.compute(tally, units, book, family_of, k=config.recall_k, wall_seconds=t_wall,
                        embed_seconds=emb_seconds, skills=skills,
                        bootstrap=config.bootstrap, seed=config.seed, gold_actions=gold, step_support=support,
                        details=details)
    if floors:  # the recall floor changes nothing but recall: other floors are a re-scoring of this replay
        details["rescored"] = {f: M.compute(rescore(events, f), units, book, family_of, k=config.recall_k,
                                            wall_seconds=t_wall, embed_seconds=emb_seconds, skills=skills,
                                            bootstrap=config.bootstrap, seed=config.seed, gold_actions=gold,
                                            step_support=support)
                               for f in floors}
    details["confusion"] = confusion(events)
    details["skill_table"] = skill_rows(lib, book)
    timing["metrics"] += time.perf_counter() - t_metrics
    n = max(1, len(sessions))
    details["ms_per_session"] = {k: round(1e3 * v / n, 3) for k, v in sorted(timing.items())}
    details["ms_per_session"]["embedding (inside the others)"] = round(
        1e3 * emb_seconds / n, 3)
    return _Arm(name, events, lib, metrics, details, tally.curve(), nearest_neighbour_similarities(lib))


def _loop(sessions, config: ReplayConfig, lib_root: Path, distiller, book: M.UnitBook, timing: Counter | None = None,
          embedder=None):
    """Replay ``sessions`` into a library at ``lib_root``; returns the :class:`EventLog` of one
    event a session, the library and the wall time. ``timing`` collects seconds per stage
    (recall, search, read, decide, write, ledger, bookkeeping, consolidation)."""
    timing = Counter() if timing is None else timing
    # a scratch library, kept only as a whole: no flush per write (the run folder is flushed once
    # before it is named; an interrupted replay leaves no folder)
    lib = Library(lib_root, embedder=embedder or config.embedder, cache_dir=config.cache_dir, index=config.index,
                  search={"lexical_weight": config.lexical_weight, "phrasings": config.phrasings,
                          "fusion": config.fusion}, durable=False)
    distiller = distiller or make_distiller(config)
    agents: dict = {}
    seen: dict[str, int] = defaultdict(int)
    seen_success: set[tuple[str, str]] = set()
    events = EventLog()
    t0 = time.perf_counter()
    iterator = sessions
    if config.progress:  # a bar on a terminal; elsewhere a line every 5% with the time left
        from .progress import progress

        iterator = progress(sessions, len(sessions), "replay")
    state: dict = {}
    tasks: dict[str, dict[str, str]] = {}  # per agent: session id -> task, for consolidation
    # per agent: each active skill's families, and how many skills hold each family, kept until the
    # agent's index or a unit's family changes (most sessions change neither)
    fams_of: dict[str, tuple[Any, tuple[int, int], dict[str, set[str]], Counter]] = {}

    def families(agent, agent_id: str) -> tuple[dict[str, set[str]], Counter]:
        index = agent.index
        kept = fams_of.get(agent_id)
        if kept is not None and kept[0] is index and kept[1] == (index.version, book.version):
            return kept[2], kept[3]
        skill_fams: dict[str, set[str]] = {}
        for name, branches in agent.active_units().items():
            skill_fams[name] = {book.family(agent_id, M.unit_id(name, b)) for b in (None, *branches)} - {None}
        holding = Counter(f for fams in skill_fams.values() for f in fams)
        fams_of[agent_id] = (index, (index.version, book.version), skill_fams, holding)
        return skill_fams, holding

    held: list = []  # agents whose lock this loop holds until it ends

    def test(agent, s) -> dict:
        """Before a session is distilled: the bar in force, and recall against the library as it stands."""
        t_test = time.perf_counter()
        state["t_start"] = t_test
        if s.agent_id not in seen:  # this loop owns the handle and the scratch library:
            agent.usage.hold = True  # usage counts written when the lock is let go, and
            agent.lock().acquire()  # the agent's lock held throughout, so each write re-enters it
            held.append(agent)
        bar = config.bar_for(seen[s.agent_id])
        if agent.settings.novelty_bar != bar:
            agent.set_novelty_bar(bar, f"schedule: bar {bar:g} from session {seen[s.agent_id]} of this agent",
                                  when=s.started.timestamp())
        seen[s.agent_id] += 1
        # the library as it stands: each active skill's units and their families
        skill_fams, holding = families(agent, s.agent_id)
        # recall with the task text only; the top score is logged whatever the floor, so one replay
        # gives the whole precision / false-recall curve
        all_hits = agent.search(s.task, k=config.recall_k)
        hits = [h for h in all_hits if h.similarity >= config.recall_min_similarity]
        for h in hits:
            agent.usage.record_use(h.name, s.started_at)
        state.update(bar=bar, skill_fams=skill_fams, holding=holding, all_hits=all_hits, hits=hits)
        timing["recall"] += time.perf_counter() - t_test
        state["t_distill"] = time.perf_counter()
        return {"bar": bar}

    options = DistillOptions(k=config.candidates_k, skip_above=config.skip_above,
                             failed_to_dead_ends=config.failed_to_dead_ends)
    try:
        for seq, (s, res) in enumerate(distill_sessions(lib, iterator, distiller, options=options, agents=agents,
                                                        before=test)):
            t_book = time.perf_counter()
            staged = sum(res.timings.values())
            timing.update(res.timings)
            timing["distill (other)"] += max(0.0, t_book - state.pop("t_distill", t_book) - staged)
            agent = agents[s.agent_id]
            fam = s.family
            bar, skill_fams, all_hits, hits = state["bar"], state["skill_fams"], state["all_hits"], state["hits"]
            holding = state["holding"]  # family -> how many active skills hold it
            answerable = fam is not None and holding[fam] > 0
            seen_family = fam is not None and (s.agent_id, fam) in seen_success
            random_right = (holding[fam] / len(skill_fams)) if skill_fams and fam else 0.0
            ranks = [i for i, h in enumerate(hits, 1) if fam in skill_fams.get(h.name, ())]
            top = hits[0] if hits else None
            unit = M.unit_id(res.skill, res.branch) if res.decision in ("create", "update", "skip") else None
            unit_family = book.family(s.agent_id, unit)
            actual = _actual(res)
            ideal = ("keep" if answerable else "create") if (s.success and fam is not None) else None
            correct = bool(ideal) and ((ideal == "create" and actual == "create")
                                       or (ideal == "keep" and actual in ("update", "skip") and unit_family == fam))
            if unit is not None:
                book.add(s.agent_id, unit, fam, s.session_id, source=res.decision in ("create", "update"))
            if s.success and fam is not None:
                seen_success.add((s.agent_id, fam))
            if config.record_outcomes and top is not None and top.name in agent:
                agent.record_outcome(top.name, s.success, when=s.started_at)
            target_family = unit_family if res.decision == "update" else None
            row = {
                "seq": seq, "session_id": s.session_id, "agent_id": s.agent_id, "family": fam, "success": s.success,
                "decision": res.decision, "skill": res.skill, "top_similarity": res.top_similarity, "bar": bar,
                "library_size": len(agent), "recall_top1": top.name if top else None,
                "recall_top1_family": _fam_label(skill_fams.get(top.name)) if top else None,
                "recall_correct": bool(answerable and top is not None and fam in skill_fams.get(top.name, ())),
                "llm_calls": res.llm_calls, "started_at": s.started_at, "novelty": res.novelty,
                "recall_top1_similarity": round(top.similarity, 6) if top else None,
                "recall_hits": " ".join(h.name for h in hits), "recall_hit_at_k": bool(answerable and ranks),
                "recall_rr": (1.0 / ranks[0]) if (answerable and ranks) else 0.0, "answerable": answerable,
                "novel_family": fam is not None and not answerable,
                "wrong_merge": actual == "update" and target_family is not None and target_family != fam,
                "target_family": target_family, "prompt_tokens": res.prompt_tokens,
                "completion_tokens": res.completion_tokens, "reason": res.reason, "error": res.error,
                "branch": res.branch, "new_branch": bool(res.new_branch), "unit": unit, "unit_family": unit_family,
                "ideal": ideal, "actual": actual, "decision_correct": correct,
                "wrong_skip": actual == "skip" and unit_family is not None and unit_family != fam,
                "recall_top1_score": round(all_hits[0].similarity, 6) if all_hits else None,
                "recall_top1_right": bool(all_hits) and fam is not None and fam in skill_fams.get(all_hits[0].name, ()),
                "seen_family": seen_family, "random_right": round(random_right, 6), "library_active": len(skill_fams),
                "consolidation": None,
                "recall_all": json.dumps([[h.name, round(h.similarity, 6), bool(fam is not None and fam in
                                                                             skill_fams.get(h.name, ()))]
                                          for h in all_hits]),
                "loop_ms": None,
            }
            if config.consolidate_every:
                tasks.setdefault(s.agent_id, {})[s.session_id] = s.task
            timing["bookkeeping"] += time.perf_counter() - t_book
            row["loop_ms"] = round(1e3 * (time.perf_counter() - state.pop("t_start", t_book)), 3)
            if config.consolidate_every and (seq + 1) % config.consolidate_every == 0:
                t_cons = time.perf_counter()
                row["consolidation"] = _consolidate(agents, tasks, book, s) or None
                timing["consolidation"] += time.perf_counter() - t_cons
            events.append(row)
    finally:
        for a in held:
            a.lock().release()
        events.close()
    t_wall = time.perf_counter() - t0
    for a in agents.values():
        a.close()
    return events, lib, t_wall


def _consolidate(agents: dict, tasks: dict, book: M.UnitBook, s) -> str:
    """One consolidation pass over every agent, the attribution book following what moved."""
    lines = []
    for agent_id, agent in agents.items():
        p = agent.consolidate(tasks.get(agent_id, {}), when=s.started.timestamp(), date=s.started.date().isoformat())
        for sp in p.splits:
            for name, ids in sp.parts:
                for bid in ids:
                    book.move_unit(agent_id, M.unit_id(sp.skill, bid), M.unit_id(name, bid))
        for m in p.merges:
            for old, new in m.moved.items():
                book.move_unit(agent_id, M.unit_id(m.absorbed, old), M.unit_id(m.into, new))
            book.rename(agent_id, m.absorbed, m.into)
        lines += [f"{agent_id}: {line}" for line in p.lines() if not line.startswith("splits need")]
    return "; ".join(lines)


def _fam_label(fams: set[str] | None) -> str | None:
    return "+".join(sorted(fams)) if fams else None


def _actual(res) -> str:
    if res.decision == "create" or (res.decision == "update" and res.new_branch):
        return "create"
    if res.decision == "update":
        return "update"
    if res.decision == "skip":
        return "skip" if res.skill else "skip (no target)"
    if res.decision in ("invalid", "error"):
        return "invalid/error"
    return res.decision  # gated


def confusion(events: Iterable) -> dict[str, dict[str, int]]:
    """Ideal decision (rows) against what was done (columns), over successful labelled sessions.
    ``skip``/``update`` are split by whether the unit was of the session's family."""
    table: dict[str, dict[str, int]] = {i: Counter() for i in M.IDEALS}
    for e in events:
        if not e.get("ideal"):
            continue
        col = e["actual"]
        if col == "create" and e["new_branch"]:
            col = "new branch"
        if col in ("update", "skip"):
            col += " (same family)" if e["unit_family"] == e["family"] else " (other family)"
        table[e["ideal"]][col] += 1
    return {i: dict(c) for i, c in table.items()}


def final_units(lib: Library) -> tuple[list[M.FinalUnit], int]:
    """Every unit of the final library (one per branch, plus the skill itself), and the skill count."""
    from ..runbook import Runbook

    out, skills = [], 0
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        for info in agent.list():
            skills += 1
            skill = agent.get(info.name)
            rb = Runbook.of(skill)
            body = skill.body()
            common = rb.steps
            out.append(M.FinalUnit(agent_id, info.name, info.name, info.status,
                                   tuple(common + [s for b in rb.branches for s in b.fix]), body))
            for b in rb.branches:
                out.append(M.FinalUnit(agent_id, info.name, M.unit_id(info.name, b.id), info.status,
                                       tuple(common + b.fix), rb.unit_text(skill, b), tuple(common)))
        agent.close()
    return out, skills


def step_support(units: list[M.FinalUnit], book: M.UnitBook, sessions: SortedCorpus) -> dict:
    """For each unit with sources, the share of its source sessions that made each of its steps.

    A skill's common steps are measured over all the skill's sources; a branch's own steps over
    the branch's sources. A session made a step when one of its calls has the step's action key
    or the same value-free signature.
    """
    calls_of: dict[str, list] = {}

    def calls(sid: str):
        if sid not in calls_of:
            s = sessions.get(sid)
            steps = s.tool_steps() if s else []
            ph = find_placeholders(s.task, [st.command for st in steps]) if s else {}
            calls_of[sid] = [(st.action.key, signature(f"`{templated(st.command, ph)}`")) for st in steps]
        return calls_of[sid]

    skill_sources: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (agent, unit), ids in book.source_ids.items():
        skill_sources[(agent, M.skill_of(unit))].extend(ids)
    out: dict = {}
    for u in units:
        if u.unit == u.skill and any(v.skill == u.skill and v.unit != v.skill and v.agent == u.agent for v in units):
            continue  # a branched skill is measured through its branches
        own = book.source_ids.get((u.agent, u.unit), [])
        if not own:
            continue
        per_step = {}
        for step in dict.fromkeys(u.steps):
            act = step_action(step)
            sig = signature(step)
            pool = skill_sources[(u.agent, u.skill)] if (u.unit != u.skill and step in u.common) else own
            hits = sum(1 for sid in pool if any(k == act.key or same_step(sig, cs) for k, cs in calls(sid)))
            per_step[step] = hits / len(pool) if pool else 0.0
        out[(u.agent, u.unit)] = per_step
    return out


def gold_actions(sessions) -> dict[str, list[str]]:
    """Each family's solving actions from ``labels.write_actions`` (the most common list), when labelled."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for s in sessions:
        acts = s.labels.get("write_actions")
        if s.family is not None and isinstance(acts, list) and all(isinstance(a, str) for a in acts):
            seen[s.family][tuple(dict.fromkeys(acts))] += 1
    return {fam: list(c.most_common(1)[0][0]) for fam, c in seen.items()}


def skill_rows(lib: Library, book: M.UnitBook) -> list[dict]:
    """One row per final skill: versions, sources, families with shares, last use (for the report)."""
    rows = []
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        for info in agent.list():
            fams: Counter = Counter()
            for (a, unit), c in book.sources.items():
                if a == agent_id and M.skill_of(unit) == info.name:
                    fams.update(c)
            total = sum(fams.values())
            rows.append({"agent": agent_id, "skill": info.name, "status": info.status, "version": info.version,
                         "sources": len(info.sources), "branches": len(agent.active_units().get(info.name, ())),
                         "families": ", ".join(f"{f} {n / total:.0%}" for f, n in fams.most_common()) if total else "",
                         "last_used": agent.usage.get(info.name).last_used or ""})
        agent.close()
    return sorted(rows, key=lambda r: (-r["sources"], r["agent"], r["skill"]))


def nearest_neighbour_similarities(lib: Library) -> dict[str, list[float]]:
    """For each agent, each skill's cosine similarity to its nearest other skill."""
    out = {}
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        out[agent_id] = agent.nearest_neighbour_similarities()
        agent.close()
    return out


def _write(work: Path, corpus: Path, config: ReplayConfig, problems, main: _Arm, arms: dict[str, _Arm]) -> None:
    write_json(work / "config.json", {
        "schema": RUN_SCHEMA, "config": config.to_dict(), "config_hash": config.config_hash(),
        "embedder_id": main.lib.embedder.id, "corpus": str(corpus), "corpus_sha256": corpus_sha256(corpus),
        "seed": config.seed, "skipped_lines": [str(p) for p in problems], "environment": environment(),
        "arms": {name: config.arm(name).to_dict() for name in arms},
    })
    for arm, folder in [(main, work)] + [(a, work / "arms" / a.name) for a in arms.values()]:
        folder.mkdir(parents=True, exist_ok=True)
        # the same replay writes the same events.csv; the time each session took goes beside it
        log = arm.event_log
        assert log is not None
        log.to_csv(folder / "events.csv", [c for c in EVENT_COLUMNS if c != "loop_ms"])
        log.to_csv(folder / "timings.csv", ["seq", "session_id", "loop_ms"])
        write_json(folder / "metrics.json", arm.metrics)
        write_json(folder / "details.json", {k: v for k, v in arm.details.items()})
        write_json(folder / "nn_similarity.json", arm.sims)
        pd.DataFrame(arm.curve, columns=["floor", "false_recall_rate", "recall_p_at_1"]).to_csv(
            folder / "recall_curve.csv", index=False)
        for agent_id in arm.lib.agents():
            shutil.rmtree(arm.lib.root / agent_id / "index", ignore_errors=True)  # rebuildable from the files
    assert main.event_log is not None
    from . import plots  # matplotlib: loaded only by a run that writes its folder

    paths = plots.save_all(main.event_log.frame(plots.COLUMNS), main.sims, work / "plots",
                           curves={"skilllab": main.curve, **{n: a.curve for n, a in arms.items()}})
    text = report(corpus, config, main.metrics, paths, main.lib.embedder.id, main.details,
                  {n: (a.metrics, a.details) for n, a in arms.items()})
    (work / "report.md").write_text(text, encoding="utf-8")


SUMMARY_KEYS = ["sessions", "skills", "units", "created", "updated", "skipped", "gated_failed", "duplicate_rate",
                "purity", "attributed_purity", "family_coverage", "absorbed_families", "decision_accuracy",
                "wrong_skip_rate", "wrong_merge_rate", "missed_novel_rate", "recall_p_at_1", "recall_hit_at_k",
                "recall_mrr", "false_recall_rate", "recall_auc", "recall_p_at_1_at_fr20", "recall_p_at_1_at_fr30",
                "recall_p_at_1_random", "recall_seen_p_at_1", "recall_seen_p_at_1_oracle", "action_recall",
                "step_noise", "median_steps", "llm_calls", "wall_seconds", "embed_seconds", "sessions_per_second"]


def summary_table(metrics: dict, arms: dict[str, dict] | None = None) -> str:
    """The terminal summary: every headline metric with its interval, baseline arms beside it."""
    arms = arms or {}
    w = max(map(len, SUMMARY_KEYS))
    cols = ["skilllab", *arms]
    rows = [f"{'':{w}}  " + "  ".join(f"{c:<24}" for c in cols)]
    for k in SUMMARY_KEYS:
        vals = [M.fmt_ci(metrics, k)] + [M.fmt_ci(m, k) for m in arms.values()]
        rows.append(f"{k.ljust(w)}  " + "  ".join(f"{v:<24}" for v in vals).rstrip())
    return "\n".join(rows)
