"""Every cache of the app: the process-wide ``st.cache_*`` of bundled data, problems and runs, and the
per-session memo of what is computed from this session's upload.

One-feature pages (Playground, Regimes, sweep, math) ask for ``dataset_for`` / ``problem_for`` /
``trajectory_for`` of a RunConfig; the Feature scaling page for ``all_features_problem`` / ``all_features_run``
/ ``scaling_comparison`` (every feature of a dataset). The session's uploaded table (dataset "upload") is
never put in a process-wide cache: its problems and runs are memoised in its own session (``upload_memo``,
under ``state.MEMO_KEY``), the most recent MEMO_SIZE entries within MEMO_BYTES.

The source of California housing (the CSV named by GDVIZ_CALIFORNIA_CSV, or scikit-learn's fetch) is part of
the all-features caches' key, so pointing the variable elsewhere is seen.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from gdviz import data, engine, optimizers, runs, scaling, sweep, thinning, upload
from gdviz.config import DATA_FIELDS, RunConfig
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError
from gdviz.ui import state

MEMO_SIZE = 12  # problems, runs and comparisons of the current upload kept per session (least recent dropped)
# ... and at most this many bytes of arrays between them (the most recent entry is always kept). A problem
# keeps its design matrix, so on a 10 MB upload each costs about as much as the table.
MEMO_BYTES = 32 * 1024 * 1024
# The most bytes one cached one-feature run may take: with 64 entries the cache holds at most 128 MiB of runs.
# 2 MiB keeps every step of a one-feature run of up to 32,000 steps (the Regimes page stops at 20,000), and of
# the longest run (200,000 steps) every step up to 10,606; later ones are thinned (``gdviz.thinning``).
RUN_BYTES = 2 * 1024 * 1024
# The most bytes one cached all-features run may take: every step of a 10,000-step run on up to 23 features,
# and of the longest run (200,000 steps) every step up to 27,022 with one feature, 7,030 with 8 or 478 with
# 100. With 16 entries the cache holds at most 64 MiB whatever the number of features and max_steps.
ALL_FEATURES_RUN_BYTES = 4 * 1024 * 1024
# How a RunConfig is hashed as a cache key: its repr, which names every field and its value exactly (a float's
# repr reads back as the same float). Streamlit's own hashing of a dataclass (dataclasses.asdict, then field by
# field) took about 0.4 ms a lookup, and a Playground rerun makes a dozen lookups.
CONFIG_HASH = {RunConfig: repr}
# A failed load (California housing offline: scikit-learn retries the download) is remembered for a while,
# so that each rerun does not wait for the network again.
FAILED_LOAD_TTL = 600


# ---------------------------------------------------------------------------------------------
# The session's upload memo
# ---------------------------------------------------------------------------------------------


def array_bytes(value: Any) -> int:
    """The bytes of the NumPy arrays in ``value`` (arrays, and tuples, lists and dicts of them)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple | list):
        return sum(array_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(array_bytes(v) for v in value.values())
    return 0


def upload_memo(key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()`` remembered in this session under ``key``: the most recent MEMO_SIZE entries are kept,
    within MEMO_BYTES of arrays (the newest entry always)."""
    memo = st.session_state.setdefault(state.MEMO_KEY, {})
    if key in memo:
        memo[key] = memo.pop(key)  # most recently used last
        return memo[key]
    value = compute()
    memo[key] = value
    while len(memo) > 1 and (len(memo) > MEMO_SIZE or array_bytes(memo) > MEMO_BYTES):
        memo.pop(next(iter(memo)))
    return value


def _with_spinner(text: str, compute: Callable[[], Any]) -> Callable[[], Any]:
    """``compute`` shown with a spinner while it runs (what ``show_spinner`` does for a process-wide cache)."""

    def run() -> Any:
        with st.spinner(text):
            return compute()

    return run


# ---------------------------------------------------------------------------------------------
# One-feature data, problems and runs (keyed by RunConfig)
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # a few lookups a rerun; building a RunConfig validates every field twice
def data_key(config: RunConfig) -> RunConfig:
    """``config`` with every non-data field at its default: the cache key of its Problem."""
    keep = {f: getattr(config, f) for f in DATA_FIELDS}
    if config.dataset != data.UPLOAD:
        keep["upload"] = ""
    return dataclasses.replace(RunConfig(), **keep)


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=CONFIG_HASH)
def _problem(key: RunConfig) -> Problem:
    return runs.one_feature_problem(key)


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs=CONFIG_HASH)
def _dataset(key: RunConfig) -> data.Dataset:
    return key.make_dataset()


def dataset_for(config: RunConfig) -> data.Dataset:
    """The (cached, read-only) raw Dataset of ``config``; an upload comes from this session."""
    if config.dataset == data.UPLOAD:
        return state.uploaded_dataset(config.upload)
    return _dataset(data_key(config))


def problem_for(config: RunConfig) -> Problem:
    """The (cached, read-only) one-feature Problem of ``config``; an upload's is memoised in this session."""
    key = data_key(config)
    if config.dataset == data.UPLOAD:
        ds = state.uploaded_dataset(config.upload)
        return upload_memo(("problem", key), lambda: runs.one_feature_problem(key, ds))
    return _problem(key)


def frozen(traj: Trajectory) -> Trajectory:
    """``traj`` with its arrays made read-only (in place): one object shared by every session's reruns, which
    no caller can change for the others."""
    for a in (traj.step, traj.params, traj.grads, traj.loss, traj.update_norm, traj.learning_rate):
        a.flags.writeable = False
    return traj


# A resource, not data: every session and page gets the same read-only run, with no copy per call (st.cache_data
# unpickled up to RUN_BYTES on each), and the Playground's cached player (``ui.playground.run_for``) holds this
# same object rather than a copy of its own.
@st.cache_resource(max_entries=64, show_spinner="Running gradient descent...", hash_funcs=CONFIG_HASH)
def _trajectory(config: RunConfig) -> Trajectory:
    return frozen(runs.simulate(config, problem_for(config), max_bytes=RUN_BYTES))


def trajectory_for(config: RunConfig) -> Trajectory:
    """The whole run of ``config``, collected and thinned to at most RUN_BYTES (cached per config, read-only;
    an upload's memoised in this session)."""
    if config.dataset == data.UPLOAD:
        problem = problem_for(config)
        compute = _with_spinner(
            "Running gradient descent...", lambda: runs.simulate(config, problem, max_bytes=RUN_BYTES)
        )
        return upload_memo(("trajectory", config), compute)
    return _trajectory(config)


@functools.lru_cache(maxsize=256)
def _best_rate_key(config: RunConfig) -> RunConfig:
    """What the measured best rate depends on: the data, the start point, tol and the step cap."""
    return data_key(config).replace(
        init_intercept=config.init_intercept, init_slope=config.init_slope, tol=config.tol,
        max_steps=min(config.max_steps, sweep.MAX_SWEEP_STEPS), upload=config.upload,
    )  # fmt: skip


def _measure_best(key: RunConfig, problem: Problem) -> sweep.BestRate | None:
    init = runs.init_params(key, problem)
    return sweep.best_rate(problem, tol=key.tol, max_steps=key.max_steps, init_params=init)


@st.cache_data(
    max_entries=32, show_spinner="Measuring the best constant rate from this start...", hash_funcs=CONFIG_HASH
)
def _best_rate(key: RunConfig) -> sweep.BestRate | None:
    return _measure_best(key, problem_for(key))


def best_rate(config: RunConfig) -> sweep.BestRate | None:
    """The constant rate that converges in the fewest steps from config's start (``sweep.best_rate``, plain
    GD, at most MAX_SWEEP_STEPS steps), beside the Fastest preset's steps; cached (an upload's in its session)."""
    key = _best_rate_key(config)
    if config.dataset == data.UPLOAD:
        return upload_memo(("best_rate", key), lambda: _measure_best(key, problem_for(config)))
    return _best_rate(key)


# ---------------------------------------------------------------------------------------------
# All-features data, problems and runs (the Feature scaling page)
# ---------------------------------------------------------------------------------------------


def _source(name: str) -> str | None:
    return os.environ.get(data.CALIFORNIA_ENV) or None if name == "california_housing" else None


@st.cache_resource(max_entries=8, ttl=FAILED_LOAD_TTL, show_spinner="Loading the data...")
def _load(name: str, source: str | None) -> tuple[data.Dataset | None, str]:
    try:
        return data.load_dataset(name, path=source), ""
    except InputError as err:
        return None, str(err)


def _loaded(name: str, source: str | None) -> data.Dataset:
    ds, error = _load(name, source)
    if ds is None:
        raise InputError(error)
    return ds


def _all_features(ds: data.Dataset, scaling_name: str) -> Problem:
    return data.make_problem(ds.X, ds.y, scaling=scaling_name, feature_names=ds.feature_names)


def _gd(prob: Problem, rate: float, tol: float, max_steps: int) -> Trajectory:
    """Plain GD on ``prob``, stored thinned to at most ALL_FEATURES_RUN_BYTES (``gdviz.thinning``)."""
    states = engine.run(prob, optimizers.gd(rate), tol=tol, max_steps=max_steps)
    return thinning.collect(states, thinning.dense_for(prob.n_params, max_steps, ALL_FEATURES_RUN_BYTES))


@st.cache_resource(max_entries=16, show_spinner=False)
def _all_features_problem(name: str, scaling_name: str, source: str | None) -> Problem:
    return _all_features(_loaded(name, source), scaling_name)


@st.cache_resource(max_entries=16, show_spinner="Running gradient descent...")
def _all_features_run(
    name: str, scaling_name: str, source: str | None, rate: float, tol: float, max_steps: int
) -> Trajectory:
    return _gd(_all_features_problem(name, scaling_name, source), rate, tol, max_steps)


@st.cache_data(max_entries=32, show_spinner="Running the same rate under every scaling...")
def _comparison(name: str, source: str | None, rate: float, tol: float, max_steps: int) -> list[scaling.ScalingRow]:
    problems = {s: _all_features_problem(name, s, source) for s in data.SCALINGS}
    return scaling.compare_scalings(problems, rate, tol=tol, max_steps=max_steps)


def _upload() -> tuple[str, data.Dataset]:
    """(content id, chosen columns) of this session's upload; InputError when it has none."""
    up = state.upload()
    if up is None:
        raise InputError("There is no uploaded data in this session: upload a CSV file on the Your data page.")
    return up.id, up.dataset


def dataset_named(name: str) -> data.Dataset:
    """The raw Dataset ``name`` (cached; the upload: this session's). Raises InputError when it cannot be loaded."""
    if name == data.UPLOAD:
        return _upload()[1]
    return _loaded(name, _source(name))


def all_features_problem(name: str, scaling_name: str) -> Problem:
    """The Problem on every feature of ``name`` under ``scaling_name`` (cached, read-only)."""
    if name == data.UPLOAD:
        uid, ds = _upload()
        return upload_memo(("multi_problem", uid, scaling_name), lambda: _all_features(ds, scaling_name))
    return _all_features_problem(name, scaling_name, _source(name))


def all_features_run(config: RunConfig, rate: float | None = None, scaling_name: str | None = None) -> Trajectory:
    """Plain GD on every feature at a constant rate (``config``'s unless given) from zeros, with config's tol
    and max steps."""
    lr = config.learning_rate if rate is None else rate
    sc = config.scaling if scaling_name is None else scaling_name
    if config.dataset == data.UPLOAD:
        prob = all_features_problem(data.UPLOAD, sc)
        compute = _with_spinner("Running gradient descent...", lambda: _gd(prob, lr, config.tol, config.max_steps))
        return upload_memo(("multi_run", _upload()[0], sc, lr, config.tol, config.max_steps), compute)
    return _all_features_run(config.dataset, sc, _source(config.dataset), lr, config.tol, config.max_steps)


def scaling_comparison(config: RunConfig) -> list[scaling.ScalingRow]:
    """The config's rate under each scaling of its dataset (spectrum, threshold, regime, a real run)."""
    rate, tol, max_steps = config.learning_rate, config.tol, config.max_steps
    if config.dataset == data.UPLOAD:
        problems = {s: all_features_problem(data.UPLOAD, s) for s in data.SCALINGS}
        compute = _with_spinner(
            "Running the same rate under every scaling...",
            lambda: scaling.compare_scalings(problems, rate, tol=tol, max_steps=max_steps),
        )
        return upload_memo(("multi_comparison", _upload()[0], rate, tol, max_steps), compute)
    return _comparison(config.dataset, _source(config.dataset), rate, tol, max_steps)


def clear_caches() -> None:
    """Forget every cached all-features dataset, problem and run (tests that change the data source)."""
    for fn in (_load, _all_features_problem, _all_features_run, _comparison):
        fn.clear()


# ---------------------------------------------------------------------------------------------
# The same for everyone
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def example_bytes() -> bytes:
    """The example file of the Your data page (scikit-learn's diabetes table as CSV), cached."""
    return upload.example_csv()
