"""The skill document: one ``SKILL.md`` per skill, valid under the Agent Skills specification.

A skill is YAML front matter (``name``, ``description``, ``metadata`` and whatever else a person
added) followed by a Markdown body of ``## `` sections: When to use, Steps, What worked, What
didn't work, Changelog. skilllab's own fields live under ``metadata`` as strings, prefixed
``skilllab.``.

Round trip: a parsed document that was not changed renders back byte for byte (the original
text is kept and reused). A changed document re-renders only what changed: untouched sections
keep their exact text, extra sections and extra front-matter keys are kept in place.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidSkill, SkillParseError
from .names import validate_skill_name

WHEN_TO_USE = "When to use"
STEPS = "Steps"
WHAT_WORKED = "What worked"
WHAT_DIDNT = "What didn't work"
CHANGELOG = "Changelog"
REQUIRED_SECTIONS = (WHEN_TO_USE, STEPS, WHAT_WORKED, WHAT_DIDNT, CHANGELOG)

STATUSES = ("active", "deprecated", "review")
META_PREFIX = "skilllab."
MAX_DESCRIPTION = 1024

_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_HEADING_RE = re.compile(r"^## +(.+?)\s*$")
_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_SEEN_AS_LINE = re.compile(r"^\s*[-*]\s*Seen as:", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)  # a handful of headings, compared for every section a skill is asked for
def _norm_heading(h: str) -> str:
    return re.sub(r"\s+", " ", h.replace("\u2019", "'")).strip().lower()


def today() -> str:
    return _dt.datetime.now(_dt.UTC).date().isoformat()


@dataclass(frozen=True)
class Section:
    heading: str
    raw: str  # the exact text after the heading line, up to the next heading

    @property
    def text(self) -> str:
        return self.raw.strip("\n")


# the C loader when PyYAML was built with libyaml (8x faster), else the pure-Python one; both safe
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DUMP: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 100_000, "default_flow_style": False}


def front_matter(front: dict[str, Any]) -> str:
    """``yaml.safe_dump(front)`` as skilllab writes front matter, put together entry by entry. A
    block mapping is its entries one after the other, and the same name, description and
    metadata entries come back write after write, so each entry's YAML is kept; a front matter
    of any other shape is dumped whole."""
    parts: list[str] = []
    for k, v in front.items():
        if isinstance(k, str) and isinstance(v, str):
            parts.append(_yaml_entry(k, v))
        elif (k == "metadata" and isinstance(v, dict) and v
              and all(isinstance(a, str) and isinstance(b, str) for a, b in v.items())):
            parts.append("metadata:\n" + "".join(_yaml_meta_entry(a, b) for a, b in v.items()))
        else:
            return str(yaml.safe_dump(front, **_DUMP))
    return "".join(parts) if parts else str(yaml.safe_dump(front, **_DUMP))


@functools.lru_cache(maxsize=1024)
def _yaml_entry(key: str, value: str) -> str:
    return str(yaml.safe_dump({key: value}, **_DUMP))


@functools.lru_cache(maxsize=2048)
def _yaml_meta_entry(key: str, value: str) -> str:
    return str(yaml.safe_dump({"metadata": {key: value}}, **_DUMP))[len("metadata:\n"):]


def _copy_tree(obj: Any) -> Any:
    """A deep copy of front matter (mappings, lists and scalars as YAML gives them), without
    ``copy.deepcopy``'s memo; anything else is copied by ``copy.deepcopy``."""
    if isinstance(obj, dict):
        return {k: _copy_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy_tree(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool, bytes)):
        return obj
    return copy.deepcopy(obj)


class Skill:
    """One skill document. Build with :meth:`new` or :meth:`parse`; write with :meth:`render`."""

    def __init__(self, front: dict[str, Any], preamble: str = "", sections: list[Section] | None = None):
        self.front = dict(front)
        self.preamble = preamble
        self.sections: list[Section] = list(sections or [])
        self._raw: str | None = None
        self._snapshot: tuple[dict[str, Any], str, tuple[Section, ...]] | None = None

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def new(
        cls,
        name: str,
        description: str,
        *,
        agent: str,
        when_to_use: str,
        steps: list[str],
        worked: list[str],
        dead_ends: list[str],
        source: str | None = None,
        date: str | None = None,
        changelog: str = "created",
    ) -> Skill:
        """A fresh version-1 skill with every required section."""
        date = date or today()
        meta = {
            f"{META_PREFIX}version": "1",
            f"{META_PREFIX}agent": agent,
            f"{META_PREFIX}status": "active",
            f"{META_PREFIX}created": date,
            f"{META_PREFIX}updated": date,
            f"{META_PREFIX}sources": source or "",
        }
        skill = cls({"name": name, "description": description, "metadata": meta}, f"\n# {name}\n\n")
        skill.set_section(WHEN_TO_USE, when_to_use)
        skill.set_list(STEPS, steps, numbered=True)
        skill.set_list(WHAT_WORKED, worked)
        skill.set_list(WHAT_DIDNT, dead_ends)
        skill.set_section(CHANGELOG, "")
        skill.add_changelog(changelog, source=source, date=date)
        return skill

    @classmethod
    def parse(cls, text: str, path: object = "<string>") -> Skill:
        """Parse a SKILL.md text. Raises :class:`SkillParseError` naming ``path`` and the reason."""
        fm_text, body = _split_front_matter(text, path)
        try:
            front = yaml.load(fm_text, Loader=_YAML_LOADER) if fm_text.strip() else None
        except yaml.YAMLError:
            try:  # the pure-Python loader says what is wrong more plainly; errors are rare, so ask it
                yaml.load(fm_text, Loader=yaml.SafeLoader)
            except yaml.YAMLError as plain:
                exc = plain
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise SkillParseError(path, f"invalid YAML front matter{where}: {what}") from None
        if not isinstance(front, dict):
            raise SkillParseError(path, "front matter must be a YAML mapping with name and description")
        for key in ("name", "description"):
            if not isinstance(front.get(key), str) or not front[key].strip():
                raise SkillParseError(path, f"front matter field '{key}' is missing or not a string")
        meta = front.get("metadata", {})
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise SkillParseError(path, "front matter field 'metadata' must be a mapping")
        # The spec says string -> string; accept scalars written by hand and read them as strings.
        front["metadata"] = {str(k): "" if v is None else str(v) for k, v in meta.items()}
        preamble, sections = _split_sections(body)
        skill = cls(front, preamble, sections)
        skill._raw = text
        skill._snapshot = skill._state()
        return skill

    @classmethod
    def read(cls, path: Path) -> Skill:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SkillParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        return cls.parse(text, path)

    def copy(self) -> Skill:
        other = Skill(_copy_tree(self.front), self.preamble, list(self.sections))
        other._raw, other._snapshot = self._raw, self._snapshot
        return other

    # ---- rendering ------------------------------------------------------------------------
    def _state(self) -> tuple[dict[str, Any], str, tuple[Section, ...]]:
        return (_copy_tree(self.front), self.preamble, tuple(self.sections))

    @property
    def changed(self) -> bool:
        return self._raw is None or self._state() != self._snapshot

    def render(self) -> str:
        """The document as text; identical to the parsed text when nothing changed."""
        if not self.changed:
            return self._raw  # type: ignore[return-value]
        fm = front_matter(self.front)
        body = self.preamble + "".join(f"## {s.heading}\n{s.raw}" for s in self.sections)
        return f"---\n{fm}---\n{body.rstrip()}\n"

    def body(self) -> str:
        """The Markdown after the front matter, as :meth:`render` writes it."""
        return _split_front_matter(self.render(), self.name)[1]

    # ---- front matter ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.front["name"])

    @property
    def description(self) -> str:
        return str(self.front["description"])

    @description.setter
    def description(self, value: str) -> None:
        self.front["description"] = value

    @property
    def metadata(self) -> dict[str, str]:
        meta: dict[str, str] = self.front.setdefault("metadata", {})
        return meta

    def meta(self, key: str, default: str = "") -> str:
        return self.metadata.get(META_PREFIX + key, default)

    def set_meta(self, key: str, value: str) -> None:
        self.metadata[META_PREFIX + key] = str(value)

    @property
    def version(self) -> int:
        try:
            return int(self.meta("version", "1"))
        except ValueError:
            return 1

    @property
    def status(self) -> str:
        return self.meta("status", "active") or "active"

    @property
    def sources(self) -> list[str]:
        return self.meta("sources").split()

    def add_source(self, session_id: str) -> None:
        srcs = self.sources
        if session_id not in srcs:
            srcs.append(session_id)
        self.set_meta("sources", " ".join(srcs))

    # ---- sections -------------------------------------------------------------------------
    def _find(self, heading: str) -> int | None:
        key = _norm_heading(heading)
        for i, s in enumerate(self.sections):
            if _norm_heading(s.heading) == key:
                return i
        return None

    def has_section(self, heading: str) -> bool:
        return self._find(heading) is not None

    def section(self, heading: str) -> str:
        i = self._find(heading)
        return "" if i is None else self.sections[i].text

    def set_section(self, heading: str, text: str) -> None:
        text = text.strip("\n")
        raw = f"\n{text}\n\n" if text else "\n"
        i = self._find(heading)
        if i is None:
            self.sections.append(Section(heading, raw))
        elif self.sections[i].text != text:
            self.sections[i] = Section(self.sections[i].heading, raw)

    def items(self, heading: str) -> list[str]:
        """The list items of a section (bullets or numbers), continuation lines joined."""
        out: list[str] = []
        for line in self.section(heading).splitlines():
            m = _ITEM_RE.match(line)
            if m:
                out.append(m.group(1).strip())
            elif line.strip() and out and line.startswith((" ", "\t")):
                out[-1] += " " + line.strip()
        return out

    def set_list(self, heading: str, items: list[str], numbered: bool = False) -> None:
        lines = [f"{i}. {t}" if numbered else f"- {t}" for i, t in enumerate(items, 1)]
        self.set_section(heading, "\n".join(lines) if lines else "_None recorded yet._")

    def add_changelog(self, what: str, *, source: str | None = None, date: str | None = None) -> None:
        line = f"- {date or today()} v{self.version}: {what}"
        if source:
            line += f" (session {source})"
        current = self.section(CHANGELOG)
        self.set_section(CHANGELOG, f"{current}\n{line}" if current else line)

    # ---- checks ---------------------------------------------------------------------------
    def validate(self, *, require_sections: bool = False) -> None:
        """Raise :class:`InvalidSkill` naming the first field that breaks the format."""
        try:
            validate_skill_name(self.front.get("name"))
        except Exception as exc:
            raise InvalidSkill(f"name: {exc}") from None
        desc = self.front.get("description")
        if not isinstance(desc, str) or not desc.strip():
            raise InvalidSkill("description: must be a non-empty string")
        if len(desc) > MAX_DESCRIPTION:
            raise InvalidSkill(f"description: {len(desc)} characters, at most {MAX_DESCRIPTION}")
        meta = self.front.get("metadata", {})
        if not isinstance(meta, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
        ):
            raise InvalidSkill("metadata: must map strings to strings")
        if self.status not in STATUSES:
            raise InvalidSkill(f"metadata.skilllab.status: {self.status!r} is not one of {STATUSES}")
        if require_sections:
            missing = [h for h in REQUIRED_SECTIONS if not self.has_section(h)]
            if missing:
                raise InvalidSkill(f"body: missing section(s) {', '.join(missing)}")
            if not self.items(STEPS):
                raise InvalidSkill("body: section Steps has no list items")

    def search_text(self, with_examples: bool = True) -> str:
        """What the index embeds as the skill's own text: the name, the description and when to use
        the skill (without its "Seen as" example phrasings when ``with_examples`` is false; the
        index holds those as documents of their own)."""
        title = self.name.replace("-", " ")
        when = self.section(WHEN_TO_USE)
        if not with_examples:
            when = "\n".join(line for line in when.splitlines() if not _SEEN_AS_LINE.match(line)).strip()
        text = f"{title}. {self.description}\n{when}".strip()
        # placeholders such as <namespace> read as plain words to the embedder
        return re.sub(r"<([a-z][a-z_-]*)>", r"\1", text)


def _split_front_matter(text: str, path: object) -> tuple[str, str]:
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise SkillParseError(path, "no YAML front matter: the file must start with a '---' line")
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    raise SkillParseError(path, "front matter is not closed by a '---' line")


def _split_sections(body: str) -> tuple[str, list[Section]]:
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in body.splitlines(keepends=True):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING_RE.match(line.rstrip("\r\n"))
        if m:
            sections.append((m.group(1), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return "".join(preamble), [Section(h, "".join(ls)) for h, ls in sections]
