"""Every page's Download section under AppTest: its buttons are there, and the files they hand out hold the
right numbers, checked against oracles written here (naive gradient descent, ``np.linalg.eigvalsh``).

How the files are read: ``st.download_button`` with a callable ``data`` registers that callable with the
media file manager (``add_deferred``) and runs it only when the user clicks. AppTest keeps no media files,
so a spy on ``MediaFileManager.add_deferred`` records each button's callable by file name, and the test
calls it, as the click would.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from gdviz import data, export, regimes
from gdviz.config import RunConfig
from gdviz.ui import cache
from gdviz.ui.state import CONFIG_KEY
from tests import player_view
from tests.conftest import CALIFORNIA_CSV

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz maths)
# ---------------------------------------------------------------------------------------------


def line() -> tuple[np.ndarray, np.ndarray]:
    ds = data.synthetic_line()
    return np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]]), ds.y


def naive_gd(X1, y, lr, steps=None, tol=TOL) -> np.ndarray:
    """Plain GD from zeros; rows 0..steps, or until ||w_t - w_{t-1}|| < tol when ``steps`` is None."""
    w = np.zeros(X1.shape[1])
    out = [w]
    while steps is None or len(out) <= steps:
        new = w - lr * 2 / len(y) * X1.T @ (X1 @ w - y)
        out.append(new)
        if steps is None and np.linalg.norm(new - w) < tol:
            break
        w = new
    return np.array(out)


def lambda_max(X1) -> float:
    return float(np.linalg.eigvalsh(2 / len(X1) * X1.T @ X1).max())


# ---------------------------------------------------------------------------------------------
# Driving the pages
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """California housing (the Feature scaling page's puzzle) from the shared CSV, or from a missing path: the
    tests never download it."""
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(CALIFORNIA_CSV if CALIFORNIA_CSV.is_file() else tmp_path / "no.csv"))
    cache.clear_caches()
    yield
    cache.clear_caches()


@pytest.fixture
def files(monkeypatch):
    """file name -> the callable its download button would run on a click (the latest run's)."""
    seen: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def spy(self, fn, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name] = fn
        return original(self, fn, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return seen


@pytest.fixture
def html_builds(monkeypatch):
    """How many figure HTML files were built (they must only be built on a click)."""
    calls = []
    build = export.figure_html
    monkeypatch.setattr(export, "figure_html", lambda *a, **k: calls.append(1) or build(*a, **k))
    return calls


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(page: str, config: RunConfig | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if config is not None:
        at.session_state[CONFIG_KEY] = config
    ok(at.run())
    return at if page == "pages/playground.py" else ok(at.switch_page(page).run())


def buttons(at: AppTest) -> dict[str, str]:
    return {b.key: b.label for b in at.download_button}


def csv_of(files, name: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(files[name]()))


def figure_titles(at: AppTest, prefix: str) -> list[str]:
    return list(at.selectbox(key=f"{prefix}_dl_fig_pick").options)


def each_figure(at: AppTest, files, prefix: str, page: str, rate: float | None) -> dict[str, str]:
    """title -> the HTML its button hands out, picking each figure in turn."""
    out = {}
    for title in figure_titles(at, prefix):
        ok(at.selectbox(key=f"{prefix}_dl_fig_pick").set_value(title).run())
        out[title] = files[export.file_name(page, title, "html", rate=rate)]()
    return out


def assert_standalone(html: str) -> None:
    assert "Plotly.newPlot" in html and not re.search(r"<script[^>]+src=", html)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------


def test_playground_downloads_the_run_so_far_the_charts_and_a_script(files, html_builds, tmp_path):
    at = open_page("pages/playground.py")
    ok(player_view.sync(at, 3))  # what the player sends after three Steps and a pause
    assert buttons(at) == {
        "playground_dl_csv": "The run so far, steps 0-3 (CSV)",
        "playground_dl_fig": "The figure (interactive HTML)",
        "playground_dl_script": "Python script that reproduces it",
    }
    assert html_builds == []  # three steps, no figure HTML built
    df = csv_of(files, "gdviz-playground-run-lr0.05.csv")
    X1, y = line()
    expected = naive_gd(X1, y, 0.05, steps=3)
    assert list(df["step"]) == [0, 1, 2, 3]
    np.testing.assert_allclose(df[["intercept", "slope on x"]].to_numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df["loss"], [np.mean((X1 @ w - y) ** 2) for w in expected], rtol=1e-10)

    htmls = each_figure(at, files, "playground", "playground", 0.05)
    assert len(htmls) == 7 and len(html_builds) == 7
    for html in htmls.values():
        assert_standalone(html)
    assert '"type":"surface"' in htmls["Loss surface (3D)"].replace(" ", "")
    assert "<title>Loss surface (3D)</title>" in htmls["Loss surface (3D)"]
    ok(at.selectbox(key="playground_dl_fig_pick").set_value("Fitted line over the data").run())
    ok(player_view.sync(at, 4))
    assert at.selectbox(key="playground_dl_fig_pick").value == "Fitted line over the data"  # a step keeps the pick
    assert html_builds == [1] * 7

    script = files["gdviz-playground-script-lr0.05.py"]()
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "reproduce.py").write_text(script)
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    whole = naive_gd(X1, y, 0.05)  # the script runs to the end, not just to the current step
    assert "status: converged" in done.stdout and f"step: {len(whole) - 1}\n" in done.stdout
    printed = [float(v) for v in re.findall(r"^  .+ = (.+)$", done.stdout, flags=re.M)]
    np.testing.assert_allclose(printed, whole[-1], rtol=1e-10)


def test_regimes_downloads_every_run_in_one_csv(files, html_builds, monkeypatch):
    built = []
    figures = regimes.figures
    monkeypatch.setattr(regimes, "figures", lambda *a, **k: built.append(1) or figures(*a, **k))
    at = open_page("pages/regimes.py")
    assert set(buttons(at)) == {"regimes_dl_csv", "regimes_dl_fig", "regimes_dl_script"}
    assert html_builds == [] and built == []  # no chart is built for the menu until its file is asked for
    df = csv_of(files, "gdviz-regimes-runs.csv")
    runs = list(df["run"].unique())
    assert len(runs) == 5
    X1, y = line()
    lam = lambda_max(X1)
    for run, r in zip(runs[:4], (0.05, 0.5, 1.6, 2.1), strict=True):  # the presets: rate x lambda_max = r
        rows = df[df["run"] == run]
        rate = rows["learning_rate"].iloc[1]
        assert rate == pytest.approx(r / lam, rel=1e-3) and (rows["learning_rate"][1:] == rate).all()
        expected = naive_gd(X1, y, rate, steps=min(20, len(rows) - 1))
        np.testing.assert_allclose(rows[["intercept", "slope on x"]].to_numpy()[: len(expected)], expected,
                                   rtol=1e-10, atol=1e-10)  # fmt: skip
    decay = df[df["run"] == runs[4]]["learning_rate"].to_numpy()
    assert (np.diff(decay[1:]) < 0).all()  # the decaying run's rate falls every step
    titles = figure_titles(at, "regimes")
    assert len(titles) == 11 and titles[0] == "All runs: loss above the floor J*"
    assert "Slow rate: path on the loss contours" in titles  # named without the step, so a scrub keeps the pick
    for html in each_figure(at, files, "regimes", "regimes", None).values():
        assert_standalone(html)
    script = files["gdviz-regimes-script.py"]()
    assert all(f"{run!r}: config.replace(" in script for run in runs)  # one entry per run, named as in the CSV


def test_sweep_downloads_the_sweep_table(files, html_builds):
    at = open_page("pages/sweep.py")
    assert set(buttons(at)) == {"sweep_dl_csv", "sweep_dl_fig", "sweep_dl_script"}
    df = csv_of(files, "gdviz-sweep-table.csv")
    X1, _ = line()
    stable = 2 / lambda_max(X1)
    assert len(df) == 200  # the default sweep: 200 rates from 0.03 to 2 x 2/lambda_max
    np.testing.assert_allclose(df["learning_rate"], np.geomspace(0.03 * stable, 2 * stable, 200), rtol=1e-12)
    above = df["learning_rate"] > stable * (1 + 1e-9)
    assert set(df.loc[above, "outcome"]) <= {"growing", "overflowed"}
    assert set(df.loc[~above, "outcome"]) <= {"converged", "still moving"}
    htmls = each_figure(at, files, "sweep", "sweep", None)
    assert len(htmls) == 2 and len(html_builds) == 2
    for html in htmls.values():
        assert_standalone(html)
    assert "run_sweep" in files["gdviz-sweep-script.py"]()


def test_feature_scaling_downloads_the_run_on_every_feature(files, html_builds):
    cache.clear_caches()
    at = open_page("pages/scaling.py", RunConfig(dataset="diabetes", scaling="standard", learning_rate=0.1))
    assert set(buttons(at)) == {"scaling_dl_csv", "scaling_dl_fig", "scaling_dl_script"}
    df = csv_of(files, "gdviz-scaling-run-lr0.1.csv")
    names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert list(df.columns[1:12]) == ["intercept", *names]
    X, y = load_diabetes(return_X_y=True, scaled=False)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    expected = naive_gd(np.column_stack([np.ones(len(y)), Z]), y, 0.1, steps=25)
    np.testing.assert_allclose(df[["intercept", *names]].to_numpy()[:26], expected, rtol=1e-9, atol=1e-9)
    assert figure_titles(at, "scaling") == [
        "How spread out each raw feature is (log scale)", "Gradient per weight at step 0",
        "Gradient per weight at the chosen step", "Gradient per weight over the steps", "Loss over the steps",
        "Path on the loss contours", "Loss surface (3D)",
        "Divergence threshold 2/lambda_max per scaling, and your rate",
    ]  # fmt: skip
    assert html_builds == []
    for html in each_figure(at, files, "scaling", "scaling", 0.1).values():
        assert_standalone(html)
    script = files["gdviz-scaling-script-lr0.1.py"]()
    assert "data.load_dataset('diabetes')" in script and "optimizers.gd(0.1)" in script


def test_feature_scaling_downloads_the_charts_at_the_step_the_player_synced(files, monkeypatch):
    """The step sync reruns the page's stepping fragment (tests/e2e/test_scaling.py): its Download menu then
    hands out the charts at that step, and the link names it."""
    built = []
    build = export.figure_html
    monkeypatch.setattr(export, "figure_html", lambda fig, **k: built.append(fig) or build(fig, **k))
    cache.clear_caches()
    at = open_page("pages/scaling.py", RunConfig(dataset="diabetes", learning_rate=1e-5, max_steps=200))
    ok(player_view.sync(at, 12, "scaling"))  # what the browser sends after the user stopped at step 12
    assert at.query_params["step"] == "12"
    ok(at.selectbox(key="scaling_dl_fig_pick").set_value("Gradient per weight at the chosen step").run())
    files[export.file_name("scaling", "Gradient per weight at the chosen step", "html", rate=1e-5)]()
    (fig,) = built
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X1 = np.column_stack([np.ones(len(y)), X])
    w = naive_gd(X1, y, 1e-5, steps=12)[12]
    grads = 2 / len(y) * X1.T @ (X1 @ w - y)
    (bars,) = [t for t in fig["data"] if t.get("type") == "bar"]
    np.testing.assert_allclose(np.abs(np.asarray(bars["y"], dtype=float)), np.abs(grads), rtol=1e-9)
    assert "12" in bars["name"]  # the trace names its step
    ok(player_view.sync(at, 30, "scaling"))
    assert at.query_params["step"] == "30"
    assert at.selectbox(key="scaling_dl_fig_pick").value == "Gradient per weight at the chosen step"  # kept


def test_math_downloads_the_whole_run_it_shows(files):
    at = open_page("pages/math.py")
    df = csv_of(files, "gdviz-math-run-lr0.05.csv")
    X1, y = line()
    expected = naive_gd(X1, y, 0.05)
    assert buttons(at) == {
        "math_dl_csv": f"The run, steps 0-{len(expected) - 1:,} (CSV)",
        "math_dl_script": "Python script that reproduces it",
    }  # the page has no charts: no figures
    assert len(df) == len(expected)
    np.testing.assert_allclose(df[["intercept", "x"]].to_numpy(), expected, rtol=1e-9, atol=1e-9)


def test_a_script_for_uploaded_data_names_the_file_and_columns_of_the_session():
    def app():
        import streamlit as st

        from gdviz.config import RunConfig
        from gdviz.data import synthetic_line
        from gdviz.ui import downloads, state
        from gdviz.upload import Upload

        class Config:  # RunConfig gains dataset "upload" on the upload branch; only the name matters here
            dataset = "upload"

        table = synthetic_line()
        st.session_state[state.UPLOAD_KEY] = Upload("0" * 16, "houses.csv", "", table, table, "price", ("size", "age"))
        st.text(repr(downloads.upload_source(Config())))
        st.text(repr(downloads.upload_source(RunConfig())))  # not on uploaded data: no file to read

    at = ok(AppTest.from_function(app, default_timeout=30).run())
    assert at.text[0].value == "Upload(file_name='houses.csv', target='price', features=('size', 'age'))"
    assert at.text[1].value == "None"


def test_race_downloads_the_charts_as_shown_at_the_synced_step(files, monkeypatch):
    """The race's chart files are the charts the player shows at the step the browser synced: every path up to
    that step (GD's is a naive GD loop at the page's default rate), and the name labels as drawn."""
    built = []
    build = export.figure_html
    monkeypatch.setattr(export, "figure_html", lambda fig, **k: built.append(fig) or build(fig, **k))
    at = open_page("pages/race.py")
    ok(player_view.sync(at, 7, "race"))
    assert at.query_params["step"] == "7"
    title = "Every path on the loss contours"
    ok(at.selectbox(key="race_dl_fig_pick").set_value(title).run())
    assert built == []  # nothing built until the click
    html = files[export.file_name("race", title, "html")]()
    assert_standalone(html)
    (fig,) = built
    X1, y = line()
    lam = np.linalg.eigvalsh(2 / len(y) * X1.T @ X1)
    want = naive_gd(X1, y, 2 / (lam[0] + lam[-1]), steps=7)  # the race's GD: 2/(lambda_min + lambda_max)
    gd = next(t for t in fig["data"] if t.get("name") == "GD")
    np.testing.assert_allclose(np.column_stack([gd["x"], gd["y"]]), want, rtol=1e-9, atol=1e-12)
    now = [t for t in fig["data"] if str(t.get("name")).endswith(" now")]
    assert len(now) == 9 and all(len(t["x"]) == 1 for t in now)
    assert sum(t["text"] != [""] for t in now) >= 2  # the runs have parted: more than one label
    assert all(t["text"] == [""] or t["text"][0] for t in now)
