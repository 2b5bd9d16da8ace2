"""``skilllab skills list|show|history``: read one agent's skills."""

from __future__ import annotations

import argparse
from typing import Any

from .common import (
    add_json,
    add_library_args,
    non_negative_int,
    open_agent,
    positive_int,
    print_json,
    print_table,
    warn_problems,
)


def register(sub: Any) -> None:
    p = sub.add_parser("skills", help="list, show and inspect one agent's skills")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    v = verbs.add_parser("list", help="list the agent's skills")
    add_library_args(v)
    add_json(v)
    v.set_defaults(func=cmd_list)

    v = verbs.add_parser("show", help="print one skill's SKILL.md")
    v.add_argument("name")
    add_library_args(v)
    add_json(v)
    v.set_defaults(func=cmd_show)

    v = verbs.add_parser("history", help="every version of a skill: date, reason, sources")
    v.add_argument("name")
    add_library_args(v)
    add_json(v)
    v.set_defaults(func=cmd_history)

    v = verbs.add_parser("stale", help="skills neither updated nor used for N days, and those in review")
    v.add_argument("--days", type=non_negative_int, required=True)
    add_library_args(v)
    add_json(v)
    v.set_defaults(func=cmd_stale)

    v = verbs.add_parser("deprecate", help="keep a skill but never recall it again (a commit)")
    v.add_argument("name")
    v.add_argument("--reason", default="deprecated by hand")
    add_library_args(v)
    v.set_defaults(func=cmd_deprecate)

    v = verbs.add_parser("reactivate", help="make a deprecated skill (or one in review) active again (a commit)")
    v.add_argument("name")
    v.add_argument("--reason", default="reactivated by hand")
    add_library_args(v)
    v.set_defaults(func=cmd_reactivate)

    v = verbs.add_parser("rm", help="revoke a skill: delete its folder (it stays in history)")
    v.add_argument("name")
    v.add_argument("--reason", default="revoked by hand")
    add_library_args(v)
    v.set_defaults(func=cmd_rm)

    v = verbs.add_parser("restore", help="bring a skill back from history (default: its last version)")
    v.add_argument("name")
    v.add_argument("--version", type=positive_int, help="the skill version to restore (see history)")
    v.add_argument("--status", choices=["active", "review", "deprecated"],
                   help="the status to restore it with (default: the one it had in that version)")
    v.add_argument("--reason", default="")
    add_library_args(v)
    v.set_defaults(func=cmd_restore)

    v = verbs.add_parser("diff", help="unified diff of a skill between two of its versions")
    v.add_argument("name")
    v.add_argument("v1", type=positive_int)
    v.add_argument("v2", type=positive_int)
    add_library_args(v)
    v.set_defaults(func=cmd_diff)


def cmd_list(args: argparse.Namespace) -> int:
    agent = open_agent(args, read_only=True)
    warn_problems(agent)
    rows = [s.to_dict() for s in agent.list()]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "status", "version", "updated", "description"])
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    agent = open_agent(args, read_only=True)
    skill = agent.get(args.name)
    if args.json:
        print_json({"name": skill.name, "description": skill.description,
                    "metadata": skill.metadata, "text": skill.render()})
    else:
        print(skill.render(), end="")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    agent = open_agent(args, read_only=True)
    rows = [{"rev": v.rev, "commit": v.commit[:10], "date": v.date,
             "version": "deleted" if v.deleted else (v.version or "?"),
             "sources": " ".join(v.sources), "message": v.message} for v in agent.history(args.name)]
    pending = agent.store.pending(args.name)
    if pending:
        rows.append({"rev": "-", "commit": "(working)", "date": "", "version": "-", "sources": "",
                     "message": f"{pending} by hand, not committed yet (the next change commits it)"})
    if not rows:
        from ..errors import SkillNotFound

        raise SkillNotFound(f"agent {agent.id!r} has no history for skill {args.name!r}")
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["rev", "date", "version", "commit", "sources", "message"])
    return 0


def cmd_stale(args: argparse.Namespace) -> int:
    agent = open_agent(args, read_only=True)
    rows = [s.to_dict() for s in agent.stale(args.days)]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "status", "updated", "last_used", "reason"])
    return 0


def cmd_deprecate(args: argparse.Namespace) -> int:
    agent = open_agent(args)
    cid = agent.deprecate(args.name, args.reason)
    print(f"deprecated {args.name}" + (f" ({cid[:10]})" if cid else " (it already was)"))
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    agent = open_agent(args)
    cid = agent.delete(args.name, args.reason)
    print(f"removed {args.name} ({cid[:10]}); `skilllab skills restore {args.name}` brings it back")
    return 0


def cmd_reactivate(args: argparse.Namespace) -> int:
    agent = open_agent(args)
    before = agent.get(args.name).status
    cid = agent.reactivate(args.name, args.reason)
    print(f"reactivated {args.name} (was {before})" + (f" ({cid[:10]})" if cid else " (it already was active)"))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    agent = open_agent(args)
    cid = agent.restore(args.name, args.version, reason=args.reason, status=args.status)
    skill = agent.get(args.name)
    hint = (f"; `skilllab skills reactivate {args.name}` makes it active" if skill.status != "active" else "")
    print(f"restored {args.name} as version {skill.version} with status {skill.status} ({cid[:10]}){hint}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    agent = open_agent(args, read_only=True)
    print(agent.diff(args.name, args.v1, args.v2), end="")
    return 0
