"""The runbook inside a skill's ``## Steps``: common diagnosis first, then one branch per cause.

When sessions share a symptom but differ in cause and fix, a skill is a short decision
procedure instead of a longer list. The Steps section reads::

    1. `kubectl -n <namespace> get pods -l app=<service>` (look for: CrashLoopBackOff)
    2. `kubectl -n <namespace> logs deploy/<service> --previous`

    ### Fix: point the deployment at the renamed secret
    <!-- skilllab:branch id=kubectl-set-env key="kubectl set env" -->
    Signal: `panic: required environment variable <var> is not set`

    1. `kubectl -n <namespace> set env deploy/<service> --from=secret/<service>-env`
    2. `kubectl -n <namespace> rollout status deploy/<service>`

    Did not help for this cause:
    - `kubectl -n <namespace> delete pod <pod>`: the new pod crashed with the same error

Everything a person needs is visible; the one HTML comment (invisible when the Markdown is
rendered) keeps the branch's stable ``id`` and its resolution ``key`` (the value-free names of the
actions that fixed it, see :mod:`skilllab.distill.actions`). The sessions a branch learned from
are listed in the front matter, ``metadata["skilllab.branch.<id>"]``. A skill without ``###``
headings in Steps (a hand-written one, say) is a runbook with common steps and no branches.
Parsing is tolerant: a branch written by hand without the comment gets its id from its title and
its key from its fix steps.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .names import slugify
from .skill import META_PREFIX, STEPS, WHAT_WORKED, WHEN_TO_USE, Skill

_FENCE = re.compile(r"^\s*(```|~~~)")
_BRANCH = re.compile(r"^###\s+(.+?)\s*$")
_COMMENT = re.compile(r"^\s*<!--\s*skilllab:branch\s+(.*?)\s*-->\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_SIGNAL = re.compile(r"^\s*(?:\*\*|_)?signal:?(?:\*\*|_)?:?\s*(.*)$", re.IGNORECASE)
_DEAD = re.compile(r"^\s*(?:\*\*|_)?(did not help|didn't help|dead ends?|not the fix)\b.*$", re.IGNORECASE)
NO_CHANGE = "no change"
MAX_BRANCHES = 6


@dataclass
class Branch:
    """One cause: the signal that identifies it, its fix, and what did not help for it."""

    title: str
    fix: list[str] = field(default_factory=list)
    signal: str = ""
    dead_ends: list[str] = field(default_factory=list)
    key: str = ""  # resolution key: action keys joined by " + "; "" means the session changed nothing
    id: str = ""
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # prose lines a person wrote in the branch

    def __post_init__(self) -> None:
        if not self.id:
            self.id = branch_id(self.key, self.title)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for k in self.key.split(" + ") if k)

    def render(self) -> str:
        lines = [f"### {self.title}", f'<!-- skilllab:branch id={self.id} key="{_q(self.key)}" -->']
        if self.signal:
            lines.append(f"Signal: {self.signal}")
        lines += self.notes
        if self.fix:
            lines.append("")
            lines += [f"{i}. {s}" for i, s in enumerate(self.fix, 1)]
        if self.dead_ends:
            lines += ["", "Did not help for this cause:"] + [f"- {d}" for d in self.dead_ends]
        return "\n".join(lines)


def _q(text: str) -> str:
    return text.replace('"', "'").replace("--", "- -")


def branch_id(key: str, title: str = "") -> str:
    """A stable id for a branch: its resolution key as a slug (``kubectl-set-env``), else its title's."""
    if key:
        return slugify(key.replace("+", " "), max_len=48)
    return slugify(title or NO_CHANGE, max_len=48) if title else "no-change"


def resolution_key(keys: Iterable[str]) -> str:
    """The canonical resolution key of a set of action keys (sorted, joined by `` + ``)."""
    return " + ".join(sorted(set(k for k in keys if k)))


@dataclass
class Runbook:
    """The Steps section of one skill, parsed."""

    steps: list[str] = field(default_factory=list)  # common diagnosis steps
    branches: list[Branch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # prose lines before the branches

    @classmethod
    def parse(cls, text: str, metadata: dict[str, str] | None = None) -> Runbook:
        metadata = metadata or {}
        rb = cls()
        current: Branch | None = None
        in_dead = False
        in_fence = False
        for line in text.splitlines():
            if _FENCE.match(line):
                in_fence = not in_fence
            m = None if in_fence else _BRANCH.match(line)
            if m:
                current = Branch(m.group(1).strip(), id="_pending")
                current.id = ""
                rb.branches.append(current)
                in_dead = False
                continue
            if current is None:
                item = _ITEM.match(line)
                if item:
                    rb.steps.append(item.group(1).strip())
                elif line.strip() and line.startswith((" ", "\t")) and rb.steps:
                    rb.steps[-1] += " " + line.strip()
                elif line.strip():
                    rb.notes.append(line.rstrip())
                continue
            c = _COMMENT.match(line)
            if c:
                attrs = _attrs(c.group(1))
                current.id = attrs.get("id", "")
                current.key = attrs.get("key", "")
                continue
            sig = _SIGNAL.match(line)
            if sig and not current.fix and not current.signal:
                current.signal = sig.group(1).strip()
                continue
            if _DEAD.match(line):
                in_dead = True
                continue
            item = _ITEM.match(line)
            if item:
                (current.dead_ends if in_dead else current.fix).append(item.group(1).strip())
            elif line.strip() and line.startswith((" ", "\t")):
                target = current.dead_ends if in_dead else current.fix
                if target:
                    target[-1] += " " + line.strip()
            elif line.strip():
                current.notes.append(line.rstrip())
        for b in rb.branches:
            if not b.key:
                from .distill.actions import WRITE, step_action

                b.key = resolution_key(a.key for a in map(step_action, b.fix) if a.kind == WRITE)
            if not b.id:
                b.id = branch_id(b.key, b.title)
            b.sources = metadata.get(f"{META_PREFIX}branch.{b.id}", "").split()
        return rb

    @classmethod
    def of(cls, skill: Skill) -> Runbook:
        return cls.parse(skill.section(STEPS), skill.metadata)

    def branch(self, branch_id_: str | None) -> Branch | None:
        return next((b for b in self.branches if b.id == branch_id_), None)

    def branch_named(self, branch_id_: str) -> Branch:
        """The branch with this id; raises ``KeyError`` when the runbook has none."""
        found = self.branch(branch_id_)
        if found is None:
            raise KeyError(branch_id_)
        return found

    def find(self, keys: frozenset[str]) -> Branch | None:
        """The branch whose resolution is exactly ``keys`` (the empty set finds the no-change branch)."""
        return next((b for b in self.branches if b.keys == keys), None)

    def render(self) -> str:
        parts = []
        if self.notes:
            parts.append("\n".join(self.notes))
        if self.steps:
            parts.append("\n".join(f"{i}. {s}" for i, s in enumerate(self.steps, 1)))
        parts += [b.render() for b in self.branches]
        return "\n\n".join(parts) if parts else "_None recorded yet._"

    def apply(self, skill: Skill) -> None:
        """Write this runbook into ``skill``'s Steps section and its branches' sources into metadata."""
        skill.set_section(STEPS, self.render())
        meta = skill.metadata
        for key in [k for k in meta if k.startswith(f"{META_PREFIX}branch.")]:
            del meta[key]
        for b in self.branches:
            if b.sources:
                meta[f"{META_PREFIX}branch.{b.id}"] = " ".join(b.sources)

    def all_steps(self) -> list[str]:
        return self.steps + [s for b in self.branches for s in b.fix]

    def unit_text(self, skill: Skill, branch: Branch) -> str:
        """What a person reads for one branch: the skill's purpose, the common steps and the branch."""
        worked = [w for w in skill.items(WHAT_WORKED) if branch.title.lower() in w.lower()] or \
            (skill.items(WHAT_WORKED) if len(self.branches) == 1 else [])
        return "\n".join([skill.description, skill.section(WHEN_TO_USE), *self.steps, branch.render(), *worked])


_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")


def _attrs(text: str) -> dict[str, str]:
    """The ``key=value`` words of a branch comment, split as the shell splits them."""
    return dict(_attrs_of(text))


@lru_cache(maxsize=1024)  # the same comments are read each time a skill is parsed
def _attrs_of(text: str) -> tuple[tuple[str, str], ...]:
    if '"' in text or "'" in text or "\\" in text:  # quoting: the shell's rules
        try:
            parts = shlex.split(text)
        except ValueError:
            parts = text.split()
    else:  # nothing quoted or escaped: shlex would split on its white space alone
        parts = [p for p in _SHLEX_SPACE.split(text) if p]
    out = {}
    for p in parts:
        k, sep, v = p.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return tuple(out.items())


# ---- the rules every written skill must pass -------------------------------------------------------
ALLOWED_TOP_LEVEL = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")
MAX_STEP_CHARS = 300
MAX_NAME_WORDS = 5


def check_written(skill: Skill, *, task: str | None = None, new: bool = False,
                  keep_keys: tuple[str, ...] = (), runbook: bool = True) -> None:
    """Raise :class:`~skilllab.errors.InvalidSkill` naming the first rule ``skill`` breaks.

    The Agent Skills reference rules (a valid ``name`` equal to its folder, a ``description`` of
    1 to 1024 characters, only the allowed top-level keys, ``metadata`` of strings), the sections a
    person expects, a Steps section with at least one step, no step longer than 300 characters,
    and, for a new skill, a name of at most five words and a description that says more than the
    task it came from (``runbook=False`` checks the format rules only). ``keep_keys`` are top-level keys a person added by hand to the previous
    version (kept, though the reference would not list them).
    """
    from .errors import InvalidSkill
    from .skill import REQUIRED_SECTIONS

    skill.validate(require_sections=True)
    extra = [k for k in skill.front if k not in ALLOWED_TOP_LEVEL and k not in keep_keys]
    if extra:
        raise InvalidSkill(f"front matter: {extra[0]!r} is not an Agent Skills top-level key "
                           f"(allowed: {', '.join(ALLOWED_TOP_LEVEL)}); put it under metadata")
    comp = skill.front.get("compatibility")
    if comp is not None and (not isinstance(comp, str) or len(comp) > 500):
        raise InvalidSkill("compatibility: must be a string of at most 500 characters")
    for h in REQUIRED_SECTIONS:
        if not skill.has_section(h):
            raise InvalidSkill(f"body: missing section {h!r}")
    rb = Runbook.of(skill)
    steps = rb.all_steps() or skill.items(STEPS)
    if not steps:
        raise InvalidSkill("Steps: no step")
    if not runbook:
        return  # a remembered task (the baseline arm): the format rules only
    for s in steps:
        if len(s) > MAX_STEP_CHARS:
            raise InvalidSkill(f"Steps: a step of {len(s)} characters (at most {MAX_STEP_CHARS}; keep long scripts "
                               f"as files under scripts/): {s[:60]!r}...")
    if new:
        words = [w for w in skill.name.split("-") if not w.isdigit()]  # a "-2" suffix is not a word
        if len(words) > MAX_NAME_WORDS:
            raise InvalidSkill(f"name: {skill.name!r} has {len(words)} words; use at most {MAX_NAME_WORDS} "
                               "(verb, object, the cause that tells it apart)")
        if task:
            t, d = " ".join(task.split()).lower(), " ".join(skill.description.split()).lower()
            if d.rstrip(".") == t.rstrip(".") or (len(t) >= 200 and t[:200] in d):
                raise InvalidSkill("description: it repeats the task; say what the skill does and when to use it "
                                   "in one or two sentences")
