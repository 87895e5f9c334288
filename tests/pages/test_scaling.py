"""The Feature scaling page under AppTest, checked against oracles written here.

The oracles never call gdviz: the data are read from the CSV with NumPy (or from scikit-learn), the design
matrix, gradients and Hessians are built in this file, the spectra come from ``np.linalg.eigvalsh`` of
the Hessian of each scikit-learn-scaled X, the optimum from ``np.linalg.lstsq``, and the runs from a naive
gradient-descent loop below. The page is driven through its widgets; what is asserted is what it shows
(metrics, table, chart data) and what it keeps in the shared config.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from streamlit.testing.v1 import AppTest

from gdviz import data
from gdviz.ui import cache
from tests import player_view
from tests.chart_utils import check_contour_levels, contour_hover, decode, trace_by_name
from tests.conftest import CALIFORNIA_CSV, live_figure

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/scaling.py"
CHART_KEYS = (
    "scaling_grad_start",
    "scaling_grad_step",
    "scaling_grad_history",
    "scaling_loss",
    "scaling_contour",
    "scaling_surface",
)
NAMES = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude")
SCALERS = {"none": None, "standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
TOL, MAX_STEPS = 1e-6, 10_000  # the RunConfig defaults the page runs with

# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz code)
# ---------------------------------------------------------------------------------------------


def design(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def loss_of(X1: np.ndarray, y: np.ndarray, w) -> float:
    """mean((X1 w - y)^2), computed so that it only overflows when the true value exceeds float64."""
    r = X1 @ np.asarray(w, dtype=float) - y
    s = np.max(np.abs(r))
    if not np.isfinite(s):
        return float("inf")
    return 0.0 if s == 0 else float((s * np.sqrt(np.mean((r / s) ** 2))) ** 2)


def grad_of(X1, y, w) -> np.ndarray:
    return 2.0 / len(y) * X1.T @ (X1 @ np.asarray(w, dtype=float) - y)


def hessian_eigs(X1) -> np.ndarray:
    return np.linalg.eigvalsh(2.0 / len(X1) * X1.T @ X1)


def regime_of(lr: float, lambda_max: float) -> str:
    """The regime zones of the product story, with r = lr * lambda_max."""
    r = lr * lambda_max
    return "Divergent" if r >= 2 else "Oscillating" if r > 1 else "Good" if r >= 0.2 else "Slow"


def naive_gd(X1, y, lr, *, steps: int = MAX_STEPS, tol: float = TOL):
    """Plain GD written out with the stop rules of STYLE.md: (status, stop step, params at each step)."""
    w = np.zeros(X1.shape[1])
    ws = [w]
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            new = w - lr * grad_of(X1, y, w)
            if not (np.isfinite(new).all() and np.isfinite(loss_of(X1, y, new))):
                return "diverged", t, np.array(ws)
            ws.append(new)
            if np.linalg.norm(new - w) < tol:
                return "converged", t, np.array(ws)
            w = new
    return "max steps", steps, np.array(ws)


def scaled(X: np.ndarray, name: str) -> np.ndarray:
    return X if SCALERS[name] is None else SCALERS[name]().fit_transform(X)


@pytest.fixture(scope="module")
def cal_xy():
    if not CALIFORNIA_CSV.is_file():
        pytest.skip(f"California housing CSV not found at {CALIFORNIA_CSV} (shared test data is missing)")
    with CALIFORNIA_CSV.open() as f:
        header = f.readline().strip().split(",")
    values = np.loadtxt(CALIFORNIA_CSV, delimiter=",", skiprows=1)
    assert tuple(header[:-1]) == NAMES
    return values[:, :-1], values[:, -1]


@pytest.fixture(autouse=True)
def data_source(monkeypatch, tmp_path, fresh_loader_cache):
    """No test here touches the network: California housing comes from the shared CSV, or from a path that
    does not exist when the CSV is missing (the page's offline case). Caches are emptied around each test."""
    path = CALIFORNIA_CSV if CALIFORNIA_CSV.is_file() else tmp_path / "missing.csv"
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(path))
    cache.clear_caches()
    yield
    cache.clear_caches()


@pytest.fixture
def california(cal_xy):
    """Raw California housing (X, y) read by the test; the page reads the same CSV (see data_source)."""
    return cal_xy


# ---------------------------------------------------------------------------------------------
# Driving the page
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    return ok(at.switch_page(PAGE).run())


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def bars(at: AppTest, key: str) -> dict[str, float]:
    trace = live_figure(at, key)["data"][0]
    return dict(zip(decode(trace["x"]).tolist(), decode(trace["y"]).astype(float).tolist(), strict=True))


def table_rows(at: AppTest) -> dict[str, dict[str, str]]:
    frame = at.table[0].value
    return {index: row.to_dict() for index, row in frame.iterrows()}


def click(at: AppTest, key: str) -> AppTest:
    return ok(at.button(key=key).click().run())


def set_rate(at: AppTest, rate: float) -> AppTest:
    return ok(at.number_input(key="scaling_learning_rate").set_value(rate).run())


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_default_page_opens_on_raw_diabetes_and_draws_every_chart():
    at = new_page()
    assert sorted(player_view.figures(at, "scaling")) == sorted(CHART_KEYS)
    assert len(at.get("plotly_chart")) == 2  # feature scales and thresholds
    config = at.session_state["gdviz_config"]
    assert (config.dataset, config.scaling, config.feature) == ("diabetes", "none", 0)
    assert at.selectbox(key="scaling_dataset").value == "diabetes"
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X1 = design(X)
    lam = hessian_eigs(X1)
    raw = table_rows(at)["None (raw units)"]
    assert float(raw["lambda_max"]) == pytest.approx(lam[-1], rel=2e-3)
    assert float(raw["lambda_min"]) == pytest.approx(lam[0], rel=2e-3)
    assert float(raw["2/lambda_max"]) == pytest.approx(2 / lam[-1], rel=2e-3)
    assert lam[-1] / lam[0] > 1e3  # raw diabetes is badly conditioned: scaling has something to show
    assert metrics(at)["Status"] == naive_gd(X1, y, 0.05)[0]
    assert len(bars(at, "scaling_grad_start")) == 11  # every feature: 10 weights and the intercept
    assert any("442 rows, 10 features" in m.value for m in at.markdown)
    assert any(i.value.startswith("Opened on raw diabetes") for i in at.info)
    # Back on the synthetic line by choice: it stays, says "1 feature", and the note goes.
    ok(at.selectbox(key="scaling_dataset").set_value("synthetic_line").run())
    ok(at.switch_page("pages/playground.py").run())
    ok(at.switch_page(PAGE).run())
    assert at.session_state["gdviz_config"].dataset == "synthetic_line"
    assert any("20 rows, 1 feature," in m.value for m in at.markdown), [m.value for m in at.markdown]
    assert not any(i.value.startswith("Opened on raw diabetes") for i in at.info)


def test_data_the_user_brought_is_kept():
    """A link naming the synthetic line, or the Playground's own synthetic settings, open on what they say."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.query_params["dataset"] = "synthetic_line"
    at.query_params["lr"] = "0.02"
    ok(at.switch_page(PAGE).run())
    config = at.session_state["gdviz_config"]
    assert (config.dataset, config.learning_rate) == ("synthetic_line", 0.02)
    ok(AppTest.from_file(APP, default_timeout=60).run())
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    ok(at.number_input(key="playground_noise").set_value(2.0).run())
    ok(at.switch_page(PAGE).run())
    assert at.session_state["gdviz_config"].dataset == "synthetic_line"
    assert at.session_state["gdviz_config"].noise == 2.0
    # The page's own link names the synthetic line, so whoever opens it sees the same data.
    assert at.query_params["dataset"] in ("synthetic_line", ["synthetic_line"])


def test_california_start_gradient_population_towers(california):
    X, y = california
    at = new_page()
    ok(at.selectbox(key="scaling_dataset").set_value("california_housing").run())
    assert at.session_state["gdviz_config"].dataset == "california_housing"  # shared with the other pages
    oracle = np.abs(grad_of(design(X), y, np.zeros(9)))
    shown = bars(at, "scaling_grad_start")
    for name, value in zip(("intercept", *NAMES), oracle, strict=True):
        assert shown[name] == pytest.approx(value, rel=1e-9)
    ordered = sorted(shown.values(), reverse=True)
    assert max(shown, key=shown.get) == "Population"
    assert ordered[0] > 10 * ordered[1]
    # Feature scales: the standard deviation bars are NumPy's.
    spread = trace_by_name(live_or_static(at, 0), "standard deviation")
    np.testing.assert_allclose(decode(spread["y"]).astype(float), X.std(axis=0), rtol=1e-12)


def live_or_static(at: AppTest, index: int) -> dict:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)


def test_puzzle_buttons_diverge_at_1e6_and_crawl_at_1e7(california):
    X, y = california
    X1 = design(X)
    at = new_page()
    click(at, "scaling_try_1e-06")
    config = at.session_state["gdviz_config"]
    assert (config.dataset, config.scaling, config.learning_rate) == ("california_housing", "none", 1e-6)
    status, stop, _ = naive_gd(X1, y, 1e-6)
    m = metrics(at)
    assert status == "diverged" and m["Status"] == "diverged"
    assert abs(int(m["Steps"].replace(",", "")) - stop) <= 1  # the first non-finite step, up to round-off
    assert m["Final loss"] == "inf"
    warnings = [w.value for w in at.warning]
    assert any("2/lambda_max" in w and "Population" in w and "overflowed float64" in w for w in warnings), warnings
    lam = hessian_eigs(X1)
    assert float(m["Rate / (2/lambda_max)"].rstrip("x")) == pytest.approx(1e-6 * lam[-1] / 2, rel=2e-3)

    click(at, "scaling_try_1e-07")
    status, stop, ws = naive_gd(X1, y, 1e-7)
    m = metrics(at)
    assert status == "converged" and m["Status"] == "converged"
    assert int(m["Steps"].replace(",", "")) == pytest.approx(stop, abs=2)
    assert float(m["Final loss"]) == pytest.approx(loss_of(X1, y, ws[-1]), rel=2e-3)
    optimum = np.linalg.lstsq(X1, y, rcond=None)[0]
    assert np.linalg.norm(ws[-1]) < 1e-3 * np.linalg.norm(optimum)  # barely left the start
    assert float(m["Least-squares floor"]) == pytest.approx(loss_of(X1, y, optimum), rel=2e-3)
    assert not any("overflowed" in w.value for w in at.warning)


def test_the_players_step_moves_the_current_gradient_bars(california):
    X, y = california
    X1 = design(X)
    at = new_page()
    click(at, "scaling_try_1e-07")
    _, _, ws = naive_gd(X1, y, 1e-7, steps=30)
    ok(player_view.sync(at, 25, "scaling"))  # what the browser sends after the user stopped at step 25
    assert player_view.data(at, "scaling")["step"] == 25
    shown = bars(at, "scaling_grad_step")
    for name, value in zip(("intercept", *NAMES), np.abs(grad_of(X1, y, ws[25])), strict=True):
        assert shown[name] == pytest.approx(value, rel=1e-6)
    path = live_figure(at, "scaling_contour")
    x = decode(trace_by_name(path, "path (projected)")["x"]).astype(float)
    assert len(x) == 26  # steps 0..25


@pytest.mark.parametrize("rate", [1e-6, 0.1])
def test_scaling_comparison_changes_the_regime_of_one_rate(california, rate):
    X, y = california
    at = new_page()
    ok(at.selectbox(key="scaling_dataset").set_value("california_housing").run())
    set_rate(at, rate)
    rows = table_rows(at)
    regimes = {}
    for name, label in data.SCALING_LABELS.items():
        lam = hessian_eigs(design(scaled(X, name)))
        row = rows[label]
        assert float(row["lambda_max"]) == pytest.approx(lam[-1], rel=2e-3), name
        assert float(row["condition number"]) == pytest.approx(lam[-1] / lam[0], rel=2e-3), name
        assert float(row["2/lambda_max"]) == pytest.approx(2 / lam[-1], rel=2e-3), name
        assert row["predicted regime"] == regime_of(rate, lam[-1]), name
        regimes[name] = row["predicted regime"]
    assert regimes["none"] == "Divergent"
    assert len(set(regimes.values())) > 1  # one and the same rate, different regimes
    if rate == 0.1:
        assert regimes["standard"] == "Good"
    sentence = [m.value for m in at.markdown if m.value.startswith("The same learning rate")]
    assert len(sentence) == 1 and "divergent raw" in sentence[0]
    assert f"{regimes['standard'].lower()} standardised" in sentence[0]


def test_cost_surface_slice_matches_the_loss_with_others_at_the_optimum(california):
    X, y = california
    X1 = design(X)
    optimum = np.linalg.lstsq(X1, y, rcond=None)[0]
    at = new_page()
    ok(at.selectbox(key="scaling_dataset").set_value("california_housing").run())
    ok(at.selectbox(key="scaling_pair_x_california_housing").set_value(1).run())  # MedInc
    ok(at.selectbox(key="scaling_pair_y_california_housing").set_value(5).run())  # Population
    ok(at.radio(key="scaling_hold").set_value("optimum").run())
    fig = live_figure(at, "scaling_contour")

    def log10_loss(points: np.ndarray) -> np.ndarray:
        out = []
        for a, b in points:
            w = optimum.copy()
            w[1], w[5] = a, b
            out.append(np.log10(loss_of(X1, y, w)))
        return np.array(out)

    xs, ys, z = contour_hover(fig)  # the hover read-out: the loss at grid points
    np.testing.assert_allclose(z, log10_loss(np.column_stack([xs, ys])), atol=1e-6)
    assert len(xs) > 100
    assert check_contour_levels(fig, log10_loss) > 200  # the contour lines lie on their levels
    assert fig["layout"]["xaxis"]["title"]["text"] == "MedInc"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Population"
    assert "least-squares optimum" in fig["layout"]["title"]["text"]
    surface = live_figure(at, "scaling_surface")
    assert surface["data"][0]["type"] == "surface"


@pytest.fixture(params=["missing_csv", "no_network"])
def offline(request, monkeypatch, tmp_path):
    """California housing cannot be loaded: the CSV variable names a missing file, or there is no variable and
    scikit-learn's fetch fails as it does offline (never the network). Returns what the page should quote."""

    def no_network(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "fetch_california_housing", no_network)
    if request.param == "missing_csv":
        missing = tmp_path / "no_such_california.csv"
        monkeypatch.setenv(data.CALIFORNIA_ENV, str(missing))
        return str(missing)
    monkeypatch.delenv(data.CALIFORNIA_ENV, raising=False)
    return "could not download it"


def test_unavailable_california_is_a_notice_and_the_page_stays_usable(offline):
    at = new_page()
    before = at.session_state["gdviz_config"]
    # The puzzle's buttons are off, and say why; section 5 is a calm note, not a red error box.
    for key in ("scaling_try_1e-06", "scaling_try_1e-07"):
        button = at.button(key=key)
        assert button.disabled, key
        assert "Unavailable here" in button.help and offline in button.help, button.help
    assert not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info if "cannot be loaded here" in i.value]
    assert len(notes) == 1 and offline in notes[0] and "Try buttons are off" in notes[0]
    # Choosing it anyway: one notice in the sidebar, nothing else changes.
    ok(at.selectbox(key="scaling_dataset").set_value("california_housing").run())
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "California housing" in errors[0] and offline in errors[0], errors
    assert at.session_state["gdviz_config"] == before
    assert at.selectbox(key="scaling_dataset").value == "diabetes"
    assert sorted(player_view.figures(at, "scaling")) == sorted(CHART_KEYS)
    set_rate(at, 0.02)  # still usable: a good change goes through and clears the notice
    assert at.session_state["gdviz_config"].learning_rate == 0.02
    assert not at.error


def test_an_upload_offline_shows_no_error_box(offline):
    """Working on one's own data while California housing is offline: no red box anywhere."""
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    ok(at.switch_page("pages/your_data.py").run())
    ok(at.button(key="your_data_example_load").click().run())
    ok(at.button(key="your_data_go_scaling").click().run())
    assert at.session_state["gdviz_config"].dataset == "upload"
    assert at.selectbox(key="scaling_dataset").value == "upload"
    assert not at.error, [e.value for e in at.error]
    assert any("cannot be loaded here" in i.value for i in at.info)
    assert not any(i.value.startswith("Opened on raw diabetes") for i in at.info)


def test_settings_are_shared_with_the_playground():
    at = new_page()
    ok(at.selectbox(key="scaling_dataset").set_value("synthetic_line").run())
    ok(at.selectbox(key="scaling_dataset").set_value("diabetes").run())
    ok(at.selectbox(key="scaling_scaling").set_value("standard").run())
    set_rate(at, 0.123)
    ok(at.switch_page("pages/playground.py").run())
    assert at.selectbox(key="playground_dataset").value == "diabetes"
    assert at.selectbox(key="playground_scaling").value == "standard"
    assert at.number_input(key="playground_learning_rate").value == pytest.approx(0.123)
    ok(at.number_input(key="playground_learning_rate").set_value(0.01).run())
    ok(at.switch_page(PAGE).run())
    assert at.number_input(key="scaling_learning_rate").value == pytest.approx(0.01)
    assert at.selectbox(key="scaling_dataset").value == "diabetes"
    # Diabetes: every feature is used (10 weights + intercept), against scikit-learn's raw data.
    X, y = load_diabetes(return_X_y=True, scaled=False)
    lam = hessian_eigs(design(StandardScaler().fit_transform(X)))
    assert float(table_rows(at)["Standard (mean 0, sd 1)"]["lambda_max"]) == pytest.approx(lam[-1], rel=2e-3)
    assert len(bars(at, "scaling_grad_start")) == 11


def test_rate_buttons_multiply_and_divide_by_ten():
    at = new_page()
    click(at, "scaling_mul10")
    assert at.session_state["gdviz_config"].learning_rate == pytest.approx(0.5)
    assert at.number_input(key="scaling_learning_rate").value == pytest.approx(0.5)
    click(at, "scaling_div10")
    click(at, "scaling_div10")
    assert at.session_state["gdviz_config"].learning_rate == pytest.approx(0.005)
    assert at.number_input(key="scaling_learning_rate").value == pytest.approx(0.005)


def test_what_the_page_keeps_in_session_state_pickles():
    at = new_page()
    click(at, "scaling_mul10")
    ok(player_view.sync(at, 3, "scaling"))
    for key in [k for k in at.session_state if k.startswith(("scaling_", "gdviz_"))]:
        value = at.session_state[key]
        if type(value).__module__.startswith("streamlit"):  # a live-charts element's presenter, not ours
            continue
        assert pickle.loads(pickle.dumps(value)) == value, key
