"""Replay benchmarks for ``make bench``: throughput, embedding share, harness overhead, sweep cost.

* ``minilm_cold`` / ``minilm_warm``: the bundled corpus with MiniLM and an empty, then a filled cache;
* ``hashing``: the same with the model-free embedder (warm and ``hashing``: the median of
  :data:`REPEATS` runs, every run's figure beside it);
* ``minilm_cold.replay_over_embedding``: a cold replay's wall time over the model's own time for
  its texts (query texts embedded ahead in batches, plus the skill texts each arm embeds as it
  writes them: ``model_seconds`` has each part);
* ``bar_sweep`` / ``floor_sweep``: 5-point sweeps from an empty cache against one cold replay.
Figures are reported, never asserted; compare them as ratios within one run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .config import ReplayConfig
from .replay import run_replay

CORPUS = Path(__file__).resolve().parents[2] / "datasets" / "sre-sessions.jsonl"
BARS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _one(corpus: Path, **cfg) -> dict:
    """One replay: skilllab's arm (its loop's wall time, less the model's) and the whole run end to
    end (loading, the baseline arm, the metrics)."""
    t0 = time.perf_counter()
    res = run_replay(corpus, ReplayConfig(progress=False, **cfg), write=False)
    whole = time.perf_counter() - t0
    m = res.metrics
    wall, emb, n = m["wall_seconds"], m["embed_seconds"], m["sessions"]
    return {"sessions": n, "wall_seconds": wall, "sessions_per_second": n / wall, "embed_seconds": emb,
            "embed_share": emb / wall if wall else None, "overhead_ms_per_session": 1e3 * (wall - emb) / n,
            "replay_seconds": round(whole, 2), "replay_ms_per_session": round(1e3 * whole / n, 2),
            "arms": sorted(res.arms)}


REPEATS = 3  # warm and hashing replays are cheap: each is run this many times and the median reported


def median_run(run: Callable[[], dict], repeats: int = REPEATS) -> dict:
    """The run of median harness overhead among ``repeats`` runs of ``run``, with every run's
    overhead and whole-replay time beside it (a shared machine moves a single run by a third)."""
    runs = sorted((run() for _ in range(repeats)), key=lambda r: r["overhead_ms_per_session"])
    mid = dict(runs[len(runs) // 2])
    mid["overhead_ms_per_session_runs"] = [round(r["overhead_ms_per_session"], 2) for r in runs]
    mid["replay_ms_per_session_runs"] = sorted(r["replay_ms_per_session"] for r in runs)
    return mid


def model_seconds(res) -> dict[str, float]:
    """The model's own time for every text of a replay, by part: the query texts embedded ahead in
    batches (``ahead``), and the skill texts each arm embedded as it wrote them (``skilllab`` and
    each baseline arm). A baseline arm's texts are the replay's texts too: leaving them out would
    count the model's time for them as the harness's."""
    ahead = res.details.get("embedding_ahead") or {}
    return {"ahead": ahead.get("model_seconds", 0.0), "skilllab": res.metrics["embed_seconds"],
            **{name: arm.metrics["embed_seconds"] for name, arm in res.arms.items()}}


def bench_replay(corpus: Path = CORPUS, n_jobs: int = 2, device: str = "cpu", batch_size: int = 64) -> dict:
    """Whole replays: cold and warm MiniLM and ``hashing``; how a cold replay compares with the
    time its texts take to embed alone; and what 5-point sweeps of the bar and of the recall floor
    cost against one cold replay (each sweep from an empty cache too). ``device`` and
    ``batch_size``: where and in what batches MiniLM runs."""
    dev = {"embed_device": device, "embed_batch_size": batch_size}
    out: dict = {"device": device, "batch_size": batch_size}
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        res = run_replay(corpus, ReplayConfig(progress=False, embedder="minilm", cache_dir=cache, **dev), write=False)
        one = time.perf_counter() - t0
        m, n = res.metrics, res.metrics["sessions"]
        ahead = res.details.get("embedding_ahead") or {}
        model = model_seconds(res)
        out["minilm_cold"] = {"sessions": n, "wall_seconds": round(one, 2), "sessions_per_second": round(n / one, 1),
                              "embed_seconds": m["embed_seconds"],  # skilllab's arm, in its loop
                              "model_seconds": {k: round(v, 2) for k, v in model.items()},
                              "embedded_ahead": ahead, "replay_over_embedding": round(one / sum(model.values()), 2)}
        out["minilm_warm"] = median_run(lambda: _one(corpus, embedder="minilm", cache_dir=cache, **dev))
    out["hashing"] = median_run(lambda: _one(corpus, embedder="hashing"))
    for name in ("minilm_warm", "hashing"):
        r = out[name]
        print(f"replay {name} (median of {REPEATS}): skilllab's arm {r['sessions_per_second']:.1f} sessions/s, "
              f"embedding {100 * (r['embed_share'] or 0):.0f}% of its wall time, harness overhead "
              f"{r['overhead_ms_per_session']:.1f} ms/session (runs: {r['overhead_ms_per_session_runs']}); the "
              f"whole replay with {', '.join(r['arms'])} {r['replay_ms_per_session']:.1f} ms/session "
              f"({r['replay_seconds']} s; runs: {r['replay_ms_per_session_runs']})", flush=True)
    c = out["minilm_cold"]
    parts = ", ".join(f"{k} {v} s" for k, v in c["model_seconds"].items())
    print(f"replay minilm_cold: {c['wall_seconds']} s, {c['replay_over_embedding']}x the model's own time for its "
          f"texts ({parts}; {c['embedded_ahead'].get('texts')} query texts embedded ahead in batches, skill texts "
          f"as each arm writes them)", flush=True)
    from .sweep import run_sweep

    for key, grid in (("bar_sweep", {"novelty_bar": list(BARS)}),
                      ("floor_sweep", {"recall_min_similarity": [0.35, 0.4, 0.45, 0.5, 0.55]})):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            run_sweep(corpus, grid, ReplayConfig(cache_dir=str(Path(d) / "cache"), progress=False, **dev),
                      out=Path(d) / "sweep", backend="local", n_jobs=n_jobs)
            sweep = time.perf_counter() - t0
        out[key] = {"points": 5, "n_jobs": n_jobs, "seconds": round(sweep, 2), "one_replay_seconds": round(one, 2),
                    "over_one_replay": round(sweep / one, 2)}
        print(f"{key}: 5 points in {sweep:.0f} s = {sweep / one:.2f}x one cold replay ({one:.0f} s), "
              f"{n_jobs} workers", flush=True)
    return out


# ---- harness cost by stage, and how it scales with history -----------------------------------------

def bench_components(corpus: Path = CORPUS, device: str = "cpu", batch_size: int = 64) -> dict:
    """Milliseconds per session by stage, measured by the harness itself (``details.json``); MiniLM
    on ``device`` in batches of ``batch_size``."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, emb in (("hashing", "hashing"), ("minilm_cold", "minilm"), ("minilm_warm", "minilm")):
            t0 = time.perf_counter()
            res = run_replay(corpus, ReplayConfig(progress=False, embedder=emb, cache_dir=cache, bootstrap=0,
                                                  compare=(), embed_device=device, embed_batch_size=batch_size),
                             write=False)
            wall = time.perf_counter() - t0
            n = res.metrics["sessions"]
            out[name] = {"sessions": n, "seconds": round(wall, 2), "sessions_per_second": round(n / wall, 1),
                         "ms_per_session": res.details["ms_per_session"],
                         "embedding_ahead": res.details.get("embedding_ahead")}
    print(component_table(out), flush=True)
    return out


def component_table(out: dict) -> str:
    """Milliseconds per session by stage (rows) for each setting (columns)."""
    names = list(out)
    stages = sorted({k for r in out.values() for k in r["ms_per_session"]},
                    key=lambda k: -max(r["ms_per_session"].get(k, 0.0) for r in out.values()))
    w = max(map(len, stages + ["sessions/s end to end"]))
    lines = [f"{'ms per session':<{w}}  " + "  ".join(f"{n:>12}" for n in names)]
    for k in stages:
        lines.append(f"{k:<{w}}  " + "  ".join(f"{out[n]['ms_per_session'].get(k, 0.0):>12.2f}" for n in names))
    lines.append(f"{'sessions/s end to end':<{w}}  " + "  ".join(f"{out[n]['sessions_per_second']:>12.1f}" for n in names))
    return "\n".join(lines)


def scaling_table(rows: list[dict]) -> str:
    """One row per corpus length: throughput, time per session early and late, memory."""
    base = rows[0]["peak_rss_mb"] if rows else 0.0
    lines = [f"{'sessions':>9} {'sessions/s':>10} {'ms first':>9} {'ms last':>8} {'last/first':>10} "
             f"{'peak RSS MB':>11} {'RSS / smallest':>14} {'skills':>6}"]
    for r in rows:
        lines.append(f"{r['sessions']:>9} {r['sessions_per_second']:>10} {r['first_ms']:>9} {r['last_ms']:>8} "
                     f"{r['last_ms'] / r['first_ms']:>10.2f} {r['peak_rss_mb']:>11} {r['peak_rss_mb'] / base:>14.2f} "
                     f"{r['skills']:>6}")
    return "\n".join(lines)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB. On Linux, ``VmHWM`` of ``/proc/self/status``:
    ``getrusage``'s ``ru_maxrss`` keeps the peak of the process that started this one when it
    was started by fork and exec (a benchmark started from a parent holding a model would report
    the parent's memory)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _scale_one(corpus: str) -> dict:
    """One replay in this process (called in a fresh process by :func:`bench_scaling`)."""
    t0 = time.perf_counter()
    res = run_replay(corpus, ReplayConfig(progress=False, embedder="hashing", bootstrap=0, compare=()), write=False)
    wall = time.perf_counter() - t0
    ms = [float(v) for v in res.event_log.column("loop_ms")]  # not the whole frame: memory is measured
    k = min(1000, max(1, len(ms) // 10))
    return {"sessions": len(ms), "seconds": round(wall, 2), "sessions_per_second": round(len(ms) / wall, 1),
            "first_ms": round(sum(ms[:k]) / k, 2), "last_ms": round(sum(ms[-k:]) / k, 2), "window": k,
            "peak_rss_mb": peak_rss_mb(),
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
    print(scaling_table(out), flush=True)
    return out


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--scale-one":
        print(json.dumps(_scale_one(sys.argv[2])))
