"""gdviz.scaling_player: the Feature scaling page's payload, against oracles written here from the raw arrays
(a naive plain-GD loop, the gradient (2/n) X1^T (X1 w - y), the loss with two params moved, np.linalg.lstsq
for the optimum). What the browser draws at a row is read from the payload as the player picks it
(``tests.player_view``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdviz import engine, optimizers, playground, scaling_player
from gdviz.data import make_problem
from tests import player_view
from tests.chart_utils import decode


def design(X):
    return np.column_stack([np.ones(len(X)), X])


def grad_of(X1, y, w):
    return 2.0 / len(y) * X1.T @ (X1 @ w - y)


def naive_gd(X1, y, lr, steps):
    w = np.zeros(X1.shape[1])
    out = [w]
    for _ in range(steps):
        w = w - lr * grad_of(X1, y, w)
        out.append(w)
    return np.array(out)


def run(problem, lr, max_steps=10_000, tol=1e-6):
    return engine.collect(engine.run(problem, optimizers.gd(lr), tol=tol, max_steps=max_steps))


def payload(p) -> dict:
    """The JSON the browser gets, read back; a NaN or inf in it fails here."""
    return json.loads(playground.player_json(p, run="r"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_every_row_is_the_runs_step_and_its_gradients(badly_scaled):
    X, y = badly_scaled
    X1 = design(X)
    problem = make_problem(X, y, scaling="standard")
    Z1 = design((X - X.mean(axis=0)) / X.std(axis=0))  # standard scaling written out
    lr, steps = 0.1, 60
    traj = run(problem, lr, max_steps=steps, tol=0.0)
    p = payload(scaling_player.player(problem, traj, 0, 2, hold="optimum"))
    ws = naive_gd(Z1, y, lr, steps)
    cols = p["columns"]
    assert cols["step"] == list(range(steps + 1)) and p["n"] == steps + 1
    for t in range(steps + 1):
        g = grad_of(Z1, y, ws[t])
        assert cols["loss"][t] == pytest.approx(np.mean((Z1 @ ws[t] - y) ** 2), rel=1e-10)
        for k in (0, 2):
            assert cols[f"p{k}"][t] == pytest.approx(ws[t][k], rel=1e-10, abs=1e-12)
            assert cols[f"g{k}"][t] == pytest.approx(g[k], rel=1e-9, abs=1e-12)
        for k in range(4):
            assert cols[f"ag{k}"][t] == pytest.approx(abs(g[k]), rel=1e-6)  # chart columns: 7 figures
    # The read-out shows the pair's params and gradients at the row the player picks.
    shown = player_view.readout(p, 30)
    assert float(shown["dJ/d x2"]) == pytest.approx(grad_of(Z1, y, ws[30])[2], rel=1e-5)
    assert shown["Step"] == "30" and "Status" not in shown  # the run's status is the page's summary metric
    assert p["final_status"] == "max steps"
    assert X1.shape[1] == 4  # intercept + three weights


def test_the_charts_follow_the_step(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y, scaling="standard")
    Z1 = design((X - X.mean(axis=0)) / X.std(axis=0))
    traj = run(problem, 0.1, max_steps=40, tol=0.0)
    p = payload(scaling_player.player(problem, traj, 0, 2, hold="optimum"))
    assert [c["key"] for c in p["charts"]] == list(scaling_player.CHARTS)
    assert player_view.bound_columns(p) <= set(p["columns"])  # every column a binding names is sent
    ws = naive_gd(Z1, y, 0.1, 40)
    bars = player_view.figure(p, "grad_step", 12)["data"][0]
    assert bars["x"] == ["intercept", "x1", "x2", "x3"]
    np.testing.assert_allclose(bars["y"], np.abs(grad_of(Z1, y, ws[12])), rtol=1e-6)
    start = player_view.figure(p, "grad_start", 12)["data"][0]  # step 0, whatever the step shown
    np.testing.assert_allclose(decode(start["y"]).astype(float), np.abs(grad_of(Z1, y, ws[0])), rtol=1e-12)
    contour = player_view.figure(p, "contour", 12)
    path = next(t for t in contour["data"] if t["name"] == "path (projected)")
    np.testing.assert_allclose(path["x"], ws[:13, 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(path["y"], ws[:13, 2], rtol=1e-10, atol=1e-12)
    current = next(t for t in contour["data"] if t["name"] == "current step")
    np.testing.assert_allclose([current["x"][0], current["y"][0]], ws[12, [0, 2]], rtol=1e-10)
    # The 3D path's height is the slice's loss: the others held at the optimum, params 0 and 2 moved.
    w_star = np.linalg.lstsq(Z1, y, rcond=None)[0]
    surface = player_view.figure(p, "surface", 12)
    path3 = next(t for t in surface["data"] if t["name"].startswith("path"))
    for t in (0, 5, 12):
        w = w_star.copy()
        w[[0, 2]] = ws[t, [0, 2]]
        assert path3["z"][t] == pytest.approx(np.mean((Z1 @ w - y) ** 2), rel=1e-6)
    loss = player_view.figure(p, "loss", 12)
    measured = next(t for t in loss["data"] if t["name"] == "measured loss")
    assert measured["x"] == list(range(13))


def test_held_at_a_step_the_slice_goes_through_that_steps_params(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y, scaling="standard")
    Z1 = design((X - X.mean(axis=0)) / X.std(axis=0))
    traj = run(problem, 0.1, max_steps=40, tol=0.0)
    ws = naive_gd(Z1, y, 0.1, 40)
    p = payload(scaling_player.player(problem, traj, 1, 3, hold="current", held_step=7))
    surface = player_view.figure(p, "surface", 7)
    path3 = next(t for t in surface["data"] if t["name"].startswith("path"))
    # At the held step the slice passes through the run's own point: its height is the run's loss there.
    assert path3["z"][7] == pytest.approx(np.mean((Z1 @ ws[7] - y) ** 2), rel=1e-6)
    assert "step 7's params" in json.dumps(surface["layout"])


def test_a_diverged_run_is_sent_finite_with_its_overflow_step(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)  # raw: the thousands-scale feature makes lambda_max huge
    X1 = design(X)
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1]
    traj = run(problem, 3.0 / lam)
    assert traj.status is engine.Status.DIVERGED
    p = payload(scaling_player.player(problem, traj, 0, 2))
    assert p["diverged_at"] == int(traj.step[-1]) and p["final_status"] == "diverged"
    assert p["columns"]["loss"][-1] is None  # overflowed: null, never inf
    contour = next(c for c in p["charts"] if c["key"] == "contour")
    surface = next(c for c in p["charts"] if c["key"] == "surface")
    assert all(b["last"] < p["n"] - 1 for b in contour["bind"])  # the path stops where the grid can hold it
    assert all(b["last"] <= contour["bind"][0]["last"] for b in surface["bind"])
    ws = naive_gd(X1, y, 3.0 / lam, 5)
    for t in range(6):
        assert p["columns"]["g2"][t] == pytest.approx(grad_of(X1, y, ws[t])[2], rel=1e-9)


def test_a_long_run_stays_within_the_payload_bound(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)
    traj = engine.collect(engine.run(problem, optimizers.gd(1e-9), tol=0.0, max_steps=20_000))
    p = scaling_player.player(problem, traj, 0, 2)
    assert p.rows.n_states <= 4_096 and int(p.rows.step[-1]) == 20_000
    assert len(playground.player_json(p, run="r")) < 2_000_000
