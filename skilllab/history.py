"""Git history of one agent's folder, through dulwich (no ``git`` binary needed).

Each change to a skill is one commit whose message says what changed and why. History is read
back per file, and any version's bytes can be read to restore it.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import stat
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from dulwich.errors import ChecksumMismatch, HookError, ObjectFormatException
from dulwich.index import cleanup_mode, index_entry_from_stat
from dulwich.object_store import BaseObjectStore, OverlayObjectStore, tree_lookup_path
from dulwich.objects import Blob, ObjectID, RawObjectID, ShaFile, Tree, sha_to_hex
from dulwich.objects import Commit as GitCommit
from dulwich.pack import UnpackedObject
from dulwich.reflog import format_reflog_line
from dulwich.refs import Ref
from dulwich.repo import Repo

from ._fs import stat_sig
from .errors import SkilllabError

log = logging.getLogger(__name__)
STALE_LOCK_SECONDS = 2.0
LOOSE_LIMIT = 6700  # git's gc.auto: loose objects that trigger packing
PACK_LIMIT = 50  # git's gc.autoPackLimit: packs that trigger consolidating them into one
CHECK_EVERY = 64  # commits between two counts of the loose objects
TREES_KEPT = 256  # raw trees a history object keeps to build the next commits from
PENDING_LIMIT = 4096  # objects a handle that is not durable keeps in memory before it writes them
PENDING_BYTES = 2 << 20  # and their bytes (raw, uncompressed)
LOOSE_AT_MOST = 32  # fewer pending objects than this are written loose, not as a pack of their own
DulwichError = (ChecksumMismatch, ObjectFormatException, OSError)

COMMITTER = b"skilllab <skilllab@localhost>"
GITIGNORE = """\
# Machine state that is rebuilt or changes on every use; the skill files are the truth.
index/
queue/
state/
.lock
*.tmp
usage.json
"""


class PendingObjects(BaseObjectStore):
    """Objects committed by a handle that is not durable and not written to the disk yet, kept
    raw (read through an overlay on the repository's own store, so every read sees them)."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[bytes, tuple[int, bytes]] = {}
        self.size = 0  # bytes held

    def clear(self) -> None:
        self.raw.clear()
        self.size = 0

    def _hex(self, sha: ObjectID | RawObjectID | bytes) -> bytes:
        return sha_to_hex(RawObjectID(sha)) if len(sha) == 20 else bytes(sha)

    def add_object(self, obj: ShaFile) -> None:
        if obj.id not in self.raw:
            raw = obj.as_raw_string()
            self.raw[obj.id] = (obj.type_num, raw)
            self.size += len(raw)

    def get_raw(self, name: ObjectID | RawObjectID) -> tuple[int, bytes]:
        return self.raw[self._hex(name)]

    def contains_loose(self, sha: ObjectID | RawObjectID) -> bool:
        return self._hex(sha) in self.raw

    def contains_packed(self, sha: ObjectID | RawObjectID) -> bool:
        return False

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self.raw))

    @property
    def packs(self) -> list[Any]:
        return []

    def objects(self) -> list[ShaFile]:
        return [ShaFile.from_raw_string(t, raw, sha=ObjectID(sha)) for sha, (t, raw) in self.raw.items()]


@dataclass(frozen=True)
class Commit:
    id: str
    time: float
    message: str

    @property
    def date(self) -> str:
        return _dt.datetime.fromtimestamp(self.time, _dt.UTC).isoformat(timespec="seconds")


class GitHistory:
    """A git repository rooted at an agent's folder."""

    def __init__(self, root: Path, guard: Any=None, *, loose_limit: int = LOOSE_LIMIT,
                 pack_limit: int = PACK_LIMIT, check_every: int = CHECK_EVERY, durable: bool = True) -> None:
        self.root = Path(root)
        # durable: every commit is written as it is made. Otherwise (a scratch library) commits made
        # while the agent's lock is held without a break are kept in memory, objects and HEAD, and
        # written when the lock is let go, when the handle closes or every PENDING_LIMIT objects or
        # PENDING_BYTES (:meth:`flush`): objects first, as one pack, then HEAD, so the repository on
        # disk is whole at every moment. Git's index file is written when the handle closes
        # (:meth:`flush_index`): only ``git status`` reads it.
        self.durable = durable
        self._pending: PendingObjects | None = None  # the overlay's memory (a handle that is not durable)
        self._disk_store: Any = None  # the repository's own object store
        # the commits kept in memory, oldest first: (parent, id, time, message) for HEAD and its reflog
        self._pending_commits: list[tuple[bytes | None, bytes, int, bytes]] = []
        # the raw trees this object wrote or read lately and its last commit's (id, tree): a commit
        # rebuilds the trees on its paths from them without reading and inflating loose objects
        self._trees: dict[bytes, bytes] = {}
        self._last_commit: tuple[bytes, bytes] | None = None
        self._repo: Repo | None = None
        self._guard = guard  # refuses a linked .git (the agent store's path check)
        self.loose_limit, self.pack_limit, self.check_every = loose_limit, pack_limit, check_every
        self._config: Any = None  # the repository's config stack, read once per handle
        self._commits = 0  # made by this object: the loose objects are counted on the first and every check_every-th
        # the git index as this object last left it, with the file's stat when it was written (None:
        # not written yet, a handle that is not durable): the next commit takes it from memory while
        # the file is as it was left (reading it is O(library))
        self._index_memo: tuple[tuple[int, int, int, int] | None, Any] | None = None

    @property
    def exists(self) -> bool:
        if self._guard is not None:
            self._guard(".git")
        return (self.root / ".git").is_dir()

    @property
    def repo(self) -> Repo:
        """The repository (created the first time something is committed, never by a read)."""
        if self._repo is None:
            if self._guard is not None:
                for rel in (".git", ".git/objects", ".git/refs", ".git/refs/heads", ".git/HEAD", ".git/index"):
                    self._guard(rel)
            if self.exists:
                self._repo = Repo(str(self.root))
            else:
                self.root.mkdir(parents=True, exist_ok=True)
                self._repo = Repo.init(str(self.root))
            # dulwich's automatic gc counts every loose object (256 directory listings) after every
            # commit and, past gc.auto, repacks the whole history in memory in the commit's path.
            # Packing is scheduled here instead (:meth:`maintain`): incremental and bounded.
            self._repo._autogc_disabled = True  # type: ignore[attr-defined]
            self._disk_store = self._repo.object_store
            if not self.durable:  # reads see the objects kept in memory first, then the disk's
                self._pending = PendingObjects()
                self._repo.object_store = cast(Any, OverlayObjectStore([self._pending, self._disk_store],
                                                                       add_store=self._pending))
        return self._repo

    def close(self) -> None:
        try:
            self.flush()
            self.flush_index()
        finally:
            self._config = None
            self._index_memo = None
            self._pending_commits = []
            if self._repo is not None:
                self._repo.object_store = self._disk_store
                self._repo.close()
                self._repo = None
                self._pending = self._disk_store = None

    def head(self) -> str | None:
        if self._pending_commits:
            return self._pending_commits[-1][1].decode()
        if self._repo is None and not self.exists:
            return None
        try:
            return self.repo.head().decode()
        except KeyError:
            return None

    def stale_locks(self, objects: bool = False) -> list[Path]:
        """Git lock files in this repository (left by a process that died mid-commit, when no
        commit is running); with ``objects``, loose objects' lock files too (a full scan)."""
        gitdir = self.root / ".git"
        if not gitdir.is_dir():
            return []
        candidates = [gitdir / "index.lock", gitdir / "HEAD.lock", gitdir / "packed-refs.lock",
                      gitdir / "config.lock", *gitdir.glob("refs/heads/*.lock")]
        if objects:
            candidates += gitdir.glob("objects/??/*.lock")
        return [p for p in candidates if p.is_file()]

    def clear_stale_locks(self, older_than: float = STALE_LOCK_SECONDS, objects: bool = False) -> list[Path]:
        """Remove git lock files older than ``older_than`` seconds. Only call this holding the
        agent's own lock: every skilllab commit happens under it, so a git lock then is a leftover of
        a process that died, not of a commit in progress."""
        removed = []
        now = time.time()
        for lock in self.stale_locks(objects):
            try:
                if now - lock.stat().st_mtime >= older_than:
                    lock.unlink()
                    removed.append(lock)
            except FileNotFoundError:
                continue
        for lock in removed:
            log.warning("%s: removed a stale git lock left by a process that died mid-commit", lock)
        return removed

    def _clear_object_lock(self, lockfile: str | bytes) -> None:
        """Remove the lock file of a loose object (``objects/ab/cdef....lock``) that a process
        killed while writing it left behind. An object's name is the hash of its content, so
        whoever writes it writes the same bytes: under the agent's lock such a lock file is
        always a leftover, whatever its age."""
        path = Path(os.fsdecode(lockfile))
        objects = self.root / ".git" / "objects"
        if path.parent.parent == objects and path.name.endswith(".lock") and path.is_file() \
                and not path.is_symlink():
            path.unlink(missing_ok=True)
            log.warning("%s: removed the lock of a git object left by a process that died writing it", path)

    def commit(self, paths: list[str], message: str, when: float | None = None) -> str:
        """Stage ``paths`` (relative, '/'-separated; missing files are removed) and commit.

        Callers hold the agent's lock; a git lock left by a dead process is cleared first."""
        from dulwich.file import FileLocked

        self.clear_stale_locks()
        for attempt in range(20):
            try:
                cid = self._commit(paths, message, when)
                self._commits += 1
                if self._commits % self.check_every == 1 or self.check_every == 1:
                    self.maintain()
                return cid
            except FileLocked as exc:  # a git process of someone else's, still running, or a dead one's
                self._clear_object_lock(exc.lockfilename)
                if attempt == 19:
                    raise SkilllabError(f"{os.fsdecode(exc.filename)}: the repository is locked by another git process; "
                                        "try again when it is done") from None
                time.sleep(0.25)
                self.clear_stale_locks()
            except (*DulwichError, zlib.error, ValueError, KeyError) as exc:
                raise SkilllabError(f"{self.root}/.git: could not commit ({type(exc).__name__}: {exc}); "
                                    f"`skilllab check` looks for damage") from None
        raise AssertionError("unreachable")

    def maintain(self) -> dict[str, int]:
        """Keep the object store cheap to use as history grows, as git's own ``gc --auto`` policy
        does but without its cost in the commit path: past ``loose_limit`` loose objects, pack the
        loose objects (and only them: memory bounded by what was written since the last pack)
        into one new pack; past ``pack_limit`` packs, consolidate the packs into one (rare: once
        every ``loose_limit * pack_limit`` objects). Nothing is pruned: every commit stays
        reachable. A kill midway leaves objects both packed and loose, which git reads fine."""
        store = self.objects_on_disk
        done = {"loose_packed": 0, "packs_consolidated": 0}
        try:
            if store.count_loose_objects() >= self.loose_limit:
                done["loose_packed"] = store.pack_loose_objects()
            if store.count_pack_files() > self.pack_limit:
                done["packs_consolidated"] = store.count_pack_files()
                store.repack()
        except (*DulwichError, zlib.error, ValueError) as exc:  # housekeeping never fails a commit
            log.warning("%s/.git: packing objects failed (%s: %s); `skilllab check` looks for damage",
                        self.root, type(exc).__name__, exc)
        return done

    def _commit(self, paths: list[str], message: str, when: float | None) -> str:
        """Stage ``paths`` in the index and commit a tree made from the last commit's with those
        paths changed: only the trees on their way are rebuilt (:meth:`_tree_changes`), where
        committing the index would rebuild every tree of the folder, a cost that grows with the
        library. Paths are files (a directory is never passed). The commit is made here, as
        dulwich's ``commit`` makes it, without re-reading the config or spawning a process for
        a post-commit hook that is not there (one that is there runs)."""
        repo = self.repo
        if self._config is None:
            self._config = repo.get_config_stack()
        index = self._open_index(repo)
        try:
            return self._commit_staged(repo, index, paths, message, when)
        except BaseException:
            if not self.durable:  # what was staged matches the files on disk: still written on close
                self._index_memo = (None, index)
            raise

    def _commit_staged(self, repo: Repo, index: Any, paths: list[str], message: str, when: float | None) -> str:
        store = repo.object_store
        changes: list[tuple[bytes, int | None, Any]] = []
        root = os.fsencode(self.root)
        for rel in paths:
            key = rel.encode("utf-8")
            full = os.path.join(root, key)
            try:
                st = os.lstat(full)
            except (FileNotFoundError, NotADirectoryError):
                st = None
            if st is None or not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                if key in index:
                    del index[key]
                changes.append((key, None, None))
                continue
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(full)
            else:
                with open(full, "rb") as fh:
                    data = fh.read()
            blob = Blob.from_string(data)
            store.add_object(blob)
            mode = cleanup_mode(st.st_mode)
            index[key] = index_entry_from_stat(st, blob.id, mode=mode)
            changes.append((key, mode, blob.id))
        head_ref = Ref(b"HEAD")
        if self._pending_commits:
            parent: ObjectID | None = ObjectID(self._pending_commits[-1][1])
        else:
            try:
                parent = repo.refs[head_ref]
            except KeyError:  # the first commit
                parent = None
        if parent is None:
            base = Tree()
        elif self._last_commit is not None and self._last_commit[0] == parent:
            base = self._tree(store, self._last_commit[1])
        else:
            base = self._tree(store, cast(GitCommit, repo[parent]).tree)
        tree = self._tree_changes(store, base, changes).id
        if self.durable:
            index.write()
            self._remember_index(index)
        else:
            self._index_memo = (None, index)
        ts = int(time.time() if when is None else when)
        c = GitCommit()
        c.tree, c.parents = tree, [parent] if parent is not None else []
        c.author = c.committer = COMMITTER
        c.author_time = c.commit_time = ts
        c.author_timezone = c.commit_timezone = 0
        c.message = message.encode("utf-8")
        store.add_object(c)
        self._last_commit = (c.id, tree)
        if self.durable:
            self._set_head(repo, parent, c.id, c.message, ts)
        else:  # kept in memory with its objects until the lock is let go (see __init__)
            self._pending_commits.append((parent, c.id, ts, c.message))
            pending = cast(PendingObjects, self._pending)
            if len(pending.raw) >= PENDING_LIMIT or pending.size >= PENDING_BYTES:
                self.flush()
        if os.path.exists(os.path.join(repo.controldir(), "hooks", "post-commit")):  # a hook someone installed
            self.flush()  # it reads the repository as git would
            try:
                repo.hooks["post-commit"].execute()
            except HookError as exc:
                log.warning("%s/.git: the post-commit hook failed (%s)", self.root, exc)
        return c.id.decode()

    @staticmethod
    def _set_head(repo: Repo, old: ObjectID | None, new: ObjectID, message: bytes | None, ts: int | None) -> None:
        """Move HEAD from ``old`` to ``new`` (compare and swap), with a reflog line for ``message``
        (none when it is None: the caller writes its own)."""
        head_ref, line = Ref(b"HEAD"), None if message is None else b"commit: " + message
        ok = (repo.refs.set_if_equals(head_ref, old, new, message=line, committer=COMMITTER, timestamp=ts, timezone=0)
              if old is not None else
              repo.refs.add_if_new(head_ref, new, message=line, committer=COMMITTER, timestamp=ts, timezone=0))
        if not ok:
            raise ValueError("HEAD moved since it was read")

    @property
    def objects_on_disk(self) -> Any:
        """The repository's own object store: without what a handle that is not durable keeps in
        memory (its reads go through an overlay of both)."""
        _ = self.repo  # opened, or created, first
        return self._disk_store

    @property
    def pending(self) -> bool:
        """Whether commits are kept in memory, not yet written (a handle that is not durable)."""
        return bool(self._pending_commits)

    def pending_objects(self) -> list[bytes]:
        """Ids of the objects kept in memory (a handle that is not durable), not yet on disk."""
        return list(self._pending.raw) if self._pending is not None else []

    def flush(self) -> None:
        """Write the commits a handle that is not durable keeps in memory: their objects, as one
        pack (loose when they are few), then HEAD, then a reflog line for each commit, as a commit
        at a time would have written them. Called with the agent's lock held (before it is let
        go, and when the handle closes); nothing to do on a durable handle."""
        commits = self._pending_commits
        if not commits or self._pending is None or self._repo is None:
            return
        repo, pending = self._repo, self._pending
        try:
            if len(pending.raw) < LOOSE_AT_MOST:
                for obj in pending.objects():
                    self._disk_store.add_object(obj)
            else:  # one pack, from the objects as they are kept (nothing parsed again)
                self._disk_store.add_pack_data(len(pending.raw), (
                    UnpackedObject(type_num, decomp_chunks=[raw], sha=bytes.fromhex(sha.decode()))
                    for sha, (type_num, raw) in pending.raw.items()))
            old = commits[0][0]
            self._set_head(repo, ObjectID(old) if old is not None else None, ObjectID(commits[-1][1]), None, None)
            branch = repo.refs.follow(Ref(b"HEAD"))[0][-1].decode()
            reflog = os.path.join(repo.controldir(), "logs", *branch.split("/"))
            os.makedirs(os.path.dirname(reflog), exist_ok=True)
            with open(reflog, "ab") as fh:
                fh.write(b"".join(format_reflog_line(parent, cid, COMMITTER, ts, 0, b"commit: " + message) + b"\n"
                                  for parent, cid, ts, message in commits))
        except (*DulwichError, zlib.error, ValueError, KeyError) as exc:
            raise SkilllabError(f"{self.root}/.git: could not write the commits kept in memory "
                                f"({type(exc).__name__}: {exc}); the skill files are intact") from None
        pending.clear()
        self._pending_commits = []

    def _tree(self, store: Any, tree_id: bytes) -> Tree:
        """A tree to change: a fresh object made from a kept raw tree, or read from the store."""
        raw = self._trees.get(tree_id)
        if raw is not None:
            return cast(Tree, Tree.from_raw_string(Tree.type_num, raw, sha=ObjectID(tree_id)))
        obj = store[tree_id]
        if not isinstance(obj, Tree):
            raise ValueError(f"{self.root}/.git: {tree_id.decode()} is not a tree")
        return obj

    def _tree_changes(self, store: Any, tree: Tree, changes: list[tuple[bytes, int | None, Any]]) -> Tree:
        """``tree`` with ``changes`` (path, mode, blob id; no id: removed) made, each tree on the way
        written and kept (what dulwich's ``commit_tree_changes`` does, without reading back the
        subtrees it has just written)."""
        nested: dict[bytes, list[tuple[bytes, int | None, Any]]] = {}
        for path, mode, sha in changes:
            head, sep, rest = path.partition(b"/")
            if sep:
                nested.setdefault(head, []).append((rest, mode, sha))
            elif sha is None:
                del tree[path]
            else:
                tree[path] = (cast(int, mode), sha)
        for name, sub in nested.items():
            try:
                child = self._tree(store, tree[name][1])
            except KeyError:  # a new folder
                child = Tree()
            child = self._tree_changes(store, child, sub)
            if len(child) == 0:
                del tree[name]
            else:
                tree[name] = (stat.S_IFDIR, child.id)
        store.add_object(tree)
        if len(self._trees) >= TREES_KEPT:
            del self._trees[next(iter(self._trees))]
        self._trees[tree.id] = tree.as_raw_string()
        return tree

    def _open_index(self, repo: Repo) -> Any:
        """The git index: the one this object left unwritten (a handle that is not durable), or the
        one it last wrote while the file's stat (mtime, size, inode, ctime) is as it was left, else
        read from the file (another writer changed it)."""
        memo, self._index_memo = self._index_memo, None  # a commit that fails leaves no memo
        if memo is not None:
            if memo[0] is None:  # not durable: ours, in memory, written on close
                return memo[1]
            try:
                st = os.stat(repo.index_path())
            except OSError:
                st = None
            if st is not None and stat_sig(st) == memo[0]:
                return memo[1]
        return repo.open_index(config=self._config)

    @property
    def index_pending(self) -> bool:
        """Whether commits were made whose git index is not written yet (a handle that is not durable)."""
        return self._index_memo is not None and self._index_memo[0] is None

    def flush_index(self) -> None:
        """Write the git index that commits of a handle that is not durable left in memory."""
        if self.index_pending:
            index = cast(tuple[None, Any], self._index_memo)[1]
            index.write()
            self._remember_index(index)

    def _remember_index(self, index: Any) -> None:
        self._index_memo = (stat_sig(os.stat(index.path)), index)

    def log(self, path: str) -> list[Commit]:
        """Commits that touched ``path``, oldest first."""
        head = self.head()
        if head is None:
            return []
        out = []
        try:
            for entry in self.repo.get_walker(include=[ObjectID(head.encode())], paths=[path.encode()]):
                c = entry.commit
                out.append(Commit(c.id.decode(), float(c.commit_time), c.message.decode("utf-8", "replace").strip()))
        except (*DulwichError, zlib.error, ValueError, KeyError) as exc:
            raise SkilllabError(f"{self.root}/.git: history of {path} cannot be read ({type(exc).__name__}: {exc}); "
                                "run `skilllab check` to find the damage") from None
        out.reverse()
        return out

    def read(self, path: str, commit_id: str) -> bytes | None:
        """The bytes of ``path`` as of ``commit_id``; ``None`` if it did not exist then."""
        repo = self.repo
        try:
            commit = cast(GitCommit, repo[commit_id.encode()])
            try:
                _mode, sha = tree_lookup_path(repo.object_store.__getitem__, commit.tree, path.encode())
            except KeyError:
                return None
            return cast(Blob, repo.object_store[sha]).data
        except (*DulwichError, zlib.error, ValueError) as exc:
            raise SkilllabError(f"{self.root}/.git: {path} at {commit_id[:10]} cannot be read "
                                f"({type(exc).__name__}: {exc}); run `skilllab check` to find the damage") from None
