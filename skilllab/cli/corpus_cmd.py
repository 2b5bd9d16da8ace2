"""``skilllab corpus validate|stats|generate|import|schema``: check, describe, make and import session corpora."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from statistics import mean, median
from typing import Any

from ..corpus import iter_corpus, validate_corpus
from ..errors import SkilllabError
from .common import add_json, positive_int, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("corpus", help="validate, describe or generate session corpora")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("validate", help="report every bad line as file:line:field")
    v.add_argument("file")
    v.add_argument("--lenient", action="store_true", help="count bad lines but exit 0 if any line is good")
    add_json(v)
    v.set_defaults(func=cmd_validate)
    v = verbs.add_parser("stats", help="sessions, agents, families, success rate, time span, sizes")
    v.add_argument("file")
    v.add_argument("--lenient", action="store_true")
    add_json(v)
    v.set_defaults(func=cmd_stats)
    v = verbs.add_parser("generate", help="write the seeded synthetic SRE corpus")
    v.add_argument("--seed", type=int, default=7)
    v.add_argument("--sessions", type=positive_int, default=600)
    v.add_argument("--out", required=True)
    v.add_argument("--planted-secrets", action="store_true",
                   help="write the planted-secret corpus instead: every credential shape in every position "
                        "(task, diagnostic, fix, summary, assistant), the planted values in OUT.values.json")
    v.set_defaults(func=cmd_generate)
    v = verbs.add_parser("import", help="turn the logs agent tools write into sessions (JSONL)",
                         description="Formats: tau2, claude-code, codex, gemini-cli, opencode, copilot-cli, "
                                     "langchain, openai-messages (see docs/session-format.md).")
    v.add_argument("format")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.add_argument("--agent", required=True, help="agent id the sessions belong to")
    v.add_argument("--out", help="write here (atomically) instead of standard output")
    v.add_argument("--lenient", action="store_true", help="skip unreadable records (each reported) instead of stopping")
    v.add_argument("--outcome", metavar="RESULTS.json", help="a results file whose 'success' is the outcome")
    v.add_argument("--success", choices=["true", "false"], help="the outcome, for logs that do not record one")
    v.add_argument("--family-from", choices=["write-actions", "task-id", "none"], default="write-actions",
                   help="tau2: how labels.family is set (default: the gold write actions)")
    v.set_defaults(func=cmd_import)
    v = verbs.add_parser("schema", help="print the JSON Schema of a session line")
    v.set_defaults(func=cmd_schema)


def cmd_validate(args: argparse.Namespace) -> int:
    n, problems = validate_corpus(args.file)
    if args.json:
        print_json({"good": n, "problems": [p.__dict__ for p in problems]})
    else:
        for p in problems:
            print(p)
        print(f"{args.file}: {n} good sessions, {len(problems)} problems", file=sys.stderr)
    if problems and not (args.lenient and n):
        return 1
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    problems: list[Any] = []
    sessions = list(iter_corpus(args.file, lenient=args.lenient, problems=problems))
    if not sessions:
        raise SkilllabError(f"{args.file}: no sessions")
    msgs = [len(s.messages) for s in sessions]
    calls = [len(s.tool_steps()) for s in sessions]
    fams = Counter(s.family for s in sessions if s.family)
    times = sorted(s.started for s in sessions)
    stats = {
        "sessions": len(sessions), "bad_lines": len(problems),
        "agents": dict(Counter(s.agent_id for s in sessions)),
        "families": len(fams), "top_families": dict(fams.most_common(5)),
        "success_rate": round(sum(s.success for s in sessions) / len(sessions), 4),
        "first": times[0].isoformat(), "last": times[-1].isoformat(),
        "span_days": round((times[-1] - times[0]).total_seconds() / 86400, 1),
        "messages_per_session": {"mean": round(mean(msgs), 1), "median": median(msgs), "max": max(msgs)},
        "tool_calls_per_session": {"mean": round(mean(calls), 1), "median": median(calls), "max": max(calls)},
    }
    if args.json:
        print_json(stats)
    else:
        for k, v in stats.items():
            print(f"{k}: {v}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from ..lab.corpus_gen import generate_to_file

    if args.planted_secrets:
        import json

        from .._fs import atomic_write
        from ..lab.corpus_gen.secrets import planted_corpus

        sessions, planted = planted_corpus(args.seed)
        atomic_write(Path(args.out), "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sessions))
        atomic_write(Path(f"{args.out}.values.json"), json.dumps(planted, indent=1))
        kinds = len({p["kind"] for p in planted})
        print(f"wrote {len(sessions)} sessions ({kinds} credential shapes x {len(sessions) // kinds} positions) "
              f"to {args.out}; the planted values to {args.out}.values.json")
        return 0
    n = generate_to_file(args.out, args.seed, args.sessions)
    print(f"wrote {n} sessions to {args.out} (seed {args.seed})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import json
    import os

    from ..corpus.importers import ImportOptions, ImportProblem, import_sessions
    from ..names import validate_agent_id

    opts = ImportOptions(validate_agent_id(args.agent), success=None if args.success is None else args.success == "true",
                         outcome_file=args.outcome, family_from=args.family_from)
    problems: list[ImportProblem] = []
    sessions = import_sessions(args.format, args.paths, opts, lenient=args.lenient, problems=problems)
    n = 0
    if args.out:
        tmp = f"{args.out}.tmp-{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                for s in sessions:
                    fh.write(json.dumps(s, ensure_ascii=False) + "\n")
                    n += 1
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, args.out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        for s in sessions:
            sys.stdout.write(json.dumps(s, ensure_ascii=False) + "\n")
            n += 1
    for p in problems:
        print(f"skipped {p}", file=sys.stderr)
    print(f"imported {n} sessions" + (f" to {args.out}" if args.out else "") +
          (f"; skipped {len(problems)} unreadable records" if problems else ""), file=sys.stderr)
    return 0 if n else 1


def cmd_schema(args: argparse.Namespace) -> int:
    from ..corpus import SCHEMA_PATH

    sys.stdout.write(SCHEMA_PATH.read_text(encoding="utf-8"))
    return 0
