"""Moved to :mod:`skilllab.lab.replay` (the research harness lives in ``skilllab/lab/``).

This name keeps working for one release and warns; import from ``skilllab.lab.replay`` instead.
"""

import importlib as _importlib
import sys as _sys
import warnings as _warnings

_warnings.warn("skilllab.replay moved to skilllab.lab.replay; this alias goes away in the next release",
               DeprecationWarning, stacklevel=2)
_sys.modules[__name__] = _importlib.import_module("skilllab.lab.replay")
