"""One-pass distillation: decide skip / update / create for a finished session and write it.

What lives here: the flow for one session (``flow``), the loop over many (``batch``), what a
call did (``actions``), reading transcripts (``transcript``), the distillers (``extractive``,
``nearest``, ``llm``) and their registry, cassettes, redaction, the ledger and the queue. What it
may import: the library core (``skilllab.skill``, ``runbook``, ``session``, ``names``, ``errors``);
it reaches an agent only through the handle it is given.
"""

from .base import Candidate, Decision, Distiller
from .batch import DistillOptions, distill_sessions, preflight
from .flow import DistillResult, distill_session
from .queue import DistillQueue
from .registry import get_distiller, register_distiller

__all__ = ["Candidate", "Decision", "DistillOptions", "DistillQueue", "DistillResult", "Distiller",
           "distill_session", "distill_sessions", "get_distiller", "preflight", "register_distiller"]
