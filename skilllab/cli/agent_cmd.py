"""``skilllab agent show|set``: an agent's settings (the novelty bar and the drift window)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from .common import add_json, add_library_args, open_agent, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("agent", help="show or change an agent's settings")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("show", help="print the agent's settings")
    add_library_args(v)
    add_json(v)
    v.set_defaults(func=cmd_show)
    v = verbs.add_parser("set", help="turn the novelty knob (0..1, higher is stricter)")
    v.add_argument("--bar", type=float, required=True)
    v.add_argument("--reason", default="")
    add_library_args(v)
    v.set_defaults(func=cmd_set)


def cmd_show(args: argparse.Namespace) -> int:
    agent = open_agent(args)
    data = {"agent": agent.id, "skills": len(agent), **asdict(agent.settings)}
    if args.json:
        print_json(data)
    else:
        for k, v in data.items():
            print(f"{k}: {v}")
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    agent = open_agent(args, create=True)
    old = agent.settings.novelty_bar
    agent.set_novelty_bar(args.bar, args.reason)
    print(f"{agent.id}: novelty bar {old:g} -> {args.bar:g}")
    return 0
