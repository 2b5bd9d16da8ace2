"""``skilllab skills list|show|history``: read one agent's skills."""

from __future__ import annotations

from .common import add_json, add_library_args, open_agent, print_json, print_table, warn_problems


def register(sub) -> None:
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


def cmd_list(args) -> int:
    agent = open_agent(args)
    warn_problems(agent)
    rows = [s.to_dict() for s in agent.list()]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["name", "status", "version", "updated", "description"])
    return 0


def cmd_show(args) -> int:
    agent = open_agent(args)
    skill = agent.get(args.name)
    if args.json:
        print_json({"name": skill.name, "description": skill.description,
                    "metadata": skill.metadata, "text": skill.render()})
    else:
        print(skill.render(), end="")
    return 0


def cmd_history(args) -> int:
    agent = open_agent(args)
    rows = [{"rev": v.rev, "commit": v.commit[:10], "date": v.date,
             "version": "deleted" if v.deleted else (v.version or "?"),
             "sources": " ".join(v.sources), "message": v.message} for v in agent.history(args.name)]
    if not rows:
        from ..errors import SkillNotFound

        raise SkillNotFound(f"agent {agent.id!r} has no history for skill {args.name!r}")
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["rev", "date", "version", "commit", "sources", "message"])
    return 0
