"""``skilllab distill SESSIONS.jsonl``: distill recorded sessions into their agents' libraries.

The summary separates new work from sessions the ledger already had; the exit status is 1 when
any session ended in ``error`` (a distiller call that failed: it is tried again by the next run).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from ..corpus import SortedCorpus
from ..distill import DistillOptions, distill_sessions, get_distiller, preflight
from ..distill.batch import embed_ahead
from ..distill.flow import OUTCOMES
from .common import add_json, add_library_args, bar_value, library, positive_int, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("distill", help="distill finished sessions (JSONL) into skills")
    p.add_argument("sessions", help="a JSONL file of sessions (see docs/session-format.md)")
    add_library_args(p, agent=False)
    p.add_argument("--distiller", default="extractive", help="extractive (default), nearest, llm or llm:MODEL")
    p.add_argument("--bar", type=bar_value, default=None, help="novelty bar for this run (default: each agent's)")
    p.add_argument("-k", type=positive_int, default=5, help="candidates shown to the distiller (default 5)")
    p.add_argument("--skip-above", type=bar_value, default=None, help="skip without distilling at this score")
    p.add_argument("--failed-to-dead-ends", action="store_true",
                   help="add a failed session's dead ends to the nearest skill")
    p.add_argument("--retry-errors", action=__import__("argparse").BooleanOptionalAction, default=True,
                   help="try again the sessions whose distiller failed last time (default: yes)")
    p.add_argument("--max-attempts", type=positive_int, default=3, help="tries per session in all (default 3)")
    p.add_argument("--model", help="llm: model name")
    p.add_argument("--base-url", help="llm: OpenAI-compatible endpoint (default $OPENAI_BASE_URL)")
    p.add_argument("--cassette", help="llm: record/replay file for LLM exchanges")
    p.add_argument("--cassette-mode", default="auto", choices=["auto", "record", "replay"])
    p.add_argument("--lenient", action="store_true", help="skip bad lines instead of stopping")
    add_json(p)
    p.set_defaults(func=cmd_distill)


def cmd_distill(args: argparse.Namespace) -> int:
    # a stream in started_at order: every line checked first, then each session parsed from its
    # line when it is distilled, so memory does not grow with the transcripts
    sessions = SortedCorpus(args.sessions, lenient=args.lenient)
    problems = sessions.problems
    for prob in problems:
        print(f"skilllab: skipped {prob}", file=sys.stderr)
    dist = get_distiller(args.distiller, model=args.model, base_url=args.base_url, cassette=args.cassette,
                         cassette_mode=args.cassette_mode)
    options = DistillOptions(bar=args.bar, k=args.k, skip_above=args.skip_above,
                             failed_to_dead_ends=args.failed_to_dead_ends, retry_errors=args.retry_errors,
                             max_attempts=args.max_attempts)
    lib = library(args)
    preflight(dist)  # an endpoint that cannot answer stops the run before any embedding
    embed_ahead(lib.embedder, sessions, [dist])  # every query text in batches, into the shared cache
    agents: dict[str, Any] = {}
    results = []  # kept for --json only; otherwise the counts below
    seen = repeated = 0
    counts: Counter[str] = Counter()
    try:
        for _s, res in distill_sessions(lib, sessions, dist, options=options, agents=agents):
            seen += 1
            repeated += bool(res.repeated)
            if not res.repeated:
                counts[res.decision] += 1
            if args.json:
                results.append(res)
            if res.warning:
                print(f"skilllab: warning: {res.warning}", file=sys.stderr)
            if not args.json:
                sim = "-" if res.top_similarity is None else f"{res.top_similarity:.3f}"
                state = "already distilled: " if res.repeated else ""
                print(f"{res.session_id}  {res.agent_id}  {state}{res.decision:<7} {res.skill or '-'}  sim={sim}  "
                      f"{res.reason}" + (f"  [error: {res.error}]" if res.error else ""))
    finally:
        for a in agents.values():
            a.close()
    errors = counts.get("error", 0)
    if args.json:
        print_json({"results": [r.to_dict() | {"repeated": r.repeated} for r in results], "new": dict(counts),
                    "already_distilled": repeated, "skipped_lines": len(problems)})
    else:
        summary = ", ".join(f"{k} {counts.get(k, 0)}" for k in OUTCOMES)
        print(f"{seen} sessions: {repeated} already distilled, {seen - repeated} new ({summary})"
              + (f"; {len(problems)} bad lines skipped" if problems else ""))
        if errors:
            print(f"skilllab: {errors} session(s) ended in error; the next run tries them again", file=sys.stderr)
    return 1 if errors else 0
