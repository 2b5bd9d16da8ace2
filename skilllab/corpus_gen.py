"""Moved to :mod:`skilllab.lab.corpus_gen` (the research harness lives in ``skilllab/lab/``).

This name keeps working for one release and warns; import from ``skilllab.lab.corpus_gen`` instead.
"""

import importlib as _importlib
import sys as _sys
import warnings as _warnings

_warnings.warn("skilllab.corpus_gen moved to skilllab.lab.corpus_gen; this alias goes away in the next release",
               DeprecationWarning, stacklevel=2)
_sys.modules[__name__] = _importlib.import_module("skilllab.lab.corpus_gen")
