"""``skilllab demo``: build a library from the bundled example skills and search it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..demo import EXAMPLES, run_demo
from .common import print_json, print_table


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build a library from bundled example skills and search it")
    p.add_argument("--examples", default=str(EXAMPLES),
                   help="folder of <agent>/<skill>/SKILL.md (default: the examples shipped with skilllab)")
    p.add_argument("--out", default="results/demo-library", help="library folder to (re)create")
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    rows = run_demo(Path(args.examples), Path(args.out), args.embedder)
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["agent", "rank", "similarity", "skill", "query"])
        print(f"\nlibrary written to {args.out} (one git repository per agent)")
    return 0
