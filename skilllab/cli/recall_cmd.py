"""``skilllab recall TASK``: the skills an agent would be shown before starting a task."""

from __future__ import annotations

import argparse
from typing import Any

from ..recall import DEFAULT_BUDGET_CHARS, DEFAULT_MIN_SIMILARITY
from .common import add_json, add_library_args, bar_value, open_agent, positive_int, print_json, print_table, remote


def register(sub: Any) -> None:
    p = sub.add_parser("recall", help="skills to surface before a task (or the context block)")
    p.add_argument("task")
    p.add_argument("-k", type=positive_int, default=3)
    p.add_argument("--min-similarity", type=bar_value, default=DEFAULT_MIN_SIMILARITY)
    p.add_argument("--context", action="store_true", help="print the prompt-ready context block")
    p.add_argument("--budget-chars", type=positive_int, default=DEFAULT_BUDGET_CHARS)
    add_library_args(p)
    add_json(p)
    p.set_defaults(func=cmd_recall)


def cmd_recall(args: argparse.Namespace) -> int:
    rows = None if args.context else remote(args, "search_skills", {
        "query": args.task, "k": args.k, "min_similarity": args.min_similarity, "record_use": True})
    if rows is not None:
        return _print_hits(args, rows)
    agent = open_agent(args)
    try:
        if args.context:
            text = agent.recall_context(args.task, k=args.k, min_similarity=args.min_similarity,
                                        budget_chars=args.budget_chars)
            if args.json:
                print_json({"context": text})
            else:
                print(text or "(no skill is similar enough)")
            return 0
        hits = agent.recall(args.task, k=args.k, min_similarity=args.min_similarity)
        return _print_hits(args, [h.to_dict() for h in hits])
    finally:
        agent.close()


def _print_hits(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    if args.json:
        print_json(rows)
    elif not rows:
        print("(no skill is similar enough)")
    else:
        for r in rows:
            r["similarity"] = f"{r['similarity']:.3f}"
        print_table(rows, ["similarity", "name", "status", "description"])
    return 0
