"""Run folders: complete or absent, self-describing, and readable back into pandas.

A run is written into a hidden temporary folder next to its final place and renamed at the end,
so a crash never leaves a half-written run and a sweep can skip the points that exist.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as md
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

RUN_SCHEMA = 1
PACKAGES = ("skilllab", "numpy", "pandas", "scikit-learn", "hnswlib", "sentence-transformers", "torch", "openai",
            "dulwich", "matplotlib", "dask", "distributed", "joblib")


def utc_stamp() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def package_versions() -> dict[str, str | None]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = None
    return out


def source_revision() -> dict:
    """The git commit of the skilllab checkout this runs from, and whether it had local changes."""
    here = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"git_commit": commit, "git_dirty": dirty}


def environment() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "packages": package_versions(), **source_revision()}


class RunFolder:
    """Build a run in ``<final>.tmp-<pid>`` and move it to ``final`` on :meth:`commit`."""

    def __init__(self, final: Path):
        self.final = Path(final)
        if self.final.exists():
            from ..errors import SkilllabError

            raise SkilllabError(f"{self.final} already exists; remove it or choose another --out")
        self.tmp = self.final.parent / f".{self.final.name}.tmp-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def commit(self) -> Path:
        os.sync()  # every file of the run reaches the disk before the folder is given its name
        os.replace(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def read_run(path: str | Path) -> dict:
    """A finished run: its config, metrics and events (a DataFrame)."""
    import pandas as pd

    path = Path(path)
    return {"path": path, "config": json.loads((path / "config.json").read_text()),
            "metrics": json.loads((path / "metrics.json").read_text()),
            "events": pd.read_csv(path / "events.csv")}
