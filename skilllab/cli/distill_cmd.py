"""``skilllab distill SESSIONS.jsonl``: distill recorded sessions into their agents' libraries."""

from __future__ import annotations

import sys
from collections import Counter

from ..corpus import read_corpus
from ..distill import distill_session, get_distiller
from .common import add_json, add_library_args, library, print_json


def register(sub) -> None:
    p = sub.add_parser("distill", help="distill finished sessions (JSONL) into skills")
    p.add_argument("sessions", help="a JSONL file of sessions (see the session format)")
    add_library_args(p, agent=False)
    p.add_argument("--distiller", default="extractive", help="extractive (default), llm or llm:MODEL")
    p.add_argument("--bar", type=float, default=None, help="novelty bar for this run (default: each agent's)")
    p.add_argument("-k", type=int, default=5, help="candidates shown to the distiller (default 5)")
    p.add_argument("--skip-above", type=float, default=None, help="skip without distilling at this similarity")
    p.add_argument("--failed-to-dead-ends", action="store_true",
                   help="add a failed session's dead ends to the nearest skill")
    p.add_argument("--model", help="llm: model name")
    p.add_argument("--base-url", help="llm: OpenAI-compatible endpoint (default $OPENAI_BASE_URL)")
    p.add_argument("--cassette", help="llm: record/replay file for LLM exchanges")
    p.add_argument("--cassette-mode", default="auto", choices=["auto", "record", "replay"])
    p.add_argument("--lenient", action="store_true", help="skip bad lines instead of stopping")
    add_json(p)
    p.set_defaults(func=cmd_distill)


def cmd_distill(args) -> int:
    sessions, problems = read_corpus(args.sessions, lenient=args.lenient)
    for prob in problems:
        print(f"skilllab: skipped {prob}", file=sys.stderr)
    opts = {}
    if args.distiller.startswith("llm"):
        opts = {k: v for k, v in {"model": args.model, "base_url": args.base_url, "cassette": args.cassette,
                                  "cassette_mode": args.cassette_mode}.items() if v is not None}
    dist = get_distiller(args.distiller, **opts)
    lib = library(args)
    agents = {}
    results = []
    for s in sessions:
        if s.agent_id not in agents:
            agents[s.agent_id] = lib.agent(s.agent_id)
        res = distill_session(agents[s.agent_id], s, dist, bar=args.bar, k=args.k, skip_above=args.skip_above,
                              failed_to_dead_ends=args.failed_to_dead_ends)
        results.append(res)
        if not args.json:
            sim = "-" if res.top_similarity is None else f"{res.top_similarity:.3f}"
            print(f"{res.session_id}  {res.agent_id}  {res.decision:<7} {res.skill or '-'}  sim={sim}  {res.reason}"
                  + (f"  [error: {res.error}]" if res.error else ""))
    for a in agents.values():
        a.close()
    counts = Counter(r.decision for r in results)
    if args.json:
        print_json({"results": [r.to_dict() for r in results], "summary": dict(counts),
                    "skipped_lines": len(problems)})
    else:
        summary = ", ".join(f"{k} {counts.get(k, 0)}" for k in ("create", "update", "skip", "gated", "invalid", "error"))
        print(f"{len(results)} sessions: {summary}" + (f"; {len(problems)} bad lines skipped" if problems else ""))
    return 0
