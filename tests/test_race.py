"""gdviz.race: the race's defaults, runs, table and player payload, against oracles written here.

Oracles: lambda from ``np.linalg.eigvalsh`` of (2/n) X1^T X1 and the optimum from ``np.linalg.lstsq`` (both on
arrays rebuilt from the dataset here); each run's path from ``engine.run`` / ``analysis.*_path`` called directly
(the race must not change a number); the aligned rows from a naive loop; the arrows from the run's own
grads and params times the factors the payload states; the loss above the floor from the residuals.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz import analysis, data, engine, optimizers, race
from gdviz.errors import InputError
from tests.oracles import loss_of


def synthetic():
    ds = data.synthetic_line()
    return ds, data.problem_from_dataset(ds, scaling="none", features=[0])


def diabetes(scaling="standard"):
    ds = data.load_dataset("diabetes")
    return ds, data.make_problem(ds.X, ds.y, scaling=scaling, feature_names=ds.feature_names)


def design(problem):
    return np.asarray(problem.X1), np.asarray(problem.y)


def entries(problem, init, names=race.RUNS):
    d = race.default_settings(problem, init)
    return [race.Entry(n, tuple(d[n].items())) for n in names]


@pytest.fixture(scope="module")
def small():
    _, p = synthetic()
    init = np.array([0.0, 0.0])
    return p, init, race.race(p, entries(p, init), init_params=init)


@pytest.fixture(scope="module")
def wide():
    _, p = diabetes()
    init = np.zeros(p.n_params)
    return p, init, race.race(p, entries(p, init), init_params=init, batch_size=32, seed=3)


# ---------------------------------------------------------------------------------------------
# Defaults from the data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [synthetic, diabetes, lambda: diabetes("none")], ids=["line", "diabetes", "raw"])
def test_defaults_are_the_formulas_on_numpys_eigenvalues(make):
    _, p = make()
    X1, y = design(p)
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)
    lo, hi = lam[0], lam[-1]
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    init = np.full(p.n_params, 0.5)
    d = race.default_settings(p, init)
    np.testing.assert_allclose(d["gd"]["learning_rate"], 2 / (lo + hi), rtol=1e-6)
    np.testing.assert_allclose(d["momentum"]["learning_rate"], (2 / (np.sqrt(hi) + np.sqrt(lo))) ** 2, rtol=1e-6)
    np.testing.assert_allclose(d["momentum"]["beta"], ((np.sqrt(hi) - np.sqrt(lo)) / (np.sqrt(hi) + np.sqrt(lo))) ** 2,
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(d["nesterov"]["learning_rate"], 1 / hi, rtol=1e-6)
    kappa = hi / lo
    np.testing.assert_allclose(d["nesterov"]["beta"], (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rtol=1e-5)
    far = np.max(np.abs(w_star - init))
    for name, fraction in race.ADAPTIVE_FRACTIONS.items():
        assert d[name]["learning_rate"] == pytest.approx(fraction * far, rel=1e-3)  # 4 significant figures
    assert all(d[n] == {} for n in race.FULL_BATCH_ONLY)
    assert set(d) == set(race.RUNS)


def test_default_momentum_beats_default_gd_as_the_theory_says(small):
    p, init, runs = small
    by = {r.name: r for r in runs}
    gd, mom = by["gd"].traj, by["momentum"].traj
    assert gd.status is mom.status is engine.Status.CONVERGED
    assert mom.step[-1] < gd.step[-1] / 3  # sqrt(kappa) against kappa, kappa about 70 here


# ---------------------------------------------------------------------------------------------
# The runs: the engine's and the analysis' own numbers
# ---------------------------------------------------------------------------------------------


def direct(p, name, settings, init, *, batch_size=None, seed=0, tol=1e-6, max_steps=race.STEP_CAP):
    if name in race.FULL_BATCH_ONLY:
        path = {"newton": analysis.newton_path, "line_search": analysis.line_search_path,
                "barzilai_borwein": analysis.barzilai_borwein_path}[name]  # fmt: skip
        return path(p, init, tol=tol, max_steps=max_steps)
    opt = optimizers.make_optimizer(name, **settings)
    return engine.collect(engine.run(p, opt, init_params=init, tol=tol, max_steps=max_steps, batch_size=batch_size,
                                     seed=seed))  # fmt: skip


@pytest.mark.parametrize("which", ["small", "wide"])
def test_every_run_is_the_engines_run_bit_for_bit(which, request):
    p, init, runs = request.getfixturevalue(which)
    batch = None if which == "small" else 32
    assert [r.name for r in runs] == list(race.RUNS)
    for r in runs:
        want = direct(p, r.name, r.settings, init, batch_size=None if r.name in race.FULL_BATCH_ONLY else batch, seed=3)
        for field in ("step", "params", "grads", "loss"):
            np.testing.assert_array_equal(getattr(r.traj, field), getattr(want, field), err_msg=f"{r.name} {field}")
        assert r.traj.status is want.status
        assert r.batch_size == (None if r.name in race.FULL_BATCH_ONLY else batch)
        assert r.seconds > 0


def test_a_batch_of_every_row_is_the_full_batch_race(small):
    p, init, runs = small
    again = race.race(p, entries(p, init), init_params=init, batch_size=p.n_samples)
    for r, full in zip(again, runs, strict=True):
        assert r.batch_size is None
        np.testing.assert_array_equal(r.traj.params, full.traj.params, err_msg=r.name)
        np.testing.assert_array_equal(r.traj.loss, full.traj.loss, err_msg=r.name)


def test_mini_batches_change_the_fixed_rate_runs_only(wide):
    p, init, runs = wide
    for r in runs:
        full = direct(p, r.name, r.settings, init, max_steps=5)
        same = np.array_equal(r.traj.params[:6], full.params[:6])
        assert same == (r.name in race.FULL_BATCH_ONLY), r.name


def test_batch_size_one_first_update_is_one_rows_gradient():
    _, p = synthetic()
    X1, y = design(p)
    rate = 1e-3
    (r,) = race.race(p, [race.Entry("gd", (("learning_rate", rate),))], init_params=np.zeros(2), batch_size=1,
                     seed=5, max_steps=3)  # fmt: skip
    row = np.random.default_rng(5).permutation(len(y))[0]
    g = 2.0 * X1[row] * (X1[row] @ np.zeros(2) - y[row])
    np.testing.assert_allclose(r.traj.params[1], -rate * g, rtol=1e-12)


def test_the_race_stops_by_its_cap_and_refuses_bad_input_before_running():
    _, p = synthetic()
    init = np.zeros(2)
    (r,) = race.race(p, [race.Entry("gd", (("learning_rate", 1e-6),))], init_params=init, tol=0, max_steps=10**6)
    assert r.traj.step[-1] == race.STEP_CAP
    with pytest.raises(InputError, match="learning_rate.*adam"):
        race.race(p, [race.Entry("gd", (("learning_rate", 0.1),)), race.Entry("adam", (("learning_rate", -1.0),))],
                  init_params=init)  # fmt: skip
    with pytest.raises(InputError, match="no run 'sgd'"):
        race.race(p, [race.Entry("sgd")], init_params=init)
    with pytest.raises(InputError, match="batch_size"):
        race.race(p, [race.Entry("gd", (("learning_rate", 0.1),))], init_params=init, batch_size=21)


@pytest.mark.parametrize("value", [0, 21, 2.5, "x", float("nan"), -3])
def test_a_bad_batch_size_is_refused_in_words(value):
    with pytest.raises(InputError, match="whole number of rows from 1 to 20"):
        race.check_batch_size(value, 20)


def test_batch_sizes_that_mean_full_batch():
    assert race.check_batch_size(None, 20) is None
    assert race.check_batch_size(20, 20) is None
    assert race.check_batch_size(7.0, 20) == 7


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def test_table_rows_say_what_each_run_did(small):
    p, init, runs = small
    X1, y = design(p)
    floor = loss_of(X1, y, np.linalg.lstsq(X1, y, rcond=None)[0])
    rows = race.table_rows(p, runs, tol=1e-6, init_params=init)
    for r, row in zip(runs, rows, strict=True):
        assert row.run == race.LABELS[r.name]
        assert row.steps == r.traj.step[-1]
        assert row.steps_to_tol == (row.steps if r.traj.status is engine.Status.CONVERGED else None)
        assert row.final_loss == pytest.approx(loss_of(X1, y, r.traj.params[-1]), rel=1e-9)
        assert row.above_floor == pytest.approx(loss_of(X1, y, r.traj.params[-1]) - floor, abs=1e-9)
        assert row.microseconds_per_step > 0
    by = {row.run: row for row in rows}
    assert by["GD"].predicted == by["GD"].steps_to_tol  # the closed form of GD on this Hessian
    assert by["Momentum"].predicted == by["Momentum"].steps_to_tol
    assert by["Adam"].predicted is None and by["Newton"].predicted is None


def test_table_csv_reads_back(small):
    p, init, runs = small
    rows = race.table_rows(p, runs, tol=1e-6, init_params=init)
    back = list(csv.DictReader(io.StringIO(race.table_csv(rows, batch=None, seed=0))))
    assert [b["run"] for b in back] == [r.run for r in rows]
    assert [float(b["final_loss"]) for b in back] == [r.final_loss for r in rows]
    assert back[0]["settings"] == rows[0].settings and back[1]["settings"] == rows[1].settings  # quoted commas
    assert all(b["batch_size"] == "" for b in back)


# ---------------------------------------------------------------------------------------------
# The player's payload
# ---------------------------------------------------------------------------------------------


def naive_rows(steps, traj_steps):
    """For each aligned step, the row of the run shown: its last step at or before it (its last once stopped)."""
    out = []
    for s in steps:
        k = 0
        for m, t in enumerate(traj_steps):
            if t <= s:
                k = m
        out.append(k)
    return np.array(out)


@pytest.mark.parametrize("which,pair,hold", [("small", (0, 1), "optimum"), ("wide", (0, 3), "current"),
                                             ("wide", (2, 5), "optimum")])  # fmt: skip
def test_columns_are_the_runs_rows_and_the_arrows_their_grads_and_updates(which, pair, hold, request):
    p, init, runs = request.getfixturevalue(which)
    i, j = pair
    pl = race.player(p, runs, pair, hold=hold, names=race.param_labels(p))
    cols = {k: v for k, (v, _) in pl.columns.items()}
    steps = cols["step"]
    assert steps[0] == 0 and steps[-1] == max(r.traj.step[-1] for r in runs) and len(steps) <= race.PLAYER_ROWS
    for r in runs:
        t, n = r.traj, r.name
        k = naive_rows(steps, t.step)
        np.testing.assert_array_equal(cols[f"x_{n}"], t.params[k, i])
        np.testing.assert_array_equal(cols[f"y_{n}"], t.params[k, j])
        np.testing.assert_array_equal(cols[f"s_{n}"], t.step[k])
        np.testing.assert_array_equal(cols[f"loss_{n}"], t.loss[k])
        # The arrows: -grad and the update taken from this step, times the factors the payload states.
        np.testing.assert_allclose(cols[f"gx_{n}"], t.params[k, i] - pl.arrows.grad * t.grads[k, i], rtol=1e-14)
        np.testing.assert_allclose(cols[f"gy_{n}"], t.params[k, j] - pl.arrows.grad * t.grads[k, j], rtol=1e-14)
        has_next = k + 1 < t.n_states
        nxt = t.params[np.minimum(k + 1, t.n_states - 1)]
        want_ux = t.params[k, i] + pl.arrows.update * (nxt[:, i] - t.params[k, i])
        np.testing.assert_allclose(cols[f"ux_{n}"][has_next], want_ux[has_next], rtol=1e-14)
        assert np.isnan(cols[f"ux_{n}"][~has_next]).all()  # no update after the last State: no arrow
        if hold == "current":  # the run's true loss (its log10 where the surface shows log10 loss)
            z_title = pl.charts[1]["figure"]["layout"]["title"]["subtitle"]["text"]  # "height: ..."
            want = np.log10(t.loss[k]) if z_title.startswith("height: log10") else t.loss[k]
            np.testing.assert_allclose(cols[f"z_{n}"], want, rtol=1e-13)


def test_the_arrow_factors_make_the_first_gradient_a_fixed_share_of_the_window(small):
    p, init, runs = small
    pl = race.player(p, runs, (0, 1), names=race.param_labels(p))
    contour = pl.charts[0]["figure"]
    grid = contour["data"][0]
    span = min(grid["x"][-1] - grid["x"][0], grid["y"][-1] - grid["y"][0])
    g0 = np.linalg.norm(runs[0].traj.grads[0])
    assert pl.arrows.grad * g0 == pytest.approx(race.ARROW_FRACTION * span, rel=5e-3)  # factor to 3 figures
    legend = [t["name"] for t in contour["data"] if isinstance(t.get("x"), list) and t["x"] == [None]]
    assert legend == [
        f"negative gradient x {pl.arrows.grad:.3g} (dotted)",
        f"update taken x {pl.arrows.update:.3g} (solid)",
    ]


def test_excess_loss_is_the_loss_above_the_floor(wide):
    p, _, runs = wide
    X1, y = design(p)
    floor = loss_of(X1, y, np.linalg.lstsq(X1, y, rcond=None)[0])
    w = runs[0].traj.params[:50]
    want = np.array([loss_of(X1, y, v) for v in w]) - floor
    np.testing.assert_allclose(race.excess_loss(p, w), want, rtol=1e-7, atol=1e-9 * floor)


def test_every_moving_trace_is_bound_to_columns_that_exist(wide):
    p, _, runs = wide
    pl = race.player(p, runs, (0, 2), names=race.param_labels(p))
    for chart in pl.charts:
        bound = {b["trace"] for b in chart["bind"]}
        tagged = {k for k, t in enumerate(chart["figure"]["data"]) if "meta" in t}
        assert bound == tagged and len(tagged) >= len(runs) * 2
        for b in chart["bind"]:
            trace = chart["figure"]["data"][b["trace"]]
            kind = "upto" if trace["meta"]["role"] == "path" else "at"
            assert kind in b, (chart["key"], trace["name"])
            cols = b[kind].values() if kind == "upto" else [c for v in b[kind].values() for c in v]
            cols = [c["label"] if isinstance(c, dict) else c for c in cols]  # a label: a column of text indices
            assert all(c in pl.columns for c in cols)
            assert all(trace[a] == [] for a in b[kind] if a != "text")  # empty until the player fills it
    assert [c["key"] for c in pl.charts] == ["contour", "surface", "loss"]


def test_player_json_is_plain_json_of_the_whole_race(small):
    p, _, runs = small
    pl = race.player(p, runs[:3], (0, 1), names=race.param_labels(p))
    text = race.player_json(pl, run="abc")
    got = json.loads(text)
    assert got["run"] == "abc" and got["n"] == len(pl.steps)
    assert "NaN" not in text and "Infinity" not in text
    assert got["columns"]["loss_gd"] == pl.columns["loss_gd"][0].tolist()  # the read-out's numbers, exactly
    assert [c["label"] for c in got["readout"]] == ["Step", "GD loss", "Momentum loss", "Nesterov loss"]


def test_player_refuses_an_empty_race_and_an_unknown_hold(small):
    p, _, runs = small
    with pytest.raises(InputError, match="at least one run"):
        race.player(p, [], (0, 1), names=race.param_labels(p))
    with pytest.raises(InputError, match="hold"):
        race.player(p, runs, (0, 1), hold="start", names=race.param_labels(p))


def test_a_diverging_run_is_drawn_not_hidden():
    _, p = synthetic()
    init = np.zeros(2)
    thr = analysis.thresholds(p).stable_max
    runs = race.race(p, [race.Entry("gd", (("learning_rate", 1.5 * thr),)), race.Entry("newton")], init_params=init)
    assert runs[0].traj.status is engine.Status.DIVERGED
    pl = race.player(p, runs, (0, 1), names=race.param_labels(p))
    w = runs[0].traj.params
    ok = np.isfinite(w).all(axis=1) & (np.abs(w) < race.LIMIT_2D).all(axis=1)
    drawn = w[: int(np.argmin(ok)) if not ok.all() else len(w)]
    grid = pl.charts[0]["figure"]["data"][0]
    assert grid["x"][0] <= drawn[:, 0].min() and drawn[:, 0].max() <= grid["x"][-1]  # the window grew to hold it
    assert grid["y"][0] <= drawn[:, 1].min() and drawn[:, 1].max() <= grid["y"][-1]
    assert np.abs(drawn).max() > 1e50
    assert json.loads(race.player_json(pl, run="d"))["n"] == len(pl.steps)


def test_param_labels_and_snap_step():
    _, p = synthetic()
    assert race.param_labels(p) == ("intercept", "slope on x")
    _, q = diabetes()
    assert race.param_labels(q)[:2] == ("intercept", "weight on age")
    steps = np.array([0, 1, 2, 4, 8])
    assert [race.snap_step(steps, s) for s in (0, 3, 4, 100, -1)] == [0, 2, 4, 8, 0]


def test_theory_sentences_give_the_rates_from_numpys_eigenvalues_and_explain_the_overshoot():
    _, p = synthetic()
    X1, y = design(p)
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)
    kappa = lam[-1] / lam[0]
    d = race.default_settings(p, np.zeros(2))
    text = " ".join(race.theory_sentences(p, d))
    assert f"**{(kappa - 1) / (kappa + 1):.4g}** for GD" in text
    assert f"**{(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1):.4g}** for heavy-ball" in text.replace("for \n", "for ")
    assert f"Momentum's rate is {d['momentum']['learning_rate'] * lam[-1]:.3g}/lambda_max" in text  # about 3.2
    d["momentum"]["learning_rate"] = 1.0 / lam[-1]
    assert "overshoots" not in " ".join(race.theory_sentences(p, d))


KERNEL_SNIPPET = """
import hashlib, numpy as np
from gdviz import data, race
ds = data.load_dataset("diabetes")
for scaling in ("standard", "none"):
    p = data.make_problem(ds.X, ds.y, scaling=scaling, feature_names=ds.feature_names)
    init = np.zeros(p.n_params)
    d = race.default_settings(p, init)
    runs = race.race(p, [race.Entry(n, tuple(d[n].items())) for n in race.RUNS], init_params=init, max_steps=2000)
    print(scaling, sorted((n, sorted(v.items())) for n, v in d.items()))
    for r in runs:
        print(r.name, hashlib.sha256(np.ascontiguousarray(r.traj.params).tobytes()).hexdigest())
"""


def test_the_race_is_the_same_on_every_blas_kernel():
    # STYLE.md: runs are reproducible on every machine. The race's defaults and Newton's inverse come from the
    # Hessian, which LAPACK computes with the CPU's kernel: the same script under three OpenBLAS kernels (on a CPU
    # that is not x86 the variable is ignored, and the test holds trivially) must print the same bits.
    root = Path(__file__).resolve().parents[1]
    outputs = set()
    for kernel in (None, "Prescott", "Haswell"):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        if kernel:
            env["OPENBLAS_CORETYPE"] = kernel
        env["PYTHONPATH"] = str(root)
        done = subprocess.run([sys.executable, "-c", KERNEL_SNIPPET], env=env, cwd=root, capture_output=True,
                              text=True, check=True, timeout=300)  # fmt: skip
        outputs.add(done.stdout)
    assert len(outputs) == 1, "the race differs between BLAS kernels"
    assert len(next(iter(outputs)).splitlines()) == 2 * (1 + len(race.RUNS))


# ---------------------------------------------------------------------------------------------
# Name labels that never pile up, and the charts as downloaded
# ---------------------------------------------------------------------------------------------


def _groups_by_hand(points: list[tuple[float, float]], spans: tuple[float, float], near: tuple[float, float]
                    ) -> list[list[int]]:  # fmt: skip
    """The oracle: runs in order, each joins the first earlier group leader within ``near`` of the spans."""
    leaders: list[int] = []
    groups: dict[int, list[int]] = {}
    for r, (x, y) in enumerate(points):
        for q in leaders:
            if abs(x - points[q][0]) <= near[0] * spans[0] and abs(y - points[q][1]) <= near[1] * spans[1]:
                groups[q].append(r)
                break
        else:
            leaders.append(r)
            groups[r] = [r]
    return [groups[q] for q in leaders]


def test_name_labels_group_runs_whose_points_coincide():
    names = ["A", "B", "C", "D", "E"]
    spans = (10.0, 2.0)
    assert race.LABEL_NEAR == (0.12, 0.06)  # the rows below sit on both sides of these thresholds
    rows = [
        [(0, 0)] * 5,  # all at the start
        [(0, 0), (0.3, 0.05), (5, 1), (5.2, 1.0), (9, -1)],  # two pairs and one alone
        [(0, 0), (2, 0), (4, 0), (6, 0), (8, 0)],  # apart
        [(0, 0), (9, 0), (0.1, 0.01), (0.2, 0.02), (0.3, 0.03)],  # four near A (the first leader)
        [(0, 0), (1.19, 0), (1.21, 0), (0, 0.119), (0, 0.121)],  # on both sides of the threshold
    ]
    x = np.array([[pt[0] for pt in row] for row in rows], dtype=float).T
    y = np.array([[pt[1] for pt in row] for row in rows], dtype=float).T
    texts, index = race.name_labels(x, y, spans, names)
    assert index.shape == (5, len(rows))
    for k, row in enumerate(rows):
        shown = {r: texts[index[r, k]] for r in range(5)}
        for group in _groups_by_hand(row, spans, race.LABEL_NEAR):
            members = [names[r] for r in group]
            want = ("all 5 runs" if len(group) == 5 else " + ".join(members) if len(group) <= 3
                    else f"{members[0]} + {len(group) - 1} more")  # fmt: skip
            assert shown[group[0]] == want, (k, group)
            assert all(shown[r] == "" for r in group[1:]), (k, group)
    assert texts[index[0, 0]] == "all 5 runs" and texts[index[2, 1]] == "C + D"
    assert [texts[index[r, 2]] for r in range(5)] == names
    assert texts[index[0, 3]] == "A + 3 more" and texts[index[1, 3]] == "B"
    assert [texts[index[r, 4]] for r in range(5)] == ["A + B + D", "", "C", "", "E"]


def test_name_labels_leave_non_finite_points_their_own_name():
    x = np.array([[0.0], [np.nan], [np.inf]])
    y = np.array([[0.0], [0.0], [np.inf]])
    texts, index = race.name_labels(x, y, (1.0, 1.0), ["A", "B", "C"])
    assert [texts[i] for i in index[:, 0]] == ["A", "B", "C"]


def test_at_step_0_one_label_names_every_run_and_later_each_its_own(small):
    p, _, runs = small
    pl = race.player(p, runs, (0, 1), names=race.param_labels(p))
    at0 = race.figure_at(pl, "contour", 0)
    now = {t["name"]: t["text"] for t in at0["data"] if t.get("meta", {}).get("role") == "current"}
    labels = [race.LABELS[r.name] for r in runs]
    assert now[f"{labels[0]} now"] == [f"all {len(runs)} runs"]
    assert all(now[f"{label} now"] == [""] for label in labels[1:])
    # Later the runs part: one label per group of points that still coincide (the oracle groups them by hand)
    k = 3
    x = np.array([r.traj.params[min(k, r.traj.n_states - 1), 0] for r in runs])
    y = np.array([r.traj.params[min(k, r.traj.n_states - 1), 1] for r in runs])
    grid = race.window(p, runs, 0, 1)
    groups = _groups_by_hand(list(zip(x, y, strict=True)), (grid.x[-1] - grid.x[0], grid.y[-1] - grid.y[0]),
                             race.LABEL_NEAR)  # fmt: skip
    fig = race.figure_at(pl, "contour", k)
    now = {t["name"]: t["text"] for t in fig["data"] if t.get("meta", {}).get("role") == "current"}
    assert sum(1 for v in now.values() if v != [""]) == len(groups) > 1
    surface = race.figure_at(pl, "surface", 0)  # the 3D labels follow the same groups
    first = next(t for t in surface["data"] if t.get("meta", {}).get("role") == "current")
    assert first["text"] == [f"all {len(runs)} runs"]


def test_figure_at_fills_every_path_up_to_the_step_as_the_player_does(wide):
    p, _, runs = wide
    pl = race.player(p, runs, (0, 2), names=race.param_labels(p))
    step = int(pl.steps[40])
    fig = race.figure_at(pl, "contour", step)
    for r, rows in zip(runs, pl.rows, strict=True):
        path = next(t for t in fig["data"] if t.get("meta") == {"run": r.name, "role": "path"})
        want = r.traj.params[rows[:41]]
        np.testing.assert_allclose(path["x"], want[:, 0], rtol=0, atol=0)
        np.testing.assert_allclose(path["y"], want[:, 2], rtol=0, atol=0)
    loss = race.figure_at(pl, "loss", step)
    gd = next(t for t in loss["data"] if t.get("meta") == {"run": "gd", "role": "path"})
    assert gd["x"] == runs[0].traj.step[pl.rows[0][:41]].tolist()
    assert race.figure_at(pl, "contour", step + 10**9)["data"] != fig["data"]  # past the end: the last step
    assert all(t.get("x") == [] for t in pl.charts[0]["figure"]["data"] if "meta" in t)  # the template untouched
    with pytest.raises(InputError, match="no chart 'heat'"):
        race.figure_at(pl, "heat", 0)
