"""The Optimizer race page under AppTest, checked against oracles written here.

The oracles do not use gdviz's maths: X1 and y are rebuilt from the dataset's raw arrays, lambda comes from
``np.linalg.eigvalsh`` of (2/n) X1^T X1, the optimum from ``np.linalg.lstsq``, and runs are naive loops in this
file (plain GD; GD on one shuffled row at a time). The page is driven through its widgets; what is asserted is
what it shows: the rate boxes, the table, the messages, and the player's payload (what the browser draws).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import data
from gdviz.config import RunConfig
from tests import player_view
from tests.oracles import design, grad_of, loss_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/race.py"
P = "race"
LABELS = ["GD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "Newton", "Line search", "Barzilai-Borwein"]


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_page(config: RunConfig | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if config is not None:
        at.session_state["gdviz_config"] = config
    ok(at.run())
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return ok(at.switch_page(PAGE).run())


def table(at: AppTest):
    return at.table[0].value


def payload(at: AppTest) -> dict:
    return player_view.payload(at, P)


def line():
    ds = data.synthetic_line()
    return design(ds.X[:, 0]), ds.y


@pytest.fixture(scope="module")
def default_page():
    return open_page()


def naive_gd(X1, y, rate, steps, w0=None):
    w = np.zeros(X1.shape[1]) if w0 is None else np.array(w0, dtype=float)
    out = [w]
    for _ in range(steps):
        w = w - rate * grad_of(X1, y, w)
        out.append(w)
    return np.array(out)


# ---------------------------------------------------------------------------------------------
# What the page shows by default
# ---------------------------------------------------------------------------------------------


def test_nine_runs_race_with_defaults_from_numpys_eigenvalues(default_page):
    at = default_page
    X1, y = line()
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)
    lo, hi = lam[0], lam[-1]
    assert at.number_input(key="race_gd_learning_rate").value == pytest.approx(2 / (lo + hi), rel=1e-9)
    mom = (2 / (np.sqrt(hi) + np.sqrt(lo))) ** 2, ((np.sqrt(hi) - np.sqrt(lo)) / (np.sqrt(hi) + np.sqrt(lo))) ** 2
    assert at.number_input(key="race_momentum_learning_rate").value == pytest.approx(mom[0], rel=1e-9)
    assert at.number_input(key="race_momentum_beta").value == pytest.approx(mom[1], rel=1e-9)
    assert at.number_input(key="race_nesterov_learning_rate").value == pytest.approx(1 / hi, rel=1e-9)
    frame = table(at)
    assert list(frame.index) == LABELS
    assert set(frame["batch"]) == {"full"}
    assert frame.loc["Newton", "status"] == "converged"
    p = payload(at)
    assert [c["label"] for c in p["readout"]] == ["Step", *(f"{label} loss" for label in LABELS)]
    assert [c["key"] for c in p["charts"]] == ["contour", "surface", "loss"]


def test_the_gd_path_drawn_is_a_naive_gd_loop(default_page):
    at = default_page
    X1, y = line()
    rate = at.number_input(key="race_gd_learning_rate").value
    p = payload(at)
    steps = np.array(p["columns"]["step"])
    s = np.array(p["columns"]["s_gd"])
    n = int(s[-1])
    want = naive_gd(X1, y, rate, n)
    np.testing.assert_allclose(np.array(p["columns"]["x_gd"]), want[s, 0], rtol=1e-6, atol=1e-9)  # 7 digits sent
    np.testing.assert_allclose(np.array(p["columns"]["loss_gd"]), [loss_of(X1, y, w) for w in want[s]], rtol=1e-9)
    assert (s <= steps).all() and int(table(at).loc["GD", "steps to tol"].replace(",", "")) == n


def test_newton_lands_on_lstsq_in_one_step(default_page):
    X1, y = line()
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    p = payload(default_page)
    np.testing.assert_allclose([p["columns"]["x_newton"][1], p["columns"]["y_newton"][1]], w_star, rtol=1e-6)


def test_the_contour_holds_every_run_named_with_both_arrows(default_page):
    figs = player_view.figures(default_page, P)
    contour = figs["race_contour"]
    names = [t.get("name") for t in contour["data"]]
    for label in LABELS:
        assert label in names and f"{label} now" in names
        assert f"{label}: negative gradient" in names and f"{label}: update taken" in names
    assert any(str(n).startswith("negative gradient x ") for n in names)
    assert any(str(n).startswith("update taken x ") for n in names)
    now = next(t for t in contour["data"] if t.get("name") == "GD now")
    assert now["text"] == [f"all {len(LABELS)} runs"] and len(now["x"]) == 1  # step 0: every run at the start
    assert all(t["text"] == [""] for t in contour["data"] if str(t.get("name")).endswith(" now") and t is not now)


# ---------------------------------------------------------------------------------------------
# The widgets do what they say
# ---------------------------------------------------------------------------------------------


def test_switching_a_run_off_removes_it_and_on_brings_it_back():
    at = open_page()
    ok(at.checkbox(key="race_on_adam").uncheck().run())
    assert "Adam" not in table(at).index and "x_adam" not in payload(at)["columns"]
    assert len(table(at)) == 8
    ok(at.checkbox(key="race_on_adam").check().run())
    assert "Adam" in table(at).index


def test_every_run_off_says_so():
    at = open_page()
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "line_search",
                 "barzilai_borwein"):  # fmt: skip
        at.checkbox(key=f"race_on_{name}").uncheck()
    ok(at.run())
    assert any("Every run is switched off" in w.value for w in at.warning)
    assert not at.table


def test_an_edited_rate_is_raced_and_a_bad_one_refused():
    at = open_page()
    X1, y = line()
    ok(at.number_input(key="race_gd_learning_rate").set_value(0.02).run())
    assert table(at).loc["GD", "settings"] == "rate 0.02"
    p = payload(at)
    s = np.array(p["columns"]["s_gd"])
    want = naive_gd(X1, y, 0.02, int(s[-1]))
    np.testing.assert_allclose(np.array(p["columns"]["y_gd"]), want[s, 1], rtol=1e-6, atol=1e-9)
    ok(at.number_input(key="race_gd_learning_rate").set_value(-1.0).run())
    assert any("GD:" in e.value and "It keeps 0.02" in e.value for e in at.error), [e.value for e in at.error]
    assert table(at).loc["GD", "settings"] == "rate 0.02"
    ok(at.number_input(key="race_adam_b1").set_value(1.5).run())
    assert any(e.value.startswith("Adam:") for e in at.error)
    ok(at.button(key="race_reset").click().run())
    assert not at.error and table(at).loc["GD", "settings"] != "rate 0.02"


def test_batch_size_one_is_one_shuffled_row_per_update_for_the_fixed_rate_runs_only():
    at = open_page()
    X1, y = line()
    ok(at.number_input(key="race_batch").set_value(1).run())
    ok(at.number_input(key="race_seed_box").set_value(7).run())
    frame = table(at)
    assert set(frame.loc[LABELS[:6], "batch"]) == {"1 rows"}
    assert set(frame.loc[LABELS[6:], "batch"]) == {"full"}
    assert any("Mini-batches of 1 of the 20 rows" in c.value for c in at.caption)
    rate = at.number_input(key="race_gd_learning_rate").value
    order = np.random.default_rng(7).permutation(len(y))  # epoch 0's order (the engine's documented shuffle)
    w = np.zeros(2)
    for t in range(3):
        r = order[t]
        w = w - rate * 2.0 * X1[r] * (X1[r] @ w - y[r])
    p = payload(at)
    np.testing.assert_allclose([p["columns"]["x_gd"][3], p["columns"]["y_gd"][3]], w, rtol=1e-6)


@pytest.mark.parametrize("value", [0, 21, -4])  # a whole-number box: 2.5 cannot be typed (tests/test_race.py)
def test_a_bad_batch_size_is_refused_in_words(value):
    at = open_page()
    ok(at.number_input(key="race_batch").set_value(value).run())
    assert any("whole number of rows from 1 to 20" in e.value for e in at.error), [e.value for e in at.error]
    assert set(table(at)["batch"]) == {"full"}


def test_several_features_draw_any_two_params_held_as_chosen():
    at = open_page(RunConfig(dataset="diabetes", scaling="standard"))
    assert at.radio(key="race_features").value == "all"
    ds = data.load_dataset("diabetes")
    X = (ds.X - ds.X.mean(axis=0)) / ds.X.std(axis=0)
    X1 = np.column_stack([np.ones(len(ds.y)), X])
    w_star = np.linalg.lstsq(X1, ds.y, rcond=None)[0]
    ok(at.selectbox(key="race_pair_x_diabetes").set_value(2).run())
    ok(at.selectbox(key="race_pair_y_diabetes").set_value(5).run())
    p = payload(at)
    np.testing.assert_allclose([p["columns"]["x_newton"][-1], p["columns"]["y_newton"][-1]], w_star[[2, 5]],
                               rtol=1e-6)  # fmt: skip
    contour = player_view.figures(at, P)["race_contour"]
    assert contour["layout"]["xaxis"]["title"]["text"] == f"weight on {ds.feature_names[1]}"  # param 2: feature 1
    ok(at.radio(key="race_hold").set_value("current").run())
    p = payload(at)
    np.testing.assert_allclose(p["columns"]["z_gd"][:3], np.log10(p["columns"]["loss_gd"][:3]) if
                               "log10" in player_view.figures(at, P)["race_surface"]["layout"]["title"]
                               ["subtitle"]["text"] else p["columns"]["loss_gd"][:3], rtol=1e-6)  # fmt: skip
    ok(at.radio(key="race_features").set_value("one").run())  # the Playground's feature: intercept and slope
    assert not [s for s in at.selectbox if s.key == "race_pair_x_diabetes"]
    contour = player_view.figures(at, P)["race_contour"]
    assert contour["layout"]["yaxis"]["title"]["text"] == f"slope on {ds.feature_names[0]}"


# ---------------------------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------------------------


def test_a_link_sets_runs_settings_batch_and_step():
    at = open_page(query={"off": "adam,newton", "set": "gd.learning_rate:0.03", "race_batch": "4", "shuffle": "2",
                          "step": "5"})  # fmt: skip
    frame = table(at)
    assert "Adam" not in frame.index and "Newton" not in frame.index
    assert frame.loc["GD", "settings"] == "rate 0.03" and frame.loc["GD", "batch"] == "4 rows"
    assert player_view.data(at, P)["step"] == 5
    q = dict(at.query_params)
    assert q["off"] in ("adam,newton", ["adam,newton"]) and q["race_batch"] in ("4", ["4"])
    assert (
        "batch" not in q and at.session_state["gdviz_config"].batch_size == 0
    )  # the race's batch is its own, not the config's


def test_a_bad_link_says_what_it_ignored():
    at = open_page(query={"off": "sgd", "set": "gd.learning_rate:-1", "race_batch": "x", "hold": "start"})
    notices = " ".join(w.value for w in at.warning).replace("\\", "")  # shown with Markdown escaped
    for word in ("(off)", "(set)", "(race_batch)", "(hold)"):
        assert word in notices, notices
    assert len(table(at)) == 9


def test_what_the_page_keeps_in_session_state_pickles():
    at = open_page()
    ok(at.checkbox(key="race_on_rmsprop").uncheck().run())
    ok(at.number_input(key="race_batch").set_value(5).run())
    for key in [k for k in at.session_state if k.startswith(("race_", "gdviz_"))]:
        value = at.session_state[key]
        if type(value).__module__.startswith("streamlit"):
            continue
        assert pickle.loads(pickle.dumps(value)) == value, key
