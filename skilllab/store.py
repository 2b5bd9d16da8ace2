"""The files of one agent: ``LIBRARY/<agent_id>/skills/<name>/SKILL.md``, kept in git.

:class:`AgentStore` is the only code that builds paths from names. Every path it returns is
checked to lie inside the agent's folder, with no symlink on the way; writes are atomic and
each change is one commit.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dulwich.objects import Commit as GitCommit
from dulwich.objects import Tree

from ._fs import atomic_write, stat_sig
from .errors import SkilllabError, SkillNotFound, SkillParseError, UnsafePath
from .history import GITIGNORE, Commit, GitHistory
from .names import validate_agent_id, validate_skill_name
from .skill import Skill

SKILL_FILE = "SKILL.md"
RACY_NS = 50_000_000  # a file hashed within 50 ms of its last change is hashed again next time


def _still_valid(memo: tuple[tuple[int, int, int, int], Any, int] | None, st: os.stat_result) -> bool:
    """Whether what was kept of a file (its stat signature, what was read, when it was read) still
    holds: the stat is the same and the read came after the file's last change by more than
    :data:`RACY_NS` (a change in the same clock tick would not show in the stat: git's "racily
    clean")."""
    return (memo is not None and memo[0] == stat_sig(st)
            and memo[2] - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS)


_BUNDLED_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest().encode()


@dataclass(frozen=True)
class Problem:
    """A skill folder skilllab could not use, left untouched on disk."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Version:
    """One commit in a skill's history. ``rev`` counts from 1; ``version`` is the skill's own."""

    rev: int
    commit: str
    date: str
    message: str
    version: int | None  # None when the file was deleted in that commit or did not parse
    sources: tuple[str, ...]
    deleted: bool


@dataclass(frozen=True)
class Change:
    """One change to an agent's files, decided in full before anything is written: every path
    (relative to the agent's folder) with the bytes it will hold, or None where it is removed;
    the skill folders removed whole; the commit message. Kept in ``state/intent.json`` while it
    is applied, so a crash part-way is finished (rolled forward) by the next writer."""

    files: dict[str, bytes | None]
    drop: tuple[str, ...]
    message: str
    when: float | None = None

    def to_json(self) -> dict[str, Any]:
        files: dict[str, dict[str, Any] | None] = {}
        for rel, data in self.files.items():
            if data is None:
                files[rel] = None
            else:
                try:
                    files[rel] = {"text": data.decode("utf-8")}
                except UnicodeDecodeError:
                    files[rel] = {"base64": base64.b64encode(data).decode("ascii")}
        return {"message": self.message, "when": self.when, "files": files, "drop": list(self.drop)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Change:
        files: dict[str, bytes | None] = {}
        for rel, v in d["files"].items():
            if v is None:
                files[rel] = None
            elif "text" in v:
                files[rel] = v["text"].encode("utf-8")
            else:
                files[rel] = base64.b64decode(v["base64"])
        return cls(files, tuple(d.get("drop") or ()), d["message"], d.get("when"))


class AgentStore:
    def __init__(self, library_root: Path, agent_id: str, *, durable: bool = True):
        self.agent_id = validate_agent_id(agent_id)
        self.durable = durable  # each file write flushed to the disk (see Library)
        root = Path(library_root).absolute()
        self.library_root = root
        self._root_str = os.fspath(root)
        self.root = root / self.agent_id
        self.skills_dir = self.root / "skills"
        self.git = GitHistory(self.root, guard=self.path, durable=durable)
        self._parsed: dict[str, tuple[bytes, Skill]] = {}  # name -> (content digest, parsed skill) of its file now
        # what git's index does for ``git status``: each SKILL.md's blob id with the file's stat when
        # it was hashed, and the blob ids of the last commit (by commit), so looking for hand edits
        # before a write hashes only the files whose stat changed
        self._blob_memo: dict[str, tuple[tuple[int, int, int, int], bytes, int]] = {}
        self._tracked_memo: tuple[str, dict[str, bytes]] | None = None
        self._file_memo: dict[str, tuple[tuple[int, int, int, int], bytes, int]] = {}  # path -> (stat, bytes, read at)

    # ---- paths ------------------------------------------------------------------------------
    def _check_inside(self, path: Path) -> Path:
        """Refuse symlinks anywhere from the library root down to ``path``. With no link on the way
        and no ``..`` in it, the path cannot resolve outside the agent's folder, so one ``lstat``
        per existing component is the whole check (no ``realpath``; string operations, not pathlib,
        as this runs for every file skilllab touches)."""
        root = self._root_str
        s = os.fspath(path)
        parts = s[len(root) + 1:].split(os.sep) if s.startswith(root + os.sep) else []
        if not parts or ".." in parts or parts[0] != self.agent_id:
            raise UnsafePath(f"{path}: resolves outside agent {self.agent_id!r}'s folder")
        cur = root
        for part in parts:
            cur = cur + os.sep + part
            try:
                mode = os.lstat(cur).st_mode
            except FileNotFoundError:
                break  # nothing below a missing folder exists either
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                raise UnsafePath(f"{cur}: is a symlink; skilllab does not follow links out of "
                                 f"agent {self.agent_id!r}'s folder")
        return path

    def path(self, rel: str) -> Path:
        """A path inside the agent's folder (``index/...``, ``state/ledger.jsonl``, ``.git``...),
        refused with one error naming it when it, or any folder on the way, is a link or resolves
        outside the agent's folder. Every file skilllab opens under an agent comes through here."""
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise UnsafePath(f"{rel!r}: not a path inside agent {self.agent_id!r}'s folder")
        return self._check_inside(self.root / rel)

    @staticmethod
    def _valid_name(name: str) -> str:
        if isinstance(name, str) and ("/" in name or "\\" in name or name.startswith(".")):
            raise UnsafePath(f"skill name {name!r} is a path; give a bare skill name")
        return validate_skill_name(name)

    def skill_dir(self, name: str) -> Path:
        """The folder of skill ``name``; the name is validated first (no '..', '/', absolute)."""
        return self._check_inside(self.skills_dir / self._valid_name(name))

    def shown_path(self, name: str) -> str:
        """Where skill ``name``'s SKILL.md is, as text to show (a search hit's path): the name is
        validated, nothing on disk is looked at; opening it goes through :meth:`skill_path`."""
        return os.path.join(self._root_str, self.agent_id, "skills", self._valid_name(name), SKILL_FILE)

    def skill_path(self, name: str) -> Path:
        return self._check_inside(self.skills_dir / self._valid_name(name) / SKILL_FILE)

    @staticmethod
    def relpath(name: str) -> str:
        return f"skills/{name}/{SKILL_FILE}"

    # ---- setup ------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the agent's folder and repository if they do not exist yet."""
        if self.root.exists():
            self._check_inside(self.root)
        self.skills_dir.mkdir(parents=True, exist_ok=True)
        self._check_inside(self.skills_dir)
        gi = self.root / ".gitignore"
        if self.git.head() is None:
            if not gi.exists():
                atomic_write(gi, GITIGNORE, durable=self.durable)
            self.git.commit([".gitignore"], f"init agent {self.agent_id}")

    def exists(self) -> bool:
        """Whether the agent has a folder (a repository, or skill folders put there by hand)."""
        return (self.root / ".git").is_dir() or self.skills_dir.is_dir()

    # ---- reading ----------------------------------------------------------------------------
    def scan(self) -> tuple[dict[str, bytes], list[Problem]]:
        """Raw bytes of every ``SKILL.md`` by folder name, and the folders that were refused."""
        found: dict[str, bytes] = {}
        problems: list[Problem] = []
        if not self.skills_dir.is_dir():
            return found, problems
        for entry in sorted(os.scandir(self.skills_dir), key=lambda e: e.name):
            p = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                problems.append(Problem(str(p), "is a symlink; refused (skills must be real folders)"))
                continue
            if not entry.is_dir():
                continue
            try:
                validate_skill_name(entry.name)
            except Exception as exc:
                problems.append(Problem(str(p), f"folder name is not a valid skill name: {exc}"))
                continue
            f = p / SKILL_FILE
            if f.is_symlink():
                problems.append(Problem(str(f), "is a symlink; refused"))
                continue
            try:
                found[entry.name] = f.read_bytes()
            except FileNotFoundError:
                problems.append(Problem(str(p), f"folder has no {SKILL_FILE}"))
        return found, problems

    def parse(self, name: str, data: bytes) -> Skill:
        path = self.skills_dir / name / SKILL_FILE
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SkillParseError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        skill = Skill.parse(text, path)
        if skill.name != name:
            raise SkillParseError(path, f"front matter name {skill.name!r} differs from folder name {name!r}")
        return skill

    def read(self, name: str) -> Skill:
        """The skill in its file now. Parsed once per content (a file that did not change is not
        parsed again); every call returns a copy the caller may change."""
        path = self.skill_path(name)
        try:
            data = self.read_file(path)
        except FileNotFoundError:
            raise SkillNotFound(f"agent {self.agent_id!r} has no skill {name!r}") from None
        digest = hashlib.blake2b(data, digest_size=16).digest()
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == digest:
            return cached[1].copy()
        skill = self.parse(name, data)
        self._parsed[name] = (digest, skill)  # one parse a skill: an older version's is dropped
        return skill.copy()

    # ---- writing ----------------------------------------------------------------------------
    def bundled_path(self, name: str, rel: str) -> Path:
        """A file bundled with skill ``name`` (``scripts/fix.sh``), checked to stay in its folder."""
        parts = rel.split("/")
        if (not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts)
                or not all(_BUNDLED_PART.fullmatch(p) for p in parts) or parts[-1] == SKILL_FILE):
            raise UnsafePath(f"bundled file {rel!r} of skill {name!r}: use a relative path like scripts/NAME.sh")
        return self._check_inside(self.skills_dir.joinpath(self._valid_name(name), *parts))

    def read_bundled(self, name: str, rel: str) -> bytes | None:
        """The bytes of a file bundled with skill ``name``, or None when it has none."""
        path = self.bundled_path(name, rel)  # refused when it, or a folder on the way, is a link
        try:
            return self.read_file(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_file(self, path: Path) -> bytes:
        """The bytes of a file of this agent (``path`` as :meth:`path` or :meth:`skill_path` gave
        it), read again only when its stat (mtime, size, inode, ctime) changed since it was last
        read, or when it was read so soon after it was written that a change in the same clock
        tick would not show in its stat (as :meth:`blob_ids` does)."""
        key = os.fspath(path)
        try:
            st = os.stat(key)
        except OSError:
            self._file_memo.pop(key, None)
            raise
        memo = self._file_memo.get(key)
        if memo is not None and _still_valid(memo, st):
            return memo[1]
        now = time.time_ns()
        with open(key, "rb") as fh:
            data = fh.read()
        self._file_memo[key] = (stat_sig(st), data, now)
        return data

    def bundled_files(self, name: str) -> list[str]:
        """The files bundled with skill ``name`` besides SKILL.md and the usage sidecar, relative."""
        d = self.skill_dir(name)
        if not d.is_dir():
            return []
        out = []
        for p in sorted(d.rglob("*")):
            rel = p.relative_to(d).as_posix()
            if p.is_file() and not p.is_symlink() and rel not in (SKILL_FILE, "usage.json") \
                    and not p.name.endswith(".tmp") and not p.name.startswith("."):
                out.append(rel)
        return out

    def plan_write(self, skill: Skill, message: str, when: float | None = None, *,
                   files: dict[str, str | bytes] | None = None, renamed_from: str | None = None) -> Change | None:
        """The change that writes the skill (and its bundled ``files``); None when the files on
        disk already hold exactly that. ``renamed_from`` moves that skill's folder to
        ``skill.name``: its bundled files are carried over and its old paths removed, in the same
        change, so the history of both names stays readable."""
        data = skill.render().encode("utf-8")
        blobs = {rel: (c.encode("utf-8") if isinstance(c, str) else c) for rel, c in (files or {}).items()}
        new_dir = f"skills/{skill.name}"
        out: dict[str, bytes | None] = {}
        drop: tuple[str, ...] = ()
        if renamed_from is not None and renamed_from != skill.name:
            old_dir = self.skill_dir(renamed_from)
            if not (old_dir / SKILL_FILE).exists():
                raise SkillNotFound(f"agent {self.agent_id!r} has no skill {renamed_from!r} to rename")
            if self.skill_dir(skill.name).exists():
                raise UnsafePath(f"cannot rename {renamed_from!r} to {skill.name!r}: that folder exists")
            for rel in self.bundled_files(renamed_from):
                content = self.read_bundled(renamed_from, rel)
                if content is not None:
                    out[f"{new_dir}/{rel}"] = content
                out[f"skills/{renamed_from}/{rel}"] = None
            out[self.relpath(renamed_from)] = None
            drop = (renamed_from,)
        for rel, b in blobs.items():
            self.bundled_path(skill.name, rel)  # validated: a path out of the skill folder is refused
            out[f"{new_dir}/{rel}"] = b
        out[self.relpath(skill.name)] = data
        change = Change(out, drop, message, when)
        return None if not drop and self.on_disk(change) else change

    def plan_change(self, writes: list[tuple[Skill, dict[str, str | bytes]]], deletes: list[str], message: str,
                    when: float | None = None) -> Change:
        """Several skills written (with their bundled files) and others removed, as one change: a
        split or a merge is one commit, whichever side a reader looks from."""
        out: dict[str, bytes | None] = {}
        for name in deletes:
            if not (self.skill_dir(name) / SKILL_FILE).exists():
                raise SkillNotFound(f"agent {self.agent_id!r} has no skill {name!r}")
            for rel in [SKILL_FILE, *self.bundled_files(name)]:
                out[f"skills/{name}/{rel}"] = None
        for skill, files in writes:
            for rel, c in (files or {}).items():
                self.bundled_path(skill.name, rel)
                out[f"skills/{skill.name}/{rel}"] = c.encode("utf-8") if isinstance(c, str) else c
            out[self.relpath(skill.name)] = skill.render().encode("utf-8")
        written = {sk.name for sk, _ in writes}
        return Change(out, tuple(n for n in deletes if n not in written), message, when)

    def plan_delete(self, name: str, message: str, when: float | None = None) -> Change:
        if not (self.skill_dir(name) / SKILL_FILE).exists():
            raise SkillNotFound(f"agent {self.agent_id!r} has no skill {name!r}")
        out: dict[str, bytes | None] = {f"skills/{name}/{r}": None for r in [SKILL_FILE, *self.bundled_files(name)]}
        return Change(out, (name,), message, when)

    def on_disk(self, change: Change) -> bool:
        """Whether the files already are as ``change`` leaves them."""
        for rel, data in change.files.items():
            try:
                if self.path(rel).read_bytes() != data:
                    return False
            except (FileNotFoundError, NotADirectoryError):
                if data is not None:
                    return False
        return all(not self.skill_dir(n).exists() for n in change.drop)

    def apply(self, change: Change) -> str | None:
        """Make the files what ``change`` says (each write atomic; running it again does nothing
        new) and commit the paths that differ from the last commit with its message. Returns the
        commit id, or None when the last commit already holds all of it."""
        for rel, data in change.files.items():
            path = self.path(rel)
            if data is None:
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
            else:
                atomic_write(path, data, durable=self.durable)
        for name in change.drop:
            d = self.skill_dir(name)
            if d.is_dir():
                for child in sorted(d.rglob("*"), reverse=True):
                    child.unlink() if not child.is_dir() or child.is_symlink() else child.rmdir()
                d.rmdir()
        head = self.git.head()
        memo = self._tracked_memo if self._tracked_memo is not None and self._tracked_memo[0] == head else None
        changed = []
        for rel, data in change.files.items():
            skill = self._skill_of(rel)
            if memo is not None and skill is not None:  # a SKILL.md: compared by blob id with the last commit
                if memo[1].get(skill) != (None if data is None else git_blob_id(data)):
                    changed.append(rel)
            elif self.differs_from_head(rel):
                changed.append(rel)
        if not changed:
            return None
        cid = self.git.commit(changed, change.message, change.when)
        if memo is not None and not change.drop:  # the new commit's blob ids, without reading its trees
            tracked = dict(memo[1])
            for rel, data in change.files.items():
                if (skill := self._skill_of(rel)) is not None:
                    if data is None:
                        tracked.pop(skill, None)
                    else:
                        tracked[skill] = git_blob_id(data)
            self._tracked_memo = (cid, tracked)
        return cid

    @staticmethod
    def _skill_of(rel: str) -> str | None:
        """The skill whose SKILL.md ``rel`` is (``skills/<name>/SKILL.md``), else None."""
        parts = rel.split("/")
        return parts[1] if len(parts) == 3 and parts[0] == "skills" and parts[2] == SKILL_FILE else None

    def _tracked(self) -> dict[str, bytes]:
        """The blob id of each skill's SKILL.md in HEAD (read from its trees once per commit)."""
        head = self.git.head()
        if head is None:
            return {}
        if self._tracked_memo is not None and self._tracked_memo[0] == head:
            return dict(self._tracked_memo[1])
        tracked: dict[str, bytes] = {}
        repo = self.git.repo
        tree = cast(Tree, repo[cast(GitCommit, repo[head.encode()]).tree])
        if b"skills" in tree:
            skills_tree = cast(Tree, repo[tree[b"skills"][1]])
            for item in skills_tree.items():
                sub = repo[item.sha]
                if isinstance(sub, Tree) and SKILL_FILE.encode() in sub:
                    tracked[item.path.decode()] = sub[SKILL_FILE.encode()][1]
        self._tracked_memo = (head, tracked)
        return dict(tracked)

    def blob_ids(self) -> dict[str, bytes]:
        """The git blob id of every skill folder's ``SKILL.md`` now (folders :meth:`scan` would
        refuse are left out). A file is read and hashed again only when its stat (mtime, size,
        inode, ctime) changed since it was last hashed, or when it was hashed so soon after it was
        written that a change in the same clock tick would not show in its stat ("racily
        clean", as git calls it)."""
        out: dict[str, bytes] = {}
        if not self.skills_dir.is_dir():
            return out
        now = time.time_ns()
        seen = self._blob_memo
        for entry in os.scandir(self.skills_dir):
            name = entry.name
            if name.startswith(".") or entry.is_symlink() or not entry.is_dir():
                continue
            try:
                validate_skill_name(name)
                st = os.lstat(os.path.join(entry.path, SKILL_FILE))
            except (SkilllabError, FileNotFoundError, NotADirectoryError):
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            memo = seen.get(name)
            if memo is not None and _still_valid(memo, st):
                out[name] = memo[1]
                continue
            try:
                with open(os.path.join(entry.path, SKILL_FILE), "rb") as fh:
                    blob = git_blob_id(fh.read())
            except FileNotFoundError:
                continue
            seen[name] = (stat_sig(st), blob, now)
            out[name] = blob
        for name in [n for n in seen if n not in out]:
            del seen[name]
        return out

    def differs_from_head(self, rel: str) -> bool:
        """Whether the file at ``rel`` (relative to the agent folder) differs from the last commit."""
        path = self.root / rel
        head = self.git.head()
        committed = self.git.read(rel, head) if head else None
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return committed is not None
        return committed != data

    def pending(self, name: str) -> str | None:
        """How skill ``name``'s file differs from the last commit: "added", "edited", "removed"
        (by hand, not yet committed) or None."""
        tracked = self._tracked().get(validate_skill_name(name))
        path = self.skills_dir / name / SKILL_FILE
        if not path.is_file():
            return "removed" if tracked is not None else None
        if tracked is None:
            return "added"
        return "edited" if git_blob_id(path.read_bytes()) != tracked else None

    def hand_changes(self, found: dict[str, bytes] | None = None) -> tuple[list[str], list[str]]:
        """Skills whose ``SKILL.md`` differs from the last commit (edited or added by hand), and
        skills the last commit has whose folder is gone (removed by hand). ``found`` (``scan``'s
        bytes by name) is used when the caller has read them; else the stat-cached blob ids."""
        tracked = self._tracked()
        now = self.blob_ids() if found is None else {n: git_blob_id(d) for n, d in found.items()}
        edited = sorted(n for n, blob in now.items() if tracked.get(n) != blob)
        gone = sorted(n for n in tracked if n not in now and not (self.skills_dir / n).is_symlink())
        return edited, gone

    def commit_untracked_changes(self, found: dict[str, bytes] | None = None) -> str | None:
        """Commit hand edits, hand-added and hand-deleted skill files so history stays whole
        (``found``: as :meth:`hand_changes` takes it)."""
        edited, gone = self.hand_changes(found)
        if not edited and not gone:
            return None
        parts = []
        if edited:
            parts.append("hand edit of " + ", ".join(sorted(edited)))
        if gone:
            parts.append("hand removal of " + ", ".join(sorted(gone)))
        msg = "; ".join(parts) + " (made by hand; committed before the next change)"
        return self.git.commit([self.relpath(n) for n in sorted(edited + gone)], msg)

    # ---- history ----------------------------------------------------------------------------
    def aliases(self, name: str) -> list[str]:
        """Earlier names of skill ``name`` (``metadata.skilllab.aliases``), oldest first."""
        try:
            skill = self.read(name)
        except (SkillNotFound, SkillParseError):
            return []
        return [a for a in skill.meta("aliases").split() if a != name]

    def history(self, name: str) -> list[Version]:
        """Every commit that touched the skill, oldest first, under its current name and every
        earlier name it had (a rename keeps the history reachable)."""
        name = validate_skill_name(name)
        seen: dict[str, tuple[Commit, str]] = {}
        order: list[str] = []
        for n in [*self.aliases(name), name]:
            for c in self.git.log(self.relpath(validate_skill_name(n))):
                if c.id not in seen:
                    order.append(c.id)
                seen[c.id] = (c, n) if (c.id not in seen or self.git.read(self.relpath(n), c.id) is not None) \
                    else seen[c.id]
        # commit order, not commit time: a replay commits at the sessions' own start times
        return [self._version(rev, seen[cid][0], seen[cid][1]) for rev, cid in enumerate(order, 1)]

    def _version(self, rev: int, c: Commit, name: str) -> Version:
        data = self.git.read(self.relpath(name), c.id)
        version: int | None = None
        sources: tuple[str, ...] = ()
        if data is not None:
            try:
                sk = self.parse(name, data)
                version, sources = sk.version, tuple(sk.sources)
            except SkillParseError:
                pass
        return Version(rev, c.id, c.date, c.message, version, sources, data is None)

    def read_at(self, name: str, commit: str) -> bytes | None:
        return self.git.read(self.relpath(validate_skill_name(name)), commit)
