"""Search indexes, all derived from the skill files and rebuilt from them.

* :mod:`.vector`: dense vector indexes (``hnsw`` through hnswlib, ``exact`` in numpy) behind one
  small protocol, cosine similarity, higher is closer;
* :mod:`.lexical`: TF-IDF cosine over identifier-aware tokens (scikit-learn's hashing);
* :mod:`.skills`: one agent's index over its skills (their own text and learned phrasings),
  dense and lexical scores fused into one score in [0, 1].

What it may import: ``skilllab._fs``, ``skilllab._hashing`` and ``skilllab.errors``; it knows skills only through their
``search_text`` and sections.
"""

from .lexical import LexicalIndex, tokenize
from .skills import SearchSettings, SkillEntry, SkillIndex
from .vector import INDEX_KINDS, ExactIndex, Hit, HnswIndex, VectorIndex, load_index, make_index

__all__ = ["INDEX_KINDS", "ExactIndex", "Hit", "HnswIndex", "LexicalIndex", "SearchSettings", "SkillEntry",
           "SkillIndex", "VectorIndex", "load_index", "make_index", "tokenize"]
