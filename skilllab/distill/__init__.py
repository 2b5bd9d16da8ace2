"""One-pass distillation: decide skip / update / create for a finished session and write it."""

from .base import Candidate, Decision, Distiller
from .flow import DistillResult, distill_session
from .queue import DistillQueue
from .registry import get_distiller

__all__ = ["Candidate", "Decision", "DistillQueue", "DistillResult", "Distiller", "distill_session", "get_distiller"]
