"""Figures and progress a researcher would publish or read in a log."""

import io

import pandas as pd

from skilllab.lab import plots
from skilllab.lab.progress import progress


def test_a_second_swept_parameter_gets_its_own_lines():
    df = pd.DataFrame({"param_novelty_bar": [0.3, 0.5, 0.7] * 2, "param_k": [3] * 3 + [5] * 3,
                       "arm": ["skilllab"] * 6, "duplicate_rate": [.1, .2, .3, .15, .25, .35],
                       "family_coverage": [.9, .8, .7, .95, .85, .75]})
    fig = plots.metric_curves(df, "param_novelty_bar", ["duplicate_rate", "family_coverage"], "sweep")
    lines = {ln.get_label(): list(ln.get_ydata()) for ln in fig.axes[0].get_lines()}
    assert lines == {"duplicate rate (k=3)": [.1, .2, .3], "family coverage (k=3)": [.9, .8, .7],
                     "duplicate rate (k=5)": [.15, .25, .35], "family coverage (k=5)": [.95, .85, .75]}
    one = plots.metric_curves(df[df.param_k == 3], "param_novelty_bar", ["duplicate_rate"], "sweep")
    assert [ln.get_label() for ln in one.axes[0].get_lines()] == ["duplicate rate"]


def test_progress_outside_a_terminal_is_one_line_per_step_with_time_left():
    out = io.StringIO()  # not a terminal
    assert list(progress(range(40), 40, "replay", stream=out)) == list(range(40))
    lines = out.getvalue().splitlines()
    assert len(lines) == 20  # every 5%
    assert lines[0].startswith("replay: 2/40 sessions (5%)") and "left" in lines[0]
    assert lines[-1].startswith("replay: 40/40 sessions (100%)")
