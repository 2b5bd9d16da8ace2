"""Moved to :mod:`skilllab.lab.plots` (the research harness lives in ``skilllab/lab/``).

This name keeps working for one release and warns; import from ``skilllab.lab.plots`` instead.
"""

import importlib as _importlib
import sys as _sys
import warnings as _warnings

_warnings.warn("skilllab.plots moved to skilllab.lab.plots; this alias goes away in the next release",
               DeprecationWarning, stacklevel=2)
_sys.modules[__name__] = _importlib.import_module("skilllab.lab.plots")
