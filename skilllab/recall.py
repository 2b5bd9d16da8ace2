"""Recall: skills surfaced before a task (as context) and on demand (as tools the agent calls).

Recall uses only the task text, returns nothing below ``min_similarity`` (surfacing a wrong
skill is worse than none), never returns deprecated skills, and marks skills in review. Each
hit counts as a use of the skill (batched, no commit).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .library import Agent


if TYPE_CHECKING:
    from .library import SkillHit

DEFAULT_MIN_SIMILARITY = 0.45
DEFAULT_BUDGET_CHARS = 6000


def __getattr__(name: str) -> Any:
    if name == "RecallHit":  # one hit type: recall returns SkillHit (kept importable under the old name)
        from .library import SkillHit

        return SkillHit
    raise AttributeError(name)


def recall(agent: Agent, task: str, k: int = 3, min_similarity: float = DEFAULT_MIN_SIMILARITY, *,
           record_use: bool = True, when: str | None = None) -> list[SkillHit]:
    """The agent's best skills for ``task``, best first, none below ``min_similarity``."""
    out = agent.search(task, k=k, min_similarity=min_similarity)
    if record_use:
        for h in out:
            agent.usage.record_use(h.name, when)
    return out


def recall_context(agent: Agent, task: str, *, k: int = 3, min_similarity: float = DEFAULT_MIN_SIMILARITY,
                   budget_chars: int = DEFAULT_BUDGET_CHARS, when: str | None = None) -> str:
    """A prompt-ready block: the best skills' full text, each under its name, within the budget.

    A skill that does not fit whole is cut at a line boundary with a note; skills that do not fit
    at all are listed by name so the agent can ``load_skill`` them. Returns "" when nothing is
    similar enough.
    """
    hits = recall(agent, task, k=k, min_similarity=min_similarity, when=when)
    if not hits:
        return ""
    head = ("Skills from earlier work that may apply (cite them by name; load others with "
            "load_skill):\n")
    names = [h.name for h in hits]
    reserve = len("\nAlso relevant, not shown: \n") + sum(len(n) + 2 for n in names)
    parts, used, left_out = [head], len(head), []
    for h in hits:
        body = agent.get(h.name).body()  # the name heads the block; no front matter
        flag = " [REVIEW: recent uses of this skill failed; the system may have changed]" \
            if h.status == "review" else ""
        block = f"\n=== skill: {h.name} (similarity {h.similarity:.2f}){flag} ===\n{body.strip()}\n"
        room = budget_chars - used - reserve
        if len(block) <= room:
            parts.append(block)
            used += len(block)
        elif len(parts) == 1 and room > 200:
            note = f"\n[... cut to fit; load_skill('{h.name}') for the rest]\n"
            cut = block[: room - len(note)].rsplit("\n", 1)[0]
            parts.append(cut + note)
            used += len(cut) + len(note)
        else:
            left_out.append(h.name)
    if left_out:
        parts.append(f"\nAlso relevant, not shown: {', '.join(left_out)}\n")
    return "".join(parts)


# ---- on-demand tools -------------------------------------------------------------------------
TOOLS = [
    {"type": "function", "function": {
        "name": "search_skills",
        "description": "Search your skill library (runbooks from earlier tasks) by meaning. Returns names, "
                       "descriptions and similarity; load one with load_skill.",
        "parameters": {"type": "object", "additionalProperties": False, "required": ["query"],
                       "properties": {"query": {"type": "string", "description": "what you need to do"},
                                      "k": {"type": "integer", "minimum": 1, "maximum": 20,
                                            "description": "how many results (default 5)"}}}}},
    {"type": "function", "function": {
        "name": "load_skill",
        "description": "Load the full text of one skill from your library by its exact name.",
        "parameters": {"type": "object", "additionalProperties": False, "required": ["name"],
                       "properties": {"name": {"type": "string"}}}}},
]


class SkillTools:
    """OpenAI function-calling tools scoped to one agent.

    Pass :attr:`definitions` as ``tools=`` to ``client.chat.completions.create``; for each tool call
    in the assistant's reply, append ``handle(call)`` to the messages. Another agent's skill, or a
    name that does not exist, answers "not found".
    """

    def __init__(self, agent: Agent, *, min_similarity: float = 0.0) -> None:
        self.agent = agent
        self.min_similarity = min_similarity
        self.definitions = TOOLS

    def handle(self, call: Any) -> dict[str, Any]:
        """One tool call (an openai ``ChatCompletionMessageToolCall`` or its dict) -> a tool message."""
        cid = _get(call, "id")
        fn = _get(call, "function")
        name, raw = _get(fn, "name"), _get(fn, "arguments") or "{}"
        try:
            args = json.loads(raw)
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
            result = self.call(name, args)
        except (ValueError, TypeError) as exc:
            result = {"error": f"bad arguments for {name}: {exc}"}
        return {"role": "tool", "tool_call_id": cid, "content": json.dumps(result, ensure_ascii=False)}

    def handle_message(self, message: Any) -> list[dict[str, Any]]:
        """Every tool call of an assistant message, answered in order."""
        return [self.handle(c) for c in (_get(message, "tool_calls") or [])]

    def call(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Answer tool ``name`` with ``args``: the result, or ``{"error": ...}`` (also what the MCP
        server answers with)."""
        from .errors import SkilllabError

        if name == "search_skills":
            query = args.get("query")
            if not isinstance(query, str) or not query.strip():
                raise ValueError("query must be a non-empty string")
            k = int(args.get("k", 5))
            floor = args.get("min_similarity")
            floor = self.min_similarity if floor is None else float(floor)
            if not 0.0 <= floor <= 1.0:
                raise ValueError("min_similarity must be from 0 to 1")
            hits = recall(self.agent, query, k=max(1, min(k, 20)), min_similarity=floor,
                          record_use=bool(args.get("record_use", True)))
            return {"results": [{"name": h.name, "description": h.description,
                                 "similarity": round(h.similarity, 3), "status": h.status} for h in hits]}
        if name == "load_skill":
            skill_name = str(args.get("name") or "")
            try:  # a name a merge or rename retired still finds the skill that carries it
                skill = self.agent.get(self.agent.resolve(skill_name))
            except SkilllabError:
                return {"error": f"skill {skill_name!r} not found"}
            if skill.status == "deprecated":
                return {"error": f"skill {skill_name!r} not found"}
            self.agent.usage.record_use(skill.name)
            return {"name": skill.name, "status": skill.status, "content": skill.render()}
        return {"error": f"unknown tool {name!r}"}


def _get(obj: Any, key: Any) -> Any:
    if obj is None:
        return None
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
