"""Arguments and printing shared by the CLI commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ..library import Library

if TYPE_CHECKING:
    from ..library import Agent



def add_library_args(p: argparse.ArgumentParser, agent: bool = True, agent_required: bool = True) -> None:
    p.add_argument("--library", default=os.environ.get("SKILLLAB_LIBRARY", "library"),
                   help="library folder (default: $SKILLLAB_LIBRARY or ./library)")
    if agent:
        p.add_argument("--agent", required=agent_required and "SKILLLAB_AGENT" not in os.environ,
                       default=os.environ.get("SKILLLAB_AGENT"), help="agent id (default: $SKILLLAB_AGENT)")
    p.add_argument("--embedder", default=os.environ.get("SKILLLAB_EMBEDDER", "minilm"),
                   help="embedder: minilm (default), hashing, st:NAME, openai:MODEL")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def bar_value(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a bar, a floor)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{value:g} must be from 0 to 1")
    return value


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def library(args: argparse.Namespace, read_only: bool = False) -> Library:
    return Library(args.library, embedder=args.embedder, read_only=read_only)


def open_agent(args: argparse.Namespace, create: bool = False, read_only: bool = False) -> Any:
    """The agent the arguments name. ``read_only``: a command that only reads opens it so that it
    can commit nothing and write no index (an index made another way is built in memory)."""
    return library(args, read_only=read_only).agent(args.agent, create=create)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


def warn_problems(agent: Agent) -> None:
    for p in agent.problems:
        print(f"skilllab: warning: {p}", file=sys.stderr)


def remote(args: argparse.Namespace, tool: str, call_args: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The hits from a running ``skilllab mcp --http`` server of this library, agent and embedder
    (the model is already loaded there), or None to search in this process."""
    from ..mcp_server import call_remote, running_server

    url = running_server(args.library, args.agent, args.embedder)
    if url is None:
        return None
    try:
        rows: list[dict[str, Any]] = call_remote(url, tool, call_args)["results"]
        return rows
    except OSError:
        return None
