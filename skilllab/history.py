"""Git history of one agent's folder, through dulwich (no ``git`` binary needed).

Each change to a skill is one commit whose message says what changed and why. History is read
back per file, and any version's bytes can be read to restore it.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from pathlib import Path

from dulwich.object_store import tree_lookup_path
from dulwich.repo import Repo

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

    def __init__(self, root: Path):
        self.root = Path(root)
        self._repo: Repo | None = None

    @property
    def repo(self) -> Repo:
        if self._repo is None:
            if (self.root / ".git").is_dir():
                self._repo = Repo(str(self.root))
            else:
                self.root.mkdir(parents=True, exist_ok=True)
                self._repo = Repo.init(str(self.root))
        return self._repo

    def close(self) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def head(self) -> str | None:
        try:
            return self.repo.head().decode()
        except KeyError:
            return None

    def commit(self, paths: list[str], message: str, when: float | None = None) -> str:
        """Stage ``paths`` (relative, '/'-separated; missing files are removed) and commit."""
        wt = self.repo.get_worktree()
        wt.stage(paths)
        ts = time.time() if when is None else when
        cid = wt.commit(
            message=message.encode("utf-8"),
            committer=COMMITTER,
            author=COMMITTER,
            commit_timestamp=ts,
            commit_timezone=0,
            author_timestamp=ts,
            author_timezone=0,
            no_verify=True,
        )
        return cid.decode() if isinstance(cid, bytes) else str(cid)

    def log(self, path: str) -> list[Commit]:
        """Commits that touched ``path``, oldest first."""
        if self.head() is None:
            return []
        out = []
        for entry in self.repo.get_walker(paths=[path.encode()]):
            c = entry.commit
            out.append(Commit(c.id.decode(), float(c.commit_time), c.message.decode("utf-8").strip()))
        out.reverse()
        return out

    def read(self, path: str, commit_id: str) -> bytes | None:
        """The bytes of ``path`` as of ``commit_id``; ``None`` if it did not exist then."""
        repo = self.repo
        commit = repo[commit_id.encode()]
        try:
            _mode, sha = tree_lookup_path(repo.object_store.__getitem__, commit.tree, path.encode())
        except KeyError:
            return None
        return repo.object_store[sha].data
