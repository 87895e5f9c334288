"""The only Streamlit-aware module: cached wrappers around the core, shared settings, session keys.

Pages import from here; nothing in the core imports streamlit. Settings shared across pages live under
the non-widget session key CONFIG_KEY (widget values are dropped when the user leaves a page).
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from gdviz import analysis, data, experiment
from gdviz.engine import Problem, Trajectory
from gdviz.experiment import RunConfig

CONFIG_KEY = "gdviz_config"
DATA_FIELDS = ("dataset", "feature", "n_samples", "slope", "intercept", "noise", "x_loc", "x_scale", "seed", "scaling")


def get_config() -> RunConfig:
    """The shared RunConfig of this session (the defaults on first visit)."""
    if CONFIG_KEY not in st.session_state:
        st.session_state[CONFIG_KEY] = RunConfig()
    return st.session_state[CONFIG_KEY]


def set_config(config: RunConfig) -> RunConfig:
    st.session_state[CONFIG_KEY] = config
    return config


def data_key(config: RunConfig) -> RunConfig:
    """``config`` with every non-data field at its default: the cache key of its Problem."""
    defaults = RunConfig()
    keep = {f: getattr(config, f) for f in DATA_FIELDS}
    return dataclasses.replace(defaults, **keep)


@st.cache_resource(max_entries=32, show_spinner=False)
def _problem(key: RunConfig) -> Problem:
    return experiment.one_feature_problem(key)


@st.cache_resource(max_entries=32, show_spinner=False)
def _dataset(key: RunConfig) -> data.Dataset:
    return key.make_dataset()


def dataset_for(config: RunConfig) -> data.Dataset:
    """The (cached, read-only) raw Dataset of ``config``."""
    return _dataset(data_key(config))


def problem_for(config: RunConfig) -> Problem:
    """The (cached, read-only) one-feature Problem of ``config``."""
    return _problem(data_key(config))


# The most bytes one cached run may take: with 64 entries the cache holds at most 128 MiB of runs. 2 MiB keeps
# every step of a one-feature run of up to 32,000 steps (the Regimes page stops at 20,000), and of the longest
# run (200,000 steps) every step up to 10,606; later ones are thinned (``gdviz.thinning``).
RUN_BYTES = 2 * 1024 * 1024


@st.cache_data(max_entries=64, show_spinner="Running gradient descent...")
def trajectory_for(config: RunConfig) -> Trajectory:
    """The whole run of ``config``, collected (cached per config), thinned to at most RUN_BYTES."""
    return experiment.simulate(config, problem_for(config), max_bytes=RUN_BYTES)


def regimes_for(config: RunConfig, trajectory: Trajectory) -> tuple[analysis.Regime | None, analysis.Regime]:
    """(predicted, observed) regime; the prediction only exists for plain GD at a constant rate."""
    problem = problem_for(config)
    predicted = analysis.predict_regime(problem, config.learning_rate) if config.is_constant_gd else None
    return predicted, analysis.observed_regime(problem, trajectory)
