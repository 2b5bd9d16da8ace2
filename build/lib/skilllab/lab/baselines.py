"""Baseline arms: what skilllab is measured against, replayed on the same corpus in the same run.

``nearest`` is the obvious alternative any reviewer asks about: remember every task and cluster
by nearest neighbour (see :mod:`skilllab.distill.nearest`). It searches with the dense embedder
alone, on the task text alone, and joins at similarity ``1 - novelty_bar``; everything else
(corpus, order, embedder, recall floor and k) is the run's own, so the two arms differ only in
how the library is built and searched.
"""

from __future__ import annotations

# config overrides per arm (applied to the run's own config)
ARMS: dict[str, dict] = {
    "nearest": {"distiller": "nearest", "lexical_weight": 0.0},
}
