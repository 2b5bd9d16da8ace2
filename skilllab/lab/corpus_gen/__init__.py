"""Seeded corpus generators: the bundled SRE session corpus (``generate``, ``skilllab corpus
generate``) and the planted-secret corpus (``secrets``, ``--planted-secrets``).

What it may import: the standard library and ``skilllab.distill.actions`` (for gold write actions).
"""

from .generate import generate, generate_to_file

__all__ = ["generate", "generate_to_file"]
