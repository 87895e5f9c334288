"""Multi-feature problems (every feature of a dataset, not one) and the Feature scaling page's controls.

Problems are cached per (dataset name, scaling) with ``st.cache_resource``; the source of California
housing (the CSV named by GDVIZ_CALIFORNIA_CSV, or scikit-learn's fetch) is part of the key, so pointing
the variable elsewhere is seen. The session's uploaded table (dataset "upload") is never put in those
process-wide caches: its problems and runs are memoised in its own session (``gdviz.ui.upload_memo``).
The dataset, scaling and learning rate live in the shared RunConfig
(``gdviz.ui.get_config``), so moving between pages keeps them. Session keys (plain data): the widget
keys ``{prefix}_dataset``, ``{prefix}_scaling``, ``{prefix}_learning_rate``, ``{prefix}_step``,
``{prefix}_pair_x_{dataset}``, ``{prefix}_pair_y_{dataset}``, ``{prefix}_hold``; ``{prefix}_error`` (a
notice to show) and ``{prefix}_run_id`` (the run the step slider belongs to).

Memory: a run is stored thinned (``gdviz.thinning``) to at most RUN_BYTES, so the run cache holds at most
16 x 4 MiB = 64 MiB whatever the number of features and max_steps; the step slider snaps to stored steps.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import streamlit as st

from gdviz import analysis, data, engine, optimizers, scaling, thinning
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError
from gdviz.explain import fmt
from gdviz.plots._spec import REGIME_LABELS
from gdviz.ui import dataset_changes, dataset_choices, dataset_labels, get_config, set_config, upload_memo, upload_state
from gdviz.ui.messages import for_people

PUZZLE_DATASET = "california_housing"
PUZZLE_RATES = (1e-6, 1e-7)
FIELDS = ("dataset", "scaling", "learning_rate")


def _source(name: str) -> str | None:
    return os.environ.get(data.CALIFORNIA_ENV) or None if name == "california_housing" else None


# A failed load (California housing offline: scikit-learn retries the download) is remembered for a while,
# so that each rerun does not wait for the network again.
FAILED_LOAD_TTL = 600


@st.cache_resource(max_entries=8, ttl=FAILED_LOAD_TTL, show_spinner="Loading the data...")
def _load(name: str, source: str | None) -> tuple[data.Dataset | None, str]:
    try:
        return data.load_dataset(name, path=source), ""
    except InputError as err:
        return None, str(err)


def _dataset(name: str, source: str | None) -> data.Dataset:
    ds, error = _load(name, source)
    if ds is None:
        raise InputError(error)
    return ds


def _all_features(ds: data.Dataset, scaling_name: str) -> Problem:
    return data.make_problem(ds.X, ds.y, scaling=scaling_name, feature_names=ds.feature_names)


def _gd(prob: Problem, rate: float, tol: float, max_steps: int) -> Trajectory:
    """Plain GD on ``prob``, stored thinned to at most RUN_BYTES (``gdviz.thinning``)."""
    states = engine.run(prob, optimizers.gd(rate), tol=tol, max_steps=max_steps)
    return thinning.collect(states, thinning.dense_for(prob.n_params, max_steps, RUN_BYTES))


@st.cache_resource(max_entries=16, show_spinner=False)
def _problem(name: str, scaling_name: str, source: str | None) -> Problem:
    return _all_features(_dataset(name, source), scaling_name)


# The most bytes one cached run may take: every step of a 10,000-step run on up to 23 features, and of the
# longest run (200,000 steps) every step up to 27,022 with one feature, 7,030 with 8 or 478 with 100.
RUN_BYTES = 4 * 1024 * 1024


@st.cache_resource(max_entries=16, show_spinner="Running gradient descent...")
def _run(name: str, scaling_name: str, source: str | None, rate: float, tol: float, max_steps: int) -> Trajectory:
    return _gd(_problem(name, scaling_name, source), rate, tol, max_steps)


@st.cache_data(max_entries=32, show_spinner="Running the same rate under every scaling...")
def _comparison(name: str, source: str | None, rate: float, tol: float, max_steps: int) -> list[scaling.ScalingRow]:
    problems = {s: _problem(name, s, source) for s in data.SCALINGS}
    return scaling.compare_scalings(problems, rate, tol=tol, max_steps=max_steps)


def _upload() -> tuple[str, data.Dataset]:
    """(content id, chosen columns) of this session's upload; InputError when it has none."""
    up = upload_state()
    if up is None:
        raise InputError("There is no uploaded data in this session: upload a CSV file on the Your data page.")
    return up["id"], up["dataset"]


def dataset(name: str) -> data.Dataset:
    """The raw Dataset ``name`` (cached; the upload: this session's). Raises InputError when it cannot be loaded."""
    if name == data.UPLOAD:
        return _upload()[1]
    return _dataset(name, _source(name))


def dataset_title(config: RunConfig, ds: data.Dataset) -> str:
    """How the page names the data: an uploaded file by its own name, a bundled dataset in words."""
    return ds.name if config.dataset == data.UPLOAD else ds.name.replace("_", " ").capitalize()


def problem(name: str, scaling_name: str) -> Problem:
    """The Problem on every feature of ``name`` under ``scaling_name`` (cached, read-only)."""
    if name == data.UPLOAD:
        uid, ds = _upload()
        return upload_memo(("multi_problem", uid, scaling_name), lambda: _all_features(ds, scaling_name))
    return _problem(name, scaling_name, _source(name))


def run(config: RunConfig, rate: float | None = None, scaling_name: str | None = None) -> Trajectory:
    """Plain GD at a constant rate (``config``'s unless given) from zeros, with config's tol and max steps."""
    lr = config.learning_rate if rate is None else rate
    sc = config.scaling if scaling_name is None else scaling_name
    if config.dataset == data.UPLOAD:
        prob = problem(data.UPLOAD, sc)

        def compute() -> Trajectory:
            with st.spinner("Running gradient descent..."):
                return _gd(prob, lr, config.tol, config.max_steps)

        return upload_memo(("multi_run", _upload()[0], sc, lr, config.tol, config.max_steps), compute)
    return _run(config.dataset, sc, _source(config.dataset), lr, config.tol, config.max_steps)


def comparison(config: RunConfig) -> list[scaling.ScalingRow]:
    """The config's rate under each scaling of its dataset (spectrum, threshold, regime, a real run)."""
    rate, tol, max_steps = config.learning_rate, config.tol, config.max_steps
    if config.dataset == data.UPLOAD:
        problems = {s: problem(data.UPLOAD, s) for s in data.SCALINGS}

        def compute() -> list[scaling.ScalingRow]:
            with st.spinner("Running the same rate under every scaling..."):
                return scaling.compare_scalings(problems, rate, tol=tol, max_steps=max_steps)

        return upload_memo(("multi_comparison", _upload()[0], rate, tol, max_steps), compute)
    return _comparison(config.dataset, _source(config.dataset), rate, tol, max_steps)


def clear_caches() -> None:
    """Forget every cached dataset, problem and run of this module (tests that change the data source)."""
    for fn in (_load, _problem, _run, _comparison):
        fn.clear()


# ---------------------------------------------------------------------------------------------
# Controls bound to the shared RunConfig
# ---------------------------------------------------------------------------------------------


def _k(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def _sync(prefix: str, config: RunConfig) -> None:
    for field in FIELDS:
        st.session_state[_k(prefix, field)] = getattr(config, field)


def _apply(prefix: str, **changes) -> bool:
    """Write ``changes`` into the shared config if its data loads; else keep everything and say why."""
    old = get_config()
    if "dataset" in changes:
        changes.update(dataset_changes(changes["dataset"]))  # the upload's content id goes with "upload"
    if changes.get("dataset", old.dataset) != old.dataset:
        changes["feature"] = 0  # the Playground's one feature: column 0 of the new dataset
    try:
        new = old.replace(**changes)
        problem(new.dataset, new.scaling)  # loads the data: California offline fails here
    except InputError as err:
        st.session_state[_k(prefix, "error")] = for_people(err)
        _sync(prefix, old)
        return False
    st.session_state.pop(_k(prefix, "error"), None)
    set_config(new)
    _sync(prefix, new)
    return True


def _on_field(prefix: str, field: str) -> None:
    value = st.session_state[_k(prefix, field)]
    if value is None:  # a cleared number box keeps what it had
        _sync(prefix, get_config())
        return
    _apply(prefix, **{field: value})


def _times(prefix: str, factor: float) -> None:
    _apply(prefix, learning_rate=float(f"{get_config().learning_rate * factor:.6g}"))


def try_puzzle(prefix: str, rate: float) -> None:
    """Button callback: raw California housing at ``rate`` (the published puzzle)."""
    _apply(prefix, dataset=PUZZLE_DATASET, scaling="none", learning_rate=rate)


def bind(prefix: str) -> None:
    """Seed the widget keys from the shared config where they are missing (left the page and came back)."""
    config = get_config()
    for field in FIELDS:
        st.session_state.setdefault(_k(prefix, field), getattr(config, field))


def sidebar(prefix: str) -> RunConfig:
    """Dataset, scaling, learning rate and the puzzle buttons, in the sidebar; returns the shared config.

    A dataset that cannot be loaded (California housing offline) is reported as a notice and nothing
    else changes; should the shared config name one anyway, the page falls back to the synthetic line.
    """
    p = prefix
    config = get_config()
    try:
        problem(config.dataset, config.scaling)
    except InputError as err:
        st.error(f"{err} Showing the synthetic line instead.")
        _sync(p, set_config(config.replace(dataset="synthetic_line", feature=0)))
    bind(p)
    with st.sidebar:
        st.subheader("The published puzzle")
        st.caption("Raw California housing, plain gradient descent, two rates a factor 10 apart:")
        with st.container(horizontal=True, gap="small"):
            for rate in PUZZLE_RATES:
                st.button(
                    f"Try {rate:.0e}".replace("e-0", "e-"),
                    key=_k(p, f"try_{rate:.0e}"),
                    on_click=try_puzzle,
                    args=(p, rate),
                    type="primary",
                    help=f"Load raw (unscaled) California housing and run plain GD at learning rate {rate:g}.",
                )
        st.subheader("Data and rate")
        st.selectbox(
            "Dataset",
            dataset_choices(),  # with "Your data: <file>" once this session has an upload
            format_func=dataset_labels().get,
            key=_k(p, "dataset"),
            on_change=_on_field,
            args=(p, "dataset"),
            help="Every feature of the dataset is used (the Playground fits one). The synthetic line is the "
            "default line with its one feature.",
        )
        st.selectbox(
            "Feature scaling",
            data.SCALINGS,
            format_func=data.SCALING_LABELS.get,
            key=_k(p, "scaling"),
            on_change=_on_field,
            args=(p, "scaling"),
            help="How the features are rescaled before the run (scikit-learn's scalers). Section 3 compares all four.",
        )
        # No min/max on the box: a value outside them would stay in the box, in red, while another rate is in
        # use. RunConfig checks it instead, and a refused value is reported and the box shows the rate in use.
        st.number_input(
            "Learning rate",
            format="%.6g",
            key=_k(p, "learning_rate"),
            on_change=_on_field,
            args=(p, "learning_rate"),
            help="The constant rate of plain gradient descent, shared with the other pages. Type any rate.",
        )
        rate = get_config().learning_rate
        with st.container(horizontal=True, gap="small"):
            st.button("Rate ÷ 10", key=_k(p, "div10"), on_click=_times, args=(p, 0.1), help="Divide the rate by 10.",
                      disabled=rate * 0.1 < RATE_MIN)  # fmt: skip
            st.button("Rate × 10", key=_k(p, "mul10"), on_click=_times, args=(p, 10.0), help="Multiply the rate by 10.",
                      disabled=rate * 10 >= RATE_MAX)  # fmt: skip
        if err := st.session_state.get(_k(p, "error")):
            st.error(err)
    return get_config()


def step_slider(prefix: str, config: RunConfig, traj: Trajectory) -> int:
    """The step to look at, over the run. A new run (new data, scaling or rate) opens at
    ``scaling.opening_step``: its last step, or for a diverged run the last one before its loss grew a
    millionfold."""
    key, last = _k(prefix, "step"), int(traj.step[-1])
    # gdviz.ui.share writes the same tuple for a link's step; an upload's id ("" otherwise) tells uploads apart.
    run_id = (config.dataset + config.upload, config.scaling, config.learning_rate, config.tol, config.max_steps)
    if st.session_state.get(_k(prefix, "run_id")) != run_id or key not in st.session_state:
        st.session_state[_k(prefix, "run_id")] = run_id
        st.session_state[key] = scaling.opening_step(traj)
    st.session_state[key] = thinning.snap(traj, int(np.clip(st.session_state[key], 0, last)))
    gaps = np.diff(traj.step)
    thinned = (
        f" Beyond step {int(traj.step[int(np.argmax(gaps > 1))]):,} only every 2nd, 4th, 8th... step is stored (to "
        "bound memory): the slider snaps to the nearest stored step."
        if gaps.size and gaps.max() > 1
        else ""
    )
    st.slider(
        "Step (updates applied)",
        0,
        max(last, 1),
        key=key,
        disabled=last == 0,
        help=f"Steps 0 to {last:,} of the run ({traj.status.value.replace('_', ' ')} at step {last:,}). The charts "
        "below show the gradients and the path at this step. A diverged run opens before its loss grew a "
        "millionfold: drag right to watch it blow up." + thinned,
    )
    return int(st.session_state[key])


def pair_controls(prefix: str, config: RunConfig, names: tuple[str, ...], default: tuple[int, int]) -> tuple:
    """Two params for the cost surface and where the others are held: returns (i, j, hold)."""
    which = f"{config.dataset}{config.upload}"  # another upload may have other columns
    kx, ky = _k(prefix, f"pair_x_{which}"), _k(prefix, f"pair_y_{which}")
    st.session_state.setdefault(kx, default[0])
    st.session_state.setdefault(ky, default[1])
    if st.session_state[ky] == st.session_state[kx]:
        st.session_state[ky] = next(k for k in range(len(names)) if k != st.session_state[kx])
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.selectbox(
        "First param (x axis)", range(len(names)), format_func=names.__getitem__, key=kx,
        help="Any of the intercept and the feature weights.",
    )  # fmt: skip
    c2.selectbox(
        "Second param (y axis)", [k for k in range(len(names)) if k != st.session_state[kx]],
        format_func=names.__getitem__, key=ky, help="A different param from the first.",
    )  # fmt: skip
    c3.radio(
        "Hold the other params at", list(scaling.HOLD_MODES), format_func=scaling.HOLD_MODES.get,
        key=_k(prefix, "hold"), horizontal=True,
        help="The surface is a slice of the loss: these two params vary, every other one stays at this point.",
    )  # fmt: skip
    return int(st.session_state[kx]), int(st.session_state[ky]), st.session_state[_k(prefix, "hold")]


# ---------------------------------------------------------------------------------------------
# Read-outs
# ---------------------------------------------------------------------------------------------


def run_summary(prefix: str, config: RunConfig, prob: Problem, traj: Trajectory) -> None:
    """What the run did (metrics) and why (the spectrum, in sentences)."""
    last = traj.last_state
    with st.container(horizontal=True, key=_k(prefix, "summary")):
        st.metric("Status", last.status.value.replace("_", " "), help="converged, diverged or max steps.")
        st.metric("Steps", f"{last.step:,}", help="Updates applied until the run stopped.")
        st.metric("Final loss", fmt(last.loss), help="The loss where the run stopped (inf: it overflowed).")
        st.metric("Least-squares floor", fmt(prob.optimum_loss), help="The smallest loss any params reach.")
        stable = 2.0 / analysis.spectrum(prob).lambda_max
        st.metric("Rate / (2/lambda_max)", f"{config.learning_rate / stable:.3g}x", help="1x or more diverges.")
    text = "\n\n".join(scaling.rate_explanation(prob, config.learning_rate, traj))
    (st.warning if last.status is engine.Status.DIVERGED else st.info)(text)


def comparison_table(rows: list[scaling.ScalingRow], rate: float) -> None:
    """The same rate under every scaling: spectrum, threshold, predicted regime, what a run did."""
    st.table(
        pd.DataFrame(
            {
                "scaling": [data.SCALING_LABELS[r.scaling] for r in rows],
                "lambda_min": [f"{r.lambda_min:.4g}" for r in rows],
                "lambda_max": [f"{r.lambda_max:.4g}" for r in rows],
                "condition number": [f"{r.condition_number:.4g}" for r in rows],
                "2/lambda_max": [f"{r.stable_max:.4g}" for r in rows],
                f"rate {fmt(rate)} / threshold": [f"{r.ratio:.3g}x" for r in rows],
                "predicted regime": [REGIME_LABELS[r.regime] for r in rows],
                "what a run does": [scaling.outcome_text(r) for r in rows],
            }
        ).set_index("scaling")
    )
    st.markdown(scaling.comparison_sentence(rows, rate))


def puzzle_panel(prefix: str, config: RunConfig) -> None:
    """The puzzle on raw California housing, both rates side by side, explained from the spectrum."""
    try:
        raw = problem(PUZZLE_DATASET, "none")
    except InputError as err:
        st.error(f"The puzzle needs California housing, which is not available here. {err}")
        return
    puzzle_config = config.replace(dataset=PUZZLE_DATASET, scaling="none")
    for col, rate in zip(st.columns(len(PUZZLE_RATES)), PUZZLE_RATES, strict=True):
        traj = run(puzzle_config, rate)
        with col:
            st.markdown(f"**Rate {rate:g}**: {traj.status.value.replace('_', ' ')} at step {int(traj.step[-1]):,}.")
            for paragraph in scaling.rate_explanation(raw, rate, traj):
                st.markdown(paragraph)
