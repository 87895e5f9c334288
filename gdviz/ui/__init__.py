"""The only Streamlit-aware module: cached wrappers around the core, shared settings, session keys.

Pages import from here; nothing in the core imports streamlit. Settings shared across pages live under
the non-widget session key CONFIG_KEY (widget values are dropped when the user leaves a page).

An uploaded table lives only in its session, under UPLOAD_KEY (a dict of plain data, see ``set_upload``),
and what is computed from it in a small per-session memo under MEMO_KEY, never in a process-wide
``st.cache_*``: one session's upload is never visible to another. A config with ``dataset == "upload"``
names it by its content id (``RunConfig.upload``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from gdviz import analysis, data, runs
from gdviz.config import DATA_FIELDS, RunConfig
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError

CONFIG_KEY = "gdviz_config"
UPLOAD_KEY = "gdviz_upload"
MEMO_KEY = "gdviz_upload_memo"
MEMO_SIZE = 12  # problems, runs and comparisons of the current upload kept per session (least recent dropped)
# ... and at most this many bytes of arrays between them (the most recent entry is always kept). A problem
# keeps its design matrix, so on a 10 MB upload each costs about as much as the table.
MEMO_BYTES = 32 * 1024 * 1024


def get_config() -> RunConfig:
    """The shared RunConfig of this session (the defaults on first visit).

    A config that names an upload this session no longer holds follows the session's current upload, or
    falls back to the synthetic line when there is none.
    """
    if CONFIG_KEY not in st.session_state:
        st.session_state[CONFIG_KEY] = RunConfig()
    config = st.session_state[CONFIG_KEY]
    if config.dataset == data.UPLOAD:
        up = upload_state()
        if up is None:
            config = set_config(config.replace(dataset="synthetic_line", upload="", feature=0))
        elif up["id"] != config.upload:
            feature = config.feature if config.feature < up["dataset"].n_features else 0
            config = set_config(config.replace(upload=up["id"], feature=feature))
    return config


def set_config(config: RunConfig) -> RunConfig:
    st.session_state[CONFIG_KEY] = config
    return config


def data_key(config: RunConfig) -> RunConfig:
    """``config`` with every non-data field at its default: the cache key of its Problem."""
    defaults = RunConfig()
    keep = {f: getattr(config, f) for f in DATA_FIELDS}
    if config.dataset != data.UPLOAD:
        keep["upload"] = ""
    return dataclasses.replace(defaults, **keep)


# ---------------------------------------------------------------------------------------------
# The session's uploaded table
# ---------------------------------------------------------------------------------------------


def upload_state() -> dict[str, Any] | None:
    """This session's upload, or None: a dict with ``id``, ``file_name``, ``digest``, ``table`` (the Dataset
    as read), ``dataset`` (the chosen target and features), ``target`` and ``features``."""
    return st.session_state.get(UPLOAD_KEY)


def set_upload(entry: dict[str, Any]) -> None:
    """Make ``entry`` this session's upload (replacing any other); a config on the upload follows it."""
    st.session_state[UPLOAD_KEY] = entry
    st.session_state[MEMO_KEY] = {}
    config = st.session_state.get(CONFIG_KEY)
    if config is not None and config.dataset == data.UPLOAD:
        get_config()


def use_upload() -> RunConfig:
    """Point the shared config at this session's upload (its first chosen feature for one-feature pages)."""
    up = upload_state()
    if up is None:
        raise InputError("There is no uploaded data in this session yet: upload a CSV file on the Your data page.")
    config = get_config()
    if config.dataset == data.UPLOAD and config.upload == up["id"]:
        return config
    return set_config(config.replace(dataset=data.UPLOAD, upload=up["id"], feature=0))


def dataset_choices() -> tuple[str, ...]:
    """The datasets a sidebar offers: the bundled ones, plus this session's upload if it has one."""
    return (*data.DATASETS, data.UPLOAD) if upload_state() is not None else data.DATASETS


def dataset_labels() -> dict[str, str]:
    """``dataset_choices()`` -> their labels, fixed for this run (a select's format_func is called later)."""
    return {name: dataset_label(name) for name in dataset_choices()}


def dataset_label(name: str) -> str:
    """What a dataset select shows for ``name``: "Your data: <file name>" for the upload."""
    if name == data.UPLOAD:
        up = upload_state()
        return f"Your data: {up['file_name']}" if up is not None else "Your data (none uploaded)"
    return data.DATASET_LABELS[name]


def dataset_changes(name: str) -> dict[str, str]:
    """The config fields a dataset select sets for ``name``: the upload's content id goes with "upload"."""
    up = upload_state()
    return {"dataset": name, "upload": up["id"] if name == data.UPLOAD and up is not None else ""}


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
    memo = st.session_state.setdefault(MEMO_KEY, {})
    if key in memo:
        memo[key] = memo.pop(key)  # most recently used last
        return memo[key]
    value = compute()
    memo[key] = value
    while len(memo) > 1 and (len(memo) > MEMO_SIZE or array_bytes(memo) > MEMO_BYTES):
        memo.pop(next(iter(memo)))
    return value


def uploaded_dataset(upload_id: str) -> data.Dataset:
    """The chosen columns of this session's upload ``upload_id``; InputError when the session lacks it."""
    up = upload_state()
    if up is None or up["id"] != upload_id:
        raise InputError(
            "Your uploaded data is no longer in this session: upload the file again on the Your data page."
        )
    return up["dataset"]


# ---------------------------------------------------------------------------------------------
# Cached data, problems and runs
# ---------------------------------------------------------------------------------------------


@st.cache_resource(max_entries=32, show_spinner=False)
def _problem(key: RunConfig) -> Problem:
    return runs.one_feature_problem(key)


@st.cache_resource(max_entries=32, show_spinner=False)
def _dataset(key: RunConfig) -> data.Dataset:
    return key.make_dataset()


def dataset_for(config: RunConfig) -> data.Dataset:
    """The (cached, read-only) raw Dataset of ``config``; an upload comes from this session."""
    if config.dataset == data.UPLOAD:
        return uploaded_dataset(config.upload)
    return _dataset(data_key(config))


def problem_for(config: RunConfig) -> Problem:
    """The (cached, read-only) one-feature Problem of ``config``; an upload's is memoised in this session."""
    key = data_key(config)
    if config.dataset == data.UPLOAD:
        ds = uploaded_dataset(config.upload)
        return upload_memo(("problem", key), lambda: runs.one_feature_problem(key, ds))
    return _problem(key)


# The most bytes one cached run may take: with 64 entries the cache holds at most 128 MiB of runs. 2 MiB keeps
# every step of a one-feature run of up to 32,000 steps (the Regimes page stops at 20,000), and of the longest
# run (200,000 steps) every step up to 10,606; later ones are thinned (``gdviz.thinning``).
RUN_BYTES = 2 * 1024 * 1024


@st.cache_data(max_entries=64, show_spinner="Running gradient descent...")
def _trajectory(config: RunConfig) -> Trajectory:
    return runs.simulate(config, problem_for(config), max_bytes=RUN_BYTES)


def trajectory_for(config: RunConfig) -> Trajectory:
    """The whole run of ``config``, collected and thinned to at most RUN_BYTES (cached per config; an upload's
    memoised in this session)."""
    if config.dataset == data.UPLOAD:
        problem = problem_for(config)

        def compute() -> Trajectory:
            with st.spinner("Running gradient descent..."):
                return runs.simulate(config, problem, max_bytes=RUN_BYTES)

        return upload_memo(("trajectory", config), compute)
    return _trajectory(config)


def regimes_for(config: RunConfig, trajectory: Trajectory) -> tuple[analysis.Regime | None, analysis.Regime]:
    """(predicted, observed) regime; the prediction only exists for plain GD at a constant rate."""
    problem = problem_for(config)
    predicted = analysis.predict_regime(problem, config.learning_rate) if config.is_constant_gd else None
    return predicted, analysis.observed_regime(problem, trajectory)
