"""Distillers chosen by a string: ``extractive`` (default, offline) or ``llm`` / ``llm:MODEL``."""

from __future__ import annotations

from ..errors import ConfigError

DEFAULT_DISTILLER = "extractive"


def get_distiller(spec: str = DEFAULT_DISTILLER, **options):
    spec = (spec or DEFAULT_DISTILLER).strip()
    if spec == "extractive":
        from .extractive import ExtractiveDistiller

        return ExtractiveDistiller(**options)
    if spec == "llm" or spec.startswith("llm:"):
        from .llm import LLMConfig, LLMDistiller

        if ":" in spec:
            options.setdefault("model", spec.split(":", 1)[1])
        return LLMDistiller(LLMConfig(**options))
    raise ConfigError(f"unknown distiller {spec!r}; choose extractive, llm or llm:MODEL")
