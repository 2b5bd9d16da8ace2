"""``skilllab index rebuild``: drop and rebuild agents' vector indexes from the skill files."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import SkillNotFound
from .common import add_json, add_library_args, library, print_json, warn_problems


def register(sub: Any) -> None:
    p = sub.add_parser("index", help="maintain the vector index")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("rebuild", help="rebuild the index of one agent, or of every agent")
    add_library_args(v, agent_required=False)
    add_json(v)
    v.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    lib = library(args)
    ids = [args.agent] if args.agent else lib.agents()
    if not ids:
        raise SkillNotFound(f"no agents in library {lib.root}")
    out = {}
    for agent_id in ids:
        agent = lib.agent(agent_id, create=False)
        out[agent_id] = agent.rebuild_index()
        warn_problems(agent)
        agent.close()
    if args.json:
        print_json(out)
    else:
        for agent_id, n in out.items():
            print(f"{agent_id}: {n} skills indexed")
    return 0
