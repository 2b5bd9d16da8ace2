"""``nearest``: the naive baseline every result is compared against (no LLM, no runbook).

"Remember every task, cluster by nearest neighbour": a successful session *joins* the skill
whose task text is nearest to its own task when the similarity is at least ``1 - bar`` (so the
novelty bar means the same thing for both arms: novelty = 1 - similarity), and otherwise
*creates* a skill whose text is the session's task, with the session's calls listed as they were
made. A join records the session as a source of that skill (an update of its sources; the text
does not change). Candidates are found with the task text alone, by the dense embedder
(the replay runs this arm with ``search = "dense"``).
"""

from __future__ import annotations

from ..names import slugify
from ..session import Session
from ..skill import Skill
from .base import Candidate, Decision

MAX_TEXT = 1000


class NearestDistiller:
    name = "nearest"
    runbook_rules = False  # its skills are remembered tasks: only the Agent Skills format rules apply

    def search_queries(self, session: Session) -> list[str]:
        return [session.task]

    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        threshold = 1.0 - bar
        if candidates and candidates[0].similarity >= threshold:
            best = candidates[0]
            return Decision("update", f"joins {best.skill.name} (similarity {best.similarity:.2f} >= {threshold:.2f})",
                            round(1.0 - best.similarity, 4), target=best.skill.name, skill=best.skill.copy(),
                            changelog="joined by a session with a similar task")
        sim = candidates[0].similarity if candidates else 0.0
        task = " ".join(session.task.split())
        text = task if len(task) <= MAX_TEXT else task[: MAX_TEXT - 1] + "…"
        calls = [f"`{st.command[:300]}`" for st in session.tool_steps()] or ["(no tool calls)"]
        answer = (session.summary or session.final_answer() or "").strip().splitlines()
        skill = Skill.new(slugify(task, max_len=48), text, agent=session.agent_id, when_to_use=text, steps=calls,
                          worked=[answer[0][:300]] if answer else [], dead_ends=[], source=session.session_id,
                          date=session.started.date().isoformat(), changelog="remembered task")
        return Decision("create", f"no skill within similarity {threshold:.2f} (nearest {sim:.2f})",
                        round(1.0 - sim, 4), skill=skill, changelog="remembered task")
