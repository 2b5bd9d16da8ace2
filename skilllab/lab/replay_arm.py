"""``python -m skilllab.lab.replay_arm JOB OUT``: replay one baseline arm in a process of its own
(:class:`skilllab.lab.replay.ArmApart` starts it). ``JOB`` is the pickled job the run wrote;
``OUT`` gets the pickled result, written whole (a temporary file renamed) or not at all."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from .replay import replay_arm

    job, out = Path(argv[0]), Path(argv[1])
    try:
        result = replay_arm(pickle.loads(job.read_bytes()))
    except KeyboardInterrupt:  # the run was interrupted (the terminal signals its whole group): no result
        return 130
    try:
        data = pickle.dumps(result)
    except Exception as exc:  # an error that does not pickle is sent back as its text
        data = pickle.dumps(("error", RuntimeError(f"{type(result[1]).__name__}: {result[1]} ({exc})")))
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return 0 if result[0] == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
