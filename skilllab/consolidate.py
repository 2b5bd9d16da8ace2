"""Consolidation: split skills that hold unrelated problems, merge skills that duplicate each other.

Distillation decides one session at a time; a library can still drift into shapes no single
decision would choose. :func:`plan` looks at an agent's whole library and proposes:

* **split** -- a skill whose branches (one per cause and fix, see :mod:`skilllab.runbook`) fall
  into two or more groups whose source tasks read differently: the centroids of the branches'
  source tasks are linked when their cosine is at least ``split_similarity`` (the bar a new branch
  had to clear to join, see the extractive distiller), and each connected group that does not
  hold the skill's largest share of sources becomes a skill of its own. The source tasks come from
  the ``sessions`` given (a replay passes the sessions it has replayed; ``skilllab consolidate
  --sessions FILE`` reads a corpus); a branch whose sources are unknown stays where it is.
* **merge** -- two skills whose texts (description, when to use, phrasings) are close (cosine at
  least ``merge_similarity``) and that share a fix (a branch with the same resolution key): the
  one with fewer sources is folded into the other, branch by branch.

:func:`apply` carries out a plan, each split or merge as one commit (``Agent.apply_change``):
sources, phrasings, branches and dead ends move with their branch; a removed name is kept in the
surviving skill's ``skilllab.aliases`` so tools that remember it still find it
(``Agent.resolve``) and ``skilllab skills history`` follows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import phrasings as phrasings_mod
from .names import slugify, validate_skill_name
from .runbook import Branch, Runbook
from .skill import WHAT_DIDNT, WHAT_WORKED, WHEN_TO_USE, Skill

if TYPE_CHECKING:
    from .library import Agent


SPLIT_SIMILARITY = 0.5
MERGE_SIMILARITY = 0.85
MAX_PHRASINGS = 24


@dataclass
class Split:
    skill: str
    stays: list[str]  # branch ids that stay in the skill
    parts: list[tuple[str, list[str]]]  # (new skill name, branch ids) for each group that leaves
    similarity: float  # the highest cosine between a leaving group and the staying one

    def line(self) -> str:
        moved = "; ".join(f"{name} <- {', '.join(ids)}" for name, ids in self.parts)
        why = f" (task similarity {self.similarity:.2f})" if self.similarity == self.similarity else ""
        return f"split {self.skill}: keeps {', '.join(self.stays)}; {moved}{why}"


@dataclass
class Merge:
    into: str
    absorbed: str
    similarity: float
    shared: list[str]  # resolution keys both skills have
    moved: dict[str, str] = field(default_factory=dict)  # absorbed branch id -> its id in ``into`` (set by apply)

    def line(self) -> str:
        sim = f"similarity {self.similarity:.2f}; " if self.similarity == self.similarity else ""
        return f"merge {self.absorbed} into {self.into} ({sim}same fix: {', '.join(self.shared)})"


@dataclass
class Plan:
    splits: list[Split] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [s.line() for s in self.splits] + [m.line() for m in self.merges] + self.notes

    def __bool__(self) -> bool:
        return bool(self.splits or self.merges)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _skill_text(agent: Agent, skill: Skill) -> str:
    return "\n".join([skill.description, skill.section(WHEN_TO_USE), *agent.phrasings(skill.name)[:8]])


def plan(agent: Agent, sessions: Mapping[str, str] | None = None, *, split_similarity: float = SPLIT_SIMILARITY,
         merge_similarity: float = MERGE_SIMILARITY, proposer: Any=None) -> Plan:
    """What :func:`apply` would do to ``agent``'s library; ``sessions`` maps session id -> task.

    ``proposer``: an object with ``propose_consolidation(agent, sessions)`` (the ``llm``
    distiller) whose validated proposals replace the rules above."""
    if proposer is not None:
        return _proposed(agent, proposer, sessions)
    skills = {i.name: agent.get(i.name) for i in agent.list(include_deprecated=False)}
    out = Plan()
    taken: set[str] = set()
    names = set(skills)
    if sessions is None:
        out.notes.append("splits need the source sessions' tasks (--sessions); only merges were looked for")
    else:
        for name, skill in sorted(skills.items()):
            sp = _split_of(agent, skill, sessions, split_similarity, names)
            if sp is not None:
                out.splits.append(sp)
                taken.add(name)
                names.update(n for n, _ in sp.parts)
    active = [n for n in sorted(skills) if n not in taken]
    if len(active) >= 2:
        vecs = agent.embedder.embed([_skill_text(agent, skills[n]) for n in active])
        vecs = np.stack([_unit(v) for v in vecs])
        sims = vecs @ vecs.T
        keys = {n: {b.key for b in Runbook.of(skills[n]).branches if b.key} for n in active}
        pairs = sorted(((float(sims[i, j]), a, b) for i, a in enumerate(active) for j, b in enumerate(active)
                        if i < j and sims[i, j] >= merge_similarity and keys[a] & keys[b]), reverse=True)
        for sim, a, b in pairs:
            if a in taken or b in taken:
                continue
            into, gone = sorted((a, b), key=lambda n: _seniority(agent, skills[n]))
            out.merges.append(Merge(into, gone, sim, sorted(keys[a] & keys[b])))
            taken.update((a, b))
    return out


def _proposed(agent: Agent, proposer: Any, sessions: Any) -> Plan:
    splits, merges, usage = proposer.propose_consolidation(agent, sessions)
    out = Plan(notes=[f"proposed by {getattr(proposer, 'name', 'a model')} ({usage.get('llm_calls', 0)} calls)"])
    names = {i.name for i in agent.list()}
    for name, groups in splits:
        rb = Runbook.of(agent.get(name))
        parts = []
        for ids in groups:
            new = _new_name([rb.branch_named(i) for i in ids], [(sessions or {}).get(s, "") for i in ids
                                                           for s in rb.branch_named(i).sources], names)
            names.add(new)
            parts.append((new, list(ids)))
        moved = {i for g in groups for i in g}
        out.splits.append(Split(name, [b.id for b in rb.branches if b.id not in moved], parts, float("nan")))
    for into, gone in merges:
        ka = {b.key for b in Runbook.of(agent.get(into)).branches if b.key}
        kb = {b.key for b in Runbook.of(agent.get(gone)).branches if b.key}
        out.merges.append(Merge(into, gone, float("nan"), sorted(ka & kb)))
    return out


def _seniority(agent: Agent, skill: Skill) -> tuple[Any, ...]:
    """Which of two duplicates keeps its name: more sources, then the older one (created first,
    then first committed)."""
    hist = agent.history(skill.name)
    return (-len(skill.sources), skill.meta("created"), hist[0].date if hist else "", skill.name)


def _split_of(agent: Agent, skill: Skill, sessions: Mapping[str, str], threshold: float, names: set[str]) -> Split | None:
    rb = Runbook.of(skill)
    known = [(b, [sessions[s] for s in b.sources if s in sessions]) for b in rb.branches]
    known = [(b, texts) for b, texts in known if texts]
    if len(known) < 2:
        return None
    cents = [_unit(np.mean(agent.embedder.embed(texts), axis=0)) for _, texts in known]
    n = len(known)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = np.array([[float(cents[i] @ cents[j]) for j in range(n)] for i in range(n)])
    for i in range(n):
        for j in range(i + 1, n):
            if sims[i, j] >= threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    if len(groups) < 2:
        return None
    ordered = sorted(groups.values(), key=lambda g: -sum(len(known[i][0].sources) for i in g))
    stay = ordered[0]
    stays = [known[i][0].id for i in stay] + [b.id for b in rb.branches if b.id not in {k[0].id for k in known}]
    parts = []
    for g in ordered[1:]:
        name = _new_name([known[i][0] for i in g], [t for i in g for t in known[i][1]], names)
        names.add(name)
        parts.append((name, [known[i][0].id for i in g]))
    best = max(float(sims[i, j]) for g in ordered[1:] for i in g for j in stay)
    return Split(skill.name, stays, parts, best)


def _new_name(branches: list[Branch], tasks: list[str], taken: set[str]) -> str:
    from .distill.transcript import symptom_words

    words = [w for w in re.findall(r"[a-z0-9]+", _plain(branches[0].title).lower())
             if w not in ("the", "a", "an", "and", "of", "its", "their", "kubectl")]
    head = list(dict.fromkeys(words))[:3] or ["handle"]
    cause = [w for w in symptom_words(" ".join(tasks[:5])) if w not in head][: max(0, 5 - len(head))][:2]
    base = slugify(" ".join(head + cause), max_len=48) or "split-skill"
    name, i = base, 2
    while name in taken:
        name = f"{base[:44]}-{i}"
        i += 1
    return validate_skill_name(name)


def apply(agent: Agent, p: Plan, *, sessions: Mapping[str, str] | None = None, when: float | None = None,
          date: str | None = None) -> list[str]:
    """Carry out ``p`` (each split or merge one commit); returns the commit ids."""
    import datetime as _dt

    date = date or _dt.date.today().isoformat()
    out = []
    for sp in p.splits:
        out.append(_apply_split(agent, sp, sessions or {}, when, date))
    for m in p.merges:
        out.append(_apply_merge(agent, m, when, date))
    return [c for c in out if c]


def _plain(title: str) -> str:
    """A branch heading without its ``Fix:`` prefix."""
    return re.sub(r"^\s*fix:\s*", "", title, flags=re.IGNORECASE).strip()


def _branch_items(skill: Skill, section: str, branch: Branch) -> list[str]:
    return [w for w in skill.items(section) if _plain(branch.title).lower() in w.lower()]


def _apply_split(agent: Agent, sp: Split, sessions: Mapping[str, str], when: Any, date: str) -> str | None:
    skill = agent.get(sp.skill)
    rb = Runbook.of(skill)
    phr = agent.phrasings(skill.name)
    writes: list[tuple[Skill, dict[str, str | bytes]]] = []
    staying = Runbook(steps=list(rb.steps), branches=[b for b in rb.branches if b.id in sp.stays], notes=rb.notes)
    # phrasings go to the group whose sources' tasks they read most like
    groups = [staying.branches] + [[rb.branch_named(i) for i in ids] for _, ids in sp.parts]
    cents = []
    for g in groups:
        texts = [sessions[s] for b in g for s in b.sources if s in sessions] or [b.title for b in g]
        cents.append(_unit(np.mean(agent.embedder.embed(texts), axis=0)))
    owner = [int(np.argmax([float(_unit(v) @ c) for c in cents])) for v in agent.embedder.embed(phr)] if phr else []
    for gi, (name, ids) in enumerate(sp.parts, 1):
        branches = [rb.branch_named(i) for i in ids]
        mine = [p for p, o in zip(phr, owner) if o == gi]
        when_text = mine[0] if mine else skill.section(WHEN_TO_USE).splitlines()[0]
        sources = list(dict.fromkeys(s for b in branches for s in b.sources))
        new = Skill.new(name, _description(_plain(branches[0].title), when_text), agent=agent.id, when_to_use=when_text,
                        steps=["placeholder"], worked=[w for b in branches for w in _branch_items(skill, WHAT_WORKED, b)]
                        or [f"{_plain(branches[0].title)} (from {skill.name})"],
                        dead_ends=[d for d in skill.items(WHAT_DIDNT) if d != "_None recorded yet._"], source=None,
                        date=date)
        new.set_meta("sources", " ".join(sources))
        Runbook(steps=list(rb.steps), branches=branches).apply(new)
        new.add_changelog(f"split from {skill.name}: {', '.join(_plain(b.title) for b in branches)}", date=date)
        files: dict[str, str | bytes] = {phrasings_mod.PHRASINGS_FILE: phrasings_mod.render(mine or [when_text])}
        for b in branches:
            for step in b.fix:
                m = re.search(r"scripts/([A-Za-z0-9._-]+)", step)
                data = agent.store.read_bundled(skill.name, f"scripts/{m.group(1)}") if m else None
                if m is not None and data is not None:
                    files[f"scripts/{m.group(1)}"] = data
        writes.append((new, files))
    moved = {i for _, ids in sp.parts for i in ids}
    left = skill.copy()
    staying.apply(left)
    left.set_list(WHAT_WORKED, [w for w in skill.items(WHAT_WORKED)
                                if not any(_plain(rb.branch_named(i).title).lower() in w.lower() for i in moved)]
                  or skill.items(WHAT_WORKED))
    gone = {s for i in moved for s in rb.branch_named(i).sources} - {s for b in staying.branches for s in b.sources}
    left.set_meta("sources", " ".join(s for s in skill.sources if s not in gone))
    left.set_meta("version", str(skill.version + 1))
    left.set_meta("updated", date)
    left.add_changelog(f"split: {', '.join(n for n, _ in sp.parts)} now hold "
                       f"{', '.join(_plain(rb.branch_named(i).title) for i in sorted(moved))}", date=date)
    kept = [p for p, o in zip(phr, owner) if o == 0] or phr[:1]
    writes.insert(0, (left, {phrasings_mod.PHRASINGS_FILE: phrasings_mod.render(kept)} if phr else {}))
    return agent.apply_change(writes, [], f"split {skill.name}: {', '.join(n for n, _ in sp.parts)} "
                                          f"(branches whose tasks read differently)", when=when)


def _description(title: str, when_text: str) -> str:
    when = " ".join(when_text.split())[:300]
    when = when[0].lower() + when[1:] if when and not when[:2].isupper() else when
    return f"{title.rstrip('.')}. Use when {when.rstrip('.')}."[:1024]


def _apply_merge(agent: Agent, m: Merge, when: Any, date: str) -> str | None:
    a, b = agent.get(m.into), agent.get(m.absorbed)
    ra, rb = Runbook.of(a), Runbook.of(b)
    for br in rb.branches:
        mine = ra.find(br.keys)
        if mine is not None:
            mine.sources = list(dict.fromkeys(mine.sources + br.sources))
            mine.dead_ends = list(dict.fromkeys(mine.dead_ends + br.dead_ends))
            m.moved[br.id] = mine.id
        else:
            ids = {x.id for x in ra.branches}
            new_id, i = br.id, 2
            while new_id in ids:
                new_id, i = f"{br.id}-{i}", i + 1
            m.moved[br.id] = new_id
            br.id = new_id
            ra.branches.append(br)
    merged = a.copy()
    ra.apply(merged)
    for section in (WHAT_WORKED, WHAT_DIDNT):
        items = [x for x in dict.fromkeys(a.items(section) + b.items(section)) if x != "_None recorded yet._"]
        merged.set_list(section, items or ["_None recorded yet._"])
    merged.set_meta("sources", " ".join(dict.fromkeys(a.sources + b.sources)))
    aliases = [x for x in dict.fromkeys(a.meta("aliases").split() + [b.name] + b.meta("aliases").split())
               if x != a.name]
    merged.set_meta("aliases", " ".join(aliases))
    merged.set_meta("version", str(a.version + 1))
    merged.set_meta("updated", date)
    merged.add_changelog(f"merged {b.name} (v{b.version}, {len(b.sources)} sources): same fix "
                         f"{', '.join(m.shared)}", date=date)
    phr = list(dict.fromkeys(agent.phrasings(a.name) + agent.phrasings(b.name)))[:MAX_PHRASINGS]
    files: dict[str, str | bytes] = {phrasings_mod.PHRASINGS_FILE: phrasings_mod.render(phr)} if phr else {}
    for rel in agent.store.bundled_files(b.name):
        if rel.startswith("scripts/") and agent.store.read_bundled(a.name, rel) is None:
            data = agent.store.read_bundled(b.name, rel)
            if data is not None:
                files[rel] = data
    return agent.apply_change([(merged, files)], [b.name],
                              f"merge {b.name} into {a.name} (same fix: {', '.join(m.shared)})", when=when)


__all__ = ["MERGE_SIMILARITY", "SPLIT_SIMILARITY", "Merge", "Plan", "Split", "apply", "plan"]
