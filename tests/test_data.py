"""Tests for gdviz.data: scaling against scikit-learn's scalers, raw params against LinearRegression on raw X,
the bundled and shared datasets, and the boundary's error messages.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

import gdviz
from gdviz import data
from gdviz import optimizers as opt
from gdviz.data import SCALINGS, load_dataset, make_problem, problem_from_dataset, synthetic_line
from gdviz.engine import Status, collect, run

SCALERS = {
    "none": None,
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
}

CALIFORNIA_FEATURES = (
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
)
# Feature and target means published with the shared CSV (its README).
CALIFORNIA_MEANS = {"MedInc": 3.870671, "Population": 1425.476744, "HouseAge": 28.639486, "Longitude": -119.569704}
CALIFORNIA_TARGET_MEAN = 2.068558


def test_every_scaling_has_an_oracle():
    assert set(SCALINGS) == set(SCALERS)


@pytest.fixture(scope="module")
def datasets(line_xy, diabetes_xy, random_xy):
    X, y = random_xy(21, n_samples=50, n_features=3)
    X[7, 1] = 40.0  # an outlier, which tells the robust scaler apart from the others
    return {"line": line_xy, "diabetes": diabetes_xy, "random": (X, y)}


# --------------------------------------------------------------------------------------------
# Scaling and raw params
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", ["line", "diabetes", "random"])
def test_scaled_columns_match_sklearn_scalers(name, scaling, datasets):
    X, y = datasets[name]
    problem = make_problem(X, y, scaling=scaling)
    scaler = SCALERS[scaling]
    expected = X if scaler is None else scaler().fit_transform(X)
    assert problem.scaling == scaling
    np.testing.assert_allclose(problem.X1[:, 0], 1.0)
    np.testing.assert_allclose(problem.X1[:, 1:], expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_array_equal(problem.y, y)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_constant_column_scales_like_sklearn(scaling, random_xy):
    X, y = random_xy(3, n_samples=15, n_features=2)
    X = np.column_stack([X, np.full(len(X), 7.0)])
    problem = make_problem(X, y, scaling=scaling)
    scaler = SCALERS[scaling]
    expected = X if scaler is None else scaler().fit_transform(X)
    np.testing.assert_allclose(problem.X1[:, 1:], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("name", ["line", "diabetes", "random"])
def test_raw_params_of_the_solution_match_linear_regression_on_raw_x(name, scaling, datasets):
    X, y = datasets[name]
    problem = make_problem(X, y, scaling=scaling)
    model = LinearRegression().fit(X, y)
    raw = problem.raw_params(problem.solution())
    assert raw.shape == (X.shape[1] + 1,)
    scale = max(abs(model.intercept_), np.abs(model.coef_).max())
    assert raw[0] == pytest.approx(model.intercept_, rel=1e-8, abs=1e-10 * scale)
    np.testing.assert_allclose(raw[1:], model.coef_, rtol=1e-8, atol=1e-10 * scale)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_raw_params_predict_the_same_as_scaled_params(scaling, datasets):
    X, y = datasets["diabetes"]
    problem = make_problem(X, y, scaling=scaling)
    rng = np.random.default_rng(4)
    W = rng.normal(scale=10.0, size=(6, problem.n_params))  # any params, not only the optimum
    raw = problem.raw_params(W)
    assert raw.shape == W.shape
    scaled_predictions = W @ problem.X1.T
    raw_predictions = raw[:, :1] + raw[:, 1:] @ X.T
    np.testing.assert_allclose(raw_predictions, scaled_predictions, rtol=1e-9, atol=1e-9 * np.abs(W).max())


def test_make_problem_without_intercept(random_xy):
    X, y = random_xy(6, n_samples=30, n_features=2)
    problem = make_problem(X, y, fit_intercept=False)
    assert problem.n_params == 2
    assert problem.param_names == ("x1", "x2")
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(problem.solution(), w, rtol=1e-10)
    np.testing.assert_allclose(problem.grad(np.zeros(2)), -2.0 / len(y) * X.T @ y, rtol=1e-12)
    model = LinearRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(problem.raw_params(problem.solution()), [0.0, *model.coef_], rtol=1e-9, atol=1e-12)


def test_make_problem_names_and_read_only_arrays(random_xy):
    X, y = random_xy(6, n_samples=10, n_features=3)
    problem = make_problem(X, y, feature_names=["a", "b", "c"])
    assert problem.feature_names == ("a", "b", "c")
    assert problem.param_names == ("intercept", "a", "b", "c")
    assert problem.n_samples == 10 and problem.n_features == 3 and problem.n_params == 4
    assert make_problem(X, y).feature_names == ("x1", "x2", "x3")
    with pytest.raises(ValueError):
        problem.X1[0, 0] = 2.0


def test_problem_does_not_alias_the_callers_arrays(random_xy):
    X, y = random_xy(6, n_samples=10, n_features=3)
    X, y = X.copy(), y.copy()
    for scaling in SCALINGS:
        for fit_intercept in (True, False):
            problem = make_problem(X, y, scaling=scaling, fit_intercept=fit_intercept)
            y_before, X1_before = problem.y.copy(), problem.X1.copy()
            assert X.flags.writeable and y.flags.writeable  # the caller's arrays are not frozen
            X_saved, y_saved = X.copy(), y.copy()
            X[0, 0] += 100.0  # the caller reusing its buffers must not change the (read-only) Problem
            y[0] += 100.0
            np.testing.assert_array_equal(problem.y, y_before)
            np.testing.assert_array_equal(problem.X1, X1_before)
            X[:], y[:] = X_saved, y_saved


def test_make_problem_accepts_lists_and_ints():
    problem = make_problem([[1], [2], [3], [4]], [3, 5, 7, 9])
    np.testing.assert_allclose(problem.solution(), [1.0, 2.0], atol=1e-12)
    assert problem.X1.dtype == np.float64


def test_problem_from_dataset_with_a_subset_of_columns(diabetes_xy):
    ds = load_dataset("diabetes")
    problem = problem_from_dataset(ds, scaling="standard", features=[2, 8])
    assert problem.feature_names == (ds.feature_names[2], ds.feature_names[8])
    model = LinearRegression().fit(ds.X[:, [2, 8]], ds.y)
    np.testing.assert_allclose(problem.raw_params(problem.solution()), [model.intercept_, *model.coef_], rtol=1e-9)
    for bad in ([], [10], [-1]):
        with pytest.raises(gdviz.InputError, match="The 'features' parameter of problem_from_dataset"):
            problem_from_dataset(ds, features=bad)


# --------------------------------------------------------------------------------------------
# synthetic_line
# --------------------------------------------------------------------------------------------


def test_synthetic_line_is_reproducible_by_seed():
    a, b = synthetic_line(seed=5), synthetic_line(seed=5)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    c = synthetic_line(seed=6)
    assert not np.array_equal(a.X, c.X)
    np.testing.assert_array_equal(synthetic_line().X, synthetic_line(seed=0).X)


@pytest.mark.parametrize("n_samples", [2, 20, 1000])
def test_synthetic_line_settings(n_samples):
    ds = synthetic_line(n_samples=n_samples, slope=-1.5, intercept=0.25, noise=0.0, x_loc=-3.0, x_scale=0.5, seed=9)
    assert ds.X.shape == (n_samples, 1) and ds.y.shape == (n_samples,)
    assert ds.n_samples == n_samples and ds.n_features == 1
    assert np.all(ds.X >= -3.5) and np.all(ds.X <= -2.5)
    np.testing.assert_allclose(ds.y, 0.25 - 1.5 * ds.X[:, 0], rtol=0, atol=1e-12)
    w, *_ = np.linalg.lstsq(np.column_stack([np.ones(n_samples), ds.X]), ds.y, rcond=None)
    np.testing.assert_allclose(w, [0.25, -1.5], atol=1e-9)
    assert not ds.X.flags.writeable and not ds.y.flags.writeable


def test_synthetic_line_noise_has_its_standard_deviation():
    ds = synthetic_line(n_samples=20_000, slope=2.0, intercept=-1.0, noise=0.5, seed=3)
    residual = ds.y - (-1.0 + 2.0 * ds.X[:, 0])
    assert residual.std() == pytest.approx(0.5, rel=0.03, abs=0)
    model = LinearRegression().fit(ds.X, ds.y)
    assert model.coef_[0] == pytest.approx(2.0, abs=0.05)
    assert model.intercept_ == pytest.approx(-1.0, abs=0.1)


def test_default_synthetic_line_recovers_its_line_roughly():
    ds = synthetic_line()
    assert ds.X.shape == (20, 1)
    assert np.all((ds.X >= 1.0) & (ds.X <= 3.0))
    model = LinearRegression().fit(ds.X, ds.y)
    assert model.coef_[0] == pytest.approx(3.0, abs=1.0)
    assert model.intercept_ == pytest.approx(4.0, abs=1.5)


@pytest.mark.parametrize("r", [0.3, 0.5, 1.0])
def test_default_line_intercept_converges_slower_than_slope(r, line_xy):
    X, y = line_xy
    problem = make_problem(X, y)
    X1 = np.column_stack([np.ones(len(X)), X])
    lam_max = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1]
    w_star, *_ = np.linalg.lstsq(X1, y, rcond=None)
    traj = collect(run(problem, opt.gd(r / lam_max), tol=1e-8, max_steps=50_000))
    assert traj.status is Status.CONVERGED
    relative = np.abs(traj.params - w_star) / np.abs(w_star)  # the start is zeros: error 1 at step 0
    intercept_behind = relative[1:, 0] > relative[1:, 1]
    assert intercept_behind.mean() > 0.9


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"noise": -1.0}, "noise"),
        ({"x_scale": 0.0}, "x_scale"),
        ({"slope": float("nan")}, "slope"),
        ({"seed": -1}, "seed"),
    ],
)
def test_synthetic_line_rejects_bad_settings(kwargs, param):
    with pytest.raises(gdviz.InputError, match=f"The '{param}' parameter of synthetic_line"):
        synthetic_line(**kwargs)


# --------------------------------------------------------------------------------------------
# Bundled and shared datasets
# --------------------------------------------------------------------------------------------


def test_diabetes_is_raw_and_on_very_different_scales():
    ds = load_dataset("diabetes")
    assert ds.X.shape == (442, 10) and ds.y.shape == (442,)
    assert len(ds.feature_names) == 10
    assert ds.name == "diabetes"
    spreads = ds.X.std(axis=0)
    assert spreads.max() / spreads.min() > 20
    assert np.abs(ds.X.mean(axis=0)).max() > 40  # raw units: e.g. age in years, not centred
    assert set(np.unique(ds.X[:, 1])) == {1.0, 2.0}  # sex, as coded in the raw table
    assert ds.y.mean() == pytest.approx(152.133484, abs=1e-5)
    assert not ds.X.flags.writeable


def test_synthetic_line_through_the_loader():
    ds = load_dataset("synthetic_line")
    np.testing.assert_array_equal(ds.X, synthetic_line().X)


def check_california(ds):
    assert ds.X.shape == (20_640, 8) and ds.y.shape == (20_640,)
    assert ds.feature_names == CALIFORNIA_FEATURES
    assert ds.target_name == "MedHouseVal"
    means = dict(zip(ds.feature_names, ds.X.mean(axis=0), strict=True))
    for feature, expected in CALIFORNIA_MEANS.items():
        assert means[feature] == pytest.approx(expected, abs=1e-5), feature
    assert ds.y.mean() == pytest.approx(CALIFORNIA_TARGET_MEAN, abs=1e-5)


def test_california_from_a_path(california_csv, fresh_loader_cache, monkeypatch):
    monkeypatch.delenv(data.CALIFORNIA_ENV, raising=False)
    check_california(load_dataset("california_housing", path=california_csv))
    check_california(load_dataset("california_housing", path=str(california_csv)))


def test_california_from_the_environment(california_csv, fresh_loader_cache, monkeypatch):
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(california_csv))
    check_california(load_dataset("california_housing"))


@pytest.fixture(scope="module")
def california_raw(california_csv):
    data._load.cache_clear()
    try:
        ds = load_dataset("california_housing", path=california_csv)
    finally:
        data._load.cache_clear()
    return ds, make_problem(ds.X, ds.y, feature_names=ds.feature_names)


def test_raw_california_diverges_at_1e_6_and_not_at_1e_7(california_raw):
    _, problem = california_raw
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast = collect(run(problem, opt.gd(1e-6), max_steps=10_000))
        slow = collect(run(problem, opt.gd(1e-7), max_steps=10_000))
    assert fast.status is Status.DIVERGED
    assert fast.step[-1] <= 10_000
    assert slow.status is not Status.DIVERGED
    assert np.all(np.isfinite(slow.loss))
    assert slow.loss[-1] < slow.loss[0]


def test_raw_california_population_dominates_the_first_gradient(california_raw):
    ds, problem = california_raw
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X])
    g = 2.0 / len(ds.y) * X1.T @ (X1 @ np.zeros(9) - ds.y)  # the gradient at the zero start, by hand
    state = next(run(problem, opt.gd(1e-7)))
    np.testing.assert_allclose(state.grads, g, rtol=1e-10)
    k = 1 + CALIFORNIA_FEATURES.index("Population")
    others = np.abs(np.delete(state.grads, k))
    assert abs(state.grads[k]) > 10 * others.max()


def test_california_csv_errors(tmp_path, fresh_loader_cache):
    with pytest.raises(gdviz.InputError, match="Could not read California housing from"):
        load_dataset("california_housing", path=tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("MedInc,Label\n1.0,high\n2.0,low\n")
    with pytest.raises(gdviz.InputError, match="is not in the California housing layout"):
        load_dataset("california_housing", path=bad)


@pytest.mark.parametrize(
    "name", ["iris", "Diabetes", "", "../../etc/passwd", "/work/shared/data/california_housing.csv"]
)
def test_unknown_dataset_name(name):
    with pytest.raises(gdviz.InputError, match="The 'name' parameter of load_dataset must be a str among") as exc:
        load_dataset(name)
    for valid in data.DATASETS:
        assert repr(valid) in str(exc.value)


# --------------------------------------------------------------------------------------------
# make_problem's input errors
# --------------------------------------------------------------------------------------------


def test_unknown_scaling_lists_the_valid_ones(random_xy):
    X, y = random_xy(1)
    with pytest.raises(gdviz.InputError, match="The 'scaling' parameter of make_problem must be a str among") as exc:
        make_problem(X, y, scaling="zscore")
    for valid in SCALINGS:
        assert repr(valid) in str(exc.value)


def test_mismatched_shapes(random_xy):
    X, y = random_xy(1, n_samples=20)
    with pytest.raises(gdviz.InputError, match="make_problem could not use this data.*inconsistent numbers of samples"):
        make_problem(X, y[:-1])


def test_nan_and_inf_in_x(random_xy):
    X, y = random_xy(1, n_samples=20)
    X = X.copy()
    X[3, 1] = np.nan
    with pytest.raises(gdviz.InputError, match="make_problem could not use this data.*NaN"):
        make_problem(X, y)
    X[3, 1] = np.inf
    with pytest.raises(gdviz.InputError, match="make_problem could not use this data.*infinity"):
        make_problem(X, y)


def test_nan_in_y(random_xy):
    X, y = random_xy(1, n_samples=20)
    y = y.copy()
    y[0] = np.nan
    with pytest.raises(gdviz.InputError, match="make_problem could not use this data.*NaN"):
        make_problem(X, y)


def test_one_dimensional_x(random_xy):
    X, y = random_xy(1, n_samples=20, n_features=1)
    with pytest.raises(gdviz.InputError, match=r"must be a 2-D array .* reshape it with X\.reshape\(-1, 1\)"):
        make_problem(X[:, 0], y)


def test_wrong_number_of_feature_names(random_xy):
    X, y = random_xy(1, n_samples=20, n_features=3)
    with pytest.raises(gdviz.InputError, match=r"one name per column of X \(3\)\. Got 2 names instead\."):
        make_problem(X, y, feature_names=["a", "b"])


def test_values_whose_squares_overflow(random_xy):
    X, y = random_xy(1, n_samples=20, n_features=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gdviz.InputError, match="overflow"):
            make_problem(X * 1e200, y)
        # Min-max scaling brings the same columns back into range: valid input.
        problem = make_problem(X * 1e200, y, scaling="minmax")
    assert np.all(np.isfinite(problem.solution()))


def test_empty_data():
    with pytest.raises(gdviz.InputError, match="make_problem could not use this data"):
        make_problem(np.empty((0, 2)), np.empty(0))


@pytest.mark.parametrize("scaling", ["none", "standard", "minmax", "robust"])
def test_values_whose_squares_overflow_give_one_clear_error_and_no_warning(scaling):
    X = np.array([[1e200], [3e200], [-2e200], [5e199]])
    y = np.array([1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak, whatever the outcome
        try:
            problem = gdviz.data.make_problem(X, y, scaling=scaling)
        except gdviz.InputError as exc:
            assert "overflow" in str(exc)
        else:  # a scaling that brings the values back into range gives a usable problem
            assert scaling != "none"
            assert np.isfinite(problem.optimum_loss)
