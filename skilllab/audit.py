"""``skilllab audit``: prove that no secret reached disk, and clean a library where one did.

:func:`audit` walks folders (a library, a replay run folder, the embedding cache) and reports
every secret shape the redaction rules know (:mod:`skilllab.distill.redact`), as *path + kind*,
never the value. It reads:

* every file, as text (JSON files value by value; binary files such as the hnswlib index and the
  SQLite embedding cache as bytes decoded leniently);
* every object of every git repository it meets (each agent's ``.git``, the libraries inside run
  folders): blob contents, commit messages and authors, tree entry names, tags; a blob is reported
  under the path it has in the history, with the commit that first holds it;
* the reflog and the other plain files inside ``.git``.

A 40- or 64-character lowercase hexadecimal string is taken as a digest (skilllab's sidecars,
ledger and cache are full of content hashes and commit ids) and is not reported; the redaction on
write still removes one from anything a session gave. Symbolic links are reported (kind ``link``)
and never followed.

:func:`fix` cleans what :func:`audit` found, under each agent's lock: a text file is redacted in
place (atomically; JSON value by value so it stays JSON), a derived binary file (an index, the
embedding cache) is deleted to be rebuilt, and a git history holding a secret is rewritten: every
commit is copied with its blobs and message redacted into a fresh repository, which replaces the
old ``.git`` (the old objects are deleted, not kept), and the git index is rebuilt from the new
head. ``dry_run`` lists the same changes and makes none. This is the way to clean a library written
by a version of skilllab whose rules missed a shape.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from ._fs import atomic_write
from .distill.redact import find_secrets, redact, redact_obj, secret_key
from .errors import SkilllabError

_DIGEST = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_JSON_SUFFIXES = (".json",)
_JSONL_SUFFIXES = (".jsonl",)
# derived files a fix deletes rather than edits (they are rebuilt from the skill files)
_DERIVED_SUFFIXES = (".bin", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".db", ".npy")
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """One secret shape found: ``path`` (a file, or the path a git blob has in its history),
    ``kind`` (the rule that matched) and ``where`` (``file``, ``git blob``, ``git commit message``...,
    with the object id). Never the value."""
    path: str
    kind: str
    where: str = "file"
    count: int = 1
    repository: str = ""  # the working folder of the git repository the finding is in, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        n = f" ×{self.count}" if self.count > 1 else ""
        return f"{self.path}: {self.kind}{n} ({self.where})"


@dataclass
class AuditReport:
    """What :func:`audit` found and what it read."""
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    git_objects: int = 0
    repositories: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {"findings": [f.to_dict() for f in self.findings], "files": self.files,
                "git_objects": self.git_objects, "repositories": self.repositories}


def scan_text(text: str) -> dict[str, int]:
    """``{kind: count}`` of the secret shapes in ``text`` (digests left out)."""
    out: dict[str, int] = {}
    for kind, value in find_secrets(text):
        if kind in ("long_hex", "random_token", "high_entropy_value") and _DIGEST.fullmatch(value):
            continue
        out[kind] = out.get(kind, 0) + 1
    return out


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from _strings(x)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, str):
                yield v
                if secret_key(str(k)) and v:  # a key that names a secret, and its value
                    yield f"{k}={v}"
            else:
                yield str(k)
                yield from _strings(v)


def _scan_bytes(data: bytes, name: str) -> dict[str, int]:
    text = data.decode("utf-8", "replace")
    if name.endswith(_JSON_SUFFIXES):
        try:
            return _merge(scan_text(s) for s in _strings(json.loads(text)))
        except ValueError:
            pass
    if name.endswith(_JSONL_SUFFIXES):
        counts = []
        for line in text.splitlines():
            try:
                counts.append(_merge(scan_text(s) for s in _strings(json.loads(line))))
            except ValueError:
                counts.append(scan_text(line))
        return _merge(counts)
    return scan_text(text)


def _merge(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, 0) + v
    return out


def _walk(root: Path) -> Iterator[tuple[Path, bool]]:
    """``(path, is_git_dir)`` for every file and ``.git`` folder under ``root``, links included
    (not followed)."""
    if root.is_symlink() or root.is_file():
        yield root, False
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if ".git" in dirnames:
            dirnames.remove(".git")
            yield here / ".git", True
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                yield here / d, False
        for f in sorted(filenames):
            yield here / f, False


def _git_files(git_dir: Path) -> Iterator[Path]:
    """The plain files of a ``.git`` folder other than its objects (config, refs, reflogs, index)."""
    for dirpath, dirnames, filenames in os.walk(git_dir, followlinks=False):
        if Path(dirpath) == git_dir and "objects" in dirnames:
            dirnames.remove("objects")
        for f in filenames:
            yield Path(dirpath) / f


def _blob_paths(repo: Any) -> dict[bytes, tuple[str, str]]:
    """blob id -> (path, first commit holding it), over every commit reachable from a ref."""
    from dulwich.objects import Tree

    out: dict[bytes, tuple[str, str]] = {}
    seen_trees: set[bytes] = set()
    heads = [sha for ref, sha in repo.get_refs().items() if ref.startswith(b"refs/")]
    if not heads:
        return out
    commits = list(repo.get_walker(include=heads, reverse=True))

    def walk(tree_id: bytes, prefix: str, commit: str) -> None:
        if tree_id in seen_trees:
            return
        seen_trees.add(tree_id)
        tree = repo.object_store[tree_id]
        for entry in tree.iteritems():
            path = prefix + entry.path.decode("utf-8", "replace")
            if stat.S_ISDIR(entry.mode):
                walk(entry.sha, path + "/", commit)
            elif entry.sha not in out:
                out[entry.sha] = (path, commit)
        assert isinstance(tree, Tree)

    for entry in commits:
        walk(entry.commit.tree, "", entry.commit.id.decode()[:12])
    return out


def _scan_git(git_dir: Path, report: AuditReport) -> None:
    from dulwich.repo import Repo

    work = git_dir.parent
    report.repositories.append(str(work))
    repo = Repo(str(work))
    try:
        paths = _blob_paths(repo)
        for sha in repo.object_store:
            obj: Any = repo.object_store[sha]  # dulwich types objects by kind at run time
            report.git_objects += 1
            kind = obj.type_name.decode()
            if kind == "blob":
                path, commit = paths.get(sha, ("(unreachable)", ""))
                found = _scan_bytes(obj.as_raw_string(), path)
                where = f"git blob {sha.decode()[:12]}" + (f" in commit {commit}" if commit else "")
                label = str(work / path)
            elif kind == "commit":
                text = "\n".join(x.decode("utf-8", "replace") for x in (obj.message, obj.author, obj.committer))
                found, where, label = scan_text(text), f"git commit message {sha.decode()[:12]}", str(git_dir)
            elif kind == "tree":
                text = "\n".join(e.path.decode("utf-8", "replace") for e in obj.iteritems())
                found, where, label = scan_text(text), f"git tree {sha.decode()[:12]}", str(git_dir)
            else:
                found = scan_text(obj.as_raw_string().decode("utf-8", "replace"))
                where, label = f"git {kind} {sha.decode()[:12]}", str(git_dir)
            report.findings += [Finding(label, k, where, n, str(work)) for k, n in sorted(found.items())]
    finally:
        repo.close()
    for f in _git_files(git_dir):
        _scan_file(f, report, repository=str(work))


def _scan_file(path: Path, report: AuditReport, repository: str = "") -> None:
    if path.is_symlink():
        report.findings.append(Finding(str(path), "link", "a symbolic link (not followed)"))
        return
    if not path.is_file():
        return
    report.files += 1
    if path.stat().st_size > MAX_FILE_BYTES:
        report.findings.append(Finding(str(path), "unread", f"larger than {MAX_FILE_BYTES} bytes"))
        return
    found = _scan_bytes(path.read_bytes(), path.name)
    report.findings += [Finding(str(path), k, "file", n, repository) for k, n in sorted(found.items())]


def audit(paths: Iterable[str | Path]) -> AuditReport:
    """Scan ``paths`` (folders or files) for secret shapes; see the module docstring."""
    report = AuditReport()
    for root in paths:
        root = Path(root)
        if not root.exists() and not root.is_symlink():
            raise SkilllabError(f"{root}: no such file or folder to audit")
        for path, is_git in _walk(root):
            if is_git:
                if path.is_symlink():
                    report.findings.append(Finding(str(path), "link", "a .git that is a symbolic link (not followed)"))
                else:
                    _scan_git(path, report)
            else:
                _scan_file(path, report)
    return report


# ----------------------------------------------------------------------------------------- fixing

@dataclass
class FixPlan:
    """What :func:`fix` changes: files redacted in place, derived files deleted, and for each git
    repository the number of commits and blobs rewritten."""
    redact_files: list[str] = field(default_factory=list)
    delete_files: list[str] = field(default_factory=list)
    rewrite_histories: dict[str, dict[str, int]] = field(default_factory=dict)
    unfixable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"redact {p}" for p in self.redact_files] + [f"delete {p} (derived; rebuilt on next open)"
                                                            for p in self.delete_files]
        out += [f"rewrite history of {repo}: {n['commits']} commits, {n['blobs']} blobs, {n['messages']} messages"
                for repo, n in self.rewrite_histories.items()]
        out += [f"cannot fix {p}" for p in self.unfixable]
        return out


def _redacted_bytes(data: bytes, name: str) -> bytes:
    text = data.decode("utf-8", "replace")
    if name.endswith(_JSON_SUFFIXES):
        try:
            return (json.dumps(redact_obj(json.loads(text)), ensure_ascii=False, indent=2) + "\n").encode()
        except ValueError:
            pass
    if name.endswith(_JSONL_SUFFIXES):
        lines = []
        for line in text.splitlines():
            try:
                lines.append(json.dumps(redact_obj(json.loads(line)), ensure_ascii=False, separators=(",", ":")))
            except ValueError:
                lines.append(redact(line))
        return ("\n".join(lines) + "\n").encode()
    return redact(text).encode()


def _is_text(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _rewrite_history(work: Path, dry_run: bool) -> dict[str, int]:
    """Copy every commit of ``work``'s repository with blobs and messages redacted into a fresh
    repository that replaces the old one. Returns counts of what changed."""
    from dulwich.objects import Blob, Commit, Tree
    from dulwich.repo import Repo

    repo: Any = Repo(str(work))  # dulwich's ids are NewTypes of bytes; here they are plain bytes
    counts = {"commits": 0, "blobs": 0, "messages": 0}
    new_objects: dict[bytes, object] = {}
    blob_map: dict[bytes, bytes] = {}
    tree_map: dict[bytes, bytes] = {}
    commit_map: dict[bytes, bytes] = {}
    try:
        refs = {ref: sha for ref, sha in repo.get_refs().items() if ref.startswith(b"refs/")}

        def new_blob(sha: bytes, path: str) -> Any:
            if sha in blob_map:
                return blob_map[sha]
            data = repo.object_store[sha].as_raw_string()
            out = sha
            if _is_text(data) and scan_text(data.decode("utf-8")):
                blob = Blob.from_string(_redacted_bytes(data, path))
                new_objects[blob.id] = blob
                out = blob.id
                counts["blobs"] += 1
            else:
                new_objects[sha] = repo.object_store[sha]
            blob_map[sha] = out
            return out

        def new_tree(sha: bytes, prefix: str) -> Any:
            if sha in tree_map:
                return tree_map[sha]
            old = repo.object_store[sha]
            tree = Tree()
            for entry in old.iteritems():
                path = prefix + entry.path.decode("utf-8", "replace")
                if stat.S_ISDIR(entry.mode):
                    tree.add(entry.path, entry.mode, new_tree(entry.sha, path + "/"))
                else:
                    tree.add(entry.path, entry.mode, new_blob(entry.sha, path))
            new_objects[tree.id] = tree
            tree_map[sha] = tree.id
            return tree.id

        for entry in repo.get_walker(include=list(refs.values()), reverse=True, order="topo"):
            old = entry.commit
            c = Commit()
            c.tree = new_tree(old.tree, "")
            c.parents = [commit_map.get(p, p) for p in old.parents]
            c.author, c.committer = old.author, old.committer
            c.author_time, c.commit_time = old.author_time, old.commit_time
            c.author_timezone, c.commit_timezone = old.author_timezone, old.commit_timezone
            c.encoding = old.encoding
            message = old.message.decode("utf-8", "replace")
            if scan_text(message):
                counts["messages"] += 1
                message = redact(message)
            c.message = message.encode("utf-8")
            new_objects[c.id] = c
            commit_map[old.id] = c.id
            if c.id != old.id:
                counts["commits"] += 1
        head_target = repo.refs.read_ref(b"HEAD")
    finally:
        repo.close()
    if dry_run or not any(counts.values()):
        return counts
    git_dir = work / ".git"
    fresh = work / f".git.audit-{os.getpid()}"
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir()
    new: Any = Repo.init_bare(str(fresh))
    try:
        for obj in new_objects.values():
            new.object_store.add_object(obj)
        for ref, sha in refs.items():
            new.refs[ref] = commit_map.get(sha, sha)
        if head_target and head_target.startswith(b"ref: "):
            new.refs.set_symbolic_ref(b"HEAD", head_target[5:])
        config = new.get_config()
        config.set((b"core",), b"bare", False)
        config.write_to_path()
    finally:
        new.close()
    old_dir = work / f".git.pre-audit-{int(time.time())}"
    os.replace(git_dir, old_dir)
    try:
        os.replace(fresh, git_dir)
    except OSError:
        os.replace(old_dir, git_dir)
        raise
    shutil.rmtree(old_dir)  # the old objects hold the secrets: nothing of them is kept
    repo = Repo(str(work))
    try:  # a git index of the new head (the old one named the old blobs); files on disk are not touched
        head = cast(Commit, repo[repo.head()])
        tracked = [p.decode() for p, _mode, _sha in repo.object_store.iter_tree_contents(head.tree)]
        repo.get_worktree().stage(tracked)
    finally:
        repo.close()
    return counts


def _agent_lock(work: Path) -> Any:
    from filelock import FileLock

    lock = work / ".lock"
    if lock.is_symlink():
        raise SkilllabError(f"{lock}: a symbolic link; refusing to lock through it")
    return FileLock(str(lock), timeout=600)


def fix(paths: Iterable[str | Path], *, dry_run: bool = False) -> tuple[FixPlan, AuditReport]:
    """Clean what :func:`audit` finds under ``paths`` (see the module docstring). Returns the plan
    (what changed, or with ``dry_run`` what would) and the audit it was made from."""
    paths = list(paths)
    report = audit(paths)
    plan = FixPlan()
    by_file: set[str] = set()
    repos: set[str] = set()
    for f in report.findings:
        if f.repository:  # a git object, or a file inside .git (a reflog): the history is rewritten
            repos.add(f.repository)
        elif f.kind in ("link", "unread"):
            plan.unfixable.append(f"{f.path} ({f.where})")
        else:
            by_file.add(f.path)
    for path in sorted(by_file):
        p = Path(path)
        data = p.read_bytes()
        if p.name.endswith(_DERIVED_SUFFIXES) or not _is_text(data):
            plan.delete_files.append(path)
        else:
            plan.redact_files.append(path)
    for repo in sorted(repos):
        work = Path(repo)
        plan.rewrite_histories[repo] = _rewrite_history(work, dry_run=True)
    if dry_run:
        return plan, report
    for path in plan.redact_files:
        p = Path(path)
        with _lock_for(p):
            atomic_write(p, _redacted_bytes(p.read_bytes(), p.name))
    for path in plan.delete_files:
        p = Path(path)
        with _lock_for(p):
            p.unlink(missing_ok=True)
    for repo in sorted(repos):
        with _agent_lock(Path(repo)):
            plan.rewrite_histories[repo] = _rewrite_history(Path(repo), dry_run=False)
    return plan, report


class _null:
    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> Any:
        return False


def _lock_for(path: Path) -> Any:
    """The lock of the agent folder ``path`` is in (the nearest folder above it with a ``.git``)."""
    for parent in path.parents:
        if (parent / ".git").is_dir() and not (parent / ".git").is_symlink():
            return _agent_lock(parent)
    return _null()
