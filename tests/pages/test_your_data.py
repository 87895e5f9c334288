"""The Your data page under AppTest, and an uploaded table on the other pages, checked against oracles here.

The CSV files are written in this file from NumPy arrays, so the oracles are the arrays themselves:
``np.linalg.lstsq`` for the optimum, ``np.linalg.eigvalsh`` of (2/n) X1^T X1 for the spectrum, and the
loss written out. Uploads go through the real widget (``at.file_uploader(key=...).set_value``), and the
other pages are reached through the page's own buttons, as a person would.
"""

from __future__ import annotations

import io
import pickle
import tomllib
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from streamlit.testing.v1 import AppTest

from gdviz import data
from gdviz.config import RunConfig
from gdviz.ui import cache
from gdviz.upload import Upload
from tests import player_view
from tests.chart_utils import decode, trace_by_name
from tests.conftest import CALIFORNIA_CSV, live_figure

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/your_data.py"
THEORY_REL = 6e-4  # theory metrics show 4 significant figures


# ---------------------------------------------------------------------------------------------
# Data written here, and the oracles on it (no gdviz code)
# ---------------------------------------------------------------------------------------------


def columns(n: int = 60, seed: int = 3) -> dict[str, np.ndarray]:
    """Three numeric columns and a target; 'x' and 'z' near zero with unit-ish spread (well conditioned)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.0, n)
    z = rng.normal(-0.3, 2.0, n)
    w = rng.normal(1.0, 0.5, n)
    y = 2.0 + 3.0 * x - 1.5 * z + 0.5 * w + 0.3 * rng.standard_normal(n)
    return {"x": x, "z": z, "w": w, "y": y}


def csv_bytes(cols: dict[str, np.ndarray], *, text_column: bool = True) -> bytes:
    """A CSV of ``cols`` (full precision), with a non-numeric 'label' column the reader must drop."""
    names = list(cols)
    header = ",".join(names[:1] + (["label"] if text_column else []) + names[1:])
    rows = []
    for i in range(len(cols[names[0]])):
        values = [repr(float(cols[c][i])) for c in names]
        rows.append(",".join(values[:1] + ([f"item {i}"] if text_column else []) + values[1:]))
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def design(*cols: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(cols[0])), *cols])


def lstsq(X1: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X1, y, rcond=None)[0]


def loss_of(X1: np.ndarray, y: np.ndarray, w) -> float:
    return float(np.mean((X1 @ np.asarray(w, dtype=float) - y) ** 2))


def floor_of(X1: np.ndarray, y: np.ndarray) -> float:
    """The least-squares floor J* (the page shows it to 3 significant figures)."""
    return loss_of(X1, y, lstsq(X1, y))


def hessian_eigs(X1: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(2.0 / len(X1) * X1.T @ X1)


# ---------------------------------------------------------------------------------------------
# Driving and reading the app
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def new_page() -> AppTest:
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    return ok(at.switch_page(PAGE).run())


def upload(at: AppTest, raw: bytes, name: str = "mine.csv") -> AppTest:
    return ok(at.file_uploader(key="your_data_file").set_value((name, raw, "text/csv")).run())


def click(at: AppTest, key: str) -> AppTest:
    if key.startswith("playground_") and key.removeprefix("playground_") in player_view.BUTTONS:
        return ok(player_view.press(at, key.removeprefix("playground_")))  # the player's moves (browser-side)
    return ok(at.button(key=key).click().run())


PAGES = {"your_data_go_playground": "pages/playground.py", "your_data_go_regimes": "pages/regimes.py",
         "your_data_go_sweep": "pages/sweep.py", "your_data_go_scaling": "pages/scaling.py"}  # fmt: skip


def go(at: AppTest, key: str) -> AppTest:
    """Press a 'Use this data' button. Its st.switch_page shows the new page in that run, but AppTest would
    run its own current page again on the next ``run()``, so it is moved there too."""
    ok(at.button(key=key).click().run())
    assert at.session_state["gdviz_config"].dataset == "upload"
    return ok(at.switch_page(PAGES[key]).run())


def config(at: AppTest) -> RunConfig:
    return at.session_state["gdviz_config"]


def stored(at: AppTest) -> Upload:
    return at.session_state["gdviz_upload"]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric} | player_view.shown(at)


def number(at: AppTest, label: str) -> float:
    return float(metrics(at)[label].replace(",", ""))


def has_upload(at: AppTest) -> bool:
    try:
        at.session_state["gdviz_upload"]
    except KeyError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """The Feature scaling page's puzzle wants California housing: the shared CSV, or a missing path (the
    page's offline notice), never a download."""
    path = CALIFORNIA_CSV if CALIFORNIA_CSV.is_file() else tmp_path / "missing.csv"
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(path))
    cache.clear_caches()
    yield
    cache.clear_caches()


@pytest.fixture(scope="module")
def cols() -> dict[str, np.ndarray]:
    return columns()


@pytest.fixture
def uploaded(cols) -> AppTest:
    """The page after uploading ``csv_bytes(cols)`` as mine.csv."""
    return upload(new_page(), csv_bytes(cols))


# ---------------------------------------------------------------------------------------------
# The page itself
# ---------------------------------------------------------------------------------------------


def test_empty_page_says_what_to_do():
    at = new_page()
    assert [i.value for i in at.info] == [
        "No data uploaded yet: upload a CSV above, or press **Load the example** to start from the example file."
    ]
    assert not at.error and not has_upload(at)
    assert at.file_uploader(key="your_data_file").proto.type == [".csv", ".tsv", ".txt"]


def test_upload_previews_the_table_and_says_what_was_dropped(uploaded, cols):
    at = uploaded
    assert not at.error
    assert at.subheader[0].value == "Loaded: mine.csv"
    assert any(c.value.startswith("60 rows x 4 usable numeric columns") for c in at.caption)
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["x", "z", "w", "y"]
    np.testing.assert_allclose(frame.to_numpy(), np.column_stack([cols[c][:10] for c in "xzwy"]), rtol=1e-15)
    notes = [i.value for i in at.info]
    assert len(notes) == 1 and "'label'" in notes[0] and "non-numeric" in notes[0]
    # The default split: the last numeric column is the target, every other one a feature.
    assert at.selectbox(key="your_data_target").value == "y"
    assert at.multiselect(key="your_data_features").value == ["x", "z", "w"]
    c = config(at)
    assert c.dataset == "upload" and c.upload == stored(at).id and len(c.upload) == 16


def test_playground_on_the_upload_reaches_lstsq(uploaded, cols):
    at = uploaded
    ok(at.selectbox(key="your_data_feature").set_value(1).run())  # 'z'
    go(at, "your_data_go_playground")
    assert config(at).dataset == "upload" and config(at).feature == 1
    assert at.selectbox(key="playground_dataset").value == "upload"
    assert at.selectbox(key="playground_feature").options == ["x", "z", "w"]
    X1, y = design(cols["z"]), cols["y"]
    optimum = lstsq(X1, y)
    # The data and the optimum the page draws are the CSV's column and the oracle's fit.
    line = live_figure(at, "playground_line")
    np.testing.assert_allclose(np.sort(decode(trace_by_name(line, "data")["x"]).astype(float)), np.sort(cols["z"]))
    contour = trace_by_name(live_figure(at, "playground_contour"), "least-squares optimum")
    np.testing.assert_allclose([contour["x"][0], contour["y"][0]], optimum, rtol=1e-9)
    lam = hessian_eigs(X1)
    assert number(at, "lambda_max") == pytest.approx(lam[-1], rel=THEORY_REL)
    assert number(at, "lambda_min") == pytest.approx(lam[0], rel=THEORY_REL)
    # A good rate for this data, run to its end: it converges where lstsq says.
    click(at, "playground_preset_good")
    click(at, "playground_end")
    assert metrics(at)["Status"] == "converged"
    assert number(at, "Intercept") == pytest.approx(optimum[0], rel=1e-4)
    assert number(at, "Slope on z") == pytest.approx(optimum[1], rel=1e-4)
    assert number(at, "Loss") == pytest.approx(loss_of(X1, y, optimum), rel=1e-5)


def test_step_on_the_upload_is_one_gradient_step(uploaded, cols):
    at = go(uploaded, "your_data_go_playground")
    X1, y = design(cols["x"]), cols["y"]
    lr = config(at).learning_rate
    click(at, "playground_step1")
    w1 = -lr * 2.0 / len(y) * X1.T @ (X1 @ np.zeros(2) - y)
    assert number(at, "Step") == 1
    assert number(at, "Intercept") == pytest.approx(w1[0], rel=6e-6)
    assert number(at, "Slope on x") == pytest.approx(w1[1], rel=6e-6)


def test_feature_scaling_page_fits_every_chosen_feature(uploaded, cols):
    at = go(uploaded, "your_data_go_scaling")
    X1, y = design(cols["x"], cols["z"], cols["w"]), cols["y"]
    assert at.selectbox(key="scaling_dataset").value == "upload"
    assert "Your data: mine.csv" in at.selectbox(key="scaling_dataset").options
    assert any(m.value.startswith("**mine.csv**, 60 rows, 3 features") for m in at.markdown)
    assert number(at, "Least-squares floor") == pytest.approx(floor_of(X1, y), rel=5e-3)
    rows = {index: row.to_dict() for index, row in at.table[0].value.iterrows()}
    raw = rows["None (raw units)"]
    lam = hessian_eigs(X1)
    assert float(raw["lambda_max"]) == pytest.approx(lam[-1], rel=THEORY_REL)
    assert float(raw["lambda_min"]) == pytest.approx(lam[0], rel=THEORY_REL)
    bars = live_figure(at, "scaling_grad_start")["data"][0]
    assert len(decode(bars["x"])) == 4  # intercept + x, z, w
    grad0 = 2.0 / len(y) * X1.T @ (X1 @ np.zeros(4) - y)  # the gradient at the zero start
    np.testing.assert_allclose(np.abs(decode(bars["y"]).astype(float)), np.abs(grad0), rtol=1e-9)


@pytest.mark.parametrize("button", ["your_data_go_regimes", "your_data_go_sweep"])
def test_other_one_feature_pages_run_on_the_upload(uploaded, cols, button):
    at = go(uploaded, button)
    assert config(at).dataset == "upload"
    lam_max = hessian_eigs(design(cols["x"]))[-1]
    if button == "your_data_go_regimes":
        text = next(m.value for m in at.markdown if m.value.startswith("On this data: lambda_max"))
        assert f"**{lam_max:.4g}**" in text
    else:
        assert at.selectbox(key="sweep_dataset").value == "upload"


def test_math_page_uses_the_upload(uploaded, cols):
    at = ok(go(uploaded, "your_data_go_playground").switch_page("pages/math.py").run())
    assert any(c.value.startswith("Data: Your data: mine.csv, n = 60 rows, feature 'x'") for c in at.caption)


# ---------------------------------------------------------------------------------------------
# Choosing columns
# ---------------------------------------------------------------------------------------------


def test_target_and_features_change_the_problem(uploaded, cols):
    at = ok(uploaded.selectbox(key="your_data_target").set_value("x").run())
    assert at.multiselect(key="your_data_features").value == ["z", "w", "y"]  # every other column
    ds = stored(at).dataset
    assert ds.X.shape == (60, 3) and ds.target_name == "x"
    np.testing.assert_allclose(ds.y, cols["x"])
    first_id = config(at).upload
    ok(at.multiselect(key="your_data_features").set_value(["w"]).run())
    ds = stored(at).dataset
    assert ds.X.shape == (60, 1) and ds.feature_names == ("w",)
    assert config(at).upload != first_id and config(at).upload == stored(at).id
    assert any(c.value.startswith("60 rows, 1 feature, 2 params") for c in at.caption)
    at = go(at, "your_data_go_playground")  # one feature: 'w', predicting 'x'
    line = live_figure(at, "playground_line")
    assert line["layout"]["yaxis"]["title"]["text"] == "x"
    data_x, data_y = (decode(trace_by_name(line, "data")[a]).astype(float) for a in "xy")
    np.testing.assert_allclose(data_x, cols["w"])
    np.testing.assert_allclose(data_y, cols["x"])
    at = ok(at.switch_page("pages/scaling.py").run())
    X1, y = design(cols["w"]), cols["x"]
    assert len(decode(live_figure(at, "scaling_grad_start")["data"][0]["x"])) == 2
    assert number(at, "Least-squares floor") == pytest.approx(floor_of(X1, y), rel=5e-3)


def test_no_features_is_refused_and_the_columns_stay(uploaded):
    at = uploaded
    before = stored(at)
    ok(at.multiselect(key="your_data_features").set_value([]).run())
    assert len(at.error) == 1 and "The columns stay as they were." in at.error[0].value
    assert at.multiselect(key="your_data_features").value == ["x", "z", "w"]
    assert stored(at).id == before.id == config(at).upload


# ---------------------------------------------------------------------------------------------
# Bad input, sessions, the sidebar
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.csv"),
        (b"", "empty.csv"),
        (b"only\n1\n2\n3\n", "one_column.csv"),
        ("a,b\n1,2\n".encode("utf-16-le"), "strange.csv"),
        (b"a,b\n" + b"1,2\n" * 2_700_000, "huge.csv"),  # 10.3 MiB: over MAX_CSV_BYTES
    ],
)
def test_bad_upload_after_a_good_one_keeps_the_previous_data(uploaded, raw, name):
    at = uploaded
    good = config(at)
    at = upload(at, raw, name)
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith(f"{name} was not loaded: ") and message.endswith("Still using mine.csv.")
    assert "Traceback" not in message
    assert config(at) == good and stored(at).file_name == "mine.csv"
    assert at.subheader[0].value == "Loaded: mine.csv"  # the preview still shows the good file
    at = go(at, "your_data_go_playground")
    assert config(at) == good and metrics(at)["Step"] == "0"


def test_a_good_upload_replaces_the_previous_one(uploaded, cols):
    first = config(uploaded).upload
    other = {k: v[:30] * 2 for k, v in cols.items()}
    at = upload(uploaded, csv_bytes(other, text_column=False), "second.csv")
    assert not at.info  # nothing was dropped this time
    assert stored(at).file_name == "second.csv" and config(at).upload not in ("", first)
    assert stored(at).dataset.n_samples == 30


def test_a_second_session_does_not_see_the_first_ones_upload(uploaded):
    first_id = config(uploaded).upload
    other = new_page()
    assert not has_upload(other)
    assert [i.value for i in other.info][0].startswith("No data uploaded yet")
    ok(other.switch_page("pages/playground.py").run())
    assert "upload" not in other.selectbox(key="playground_dataset").options
    # Even a config that names the first session's upload gets no data from it.
    stolen = AppTest.from_file(APP, default_timeout=60)
    stolen.session_state["gdviz_config"] = RunConfig(dataset="upload", upload=first_id)
    ok(stolen.run())
    assert config(stolen).dataset == "synthetic_line" and not has_upload(stolen)


def test_no_process_wide_cache_is_asked_for_upload_data(monkeypatch, cols):
    """Every st.cache_* function of gdviz.ui.cache is wrapped to record its arguments; after the upload has been
    used on every page, none of them was called for it."""
    calls = []

    def spy(module, name):
        cached = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.append((name, args, kwargs))
            return cached(*args, **kwargs)

        wrapper.clear = cached.clear  # the fixtures empty the caches after the test
        monkeypatch.setattr(module, name, wrapper)

    cached = [name for name, fn in vars(cache).items() if isinstance(fn, type(cache._problem))]
    assert len(cached) == 9  # every process-wide cache of the app, a new one included
    for name in cached:
        spy(cache, name)
    at = upload(new_page(), csv_bytes(cols))
    for button in ("your_data_go_playground", "your_data_go_regimes", "your_data_go_sweep", "your_data_go_scaling"):
        at = go(ok(at.switch_page(PAGE).run()), button)
    ok(at.switch_page("pages/math.py").run())
    assert calls, "the spies saw nothing: the bundled data's caches should still be used (e.g. for the puzzle)"
    ids = {config(at).upload, stored(at).id}

    def about_the_upload(value) -> bool:
        if isinstance(value, RunConfig):
            return value.dataset == "upload" or value.upload in ids
        return value == "upload" or value in ids

    leaks = [c for c in calls if any(about_the_upload(v) for v in (*c[1], *c[2].values()))]
    assert leaks == []


def test_sidebar_switches_between_a_bundled_dataset_and_the_upload(uploaded):
    at = go(uploaded, "your_data_go_playground")
    upload_id = config(at).upload
    ok(at.selectbox(key="playground_dataset").set_value("diabetes").run())
    assert config(at).dataset == "diabetes" and at.selectbox(key="playground_feature").options[0] == "age"
    ok(at.selectbox(key="playground_dataset").set_value("upload").run())
    assert config(at).dataset == "upload" and config(at).upload == upload_id and config(at).feature == 0
    assert at.selectbox(key="playground_feature").options == ["x", "z", "w"]
    # A bad upload while on diabetes leaves diabetes selected.
    ok(at.selectbox(key="playground_dataset").set_value("diabetes").run())
    at = upload(ok(at.switch_page(PAGE).run()), b"nothing useful", "bad.csv")
    assert len(at.error) == 1 and config(at).dataset == "diabetes"


def test_example_file_is_the_raw_diabetes_table():
    at = click(new_page(), "your_data_example_load")
    diabetes = load_diabetes(scaled=False)
    ds = stored(at).dataset
    assert stored(at).file_name == "diabetes_example.csv"
    assert ds.feature_names == tuple(diabetes.feature_names) and ds.target_name == "progression"
    np.testing.assert_allclose(ds.X, diabetes.data, rtol=1e-5)
    np.testing.assert_allclose(ds.y, diabetes.target, rtol=1e-5)
    button = at.get("download_button")[0]
    assert button.proto.label == "Download the example (CSV)"
    table = np.genfromtxt(io.BytesIO(ds_bytes()), delimiter=",", names=True)
    assert len(table) == 442 and table.dtype.names[-1] == "progression"


def test_the_upload_box_says_our_size_limit_once():
    """One limit, said by the box itself: Streamlit's maxUploadSize (MB) is the page's own 10 MiB check."""
    server = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] * 2**20 == 10 * 1024 * 1024
    at = new_page()
    box = at.get("file_uploader")[0]
    assert box.proto.max_upload_size_mb == 10
    assert "MB" not in box.proto.label  # the box's own "Limit 10MB per file" says it
    labels = [b.proto.label for b in at.get("download_button")]
    assert not any(label.startswith("Try") for label in labels), labels  # a download is not a try
    assert at.button(key="your_data_example_load").proto.label == "Load the example"


def ds_bytes() -> bytes:
    from gdviz.upload import example_csv

    return example_csv()


def test_what_the_upload_keeps_in_session_state_pickles(uploaded):
    at = go(uploaded, "your_data_go_scaling")
    for key in ("gdviz_upload", "gdviz_upload_memo", "gdviz_config"):
        pickle.dumps(at.session_state[key])
    assert at.session_state["gdviz_upload_memo"]  # the scaling page's problems and runs are memoised here
