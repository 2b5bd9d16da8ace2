"""Shared fixtures: a private embedding cache, real embedders, example skills."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "skilllab" / "examples" / "library"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One embedding cache for the whole test session (never the user's own cache)."""
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(autouse=True)
def _private_cache(cache_dir, monkeypatch):
    monkeypatch.setenv("SKILLLAB_CACHE_DIR", str(cache_dir))


@pytest.fixture(scope="session")
def minilm(cache_dir):
    """The real all-MiniLM-L6-v2, cached on disk for the session."""
    from skilllab.embed import get_embedder

    return get_embedder("minilm", cache_dir)


@pytest.fixture(scope="session")
def hashing():
    from skilllab.embed import get_embedder

    return get_embedder("hashing", False)


@pytest.fixture
def example_lib(tmp_path, minilm):
    """A library holding copies of the bundled example skills, opened with MiniLM."""
    from skilllab.demo import build_example_library

    return build_example_library(EXAMPLES, tmp_path / "lib", embedder=minilm)


def copy_examples(dest: Path) -> None:
    for agent_dir in EXAMPLES.iterdir():
        shutil.copytree(agent_dir, dest / agent_dir.name / "skills")
