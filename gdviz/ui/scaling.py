"""The Feature scaling page's widgets: the sidebar (dataset, scaling, rate, the puzzle's buttons), the player
(the browser steps through the run: ``gdviz.ui.player``), the slice's pair of params, the read-outs, and the
page's link keys and downloads.

Its data, problems and runs (every feature of a dataset) come from ``gdviz.ui.cache``. The dataset, scaling
and learning rate live in the shared RunConfig (``gdviz.ui.state``), so moving between pages keeps them.
Session keys (plain data): the widget keys ``{prefix}_dataset``, ``{prefix}_scaling``,
``{prefix}_learning_rate``, ``{prefix}_pair_x_{dataset}``, ``{prefix}_pair_y_{dataset}``, ``{prefix}_hold``;
``{prefix}_error`` (a notice to show), ``{prefix}_opened`` (the first visit happened; True when it switched to
raw diabetes) and the player's (``{prefix}_cursor``: the step the server knows). A run is stored thinned
(``gdviz.thinning``): the player holds stored steps only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from gdviz import analysis, data, engine, playback, playground, query, scaling, scaling_player
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError
from gdviz.explain import fmt
from gdviz.plots._spec import REGIME_LABELS
from gdviz.ui import cache, downloads, player, share, state, widgets
from gdviz.ui.messages import for_people

PAGE = "scaling"
PUZZLE_DATASET = "california_housing"
PUZZLE_RATES = (1e-6, 1e-7)
FIELDS = ("dataset", "scaling", "learning_rate")
# Where the page opens when the session still has the default data: the synthetic line has one feature, so
# scaling has nothing to show there; raw diabetes has ten features whose scales differ.
OPENING_DATASET = "diabetes"


def dataset_title(config: RunConfig, ds: data.Dataset) -> str:
    """How the page names the data: an uploaded file by its own name, a bundled dataset in words."""
    return ds.name if config.dataset == data.UPLOAD else ds.name.replace("_", " ").capitalize()


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
    old = state.get_config()
    if "dataset" in changes:
        changes.update(state.dataset_changes(changes["dataset"]))  # the upload's content id goes with "upload"
    if changes.get("dataset", old.dataset) != old.dataset:
        changes["feature"] = 0  # the Playground's one feature: column 0 of the new dataset
    try:
        new = old.replace(**changes)
        cache.all_features_problem(new.dataset, new.scaling)  # loads the data: California offline fails here
    except InputError as err:
        st.session_state[_k(prefix, "error")] = for_people(err)
        _sync(prefix, old)
        return False
    st.session_state.pop(_k(prefix, "error"), None)
    state.set_config(new)
    _sync(prefix, new)
    return True


def _on_field(prefix: str, field: str) -> None:
    value = st.session_state[_k(prefix, field)]
    if value is None:  # a cleared number box keeps what it had
        _sync(prefix, state.get_config())
        return
    _apply(prefix, **{field: value})


def _times(prefix: str, factor: float) -> None:
    _apply(prefix, learning_rate=float(f"{state.get_config().learning_rate * factor:.6g}"))


def try_puzzle(prefix: str, rate: float) -> None:
    """Button callback: raw California housing at ``rate`` (the published puzzle)."""
    _apply(prefix, dataset=PUZZLE_DATASET, scaling="none", learning_rate=rate)


def puzzle_unavailable() -> str:
    """Why the puzzle's data (California housing) cannot be loaded here, or "" when it can."""
    try:
        cache.dataset_named(PUZZLE_DATASET)
    except InputError as err:
        return for_people(err)
    return ""


def opens_on(prefix: str) -> str:
    """The dataset this page shows once open: raw diabetes on the session's first visit when the shared data
    is still the default synthetic line and no link names a dataset, else the shared config's."""
    config = state.get_config()
    first = _k(prefix, "opened") not in st.session_state
    default_data = cache.data_key(config) == cache.data_key(RunConfig())
    return OPENING_DATASET if first and default_data and "dataset" not in st.query_params else config.dataset


def open_on_data_that_scales(prefix: str) -> str:
    """On the session's first visit, open on raw diabetes when the shared data is still the default synthetic
    line (one feature) and no link names a dataset; returns the note that says so ("" when nothing changed).

    Data the user brought (an upload, another dataset, their own synthetic settings or a link's dataset) is
    kept; so is whatever they pick afterwards, the synthetic line included.
    """
    seen = _k(prefix, "opened")
    if seen not in st.session_state:
        st.session_state[seen] = opens_on(prefix) == OPENING_DATASET and _apply(prefix, dataset=OPENING_DATASET)
    if not st.session_state[seen] or state.get_config().dataset != OPENING_DATASET:
        return ""
    return (
        "Opened on raw diabetes (ten features, standard deviations from 0.5 to 35): the default synthetic line has one "
        "feature, so scaling has nothing to show there. The other pages now use diabetes too; pick the synthetic "
        "line under Dataset to go back."
    )


def bind(prefix: str) -> None:
    """Seed the widget keys from the shared config where they are missing (left the page and came back)."""
    config = state.get_config()
    for field in FIELDS:
        st.session_state.setdefault(_k(prefix, field), getattr(config, field))


def sidebar(prefix: str) -> RunConfig:
    """Dataset, scaling, learning rate and the puzzle buttons, in the sidebar; returns the shared config.

    A dataset that cannot be loaded (California housing offline) is reported as a notice and nothing
    else changes; should the shared config name one anyway, the page falls back to the synthetic line.
    """
    p = prefix
    config = state.get_config()
    try:
        cache.all_features_problem(config.dataset, config.scaling)
    except InputError as err:
        st.error(f"{err} Showing raw diabetes instead.")
        fallback = config.replace(dataset=OPENING_DATASET, upload="", feature=0, scaling="none")
        _sync(p, state.set_config(fallback))
    if note := open_on_data_that_scales(p):
        st.info(note, icon=":material/info:")
    bind(p)
    unavailable = puzzle_unavailable()
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
                    disabled=bool(unavailable),
                    help=f"Unavailable here: {unavailable}"
                    if unavailable
                    else f"Load raw (unscaled) California housing and run plain GD at learning rate {rate:g}.",
                )
        if unavailable:
            st.caption("Both buttons are off: California housing cannot be loaded here (see section 5).")
        st.subheader("Data and rate")
        widgets.select(p, "dataset", "Dataset", state.dataset_labels(), on_change=_on_field, help=(
            "Every feature of the dataset is used (the Playground fits one). The synthetic line is the "
            "default line with its one feature."
        ))  # fmt: skip
        widgets.select(p, "scaling", "Feature scaling", widgets.SCALING_CHOICES, on_change=_on_field, help=(
            "How the features are rescaled before the run (scikit-learn's scalers). Standard: minus the mean, over the "
            "standard deviation (sd); min-max: onto [0, 1]; robust: minus the median, over the interquartile range "
            "(IQR). Section 3 compares all four."
        ))  # fmt: skip
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
        rate = state.get_config().learning_rate
        with st.container(horizontal=True, gap="small"):
            st.button("Rate ÷ 10", key=_k(p, "div10"), on_click=_times, args=(p, 0.1), help="Divide the rate by 10.",
                      disabled=rate * 0.1 < RATE_MIN)  # fmt: skip
            st.button("Rate × 10", key=_k(p, "mul10"), on_click=_times, args=(p, 10.0), help="Multiply the rate by 10.",
                      disabled=rate * 10 >= RATE_MAX)  # fmt: skip
        if err := st.session_state.get(_k(p, "error")):
            st.error(err)
    return state.get_config()


def _run_id(config: RunConfig) -> tuple:
    """The run the player steps through; an upload's id ("" otherwise) tells uploads apart."""
    return (config.dataset + config.upload, config.scaling, config.learning_rate, config.tol, config.max_steps)


def _payload(config: RunConfig, i: int, j: int, hold: str, held_step: int) -> str:
    problem = cache.all_features_problem(config.dataset, config.scaling)
    p = scaling_player.player(problem, cache.all_features_run(config), i, j, hold=hold, held_step=held_step)
    return playground.player_json(p, run=f"{_run_id(config)}/{i}/{j}/{hold}/{held_step}")


@st.cache_resource(max_entries=16, show_spinner="Preparing the run for the browser...")  # read-only text
def _cached_payload(config: RunConfig, i: int, j: int, hold: str, held_step: int) -> str:
    return _payload(config, i, j, hold, held_step)


def step_player(prefix: str, config: RunConfig, traj: Trajectory, i: int, j: int, hold: str) -> int:
    """The player of the run (``gdviz.ui.player``): the gradient charts and the cost slice over params i and j
    follow its step in the browser. Returns the step the server knows (after the browser's pause sync).

    A new run (new data, scaling or rate) opens at ``scaling.opening_step``: its last step, or for a diverged
    run the last one before its loss grew a millionfold. A new pair keeps the step. With the others held at
    the current step's params, the slice is drawn at the step the server knows and redrawn after each pause.
    """
    rows = playback.player_rows(traj)
    step = player.open_at(prefix, repr(_run_id(config)), opening=scaling.opening_step(traj))
    step = playback.clamp_step(rows, step)
    st.session_state[player.cursor_key(prefix)] = step
    held = step if hold == "current" else 0
    if config.dataset == data.UPLOAD:
        payload = cache.upload_memo(("scaling_player", config, i, j, hold, held),
                                    lambda: _payload(config, i, j, hold, held))  # fmt: skip
    else:
        payload = _cached_payload(config, i, j, hold, held)
    player.player(prefix, payload, run=f"{_run_id(config)}/{i}/{j}/{hold}/{held}", step=step)
    return step


@st.fragment
def stepping(
    config: RunConfig,
    problem: Problem,
    traj: Trajectory,
    pair: tuple[int, int, str],
    spread: scaling.FeatureSpread,
    comparison: list[scaling.ScalingRow],
) -> None:
    """The player and everything that reads its step on the server: the slice held at the step's params
    (rebuilt at each synced step), the Download menu (the page's charts at that step) and the link.

    A fragment: the step the browser syncs after a pause reruns only this, not the tables, the puzzle or the
    sidebar. ``pair`` is ``pair_controls``' (i, j, hold); ``spread`` and ``comparison`` are sections 1 and 3's
    data, for their charts in the Download menu.
    """
    i, j, hold = pair
    step = step_player(PAGE, config, traj, i, j, hold)
    head = playback.head(traj, step)  # the downloads save the charts at the step the server knows
    figs = scaling_player.figures(
        problem, head, i, j, hold=hold, spread=spread, comparison=comparison, rate=config.learning_rate
    )
    download_menu(PAGE, config, traj, problem.param_names, {f"{PAGE}_{k}": v for k, v in figs.items()})
    share.save(PAGE)


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
    widgets.table(
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
        ).set_index("scaling"),
        key=_k(PAGE, "comparison"),
        phone_hide=("lambda_min", "lambda_max"),  # the condition number and 2/lambda_max say what matters here
    )
    st.markdown(scaling.comparison_sentence(rows, rate))


def puzzle_panel(prefix: str, config: RunConfig) -> None:
    """The puzzle on raw California housing, both rates side by side, explained from the spectrum."""
    try:
        raw = cache.all_features_problem(PUZZLE_DATASET, "none")
    except InputError as err:  # a note, not an error: nothing the user did is wrong, and the page works
        st.info(
            f"The puzzle runs on California housing, which cannot be loaded here, so this section is empty and the "
            f"sidebar's Try buttons are off. Everything else on the page works on your data. {for_people(err)}",
            icon=":material/cloud_off:",
        )
        return
    puzzle_config = config.replace(dataset=PUZZLE_DATASET, scaling="none")
    for col, rate in zip(st.columns(len(PUZZLE_RATES)), PUZZLE_RATES, strict=True):
        traj = cache.all_features_run(puzzle_config, rate)
        with col:
            st.markdown(f"**Rate {rate:g}**: {traj.status.value.replace('_', ' ')} at step {int(traj.step[-1]):,}.")
            for paragraph in scaling.rate_explanation(raw, rate, traj):
                st.markdown(paragraph)


# ---------------------------------------------------------------------------------------------
# The page's link keys: the surface's pair of params, where the others are held, the step
# ---------------------------------------------------------------------------------------------


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    config = state.get_config()
    if "pair" in q:
        dataset = opens_on(PAGE)  # a first visit's link without a dataset opens on raw diabetes
        try:
            n_params = cache.all_features_problem(dataset, config.scaling).n_params
        except InputError:
            n_params = 0
        i, _, j = q["pair"].partition(",")
        ok = re.fullmatch(r"\d{1,4}", i) and re.fullmatch(r"\d{1,4}", j) and int(i) != int(j)
        if ok and max(int(i), int(j)) < n_params:
            st.session_state[_k(PAGE, f"pair_x_{dataset}")] = int(i)
            st.session_state[_k(PAGE, f"pair_y_{dataset}")] = int(j)
        else:
            notices.append(
                f"Ignored the surface's pair of params (pair) in the link: it must be two different numbers "
                f"from 0 to {max(n_params - 1, 0)}, like 0,1."
            )
    if "hold" in q:
        if q["hold"] in scaling.HOLD_MODES:
            st.session_state[_k(PAGE, "hold")] = q["hold"]
        else:
            notices.append(
                f"Ignored where the other params are held (hold): it must be {' or '.join(scaling.HOLD_MODES)}."
            )
    if "step" in q and (step := query.read_step(q["step"], config.max_steps, notices)) is not None:
        player.go_to(PAGE, step)  # the player opens there (snapped to a stored step), not at the opening step


def _write_link() -> dict[str, str]:
    config, q = state.get_config(), {}
    if config.dataset == "synthetic_line":  # the default data, named: without it this page opens on diabetes
        q["dataset"] = config.dataset
    kx, ky = _k(PAGE, f"pair_x_{config.dataset}"), _k(PAGE, f"pair_y_{config.dataset}")
    if kx in st.session_state and ky in st.session_state:
        q["pair"] = f"{int(st.session_state[kx])},{int(st.session_state[ky])}"
    if (hold := st.session_state.get(_k(PAGE, "hold"))) not in (None, next(iter(scaling.HOLD_MODES))):
        q["hold"] = hold
    if player.cursor_key(PAGE) in st.session_state:
        q["step"] = str(player.cursor(PAGE))
    return q


share.register(PAGE, keys=("pair", "hold", "step"), read=_read_link, write=_write_link, bound=FIELDS)


# ---------------------------------------------------------------------------------------------
# The page's downloads
# ---------------------------------------------------------------------------------------------

# Names of the charts whose own title is missing or counts steps (chart key without the page prefix).
CHART_NAMES = {
    "surface": "Loss surface (3D)",
    "contour": "Path on the loss contours",
    "loss": "Loss over the steps",
    "grad_start": "Gradient per weight at step 0",
    "grad_step": "Gradient per weight at the chosen step",
    "grad_history": "Gradient per weight over the steps",
}


def download_menu(prefix: str, config: RunConfig, traj: Trajectory, names: Sequence[str], charts: Mapping) -> None:
    """The all-features run (plain GD), the page's charts, its script."""
    downloads.run_menu(
        prefix, config, traj, names, page="scaling", title="Feature scaling", optimizer="gd", all_features=True,
        csv_label=f"The run on every feature, steps 0-{int(traj.step[-1]):,} (CSV)", figures=charts, labels=CHART_NAMES,
    )  # fmt: skip
