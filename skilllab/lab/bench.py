"""``make bench``: speed and memory figures, written to ``results/bench.json``.

Benchmarks, not tests: figures are reported (and compared as ratios within one run), never
asserted. Sections:

* ``index``: HNSW on unit vectors of dimension 384 (10k and 100k; random and clustered): build
  time, memory (hnswlib keeps the index in memory as laid out in its saved file, so the file's
  size is its memory),
  recall@5 against exact brute-force search and p50 single-query latency, for several ``ef``.
* ``embed``: MiniLM throughput cold (empty cache) and from the on-disk cache.

* ``retrieval``: search quality of the whole loop with dense, lexical and hybrid search (a replay of
  the bundled corpus, and of ``--real CORPUS`` when given), and search latency on 10,000 skills.
* ``cli``: import time of the command line and per-command latency: reading commands, a search in
  a cold process, and a search answered by a running ``skilllab mcp --http`` server.
* ``replay``, ``components``, ``scaling`` (``skilllab.lab.replay_bench``): throughput, time per
  stage, and time per session and memory as the corpus grows (1k, 10k, 30k sessions).
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


def bench_embed(n_texts: int = 512, device: str = "cpu", batch_size: int = 64) -> dict:
    from ..embed import get_embedder

    rng = np.random.default_rng(1)
    words = ["pod", "node", "disk", "memory", "cpu", "latency", "error", "timeout", "dns", "certificate", "deploy", "rollback", "kafka", "postgres", "redis", "queue", "lag", "restart", "config", "secret", "volume", "network", "ingress"]
    texts = [f"{i}: " + " ".join(rng.choice(words, 12)) for i in range(n_texts)]
    with tempfile.TemporaryDirectory() as d:
        emb = get_embedder("minilm", d, device=device, batch_size=batch_size)
        emb.embed(["warm up the model"])  # model load is not throughput
        t0 = time.perf_counter()
        emb.embed(texts)
        cold = time.perf_counter() - t0
        fresh = get_embedder("minilm", d, device=device, batch_size=batch_size)  # a new process would see the same file
        t0 = time.perf_counter()
        fresh.embed(texts)
        cached = time.perf_counter() - t0
        assert fresh.misses == 0
    return {"texts": n_texts, "device": device, "batch_size": batch_size, "cold_texts_per_s": n_texts / cold, "cached_texts_per_s": n_texts / cached,
            "cached_over_cold": cold / cached}


def bench_retrieval(corpora: list[Path], n_skills: int = 10000, n_queries: int = 200) -> dict:
    """Quality of dense, lexical and hybrid search in the whole loop, and their latency at scale."""
    from ..index import SearchSettings, SkillIndex
    from ..skill import Skill
    from .config import ReplayConfig
    from .corpus_gen import generate
    from .replay import run_replay

    out: dict = {"quality": {}, "latency": {}}
    modes = {"dense": 0.0, "hybrid": 0.3, "lexical": 1.0}
    for corpus in corpora:
        rows = {}
        for mode, w in modes.items():
            m = run_replay(corpus, ReplayConfig(progress=False, lexical_weight=w, bootstrap=0, compare=()),
                           write=False).metrics
            rows[mode] = {k: m[k] for k in ("recall_p_at_1", "false_recall_rate", "recall_auc", "recall_p_at_1_at_fr20",
                                            "duplicate_rate", "decision_accuracy", "skills")}
            print(f"retrieval {corpus.name} {mode}: p@1 {m['recall_p_at_1']:.3f}, false recall "
                  f"{m['false_recall_rate']:.3f}, AUC {m['recall_auc']:.3f}, duplicates {m['duplicate_rate']:.3f}",
                  flush=True)
        out["quality"][corpus.name] = rows
    from ..embed import get_embedder

    sessions = generate(seed=3, sessions=n_skills + n_queries)
    emb = get_embedder("hashing:384")
    for mode, w in modes.items():
        idx = SkillIndex(emb, "hnsw", {}, SearchSettings(lexical_weight=w, phrasings=0))
        skills = [(Skill.new(f"skill-{i}", s["task"][:200] + ".", agent="bench", when_to_use=s["task"],
                             steps=["`echo`"], worked=["ok"], dead_ends=[], source=None, date="2026-01-01"),
                   f"sha{i}", []) for i, s in enumerate(sessions[:n_skills])]
        t0 = time.perf_counter()
        for i in range(0, len(skills), 1000):
            idx.update(skills[i:i + 1000])
        build = time.perf_counter() - t0
        lat = []
        for s in sessions[n_skills:]:
            t0 = time.perf_counter()
            idx.search(s["task"], 5)
            lat.append(time.perf_counter() - t0)
        out["latency"][mode] = {"skills": n_skills, "build_seconds": round(build, 2),
                                "p50_ms": round(1e3 * float(np.median(lat)), 3),
                                "p95_ms": round(1e3 * float(np.percentile(lat, 95)), 3)}
        print(f"search latency, {n_skills} skills, {mode}: p50 {out['latency'][mode]['p50_ms']:.2f} ms, "
              f"p95 {out['latency'][mode]['p95_ms']:.2f} ms", flush=True)
    return out


def bench_cli(repeats: int = 3) -> dict:
    """Import time and per-command latency of the command line (fresh processes)."""
    import json
    import socket
    import subprocess
    import sys

    def timed(argv: list[str], env=None) -> float:
        best = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
            best.append(time.perf_counter() - t0)
        return round(float(np.median(best)), 3)

    py = sys.executable
    out: dict = {}
    with tempfile.TemporaryDirectory() as d:
        lib = Path(d) / "lib"
        from ..demo import EXAMPLES, build_example_library

        built = build_example_library(EXAMPLES, lib, embedder="hashing")  # the files only: no model loaded here
        for agent_id in built.agents():
            built.agent(agent_id).commit_hand_edits()
        env = {**os.environ, "SKILLLAB_CACHE_DIR": str(Path(d) / "cache"), "HF_HUB_OFFLINE": "1"}
        base = ["--library", str(lib), "--agent", "sre-oncall"]
        out["python_startup_s"] = timed([py, "-c", "pass"], env)
        out["import_cli_s"] = timed([py, "-c", "import skilllab.cli"], env)
        name = sorted(p.name for p in (lib / "sre-oncall" / "skills").iterdir())[0]
        for label, argv in (("skills_list_s", ["skills", "list"]), ("skills_show_s", ["skills", "show", name]),
                            ("skills_history_s", ["skills", "history", name])):
            out[label] = timed([py, "-m", "skilllab", *argv, *base], env)
        query = ["search", "pods keep restarting after a deploy", *base]
        t0 = time.perf_counter()  # a process of its own, the model to load (an empty embedding cache)
        subprocess.run([py, "-m", "skilllab", *query], capture_output=True, check=True,
                       env={**env, "SKILLLAB_CACHE_DIR": str(Path(d) / "empty-cache")})
        out["search_cold_model_s"] = round(time.perf_counter() - t0, 3)
        subprocess.run([py, "-m", "skilllab", *query], capture_output=True, env=env, check=True)  # fill the cache
        out["search_cold_process_s"] = timed([py, "-m", "skilllab", *query], env)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([py, "-m", "skilllab", "mcp", "--http", str(port), *base], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            marker = lib / "sre-oncall" / "state" / "server.json"
            for _ in range(1200):
                try:
                    if marker.exists():
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            out["search_warm_server_s"] = timed([py, "-m", "skilllab", *query], env)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("cli: " + json.dumps(out), flush=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/bench.json")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--only", choices=["index", "embed", "replay", "retrieval", "cli", "components", "scaling"],
                   action="append")
    p.add_argument("--real", action="append", default=[], help="a real corpus to measure retrieval on too")
    p.add_argument("--scale", default="1000,10000,30000", help="corpus lengths for the scaling table")
    p.add_argument("--device", default="cpu", help="where MiniLM runs in the embed, replay and components sections: "
                   "cpu (the default, so figures compare across machines), cuda, cuda:N, mps or auto")
    p.add_argument("--batch-size", type=int, default=64, help="texts per MiniLM forward pass (larger suits a GPU)")
    args = p.parse_args(argv)
    out = Path(args.out)
    result = read_json(out, {}) or {}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "platform": platform.platform(), "device": args.device, "batch_size": args.batch_size}
    dev = {"device": args.device, "batch_size": args.batch_size}
    only = set(args.only or ["index", "embed", "replay", "retrieval", "cli", "components", "scaling"])
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
        result["embed"] = e = bench_embed(**dev)
        print(f"minilm on {args.device}: cold {e['cold_texts_per_s']:.0f} texts/s, cached {e['cached_texts_per_s']:.0f} "
              f"texts/s ({e['cached_over_cold']:.0f}x)", flush=True)
    if "replay" in only:
        try:
            from .replay_bench import bench_replay
        except ImportError:
            bench_replay = None
        if bench_replay is not None:
            result["replay"] = bench_replay(**dev)
    if "retrieval" in only:
        from .replay_bench import CORPUS

        result["retrieval"] = bench_retrieval([CORPUS, *map(Path, args.real)])
    if "cli" in only:
        result["cli"] = bench_cli()
    if "components" in only:
        from .replay_bench import bench_components

        result["components"] = bench_components(**dev)
    if "scaling" in only:
        from .replay_bench import bench_scaling

        result["scaling"] = bench_scaling(tuple(int(x) for x in args.scale.split(",")))
    result["written_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_json(out, result)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["bench_cli", "bench_embed", "bench_index", "bench_retrieval", "main"]
