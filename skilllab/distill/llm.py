"""``llm``: one call to any OpenAI-compatible chat endpoint judges novelty and writes the skill.

Works with OpenAI, vLLM, Ollama, llama.cpp's server and others through the ``openai`` package.
The reply is constrained by a JSON schema (``response_format=json_schema``). Malformed or
refused output gets one repair retry; if that fails too, the session is skipped with the error
recorded. Transient HTTP errors (429, 5xx, timeouts) are retried with backoff by the client
itself (``max_retries``). Every exchange can be recorded to and replayed from a cassette.

The transcript is condensed and redacted before it is sent; labels are never sent.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ..errors import ConfigError
from ..names import validate_skill_name
from ..session import Session
from ..skill import CHANGELOG, STEPS, WHAT_DIDNT, WHAT_WORKED, WHEN_TO_USE, Skill
from .base import ACTIONS, Candidate, Decision
from .cassette import Cassette
from .redact import redact
from .transcript import condensed

_LIST = {"type": "array", "items": {"type": "string"}}
SKILL_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "description", "when_to_use", "steps", "what_worked", "what_didnt_work", "changelog"],
    "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "when_to_use": {"type": "string"},
        "steps": _LIST, "what_worked": _LIST, "what_didnt_work": _LIST, "changelog": {"type": "string"},
    },
}
DECISION_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["decision", "target", "reason", "novelty", "skill"],
    "properties": {
        "decision": {"type": "string", "enum": list(ACTIONS)},
        "target": {"type": ["string", "null"]},
        "reason": {"type": "string"},
        "novelty": {"type": "number"},
        "skill": {"anyOf": [{"type": "null"}, SKILL_SCHEMA]},
    },
}

SYSTEM_PROMPT = """You maintain a library of runbooks ("skills") for an SRE agent. After each task the \
agent finished, you decide in ONE reply whether the experience is worth keeping, and if so you write it.

Decide one of:
- "skip": the task was routine; an existing skill already covers its steps, fixes and dead ends.
- "update": the task is the same kind of problem as one of the candidate skills (same cause, same fix \
family) and adds something (a new step, a different fix that worked, a dead end). Return that \
candidate's FULL new document, keeping what is still right and merging the new knowledge. "target" \
must be the candidate's exact name.
- "create": genuinely novel work no candidate covers (a different cause or fix counts as novel even if \
the symptom looks alike). Return the full new document.

Judge "novelty" in [0, 1]: 0 = a candidate covers everything, 1 = entirely new. The agent's novelty bar \
is given: choose "create" only when novelty >= bar; below the bar, update the closest candidate if the \
task adds something, else skip.

A skill document has: name (lowercase letters, digits and single hyphens, at most 64 characters, naming \
the problem and its fix), description (what it lets you do AND when to use it, at most 1024 characters), \
when_to_use (the symptoms that call for it), steps (ordered, concrete commands with placeholders like \
<namespace> instead of one incident's values), what_worked, what_didnt_work (dead ends and WHY they \
failed: often the most valuable part), changelog (one line: what changed in this version). Never copy \
passwords, tokens, keys or other secrets. For "skip", "skill" is null."""


@dataclass
class LLMConfig:
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None  # default: $OPENAI_API_KEY; never written to run folders
    temperature: float = 0.0
    max_tokens: int = 2000
    timeout: float = 60.0
    max_retries: int = 3
    max_transcript_chars: int = 6000
    cassette: str | None = None
    cassette_mode: str = "auto"


class LLMDistiller:
    name = "llm"

    def __init__(self, config: LLMConfig | None = None, client=None):
        self.config = config or LLMConfig()
        self._client = client
        self.cassette = Cassette(self.config.cassette, self.config.cassette_mode) if self.config.cassette else None

    @property
    def client(self):
        if self._client is None:
            from openai import OpenAI

            c = self.config
            key = c.api_key or os.environ.get("OPENAI_API_KEY")
            if not key:
                if c.base_url or os.environ.get("OPENAI_BASE_URL"):
                    key = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key
                else:
                    raise ConfigError("the llm distiller needs OPENAI_API_KEY (or a base_url of a local server)")
            self._client = OpenAI(base_url=c.base_url or os.environ.get("OPENAI_BASE_URL"), api_key=key,
                                  timeout=c.timeout, max_retries=c.max_retries)
        return self._client

    # ---- prompt ---------------------------------------------------------------------------
    def messages(self, session: Session, candidates: list[Candidate], bar: float) -> list[dict]:
        cands = [{"name": c.skill.name, "similarity": round(c.similarity, 3), "document": redact(c.skill.render())}
                 for c in candidates]
        user = {
            "novelty_bar": round(bar, 4),
            "session": {"id": session.session_id, "task": redact(session.task),
                        "outcome": "success" if session.success else "failure",
                        "summary": redact(session.summary or ""),
                        "transcript": condensed(session, self.config.max_transcript_chars),
                        "final_answer": redact(session.final_answer())[:1500]},
            "candidates": cands,
        }
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": json.dumps(user, ensure_ascii=False, indent=1)}]

    def request(self, messages: list[dict]) -> dict:
        c = self.config
        return {"model": c.model, "messages": messages, "temperature": c.temperature, "max_tokens": c.max_tokens,
                "response_format": {"type": "json_schema",
                                    "json_schema": {"name": "skill_decision", "strict": True,
                                                    "schema": DECISION_SCHEMA}}}

    def _complete(self, request: dict):
        from openai.types.chat import ChatCompletion

        if self.cassette is not None:
            recorded = self.cassette.get(request)
            if recorded is not None:
                return ChatCompletion.model_validate(recorded)
        resp = self.client.chat.completions.create(**request)
        if self.cassette is not None:
            self.cassette.put(request, resp.model_dump(mode="json"))
        return resp

    # ---- deciding -------------------------------------------------------------------------
    def decide(self, session: Session, candidates: list[Candidate], bar: float) -> Decision:
        import openai

        messages = self.messages(session, candidates, bar)
        usage = {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
        error = ""
        for _attempt in range(2):  # the call, and one repair retry for malformed output
            req = self.request(messages)
            usage["llm_calls"] += 1
            try:
                resp = self._complete(req)
            except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                    openai.InternalServerError, openai.AuthenticationError, openai.PermissionDeniedError,
                    openai.NotFoundError, openai.BadRequestError) as exc:
                # The client already retried what is transient; record and move on.
                return Decision("skip", "llm call failed", 0.0, error=f"{type(exc).__name__}: {exc}"[:500], **usage)
            except (openai.APIResponseValidationError, json.JSONDecodeError, ValueError) as exc:
                error = f"malformed response body: {exc}"[:500]
                continue
            if resp.usage is not None:
                usage["prompt_tokens"] += resp.usage.prompt_tokens or 0
                usage["completion_tokens"] += resp.usage.completion_tokens or 0
            msg = resp.choices[0].message if resp.choices else None
            content = (msg.content or "") if msg else ""
            refusal = getattr(msg, "refusal", None) if msg else None
            try:
                if refusal:
                    raise ValueError(f"the model refused: {refusal}")
                decision = self.parse(content, session, candidates)
            except ValueError as exc:
                error = str(exc)[:500]
                messages = messages + [
                    {"role": "assistant", "content": content or ""},
                    {"role": "user", "content": f"That reply was not usable: {error}. Reply again with only "
                                                "the JSON object that follows the schema."}]
                continue
            decision.llm_calls = usage["llm_calls"]
            decision.prompt_tokens = usage["prompt_tokens"]
            decision.completion_tokens = usage["completion_tokens"]
            return decision
        return Decision("skip", "llm output unusable after one repair retry", 0.0, error=error, **usage)

    def parse(self, content: str, session: Session, candidates: list[Candidate]) -> Decision:
        """The model's JSON reply as a Decision; ValueError says what is wrong with it."""
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg} at char {exc.pos})") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        action = data.get("decision")
        if action not in ACTIONS:
            raise ValueError(f"decision must be one of {ACTIONS}, got {action!r}")
        try:
            novelty = float(data.get("novelty"))
        except (TypeError, ValueError):
            raise ValueError("novelty must be a number") from None
        novelty = min(max(novelty, 0.0), 1.0)
        reason = str(data.get("reason") or "").strip().splitlines()[0:1]
        reason = reason[0] if reason else ""
        if action == "skip":
            return Decision("skip", reason or "routine", novelty, target=data.get("target"))
        doc = data.get("skill")
        if not isinstance(doc, dict):
            raise ValueError(f"decision {action!r} needs a skill document")
        for key in SKILL_SCHEMA["required"]:
            if key not in doc:
                raise ValueError(f"skill.{key} is missing")
        for key in ("steps", "what_worked", "what_didnt_work"):
            if not isinstance(doc[key], list) or not all(isinstance(x, str) for x in doc[key]):
                raise ValueError(f"skill.{key} must be a list of strings")
        name = str(doc["name"]).strip()
        if action == "update":
            target = data.get("target") or name
            base = next((c.skill for c in candidates if c.skill.name == target), None)
            # an unknown target is left for the flow to reject: it was never shown
            skill = base.copy() if base is not None else Skill.new(
                target, doc["description"], agent=session.agent_id, when_to_use="", steps=[], worked=[],
                dead_ends=[])
            if base is not None:
                skill.description = str(doc["description"]).strip()
            fill(skill, doc)
            return Decision("update", reason, novelty, target=target, skill=skill,
                            changelog=str(doc["changelog"]).strip())
        try:
            validate_skill_name(name)
        except Exception as exc:
            raise ValueError(f"skill.name: {exc}") from None
        skill = Skill.new(name, str(doc["description"]).strip(), agent=session.agent_id, when_to_use="",
                          steps=[], worked=[], dead_ends=[], source=session.session_id,
                          date=session.started.date().isoformat(), changelog=str(doc["changelog"]).strip() or "created")
        fill(skill, doc)
        return Decision("create", reason, novelty, skill=skill, changelog=str(doc["changelog"]).strip())


def fill(skill: Skill, doc: dict) -> None:
    skill.set_section(WHEN_TO_USE, str(doc["when_to_use"]).strip())
    skill.set_list(STEPS, [s.strip() for s in doc["steps"] if s.strip()], numbered=True)
    skill.set_list(WHAT_WORKED, [s.strip() for s in doc["what_worked"] if s.strip()])
    skill.set_list(WHAT_DIDNT, [s.strip() for s in doc["what_didnt_work"] if s.strip()])
    if not skill.has_section(CHANGELOG):
        skill.set_section(CHANGELOG, "")
