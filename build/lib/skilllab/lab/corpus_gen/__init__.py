"""The seeded generator of the bundled SRE session corpus (``skilllab corpus generate``)."""

from .generate import generate, generate_to_file

__all__ = ["generate", "generate_to_file"]
