"""Session corpora: the format (a JSON Schema plus the checks it cannot express), the streaming
reader, and importers for the logs agent tools already write.

What lives here: :mod:`.validate` (``check_session``, the schema), :mod:`.reader`
(``iter_corpus``, ``read_corpus``, ``SortedCorpus``, ``validate_corpus``), :mod:`.importers` (``import_sessions``:
tau2, claude-code, codex, gemini-cli, opencode, copilot-cli, langchain, openai-messages).
What it may import: ``skilllab.session``, ``skilllab.errors`` and, for the tau2 family rule,
``skilllab.distill.actions``.
"""

from .reader import (
                     MAX_LINE_BYTES,
                     SortedCorpus,
                     corpus_sha256,
                     iter_corpus,
                     open_corpus,
                     read_corpus,
                     session_sha256,
                     validate_corpus,
                     write_corpus,
)
from .validate import SCHEMA_PATH, CorpusError, LineProblem, check_session, schema

__all__ = ["MAX_LINE_BYTES", "SCHEMA_PATH", "SortedCorpus", "CorpusError", "LineProblem", "check_session", "corpus_sha256",
           "iter_corpus", "open_corpus", "read_corpus", "schema", "session_sha256", "validate_corpus",
           "write_corpus"]
