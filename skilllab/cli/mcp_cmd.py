"""``skilllab mcp``: serve one agent's skills over the Model Context Protocol (stdio or local HTTP)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_library_args, positive_int


def register(sub: Any) -> None:
    p = sub.add_parser("mcp", help="serve an agent's skills to MCP clients (search, load, outcomes, sessions)",
                       description="Serve one agent's skill library over MCP: tools search_skills, load_skill, "
                                   "record_outcome, submit_session; each skill as a skill://NAME resource.")
    add_library_args(p)
    p.add_argument("--http", type=positive_int, metavar="PORT",
                   help="serve streamable HTTP on 127.0.0.1:PORT instead of stdio")
    p.add_argument("--distiller", default="extractive", help="distiller for submitted sessions")
    p.add_argument("--no-queue", action="store_true", help="refuse submit_session (a read-mostly server)")
    p.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    import logging

    from ..library import Library
    from ..mcp_server import serve

    logging.basicConfig(level=logging.WARNING)  # stdout carries the protocol; logs go to stderr
    lib = Library(args.library, embedder=args.embedder)
    serve(lib, args.agent, transport="http" if args.http else "stdio", port=args.http or 0,
          distiller=args.distiller, queue=not args.no_queue)
    return 0
