"""Progress on long replays and sweeps: a bar on a terminal, and where output is not a terminal
(logs, CI, ``nohup``) one line every ``every`` items with the rate and the time left."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def _fmt(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress(items: Iterable[T], total: int, desc: str, unit: str = "session", *, every: int | None = None,
             stream=None) -> Iterator[T]:
    """``items``, reporting progress on ``stream`` (stderr by default)."""
    stream = stream or sys.stderr
    if stream.isatty():
        from tqdm.auto import tqdm

        yield from tqdm(items, total=total, desc=desc, unit=unit, leave=False, file=stream)
        return
    every = every or max(1, total // 20)
    t0 = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += 1
        if done % every == 0 or done == total:
            spent = time.perf_counter() - t0
            rate = done / spent if spent > 0 else 0.0
            left = (total - done) / rate if rate > 0 else 0.0
            print(f"{desc}: {done}/{total} {unit}s ({100 * done / max(total, 1):.0f}%), {rate:.1f}/s, "
                  f"{_fmt(spent)} spent, about {_fmt(left)} left", file=stream, flush=True)
