""" "The math" page under AppTest: every number it shows, checked against oracles written in this file.

The oracles use no gdviz code beyond loading the raw data: the design matrix X1 built here (scaled here
when the page scales), the gradient (2/n) X1^T (X1 w - y) and the loss on the rows, np.linalg.eigvalsh
of the Hessian, np.linalg.lstsq for the optimum, and naive gradient-descent / heavy-ball loops for the
run. The page is driven through its widgets and its player: what the browser sends after a pause (the step,
``tests.player_view.sync``). A number that follows the step is a page cell (``data-gdviz-cell``), read here as
the server wrote it at the synced step; that the player rewrites it at every step is tests/e2e/test_math.py.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import data
from tests import player_view
from tests.oracles import design, grad_of, heavy_ball, loss_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/math.py"
REL = 6e-6  # metrics and tables show 6 significant figures
DEFAULT_LR = 0.05


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz code)
# ---------------------------------------------------------------------------------------------


def gd_path(X1, y, lr, steps, *, rates=None) -> np.ndarray:
    """Plain GD written out: rows 0..steps; ``rates(t)`` is the rate of update t + 1 (default: lr)."""
    w = np.zeros(2)
    out = [w]
    for t in range(steps):
        w = w - (rates(t) if rates else lr) * grad_of(X1, y, w)
        out.append(w)
    return np.array(out)


def first_overflow(X1, y, lr) -> int:
    """The first step of plain GD whose loss is beyond float64 (computed without spurious overflow)."""
    w = np.zeros(2)
    with np.errstate(all="ignore"):
        for t in range(1, 100_000):
            w = w - lr * grad_of(X1, y, w)
            r = X1 @ w - y
            top = np.max(np.abs(r))
            if not (np.isfinite(top) and np.isfinite(top * (top * np.mean((r / top) ** 2)))):
                return t
    raise AssertionError("no overflow")


def expected_numbers(X1, y, w, lr, w_next=None) -> dict[str, float]:
    """metric label -> value the page must show for params ``w`` and a plain step of rate ``lr``."""
    n = len(y)
    r = X1 @ w - y
    g = grad_of(X1, y, w)
    H = 2.0 / n * X1.T @ X1
    lam = np.linalg.eigvalsh(H)
    out = {
        "J(w) from the rows": loss_of(X1, y, w),
        "J(w) in the run": loss_of(X1, y, w),
        "Column sum for intercept": r.sum(),
        "n (rows)": n,
        "lambda_max of the mean": lam[-1],
        "lambda_max of the sum": n * lam[-1],
        "Largest safe rate (mean)": 2 / lam[-1],
        "Largest safe rate (sum)": 2 / (n * lam[-1]),
        "J(w)": loss_of(X1, y, w),
        "||g||^2": g @ g,
        "Taylor prediction": loss_of(X1, y, w) - lr * (g @ g),
        "Curvature term": 0.5 * lr**2 * (g @ H @ g),
        "Actual J(w - eta g)": loss_of(X1, y, w - lr * g),
        "Loss drops while eta <": 2 * (g @ g) / (g @ H @ g),
        "Oscillation from 1/lambda_max": 1 / lam[-1],
        "Divergence from 2/lambda_max": 2 / lam[-1],
        "eta / (2/lambda_max)": lr * lam[-1] / 2,
    }
    if w_next is not None:
        out["The run's loss at the next step"] = loss_of(X1, y, w_next)
    return out


# ---------------------------------------------------------------------------------------------
# Reading the page
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def math_page() -> AppTest:
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    return ok(at.switch_page(PAGE).run())


CELL_BLOCK = re.compile(
    r'<div style="[^"]*">([^<]*)</div><div style="[^"]*"><span data-gdviz-cell="math:[^>]*>([^<]*)</span>'
)


def metrics(at: AppTest) -> dict[str, str]:
    """label -> value of every st.metric and every metric-like page cell block."""
    out = {m.label: m.value for m in at.metric}
    for md in at.markdown:
        out |= {html.unescape(label): html.unescape(v) for label, v in CELL_BLOCK.findall(md.value)}
    return out


def _strip(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell))


def html_tables(at: AppTest) -> list[pd.DataFrame]:
    """The page's HTML tables (the ones with page cells), first column as the index; a per-parameter table
    (one column per parameter) is turned to one row per parameter."""
    out = []
    for md in at.markdown:
        for t in re.findall(r"<table[^>]*>.*?</table>", md.value, flags=re.S):
            head = [_strip(h) for h in re.findall(r"<th>(.*?)</th>", t)]
            rows = [[_strip(c) for c in re.findall(r"<td>(.*?)</td>", r)] for r in re.findall(r"<tr>(.*?)</tr>", t)]
            rows = [r for r in rows if r]
            frame = pd.DataFrame(rows, columns=head).set_index(head[0])
            if head[0] == "quantity":  # one column per parameter: read it one row per parameter
                frame = frame.T.rename_axis("parameter")
            out.append(frame)
    return out


def value(text: str) -> float:
    return float(text.replace(",", ""))


def table(at: AppTest, column: str):
    """The st.table that has ``column`` (as its index name or a column)."""
    for df in [t.value for t in at.table] + html_tables(at):
        if column in df.columns or df.index.name == column:
            return df
    raise AssertionError(f"no table with column {column!r}")


def texts(at: AppTest, kind: str) -> str:
    return " ".join(e.value for e in getattr(at, kind))


def set_step(at: AppTest, step: int) -> AppTest:
    """What the player sends after the user stepped to ``step`` and paused."""
    return ok(player_view.sync(at, step, "math"))


def shown_step(at: AppTest) -> int:
    return player_view.data(at, "math")["step"]


def assert_page_shows(at: AppTest, X1, y, path: np.ndarray, step: int, lr: float, *, feature: str = "x") -> None:
    """Every number of the page at ``step`` of the run ``path`` (rows = steps), against the oracles."""
    n = len(y)
    w = path[step]
    w_next = path[step + 1] if step + 1 < len(path) else None
    shown = metrics(at)
    assert shown_step(at) == step
    # Shapes
    assert shown["X1 shape"] == f"{n:,} x 2"
    assert shown["y shape"] == f"{n:,}" and shown["w shape"] == "2" and shown["Residual shape"] == f"{n:,}"
    # Scalars
    want = expected_numbers(X1, y, w, lr, w_next)
    want[f"Column sum for {feature}"] = float(X1[:, 1] @ (X1 @ w - y))
    for label, expected in want.items():
        assert value(shown[label]) == pytest.approx(expected, rel=REL, abs=1e-9), label
    g = grad_of(X1, y, w)
    assert value(shown["Largest difference, formula vs engine"]) <= 1e-9 * max(1.0, np.max(np.abs(g)))
    # The gradient, both ways
    grads = table(at, "engine")
    assert list(grads.index) == ["intercept", feature]
    for col, expected in (("w", w), ("(2/n) X1^T (X1 w - y)", g), ("engine", g)):
        np.testing.assert_allclose(grads[col].astype(float), expected, rtol=REL, atol=1e-9, err_msg=col)
    # Spectrum and per-direction factors
    lam = np.linalg.eigvalsh(2.0 / n * X1.T @ X1)
    eig = table(at, "1 - eta x eigenvalue")
    np.testing.assert_allclose(eig.index.astype(float), lam, rtol=REL)
    np.testing.assert_allclose(eig["1 - eta x eigenvalue"].astype(float), 1 - lr * lam, rtol=REL, atol=1e-9)
    # Error recursion: e_{t+1} = (I - eta H) e_t, and the run's own next error
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    err = table(at, "(I - eta H) e_t")
    np.testing.assert_allclose(err["e_t = w_t - w*"].astype(float), w - w_star, rtol=REL, atol=1e-8)
    H = 2.0 / n * X1.T @ X1
    np.testing.assert_allclose(err["(I - eta H) e_t"].astype(float), (np.eye(2) - lr * H) @ (w - w_star), rtol=REL,
                               atol=1e-8)  # fmt: skip
    if w_next is not None:
        np.testing.assert_allclose(err["e_{t+1} in the run"].astype(float), w_next - w_star, rtol=REL, atol=1e-8)
    plain = re.sub(r"<[^>]+>", "", texts(at, "markdown"))
    assert f"One plain step from step {step:,}** at rate eta = {lr:.6g}" in plain
    # The browser holds the same numbers at this step (the payload's columns at the row the player opens at)
    p, k = player_view.payload(at, "math"), player_view.shown_row(at, "math")
    assert p["columns"]["step"][k] == step
    np.testing.assert_allclose([p["columns"]["w0"][k], p["columns"]["w1"][k]], w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([p["columns"]["gf0"][k], p["columns"]["gf1"][k]], g, rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def line():
    ds = data.synthetic_line()
    return design(ds.X[:, 0]), np.asarray(ds.y, dtype=float)


@pytest.fixture(scope="module")
def line_path(line) -> np.ndarray:
    X1, y = line
    return gd_path(X1, y, DEFAULT_LR, 40)


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_every_number_at_the_start(line, line_path):
    at = math_page()
    X1, y = line
    assert_page_shows(at, X1, y, line_path, 0, DEFAULT_LR)
    assert len(at.latex) >= 12  # the derivation is there, one line at a time
    assert "Scaling: none" in texts(at, "caption")
    assert "n = 20 rows" in texts(at, "caption")


def test_the_players_step_changes_the_numbers(line, line_path):
    at = math_page()
    X1, y = line
    before = metrics(at)
    for step in (5, 17, 1):
        set_step(at, step)
        assert_page_shows(at, X1, y, line_path, step, DEFAULT_LR)
    after = metrics(at)
    for label in ("J(w) from the rows", "Column sum for intercept", "||g||^2", "Actual J(w - eta g)"):
        assert before[label] != after[label], label
    # the data and the spectrum do not depend on the step
    for label in ("X1 shape", "lambda_max of the mean", "Divergence from 2/lambda_max"):
        assert before[label] == after[label], label


def test_the_step_starts_at_the_playgrounds_step(line, line_path):
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    ok(player_view.sync(at, 3))  # what the Playground's player sends after three Steps and a pause
    ok(at.switch_page(PAGE).run())
    X1, y = line
    assert_page_shows(at, X1, y, line_path, 3, DEFAULT_LR)


def test_out_of_range_steps_never_raise(line):
    at = math_page()
    last = None
    for step in (10**7, -5):
        set_step(at, step)
        last = shown_step(at)
        assert last is not None and last >= 0
    assert last == 0
    assert metrics(at)["X1 shape"] == "20 x 2"


def test_scaled_data_uses_the_scaled_design_matrix(line):
    at = math_page()
    ok(at.selectbox(key="math_scaling").set_value("standard").run())
    raw = data.synthetic_line().X[:, 0]
    z = (raw - raw.mean()) / raw.std()  # standard scaling, written out
    X1, y = design(z), line[1]
    path = gd_path(X1, y, DEFAULT_LR, 10)
    set_step(at, 6)
    assert_page_shows(at, X1, y, path, 6, DEFAULT_LR)
    info = texts(at, "info")
    assert "scaled space" in info and f"{raw.mean():.4g}" in info and f"{raw.std():.4g}" in info


def test_another_dataset_and_feature():
    at = math_page()
    ok(at.selectbox(key="math_dataset").set_value("diabetes").run())
    ok(at.selectbox(key="math_feature").set_value(2).run())  # bmi
    ok(at.selectbox(key="math_scaling").set_value("standard").run())
    ds = data.load_dataset("diabetes")
    x = np.asarray(ds.X[:, 2], dtype=float)
    X1, y = design((x - x.mean()) / x.std()), np.asarray(ds.y, dtype=float)
    path = gd_path(X1, y, DEFAULT_LR, 5)
    set_step(at, 4)
    assert_page_shows(at, X1, y, path, 4, DEFAULT_LR, feature=ds.feature_names[2])
    assert metrics(at)["X1 shape"] == "442 x 2"


def test_a_divergent_rate_is_shown_and_explained(line):
    at = math_page()
    X1, y = line
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1]
    lr = 0.5  # 2.7x the divergence threshold 2/lambda_max of this data
    assert lr > 2 / lam
    ok(at.number_input(key="math_learning_rate").set_value(lr).run())
    assert "Diverged." in texts(at, "warning") and "above 2/lambda_max" in texts(at, "warning")
    path = gd_path(X1, y, lr, 12)
    set_step(at, 12)
    assert_page_shows(at, X1, y, path, 12, lr)
    assert value(metrics(at)["eta / (2/lambda_max)"]) > 1
    assert "Actual J(w - eta g)" in metrics(at)
    # the last step of the run: values have overflowed; shown as such, explained, no traceback
    last = int(player_view.payload(at, "math")["columns"]["step"][-1])
    assert last == first_overflow(X1, y, lr)
    set_step(at, last)
    assert "overflowed float64" in texts(at, "warning")
    shown = metrics(at)
    assert shown["J(w) in the run"] == "overflowed"
    # the step before still has finite (huge) numbers, which grow by about |1 - lr lambda_max| per step
    set_step(at, last - 1)
    assert np.isfinite(value(metrics(at)["J(w) in the run"]))


def test_momentum_and_a_schedule(line):
    at = math_page()
    X1, y = line
    ok(at.selectbox(key="math_optimizer").set_value("momentum").run())
    set_step(at, 4)
    path = heavy_ball(X1, y, DEFAULT_LR, 0.9, 4)
    w = path[4]
    grads = table(at, "engine")
    np.testing.assert_allclose(grads["w"].astype(float), w, rtol=REL)
    np.testing.assert_allclose(grads["engine"].astype(float), grad_of(X1, y, w), rtol=REL)
    np.testing.assert_allclose(grads["(2/n) X1^T (X1 w - y)"].astype(float), grad_of(X1, y, w), rtol=REL)
    assert "momentum" in texts(at, "caption")
    assert "The run's loss at the next step" not in metrics(at)  # only plain GD's next step is one plain step
    # Plain GD with 1/t decay: the step uses the schedule's rate at this count
    ok(at.selectbox(key="math_optimizer").set_value("gd").run())
    ok(at.selectbox(key="math_schedule").set_value("inverse_time").run())
    ok(at.number_input(key="math_decay_rate").set_value(0.5).run())
    set_step(at, 3)

    def rate(t):
        return DEFAULT_LR / (1 + 0.5 * t)

    path = gd_path(X1, y, None, 6, rates=rate)
    assert_page_shows(at, X1, y, path, 3, rate(3))


def test_a_mini_batch_run_is_not_sold_as_the_full_batch_recursion():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["batch"] = "3"
    ok(at.run())
    ok(at.switch_page(PAGE).run())
    assert at.session_state["gdviz_config"].batch_size == 3
    set_step(at, 2)
    captions = texts(at, "caption")
    assert "mini-batches of 3 rows; this is the full-batch step" in captions
    assert "The recursion is full-batch GD's; the run uses mini-batches of 3 rows" in captions
    assert "The last two columns agree" not in captions  # they do not: the run's step used 3 rows
    assert "The run's loss at the next step" not in metrics(at)
