"""The distillation flow for one finished session, on one agent.

1. Idempotence: a session already in the agent's ledger (or already a source of a skill) changes
   nothing.
2. Quality gate: a failed session never creates a skill. With ``failed_to_dead_ends`` its failed
   attempts are added to "What didn't work" of the nearest skill instead (off by default).
3. Search the agent's library with the task and a condensed transcript: top-k candidates.
4. Optional routine pre-gate ``skip_above``: a best similarity at or above it skips the session
   without calling the distiller at all.
5. One distiller call with the session (labels removed), the candidates' full text and the bar.
6. Validate the decision, then apply it through the store (one commit), redacting secrets first.
   A decision that fails validation writes nothing and is recorded with its reason.

Everything from step 1 to the ledger entry runs under the agent's file lock, after re-reading
what other processes committed, so concurrent writers never lose an update.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..errors import InvalidName, InvalidSkill, SkilllabError, UnsafePath
from ..names import validate_skill_name
from ..runbook import check_written
from ..session import Session
from ..skill import CHANGELOG, WHAT_DIDNT, Skill
from .base import Candidate, Decision
from .redact import redact
from .registry import get_distiller
from .transcript import analyse, query_text, same_step, signature

if TYPE_CHECKING:
    from ..library import Agent


OUTCOMES = ("create", "update", "skip", "gated", "invalid", "error")


@dataclass
class DistillResult:
    """What happened to one session. ``decision`` is one of :data:`OUTCOMES`."""

    session_id: str
    agent_id: str
    decision: str
    skill: str | None = None
    reason: str = ""
    novelty: float | None = None
    top_similarity: float | None = None
    top_skill: str | None = None
    bar: float | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    commit: str | None = None
    error: str | None = None
    distiller: str = ""
    seconds: float = 0.0
    repeated: bool = False  # True when the ledger already had this session
    candidates: list[Any] = field(default_factory=list)
    branch: str | None = None  # the branch (cause) of ``skill`` the session was attributed to
    new_branch: bool = False  # an update that added that branch
    attempts: int = 1  # how many times the session was tried (a distiller error is retried)
    content_sha: str = ""  # a hash of what the session holds, to notice the same id with other content
    warning: str = ""  # something the user should hear (not stored in the ledger)
    # seconds spent per stage (search, read, decide, write, ledger), for benchmarks; not stored
    timings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The fields the ledger keeps, in order (``warning`` and ``timings`` left out); what
        ``dataclasses.asdict`` gives, without deep-copying the timings only to drop them."""
        out: dict[str, Any] = {}
        for name in _RECORD_FIELDS:
            v = getattr(self, name)
            out[name] = v if v is None or isinstance(v, (str, int, float, bool)) else copy.deepcopy(v)
        return out


_RECORD_FIELDS = tuple(f.name for f in fields(DistillResult) if f.name not in ("warning", "timings"))


MAX_ATTEMPTS = 3  # a session whose distiller failed this many times is left alone until asked again


def _final(record: dict[str, Any], retry_errors: bool, max_attempts: int) -> bool:
    """Whether a ledger record settles its session (an ``error`` is retried, up to ``max_attempts``)."""
    if record.get("decision") != "error" or not retry_errors:
        return True
    return int(record.get("attempts") or 1) >= max_attempts


def distill_session(agent: Agent, session: Session, distiller: Any="extractive", *, bar: float | None = None, k: int = 5,
                    skip_above: float | None = None, failed_to_dead_ends: bool = False,
                    dead_end_min_similarity: float = 0.5, when: float | None = None, retry_errors: bool = True,
                    max_attempts: int = MAX_ATTEMPTS) -> DistillResult:
    """Distill ``session`` into ``agent``'s library. See the module docstring for the steps.

    A session already settled in the ledger changes nothing (``repeated``); one whose distiller
    failed (``error``) is tried again, up to ``max_attempts`` times in all, unless ``retry_errors``
    is false.
    """
    from ..corpus.reader import session_sha256

    t0 = time.perf_counter()
    dist = get_distiller(distiller) if isinstance(distiller, str) else distiller
    if session.agent_id != agent.id:
        raise InvalidName(f"session {session.session_id} belongs to agent {session.agent_id!r}, not {agent.id!r}")
    sha = session_sha256(session)
    done = agent.ledger.get(session.session_id)
    if done is not None and _final(done, retry_errors, max_attempts):
        return _repeat(done, sha, agent.ledger, session)
    with agent.lock():
        agent.recover()
        agent.refresh()
        done = agent.ledger.get(session.session_id)
        if done is not None and _final(done, retry_errors, max_attempts):
            return _repeat(done, sha, agent.ledger, session)
        bar = agent.settings.novelty_bar if bar is None else bar
        res = DistillResult(session.session_id, agent.id, "skip", bar=bar, distiller=dist.name, content_sha=sha,
                            attempts=int(done.get("attempts") or 1) + 1 if done else 1)
        owner = agent.source_owner(session.session_id)
        when = when if when is not None else session.started.timestamp()
        if owner is not None:
            res.reason, res.skill = f"already a source of {owner}", owner
        elif not session.success:
            _gate(agent, session, res, failed_to_dead_ends, dead_end_min_similarity, k, when)
        else:
            _distill(agent, session.without_labels().redacted(), dist, res, bar, k, skip_above, when)
        res.seconds = time.perf_counter() - t0
        t_ledger = time.perf_counter()
        agent.ledger.add(_ledger_record(res))
        res.timings["ledger"] = time.perf_counter() - t_ledger
        agent.clear_intent()
        return res


def _ledger_record(res: DistillResult) -> dict[str, Any]:
    """What the ledger keeps of a result: its free text redacted (ids and hashes as they are)."""
    d = res.to_dict()
    for key in ("reason", "error"):
        if d.get(key):
            d[key] = redact(d[key])
    return d


def _repeat(record: dict[str, Any], sha: str, ledger: Any, session: Session) -> DistillResult:
    res = DistillResult(**{k: v for k, v in record.items() if k in DistillResult.__dataclass_fields__})
    res.repeated = True
    if record.get("content_sha") and record["content_sha"] != sha:
        here = f"{session.origin[0]}:{session.origin[1]}" if session.origin else "this session"
        res.warning = (f"session {session.session_id!r} was distilled before from other content "
                       f"({ledger.path}:{ledger.line_of(session.session_id)}); {here} is ignored")
    return res


def search_queries(dist: Any, session: Session) -> list[str]:
    """The texts the library is searched with for ``session``'s candidates."""
    queries = getattr(dist, "search_queries", None)
    return list(queries(session)) if queries is not None else [query_text(session)]


MAX_SAME_FIX = 3


def _search(agent: Agent, session: Session, k: int, dist: Any=None) -> list[Any]:
    """Candidates for ``session``: the union of the hits of every query, each at its best score,
    with the score of every query kept; plus, when the distiller can say what the session did
    (``resolution_branch``), the skills that already have a branch for that same fix, however far
    down the search they rank (the best ``MAX_SAME_FIX`` of them)."""
    queries = search_queries(dist, session)
    best: dict[str, Any] = {}
    scores: dict[str, list[float]] = {}
    owns: dict[str, list[float]] = {}

    def take(i: int, h: Any) -> None:
        scores.setdefault(h.name, [0.0] * len(queries))[i] = h.similarity
        owns.setdefault(h.name, [0.0] * len(queries))[i] = h.own_similarity or 0.0
        if h.name not in best or h.similarity > best[h.name].similarity:
            best[h.name] = h

    for i, q in enumerate(queries):
        for h in agent.search(q, k=k):
            take(i, h)
    hits = sorted(best.values(), key=lambda h: -h.similarity)[:k]
    names = {h.name for h in hits}
    branch = getattr(dist, "resolution_branch", None)
    bid = branch(session) if branch is not None else None
    same_fix = [n for n in agent.with_branch(bid) if n not in names] if bid else []
    if same_fix:
        extra: dict[str, Any] = {}
        for i, q in enumerate(queries):
            for h in agent.score(q, same_fix):
                take(i, h)
                extra[h.name] = best[h.name]
        hits += sorted(extra.values(), key=lambda h: -h.similarity)[:MAX_SAME_FIX]
    return [(h, tuple(scores[h.name]), tuple(owns[h.name])) for h in hits]


def _distill(agent: Agent, session: Session, dist: Any, res: DistillResult, bar: float, k: int,
             skip_above: float | None, when: float) -> None:
    t0 = time.perf_counter()
    found = _search(agent, session, k, dist)
    t1 = time.perf_counter()
    res.timings["search"] = t1 - t0
    hits = [h for h, _, _ in found]
    res.candidates = [h.name for h in hits]
    if hits:
        res.top_similarity, res.top_skill = round(hits[0].similarity, 6), hits[0].name
    if skip_above is not None and hits and hits[0].similarity >= skip_above:
        res.reason = f"pre-gate: similarity {hits[0].similarity:.2f} to {hits[0].name} >= skip_above {skip_above:g}"
        res.skill = hits[0].name
        return
    candidates = [Candidate(agent.get(h.name), h.similarity, tuple(agent.phrasings(h.name)), sc, own)
                  for h, sc, own in found]
    t2 = time.perf_counter()
    res.timings["read"] = t2 - t1
    try:
        decision = dist.decide(session, candidates, bar)
        res.timings["decide"] = time.perf_counter() - t2
    except SkilllabError:
        raise  # configuration problems (no API key, cassette miss) stop the run
    except Exception as exc:  # a distiller bug must not lose the session: record it
        res.decision, res.error = "error", redact(f"{type(exc).__name__}: {exc}"[:500])
        res.reason = "distiller raised"
        return
    res.llm_calls, res.prompt_tokens, res.completion_tokens = (
        decision.llm_calls, decision.prompt_tokens, decision.completion_tokens)
    res.novelty = round(decision.novelty, 6)
    res.reason = redact(decision.reason)
    res.error = redact(decision.error) if decision.error else decision.error
    res.branch, res.new_branch = decision.branch, bool(decision.new_branch and decision.action == "update")
    if decision.action == "error":  # no decision (an LLM call failed): retried by the next run
        res.decision, res.error = "error", redact(decision.error or decision.reason or "")
        return
    if decision.action == "skip":
        res.decision, res.skill = "skip", decision.target
        return
    try:
        skill, message = _prepare(agent, session, decision, candidates, dist)
        files: dict[str, str | bytes] = {rel: redact(content) for rel, content in (decision.files or {}).items()}
        for rel in files:
            agent.store.bundled_path(skill.name, rel)  # a path out of the skill folder is invalid
    except (InvalidSkill, InvalidName, UnsafePath, ValueError) as exc:
        res.decision, res.error = "invalid", redact(str(exc))
        res.skill = decision.target or (decision.skill.name if decision.skill else None)
        return
    res.decision, res.skill = decision.action, skill.name  # what the ledger says if a crash interrupts the write
    t3 = time.perf_counter()
    res.commit = agent.write(skill, message, when=when, files=files, intent=_ledger_record(res))
    res.timings["write"] = time.perf_counter() - t3
    res.decision, res.skill = decision.action, skill.name
    if decision.action == "create" and res.branch is None:
        from ..runbook import Runbook

        branches = Runbook.of(skill).branches
        res.branch = branches[0].id if len(branches) == 1 else None


def _prepare(agent: Agent, session: Session, decision: Decision, candidates: list[Candidate], dist: Any=None) -> tuple[Skill, str]:
    """Check the decision against the rules and set skilllab's metadata. Raises on any breach."""
    if decision.action not in ("update", "create"):
        raise InvalidSkill(f"unknown decision {decision.action!r}")
    if decision.skill is None:
        raise InvalidSkill(f"{decision.action}: no skill document")
    skill = redact_skill(decision.skill)
    date = session.started.date().isoformat()
    shown = {c.skill.name: c.skill for c in candidates}
    if decision.action == "update":
        if decision.target not in shown:
            raise InvalidSkill(f"update: target {decision.target!r} was not among the candidates shown "
                               f"({', '.join(shown) or 'none'})")
        if skill.name != decision.target:
            raise InvalidSkill(f"update: document name {skill.name!r} differs from target {decision.target!r}")
        old = shown[decision.target]
        minor = bool(decision.extra.get("minor"))  # a new phrasing only: same version, no changelog line
        skill.set_meta("version", str(old.version if minor else old.version + 1))
        skill.set_meta("created", old.meta("created") or date)
        skill.set_meta("sources", " ".join(old.sources))
        if old.status == "review":
            skill.set_meta("status", "active")  # an update after drift repairs the skill
        else:
            skill.set_meta("status", old.status or "active")
    else:
        validate_skill_name(skill.name)
        if skill.name in agent or agent.store.skill_path(skill.name).exists():
            skill = _renamed(agent, skill)
        skill.set_meta("version", "1")
        skill.set_meta("created", date)
        skill.set_meta("sources", "")
        skill.set_meta("status", "active")
    minor = decision.action == "update" and bool(decision.extra.get("minor"))
    skill.set_meta("agent", agent.id)
    if not minor:
        skill.set_meta("updated", date)
    skill.add_source(session.session_id)
    if not minor and not _has_line_for(skill, skill.version):  # every version gets its changelog line
        skill.add_changelog(redact(decision.changelog or decision.reason or decision.action),
                            source=session.session_id, date=date)
    old_keys = tuple(shown[decision.target].front) if decision.action == "update" and decision.target else ()
    runbook_rules = getattr(dist, "runbook_rules", True)  # the baseline arm remembers tasks, not runbooks
    try:
        check_written(skill, task=session.task if decision.action == "create" else None,
                      new=decision.action == "create", keep_keys=old_keys, runbook=runbook_rules)
    except InvalidSkill as exc:
        raise InvalidSkill(f"{decision.action} {skill.name}: {exc}") from None
    verb = "create" if decision.action == "create" else ("note a phrasing of" if minor else "update")
    reason = redact(decision.reason).replace("\n", " ")[:200]
    return skill, f"{verb} {skill.name} from session {session.session_id}: {reason}"


def _has_line_for(skill: Skill, version: int) -> bool:
    return bool(re.search(rf"^- \S+ v{version}:", skill.section(CHANGELOG), re.MULTILINE))


def _renamed(agent: Agent, skill: Skill) -> Skill:
    """A create whose name is taken gets the first free ``-2``, ``-3``... suffix."""
    base = skill.name[:60].rstrip("-")
    for i in range(2, 1000):
        cand = f"{base}-{i}"
        if cand not in agent and not agent.store.skill_path(cand).exists():
            new = Skill({**skill.front, "name": cand}, skill.preamble.replace(f"# {skill.name}", f"# {cand}"),
                        skill.sections)
            return new
    raise InvalidSkill(f"create: no free name near {skill.name!r}")


def redact_skill(skill: Skill) -> Skill:
    """A copy of ``skill`` with secrets removed from its description and every section."""
    out = skill.copy()
    out.description = redact(out.description)
    out.preamble = redact(out.preamble)
    from ..skill import Section

    out.sections = [Section(s.heading, redact(s.raw)) for s in out.sections]
    return out


def _gate(agent: Agent, session: Session, res: DistillResult, failed_to_dead_ends: bool, min_sim: float,
          k: int, when: float) -> None:
    res.decision, res.reason = "gated", "failed session: never creates a skill"
    if not failed_to_dead_ends:
        return
    session = session.without_labels().redacted()
    hits = [h for h, _, _ in _search(agent, session, k)]
    if hits:
        res.top_similarity, res.top_skill = round(hits[0].similarity, 6), hits[0].name
    if not hits or hits[0].similarity < min_sim:
        res.reason += "; no skill close enough for its dead ends"
        return
    a = analyse(session)
    dead = a.dead_ends or [f"{t}: the session still failed after this" for t in a.fix_steps()][-1:]
    skill = agent.get(hits[0].name)
    have = [signature(d) for d in skill.items(WHAT_DIDNT)]
    new = [d for d in dead if not any(same_step(signature(d), h) for h in have)]
    if not new:
        res.reason += f"; its dead ends are already in {skill.name}"
        return
    items = [d for d in skill.items(WHAT_DIDNT) if d != "_None recorded yet._"] + new
    skill.set_list(WHAT_DIDNT, items)
    skill = redact_skill(skill)
    skill.set_meta("version", str(skill.version + 1))
    skill.set_meta("updated", session.started.date().isoformat())
    skill.add_source(session.session_id)
    skill.add_changelog(f"added {len(new)} dead end{'s' if len(new) > 1 else ''} from a failed session",
                        source=session.session_id, date=session.started.date().isoformat())
    res.commit = agent.write(skill, f"update {skill.name} from failed session {session.session_id}: "
                                    f"{len(new)} dead end(s)", when=when)
    res.skill, res.reason = skill.name, res.reason + f"; added {len(new)} dead end(s) to {skill.name}"
