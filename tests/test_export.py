"""Downloads (gdviz.export): CSVs read back with pandas, standalone figure HTML, and generated scripts run for real.

Oracles are written here: a naive gradient-descent loop and a heavy-ball loop on the raw design matrix, the
schedules' formulas, ``np.linalg.lstsq`` for the optimum. The scripts are executed in a subprocess from an
empty temporary folder (the repository on PYTHONPATH) and their printed numbers are compared with
``runs.simulate`` / ``engine.run`` called here.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.datasets import load_diabetes

from gdviz import data, engine, export, optimizers, sweep
from gdviz.config import RunConfig
from gdviz.runs import one_feature_problem, simulate

ROOT = Path(__file__).resolve().parents[1]
LINE_NAMES = ("intercept", "slope on x")


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz maths)
# ---------------------------------------------------------------------------------------------


def line_design() -> tuple[np.ndarray, np.ndarray]:
    """The default synthetic line's X1 (ones, x) and y."""
    ds = data.synthetic_line()
    return np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]]), ds.y


def naive_run(X1, y, rates, steps, beta=0.0, w0=None):
    """GD (beta=0) or heavy-ball momentum written out; ``rates[t]`` is the rate of update t+1.

    Returns rows 0..steps of (params, loss, grads, update_norm)."""
    n = len(y)
    w = np.zeros(X1.shape[1]) if w0 is None else np.array(w0, dtype=float)
    m = np.zeros_like(w)
    rows = []
    prev = None
    for t in range(steps + 1):
        r = X1 @ w - y
        g = 2.0 / n * X1.T @ r
        rows.append((w.copy(), float(np.mean(r**2)), g, np.nan if prev is None else float(np.linalg.norm(w - prev))))
        if t == steps:
            break
        m = g + beta * m
        prev = w
        w = w - rates[t] * m
    return rows


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


# ---------------------------------------------------------------------------------------------
# Run CSV
# ---------------------------------------------------------------------------------------------


def test_run_csv_reads_back_as_the_trajectory_and_a_naive_gd_loop():
    config = RunConfig(learning_rate=0.05)
    traj = simulate(config)
    df = read(export.run_csv(traj, LINE_NAMES))
    assert list(df.columns) == ["step", "intercept", "slope on x", "loss", "grad_intercept", "grad_slope on x",
                                "learning_rate", "update_norm"]  # fmt: skip
    # Every number reads back bit for bit (repr round-trips float64).
    np.testing.assert_array_equal(df["step"], traj.step)
    np.testing.assert_array_equal(df[list(LINE_NAMES)].to_numpy(), traj.params)
    np.testing.assert_array_equal(df["loss"], traj.loss)
    np.testing.assert_array_equal(df[["grad_intercept", "grad_slope on x"]].to_numpy(), traj.grads)
    # Against plain GD written out, for the first 30 steps.
    X1, y = line_design()
    rows = naive_run(X1, y, [0.05] * 30, 30)
    head = df.iloc[:31]
    np.testing.assert_allclose(head[list(LINE_NAMES)].to_numpy(), [r[0] for r in rows], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(head["loss"], [r[1] for r in rows], rtol=1e-10)
    np.testing.assert_allclose(head[["grad_intercept", "grad_slope on x"]].to_numpy(), [r[2] for r in rows],
                               rtol=1e-9, atol=1e-10)  # fmt: skip
    np.testing.assert_allclose(head["update_norm"][1:], [r[3] for r in rows][1:], rtol=1e-9)
    # No update before step 0: the rate and the update norm are empty there, the rate is 0.05 after.
    assert np.isnan(df["learning_rate"][0]) and np.isnan(df["update_norm"][0])
    assert (df["learning_rate"][1:] == 0.05).all()
    assert int(df["step"].iloc[-1]) == int(traj.step[-1]) and traj.status is engine.Status.CONVERGED


def test_run_csv_rate_column_is_the_schedule_value_per_step_with_momentum():
    lr, k, beta = 0.02, 0.3, 0.9
    config = RunConfig(optimizer="momentum", beta=beta, learning_rate=lr, schedule="inverse_time", decay_rate=k)
    traj = simulate(config)
    df = read(export.run_csv(traj, LINE_NAMES, optimizer=config.optimizer))
    rates = [lr / (1 + k * c) for c in range(25)]  # update t uses count t-1
    np.testing.assert_allclose(df["learning_rate"][1:26], rates, rtol=1e-15)
    X1, y = line_design()
    rows = naive_run(X1, y, rates, 25, beta=beta)
    np.testing.assert_allclose(df[list(LINE_NAMES)].to_numpy()[:26], [r[0] for r in rows], rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("optimizer", sorted(optimizers.OPTIMIZERS))
def test_rate_column_says_base_rate_for_adaptive_optimizers(optimizer):
    traj = simulate(RunConfig(optimizer=optimizer, learning_rate=0.01, max_steps=5))
    df = read(export.run_csv(traj, LINE_NAMES, optimizer=optimizer))
    adaptive = optimizer in {"adagrad", "rmsprop", "adam"}
    column = "base_learning_rate" if adaptive else "learning_rate"
    assert column in df.columns and ("learning_rate" in df.columns) != adaptive
    assert (df[column][1:] == 0.01).all() and len(df) == 6


def test_divergent_run_keeps_its_overflowed_numbers():
    X1, y = line_design()
    lam_max = np.linalg.eigvalsh(2 / len(y) * X1.T @ X1).max()
    config = RunConfig(learning_rate=float(3.0 / lam_max))  # 1.5 x the divergence threshold 2/lambda_max
    traj = simulate(config)
    assert traj.status is engine.Status.DIVERGED
    df = read(export.run_csv(traj, LINE_NAMES))
    assert len(df) == traj.n_states  # nothing clipped or dropped
    assert not np.isfinite(df["loss"].iloc[-1]) or not np.isfinite(df[list(LINE_NAMES)].iloc[-1]).all()
    assert (np.diff(df["loss"][:-1]) > 0).all()  # growing all the way
    np.testing.assert_array_equal(df["loss"][:-1], traj.loss[:-1])


def test_runs_csv_stacks_runs_under_a_run_column():
    a = simulate(RunConfig(learning_rate=0.01, max_steps=7))
    b = simulate(RunConfig(learning_rate=0.05, max_steps=4))
    df = read(export.runs_csv([("Slow, rate 0.01", a), ("Good", b)], LINE_NAMES))
    assert df.columns[0] == "run" and list(df["run"].unique()) == ["Slow, rate 0.01", "Good"]
    assert (df["run"] == "Slow, rate 0.01").sum() == 8 and (df["run"] == "Good").sum() == 5
    np.testing.assert_array_equal(df.loc[df["run"] == "Good", "learning_rate"][1:], [0.05] * 4)


def test_param_names_must_match_the_run():
    traj = simulate(RunConfig(max_steps=2))
    with pytest.raises(ValueError, match="3 param names for a run of 2 params"):
        export.run_csv(traj, ("a", "b", "c"))


def test_sweep_csv_matches_the_table_and_naive_runs():
    config = RunConfig()
    problem = one_feature_problem(config)
    rates = np.array([0.001, 0.01, 0.05, 0.2])
    result = sweep.run_sweep(problem, rates, tol=config.tol, max_steps=3000)
    table = sweep.summarise(problem, result, tol=config.tol, max_steps=3000)
    df = read(export.sweep_csv(table))
    assert list(df.columns) == list(export.SWEEP_COLUMNS)
    np.testing.assert_array_equal(df["learning_rate"], rates)
    assert list(df["outcome"]) == list(table.outcome)
    X1, y = line_design()
    for k, rate in enumerate(rates):  # steps to converge, counted by a naive loop
        w, steps = np.zeros(2), 0
        with np.errstate(all="ignore"):
            while steps < 3000:
                new = w - rate * 2 / len(y) * X1.T @ (X1 @ w - y)
                steps += 1
                moved, w = np.linalg.norm(new - w), new
                overflowed = not (np.isfinite(w).all() and np.isfinite(np.mean((X1 @ w - y) ** 2)))
                if overflowed or moved < config.tol:  # the loss overflows before the params do
                    break
        if overflowed:  # where float64 gives up depends on how the loss is summed: the same step to 1%
            assert df["outcome"][k] == "overflowed" and abs(df["steps_measured"][k] - steps) <= 0.01 * steps
        else:
            assert df["steps_measured"][k] == steps, rate
            np.testing.assert_allclose(df["final_loss"][k], np.mean((X1 @ w - y) ** 2), rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Figures as HTML
# ---------------------------------------------------------------------------------------------


def test_figure_html_is_standalone_and_holds_the_data():
    marker = [1.234567, 7.654321, 3.141592]
    spec = {"data": [{"type": "scatter", "x": [0, 1, 2], "y": marker, "name": "marker trace"}],
            "layout": {"title": {"text": "A test figure<br><sub>subtitle</sub>"}}}  # fmt: skip
    t0 = time.perf_counter()
    html = export.figure_html(spec)
    elapsed = time.perf_counter() - t0
    print(f"figure_html: {len(html) / 1e6:.2f} MB in {elapsed * 1000:.0f} ms")
    assert html.lstrip().lower().startswith(("<!doctype html>", "<html")) and "</html>" in html
    assert "<title>A test figure</title>" in html
    assert "marker trace" in html and "7.654321" in html
    assert "Plotly.newPlot" in html and "plotly.js v" in html.lower()  # the library is inlined ...
    assert not re.search(r"<script[^>]+src=", html)  # ... and nothing is fetched
    assert len(html) > 3_000_000


def test_figure_html_takes_a_figure_and_typed_arrays():
    fig = go.Figure(go.Scatter(x=np.arange(5.0), y=np.array([9.5, 8.25, 7.125, 6.0, 5.5]), name="typed"))
    html = export.figure_html(fig, title="mine")
    assert "<title>mine</title>" in html and "typed" in html


def test_figure_title_and_file_names():
    assert export.figure_title({"layout": {"title": {"text": "Loss <b>curve</b><br>more"}}}) == "Loss curve"
    assert export.figure_title({"layout": {}}, "fallback") == "fallback"
    assert export.file_name("playground", "run", "csv", rate=0.05) == "gdviz-playground-run-lr0.05.csv"
    assert (
        export.file_name("Feature scaling", "Loss (log scale)", "html") == "gdviz-feature-scaling-loss-log-scale.html"
    )


# ---------------------------------------------------------------------------------------------
# Scripts, executed
# ---------------------------------------------------------------------------------------------


def run_script(source: str, tmp_path: Path, files: dict[str, bytes] | None = None) -> str:
    """Run ``source`` as a file in an empty folder with the repository on PYTHONPATH; return its stdout."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content)
    path = folder / "reproduce.py"
    path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(path)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """gdviz installed with pip (``pip install .`` from a copy of what the package needs) into a folder of its
    own, offline: no dependencies fetched, the build's own tools from this venv when it has them."""
    src, target = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("site")
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "gdviz", src / "gdviz", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target)]
    done = subprocess.run([*pip, "--no-build-isolation", str(src)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "bdist_wheel" in done.stderr:  # setuptools < 70.1 without the wheel package
        pip.remove("--no-index")  # the build's tools from the package index pip is configured with
        done = subprocess.run([*pip, str(src)], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"cannot build the package here (no wheel support, no index): {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr
    return target


def test_the_script_runs_outside_the_repository_with_the_package_installed(installed, tmp_path):
    config = RunConfig(learning_rate=0.05)
    source = export.script(config)
    assert "pip install" in source.split('"""')[1]  # the header says how to get gdviz
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "reproduce.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    bare = subprocess.run([sys.executable, "reproduce.py"], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert bare.returncode != 0 and "No module named 'gdviz'" in bare.stderr  # not found by accident
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=folder, env={**env, "PYTHONPATH": str(installed)},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [(status, step, params)] = parse(done.stdout)
    traj = simulate(config)
    assert status == traj.status.value and step == int(traj.step[-1])
    np.testing.assert_array_equal(list(params.values()), traj.params[-1])
    assert (installed / "gdviz" / "ui" / "live_chart.js").is_file()  # package data: the components' JS
    assert not (installed / "tests").exists()


def parse(out: str) -> list[tuple[str, int, dict[str, float]]]:
    """(status, step, {param: value}) per run printed by a script's ``show``."""
    runs = []
    for block in re.split(r"^status: ", out, flags=re.M)[1:]:
        lines = block.splitlines()
        params = {}
        for line in lines[3:]:
            if not line.startswith("  "):
                break
            name, value = line.strip().rsplit(" = ", 1)
            params[name] = float(value)
        runs.append((lines[0], int(lines[1].removeprefix("step: ")), params))
    return runs


CONFIGS = {
    "plain GD": RunConfig(learning_rate=0.05),
    "momentum, inverse-time schedule": RunConfig(optimizer="momentum", learning_rate=0.02, schedule="inverse_time",
                                                 decay_rate=0.05, init_intercept=-3.0, init_slope=1.5),
    "divergent rate": RunConfig(learning_rate=0.3, max_steps=5000),
    "adam on diabetes bmi, standardised": RunConfig(dataset="diabetes", feature=2, scaling="standard",
                                                    optimizer="adam", learning_rate=0.5, max_steps=3000),
    "mini-batch of 4, momentum": RunConfig(batch_size=4, seed=3, optimizer="momentum", learning_rate=0.02,
                                           max_steps=2000),
    "mini-batch of 32 on diabetes": RunConfig(dataset="diabetes", feature=2, scaling="standard", batch_size=32,
                                              learning_rate=0.1, max_steps=1500),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CONFIGS))
def test_script_prints_what_simulate_gives(name, tmp_path):
    config = CONFIGS[name]
    [(status, step, params)] = parse(run_script(export.script(config), tmp_path))
    traj = simulate(config)
    assert status == traj.status.value and step == int(traj.step[-1])
    names = one_feature_problem(config).param_names
    assert list(params) == list(names)
    np.testing.assert_array_equal(list(params.values()), traj.params[-1])  # printed with repr: exact
    if name == "divergent rate":
        assert status == "diverged"
    if config.batch_size:  # the script's run is the mini-batch run: the engine's, with the config's rows
        problem = one_feature_problem(config)
        direct = engine.collect(
            engine.run(
                problem,
                config.make_optimizer(),
                tol=config.tol,
                max_steps=config.max_steps,
                batch_size=config.batch_size,
                seed=config.seed,
            )
        )
        np.testing.assert_array_equal(list(params.values()), direct.params[-1])  # fmt: skip
        assert f"batch_size={config.batch_size}," in export.script(config)


def test_all_features_script_runs_gd_on_every_diabetes_feature(tmp_path):
    config = RunConfig(dataset="diabetes", scaling="standard", learning_rate=0.1, max_steps=3000)
    [(status, step, params)] = parse(run_script(export.script(config, all_features=True), tmp_path))
    X, y = load_diabetes(return_X_y=True, scaled=False)  # raw diabetes, standardised here
    problem = data.make_problem(X, y, scaling="standard")
    traj = engine.collect(engine.run(problem, optimizers.gd(0.1), tol=1e-6, max_steps=3000))
    assert (status, step) == (traj.status.value, int(traj.step[-1])) and len(params) == 11
    np.testing.assert_array_equal(list(params.values()), traj.params[-1])
    # The same number of plain GD steps written out on the standardised features.
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    X1 = np.column_stack([np.ones(len(y)), Z])
    w = np.zeros(11)
    for _ in range(step):
        w = w - 0.1 * 2 / len(y) * X1.T @ (X1 @ w - y)
    np.testing.assert_allclose(list(params.values()), w, rtol=1e-7, atol=1e-7)


def test_runs_script_reproduces_every_lane(tmp_path):
    base = RunConfig(max_steps=3000)
    runs = {"Slow": base.replace(learning_rate=0.002), "Diverging": base.replace(learning_rate=0.3),
            "Decaying": base.replace(learning_rate=0.3, schedule="inverse_time", decay_rate=0.5)}  # fmt: skip
    printed = parse(run_script(export.script(base, runs=runs, page="Regimes"), tmp_path))
    assert len(printed) == 3
    for (status, step, params), config in zip(printed, runs.values(), strict=True):
        traj = simulate(config)
        assert (status, step) == (traj.status.value, int(traj.step[-1]))
        np.testing.assert_array_equal(list(params.values()), traj.params[-1])


def test_sweep_script_repeats_the_sweep(tmp_path):
    config = RunConfig()
    settings = sweep.SweepSettings(relative=True, low=0.01, high=1.5, n_rates=30, max_steps=2000)
    out = run_script(export.sweep_script(config, settings), tmp_path)
    problem = one_feature_problem(config)
    rates = settings.rates(problem)
    table = sweep.summarise(problem, sweep.run_sweep(problem, rates, tol=config.tol, max_steps=2000), tol=config.tol,
                            max_steps=2000)  # fmt: skip
    for outcome in sweep.Outcome:
        assert f"{outcome.value}: {int((table.outcome == outcome.value).sum())}" in out
    assert "fastest: rate" in out


@pytest.mark.skipif(not hasattr(data, "read_csv"), reason="data.read_csv (the CSV reader) is not merged yet")
def test_upload_script_reads_the_file_next_to_it(tmp_path):
    rng = np.random.default_rng(3)
    x, z = rng.normal(2, 1, 60), rng.normal(0, 3, 60)
    y = 1.5 + 2.0 * x - 0.5 * z + rng.normal(0, 0.1, 60)
    rows = zip(x.tolist(), z.tolist(), y.tolist(), strict=True)  # Python floats: repr is the plain number
    csv = "size,noise col,price\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in rows)
    upload = export.Upload("houses.csv", "price", ("size",))
    config = RunConfig(learning_rate=0.05, max_steps=20000)
    [(status, _, params)] = parse(run_script(export.script(config, upload=upload), tmp_path,
                                             {"houses.csv": csv.encode()}))  # fmt: skip
    optimum = np.linalg.lstsq(np.column_stack([np.ones(60), x]), y, rcond=None)[0]
    assert status == "converged" and list(params) == ["intercept", "size"]
    np.testing.assert_allclose(list(params.values()), optimum, rtol=1e-4)


def test_upload_script_says_where_the_file_goes():
    text = export.script(RunConfig(), upload=export.Upload("my data.csv", "y", ("a", "b")), all_features=True)
    assert "Put 'my data.csv' (the file you uploaded) in the same folder as this script." in text
    assert "data.select_columns(ds, target='y', features=['a', 'b'])" in text
    assert "load_dataset" not in text


def test_names_with_commas_and_quotes_are_quoted():
    traj = simulate(RunConfig(max_steps=3))
    names = ("intercept", 'slope on "size, m2"')
    df = read(export.runs_csv([('run "A", slow', traj)], names))
    assert list(df.columns[:3]) == ["run", "step", "intercept"] and df.columns[3] == 'slope on "size, m2"'
    assert set(df["run"]) == {'run "A", slow'} and len(df) == 4
    np.testing.assert_array_equal(df[list(names)].to_numpy(), traj.params)
