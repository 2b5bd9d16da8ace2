"""``extractive``: the offline distiller, and the baseline LLM distillers are compared against.

It writes runbooks from the transcript (see :mod:`skilllab.distill.transcript`): common
diagnosis steps, then one branch per cause with its signal, its fix and its dead ends
(:mod:`skilllab.runbook`). Novelty is decided by what the session *did*, not by the
diagnostics every session of a symptom shares:

    R            = the session's resolution: action keys of the writes that worked (may be empty)
    resolution   = 1 if a branch of candidate c has exactly R (or, for the same problem put the same
                   way, R plus or minus an incidental action), else the best Jaccard overlap of R with
                   c's branches (0 when c has none like it)
    similarity   = when a branch has R: c's best score over the task and the condensed transcript
                   (the same fix, so any shared context is evidence); otherwise the score of the task
                   alone (a new cause may only join a skill of the same symptom)
    diagnosis    = share of the session's kept diagnosis steps that c already has
    alike(c)     = s * similarity(c) + (1 - s) * diagnosis(c)      (similarity alone when the session
                                                                   checked nothing before its fix)
    closeness(c) = r + (1 - r) * max(alike(c), similarity(c))
                                            when a branch of c has R: the same fix closes a share r
                                            of the distance that is left (a shared investigation adds
                                            evidence, a different one takes none away)
                 = alike(c)                 when none has: a new cause joins a skill only when the
                                            problem reads alike and was investigated alike
                   (s = similarity_weight 0.6, r = resolution_weight 0.3)
    novelty      = 1 - max closeness

    novelty >= bar                        -> create a new skill
    best candidate has a branch with R    -> the known branch: update it if the session adds a dead
                                             end, a signal or a new phrasing of the task; else skip
    otherwise, if diagnosis >= 0.5 and the task reads at least branch_similarity * 2 * (1 - bar)
    alike (0.5 at the default bar)        -> update the best candidate with a new branch for R
                                             (never skip: its decisive action is new there)
    otherwise                             -> create (it reads alike but was investigated otherwise:
                                             a vague task such as "please look at X" is not a symptom)

Shared read-only diagnostics weigh 0.1, so a common ``kubectl get pods`` never makes a session
"covered". A skill may hold at most ``max_branches`` causes; a session that would add one more
creates a skill instead.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .. import phrasings as phrasings_mod
from ..names import slugify, validate_skill_name
from ..runbook import MAX_BRANCHES, Branch, Runbook, branch_id, resolution_key
from ..session import Session, ToolStep
from ..skill import STEPS, WHAT_DIDNT, WHAT_WORKED, WHEN_TO_USE, Skill
from .actions import WRITE, step_action
from .base import Candidate, Decision
from .redact import redact
from .transcript import (
    Analysis,
    analyse,
    content_words,
    query_text,
    same_step,
    signature,
    symptom_words,
    title_from_keys,
)

MAX_PHRASINGS = 8
MIN_SHARED_DIAGNOSIS = 0.5  # a new cause joins a skill only when it was investigated alike
PHRASING_CHARS = 200
_SEEN = "Seen as: "
_NONE = "_None recorded yet._"


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    return text[:n].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _first_sentence(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    m = re.search(r"(?<=[.!?])\s", text)
    return _cut(text[: m.start()] if m and m.start() > 20 else text, n).rstrip(".")


@lru_cache(maxsize=1024)  # a skill's phrasings are compared with each new session's, session after session
def _words(text: str) -> frozenset[str]:
    return frozenset(content_words(text, 50))


class ExtractiveDistiller:
    name = "extractive"

    def __init__(self, similarity_weight: float = 0.6, resolution_weight: float = 0.3,
                 max_branches: int = MAX_BRANCHES, phrasings: int = MAX_PHRASINGS, variant_similarity: float = 0.8,
                 branch_similarity: float = 0.5):
        if not (0 <= similarity_weight and 0 <= resolution_weight and similarity_weight + resolution_weight <= 1):
            from ..errors import ConfigError

            raise ConfigError("similarity_weight and resolution_weight must be >= 0 and sum to at most 1")
        self.similarity_weight = similarity_weight
        self.resolution_weight = resolution_weight
        self.max_branches = max_branches
        self.phrasings = phrasings
        self.variant_similarity = variant_similarity
        self.branch_similarity = branch_similarity
        # the session read last: its calls, and its analysis once asked for. The session object
        # itself is kept, so its identity cannot pass to another session while it is remembered
        self._last: tuple[Session, list[ToolStep], Analysis | None] | None = None

    def _read(self, session: Session) -> tuple[Session, list[ToolStep], Analysis | None]:
        if self._last is None or self._last[0] is not session:
            self._last = (session, session.tool_steps(), None)
        return self._last

    def search_queries(self, session: Session) -> list[str]:
        return [session.task, query_text(session, steps=self._read(session)[1])]

    def analysis(self, session: Session) -> Analysis:
        """The session read once (the flow asks for its search queries and its resolution before
        deciding): its calls are listed once, and analysed once."""
        _s, steps, analysis = self._read(session)
        if analysis is None:
            analysis = analyse(session, steps)
            self._last = (session, steps, analysis)
        return analysis

    def resolution_branch(self, session: Session) -> str | None:
        """The branch id a skill would have for this session's fix (None when nothing was changed),
        so the flow can bring in every skill that already has that fix."""
        keys = self.analysis(session).keys
        return branch_id(resolution_key(keys)) if keys else None

    # ---- judging ------------------------------------------------------------------------
    @staticmethod
    def _branches(skill: Skill) -> tuple[Runbook, list[tuple[str | None, frozenset[str]]]]:
        """The skill's runbook and its causes as (branch id, resolution keys); a skill without
        branches is one cause whose keys are its steps' writes (branch id None)."""
        rb = Runbook.of(skill)
        if rb.branches:
            return rb, [(b.id, b.keys) for b in rb.branches]
        keys = frozenset(a.key for a in map(step_action, skill.items(STEPS)) if a.kind == WRITE)
        return rb, [(None, keys)]

    @staticmethod
    def diagnosis_coverage(a: Analysis, rb: Runbook) -> float:
        """Share of the session's kept diagnosis steps the skill has (the same call, values aside)."""
        if not a.diagnosis:
            return 0.0
        known = [_call(s) for s in rb.all_steps()]
        hit = sum(1 for d in a.diagnosis if any(_same_call(_call(d.text), k) for k in known))
        return hit / len(a.diagnosis)

    @staticmethod
    def symptom_similarity(c: Candidate) -> float:
        """How alike the *problem* is: the score of the task alone (the first search query), when the
        flow gave per-query scores."""
        return c.scores[0] if c.scores else c.similarity

    def score(self, a: Analysis, c: Candidate) -> Any:
        rb, causes = self._branches(c.skill)
        # a write the skill already lists as not helping is no part of this session's fix
        dead = [d for d in c.skill.items(WHAT_DIDNT) if d != _NONE] + [d for b in rb.branches for d in b.dead_ends]
        dead_keys = {step_action(d).key for d in dead} - {k for _b, ks in causes for k in ks}
        keys = (a.keys - dead_keys) or a.keys
        sim = max(self.symptom_similarity(c), 0.0)
        match = next((bid for bid, k in causes if k == keys), "__none__")
        if match != "__none__":
            sim = max(c.similarity, 0.0)  # the same fix: the transcript counts as evidence too
        if match == "__none__" and keys and max(c.similarity, 0.0) >= self.variant_similarity:
            # the same problem put the same way, fixed with the branch's actions plus or minus an
            # incidental one (a cleanup, a restart): a variant of that branch, not a new cause
            match = next((bid for bid, k in causes if k and (k < keys or keys < k)
                          and len(k & keys) / len(k | keys) >= 0.5), "__none__")
        if match != "__none__":
            res = 1.0
            sim = max(c.similarity, 0.0)
        else:
            res = max((len(keys & k) / len(keys | k) for _b, k in causes if keys | k), default=0.0)
        diag = self.diagnosis_coverage(a, rb)
        s, r = self.similarity_weight, self.resolution_weight
        # how alike the problem is: it reads alike and was investigated alike (or, when nothing was
        # checked before the fix, only how it reads)
        alike = s * sim + (1.0 - s) * diag if a.diagnosis else sim
        if match != "__none__":
            # a branch with the same fix closes a share r of the distance that is left; a shared
            # investigation adds to the evidence but a different one takes none away
            close = r + (1.0 - r) * max(alike, sim)
        else:
            close = alike
        return close, res, diag, rb, (None if match == "__none__" else match), match != "__none__", keys

    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        a = self.analysis(session).copy()
        if not a.calls:
            return Decision("skip", "nothing to learn: the transcript has no tool calls", 0.0)
        if not (a.diagnosis or a.fix or a.verify):
            return Decision("skip", "nothing to learn: no call changed anything or told the agent anything it used",
                            0.0)
        if not candidates:
            return self._create(session, a, 1.0, "no similar skill in the library")
        scored = sorted((self.score(a, c) + (c,) for c in candidates), key=lambda t: -t[0])
        close, res, diag, rb, branch, known, keys, best = scored[0]
        if keys != a.keys:  # writes the skill knows not to help are dead ends here too
            a.dead_ends += [f"{s.text}: listed in {best.skill.name} as not helping" for s in a.fix
                            if s.key not in keys]
            a.fix = [s for s in a.fix if s.key in keys]
        novelty = round(min(max(1.0 - close, 0.0), 1.0), 4)
        why = (f"closest {best.skill.name} (similarity {self.symptom_similarity(best):.2f}, resolution {res:.2f}, "
               f"diagnosis {diag:.2f})")
        n_branches = len(rb.branches)
        if novelty >= bar:
            return self._create(session, a, novelty, f"novelty {novelty:.2f} >= bar {bar:.2f}: {why}")
        if known:
            others = [p for c in candidates if c.skill.name != best.skill.name for p in c.phrasings]
            merged, what, files = self._merge_known(best.skill, rb, branch, a, session, list(best.phrasings), others)
            label = f"branch {branch!r} of {best.skill.name}" if branch else best.skill.name
            if merged is None:
                return Decision("skip", f"routine: {label} already covers it ({why})", novelty,
                                target=best.skill.name, branch=branch)
            minor = what == "a phrasing of the task"  # found by another wording: the runbook itself is unchanged
            return Decision("update", f"same fix as {label} and adds {what} ({why})", novelty,
                            target=best.skill.name, skill=merged, changelog=f"added {what}", branch=branch,
                            files=files, extra={"minor": True} if minor else {})
        need = min(1.0, self.branch_similarity * (1.0 - bar) * 2)  # at the default bar 0.5: branch_similarity
        if self.symptom_similarity(best) < need:
            return self._create(session, a, novelty, f"the task reads unlike {best.skill.name} (similarity "
                                                     f"{self.symptom_similarity(best):.2f} < {need:.2f}):"
                                                     " a problem of its own")
        if a.diagnosis and diag < MIN_SHARED_DIAGNOSIS:
            return self._create(session, a, novelty, f"the task reads like {best.skill.name} but the session checked "
                                                     f"other things (diagnosis {diag:.2f}): a different problem")
        if n_branches >= self.max_branches:
            return self._create(session, a, novelty, f"{best.skill.name} already holds {n_branches} causes: {why}")
        merged, bid, title, files = self._add_branch(best.skill, rb, a, session, list(best.phrasings))
        return Decision("update", f"same symptom as {best.skill.name}, new cause and fix ({why})", novelty,
                        target=best.skill.name, skill=merged, changelog=f"added the branch '{title}'",
                        branch=bid, new_branch=True, files={**self._files(a), **files})

    # ---- writing ------------------------------------------------------------------------
    @staticmethod
    def _files(a: Analysis) -> dict[str, str]:
        return {f"scripts/{name}": content for name, content in a.scripts().items()}

    def _title(self, a: Analysis) -> str:
        title = a.title or title_from_keys(a.keys, a.handoff)
        return title[0].upper() + title[1:] if title else "Fix"

    def _branch(self, a: Analysis, session: Session, extra_steps: list[str] | None = None,
                dead_ends: bool = False) -> Branch:
        steps = (extra_steps or []) + [s.text for s in a.fix] + [s.text for s in a.verify]
        title = self._title(a)
        notes = [] if steps or not a.worked else [f"Outcome: {a.worked[0]}"]
        return Branch(("Fix: " if a.fix else "") + title if not title.startswith("No change") else title,
                      fix=steps, signal=f"`{a.signal}`" if a.signal else "",
                      dead_ends=a.dead_ends if dead_ends else [], key=resolution_key(a.keys),
                      sources=[session.session_id], notes=notes)

    def _create(self, session: Session, a: Analysis, novelty: float, reason: str) -> Decision:
        rb = Runbook(steps=[s.text for s in a.diagnosis], branches=[self._branch(a, session)])
        name = self.name_for(session, a)
        skill = Skill.new(name, self.description_for(a), agent=session.agent_id, when_to_use=self.when_for(a),
                          steps=["(see below)"], worked=a.worked, dead_ends=a.dead_ends, source=session.session_id,
                          date=session.started.date().isoformat(),
                          changelog=f"created from {_count(len(rb.all_steps()), 'step')} and "
                                    f"{_count(len(a.dead_ends), 'dead end')}")
        rb.apply(skill)
        files = {**self._files(a), phrasings_mod.PHRASINGS_FILE: phrasings_mod.render([phrasings_mod.clean(a.when)])}
        return Decision("create", reason, novelty, skill=skill, changelog="created", branch=rb.branches[0].id,
                        files=files)

    @staticmethod
    def name_for(session: Session, a: Analysis) -> str:
        """Verb + object + the symptom that distinguishes it, at most five words:
        ``raise-memory-limit-oomkilled``, ``cancel-reservation``, ``prune-images-diskpressure``."""
        if a.keys or a.title:
            title = a.title or title_from_keys(a.keys)
            head = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in ("the", "a", "an", "and", "of",
                                                                                       "its", "their", "kubectl")]
            head = list(dict.fromkeys(head))[:3]
        else:
            head = (["hand-over"] if a.handoff else ["answer"]) + content_words(a.when, 2)
        cause = [w for w in symptom_words(f"{a.signal} {a.when}") if w not in head][: max(0, 5 - len(head))][:2]
        name = slugify(" ".join(head + cause), max_len=48) or slugify(a.when, max_len=40)
        validate_skill_name(name)
        return name

    def description_for(self, a: Analysis) -> str:
        """What it does and when to use it, in one or two sentences."""
        what = self._title(a)
        when = _first_sentence(a.when, 160)
        when = when[0].lower() + when[1:] if when and not when[:2].isupper() else when
        desc = f"{what.rstrip('.')}. Use when {when}" + (f" (signal: `{_cut(a.signal, 80)}`)" if a.signal else "") + "."
        return redact(desc if len(desc) <= 1024 else desc[:1020] + "…")

    @staticmethod
    def when_for(a: Analysis) -> str:
        lines = [_cut(a.when, PHRASING_CHARS)]
        if a.signals:
            lines += ["", "Signals seen: " + "; ".join(f"`{s}`" for s in dict.fromkeys(a.signals[:3]))]
        return "\n".join(lines)

    def _phrasing(self, skill: Skill, existing: list[str], when: str, files: dict[str, str],
                  others: list[str] | None = None) -> bool:
        """Keep the session's phrasing of the task if it says the problem in a new way: in the
        skill's ``references/phrasings.md`` (the ``phrasings`` most distinct ones) and, while there
        are fewer than three, as a short "Seen as" line of When to use. A phrasing another skill
        already has (``others``) tells the two apart no better than nothing, so it is not kept.
        True when kept."""
        phrase = phrasings_mod.clean(when)
        mine = _words(phrase)
        for other in others or []:
            theirs = _words(other)
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= 0.8:
                return False
        kept = add_phrasing(existing or [skill.section(WHEN_TO_USE).splitlines()[0]], phrase, self.phrasings)
        if kept is None:
            return False
        files[phrasings_mod.PHRASINGS_FILE] = phrasings_mod.render(kept)
        text = skill.section(WHEN_TO_USE)
        shown = [ln for ln in text.splitlines() if re.match(rf"^\s*-\s*{_SEEN}", ln)]
        if len(shown) < 3:
            skill.set_section(WHEN_TO_USE, f"{text}\n- {_SEEN}{_cut(when, 120)}")
        return True

    def _merge_known(self, skill: Skill, rb: Runbook, branch_id: str | None, a: Analysis, session: Session,
                     phrasings: list[str], others: list[str] | None = None
                     ) -> tuple[Skill | None, str, dict[str, str]]:
        """The skill with what this session adds to a cause it already has; None if nothing."""
        new = skill.copy()
        parts: list[str] = []
        branch = rb.branch(branch_id)
        all_dead = [d for d in new.items(WHAT_DIDNT) if d != _NONE] + [d for b in rb.branches for d in b.dead_ends]
        sigs = [signature(d) for d in all_dead]
        fresh = [d for d in a.dead_ends if not any(same_step(signature(d), s) for s in sigs)]
        if fresh:
            if branch is not None and len(rb.branches) > 1:
                branch.dead_ends += fresh
            else:
                new.set_list(WHAT_DIDNT, [d for d in new.items(WHAT_DIDNT) if d != _NONE] + fresh)
            parts.append(_count(len(fresh), "dead end"))
        if branch is not None and not branch.signal and a.signal:
            branch.signal = f"`{a.signal}`"
            parts.append("a signal")
        files: dict[str, str] = {}
        if self._phrasing(new, phrasings, a.when, files, others):
            parts.append("a phrasing of the task")
        if not parts:
            return None, "", {}
        if branch is not None:
            branch.sources.append(session.session_id)
            rb.apply(new)
        return new, ", ".join(parts), files

    def _add_branch(self, skill: Skill, rb: Runbook, a: Analysis, session: Session,
                    phrasings: list[str]) -> tuple[Skill, str, str, dict[str, str]]:
        """The skill with a new branch for this session's cause: the session's own diagnosis steps
        the skill lacks lead into its fix."""
        new = skill.copy()
        if not rb.branches and not rb.steps:  # a hand-written skill with no steps of its own
            rb.steps = [s for s in new.items(STEPS)]
        mine = [_call(d.text) for d in a.diagnosis]
        used = [s for s in rb.steps if any(_same_call(_call(s), m) for m in mine)]
        unused = [s for s in rb.steps if s not in used]
        if rb.branches and used:
            # steps this cause did not need are no longer common: they move into the causes that had them
            for old in rb.branches:
                old.fix = unused + old.fix
            rb.steps = used
        known = [_call(s) for s in rb.steps]
        own = [d.text for d in a.diagnosis if not any(_same_call(_call(d.text), k) for k in known)]
        b = self._branch(a, session, own, dead_ends=True)
        titles = {x.title for x in rb.branches}
        if b.title in titles:
            b.title = f"{b.title} ({b.key or 'no change'})"
        if any(x.id == b.id for x in rb.branches):
            b.id = f"{b.id}-{len(rb.branches) + 1}"
        rb.branches.append(b)
        rb.apply(new)
        if a.worked:
            worked = [w for w in new.items(WHAT_WORKED) if w != _NONE]
            new.set_list(WHAT_WORKED, worked + [f"**{b.title}**: {a.worked[0]}"])
        files: dict[str, str] = {}
        self._phrasing(new, phrasings, a.when, files)
        return new, b.id, b.title, files


@lru_cache(maxsize=4096)  # a skill's steps are compared with every session it is a candidate for
def _call(step: str) -> tuple[str, frozenset[str]]:
    return step_action(step).key, signature(step)


def _same_call(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> bool:
    """The same call, values aside: the same action (``kubectl rollout status`` is not ``kubectl
    rollout history``) with mostly the same words."""
    return a[0] == b[0] and same_step(a[1], b[1], 0.5)


def add_phrasing(existing: list[str], phrase: str, cap: int) -> list[str] | None:
    """``existing`` with ``phrase`` kept when it says the problem in a new way, holding at most
    ``cap`` phrasings, the most distinct ones (a full list swaps the closer of its closest pair for
    the new phrasing when that spreads them further); None when nothing changes."""
    mine = _words(phrase)
    if not mine or cap <= 0:
        return None
    sets = [_words(p) for p in existing]

    def dist(x: frozenset[str], y: frozenset[str]) -> float:
        return 1.0 - (len(x & y) / len(x | y) if x | y else 1.0)

    d_new = min((dist(mine, t) for t in sets), default=1.0)
    if d_new < 0.2:
        return None  # the same phrasing, near enough
    if len(existing) < cap:
        return existing + [phrase]
    pairs = [(dist(sets[i], sets[j]), j) for i in range(len(sets)) for j in range(i + 1, len(sets))]
    d_min, drop = min(pairs) if pairs else (1.0, len(existing) - 1)
    if d_new <= d_min:
        return None
    return [p for i, p in enumerate(existing) if i != drop] + [phrase]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
