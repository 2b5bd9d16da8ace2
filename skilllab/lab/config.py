"""Replay configuration: a frozen dataclass, loaded from TOML, then ``--set key=value`` overrides.

Validated once, naming the bad key. ``config_hash`` covers only the fields that change results
(not progress bars or the cache folder), so a sweep can skip points it has already run. API keys
are never part of the config; they come from the environment.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ..errors import ConfigError
from ..settings import DEFAULT_NOVELTY_BAR, check_bar

NOT_HASHED = {"progress", "cache_dir", "embed_device", "embed_batch_size", "parallel_arms"}


@dataclass(frozen=True)
class ReplayConfig:
    embedder: str = "minilm"
    distiller: str = "extractive"
    novelty_bar: float = DEFAULT_NOVELTY_BAR
    # a person turning the knob: [[agent_session_count, bar], ...], applied per agent
    bar_schedule: tuple = ()
    candidates_k: int = 5
    skip_above: float | None = None
    failed_to_dead_ends: bool = False
    recall_k: int = 3
    recall_min_similarity: float = 0.45
    record_outcomes: bool = True
    index: str = "hnsw"
    # search: the lexical share of the fused score, and how many learned phrasings a skill is indexed by
    lexical_weight: float = 0.3
    phrasings: int = 24
    fusion: str = "linear"
    # the extractive distiller's weights of similarity and resolution in closeness (diagnosis gets the rest)
    similarity_weight: float = 0.6
    resolution_weight: float = 0.3
    branch_similarity: float = 0.5  # how alike a task must read for its new cause to join a skill as a branch
    # run a consolidation pass (split over-merged skills, merge duplicates) every N sessions; 0: never
    consolidate_every: int = 0
    limit: int | None = None  # replay only the first N sessions (in time order)
    agents: tuple = ()  # replay only these agents (empty: all)
    lenient: bool = False
    # the seed of the bootstrap intervals and of the optional shuffle of sessions with equal start times
    seed: int = 0
    bootstrap: int = 1000  # bootstrap resamples for the 95% intervals (0: no intervals)
    shuffle_ties: bool = False  # shuffle sessions that started at the same time (seeded), instead of file order
    # baseline arms replayed on the same corpus into the same run folder (see skilllab.lab.baselines)
    compare: tuple = ("nearest",)
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_cassette: str | None = None
    llm_cassette_mode: str = "auto"
    progress: bool = True
    cache_dir: str | None = None
    # where and how sentence-transformers embedders run (auto: a GPU when there is one); not results
    embed_device: str = "auto"
    embed_batch_size: int = 64
    # replay each baseline arm in a process of its own beside skilllab's arm, on a machine with more
    # than one core and a corpus long enough to pay for starting it; the same results either way
    parallel_arms: bool = True

    def __post_init__(self):
        check_bar(self.novelty_bar, "novelty_bar")
        sched = []
        for item in self.bar_schedule:
            if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], int) and item[0] >= 0):
                raise ConfigError(f"bar_schedule: {item!r} must be [session_count, bar] with a whole count >= 0")
            sched.append((int(item[0]), check_bar(item[1], f"bar_schedule[{item[0]}]")))
        object.__setattr__(self, "bar_schedule", tuple(sorted(sched)))
        object.__setattr__(self, "agents", tuple(self.agents))
        for name in ("candidates_k", "recall_k"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be a whole number of at least 1")
        if self.skip_above is not None:
            check_bar(self.skip_above, "skip_above")
        if not -1.0 <= self.recall_min_similarity <= 1.0:
            raise ConfigError("recall_min_similarity: must be between -1 and 1")
        if self.llm_cassette_mode not in ("auto", "record", "replay"):
            raise ConfigError("llm_cassette_mode: choose auto, record or replay")
        if isinstance(self.compare, str):
            object.__setattr__(self, "compare", (self.compare,) if self.compare else ())
        object.__setattr__(self, "compare", tuple(self.compare))
        from .baselines import ARMS

        for arm in self.compare:
            if arm not in ARMS:
                raise ConfigError(f"compare: unknown baseline arm {arm!r}; choose from {', '.join(ARMS)}")
        if not isinstance(self.bootstrap, int) or self.bootstrap < 0:
            raise ConfigError("bootstrap: must be a whole number of resamples, 0 or more")
        if not isinstance(self.seed, int):
            raise ConfigError("seed: must be a whole number")
        if self.embed_device not in ("auto", "cpu", "cuda", "mps") and not str(self.embed_device).startswith("cuda:"):
            raise ConfigError("embed_device: choose auto, cpu, cuda, cuda:N or mps")
        if not isinstance(self.embed_batch_size, int) or self.embed_batch_size < 1:
            raise ConfigError("embed_batch_size: must be a whole number of at least 1")
        if not isinstance(self.consolidate_every, int) or self.consolidate_every < 0:
            raise ConfigError("consolidate_every: must be a whole number of sessions, 0 (never) or more")

    # ---- loading ------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None, overrides: list[str] | dict | None = None) -> ReplayConfig:
        data: dict = {}
        if path:
            try:
                data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: {exc}") from None
            except FileNotFoundError:
                raise ConfigError(f"{path}: no such config file") from None
            data = data.get("replay", data)
        if isinstance(overrides, dict):
            data.update(overrides)
        else:
            for item in overrides or []:
                key, sep, raw = item.partition("=")
                if not sep:
                    raise ConfigError(f"--set {item!r}: use key=value")
                data[key.strip()] = parse_value(raw.strip())
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> ReplayConfig:
        known = {f.name: f for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
        clean = {}
        for key, value in data.items():
            default = known[key].default
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ConfigError(f"{key}: {value!r} must be true or false")
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if isinstance(default, (int, float)) and not isinstance(default, bool) and not isinstance(
                    value, (int, float)):
                raise ConfigError(f"{key}: {value!r} must be a number")
            if isinstance(default, tuple) and isinstance(value, list):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            clean[key] = value
        try:
            return cls(**clean)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None

    # ---- identity -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["bar_schedule"] = [list(x) for x in self.bar_schedule]
        d["agents"] = list(self.agents)
        d["compare"] = list(self.compare)
        return d

    def config_hash(self) -> str:
        d = {k: v for k, v in self.to_dict().items() if k not in NOT_HASHED}
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()

    def with_(self, **changes) -> ReplayConfig:
        return replace(self, **changes)

    def arm(self, name: str) -> ReplayConfig:
        """The configuration the baseline arm ``name`` replays with (same corpus, embedder, bar, floor)."""
        from .baselines import ARMS

        return replace(self, compare=(), **ARMS[name])

    def bar_for(self, agent_sessions_seen: int) -> float:
        """The bar in force for an agent that has seen this many sessions."""
        bar = self.novelty_bar
        for count, value in self.bar_schedule:
            if agent_sessions_seen >= count:
                bar = value
        return bar


def parse_value(raw: str):
    """A ``--set`` value: TOML syntax (numbers, true/false, [lists], "strings"), else a bare string."""
    if raw.lower() in ("none", "null"):
        return None
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


