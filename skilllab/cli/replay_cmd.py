"""``skilllab replay``, ``skilllab sweep`` and ``skilllab compare``: the research runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import positive_int, print_json


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="a JSONL session corpus")
    p.add_argument("--config", help="a TOML file of replay settings")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (repeatable), e.g. --set novelty_bar=0.6")
    p.add_argument("--json", action="store_true")


def register(sub: Any) -> None:
    p = sub.add_parser("replay", help="replay a corpus through recall and distillation; write a run folder")
    _config_args(p)
    p.add_argument("--out", help="run folder (default: results/<utc>_<corpus>_<hash8>)")
    p.add_argument("--results", default="results", help="where default run folders go")
    p.add_argument("--compare", action="append", metavar="ARM",
                   help="baseline arm replayed beside skilllab (default: nearest); 'none' for no arm")
    p.add_argument("--audit", action="store_true",
                   help="audit the run folder for secrets at the end (exit status 1 on a finding)")
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser("sweep", help="replay every point of a parameter grid; write summary.csv")
    _config_args(p)
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2,...")
    p.add_argument("--backend", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", help="dask scheduler address (default: start a LocalCluster on 127.0.0.1)")
    p.add_argument("--jobs", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--out", default="results/sweep")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("compare", help="one table of several finished runs: config differences and every metric")
    p.add_argument("runs", nargs="+", help="run folders (an arm of a run is <run>/arms/<name>)")
    p.add_argument("--plot", help="where to write the comparison figure (default: next to the first run)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)


def cmd_replay(args: argparse.Namespace) -> int:
    from ..lab.config import ReplayConfig
    from ..lab.replay import run_replay, summary_table

    overrides = list(args.set)
    if args.compare:
        arms = [a for a in args.compare if a != "none"]
        overrides.append("compare=[" + ", ".join(f'"{a}"' for a in arms) + "]")
    config = ReplayConfig.load(args.config, overrides)
    res = run_replay(args.corpus, config, out=args.out, results_dir=args.results)
    assert res.path is not None  # the command always writes its run folder
    if args.json:
        print_json({"run": str(res.path), "metrics": res.metrics,
                    "arms": {n: a.metrics for n, a in res.arms.items()}})
    else:
        print(summary_table(res.metrics, {n: a.metrics for n, a in res.arms.items()}))
        print(f"\nrun folder: {res.path}  (report: {res.path / 'report.md'})")
    if args.audit:
        from ..audit import audit

        report = audit([res.path])
        for f in report.findings:
            print(f"  {f}", file=sys.stderr)
        print(f"audit of {res.path}: {report.files} files, {report.git_objects} git objects, "
              f"{len(report.findings)} secret findings", file=sys.stderr if args.json else sys.stdout)
        return 1 if report.findings else 0
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..lab.config import ReplayConfig
    from ..lab.sweep import parse_grid, run_sweep

    base = ReplayConfig.load(args.config, args.set)
    summary = run_sweep(args.corpus, parse_grid(args.grid), base, out=args.out, backend=args.backend,
                        scheduler=args.scheduler, n_jobs=args.jobs)
    if args.json:
        print_json(summary.to_dict(orient="records"))
    else:
        cols = [c for c in summary.columns if c.startswith("param_")] + [
            "arm", "skills", "duplicate_rate", "family_coverage", "decision_accuracy", "recall_p_at_1",
            "false_recall_rate"]
        print(summary[cols].to_string(index=False))
        print(f"\nsummary: {args.out}/summary.csv")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..lab.analysis import compare_table, load_runs
    from ..lab.plots import compare_runs, save

    runs = load_runs(args.runs)
    table = compare_table(runs)
    plot = Path(args.plot) if args.plot else Path(args.runs[0]) / "plots" / "compare.png"
    save(compare_runs(runs), plot)
    if args.json:
        print_json(table.to_dict(orient="index"))
    else:
        print(table.to_string())
        print(f"\nfigure: {plot}")
    return 0
