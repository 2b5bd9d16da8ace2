"""Session corpora: the format (a JSON Schema plus the checks it cannot express), the streaming
reader, and importers for the logs agent tools already write.

What lives here: :mod:`.validate` (``check_session``, the schema), :mod:`.reader`
(``iter_corpus``, ``read_corpus``, ``validate_corpus``). What it may import: ``skilllab.session``
and ``skilllab.errors``.
"""

from .reader import (
                     MAX_LINE_BYTES,
                     corpus_sha256,
                     iter_corpus,
                     open_corpus,
                     read_corpus,
                     session_sha256,
                     validate_corpus,
                     write_corpus,
)
from .validate import SCHEMA_PATH, CorpusError, LineProblem, check_session, schema

__all__ = ["MAX_LINE_BYTES", "SCHEMA_PATH", "CorpusError", "LineProblem", "check_session", "corpus_sha256",
           "iter_corpus", "open_corpus", "read_corpus", "schema", "session_sha256", "validate_corpus",
           "write_corpus"]
