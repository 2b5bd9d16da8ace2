"""Link-proof storage: every path skilllab opens under an agent is refused when it is a link or
leads out of the agent's folder; an audit hook watching every open sees nothing outside it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).parent

# Each case plants one link in agent a1's folder, pointing at a target outside it, then runs the
# operation that would follow it. The operation must fail with UnsafePath (or report the file as
# a problem and leave it alone), and nothing under OUTSIDE may be opened.
SCENARIO = r'''
import json, os, shutil, sys
from pathlib import Path
from helpers import make_session, make_skill, CRASHLOOP_CALLS
from skilllab import Library, UnsafePath
from skilllab.distill import DistillQueue
from skilllab.session import Session

base = Path(sys.argv[1])
case = sys.argv[2]
lib_root, outside = base / "lib", base / "outside"
outside.mkdir(parents=True, exist_ok=True)
lib = Library(lib_root, embedder="hashing")
b = lib.agent("b1")
b.write(make_skill("b-secret", "Agent b's own runbook for its private systems.", agent="b1"), "b's skill")
b.close()
a = lib.agent("a1")
a.write(make_skill("a-skill", "Agent a's runbook for restarting pods.", agent="a1"), "a's skill")
a.close()
root = lib_root / "a1"

def link(rel, target):
    p = root / rel
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif p.exists() or p.is_symlink():
        p.unlink()
    p.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, p)

t = outside / case
if case in ("skill-folder", "skills-dir", "index", "state", "queue", "scripts"):
    t.mkdir(parents=True, exist_ok=True)
else:
    t.write_text("{}\n")

session = Session.from_dict(make_session("s-1", "Pods of x in namespace y are in CrashLoopBackOff", CRASHLOOP_CALLS,
                                         summary="fixed", agent="a1"))
import sys as _sys

events = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        events.append(os.path.realpath(os.fsdecode(args[0])))
results = {}
if case == "skill-folder":
    link("skills/linked", lib_root / "b1" / "skills" / "b-secret")
elif case == "skill-md":
    (root / "skills" / "half").mkdir(parents=True)
    link("skills/half/SKILL.md", lib_root / "b1" / "skills" / "b-secret" / "SKILL.md")
elif case == "skills-dir":
    link("skills", lib_root / "b1" / "skills")
elif case == "agent-folder":
    shutil.rmtree(root); os.symlink(lib_root / "b1", root)
elif case == "lock":
    link(".lock", t)
elif case == "git":
    link(".git", lib_root / "b1" / ".git")
elif case == "index":
    link("index", t)
elif case == "state":
    link("state", t)
elif case == "queue":
    link("queue", t)
elif case == "usage":
    link("skills/a-skill/usage.json", t)
elif case == "agent-toml":
    link("agent.toml", t)
elif case == "scripts":
    link("skills/a-skill/scripts", t)
elif case == "phrasings":
    link("skills/a-skill/references/phrasings.md", t)
_sys.addaudithook(hook)
try:
    agent = Library(lib_root, embedder="hashing").agent("a1")
    results["names"] = agent.names()
    results["problems"] = [str(p) for p in agent.problems]
    results["search"] = [h.name for h in agent.search("runbook", k=5)]
    if case == "usage":
        agent.record_outcome("a-skill", True)
    if case == "queue":
        DistillQueue(Library(lib_root, embedder="hashing"), "a1").submit(session)
    if case == "scripts":
        skill = agent.get("a-skill")
        skill.set_meta("version", "2")
        agent.write(skill, "with a script", files={"scripts/fix.sh": "echo fixed\n"})
    res = agent.distill(session)
    results["decision"] = res.decision
    agent.close()
    results["outcome"] = "no error"
except UnsafePath as exc:
    results["outcome"] = "refused"
    results["message"] = str(exc)
results["outside_opens"] = sorted({e for e in events if e.startswith(str(outside.resolve()))
                                   or e.startswith(str((lib_root / "b1").resolve()))})
print(json.dumps(results))
'''

CASES = ["skill-folder", "skill-md", "skills-dir", "agent-folder", "lock", "git", "index", "state", "queue", "usage",
         "agent-toml", "scripts", "phrasings"]


def run_case(tmp_path, case):
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(SCENARIO), str(tmp_path), case], capture_output=True,
                         text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_every_planted_link_is_refused_and_nothing_outside_is_opened(tmp_path):
    for case in CASES:
        out = run_case(tmp_path / case, case)
        assert out["outside_opens"] == [], (case, out)
        if case in ("skill-folder", "skill-md"):
            # a linked skill is reported and left alone, never searched
            assert out["outcome"] == "no error" and "b-secret" not in out["names"] and "linked" not in out["names"]
            assert any("is a symlink" in p for p in out["problems"]), out
            assert "b-secret" not in out["search"]
        elif case == "phrasings":
            assert out["outcome"] == "no error" and any("is a symlink" in p for p in out["problems"]), out
        else:
            assert out["outcome"] == "refused", (case, out)
            assert "symlink" in out["message"] or "outside" in out["message"], (case, out)
            assert out["message"].count("\n") == 0
