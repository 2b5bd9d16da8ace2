"""``skilllab audit``: report secret shapes on disk (path and kind, never the value); ``--fix`` cleans them."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .common import print_json


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="look for secrets in a library, its git history, sidecars and run folders",
                       description="Scan files, every git object, the ledger, the queue and the embedding cache "
                                   "for secret shapes and report path + kind (never the value). Exit status 1 "
                                   "when something is found.")
    p.add_argument("paths", nargs="*", help="more folders or files to scan (run folders, a corpus)")
    p.add_argument("--library", default=os.environ.get("SKILLLAB_LIBRARY", "library"),
                   help="library folder (default: $SKILLLAB_LIBRARY or ./library); scanned when it exists")
    p.add_argument("--no-cache", action="store_true", help="leave the embedding cache folder out")
    p.add_argument("--fix", action="store_true",
                   help="redact files in place, delete derived files, rewrite git histories that hold a secret")
    p.add_argument("--dry-run", action="store_true", help="with --fix: list the changes and make none")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_audit)


def _targets(args: argparse.Namespace) -> list[str]:
    from pathlib import Path

    from ..embed.cache import default_cache_dir
    from ..errors import SkilllabError

    out = list(args.paths)
    if Path(args.library).exists() or not args.paths:
        if not Path(args.library).exists():
            raise SkilllabError(f"{args.library}: no such library folder (name one with --library, or give paths)")
        out.insert(0, args.library)
    cache = default_cache_dir()
    if not args.no_cache and cache.is_dir():
        out.append(str(cache))
    return out


def cmd_audit(args: argparse.Namespace) -> int:
    from ..audit import audit, fix
    from ..errors import SkilllabError

    if args.dry_run and not args.fix:
        raise SkilllabError("--dry-run goes with --fix")
    targets = _targets(args)
    if args.fix:
        plan, report = fix(targets, dry_run=args.dry_run)
        if args.json:
            print_json({"dry_run": args.dry_run, "plan": plan.to_dict(), "audit": report.to_dict()})
        else:
            for line in plan.lines():
                print(("would " if args.dry_run else "") + line)
            if not plan.lines():
                print("nothing to fix")
        if args.dry_run:
            return 1 if report.findings else 0
        after = audit(targets)
        if not args.json:
            print(f"after the fix: {len(after.findings)} findings")
            for f in after.findings:
                print(f"  {f}")
        return 1 if after.findings else 0
    report = audit(targets)
    if args.json:
        print_json(report.to_dict())
    else:
        for f in report.findings:
            print(f)
        print(f"audited {', '.join(targets)}: {report.files} files, {report.git_objects} git objects in "
              f"{len(report.repositories)} repositories; {len(report.findings)} findings")
    return 1 if report.findings else 0
