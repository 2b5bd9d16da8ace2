"""``skilllab check``: verify one agent's folder and repair what can be rebuilt.

The files and git history are the truth; everything else is derived and rebuilt when damaged:

* git: stale lock files (left by a process killed mid-commit) are removed; every object reachable
  from ``HEAD`` is read and checked (a damaged blob is reported with the path it holds: history
  cannot be rebuilt, so it is never rewritten by a check);
* an interrupted change (``state/intent.json``) is finished;
* skill files that cannot be parsed are reported and left alone;
* the search index is compared with the files and rebuilt when it does not match or cannot load;
* ledger lines that cannot be read are dropped (their sessions are distilled again next time);
* the shared embedding cache is opened and queried (a damaged file is moved aside).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from dulwich.objects import ObjectID, Tree

from ._fs import atomic_write

if TYPE_CHECKING:
    from .library import Agent, Library



@dataclass(frozen=True)
class Finding:
    """One thing ``check`` looked at: ``ok``, ``repaired`` (with what was done) or ``damaged``."""

    area: str
    status: str  # ok | repaired | damaged
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def check_agent(library: Library, agent_id: str) -> list[Finding]:
    out: list[Finding] = []
    agent = library.agent(agent_id, create=False)
    with agent.lock():
        removed = agent.store.git.clear_stale_locks(older_than=0.0, objects=True)
        out.append(Finding("git locks", "repaired" if removed else "ok",
                           f"removed {', '.join(str(p) for p in removed)}" if removed else "no lock left behind"))
        out += _check_objects(agent)
        done = agent.recover()
        out.append(Finding("interrupted change", "repaired" if done else "ok", done or "none pending"))
        agent.sync()
        out.append(Finding("skill files", "damaged" if agent.problems else "ok",
                           "; ".join(map(str, agent.problems)) or f"{len(agent)} skills parse"))
        out.append(_check_index(agent))
        out.append(_check_ledger(agent))
    out.append(_check_cache(agent))
    agent.close()
    return out


def _check_objects(agent: Agent) -> list[Finding]:
    git = agent.store.git
    head = git.head()
    if head is None:
        return [Finding("git objects", "ok", "no commits yet")]
    repo = git.repo
    bad: list[str] = []
    seen: set[bytes] = set()
    checked = 0

    def visit_tree(sha: bytes, prefix: str) -> None:
        nonlocal checked
        if sha in seen:
            return
        seen.add(sha)
        try:
            tree = cast(Tree, repo.object_store[ObjectID(sha)])
            tree.check()
        except Exception as exc:  # noqa: BLE001 - any failure to read is damage to report
            bad.append(f"tree {sha.decode()[:10]} at {prefix or '/'}: {type(exc).__name__}")
            return
        checked += 1
        for item in tree.items():
            path = f"{prefix}{item.path.decode('utf-8', 'replace')}"
            if item.mode & 0o040000:
                visit_tree(item.sha, path + "/")
            elif item.sha not in seen:
                seen.add(item.sha)
                try:
                    blob = repo.object_store[item.sha]
                    blob.check()
                    if blob.id != item.sha:
                        raise ValueError("checksum mismatch")
                    checked += 1
                except Exception as exc:  # noqa: BLE001
                    bad.append(f"blob {item.sha.decode()[:10]} ({path}): {type(exc).__name__}")

    try:
        for entry in repo.get_walker():
            commit = entry.commit
            commit.check()
            checked += 1
            visit_tree(commit.tree, "")
    except (zlib.error, ValueError, KeyError, OSError) as exc:
        bad.append(f"history walk stopped: {type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001
        bad.append(f"history walk stopped: {type(exc).__name__}: {exc}")
    if bad:
        return [Finding("git objects", "damaged", f"{len(bad)} damaged: " + "; ".join(bad[:10])
                        + " (history cannot be rebuilt; restore the .git folder from a backup)")]
    return [Finding("git objects", "ok", f"{checked} objects read and checked")]


def _check_index(agent: Agent) -> Finding:
    from .store import sha256

    found, _ = agent.store.scan()
    entries = agent.index.entries
    wrong = sorted(set(found) ^ set(entries))
    if not wrong:
        for name, data in found.items():
            phr = agent.indexer.phrasing_bytes(name)
            if entries[name].file_sha != sha256(data + b"\0" + phr):
                wrong.append(name)
    if wrong and not agent.problems:
        n = agent.rebuild_index()
        return Finding("index", "repaired", f"rebuilt from the files ({n} skills); it disagreed on {', '.join(wrong)}")
    return Finding("index", "ok", f"{len(entries)} skills indexed, matching the files")


def _check_ledger(agent: Agent) -> Finding:
    ledger = agent.ledger
    n = len(ledger)
    if not ledger.bad_lines:
        return Finding("ledger", "ok", f"{n} sessions recorded")
    lines = ledger.path.read_bytes().splitlines(keepends=True)
    keep = []
    for raw in lines:
        try:
            json.loads(raw.replace(b"\x00", b"").decode("utf-8"))["session_id"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            continue
        keep.append(raw if raw.endswith(b"\n") else raw + b"\n")
    dropped = len(lines) - len(keep)
    atomic_write(ledger.path, b"".join(keep))
    return Finding("ledger", "repaired", f"dropped {dropped} unreadable line(s) (lines "
                                         f"{', '.join(map(str, ledger.bad_lines[:10]))}); their sessions are "
                                         "distilled again next time")


def _check_cache(agent: Agent) -> Finding:
    cache = getattr(agent.embedder, "cache", None)
    if cache is None:
        return Finding("embedding cache", "ok", "this embedder keeps no cache")
    import sqlite3

    try:
        conn = cache._conn()
        conn.execute("SELECT count(*) FROM vectors").fetchone()
        conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        cache._local.conn = cache._rebuild(exc)
        return Finding("embedding cache", "repaired", f"{cache.path} was damaged; moved aside, started afresh")
    return Finding("embedding cache", "ok", f"{cache.path} reads")
