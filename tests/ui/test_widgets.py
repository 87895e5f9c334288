"""gdviz.ui.widgets under AppTest, on the Playground (whose sidebar it draws): the Fastest preset beside the
measured best rate, and the banner's reason why the fastest rate reads Oscillating.

Oracles: the Hessian's eigenvalues from ``np.linalg.eigvalsh`` and a naive gradient-descent loop written here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from gdviz import data, runs
from gdviz.config import RunConfig
from gdviz.ui import widgets

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def naive_steps(X1, y, rate, *, tol=1e-6, max_steps=10_000) -> int:
    w = np.zeros(2)
    for t in range(1, max_steps + 1):
        new = w - rate * (2 / len(y)) * X1.T @ (X1 @ w - y)
        if np.linalg.norm(new - w) < tol:
            return t
        w = new
    return -1


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_fastest_preset_shows_the_measured_best_and_the_banner_says_why_it_oscillates():
    ds = data.synthetic_line()
    X1, y = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]]), np.array(ds.y)
    lam = np.linalg.eigvalsh(2 / len(y) * X1.T @ X1)
    fastest = float(f"{2 / (lam[0] + lam[-1]):.4g}")
    at = ok(AppTest.from_file(APP, default_timeout=60).run())  # the Playground
    [note] = [c.value for c in at.sidebar.caption if c.value.startswith("Fastest, 2/(lambda_min + lambda_max)")]
    assert f"= {fastest:g}: {naive_steps(X1, y, fastest):,} steps from this start" in note
    best, steps = note.split("Measured best: ")[1].split(" (plain GD)")[0].split(", ")
    assert naive_steps(X1, y, float(best)) == int(steps.split()[0].replace(",", "")) < naive_steps(X1, y, fastest)
    assert any("where that start's error lies" in m.value for m in at.sidebar.markdown)
    ok(at.button(key="playground_preset_fastest").click().run())
    assert at.session_state["gdviz_config"].learning_rate == fastest
    banner = " ".join(a.value for a in (*at.info, *at.warning, *at.success) if "Predicted from the Hessian" in a.value)
    assert "**Oscillating**" in banner
    assert f"1/lambda_max = {1 / lam[-1]:.3g}" in banner and "overshoots" in banner
    assert f"1 - rate x lambda_max = {1 - fastest * lam[-1]:.3g}" in banner and "why it reads Oscillating" in banner


def test_the_optimal_momentum_preset_is_polyaks_and_stays_a_valid_run_on_an_elongated_valley():
    for config, clamped in ((RunConfig(), False), (RunConfig(x_loc=1000.0), True)):
        ds = config.make_dataset()
        X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
        lo, hi = np.linalg.eigvalsh(2 / len(ds.y) * X1.T @ X1)
        kappa = hi / lo
        rate, beta, notice = widgets.momentum_preset(runs.one_feature_problem(config))
        assert rate == float(f"{(2 / (np.sqrt(hi) + np.sqrt(lo))) ** 2:.4g}")
        exact = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
        if clamped:  # beta* = 0.9999974 rounds to 1, which no run accepts: the box's top instead, and said so
            assert beta == widgets.BETA_MAX and "too close to 1" in notice
        else:
            assert beta == float(f"{exact:.4g}") and notice == ""
        RunConfig(optimizer="momentum", learning_rate=rate, beta=beta, x_loc=config.x_loc)  # a valid run
