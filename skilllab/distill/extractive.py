"""``extractive``: the offline distiller, and the baseline LLM distillers are compared against.

It builds the runbook from the transcript (purpose from the task, steps from the calls on the
path to success, dead ends from calls that failed or were abandoned, what worked from the
resolution) and judges novelty from two things: how similar the best candidate skill is, and
how much of the session's steps and dead ends that candidate already covers. An update merges
new steps in their order and appends new dead ends, never repeating what is there.

    closeness(c) = similarity_weight * similarity(c) + (1 - similarity_weight) * coverage(c)
    novelty      = 1 - max closeness over candidates
    novelty >= bar           -> create
    otherwise, adds nothing  -> skip (routine)
    otherwise                -> update the closest candidate

Fix steps count twice in coverage: two sessions with the same symptom but a different fix
(different cause) are different skills.
"""

from __future__ import annotations

import re

from ..names import slugify, validate_skill_name
from ..session import Session
from ..skill import STEPS, WHAT_DIDNT, WHAT_WORKED, WHEN_TO_USE, Skill
from .base import Candidate, Decision
from .redact import redact
from .transcript import Analysis, analyse, content_words, same_step, signature, templated

MAX_WHEN_EXAMPLES = 6
_EXAMPLE_PREFIX = "Seen as: "


class ExtractiveDistiller:
    name = "extractive"

    def __init__(self, similarity_weight: float = 0.6):
        self.similarity_weight = similarity_weight

    # ---- judging ------------------------------------------------------------------------
    def coverage(self, a: Analysis, skill: Skill) -> float:
        """Share of the session's steps and dead ends the skill already has (fixes count 2x)."""
        known_dead = [signature(t) for t in skill.items(WHAT_DIDNT)]
        # a step the skill already lists as a dead end is known too
        known = [signature(t) for t in skill.items(STEPS) + skill.items(WHAT_WORKED)] + known_dead
        total = hit = 0.0
        for text, kind in a.steps:
            w = 2.0 if kind == "fix" else 1.0
            total += w
            hit += w if any(same_step(signature(text), k) for k in known) else 0.0
        for text in a.dead_ends:
            total += 1.0
            hit += 1.0 if any(same_step(signature(text), k) for k in known_dead) else 0.0
        return hit / total if total else 0.0

    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        a = analyse(session)
        if not a.steps and not a.dead_ends:
            return Decision("skip", "nothing to learn: the transcript has no tool calls", 0.0)
        if not candidates:
            return self._create(session, a, 1.0, "no similar skill in the library", [])
        scored = []
        for c in candidates:
            cov = self.coverage(a, c.skill)
            closeness = self.similarity_weight * max(c.similarity, 0.0) + (1 - self.similarity_weight) * cov
            scored.append((closeness, cov, c))
        scored.sort(key=lambda t: -t[0])
        closeness, cov, best = scored[0]
        novelty = round(min(max(1.0 - closeness, 0.0), 1.0), 4)
        if novelty >= bar:
            return self._create(session, a, novelty,
                                f"novelty {novelty:.2f} >= bar {bar:.2f} (closest {best.skill.name}, "
                                f"similarity {best.similarity:.2f}, coverage {cov:.2f})",
                                [c.skill.name for c in candidates])
        merged, what = self.merge(best.skill, a, session)
        if merged is None:
            return Decision("skip", f"routine: {best.skill.name} already covers it (similarity "
                                    f"{best.similarity:.2f}, coverage {cov:.2f})", novelty, target=best.skill.name)
        return Decision("update", f"close to {best.skill.name} (similarity {best.similarity:.2f}, coverage "
                                  f"{cov:.2f}) and adds {what}", novelty, target=best.skill.name,
                        skill=merged, changelog=f"added {what}")

    # ---- writing ------------------------------------------------------------------------
    def _create(self, session: Session, a: Analysis, novelty: float, reason: str, taken: list[str]) -> Decision:
        name = self.name_for(session, a)
        desc = self.description_for(session, a)
        what = f"created from {_count(len(a.steps), 'step')} and {_count(len(a.dead_ends), 'dead end')}"
        skill = Skill.new(name, desc, agent=session.agent_id, when_to_use=self.when_for(a),
                          steps=[t for t, _ in a.steps] or ["(every recorded call failed; see the dead ends)"],
                          worked=a.worked, dead_ends=a.dead_ends, source=session.session_id,
                          date=session.started.date().isoformat(),
                          changelog=what)
        return Decision("create", reason, novelty, skill=skill, changelog=what)

    @staticmethod
    def name_for(session: Session, a: Analysis) -> str:
        words = content_words(a.when, 4)
        fix = content_words(templated(session.summary or "", a.placeholders), 3)
        name = slugify(" ".join(words + [w for w in fix if w not in words]), max_len=48)
        validate_skill_name(name)
        return name

    @staticmethod
    def description_for(session: Session, a: Analysis) -> str:
        what = redact(templated((session.summary or "").strip(), a.placeholders)) or "Diagnose and resolve this incident"
        what = what[0].upper() + what[1:]
        task = a.when.rstrip(".")
        desc = f"{what.rstrip('.')}. Use when: {task}."
        return desc if len(desc) <= 1024 else desc[:1020] + "…"

    @staticmethod
    def when_for(a: Analysis) -> str:
        lines = [a.when]
        if a.signals:
            lines.append("")
            lines.append("Signals seen: " + "; ".join(f"`{s}`" for s in dict.fromkeys(a.signals[:3])))
        return "\n".join(lines)

    def merge(self, skill: Skill, a: Analysis, session: Session) -> tuple[Skill | None, str]:
        """The skill with this session's new steps, dead ends and fixes merged in; None if nothing new."""
        new = skill.copy()
        steps = skill.items(STEPS)
        sigs = [signature(s) for s in steps]
        known_dead = [signature(d) for d in skill.items(WHAT_DIDNT)]
        added_steps = 0
        anchor = -1
        for text, _kind in a.steps:
            sig = signature(text)
            if any(same_step(sig, d) for d in known_dead):
                continue  # this skill already records it as a dead end
            match = next((i for i, s in enumerate(sigs) if same_step(sig, s)), None)
            if match is not None:
                anchor = max(anchor, match)
                continue
            anchor += 1
            steps.insert(anchor, text)
            sigs.insert(anchor, sig)
            added_steps += 1
        dead = skill.items(WHAT_DIDNT)
        dead = [] if dead == ["_None recorded yet._"] else dead
        dsigs = [signature(d) for d in dead]
        added_dead = 0
        for d in a.dead_ends:
            if not any(same_step(signature(d), s) for s in dsigs):
                dead.append(d)
                dsigs.append(signature(d))
                added_dead += 1
        worked = skill.items(WHAT_WORKED)
        worked = [] if worked == ["_None recorded yet._"] else worked
        added_worked = 0
        for w in a.worked:
            if not any(same_step(signature(w), signature(x), 0.5) for x in worked):
                worked.append(w)
                added_worked += 1
        if not (added_steps or added_dead or added_worked):
            return None, ""
        new.set_list(STEPS, steps, numbered=True)
        new.set_list(WHAT_DIDNT, dead)
        new.set_list(WHAT_WORKED, worked)
        self._add_example(new, a.when)
        parts = [_count(n, what) for n, what in ((added_steps, "step"), (added_dead, "dead end"),
                                                 (added_worked, "fix")) if n]
        return new, ", ".join(parts)

    @staticmethod
    def _add_example(skill: Skill, when: str) -> None:
        """Record another way the task was phrased, so recall matches more phrasings."""
        text = skill.section(WHEN_TO_USE)
        examples = re.findall(rf"^- {_EXAMPLE_PREFIX}(.*)$", text, re.MULTILINE)
        first = text.splitlines()[0] if text else ""
        if when in examples or when == first or len(examples) >= MAX_WHEN_EXAMPLES:
            return
        skill.set_section(WHEN_TO_USE, f"{text}\n- {_EXAMPLE_PREFIX}{when}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
