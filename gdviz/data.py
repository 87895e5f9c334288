"""Datasets, feature scaling, and ``make_problem``: the boundary where raw data is validated.

Scaling uses scikit-learn's scalers; the Problem remembers each feature's offset and scale, so
params fitted on scaled features map back to the raw units (``Problem.raw_params``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import BinaryIO, NamedTuple

import numpy as np
import pandas as pd
from sklearn.datasets import fetch_california_housing, load_diabetes
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils.validation import check_X_y

from gdviz import csvread, datacheck
from gdviz.csvread import MAX_CSV_BYTES
from gdviz.engine import Problem, build_problem
from gdviz.errors import InputError, check_choice, check_float, check_int

SCALINGS: tuple[str, ...] = ("none", "standard", "minmax", "robust")
SCALING_LABELS = {
    "none": "None (raw units)",
    "standard": "Standard (mean 0, sd 1)",
    "minmax": "Min-max (to [0, 1])",
    "robust": "Robust (median, IQR)",
}
DATASETS: tuple[str, ...] = ("synthetic_line", "diabetes", "california_housing")
# Short enough for a phone's sidebar (about 30 characters); the field's help gives the sizes.
DATASET_LABELS = {
    "synthetic_line": "Synthetic line (1 feature)",
    "diabetes": "Diabetes (10 features)",
    "california_housing": "California housing (8 features)",
}
CALIFORNIA_ENV = "GDVIZ_CALIFORNIA_CSV"
# RunConfig.dataset of a table the user uploaded: it lives in their session (gdviz.ui), never in DATASETS.
UPLOAD = "upload"


class Dataset(NamedTuple):
    """A table ready for regression.

    Attributes:
        X: array of shape (n_samples, n_features), raw (unscaled) features, read-only.
        y: array of shape (n_samples,), the target, read-only.
        feature_names: one name per column of X.
        target_name: the name of y.
        name: where it came from, e.g. "diabetes" or an uploaded file's name.
        notes: sentences saying what was dropped or changed while reading, and why.
        warnings: sentences on usable but dubious data, e.g. perfectly collinear features.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    name: str
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def _scaler_offset_scale(scaling: str, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit the scikit-learn scaler and express it as ``scaled = (X - offset) / scale``."""
    d = X.shape[1]
    if scaling == "none":
        return np.zeros(d), np.ones(d)
    if scaling == "standard":
        sc = StandardScaler().fit(X)
        return sc.mean_.astype(float), sc.scale_.astype(float)
    if scaling == "minmax":
        sc = MinMaxScaler().fit(X)  # transform is X * scale_ + min_
        return -sc.min_ / sc.scale_, 1.0 / sc.scale_
    sc = RobustScaler().fit(X)
    return sc.center_.astype(float), sc.scale_.astype(float)


def make_problem(
    X: np.ndarray,
    y: np.ndarray,
    *,
    scaling: str = "none",
    fit_intercept: bool = True,
    feature_names: Sequence[str] | None = None,
) -> Problem:
    """Validate raw data, scale it, and reduce it to a least-squares Problem.

    Args:
        X: array-like of shape (n_samples, n_features), raw features.
        y: array-like of shape (n_samples,).
        scaling: "none", "standard", "minmax" or "robust" (scikit-learn's scalers).
        fit_intercept: prepend a column of ones, so params are ``[intercept, w_1 .. w_d]``.
        feature_names: one per column; ``x1 .. xd`` by default.

    Returns:
        The Problem. Its ``raw_params`` maps params back to the raw units of X.

    Raises:
        InputError: for NaN or infinite values, mismatched or wrong shapes, an unknown scaling, or
            feature names that do not match the columns.
    """
    scaling = check_choice(scaling, "scaling", "make_problem", SCALINGS)
    if np.ndim(X) == 1:
        raise InputError(
            "The 'X' parameter of make_problem must be a 2-D array of shape (n_samples, n_features). Got a "
            "1-D array instead: reshape it with X.reshape(-1, 1) for a single feature."
        )
    try:
        X, y = check_X_y(X, y, dtype=np.float64, y_numeric=True, ensure_min_samples=1)
    except (ValueError, TypeError) as exc:
        raise InputError(f"make_problem could not use this data: {exc}") from None
    d = X.shape[1]
    if feature_names is None:
        names = tuple(f"x{i + 1}" for i in range(d))
    else:
        names = tuple(str(f) for f in feature_names)
        if len(names) != d:
            raise InputError(
                f"The 'feature_names' parameter of make_problem must have one name per column of X ({d}). "
                f"Got {len(names)} names instead."
            )
    with np.errstate(all="ignore"):  # huge values are reported below as one clear InputError
        offset, scale = _scaler_offset_scale(scaling, X)
        Xs = (X - offset) / scale
    X1 = np.column_stack([np.ones(len(Xs)), Xs]) if fit_intercept else np.ascontiguousarray(Xs)
    with np.errstate(all="ignore"):
        if not (np.isfinite(X1 @ np.ones(X1.shape[1])).all() and np.isfinite(np.sum(X1 * X1))):
            raise InputError(
                "make_problem could not use this data: its values are so large that their squares overflow "
                "float64. Rescale the columns (for example divide by 1e6) or pick a scaling."
            )
    return build_problem(
        np.ascontiguousarray(X1),
        np.array(y, dtype=float),
        feature_names=names,  # a copy: the caller keeps its y
        fit_intercept=fit_intercept,
        scaling=scaling,
        offset=offset,
        scale=scale,
    )


def problem_from_dataset(dataset: Dataset, *, scaling: str = "none", features: Sequence[int] | None = None) -> Problem:
    """``make_problem`` on a Dataset, optionally on a subset of its columns (by index)."""
    idx = list(range(dataset.n_features)) if features is None else list(features)
    if not idx or any(not 0 <= i < dataset.n_features for i in idx):
        raise InputError(
            f"The 'features' parameter of problem_from_dataset must list column indices in [0, "
            f"{dataset.n_features - 1}]. Got {features!r} instead."
        )
    return make_problem(
        dataset.X[:, idx], dataset.y, scaling=scaling, feature_names=[dataset.feature_names[i] for i in idx]
    )


def synthetic_line(
    *,
    n_samples: int = 20,
    slope: float = 3.0,
    intercept: float = 4.0,
    noise: float = 1.0,
    x_loc: float = 2.0,
    x_scale: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Noisy points around ``y = intercept + slope * x``, with x uniform on ``x_loc +- x_scale``.

    The defaults give the textbook picture: twenty points whose x sit away from zero, so the
    intercept and slope are coupled and gradient descent settles the slope long before the intercept.

    Args:
        n_samples: number of points, in [2, 1_000_000].
        slope, intercept: the true line.
        noise: standard deviation of the Gaussian noise on y, >= 0.
        x_loc: centre of the x range.
        x_scale: half-width of the x range, > 0.
        seed: seed for ``np.random.default_rng``.
    """
    owner = "synthetic_line"
    n = check_int(n_samples, "n_samples", owner, low=2, high=1_000_000)
    slope = check_float(slope, "slope", owner, low=-1e6, high=1e6)
    intercept = check_float(intercept, "intercept", owner, low=-1e6, high=1e6)
    noise = check_float(noise, "noise", owner, low=0, high=1e6, low_open=False)
    x_loc = check_float(x_loc, "x_loc", owner, low=-1e6, high=1e6)
    x_scale = check_float(x_scale, "x_scale", owner, low=0, high=1e6)
    seed = check_int(seed, "seed", owner, low=0, high=2**32 - 1)
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_loc - x_scale, x_loc + x_scale, size=n)
    y = intercept + slope * x + noise * rng.standard_normal(n)
    return Dataset(_frozen(x[:, None]), _frozen(y), ("x",), "y", "synthetic_line")


def _california_from_csv(path: str) -> Dataset:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"Could not read California housing from '{path}': {exc}") from None
    if frame.shape[1] < 2 or frame.select_dtypes("number").shape[1] != frame.shape[1]:
        raise InputError(
            f"'{path}' is not in the California housing layout: expected numeric columns MedInc, HouseAge, "
            "AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude, MedHouseVal."
        )
    names = tuple(str(c) for c in frame.columns)
    values = frame.to_numpy(dtype=float)
    return Dataset(_frozen(values[:, :-1]), _frozen(values[:, -1]), names[:-1], names[-1], "california_housing")


@functools.lru_cache(maxsize=8)
def _load(name: str, path: str | None) -> Dataset:
    if name == "synthetic_line":
        return synthetic_line()
    if name == "diabetes":
        bunch = load_diabetes(scaled=False)
        return Dataset(
            _frozen(bunch.data), _frozen(bunch.target), tuple(bunch.feature_names), "progression", "diabetes"
        )
    path = path or os.environ.get(CALIFORNIA_ENV) or None
    if path:
        return _california_from_csv(path)
    try:
        bunch = fetch_california_housing()
    except Exception as exc:  # network errors come in many types (URLError, OSError, HTTPError, ...)
        raise InputError(
            "California housing is not available: scikit-learn could not download it "
            f"({type(exc).__name__}). Connect to the internet once (it is cached afterwards), or set the "
            f"environment variable {CALIFORNIA_ENV} to a CSV with columns MedInc, HouseAge, AveRooms, "
            "AveBedrms, Population, AveOccup, Latitude, Longitude, MedHouseVal."
        ) from None
    return Dataset(
        _frozen(bunch.data), _frozen(bunch.target), tuple(bunch.feature_names), "MedHouseVal", "california_housing"
    )


def load_dataset(name: str, *, path: str | os.PathLike | None = None) -> Dataset:
    """Load a bundled or fetched dataset by name (cached).

    Args:
        name: "synthetic_line" (the default line), "diabetes" (scikit-learn's, raw, offline) or
            "california_housing" (scikit-learn's fetch, cached on disk).
        path: for "california_housing", a CSV in the layout of scikit-learn's frame (8 features, then
            MedHouseVal). The environment variable GDVIZ_CALIFORNIA_CSV does the same.

    Raises:
        InputError: for an unknown name, or California housing offline with no CSV to read.
    """
    name = check_choice(name, "name", "load_dataset", DATASETS)
    return _load(name, os.fspath(path) if path is not None else None)


def read_csv(
    source: bytes | str | os.PathLike | BinaryIO, *, name: str | None = None, max_bytes: int = MAX_CSV_BYTES
) -> Dataset:
    """Read a user's CSV into a Dataset: the last usable numeric column is the target, the others the features.

    Comma, semicolon and tab separators are detected; UTF-8 (with or without BOM), UTF-16 with a BOM and
    Latin-1 (Windows-1252) are decoded; quoted fields are understood; the first row must name the columns.
    What cannot be used is dropped and said in ``notes``: non-numeric (mostly text), empty, constant and
    duplicate columns; rows with missing, non-numeric or infinite values; and lines with more fields than
    the header, when they are at most a tenth of the rows. Repeated column names are numbered ('a', 'a (2)')
    rather than refused, blank ones named by position ('column 3'). In semicolon files decimal commas are
    read as decimal points. A file object is read from its current position.

    Args:
        source: the file's bytes, a path, or a binary file object (e.g. Streamlit's UploadedFile).
        name: the name to show; by default the file's base name.
        max_bytes: the size limit in bytes (MAX_CSV_BYTES, 10 MiB, by default).

    Returns:
        The Dataset, float64 and finite, with ``warnings`` for usable but dubious data.

    Raises:
        InputError: with one sentence a person can act on, for an empty, binary, undecodable or too large
            file, a missing header, a single column, no usable numeric columns, no more rows than params
            (n_features + 1), or values so large that the loss overflows float64. Never anything else.
    """
    try:
        table = csvread.read_table(source, name=name, max_bytes=max_bytes)
        X, y = table.values[:, :-1], table.values[:, -1]
        warnings = datacheck.check_split(X, y, table.columns[:-1], table.columns[-1])
    except InputError:
        raise
    except Exception as exc:  # the promise is InputError only: a surprise still reaches the user as a sentence
        raise InputError(
            f"This file could not be read as a CSV table (internal error: {type(exc).__name__}). "
            "Save it as a plain comma-separated file with a header row and try again."
        ) from exc
    return Dataset(_frozen(X), _frozen(y), table.columns[:-1], table.columns[-1], table.name, table.notes, warnings)


def select_columns(dataset: Dataset, target: str, features: Sequence[str]) -> Dataset:
    """Re-split a Dataset's table (its features and target together) into a chosen target and features.

    Args:
        dataset: e.g. from ``read_csv``.
        target: the name of the column to predict.
        features: names of the columns to predict it from, in the order wanted; not the target.

    Returns:
        A new Dataset with the same name and notes, and ``warnings`` recomputed for these features. Its table
        holds only the chosen columns: keep the Dataset from ``read_csv`` to choose again.

    Raises:
        InputError: for unknown or repeated names, the target among the features, no features, no more rows
            than params (n_features + 1), or values so large that the loss overflows float64.
    """
    columns = (*dataset.feature_names, dataset.target_name)
    known = ", ".join(f"'{c}'" for c in columns)
    if isinstance(features, str):
        features = [features]
    for label in (target, *features):
        if label not in columns:
            raise InputError(f"There is no column '{label}' in {dataset.name}. The columns are {known}.")
    if target in features:
        raise InputError(f"'{target}' is the target, so it cannot also be a feature: leave it out of the features.")
    if len(set(features)) != len(features):
        raise InputError("Each feature can be chosen only once: remove the repeated names.")
    table = np.column_stack([dataset.X, dataset.y])
    X = table[:, [columns.index(f) for f in features]].reshape(len(table), len(features))
    y = table[:, columns.index(target)]
    names = tuple(str(f) for f in features)
    warnings = datacheck.check_split(X, y, names, str(target))
    return dataset._replace(X=_frozen(X), y=_frozen(y), feature_names=names, target_name=str(target), warnings=warnings)
