"""The research harness: replay recorded corpora through the library and measure what it learns.

What lives here: prequential replay (``replay``), the metric registry and its computation
(``metrics``), baseline arms (``baselines``), run folders (``rundir``), figures (``plots``),
parameter sweeps on joblib or Dask (``sweep``), reading finished runs for notebooks
(``analysis``), replay configuration (``config``), benchmarks (``bench``, ``replay_bench``) and the
seeded generator of the bundled corpus (``corpus_gen``).

What it may import: everything in the library part of ``skilllab`` (``skilllab.library``,
``skilllab.distill``, ``skilllab.corpus``...). The library part never imports ``skilllab.lab``.
"""
