"""Fixtures shared by the core tests: raw data sets (X, y) and a maker of random well-posed ones.

The oracles in the tests are built from these raw arrays (design matrix, Hessian, least squares), never
from the statistics a Problem keeps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gdviz import data

# The shared test data lives next to the repository (../shared/data from its root); never copy it in.
CALIFORNIA_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "california_housing.csv"


def _random_xy(
    seed: int, n_samples: int = 40, n_features: int = 3, noise: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Features with unequal spreads and non-zero means (so intercept and weights couple), plus a noisy target."""
    rng = np.random.default_rng(seed)
    spread = rng.uniform(0.5, 2.0, n_features)
    centre = rng.uniform(-1.5, 1.5, n_features)
    X = centre + spread * rng.standard_normal((n_samples, n_features))
    true = rng.normal(size=n_features + 1)
    y = true[0] + X @ true[1:] + noise * rng.standard_normal(n_samples)
    return X, y


@pytest.fixture(scope="session")
def random_xy():
    """A function ``(seed, n_samples=40, n_features=3, noise=0.3) -> (X, y)``."""
    return _random_xy


@pytest.fixture(scope="session")
def line_xy() -> tuple[np.ndarray, np.ndarray]:
    """The default synthetic line as plain writable arrays."""
    ds = data.synthetic_line()
    return np.array(ds.X), np.array(ds.y)


@pytest.fixture(scope="session")
def diabetes_xy() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's diabetes data, raw (unscaled) features."""
    ds = data.load_dataset("diabetes")
    return np.array(ds.X), np.array(ds.y)


@pytest.fixture(scope="session")
def california_csv() -> Path:
    """The path of the shared California housing CSV, or a skip when it is not there."""
    if not CALIFORNIA_CSV.is_file():
        pytest.skip(f"California housing CSV not found at {CALIFORNIA_CSV} (shared test data is missing)")
    return CALIFORNIA_CSV


@pytest.fixture
def fresh_loader_cache():
    """Empty the dataset loader's cache before and after a test that changes where data comes from."""
    data._load.cache_clear()
    yield
    data._load.cache_clear()


def standardised(X):
    """Standard scaling written out, as an oracle for scikit-learn's StandardScaler."""
    return (X - X.mean(axis=0)) / X.std(axis=0)


def build_problems(line_xy, diabetes_xy, random_xy, random_sizes):
    """name -> (X as the problem sees it, y, problem) for the line, standardised diabetes and random problems.

    ``random_sizes`` maps a seed to n_samples; that seed's problem has seed + 1 features.
    """
    from gdviz.data import make_problem

    out = {}
    X, y = line_xy
    out["line"] = (X, y, make_problem(X, y))
    X, y = diabetes_xy
    out["diabetes_standard"] = (standardised(X), y, make_problem(X, y, scaling="standard"))
    for seed, n in random_sizes.items():
        X, y = random_xy(seed, n_samples=n, n_features=seed + 1)
        out[f"random{seed}"] = (X, y, make_problem(X, y))
    return out


def live_figure(at, key: str) -> dict:
    """The Plotly figure (JSON) of the live chart ``key`` in an AppTest's last run."""
    from gdviz.ui.live_chart import figures_of  # here: the core's tests run without streamlit imported
    from tests import player_view  # the Playground's charts are drawn by its player

    for element in at.get("bidi_component"):
        figs = figures_of(element)
        if key in figs:
            return figs[key]
    prefix = key.split("_")[0]
    figs = player_view.figures(at, prefix)
    if key in figs:
        return figs[key]
    raise AssertionError(f"no live chart {key!r}")


@pytest.fixture(scope="session")
def badly_scaled():
    """Three features, one on a scale of thousands (like California's Population), and a noisy target."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(3, 1, 200), rng.normal(1500, 900, 200), rng.normal(-2, 0.5, 200)])
    y = 1.0 + X @ np.array([0.5, 0.001, -1.0]) + 0.1 * rng.standard_normal(200)
    return X, y
