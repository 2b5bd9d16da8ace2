"""Sweeps: one replay per point of a parameter grid, on local worker processes or a Dask cluster.

Every point writes its own run folder under ``OUT/points/<hash8>/`` (complete or absent), so a
sweep that is run again skips the points it already has and resumes after a crash. All points
share the on-disk embedding cache, and the sweep fills it before the points start (every query
text of the corpus, in large batches, once per embedder), so a text is embedded once for the whole
sweep and the points' replays only look vectors up. A sweep of the recall floor alone is one
replay re-scored at every floor. The result
is ``OUT/summary.csv`` (one row per point: ``param_*`` columns, then every metric) and
``OUT/plots/tradeoff.png``.

``backend="local"`` uses joblib worker processes; ``backend="dask"`` submits the same function to
a Dask distributed scheduler at ``scheduler`` (``tcp://host:8786``), or to a LocalCluster on
127.0.0.1 that it starts and stops when no address is given.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd

from .._fs import atomic_write, write_json
from ..errors import ConfigError
from . import plots
from .config import ReplayConfig, parse_value
from .metrics import METRIC_KEYS


def parse_grid(items: list[str]) -> dict[str, list]:
    """``["novelty_bar=0.3,0.5", "skip_above=none,0.9"]`` -> ``{"novelty_bar": [0.3, 0.5], ...}``."""
    grid: dict[str, list] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not raw:
            raise ConfigError(f"--grid {item!r}: use key=v1,v2,...")
        grid[key.strip()] = [parse_value(v.strip()) for v in raw.split(",")]
    return grid


def points(grid: dict[str, list], base: ReplayConfig) -> list[tuple[dict, ReplayConfig]]:
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values))
        cfg = ReplayConfig.from_dict({**base.to_dict(), **params, "progress": False})
        out.append((params, cfg))
    return out


def run_point(corpus: str, config: dict, folder: str) -> dict[str, dict]:
    """Replay one point into ``folder`` unless it is already there; return each arm's metrics
    (``skilllab`` and every baseline arm of the point's config)."""
    from .replay import run_replay

    folder_p = Path(folder)
    if not (folder_p / "metrics.json").exists():
        # the points run side by side already: each point's arms run one after the other
        run_replay(corpus, ReplayConfig.from_dict({**config, "parallel_arms": False}), out=folder_p)
    out = {"skilllab": json.loads((folder_p / "metrics.json").read_text())}
    arms = folder_p / "arms"
    if arms.is_dir():
        for d in sorted(arms.iterdir()):
            if (d / "metrics.json").exists():
                out[d.name] = json.loads((d / "metrics.json").read_text())
    return out


def _rescore_floors(corpus: str, floors: list, base: ReplayConfig, pts, jobs, out: Path) -> None:
    """A sweep of the recall floor alone is one replay re-scored at every floor (see
    :func:`skilllab.lab.replay.rescore`): each point's folder gets the metrics that replay would
    have given at its floor, and a note saying where they came from."""
    from .replay import run_replay

    todo = [(cfg, folder) for (_, cfg), (_, _, folder) in zip(pts, jobs) if not (Path(folder) / "metrics.json").exists()]
    if not todo:
        return
    once = out / "points" / f"replayed-{base.config_hash()[:8]}"
    res = run_replay(corpus, base, out=once, floors=tuple(float(f) for f in floors))
    for cfg, folder in todo:
        f = float(cfg.recall_min_similarity)
        folder_p = Path(folder)
        write_json(folder_p / "config.json", {"config": cfg.to_dict(), "rescored_from": str(once)})
        write_json(folder_p / "metrics.json", res.details["rescored"][f])
        for name, arm in res.arms.items():
            write_json(folder_p / "arms" / name / "metrics.json", arm.details["rescored"][f])


def embed_ahead(corpus: str, pts: list[tuple[dict, ReplayConfig]]) -> dict[str, dict]:
    """Fill the shared embedding cache with every query text of every point, once per embedder
    and cache, before any point runs (run side by side, the first points would each embed the
    same texts). Returns what was embedded, by embedder."""
    from ..distill import batch
    from ..embed import get_embedder
    from .replay import load_sessions, make_distiller

    done: dict[str, dict] = {}
    for _, cfg in pts:
        key = f"{cfg.embedder}|{cfg.cache_dir}|{cfg.embed_device}|{cfg.embed_batch_size}"
        if key in done:
            continue
        embedder = get_embedder(cfg.embedder, cfg.cache_dir, device=cfg.embed_device, batch_size=cfg.embed_batch_size)
        if not hasattr(embedder, "cache"):
            done[key] = {"texts": 0, "seconds": 0.0}
            continue
        names = {c.distiller: c for c in [cfg, *(cfg.arm(n) for n in cfg.compare)] if c.distiller != "llm"}
        sessions, _ = load_sessions(Path(corpus), cfg)
        done[key] = batch.embed_ahead(embedder, sessions, [make_distiller(c) for c in names.values()])
    return done


def run_sweep(corpus: str | Path, grid: dict[str, list], base: ReplayConfig | None = None, *,
              out: str | Path = "results/sweep", backend: str = "local", scheduler: str | None = None,
              n_jobs: int = 2) -> pd.DataFrame:
    """Run every point of ``grid``; ``summary.csv`` has one row per point and arm (``arm`` column:
    ``skilllab`` or a baseline arm's name), ``param_*`` columns, then every metric."""
    base = base or ReplayConfig()
    corpus = str(Path(corpus).resolve())
    out = Path(out)
    pts = points(grid, base)
    jobs = [(corpus, cfg.to_dict(), str(out / "points" / cfg.config_hash()[:8])) for _, cfg in pts]
    (out / "points").mkdir(parents=True, exist_ok=True)
    if set(grid) == {"recall_min_similarity"}:
        _rescore_floors(corpus, grid["recall_min_similarity"], base, pts, jobs, out)
    elif any(not (Path(folder) / "metrics.json").exists() for _, _, folder in jobs):
        embed_ahead(corpus, pts)
    if backend == "local":
        from joblib import Parallel, delayed

        from .progress import progress

        # results come back in order; progress counts points as they finish
        results = list(progress(Parallel(n_jobs=n_jobs, return_as="generator")(delayed(run_point)(*j) for j in jobs),
                                len(jobs), "sweep", "point", every=1))
    elif backend == "dask":
        results = _run_dask(jobs, scheduler, n_jobs)
    else:
        raise ConfigError(f"backend {backend!r}: choose local or dask")
    rows = []
    for (params, cfg), (_, _, folder), per_arm in zip(pts, jobs, results):
        for arm, metrics in per_arm.items():
            row = {f"param_{k}": v for k, v in params.items()}
            row.update({"arm": arm, "config_hash": cfg.config_hash()[:8], "run": folder})
            row.update({k: metrics.get(k) for k in METRIC_KEYS})
            rows.append(row)
    summary = pd.DataFrame(rows)
    atomic_write(out / "summary.csv", summary.to_csv(index=False))
    write_json(out / "sweep.json", {"corpus": corpus, "grid": grid, "base": base.to_dict(), "backend": backend})
    x = "param_novelty_bar" if "param_novelty_bar" in summary else f"param_{next(iter(grid))}"
    if pd.api.types.is_numeric_dtype(summary[x]) and summary["duplicate_rate"].notna().any():
        plots.save(plots.tradeoff(summary, x=x), out / "plots" / "tradeoff.png")
    return summary


def _run_dask(jobs: list, scheduler: str | None, n_jobs: int) -> list[dict]:
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        scheduler = cluster.scheduler_address
    try:
        with Client(scheduler) as client:
            from distributed import as_completed

            from .progress import progress

            futures = client.map(run_point, *zip(*jobs), pure=False)
            for _ in progress(as_completed(futures), len(futures), "sweep", "point", every=1):
                pass
            return client.gather(futures)
    finally:
        if cluster is not None:
            cluster.close()
