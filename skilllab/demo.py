"""An end-to-end demo of the library layer on the bundled example skills.

Copies the example skills shipped inside the package (``skilllab/examples/library/<agent>/<skill>/
SKILL.md``, so an installed wheel has them too) into a fresh library (the copies are picked up as
hand-added files and committed), then searches each agent by meaning.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .library import Library

EXAMPLES = Path(__file__).resolve().parent / "examples" / "library"

DEMO_QUERIES = {
    "sre-oncall": [
        "checkout-api pods keep restarting, logs say DATABASE_URL is not set",
        "container killed with exit code 137 after memory climbs",
        "customers see an expired certificate on shop.example.com",
        "postgres says too many clients already",
    ],
    "dba": [
        "postgres says too many clients already",
        "the read replica is several minutes behind",
    ],
}


def build_example_library(src: Path, dest: Path, embedder: Any = "minilm", cache_dir: Any = None) -> Library:
    """Copy the example skill folders under ``dest`` and open every agent (index built)."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    lib = Library(dest, embedder=embedder, cache_dir=cache_dir)
    for agent_dir in sorted(p for p in Path(src).iterdir() if p.is_dir()):
        shutil.copytree(agent_dir, dest / agent_dir.name / "skills")
        lib.agent(agent_dir.name).close()
    return lib


def run_demo(src: Path, dest: Path, embedder: Any = "minilm", k: int = 2) -> list[dict[str, Any]]:
    lib = build_example_library(src, dest, embedder)
    rows = []
    for agent_id in lib.agents():
        agent = lib.agent(agent_id, create=False)
        for q in DEMO_QUERIES.get(agent_id, []):
            for rank, hit in enumerate(agent.search(q, k=k), 1):
                rows.append({"agent": agent_id, "query": q, "rank": rank, "skill": hit.name,
                             "similarity": round(hit.similarity, 3)})
        agent.close()
    return rows
