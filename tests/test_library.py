"""The per-agent store and its index, with real files, real git and real MiniLM."""

import os
import shutil
from pathlib import Path

import pytest
from helpers import make_skill

from skilllab import Library, SkillNotFound, UnsafePath
from skilllab.skill import WHAT_DIDNT


def names(hits):
    return [h.name for h in hits]


def test_hand_written_skill_found_by_meaning(example_lib):
    agent = example_lib.agent("sre-oncall")
    hits = agent.search("checkout pods keep restarting and the log says DATABASE_URL is not set", k=4)
    assert hits[0].name == "crashloop-missing-config"
    assert hits[0].similarity > hits[1].similarity
    hits = agent.search("the container got killed for using too much RAM, exit code 137", k=4)
    assert hits[0].name == "oomkilled-raise-memory-limit"
    hits = agent.search("browser warns that the site's HTTPS certificate expired", k=4)
    assert hits[0].name == "tls-certificate-expiry"
    assert -1.0 <= hits[-1].similarity <= hits[0].similarity <= 1.0


def test_hand_added_folder_is_committed_and_searchable(example_lib):
    agent = example_lib.agent("sre-oncall")
    assert agent.history("disk-pressure-node") == []  # opening only reads
    assert agent.store.pending("disk-pressure-node") == "added"
    agent.commit_hand_edits()  # what every write does first
    msgs = [v.message for v in agent.history("disk-pressure-node")]
    assert msgs == ["hand edit of crashloop-missing-config, disk-pressure-node, "
                    "oomkilled-raise-memory-limit, tls-certificate-expiry (made by hand; committed before the next "
                    "change)"]
    d = agent.root / "skills" / "dns-resolution-failure"
    d.mkdir()
    (d / "SKILL.md").write_text(make_skill(
        "dns-resolution-failure", "Fix services that cannot resolve hostnames through CoreDNS. "
        "Use when lookups fail with NXDOMAIN or timeouts inside the cluster.").render())
    agent = example_lib.agent("sre-oncall")
    assert agent.search("nslookup inside the pod times out, CoreDNS errors", k=1)[0].name == "dns-resolution-failure"


def test_hand_edit_picked_up_on_next_open(example_lib):
    agent = example_lib.agent("sre-oncall")
    query = "the kafka consumer group lag keeps growing on the orders topic"
    assert agent.search(query, k=1)[0].similarity < 0.3  # nothing about Kafka yet
    path = agent.root / "skills" / "disk-pressure-node" / "SKILL.md"
    text = path.read_text()
    text = text.replace(
        "description: 'Relieve a node under DiskPressure that evicts pods. Use when pods are evicted with "
        "\"The node was low on resource: ephemeral-storage\" or a node shows DiskPressure.'",
        "description: Drain growing Kafka consumer group lag on a topic. Use when consumers fall behind.")
    text = text.replace("A node reports the DiskPressure condition and the kubelet evicts pods for ephemeral storage.",
                        "Kafka consumer lag grows on a topic and consumers fall behind.")
    path.write_text(text)
    agent = example_lib.agent("sre-oncall")
    hit = agent.search(query, k=1)[0]
    assert hit.name == "disk-pressure-node" and hit.similarity > 0.5
    assert hit.description.startswith("Drain growing Kafka")
    assert agent.store.pending("disk-pressure-node") in ("added", "edited")
    agent.commit_hand_edits()
    assert agent.history("disk-pressure-node")[-1].message.startswith("hand edit of ")


def test_deleted_folder_no_longer_found(example_lib):
    agent = example_lib.agent("sre-oncall")
    q = "customers see an expired certificate"
    assert agent.search(q, k=1)[0].name == "tls-certificate-expiry"
    shutil.rmtree(agent.root / "skills" / "tls-certificate-expiry")
    agent = example_lib.agent("sre-oncall")
    assert "tls-certificate-expiry" not in names(agent.search(q, k=10))
    assert len(agent.search(q, k=10)) == 3
    with pytest.raises(SkillNotFound):
        agent.get("tls-certificate-expiry")
    agent.commit_hand_edits()
    agent.commit_hand_edits()
    assert agent.history("tls-certificate-expiry") == []  # added and removed by hand before any commit
    agent.write(make_skill("tls-certificate-expiry", "Renew an expiring certificate."), "create again")
    shutil.rmtree(agent.root / "skills" / "tls-certificate-expiry")
    agent.commit_hand_edits()
    assert agent.history("tls-certificate-expiry")[-1].deleted


def test_agents_never_see_each_other(example_lib):
    sre = example_lib.agent("sre-oncall")
    dba = example_lib.agent("dba")
    q = "postgres says sorry, too many clients already"
    assert dba.search(q, k=1)[0].name == "postgres-connection-pool-exhausted"
    assert "postgres-connection-pool-exhausted" not in names(sre.search(q, k=10))
    assert set(sre.names()).isdisjoint(dba.names())
    with pytest.raises(SkillNotFound):
        sre.get("postgres-connection-pool-exhausted")
    # the index files are per agent too
    [sre_meta] = (sre.root / "index").glob("*/meta.json")
    assert list((dba.root / "index").glob("*/meta.json"))
    assert "postgres" not in sre_meta.read_text()


def test_paths_outside_the_agent_are_refused(example_lib, tmp_path):
    agent = example_lib.agent("sre-oncall")
    for bad in ["../dba", "../../etc", "/etc/passwd", "a/../../b", ".git"]:
        with pytest.raises((UnsafePath, ValueError)):
            agent.get(bad)
        with pytest.raises((UnsafePath, ValueError)):
            agent.write(make_skill("x", "d").__class__(
                {"name": bad, "description": "d", "metadata": {}}), "x")
    # a symlinked skill folder pointing at another agent's skill is refused, not followed
    link = agent.root / "skills" / "stolen"
    os.symlink(example_lib.root / "dba" / "skills" / "postgres-replication-lag", link)
    agent = example_lib.agent("sre-oncall")
    assert "stolen" not in agent.names()
    assert any("stolen" in p.path and "symlink" in p.reason for p in agent.problems)
    with pytest.raises(UnsafePath):
        agent.get("stolen")
    # a symlinked agent folder is refused
    os.symlink(example_lib.root / "dba", example_lib.root / "mirror")
    with pytest.raises(UnsafePath):
        example_lib.agent("mirror")


def test_three_updates_three_versions_and_restore(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("sre-oncall")
    s = make_skill("restart-pod", "Restart a hung pod. Use when a pod stops answering.", source="s-1")
    agent.write(s, "create restart-pod from session s-1")
    for i in (2, 3):
        s = agent.get("restart-pod")
        s.set_meta("version", str(i))
        s.add_source(f"s-{i}")
        s.set_list(WHAT_DIDNT, s.items(WHAT_DIDNT) + [f"dead end {i}"])
        s.add_changelog(f"added dead end {i}", source=f"s-{i}")
        agent.write(s, f"update restart-pod from session s-{i}")
    hist = agent.history("restart-pod")
    assert [(v.rev, v.version, v.sources) for v in hist] == [
        (1, 1, ("s-1",)), (2, 2, ("s-1", "s-2")), (3, 3, ("s-1", "s-2", "s-3"))]
    assert [v.message for v in hist] == ["create restart-pod from session s-1",
                                         "update restart-pod from session s-2",
                                         "update restart-pod from session s-3"]
    old = agent.read_rev("restart-pod", 1)
    assert agent.read_version("restart-pod", 1).render() == old.render()
    assert old.items(WHAT_DIDNT) == ["a dead end: it failed"]
    agent.restore("restart-pod", rev=1, reason="dead ends 2 and 3 were wrong")
    now = agent.get("restart-pod")
    assert now.items(WHAT_DIDNT) == ["a dead end: it failed"]
    assert now.version == 4
    assert "restored from revision 1 (v1, status active): dead ends 2 and 3 were wrong" in now.section("Changelog")
    assert len(agent.history("restart-pod")) == 4


def test_removed_skill_restored_and_searchable(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("a1")
    agent.write(make_skill("rotate-api-key", "Rotate a leaked API key for the billing service."), "create")
    agent.delete("rotate-api-key", "obsolete")
    assert agent.search("rotate leaked api key billing", k=3) == []
    agent.restore("rotate-api-key")
    assert names(agent.search("rotate leaked api key billing", k=3)) == ["rotate-api-key"]
    msgs = [v.message for v in agent.history("rotate-api-key")]
    assert msgs == ["create", "remove rotate-api-key: obsolete", "restore rotate-api-key to revision 1 (v1, status active)"]


def test_index_deleted_and_rebuilt_gives_same_results(example_lib):
    agent = example_lib.agent("sre-oncall")
    queries = ["pods restart with missing env var", "node low on ephemeral storage",
               "memory limit exceeded", "certificate expires tomorrow"]
    before = [[(h.name, round(h.similarity, 5)) for h in agent.search(q, k=4)] for q in queries]
    agent.close()
    shutil.rmtree(agent.root / "index")
    agent = example_lib.agent("sre-oncall")
    after = [[(h.name, round(h.similarity, 5)) for h in agent.search(q, k=4)] for q in queries]
    assert after == before
    assert agent.rebuild_index() == 4
    assert [[(h.name, round(h.similarity, 5)) for h in agent.search(q, k=4)] for q in queries] == before


def test_other_embedder_builds_its_own_index_and_leaves_the_first_alone(tmp_path, hashing, minilm):
    root = tmp_path / "lib"
    a = Library(root, embedder=hashing).agent("a1")
    a.write(make_skill("restart-pod", "Restart a hung pod."), "create")
    a.close()
    [first] = list((a.root / "index").glob("*/meta.json"))
    before = first.read_bytes()
    assert '"embedder": "hashing:1024"' in first.read_text()
    b = Library(root, embedder=minilm).agent("a1")
    assert b.search("pod is stuck", k=1)[0].name == "restart-pod"
    b.close()
    metas = {p.parent.name: p.read_text() for p in (b.root / "index").glob("*/meta.json")}
    assert len(metas) == 2 and first.read_bytes() == before  # a search with another embedder rewrote nothing
    minilm_meta = next(t for t in metas.values() if '"embedder": "st:all-MiniLM-L6-v2"' in t)
    assert '"dim": 384' in minilm_meta


def test_index_grows_without_capacity_errors(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing, index_params={"initial_capacity": 8})
    agent = lib.agent("big")
    topics = [f"service{i} queue{i} worker{i}" for i in range(40)]
    for i, t in enumerate(topics):
        agent.write(make_skill(f"skill-{i}", f"Handle {t} backlog."), f"create skill-{i}")
    assert len(agent) == 40
    assert agent.search("service17 queue17 worker17 backlog", k=1)[0].name == "skill-17"
    agent.close()
    again = lib.agent("big")
    assert again.search("service33 queue33 worker33", k=1)[0].name == "skill-33"


def test_unparseable_file_reported_and_untouched(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("a1")
    agent.write(make_skill("good-one", "A good skill."), "create")
    bad = agent.root / "skills" / "broken-one" / "SKILL.md"
    bad.parent.mkdir()
    raw = b"---\nname: broken-one\ndescription: [unclosed\n---\nbody\n"
    bad.write_bytes(raw)
    agent = lib.agent("a1")
    assert agent.names() == ["good-one"]
    [problem] = agent.problems
    assert problem.path == str(bad) and "invalid YAML front matter at line 4" in problem.reason
    assert bad.read_bytes() == raw
    mismatch = agent.root / "skills" / "wrong-name" / "SKILL.md"
    mismatch.parent.mkdir()
    mismatch.write_text(make_skill("other-name", "x").render())
    agent = lib.agent("a1")
    assert any("differs from folder name" in p.reason for p in agent.problems)


def test_writes_are_atomic_and_idempotent(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    agent = lib.agent("a1")
    s = make_skill("restart-pod", "Restart a hung pod.")
    assert agent.write(s, "create") is not None
    assert agent.write(s, "create again") is None  # same bytes: no second commit
    assert len(agent.history("restart-pod")) == 1
    leftovers = [p for p in Path(agent.root).rglob("*.tmp")]
    assert leftovers == []


def test_opening_missing_agent_without_create(tmp_path, hashing):
    lib = Library(tmp_path / "lib", embedder=hashing)
    with pytest.raises(SkillNotFound):
        lib.agent("ghost", create=False)
    assert not (tmp_path / "lib" / "ghost").exists()
    assert lib.agents() == []


def test_history_packs_loose_objects_on_schedule_and_keeps_every_version(tmp_path):
    """Packing is scheduled by skilllab (dulwich's per-commit gc is off): past the loose-object
    limit the loose objects go into a pack, past the pack limit the packs become one, and every
    version stays readable."""
    from skilllab.history import GitHistory

    git = GitHistory(tmp_path / "agent", loose_limit=12, pack_limit=2, check_every=3)
    f = tmp_path / "agent" / "note.md"
    f.parent.mkdir()
    ids = []
    for i in range(30):
        f.write_text(f"version {i}\n")
        ids.append(git.commit(["note.md"], f"write version {i}"))
    store = git.repo.object_store
    assert git.repo._autogc_disabled
    # each commit writes a blob, a tree and a commit: 90 objects, at most 12 + 3 commits' worth loose
    assert store.count_loose_objects() < 12 + 3 * 3
    assert 1 <= store.count_pack_files() <= 2  # about six packs were made: consolidation ran
    assert [c.message for c in git.log("note.md")] == [f"write version {i}" for i in range(30)]
    assert [git.read("note.md", c) for c in ids] == [f"version {i}\n".encode() for i in range(30)]


def test_history_leaves_packing_alone_below_the_limit(tmp_path):
    from skilllab.history import GitHistory

    git = GitHistory(tmp_path / "agent")  # git's defaults: 6700 loose objects
    (tmp_path / "agent").mkdir()
    for i in range(5):
        (tmp_path / "agent" / "n.md").write_text(str(i))
        git.commit(["n.md"], f"v{i}")
    assert git.repo.object_store.count_pack_files() == 0
    assert git.repo.object_store.count_loose_objects() == 15


def test_commit_changes_only_its_paths_and_index_matches_the_folder(tmp_path):
    """A commit is the last commit's tree with the given paths changed (only the trees on their
    way rebuilt), and the git index stays what the folder holds: nothing staged, nothing modified."""
    from dulwich import porcelain
    from dulwich.object_store import iter_tree_contents

    from skilllab.history import GitHistory

    root = tmp_path / "agent"
    git = GitHistory(root)
    files = {"skills/a/SKILL.md": "a1", "skills/a/references/phrasings.md": "p1", "skills/b/SKILL.md": "b1",
             "settings.toml": "bar = 0.5"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git.commit(sorted(files), "first")
    (root / "skills/a/SKILL.md").write_text("a2")
    (root / "skills/b/SKILL.md").unlink()
    (root / "skills/b").rmdir()
    (root / "skills/c/scripts").mkdir(parents=True)
    (root / "skills/c/scripts/fix.sh").write_text("#!/bin/sh\necho fix\n")
    os.chmod(root / "skills/c/scripts/fix.sh", 0o755)
    (root / "untouched.md").write_text("left out of the commit")
    hook = root / ".git" / "hooks" / "post-commit"  # a hook someone installed still runs
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\necho ran > {tmp_path / 'hook-ran'}\n")
    hook.chmod(0o755)
    second = git.commit(["skills/a/SKILL.md", "skills/b/SKILL.md", "skills/c/scripts/fix.sh"], "second")
    repo = git.repo
    tree = repo[second.encode()].tree
    got = {e.path.decode(): (e.mode, repo[e.sha].data) for e in iter_tree_contents(repo.object_store, tree)}
    assert got == {"skills/a/SKILL.md": (0o100644, b"a2"), "skills/a/references/phrasings.md": (0o100644, b"p1"),
                   "settings.toml": (0o100644, b"bar = 0.5"),
                   "skills/c/scripts/fix.sh": (0o100755, b"#!/bin/sh\necho fix\n")}
    assert [c.message for c in git.log("skills/a/SKILL.md")] == ["first", "second"]
    st = porcelain.status(str(root))
    assert st.staged == {"add": [], "delete": [], "modify": []} and st.unstaged == []
    assert [os.fsdecode(p) for p in st.untracked] == ["untouched.md"]
    assert (tmp_path / "hook-ran").read_text() == "ran\n"


def test_hand_edits_found_by_stat_even_racy_or_with_the_old_mtime(tmp_path, hashing):
    """Before each write, a SKILL.md is hashed again only if its stat changed: an edit right after
    a write (same clock tick), an edit of the same size with its old mtime put back, an added and a
    removed folder are each committed as made by hand, under the name of the skills they touched."""
    import time

    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    for name in ("restart-pod", "rotate-key", "drain-node"):
        agent.write(make_skill(name, f"Skill {name}."), f"create {name}")
    path = agent.root / "skills" / "restart-pod" / "SKILL.md"
    path.write_text(path.read_text().replace("Skill restart-pod.", "Skill restart-pod!"))  # at once: racy
    agent.write(make_skill("scale-up", "Skill scale-up."), "create scale-up")
    assert agent.history("restart-pod")[-1].message.startswith("hand edit of restart-pod")
    time.sleep(0.1)
    agent.write(make_skill("scale-down", "Skill scale-down."), "create scale-down")  # hashes, no longer racy
    target = agent.root / "skills" / "rotate-key" / "SKILL.md"
    st = target.stat()
    time.sleep(0.1)
    target.write_text(target.read_text().replace("Skill rotate-key.", "Skill ROTATE-key."))  # same size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime back: ctime still moves
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    shutil.copytree(agent.root / "skills" / "scale-up", agent.root / "skills" / "scale-out")
    added = agent.root / "skills" / "scale-out" / "SKILL.md"
    added.write_text(added.read_text().replace("scale-up", "scale-out"))
    shutil.rmtree(agent.root / "skills" / "drain-node")
    agent.write(make_skill("restart-job", "Skill restart-job."), "create restart-job")
    msg = agent.history("rotate-key")[-1].message
    assert msg.startswith("hand edit of rotate-key, scale-out; hand removal of drain-node"), msg
    assert agent.store.hand_changes() == ([], [])
    assert agent.store.git.read("skills/rotate-key/SKILL.md", agent.store.git.head()) == target.read_bytes()


def test_reads_see_every_change_to_a_skill_file(tmp_path, hashing):
    """A skill's file is read again whenever its stat changed or it was read within the same clock
    tick as its last change: an edit at once (racy), an edit of the same size with the old mtime
    put back, a phrasings file added and removed by hand are each seen by the next read; a file
    left alone is served from what was read (shown by what the memo holds)."""
    import time

    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    agent.write(make_skill("restart-pod", "Skill restart-pod."), "create restart-pod")
    path = agent.root / "skills" / "restart-pod" / "SKILL.md"
    assert agent.get("restart-pod").description == "Skill restart-pod."
    path.write_text(path.read_text().replace("Skill restart-pod.", "Skill restart-pod!"))  # at once: racy
    assert agent.get("restart-pod").description == "Skill restart-pod!"
    time.sleep(0.1)
    st = path.stat()
    assert agent.get("restart-pod").description == "Skill restart-pod!"
    time.sleep(0.1)
    path.write_text(path.read_text().replace("Skill restart-pod!", "Skill RESTART-pod?"))  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime back: ctime still moves
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert agent.get("restart-pod").description == "Skill RESTART-pod?"
    phrasings = path.parent / "references" / "phrasings.md"
    assert agent.phrasings("restart-pod") == []
    phrasings.parent.mkdir(exist_ok=True)
    phrasings.write_text("- the api pod keeps restarting\n")
    assert agent.phrasings("restart-pod") == ["the api pod keeps restarting"]
    phrasings.unlink()
    assert agent.phrasings("restart-pod") == []
    time.sleep(0.1)
    agent.get("restart-pod")  # read after the racy window: from now on the memo answers
    memo = agent.store._file_memo[os.fspath(path)]
    agent.store._file_memo[os.fspath(path)] = (memo[0], memo[1].replace(b"RESTART-pod", b"MEMO-ED-pod"), memo[2])
    assert agent.get("restart-pod").description == "Skill MEMO-ED-pod?"


def test_agent_lock_is_reentered_without_the_file_lock_and_excludes_other_threads(tmp_path, monkeypatch):
    """The agent's lock reaches the file lock only at its outermost acquire and release; while one
    thread holds it (at any depth) another thread cannot take it, and can once it is let go."""
    import threading

    import filelock

    from skilllab.library import AgentLock

    taken: list[str] = []
    real = filelock.FileLock._acquire

    def acquire(self):
        taken.append(self.lock_file)
        return real(self)

    monkeypatch.setattr(filelock.FileLock, "_acquire", acquire)
    lock = AgentLock(str(tmp_path / ".lock"))
    with lock:
        with lock:
            lock.acquire()
            assert (lock.depth, lock.is_locked, len(taken)) == (3, True, 1)
            lock.release()
        assert lock.depth == 1 and lock.file_lock.is_locked
        outcome: list[str] = []

        def other(timeout: float) -> None:
            try:
                lock.acquire(timeout=timeout)
            except filelock.Timeout:
                outcome.append("timed out")
            else:
                outcome.append(f"taken at depth {lock.depth}")
                lock.release()

        t = threading.Thread(target=other, args=(0.2,))
        t.start()
        t.join()
        assert outcome == ["timed out"] and lock.depth == 1
    assert lock.depth == 0 and not lock.file_lock.is_locked
    t = threading.Thread(target=other, args=(5,))
    t.start()
    t.join()
    assert outcome == ["timed out", "taken at depth 1"]
    lock.acquire()
    lock.acquire()
    lock.release(force=True)
    assert lock.depth == 0 and not lock.file_lock.is_locked


def test_a_commit_keeps_what_another_writer_staged_in_the_git_index(tmp_path, hashing):
    """Each commit takes the git index from memory only while the file is as the last commit left
    it: a file staged by another writer in between (here dulwich's porcelain, as a person's
    ``git add`` would) is still staged after the next write, and the commits stay whole."""
    from dulwich import porcelain

    agent = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    agent.write(make_skill("restart-pod", "Skill restart-pod."), "create restart-pod")
    agent.write(make_skill("rotate-key", "Skill rotate-key."), "create rotate-key")  # index from memory
    (agent.root / "notes.txt").write_text("by hand\n")
    porcelain.add(str(agent.root), paths=[str(agent.root / "notes.txt")])
    agent.write(make_skill("drain-node", "Skill drain-node."), "create drain-node")
    st = porcelain.status(str(agent.root))
    assert st.staged["add"] == [b"notes.txt"] and st.staged["modify"] == [] and st.unstaged == []
    head = agent.store.git.head()
    for name in ("restart-pod", "rotate-key", "drain-node"):
        path = f"skills/{name}/SKILL.md"
        assert agent.store.git.read(path, head) == (agent.root / path).read_bytes()


def test_refresh_reads_nothing_while_the_lock_is_held_and_sees_other_writers_after(tmp_path, hashing, monkeypatch):
    """While a process holds an agent's lock without a break since its index was last in step, no
    other writer can have committed, so refreshing reads nothing; once the lock was let go, the
    next refresh looks at git again and takes in what another handle wrote meanwhile."""
    from skilllab.history import GitHistory

    reads: list[str] = []
    real_head = GitHistory.head

    def head(self):
        reads.append(str(self.root))
        return real_head(self)

    monkeypatch.setattr(GitHistory, "head", head)
    a = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    a.write(make_skill("restart-pod", "Skill restart-pod."), "create restart-pod")
    with a.lock():
        a.refresh()  # the first hold since the write: git is read
        before = len(reads)
        for _ in range(3):
            a.refresh()
        assert len(reads) == before
    b = Library(tmp_path / "lib", embedder=hashing).agent("a1")
    b.write(make_skill("rotate-key", "Skill rotate-key."), "create rotate-key")
    with a.lock():
        before = len(reads)
        a.refresh()
        assert len(reads) > before and "rotate-key" in a
