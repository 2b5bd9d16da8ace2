"""Distillers chosen by a string: ``extractive`` (default, offline), ``nearest`` (the naive
baseline), ``llm`` / ``llm:MODEL``, and any registered with :func:`register_distiller`.

This is the one place a distiller is built from a spec and options; the command line, the
replay and the queue all call :func:`get_distiller`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError

DEFAULT_DISTILLER = "extractive"
# options that only the llm distiller takes; others ignore them (so one options dict serves all)
LLM_OPTIONS = ("model", "base_url", "api_key", "cassette", "cassette_mode", "temperature", "max_tokens", "timeout",
               "max_retries", "max_transcript_chars")

_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_distiller(name: str, factory: Callable[..., Any]) -> None:
    """Make ``get_distiller(name)`` (or ``name:ARG``) build ``factory(arg, **options)``."""
    _REGISTRY[name] = factory


def distiller_names() -> list[str]:
    return ["extractive", "nearest", "llm", *sorted(_REGISTRY)]


def get_distiller(spec: str = DEFAULT_DISTILLER, **options: Any) -> Any:
    """Build the distiller ``spec`` names. ``None`` option values are ignored; options a distiller
    does not take (the llm's model, endpoint and cassette for the extractive one) are ignored too."""
    spec = (spec or DEFAULT_DISTILLER).strip()
    name, _, arg = spec.partition(":")
    options = {k: v for k, v in options.items() if v is not None}
    if name == "extractive":
        from .extractive import ExtractiveDistiller

        return ExtractiveDistiller(**{k: v for k, v in options.items() if k not in LLM_OPTIONS})
    if name == "nearest":
        from .nearest import NearestDistiller

        return NearestDistiller()
    if name == "llm":
        from .llm import LLMConfig, LLMDistiller

        if arg:
            options["model"] = arg
        return LLMDistiller(LLMConfig(**{k: v for k, v in options.items() if k in LLM_OPTIONS}))
    if name in _REGISTRY:
        return _REGISTRY[name](arg, **options)
    raise ConfigError(f"unknown distiller {spec!r}; choose one of: {', '.join(distiller_names())} "
                      "(llm:MODEL names a model)")
