"""Pages under AppTest: each runs without exception and its widgets do what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import analysis, data
from tests.chart_utils import chart_figure, trace_by_name, trace_xy

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def default_problem():
    ds = data.synthetic_line()
    return data.make_problem(ds.X, ds.y)


def test_playground_default_run_is_good(app):
    assert not app.exception
    m = metrics(app)
    assert m["Predicted regime"] == "Good"
    assert m["Observed regime"] == "Good"
    fig = chart_figure(app, 0)
    x, y = trace_xy(trace_by_name(fig, "measured loss"))
    assert x[0] == 0 and len(x) > 100
    # The measured curve starts at the loss of the zero start, computed here from the raw data.
    ds = data.synthetic_line()
    assert y[0] == pytest.approx(np.mean(ds.y**2), rel=1e-12)
    assert fig["layout"]["yaxis"]["type"] == "log"


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(0.1, "Slow"), (0.5, "Good"), (1.5, "Oscillating"), (2.2, "Divergent")],
)
def test_playground_learning_rate_sets_regime(app, factor, expected):
    X1 = np.column_stack([np.ones(20), data.synthetic_line().X[:, 0]])
    lam_max = np.linalg.eigvalsh(2 / 20 * X1.T @ X1).max()  # independent of gdviz.analysis
    app.number_input(key="pg_lr").set_value(factor / lam_max).run()
    assert not app.exception
    m = metrics(app)
    assert m["Predicted regime"] == expected
    assert m["Observed regime"] == expected
    assert app.session_state["gdviz_config"].learning_rate == pytest.approx(factor / lam_max)


def test_playground_divergent_run_is_shown_not_hidden(app):
    lam_max = analysis.spectrum(default_problem()).lambda_max
    app.number_input(key="pg_lr").set_value(2.5 / lam_max).run()
    fig = chart_figure(app, 0)
    _, y = trace_xy(trace_by_name(fig, "measured loss"))
    assert np.nanmax(y) > 1e100  # the blow-up is drawn, not clipped
    notes = " ".join(a.get("text", "") for a in fig["layout"].get("annotations", []))
    assert "diverged at step" in notes
    assert metrics(app)["Final loss"] in ("inf", "nan")
