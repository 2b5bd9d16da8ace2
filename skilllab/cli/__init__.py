"""The ``skilllab`` command line: nouns with verbs (``skills list``) and bare actions (``search``).

Each command parses its arguments, calls one library function and prints the result; ``--json``
gives a machine-readable form. A user error is one line on stderr and exit status 1.

What it may import: anything in ``skilllab``, but heavy modules (torch through an embedder, pandas
and matplotlib through the lab, the mcp SDK) only inside the command that needs them, so reading
commands start fast.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import SkilllabError
from . import (
    agent_cmd,
    audit_cmd,
    check_cmd,
    consolidate_cmd,
    corpus_cmd,
    demo_cmd,
    distill_cmd,
    index_cmd,
    mcp_cmd,
    recall_cmd,
    replay_cmd,
    search_cmd,
    skills_cmd,
)

COMMANDS = (skills_cmd, agent_cmd, index_cmd, search_cmd, recall_cmd, distill_cmd, corpus_cmd, replay_cmd, check_cmd,
            audit_cmd, consolidate_cmd, mcp_cmd, demo_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skilllab",
        description="Per-agent skill libraries for LLM agents: distil, search, recall, replay.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMANDS:
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SkilllabError as exc:
        print(f"skilllab: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a full disk, a folder that cannot be written, a file that went away
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"skilllab: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skilllab: interrupted", file=sys.stderr)
        return 130

