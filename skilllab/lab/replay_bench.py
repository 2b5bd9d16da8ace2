"""Replay benchmarks for ``make bench``: throughput, embedding share, harness overhead, sweep cost.

* ``minilm_cold`` / ``minilm_warm``: the bundled corpus with MiniLM and an empty, then a filled cache;
* ``hashing``: the same with the model-free embedder;
* ``sweep_vs_singles``: a 5-value sweep of the novelty bar sharing one cache, against 5 single
  replays that each start from an empty cache (both sequential, so the difference is the cache).
Figures are reported, never asserted; compare them as ratios within one run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .config import ReplayConfig
from .replay import run_replay

CORPUS = Path(__file__).resolve().parents[2] / "datasets" / "sre-sessions.jsonl"
BARS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _one(corpus: Path, **cfg) -> dict:
    res = run_replay(corpus, ReplayConfig(progress=False, **cfg), write=False)
    m = res.metrics
    wall, emb, n = m["wall_seconds"], m["embed_seconds"], m["sessions"]
    return {"sessions": n, "wall_seconds": wall, "sessions_per_second": n / wall, "embed_seconds": emb,
            "embed_share": emb / wall if wall else None, "overhead_ms_per_session": 1e3 * (wall - emb) / n}


def bench_replay(corpus: Path = CORPUS) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        out["minilm_cold"] = _one(corpus, embedder="minilm", cache_dir=cache)
        out["minilm_warm"] = _one(corpus, embedder="minilm", cache_dir=cache)
    out["hashing"] = _one(corpus, embedder="hashing")
    for name, r in out.items():
        print(f"replay {name}: {r['sessions_per_second']:.1f} sessions/s, embedding {100 * (r['embed_share'] or 0):.0f}% "
              f"of wall time, harness overhead {r['overhead_ms_per_session']:.1f} ms/session", flush=True)
    t0 = time.perf_counter()
    for bar in BARS:
        with tempfile.TemporaryDirectory() as cache:
            run_replay(corpus, ReplayConfig(progress=False, novelty_bar=bar, cache_dir=cache), write=False)
    singles = time.perf_counter() - t0
    from .sweep import run_sweep

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        run_sweep(corpus, {"novelty_bar": list(BARS)}, ReplayConfig(cache_dir=str(Path(d) / "cache")),
                  out=Path(d) / "sweep", backend="local", n_jobs=1)
        sweep = time.perf_counter() - t0
    out["sweep_vs_singles"] = {"bars": list(BARS), "singles_cold_seconds": singles, "sweep_seconds": sweep,
                               "singles_over_sweep": singles / sweep}
    print(f"sweep of {len(BARS)} bars: {sweep:.0f}s; {len(BARS)} cold single replays: {singles:.0f}s "
          f"({singles / sweep:.1f}x)", flush=True)
    return out
