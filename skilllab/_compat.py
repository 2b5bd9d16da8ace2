"""Old module names kept importable for one release: ``skilllab.replay`` -> ``skilllab.lab.replay``.

The research harness moved into :mod:`skilllab.lab`. Importing a module by its old name still
works, gives the same module object, and warns once with the new name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Any

MOVED = {f"skilllab.{name}": f"skilllab.lab.{name}"
         for name in ("replay", "metrics", "sweep", "rundir", "plots", "analysis", "bench", "replay_bench", "config",
                      "corpus_gen")}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        warnings.warn(f"{spec.name} moved to {MOVED[spec.name]}; the old name goes away in the next release",
                      DeprecationWarning, stacklevel=3)
        module = importlib.import_module(MOVED[spec.name])
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
