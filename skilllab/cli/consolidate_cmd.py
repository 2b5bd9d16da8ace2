"""``skilllab consolidate``: split skills that hold unrelated problems, merge duplicates (one commit each)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_json, add_library_args, bar_value, open_agent, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("consolidate", help="split over-merged skills and merge duplicates (--dry-run: plan only)")
    add_library_args(p)
    p.add_argument("--sessions", action="append", metavar="FILE",
                   help="corpus of the agent's sessions: lets splits see what each branch's sources asked")
    p.add_argument("--dry-run", action="store_true", help="print the plan and write nothing")
    p.add_argument("--split-similarity", type=bar_value, default=None)
    p.add_argument("--merge-similarity", type=bar_value, default=None)
    p.add_argument("--proposer", choices=["rules", "llm"], default="rules",
                   help="who proposes splits and merges: the rules (default) or the llm distiller's model "
                        "(its proposals validated like its decisions)")
    p.add_argument("--model", help="llm: model name")
    p.add_argument("--base-url", help="llm: OpenAI-compatible endpoint (default $OPENAI_BASE_URL)")
    p.add_argument("--cassette", help="llm: record/replay file for LLM exchanges")
    add_json(p)
    p.set_defaults(func=cmd_consolidate)


def cmd_consolidate(args: argparse.Namespace) -> int:
    from ..corpus import iter_corpus

    sessions = None
    if args.sessions:
        sessions = {s.session_id: s.task for f in args.sessions for s in iter_corpus(f, lenient=True)
                    if s.agent_id == args.agent}
    agent = open_agent(args, read_only=args.dry_run)
    kw = {k: v for k, v in (("split_similarity", args.split_similarity),
                            ("merge_similarity", args.merge_similarity)) if v is not None}
    if args.proposer == "llm":
        from ..distill import get_distiller
        from ..distill.batch import preflight

        kw["proposer"] = get_distiller("llm", model=args.model, base_url=args.base_url, cassette=args.cassette)
        preflight(kw["proposer"])
    from ..errors import SkilllabError

    try:
        if args.dry_run:
            from ..consolidate import plan

            p = plan(agent, sessions, **kw)
        else:
            p = agent.consolidate(sessions, **kw)
    except ValueError as exc:  # proposals the model could not make valid: nothing was written
        raise SkilllabError(str(exc)) from None
    if args.json:
        print_json({"dry_run": args.dry_run, "splits": [s.__dict__ for s in p.splits],
                    "merges": [m.__dict__ for m in p.merges], "notes": p.notes})
    else:
        for line in p.lines():
            print(("would " if args.dry_run and not line.startswith("splits need") else "") + line)
        if not p:
            print("nothing to consolidate")
    return 0
