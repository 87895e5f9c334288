"""gdviz.playground: the Playground's view of a run means what it shows: six charts of the right kinds, windows
that hold the whole path and the optimum, a 3D path that stops (and says so) where a diverging run passes
1e12, the fitted line in raw units, the closed form only where it holds.

Oracles: the data's own least squares (np.linalg.lstsq, np.polyfit), the Hessian's eigenvalues from NumPy,
the loss and the closed form of constant-rate GD written out here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdviz import playback, playground, runs
from gdviz.config import RunConfig
from gdviz.engine import Status
from gdviz.optimizers import OPTIMIZERS, SCHEDULES
from tests.oracles import design, loss_of


def setup(config: RunConfig, step: int | None = None):
    """(problem, dataset, head, figures) of ``config`` at ``step`` (default: the run's last)."""
    problem = runs.one_feature_problem(config)
    ds = config.make_dataset()
    traj = runs.simulate(config, problem)
    cursor = int(traj.step[-1]) if step is None else step
    head = playback.head(traj, cursor)
    return problem, ds, head, playground.figures(config, problem, ds, head, cursor)


def trace(spec: dict, name: str) -> dict:
    (found,) = [t for t in spec["data"] if t.get("name") == name]
    return found


def lambda_max(config: RunConfig) -> float:
    ds = config.make_dataset()
    X1 = design(ds.X[:, 0])
    return float(np.linalg.eigvalsh(2.0 / len(ds.y) * X1.T @ X1)[-1])


def optimum(config: RunConfig) -> np.ndarray:
    ds = config.make_dataset()
    return np.linalg.lstsq(design(ds.X[:, 0]), ds.y, rcond=None)[0]


def test_seven_charts_in_page_order_with_their_trace_types():
    _, _, _, figs = setup(RunConfig(max_steps=50))
    assert list(figs) == ["surface", "contour", "line", "loss", "grads", "bars", "eigen"]
    assert [t["type"] for t in figs["surface"]["data"]] == ["surface"] + ["scatter3d"] * 4
    assert {t["type"] for t in figs["contour"]["data"]} == {"scatter"}  # the contours are layout shapes
    assert figs["contour"]["layout"]["shapes"][0]["name"].startswith("log10 loss ")
    assert {t["type"] for t in figs["line"]["data"]} == {"scatter"}
    assert figs["loss"]["layout"]["yaxis"]["type"] == "log"
    assert [t["name"] for t in figs["grads"]["data"]] == ["|dJ/d intercept|", "|dJ/d slope on x|"]
    assert [t["type"] for t in figs["bars"]["data"]] == ["bar"]
    assert figs["surface"]["layout"]["title"]["text"] == "Loss surface, with the path"  # no WebGL note


def test_param_names_follow_the_feature_and_clamp_to_the_data():
    diabetes = RunConfig(dataset="diabetes", feature=2)
    assert playground.param_names(diabetes, diabetes.make_dataset()) == ("intercept", "slope on bmi")
    line = RunConfig(feature=3)  # a link may name a column this data lacks: its last one is drawn
    assert playground.param_names(line, line.make_dataset()) == ("intercept", "slope on x")


@pytest.mark.parametrize("multiple", [1.5, 1.9, 2.5])  # oscillating, close to the edge, divergent
def test_windows_hold_the_whole_path_and_the_optimum(multiple):
    config = RunConfig(learning_rate=multiple / lambda_max(RunConfig()), max_steps=200)
    problem, _, head, figs = setup(config, step=40)
    opt = optimum(config)
    n3d = len(trace(figs["surface"], "path")["x"])  # the 3D path's rows (no downsampling at 41 states)
    checks = [
        (figs["contour"]["layout"]["xaxis"]["range"], figs["contour"]["layout"]["yaxis"]["range"], head.params),
        (figs["surface"]["layout"]["scene"]["xaxis"]["range"], figs["surface"]["layout"]["scene"]["yaxis"]["range"],
         head.params[:n3d]),
    ]  # fmt: skip
    for x_range, y_range, path in checks:
        points = np.vstack([path[np.isfinite(path).all(axis=1)], opt, head.params[0]])
        assert x_range[0] <= points[:, 0].min() and points[:, 0].max() <= x_range[1]
        assert y_range[0] <= points[:, 1].min() and points[:, 1].max() <= y_range[1]
    np.testing.assert_allclose(trace(figs["contour"], "least-squares optimum")["x"], [opt[0]], rtol=1e-9)


def test_a_diverged_run_past_1e12_stops_its_3d_path_and_says_where():
    config = RunConfig(learning_rate=2.5 / lambda_max(RunConfig()))
    problem, ds, head, figs = setup(config)
    assert head.status is Status.DIVERGED
    # Oracle: the first row whose params or loss (written out here) are non-finite or pass 1e12.
    X1 = design(ds.X[:, 0])
    big = [not (np.isfinite(w).all() and np.abs(w).max() < 1e12 and loss_of(X1, ds.y, w) < 1e12) for w in head.params]
    k = big.index(True)
    assert 0 < k < head.n_states - 1
    note = figs["surface"]["layout"]["annotations"][0]["text"]
    assert f"3D path stops at step {k - 1}:" in note and "1e12" in note and "2D charts show every step" in note
    path3d = trace(figs["surface"], "path")
    assert len(path3d["x"]) == k  # rows 0 .. k-1
    assert np.abs(np.concatenate([path3d["x"], path3d["y"]])).max() < 1e12
    np.testing.assert_array_equal(trace(figs["surface"], "current step")["x"], head.params[k - 1 : k, 0])
    # The 2D charts go on: the contour path holds every finite step, far beyond 1e12.
    path2d = trace(figs["contour"], "path")
    finite = head.params[np.isfinite(head.params).all(axis=1)]
    np.testing.assert_array_equal(path2d["x"], finite[:, 0])
    assert np.abs(path2d["x"]).max() > 1e12


def test_the_fitted_line_is_drawn_in_raw_units_under_any_scaling():
    config = RunConfig(scaling="standard", learning_rate=0.5, max_steps=30)
    _, ds, head, figs = setup(config)
    slope, intercept = np.polyfit(ds.X[:, 0], ds.y, 1)  # raw units, whatever the problem's scaling
    ends = np.array([ds.X[:, 0].min(), ds.X[:, 0].max()])
    np.testing.assert_allclose(trace(figs["line"], "least-squares line")["y"], intercept + slope * ends, rtol=1e-9)
    faded = [t for t in figs["line"]["data"] if t["name"] == "earlier steps"]
    assert len(faded) == min(playground.N_FADED, head.n_states - 1)


def test_the_closed_form_is_drawn_for_constant_rate_gd_only():
    config = RunConfig(learning_rate=0.05, max_steps=40)
    _, ds, head, figs = setup(config)
    X1, y = design(ds.X[:, 0]), ds.y
    A, opt = X1.T @ X1 / len(y), optimum(config)
    H = 2.0 * A
    # Oracle: w_t = w* + (I - lr H)^t (w_0 - w*), J(w_t) = J* + d^T A d.
    M = np.eye(2) - config.learning_rate * H
    d = -opt  # the start is zeros
    expected = []
    for _ in range(head.n_states):
        expected.append(loss_of(X1, y, opt) + d @ A @ d)
        d = M @ d
    predicted = trace(figs["loss"], "predicted (closed form)")
    np.testing.assert_allclose(predicted["y"], expected, rtol=1e-9)
    _, _, _, adam = setup(RunConfig(optimizer="adam", learning_rate=0.1, max_steps=40))
    assert "predicted (closed form)" not in [t["name"] for t in adam["loss"]["data"]]


def test_a_long_run_is_downsampled_keeping_its_ends():
    config = RunConfig(learning_rate=1e-4, max_steps=6000, tol=1e-12)
    _, _, head, figs = setup(config)
    assert head.n_states == 6001
    for spec in (figs["contour"], figs["surface"]):
        path = trace(spec, "path")
        assert 200 < len(path["x"]) <= 2_500
        assert path["x"][0] == head.params[0, 0] and path["x"][-1] == head.params[-1, 0]
    steps = trace(figs["loss"], "measured loss")["x"]
    assert steps[0] == 0 and steps[-1] == 6000 and len(steps) <= 2_500


# ---------------------------------------------------------------------------------------------
# The player's payload: the whole run for the browser
# ---------------------------------------------------------------------------------------------


def payload_of(config: RunConfig):
    """(problem, full run, Player, parsed JSON) of ``config``."""
    problem = runs.one_feature_problem(config)
    traj = runs.simulate(config, problem, max_bytes=2 * 1024 * 1024)
    p = playground.player(config, problem, config.make_dataset(), traj)
    text = playground.player_json(p, run="test")
    return problem, traj, p, text, json.loads(text, parse_constant=_no_constant)


def _no_constant(name: str):
    raise AssertionError(f"{name} in the JSON")  # JSON has no NaN or Infinity: they must be null


def pick(d: dict, chart: str, k: int) -> dict:
    """The chart at row k as the browser draws it: each bound trace's columns picked at k or up to k."""
    c = next(c for c in d["charts"] if c["key"] == chart)
    fig = {"data": [dict(t) for t in c["figure"]["data"]], "layout": c["figure"]["layout"]}
    for b in c["bind"]:
        last = b.get("last", d["n"] - 1)
        if "upto" in b:
            fig["data"][b["trace"]].update({a: d["columns"][col][: min(k, last) + 1] for a, col in b["upto"].items()})
        elif "lines" in b:
            rows = range(max(0, min(k, last) - b["back"]), min(k, last + 1))
            fig["data"][b["trace"]]["y"] = [
                v for r in rows for v in (d["columns"]["ly0"][r], d["columns"]["ly1"][r], None)
            ]
        else:
            row = min(k + b.get("offset", 0), last)
            fig["data"][b["trace"]].update(
                {a: [] if row < 0 else [d["columns"][e][row] if isinstance(e, str) else e for e in es]
                 for a, es in b["at"].items()}
            )  # fmt: skip
    return fig


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_the_payload_holds_every_step_of_each_optimizer(optimizer):
    config = RunConfig(optimizer=optimizer, learning_rate=0.05, max_steps=300)
    problem, traj, p, _, d = payload_of(config)
    assert d["n"] == traj.n_states  # a short run: every step
    cols = d["columns"]
    np.testing.assert_array_equal(cols["step"], traj.step)
    # The read-out's numbers are the engine's, exactly (float64 through JSON).
    for name, values in (("p0", traj.params[:, 0]), ("p1", traj.params[:, 1]), ("loss", traj.loss),
                         ("g0", traj.grads[:, 0]), ("g1", traj.grads[:, 1])):  # fmt: skip
        np.testing.assert_array_equal(np.array(cols[name], dtype=float), values, err_msg=name)
    np.testing.assert_array_equal(np.array(cols["rate"][1:], dtype=float), traj.learning_rate[1:])
    assert cols["norm"][0] is None and cols["rate"][0] is None  # step 0 has no update: null, not NaN
    # At a middle step the contour path is the run's rows up to it, and the bars its |gradient|.
    k = 17
    path = next(t for t in pick(d, "contour", k)["data"] if t["name"] == "path")
    np.testing.assert_array_equal(np.column_stack([path["x"], path["y"]]), traj.params[: k + 1])
    bars = pick(d, "bars", k)["data"][0]
    np.testing.assert_allclose(bars["y"], np.abs(traj.grads[k]), rtol=1e-15)
    line = next(t for t in pick(d, "line", k)["data"] if t["name"] == "current fit")
    x = config.make_dataset().X[:, 0]
    b, m = problem.raw_params(traj.params[k])
    np.testing.assert_allclose(line["y"], [b + m * x.min(), b + m * x.max()], rtol=1e-12)
    # The earlier lines: the N_FADED steps before k, one segment each, in one trace.
    earlier = next(t for t in pick(d, "line", k)["data"] if t["name"] == "earlier steps")
    ends = np.array([[e for e in earlier["y"][i : i + 2]] for i in range(0, len(earlier["y"]), 3)])
    raw = problem.raw_params(traj.params[k - playground.N_FADED : k])
    np.testing.assert_allclose(ends, raw[:, :1] + raw[:, 1:] * [x.min(), x.max()], rtol=1e-12)
    assert (d["final_status"], d["diverged_at"]) == (traj.status.value.replace("_", " "), None)


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_the_payload_carries_the_rate_each_schedule_used(schedule):
    config = RunConfig(schedule=schedule, learning_rate=0.05, max_steps=60)
    _, traj, _, _, d = payload_of(config)
    np.testing.assert_array_equal(np.array(d["columns"]["rate"][1:], dtype=float), traj.learning_rate[1:])
    assert ("pred" in d["columns"]) == (schedule == "constant")  # the closed form holds for a constant rate only


def test_a_diverged_run_has_its_finite_states_its_overflow_step_and_no_nan_in_json():
    config = RunConfig(learning_rate=2.5 / lambda_max(RunConfig()))
    _, traj, p, text, d = payload_of(config)
    assert traj.status is Status.DIVERGED
    assert d["diverged_at"] == int(traj.step[-1]) and d["final_status"] == "diverged"
    assert "NaN" not in text and "Infinity" not in text
    loss = d["columns"]["loss"]
    assert loss[-1] is None  # the overflowed step is null
    np.testing.assert_array_equal(np.array(loss[:-1], dtype=float), traj.loss[:-1])  # every finite state
    # The 3D path stops where WebGL must; the 2D path goes on.
    n3d, _ = playground.webgl_note(traj)
    surface = pick(d, "surface", d["n"] - 1)
    assert len(next(t for t in surface["data"] if t["name"] == "path")["x"]) == n3d
    contour = pick(d, "contour", d["n"] - 1)
    assert len(next(t for t in contour["data"] if t["name"] == "path")["x"]) == d["n"]
    # The loss chart says where it blew up, at the end of the run only.
    loss_chart = next(c for c in d["charts"] if c["key"] == "loss")
    assert (
        loss_chart["end_only_annotations"]
        and "diverged at step" in loss_chart["figure"]["layout"]["annotations"][0]["text"]
    )


def test_a_200000_step_run_stays_within_the_payload_bound():
    config = RunConfig(learning_rate=1e-5, tol=0.0, max_steps=200_000)
    _, traj, p, text, d = payload_of(config)
    assert len(text.encode()) < 2 * 1024 * 1024
    assert d["n"] <= playback.PLAYER_ROWS and d["columns"]["step"][-1] == 200_000
    assert set(d["columns"]["step"]) <= set(traj.step.tolist())  # rows of the run, never interpolated
    np.testing.assert_array_equal(d["columns"]["step"][:501], np.arange(501))  # the early steps, every one


@pytest.mark.parametrize("max_steps", [50, 3_000, 200_000])
def test_step_axes_start_at_step_0_hold_the_step_and_change_a_few_times_a_run(max_steps):
    _, _, _, _, d = payload_of(RunConfig(learning_rate=0.01, tol=0, max_steps=max_steps))
    steps = np.array(d["columns"]["step"], dtype=float)
    end = np.array(d["columns"]["step_end"])
    for key in ("loss", "grads"):
        c = next(c for c in d["charts"] if c["key"] == key)
        assert c["layout_at"] == {"xaxis.range": [0, "step_end"]}
        assert c["figure"]["layout"]["xaxis"]["autorange"] is False
    assert end[0] == 10  # step 0: 0 to 10, whole-number ticks (never -1 to 1)
    assert np.all(steps * 1.05 <= end)  # the marker is never on the edge
    allowed = {m * 10**e for e in range(1, 7) for m in (1, 2, 5)}
    assert set(end.tolist()) <= allowed
    assert np.all(np.diff(end) >= 0)  # only ever widens while stepping on
    assert len(set(end.tolist())) <= 3 * np.log10(max(steps[-1], 10)) + 1  # a few relayouts per decade


@pytest.mark.parametrize("lr", [0.05, 0.7])  # a good run, and one whose line flies off (diverges)
def test_fitted_line_y_range_holds_the_data_and_every_line_drawn_at_each_row(lr):
    config = RunConfig(learning_rate=lr, max_steps=300)
    _, _, _, _, d = payload_of(config)
    ds = config.make_dataset()
    c = next(c for c in d["charts"] if c["key"] == "line")
    assert c["layout_at"] == {"yaxis.range": ["line_lo", "line_hi"]}
    cols = d["columns"]
    lo, hi = np.array(cols["line_lo"]), np.array(cols["line_hi"])
    back = next(b["back"] for b in c["bind"] if "lines" in b)
    opt = np.linalg.lstsq(np.column_stack([np.ones(ds.n_samples), ds.X[:, 0]]), ds.y, rcond=None)[0]
    x_ends = (ds.X[:, 0].min(), ds.X[:, 0].max())
    for k in range(d["n"]):
        shown = [*ds.y, *(opt[0] + opt[1] * x for x in x_ends)]
        for r in range(max(0, k - back), k + 1):  # the faded lines and the current one, by a plain loop
            shown += [v for v in (cols["ly0"][r], cols["ly1"][r]) if v is not None and abs(v) < 1e300]
        assert lo[k] <= min(shown) and max(shown) <= hi[k], k
    assert np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)
    # It widens in doublings: far fewer distinct ranges than rows on a diverging run.
    assert len(set(zip(lo.tolist(), hi.tolist(), strict=True))) <= 2 + 2 * np.log2(max(np.max(np.abs(hi)), 2)) + 2


# ---------------------------------------------------------------------------------------------
# Arrows, eigen-directions, the noise plateau (issue 13)
# Oracles: -rate x gradient and params[t + 1] - params[t] written from the run's own rows, the Hessian's
# eigenvectors from np.linalg.eigh of (2/n) X1^T X1 built here, the closed form by a naive loop.
# ---------------------------------------------------------------------------------------------


def column(d: dict, name: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in d["columns"][name]], dtype=float)


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(max_steps=80),
        RunConfig(optimizer="momentum", learning_rate=0.02, beta=0.8, max_steps=80),
        RunConfig(optimizer="adam", learning_rate=0.3, max_steps=80),
        RunConfig(batch_size=3, max_steps=80),
        RunConfig(schedule="inverse_time", decay_rate=0.1, max_steps=80),
    ],
    ids=["gd", "momentum", "adam", "batch", "schedule"],
)
def test_the_arrows_are_minus_rate_times_gradient_and_the_update_taken_at_the_stated_factor(config):
    problem, traj, p, _, d = payload_of(config)
    contour = next(c for c in d["charts"] if c["key"] == "contour")
    names = [t["name"] for t in contour["figure"]["data"]]
    (grad_name,) = [n for n in names if n.startswith("-rate x gradient (x")]
    (update_name,) = [n for n in names if n.startswith("update taken (x")]
    scale = float(grad_name.split("(x")[1].rstrip(")"))
    assert update_name == f"update taken (x{scale:g})"  # one factor for both, stated in the legend
    schedule = config.make_schedule()
    x, y = traj.params[:, 0], traj.params[:, 1]
    for k in (0, 1, 5, 40):
        rate = schedule(k)  # the rate of the update from step k (0-based count)
        drawn = pick(d, "contour", k)["data"]
        g = next(t for t in drawn if t["name"] == grad_name)
        u = next(t for t in drawn if t["name"] == update_name)
        np.testing.assert_allclose(g["x"], [x[k], x[k] - scale * rate * traj.grads[k, 0]], rtol=1e-7)
        np.testing.assert_allclose(g["y"], [y[k], y[k] - scale * rate * traj.grads[k, 1]], rtol=1e-7)
        step = traj.params[k + 1] - traj.params[k]
        np.testing.assert_allclose(u["x"], [x[k], x[k] + scale * step[0]], rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(u["y"], [y[k], y[k] + scale * step[1]], rtol=1e-7, atol=1e-12)
    if config.is_constant_gd and config.is_full_batch:  # plain GD: the update is -rate x gradient exactly
        np.testing.assert_allclose(column(d, "au_x")[:-1], column(d, "ag_x")[:-1], rtol=1e-7)
    last = pick(d, "contour", d["n"] - 1)["data"]
    assert next(t for t in last if t["name"] == update_name)["x"][1] is None  # no update after the last step


def test_the_arrow_factor_makes_the_first_arrows_read_and_is_a_round_number():
    assert [playground.nice_floor(v) for v in (0.9, 1.0, 3.7, 7.2, 0.0042)] == [0.5, 1.0, 2.0, 5.0, 0.002]
    window = ((0.0, 10.0), (0.0, 1.0))
    vec = np.array([[2.0, 0.0], [1.0, 0.0]])  # 0.2 of the window's width at most
    s = playground.arrow_scale([vec, np.zeros((2, 2))], window)
    assert s == playground.nice_floor(playground.ARROW_SHARE / 0.2)
    assert 0.4 * playground.ARROW_SHARE < s * 0.2 <= playground.ARROW_SHARE
    assert playground.arrow_scale([np.zeros((3, 2))], window) == 1.0  # nothing moves: drawn as they are


def eigh_oracle(config: RunConfig):
    ds = config.make_dataset()
    X1 = design(ds.X[:, 0])
    return np.linalg.eigh(2.0 / len(ds.y) * X1.T @ X1), optimum(config)


@pytest.mark.parametrize("rate_x_lmax", [0.5, 1.6])
def test_the_eigen_chart_is_the_error_in_eigen_coordinates_with_the_closed_form_behind(rate_x_lmax):
    config = RunConfig(learning_rate=rate_x_lmax / lambda_max(RunConfig()), max_steps=300)
    problem, traj, p, _, d = payload_of(config)
    (lam, V), opt = eigh_oracle(config)
    expected = np.log10(np.abs((traj.params - opt) @ V))  # each column's sign is arbitrary: |.| removes it
    for i in range(2):
        got = column(d, f"e{i}")
        ok = traj.step <= 30  # well above round-off of the optimum
        np.testing.assert_allclose(got[ok], expected[ok, i], atol=1e-4)
    # The closed form by a naive loop: |c_i(t)| = |1 - rate lambda_i| |c_i(t - 1)|.
    spec = next(c for c in p.charts if c["key"] == "eigen")["figure"]  # the arrays, before JSON encoding
    c = np.abs((traj.params[0] - opt) @ V)
    for i in range(2):
        line = next(t for t in spec["data"] if t["name"] == f"closed form, direction {i + 1}")
        value, naive = c[i], []
        for _ in range(len(line["x"])):
            naive.append(np.log10(value))
            value *= abs(1.0 - config.learning_rate * lam[i])
        np.testing.assert_array_equal(line["x"], np.arange(len(line["x"])))
        np.testing.assert_allclose(line["y"], naive, rtol=1e-9, atol=1e-9)
        # ... and the measured run follows it (constant-rate GD is the closed form)
        early = np.arange(20)
        np.testing.assert_allclose(expected[early, i], np.array(naive)[early], atol=1e-6)
    # The legend names each direction's eigenvalue and per-step factor; the stiff one shrinks faster.
    names = [t["name"] for t in spec["data"] if t["name"].startswith("direction")]
    assert f"lambda = {lam[1]:.3g}" in names[1] and f"x{abs(1 - config.learning_rate * lam[1]):.3g}" in names[1]
    # In the browser the measured lines grow with the step and the closed form is whole.
    k = 12
    drawn = pick(d, "eigen", k)["data"]
    measured = [t for t in drawn if t["name"].startswith("direction")]
    assert [len(t["y"]) for t in measured] == [k + 1, k + 1]


def test_the_closed_form_lines_are_left_out_where_they_do_not_hold():
    for config in (RunConfig(batch_size=4, max_steps=50), RunConfig(optimizer="momentum", max_steps=50)):
        _, _, _, figs = setup(config)
        names = [t["name"] for t in figs["eigen"]["data"]]
        assert not any(n.startswith("closed form") for n in names) and len(names) == 2
        assert "full batch" in figs["eigen"]["layout"]["title"]["text"]


def test_a_mini_batch_loss_chart_shows_the_floor_the_plateau_and_the_full_batch_curve_named_so():
    config = RunConfig(batch_size=2, learning_rate=0.1, tol=0.0, max_steps=4000)
    problem, traj, p, _, d = payload_of(config)
    level, first = playground.noise_plateau(p.rows)
    assert first == 3000
    np.testing.assert_allclose(level, p.rows.loss[p.rows.step >= 3000].mean(), rtol=1e-12)
    assert level > problem.optimum_loss * 1.01  # the noise keeps it above the floor
    spec = next(c for c in d["charts"] if c["key"] == "loss")["figure"]
    names = [t["name"] for t in spec["data"]]
    assert "full-batch GD, closed form (not this run)" in names and "predicted (closed form)" not in names
    assert any(n.startswith("least-squares floor") for n in names)
    assert any(n.startswith("noise plateau") for n in names)
    # The plateau line appears once the player reaches its stretch.
    plateau = [t for t in pick(d, "loss", 100)["data"] if t["name"].startswith("noise plateau")][0]
    assert all(v is None for v in plateau["y"])
    plateau = [t for t in pick(d, "loss", d["n"] - 1)["data"] if t["name"].startswith("noise plateau")][0]
    assert {v for v in plateau["y"] if v is not None} == {level}

    # Smaller batch, higher plateau; larger rate, higher plateau (same data, same seed).
    def plateau_of(**changes):
        c = config.replace(**changes)
        return playground.noise_plateau(runs.simulate(c, runs.one_feature_problem(c)))[0]

    assert plateau_of(batch_size=1) > plateau_of(batch_size=10)
    assert plateau_of(learning_rate=0.15) > plateau_of(learning_rate=0.02)


def test_the_momentum_rows_put_heavy_balls_factor_beside_gds_and_predicted_beside_measured_steps():
    problem = runs.one_feature_problem(RunConfig())
    (lam, _), _ = eigh_oracle(RunConfig())
    kappa = lam[1] / lam[0]
    lr, beta = playground.analysis.optimal_momentum(problem)
    config = RunConfig(optimizer="momentum", learning_rate=float(f"{lr:.4g}"), beta=float(f"{beta:.4g}"))
    traj = runs.simulate(config, problem)
    rows = playground.momentum_rows(config, problem, f"converged in {int(traj.step[-1]):,} steps")
    assert rows[0].factor == f"{(kappa - 1) / (kappa + 1):.4g}"
    assert rows[1].factor == f"{(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1):.4g}"
    assert traj.status is Status.CONVERGED and rows[2].measured_steps == f"converged in {int(traj.step[-1]):,} steps"
    predicted = float(rows[2].predicted_steps.replace(",", ""))
    assert abs(predicted - traj.step[-1]) <= 0.05 * traj.step[-1]  # theory against the run
