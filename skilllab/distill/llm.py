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
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..names import validate_skill_name
from ..runbook import Branch, Runbook, check_written, resolution_key
from ..session import Session
from ..skill import CHANGELOG, WHAT_DIDNT, WHAT_WORKED, WHEN_TO_USE, Skill
from .actions import WRITE, step_action
from .base import ACTIONS, Candidate, Decision
from .cassette import Cassette
from .redact import redact
from .transcript import condensed

if TYPE_CHECKING:
    from ..library import Agent


_LIST = {"type": "array", "items": {"type": "string"}}
BRANCH_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["title", "signal", "fix", "dead_ends"],
    "properties": {"title": {"type": "string"}, "signal": {"type": "string"}, "fix": _LIST, "dead_ends": _LIST},
}
SKILL_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["name", "description", "when_to_use", "steps", "branches", "what_worked", "what_didnt_work",
                 "changelog"],
    "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "when_to_use": {"type": "string"},
        "steps": _LIST, "branches": {"type": "array", "items": BRANCH_SCHEMA}, "what_worked": _LIST,
        "what_didnt_work": _LIST, "changelog": {"type": "string"},
    },
}
DECISION_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["decision", "target", "branch", "reason", "novelty", "skill"],
    "properties": {
        "decision": {"type": "string", "enum": list(ACTIONS)},
        "target": {"type": ["string", "null"]},
        "branch": {"type": ["string", "null"]},
        "reason": {"type": "string"},
        "novelty": {"type": "number"},
        "skill": {"anyOf": [{"type": "null"}, SKILL_SCHEMA]},
    },
}

SYSTEM_PROMPT = """You maintain a library of runbooks ("skills") for an agent. After each task the agent \
finished, you decide in ONE reply whether the experience is worth keeping, and if so you write it.

A session's identity is what it DID to resolve the task (the calls that changed something), more than the \
diagnostic checks every session of a symptom shares. Decide one of:
- "skip": routine; a candidate already has a branch with this session's fix, and the session adds no new \
dead end, signal or way of describing the problem. Set "target" to that candidate and "branch" to the title \
of its branch.
- "update": the session belongs to a candidate: either the same fix (add what is new: a dead end, a signal) \
or the same symptom with a DIFFERENT cause and fix (add a NEW branch for it; never skip such a session). \
Return the candidate's FULL new document; "target" is its exact name, "branch" the title of the branch the \
session belongs to.
- "create": genuinely novel work no candidate covers. Return the full new document; "branch" is the title of \
its branch.

Judge "novelty" in [0, 1]: 0 = a candidate covers everything, 1 = entirely new. The agent's novelty bar is \
given: choose "create" only when novelty >= bar; below the bar, update the closest candidate if the session \
adds something, else skip.

A skill document is a short decision procedure, not a log:
- name: verb + object + the cause that tells it apart, at most five words, lowercase letters, digits and \
single hyphens (e.g. "raise-memory-limit-oomkilled-pods", "restore-renamed-env-secret").
- description: what it does AND when to use it, one or two sentences, at most 1024 characters; never a copy \
of the task.
- when_to_use: the symptoms that call for it, one or two lines.
- steps: the diagnosis steps common to every cause, in order, each one concrete command or call with \
placeholders like <namespace> instead of one incident's values, at most 300 characters each.
- branches: one per cause: "title" (the fix in a few words), "signal" (the output line or error string that \
identifies this cause), "fix" (its steps, then how to verify), "dead_ends" (what did not help for this cause \
and why).
- what_worked, what_didnt_work (dead ends and WHY they failed: often the most valuable part), changelog \
(one line: what changed in this version).
A step earns its place only if its output led to the next action or the fix. Leave out credential checks, \
unrelated listings, re-checks that changed nothing, sentinels and self-praise. Never copy passwords, tokens, \
keys or other secrets. For "skip", "skill" is null."""


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

    def __init__(self, config: LLMConfig | None = None, client: Any=None) -> None:
        self.config = config or LLMConfig()
        self._client = client
        self.cassette = Cassette(self.config.cassette, self.config.cassette_mode) if self.config.cassette else None
        self._answered = False  # the endpoint answered a preflight: later ones ask nothing

    @property
    def client(self) -> Any:
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

    def preflight(self) -> None:
        """One request to the endpoint's model list before the first session: a missing key, an
        unreachable endpoint or a refused key stops the run here, with one line, before anything
        is written. Nothing is asked when every answer will come from a replaying cassette, or
        once the endpoint has answered (a command and the loop it runs both check first)."""
        import openai

        if self._answered or (self.cassette is not None and self.config.cassette_mode == "replay"):
            return
        client = self.client  # raises ConfigError when there is no key and no local endpoint
        where = str(client.base_url).rstrip("/")
        try:
            client.with_options(max_retries=0, timeout=min(10.0, self.config.timeout)).models.list()
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise ConfigError(f"cannot reach the llm endpoint at {where} ({type(exc).__name__}); check --base-url "
                              "or OPENAI_BASE_URL") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError):
            raise ConfigError(f"the llm endpoint at {where} refused the API key; check OPENAI_API_KEY") from None
        except openai.APIStatusError:
            pass  # it answered: some servers have no model list, which is fine
        self._answered = True

    # ---- prompt ---------------------------------------------------------------------------
    def messages(self, session: Session, candidates: list[Candidate], bar: float) -> list[dict[str, Any]]:
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

    def request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        c = self.config
        return {"model": c.model, "messages": messages, "temperature": c.temperature, "max_tokens": c.max_tokens,
                "response_format": {"type": "json_schema",
                                    "json_schema": {"name": "skill_decision", "strict": True,
                                                    "schema": DECISION_SCHEMA}}}

    def _complete(self, request: dict[str, Any]) -> Any:
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
        usage: dict[str, Any] = {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
        error = ""
        for _attempt in range(2):  # the call, and one repair retry for malformed output
            req = self.request(messages)
            usage["llm_calls"] += 1
            try:
                resp = self._complete(req)
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                # the key, the model or the endpoint is wrong: every session would fail the same way
                raise ConfigError(f"the llm endpoint refused the request ({type(exc).__name__}: "
                                  f"{_first(exc)}); check OPENAI_API_KEY, --model and --base-url") from None
            except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                    openai.InternalServerError, openai.BadRequestError) as exc:
                # The client already retried what is transient; the session is not decided and is
                # retried by the next run (see the ledger's attempts).
                return Decision("error", "llm call failed", 0.0, error=f"{type(exc).__name__}: {exc}"[:500], **usage)
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
        return Decision("error", "llm output unusable after one repair retry", 0.0, error=error, **usage)

    def propose_consolidation(self, agent: Agent, sessions: Any = None) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """Split and merge proposals for ``agent``'s library (see :func:`_propose`)."""
        return _propose(self, agent, sessions)

    def parse(self, content: str, session: Session, candidates: list[Candidate]) -> Decision:
        """The model's JSON reply as a Decision; ValueError says what is wrong with it (the text
        goes back to the model in the repair retry)."""
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
            novelty = float(data["novelty"])
        except (TypeError, ValueError, KeyError):
            raise ValueError("novelty must be a number") from None
        novelty = min(max(novelty, 0.0), 1.0)
        first = str(data.get("reason") or "").strip().splitlines()[0:1]
        reason = first[0] if first else ""
        branch_title = data.get("branch") if isinstance(data.get("branch"), str) else None
        if action == "skip":
            target = data.get("target")
            base = next((c.skill for c in candidates if c.skill.name == target), None)
            bid = _branch_id(Runbook.of(base), branch_title) if base is not None else None
            return Decision("skip", reason or "routine", novelty, target=target if base is not None else None,
                            branch=bid)
        doc = data.get("skill")
        if not isinstance(doc, dict):
            raise ValueError(f"decision {action!r} needs a skill document")
        for key in SKILL_SCHEMA["required"]:
            if key not in doc:
                raise ValueError(f"skill.{key} is missing")
        for key in ("steps", "what_worked", "what_didnt_work"):
            if not isinstance(doc[key], list) or not all(isinstance(x, str) for x in doc[key]):
                raise ValueError(f"skill.{key} must be a list of strings")
        if not isinstance(doc["branches"], list) or not all(
                isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("fix"), list)
                for b in doc["branches"]):
            raise ValueError("skill.branches must be a list of {title, signal, fix, dead_ends}")
        name = str(doc["name"]).strip()
        if action == "update":
            target = data.get("target") or name
            base = next((c.skill for c in candidates if c.skill.name == target), None)
            # an unknown target is left for the flow to reject: it was never shown
            skill = base.copy() if base is not None else Skill.new(
                target, doc["description"], agent=session.agent_id, when_to_use="", steps=["-"], worked=[],
                dead_ends=[])
            if base is not None:
                skill.description = str(doc["description"]).strip()
            old = Runbook.of(base) if base is not None else Runbook()
            bid, new_branch = fill(skill, doc, session, old, branch_title)
            _check(skill, session, new=False)
            return Decision("update", reason, novelty, target=target, skill=skill, branch=bid,
                            new_branch=new_branch, changelog=str(doc["changelog"]).strip())
        try:
            validate_skill_name(name)
        except Exception as exc:
            raise ValueError(f"skill.name: {exc}") from None
        skill = Skill.new(name, str(doc["description"]).strip(), agent=session.agent_id, when_to_use="",
                          steps=["-"], worked=[], dead_ends=[], source=session.session_id,
                          date=session.started.date().isoformat(), changelog=str(doc["changelog"]).strip() or "created")
        bid, _ = fill(skill, doc, session, Runbook(), branch_title)
        _check(skill, session, new=True)
        return Decision("create", reason, novelty, skill=skill, branch=bid, changelog=str(doc["changelog"]).strip())


def _first(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _check(skill: Skill, session: Session, *, new: bool) -> None:
    from ..errors import InvalidSkill

    try:
        check_written(skill, task=session.task if new else None, new=new,
                      keep_keys=tuple(k for k in skill.front if k not in ("name", "description", "metadata")))
    except InvalidSkill as exc:
        raise ValueError(str(exc)) from None


def _branch_id(rb: Runbook, title: str | None) -> str | None:
    if not title:
        return rb.branches[0].id if len(rb.branches) == 1 else None
    b = next((b for b in rb.branches if b.title.lower() == title.lower() or b.id == title), None)
    return b.id if b else None


def fill(skill: Skill, doc: dict[str, Any], session: Session, old: Runbook, branch_title: str | None) -> tuple[str | None, bool]:
    """Write the model's document into ``skill``: sections, and the runbook with its branches (each
    keeps the sources it had; the session joins the branch it belongs to). Returns that branch's id
    and whether the branch is new."""
    skill.set_section(WHEN_TO_USE, str(doc["when_to_use"]).strip())
    branches = []
    for b in doc["branches"]:
        title = str(b.get("title") or "").strip() or "Fix"
        fix = [str(x).strip() for x in b.get("fix") or [] if str(x).strip()]
        keys = [a.key for a in map(step_action, fix) if a.kind == WRITE]
        prev = next((x for x in old.branches if x.title.lower() == title.lower()), None)
        branches.append(Branch(title, fix=fix, signal=str(b.get("signal") or "").strip(),
                               dead_ends=[str(x).strip() for x in b.get("dead_ends") or [] if str(x).strip()],
                               key=prev.key if prev else resolution_key(keys), id=prev.id if prev else "",
                               sources=list(prev.sources) if prev else []))
    seen: set[str] = set()
    for b in branches:
        while b.id in seen:
            b.id += "-2"
        seen.add(b.id)
    rb = Runbook(steps=[s.strip() for s in doc["steps"] if s.strip()], branches=branches)
    target = next((b for b in branches if branch_title and b.title.lower() == branch_title.lower()), None)
    if target is None and branches:
        target = branches[0] if len(branches) == 1 else None
    new_branch = target is not None and not any(x.id == target.id for x in old.branches)
    if target is not None and session.session_id not in target.sources:
        target.sources.append(session.session_id)
    rb.apply(skill)
    skill.set_list(WHAT_WORKED, [s.strip() for s in doc["what_worked"] if s.strip()])
    skill.set_list(WHAT_DIDNT, [s.strip() for s in doc["what_didnt_work"] if s.strip()])
    if not skill.has_section(CHANGELOG):
        skill.set_section(CHANGELOG, "")
    return (target.id if target else None), new_branch


# ---- consolidation proposals ---------------------------------------------------------------------

CONSOLIDATION_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["splits", "merges"],
    "properties": {
        "splits": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["skill", "leave", "reason"],
            "properties": {"skill": {"type": "string"},
                           "leave": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
                           "reason": {"type": "string"}}}},
        "merges": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["into", "absorbed", "reason"],
            "properties": {"into": {"type": "string"}, "absorbed": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}

CONSOLIDATION_PROMPT = """You tidy an agent's library of runbooks ("skills"). Each skill has branches: one \
per cause of a symptom, each with its fix. You are shown every skill with its branches, how many sessions \
each branch came from and, where known, how some of those sessions put the task.

Propose, in ONE JSON reply:
- "splits": a skill whose branches answer problems that do not belong together (their tasks read like \
different problems, not different causes of one symptom). "leave" lists groups of branch ids; each group \
becomes a skill of its own, the branches not listed stay. Never list every branch of a skill.
- "merges": two skills that are the same runbook (same problem, and at least one branch with the same fix). \
"into" keeps its name; "absorbed" is folded into it.
Propose nothing you are unsure of: an empty list is a good answer. Each skill takes part in at most one \
proposal. Give a one-line "reason" for each."""


def _consolidation_view(agent: Agent, sessions: Any) -> dict[str, Any]:
    from ..runbook import Runbook as _Rb

    out = []
    for info in agent.list(include_deprecated=False):
        sk = agent.get(info.name)
        rb = _Rb.of(sk)
        out.append({"name": sk.name, "description": redact(sk.description),
                    "branches": [{"id": b.id, "title": b.title, "fix_key": b.key, "sessions": len(b.sources),
                                  "asked_as": [redact(sessions[s])[:300] for s in b.sources if s in (sessions or {})][:2]}
                                 for b in rb.branches]})
    return {"skills": out}


def validate_consolidation(data: dict[str, Any], agent: Agent) -> tuple[list[tuple[str, list[list[str]]]], list[tuple[str, str]]]:
    """The proposals in ``data`` checked against the library: every name and branch id exists, a
    split leaves at least one branch and lists each once, a merge joins two different skills that
    share a fix, and no skill is in two proposals. ``ValueError`` says what is wrong."""
    from ..errors import SkilllabError
    from ..runbook import Runbook as _Rb

    if not isinstance(data, dict) or not isinstance(data.get("splits"), list) or not isinstance(data.get("merges"), list):
        raise ValueError("the reply must be an object with lists 'splits' and 'merges'")
    used: set[str] = set()

    def skill(name: Any) -> Skill:
        if not isinstance(name, str):
            raise ValueError(f"{name!r} is not a skill name")
        try:
            sk = agent.get(name)
        except SkilllabError:
            raise ValueError(f"there is no skill {name!r}") from None
        if sk.status == "deprecated":
            raise ValueError(f"{name!r} is deprecated")
        if name in used:
            raise ValueError(f"{name!r} is in more than one proposal")
        used.add(name)
        return sk

    splits = []
    for sp in data["splits"]:
        sk = skill(sp.get("skill"))
        ids = [b.id for b in _Rb.of(sk).branches]
        groups = [g for g in sp.get("leave") or [] if g]
        flat = [i for g in groups for i in g]
        if not groups:
            raise ValueError(f"split of {sk.name}: 'leave' names no branch")
        unknown = [i for i in flat if i not in ids]
        if unknown:
            raise ValueError(f"split of {sk.name}: no branch {unknown[0]!r} (its branches: {', '.join(ids)})")
        if len(set(flat)) != len(flat):
            raise ValueError(f"split of {sk.name}: a branch is listed twice")
        if set(flat) == set(ids):
            raise ValueError(f"split of {sk.name}: at least one branch must stay")
        splits.append((sk.name, groups))
    merges = []
    for m in data["merges"]:
        a, b = skill(m.get("into")), skill(m.get("absorbed"))
        if a.name == b.name:
            raise ValueError(f"merge of {a.name} into itself")
        shared = {x.key for x in _Rb.of(a).branches if x.key} & {x.key for x in _Rb.of(b).branches if x.key}
        if not shared:
            raise ValueError(f"merge of {b.name} into {a.name}: they share no fix")
        merges.append((a.name, b.name))
    return splits, merges


def _propose(self: LLMDistiller, agent: Agent, sessions: Any = None) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Ask the model for split and merge proposals (one call and one repair retry), validated by
    :func:`validate_consolidation`. Returns ``(splits, merges, usage)``; raises ``ValueError`` when
    the reply is still unusable after the retry."""
    messages = [{"role": "system", "content": CONSOLIDATION_PROMPT},
                {"role": "user", "content": json.dumps(_consolidation_view(agent, sessions), ensure_ascii=False,
                                                       indent=1)}]
    usage = {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    error = ""
    for _attempt in range(2):
        c = self.config
        req = {"model": c.model, "messages": messages, "temperature": c.temperature, "max_tokens": c.max_tokens,
               "response_format": {"type": "json_schema", "json_schema": {
                   "name": "consolidation", "strict": True, "schema": CONSOLIDATION_SCHEMA}}}
        usage["llm_calls"] += 1
        resp = self._complete(req)
        if resp.usage is not None:
            usage["prompt_tokens"] += resp.usage.prompt_tokens or 0
            usage["completion_tokens"] += resp.usage.completion_tokens or 0
        content = (resp.choices[0].message.content or "") if resp.choices else ""
        try:
            try:
                data = json.loads(content)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON ({exc.msg} at char {exc.pos})") from None
            splits, merges = validate_consolidation(data, agent)
            return splits, merges, usage
        except ValueError as exc:
            error = str(exc)[:500]
            messages = messages + [{"role": "assistant", "content": content},
                                   {"role": "user", "content": f"That reply was not usable: {error}. Reply again "
                                                               "with only the JSON object that follows the schema."}]
    raise ValueError(f"consolidation proposals unusable after one repair retry: {error}")

