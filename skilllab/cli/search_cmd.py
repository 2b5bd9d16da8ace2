"""``skilllab search TEXT``: one agent's skills nearest in meaning to a text."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json, add_library_args, open_agent, positive_int, print_json, print_table, remote, warn_problems


def register(sub: Any) -> None:
    p = sub.add_parser("search", help="search one agent's skills by meaning")
    p.add_argument("text")
    p.add_argument("-k", type=positive_int, default=5, help="number of hits (default 5)")
    p.add_argument("--include-deprecated", action="store_true")
    add_library_args(p)
    add_json(p)
    p.set_defaults(func=cmd_search)


def cmd_search(args: argparse.Namespace) -> int:
    rows = None if args.include_deprecated else remote(args, "search_skills", {
        "query": args.text, "k": args.k, "min_similarity": 0.0, "record_use": False})
    if rows is None:
        agent = open_agent(args, read_only=True)
        warn_problems(agent)
        hits = agent.search(args.text, k=args.k, include_deprecated=args.include_deprecated)
        rows = [h.to_dict() for h in hits]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            r["similarity"] = f"{r['similarity']:.3f}"
        print_table(rows, ["similarity", "name", "description"])
    return 0
