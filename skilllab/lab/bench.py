"""``make bench``: speed and memory figures, written to ``results/bench.json``.

Benchmarks, not tests: figures are reported (and compared as ratios within one run), never
asserted. Sections:

* ``index``: HNSW on unit vectors of dimension 384 (10k and 100k; random and clustered): build
  time, memory (hnswlib keeps the index in memory as laid out in its saved file, so the file's
  size is its memory),
  recall@5 against exact brute-force search and p50 single-query latency, for several ``ef``.
* ``embed``: MiniLM throughput cold (empty cache) and from the on-disk cache.

Other sections (replay, sweep) are added by ``skilllab.lab.replay_bench`` when present.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from .._fs import read_json, write_json


def _vectors(kind: str, n: int, n_queries: int, dim: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``random``: i.i.d. Gaussian directions, the hardest case for any graph index (no structure).
    ``clustered``: points around n/100 topic centres, closer to how text embeddings are spread."""
    if kind == "random":
        data = rng.standard_normal((n + n_queries, dim), dtype=np.float32)
    else:
        centres = rng.standard_normal((max(n // 100, 1), dim), dtype=np.float32)
        pick = rng.integers(0, len(centres), n + n_queries)
        data = centres[pick] + 0.6 * rng.standard_normal((n + n_queries, dim), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    return np.ascontiguousarray(data[:n]), data[n:]


def bench_index(n: int, dim: int = 384, n_queries: int = 200, k: int = 5, M: int = 32,
                ef_construction: int = 400, efs=(64, 128, 256, 512, 1024, 2048), seed: int = 0,
                kind: str = "random") -> dict:
    from ..index import HnswIndex

    rng = np.random.default_rng(seed)
    data, queries = _vectors(kind, n, n_queries, dim, rng)
    names = [str(i) for i in range(n)]

    t0 = time.perf_counter()
    truth = [set(np.argpartition(-(data @ q), k)[:k].tolist()) for q in queries]
    exact_s = (time.perf_counter() - t0) / n_queries

    idx = HnswIndex(dim, M=M, ef_construction=ef_construction, initial_capacity=n)
    t0 = time.perf_counter()
    idx.upsert(names, data)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        idx.save(Path(d) / "i.hnsw")
        disk = (Path(d) / "i.hnsw").stat().st_size

    by_ef = []
    for ef in efs:
        idx.ef_search = ef
        lat, rec = [], []
        for q, t in zip(queries, truth):
            t1 = time.perf_counter()
            hits = idx.search(q, k)
            lat.append(time.perf_counter() - t1)
            rec.append(len({int(h.name) for h in hits} & t) / k)
        by_ef.append({"ef": ef, "recall_at_5": float(np.mean(rec)),
                      "p50_ms": float(np.median(lat) * 1e3), "p99_ms": float(np.percentile(lat, 99) * 1e3)})
    return {"vectors": kind, "n": n, "dim": dim, "M": M, "ef_construction": ef_construction, "build_seconds": build_s,
            "memory_mb": disk / 2**20,
            "exact_p50_ms": exact_s * 1e3, "by_ef": by_ef}


def bench_embed(n_texts: int = 512) -> dict:
    from ..embed import get_embedder

    rng = np.random.default_rng(1)
    words = ["pod", "node", "disk", "memory", "cpu", "latency", "error", "timeout", "dns", "certificate", "deploy", "rollback", "kafka", "postgres", "redis", "queue", "lag", "restart", "config", "secret", "volume", "network", "ingress"]
    texts = [f"{i}: " + " ".join(rng.choice(words, 12)) for i in range(n_texts)]
    with tempfile.TemporaryDirectory() as d:
        emb = get_embedder("minilm", d)
        emb.embed(["warm up the model"])  # model load is not throughput
        t0 = time.perf_counter()
        emb.embed(texts)
        cold = time.perf_counter() - t0
        fresh = get_embedder("minilm", d)  # a new process would see the same file
        t0 = time.perf_counter()
        fresh.embed(texts)
        cached = time.perf_counter() - t0
        assert fresh.misses == 0
    return {"texts": n_texts, "cold_texts_per_s": n_texts / cold, "cached_texts_per_s": n_texts / cached,
            "cached_over_cold": cold / cached}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/bench.json")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--only", choices=["index", "embed", "replay"], action="append")
    args = p.parse_args(argv)
    out = Path(args.out)
    result = read_json(out, {}) or {}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "platform": platform.platform()}
    only = set(args.only or ["index", "embed", "replay"])
    if "index" in only:
        result["index"] = []
        for n, kind in [(int(x), kind) for x in args.sizes.split(",") for kind in ("random", "clustered")]:
            r = bench_index(n, kind=kind)
            result["index"].append(r)
            dflt = next(e for e in r["by_ef"] if e["ef"] == 512)
            good = next((e["ef"] for e in r["by_ef"] if e["recall_at_5"] >= 0.99), None)
            print(f"hnsw {kind} n={n}: ef for recall@5>=0.99: {good}; build {r['build_seconds']:.1f}s, {r['memory_mb']:.0f} MB; default ef=512: "
                  f"recall@5 {dflt['recall_at_5']:.3f}, p50 {dflt['p50_ms']:.2f} ms "
                  f"(exact brute force p50 {r['exact_p50_ms']:.2f} ms)", flush=True)
        # random vectors have no structure: show what the 0.99 goal costs there at the largest size
        n_max = max(int(x) for x in args.sizes.split(","))
        r = bench_index(n_max, kind="random", M=48, efs=(1024, 2048, 4096))
        r["setting"] = "high recall on unstructured vectors (M=48)"
        result["index"].append(r)
        good = next((e for e in r["by_ef"] if e["recall_at_5"] >= 0.99), None)
        print(f"hnsw random n={n_max}, M=48: build {r['build_seconds']:.0f}s; recall@5 "
              + (f"{good['recall_at_5']:.3f} at ef={good['ef']}, p50 {good['p50_ms']:.1f} ms" if good else
                 f"{r['by_ef'][-1]['recall_at_5']:.3f} at ef={r['by_ef'][-1]['ef']}")
              + f" (exact p50 {r['exact_p50_ms']:.1f} ms)", flush=True)
    if "embed" in only:
        result["embed"] = e = bench_embed()
        print(f"minilm: cold {e['cold_texts_per_s']:.0f} texts/s, cached {e['cached_texts_per_s']:.0f} "
              f"texts/s ({e['cached_over_cold']:.0f}x)", flush=True)
    if "replay" in only:
        try:
            from .replay_bench import bench_replay
        except ImportError:
            bench_replay = None
        if bench_replay is not None:
            result["replay"] = bench_replay()
    result["written_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_json(out, result)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["bench_embed", "bench_index", "main"]
