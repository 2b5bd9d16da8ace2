"""``skilllab check``: verify an agent's repository, index, ledger and cache; repair what is derived."""

from __future__ import annotations

import argparse
from typing import Any

from ..check import check_agent
from ..errors import SkillNotFound
from .common import add_json, add_library_args, library, print_json, print_table


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="verify an agent's files, history, index and ledger; rebuild what is derived")
    add_library_args(p, agent_required=False)
    add_json(p)
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    lib = library(args)
    ids = [args.agent] if args.agent else lib.agents()
    if not ids:
        raise SkillNotFound(f"no agents in library {lib.root}")
    rows = []
    for agent_id in ids:
        rows += [{"agent": agent_id, **f.to_dict()} for f in check_agent(lib, agent_id)]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["agent", "area", "status", "detail"])
    return 1 if any(r["status"] == "damaged" for r in rows) else 0
