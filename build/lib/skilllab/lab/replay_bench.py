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


# ---- harness cost by stage, and how it scales with history -----------------------------------------

def bench_components(corpus: Path = CORPUS) -> dict:
    """Milliseconds per session by stage, measured by the harness itself (``details.json``)."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, emb in (("hashing", "hashing"), ("minilm_cold", "minilm"), ("minilm_warm", "minilm")):
            t0 = time.perf_counter()
            res = run_replay(corpus, ReplayConfig(progress=False, embedder=emb, cache_dir=cache, bootstrap=0,
                                                  compare=()), write=False)
            wall = time.perf_counter() - t0
            n = res.metrics["sessions"]
            out[name] = {"sessions": n, "seconds": round(wall, 2), "sessions_per_second": round(n / wall, 1),
                         "ms_per_session": res.details["ms_per_session"],
                         "embedding_ahead": res.details.get("embedding_ahead")}
            ms = res.details["ms_per_session"]
            top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(ms.items(), key=lambda kv: -kv[1])[:6])
            print(f"components {name}: {n / wall:.1f} sessions/s end to end; ms/session: {top}", flush=True)
    return out


def _scale_one(corpus: str) -> dict:
    """One replay in this process (called in a fresh process by :func:`bench_scaling`)."""
    import resource

    t0 = time.perf_counter()
    res = run_replay(corpus, ReplayConfig(progress=False, embedder="hashing", bootstrap=0, compare=()), write=False)
    wall = time.perf_counter() - t0
    ms = res.events["loop_ms"].astype(float).tolist()
    k = min(1000, max(1, len(ms) // 10))
    return {"sessions": len(ms), "seconds": round(wall, 2), "sessions_per_second": round(len(ms) / wall, 1),
            "first_ms": round(sum(ms[:k]) / k, 2), "last_ms": round(sum(ms[-k:]) / k, 2), "window": k,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "skills": res.metrics["skills"]}


def bench_scaling(sizes=(1000, 10000, 30000), seed: int = 11) -> list[dict]:
    """Replays of generated corpora of growing length (``hashing``), each in a fresh process: time
    per session over the first and the last sessions, and peak memory."""
    import json
    import subprocess
    import sys

    from .corpus_gen import generate_to_file

    out = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            corpus = Path(d) / f"gen-{n}.jsonl"
            generate_to_file(corpus, seed=seed, sessions=n)
            proc = subprocess.run([sys.executable, "-m", "skilllab.lab.replay_bench", "--scale-one", str(corpus)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-2000:])
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            out.append(r)
            print(f"scaling {n} sessions: {r['sessions_per_second']} sessions/s, {r['first_ms']} ms/session over the "
                  f"first {r['window']}, {r['last_ms']} over the last {r['window']}, peak RSS {r['peak_rss_mb']} MB, "
                  f"{r['skills']} skills", flush=True)
    return out


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--scale-one":
        print(json.dumps(_scale_one(sys.argv[2])))
