"""The Playground's run and player (the browser steps through the whole run: ``gdviz.ui.player``), its regime
banner and theory panel (metrics and sentences, no maths of their own), its link key (the step) and its
downloads."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import pandas as pd
import streamlit as st

from gdviz import analysis, data, explain, playback, playground, query, regimes
from gdviz.analysis import Regime
from gdviz.config import RunConfig
from gdviz.engine import Problem, Status, Trajectory
from gdviz.errors import InputError
from gdviz.plots._spec import REGIME_LABELS
from gdviz.runs import init_params
from gdviz.ui import cache, downloads, player, share, state, widgets

PAGE = "playground"
# How a regime is announced: Streamlit's alert boxes come in these tones (text always names the regime).
_ALERT = {Regime.SLOW: st.info, Regime.GOOD: st.success, Regime.OSCILLATING: st.warning, Regime.DIVERGENT: st.warning}


def stalled(head: Trajectory, optimum_loss: float) -> bool:
    """True when the run stopped by the tol rule far from the minimum: its loss is still more than 1% of the
    way from the least-squares floor back to where it started (the steps got too small, e.g. rate 1e-9)."""
    return head.status is Status.CONVERGED and playground.final_status(head, optimum_loss) == "stalled"


class Run(NamedTuple):
    """The run the Playground shows, once per setting.

    Attributes:
        traj: the whole run (``cache.trajectory_for``).
        rows: the stored steps the browser holds (``gdviz.playback.player_rows``).
        payload: the player's JSON (``gdviz.playground.player_json``).
        name: the run's name (the browser keeps its step while it stays the same).
    """

    traj: Trajectory
    rows: Trajectory
    payload: str
    name: str


def _build(config: RunConfig) -> Run:
    traj = cache.trajectory_for(config)
    p = playground.player(config, cache.problem_for(config), cache.dataset_for(config), traj)
    name = hashlib.sha1(repr(config).encode()).hexdigest()[:16]
    return Run(traj, p.rows, playground.player_json(p, run=name), name)


# As many entries as the run cache (``cache._trajectory``): a class trying the slider's rates (41 of its grid lie
# between 0.001 and 0.1) finds each one computed; with 32, bench/load_sessions.py (38 rates) rebuilt a run
# about every fifth setting change.
# An entry is the payload (under 2 MB) and the player's rows (under 0.3 MB, or the run itself): the run is the
# run cache's read-only object, not a copy.
@st.cache_resource(max_entries=64, show_spinner="Running gradient descent...", hash_funcs=cache.CONFIG_HASH)
def _cached_run(config: RunConfig) -> Run:  # read-only: no copy per rerun
    return _build(config)


def run_for(config: RunConfig) -> Run:
    """The run of ``config`` and its player payload (cached per config; an upload's memoised in this session)."""
    if config.dataset == data.UPLOAD:
        return cache.upload_memo(("playground_run", config), lambda: _build(config))
    return _cached_run(config)


def show(run: Run, problem: Problem) -> tuple[Trajectory, int]:
    """The player of ``run`` at the step the server knows (snapped to a step the browser holds; a link's step
    past the end opens at the last one); returns (the run up to that step, the step)."""
    asked = player.open_at(PAGE, run.name)
    step = playback.clamp_step(run.rows, asked)
    how = playground.final_status(run.traj, problem.optimum_loss)
    player.note_past_end(asked, int(run.rows.step[-1]), how, state.get_config().max_steps)
    st.session_state[player.cursor_key(PAGE)] = step
    if (notice := st.session_state.pop(f"{PAGE}_start_notice", None)) is not None:
        st.warning(notice)
    player.player(PAGE, run.payload, run=run.name, step=step, on_click=_on_start_click)
    return playback.head(run.traj, step), step


@st.fragment
def stepping(config: RunConfig, problem: Problem, ds: data.Dataset, run: Run) -> None:
    """The player and everything that reads its step: the link, the regime banner and the downloads.

    A fragment: the step the browser syncs after a pause reruns only this, not the sidebar or the theory.
    A click on the contours changes the config (a new start): then the whole page runs again.
    """
    if state.get_config() != config:
        st.rerun()  # scope "app": the sidebar, the theory and the run follow the new config
    head, step = show(run, problem)
    share.save(PAGE)
    with st.container(key=f"{PAGE}_regime"):
        regime_banner(config, problem, run.traj)
    names = playground.param_names(config, ds)

    def chart(name: str) -> dict:  # built only when its file is downloaded: the player draws the page's charts
        return playground.figures(config, problem, ds, head, step, run=run.traj)[name]

    charts = {f"{PAGE}_{name}": functools.partial(chart, name) for name in CHART_NAMES}
    download_menu(PAGE, config, head, names, charts)


def _on_start_click() -> None:
    """A click on the contours: the run starts again from the point clicked (4 significant figures)."""
    point = player.state_value(PAGE, "start")
    if not isinstance(point, list | tuple) or len(point) != 2:
        return
    intercept, slope = (float(f"{float(v):.4g}") for v in point)
    try:
        state.set_config(state.get_config().replace(init_intercept=intercept, init_slope=slope))
    except InputError as err:
        st.session_state[f"{PAGE}_start_notice"] = f"That point cannot be a start: {err}"
        return
    for field in ("init_intercept", "init_slope"):  # the start boxes show the new start
        st.session_state.pop(f"{PAGE}_{field}", None)


def regime_banner(config: RunConfig, problem: Problem, head: Trajectory) -> Regime | None:
    """Predicted vs observed regime, in one coloured, labelled sentence; the divergence story when it blew up."""
    predicted = analysis.predict_regime(problem, config.learning_rate) if config.is_constant_gd else None
    if head.n_states < 3 and head.status is Status.RUNNING:  # fewer than two updates: nothing to read yet
        text = "**Observed regime: step twice to see it.**"
        if predicted is not None:
            text += f" Predicted from the Hessian: **{REGIME_LABELS[predicted]}**. "
            text += explain.regime_sentence(predicted, config.learning_rate, problem)
        st.info(text)
        return predicted
    if predicted is not None and not config.is_full_batch:
        text_batch = (
            f" That prediction is for full batch; this run's updates use {config.batch_size:,} rows each, so its "
            "path is noisy and its loss levels off above the floor."
        )
    else:
        text_batch = ""
    observed = analysis.observed_regime(problem, head)
    where = "so far" if head.status is Status.RUNNING else "over the whole run"
    text = f"**Observed regime ({where}): {REGIME_LABELS[observed]}.**"
    if predicted is not None:
        text += f" Predicted from the Hessian: **{REGIME_LABELS[predicted]}**. "
        text += explain.regime_sentence(predicted, config.learning_rate, problem) + text_batch
    else:
        text += " (The Hessian predicts regimes for plain GD at a constant rate only.)"
    _ALERT[observed](text)
    gap = head.loss[-1] - problem.optimum_loss
    if stalled(head, problem.optimum_loss):
        st.info(
            f"Converged by the stop rule (the last update moved less than tol = {config.tol:g}), not at the "
            f"minimum: the loss is still {gap:.3g} above the least-squares floor {problem.optimum_loss:.4g}. "
            "The steps got too small before the run got there: raise the rate, or lower tol."
        )
    if observed is Regime.DIVERGENT:
        st.warning(
            explain.divergence_explanation(problem, head, config.learning_rate, constant_gd=config.is_constant_gd)
        )
    return observed


def theory(config: RunConfig, problem: Problem, traj: Trajectory) -> None:
    """The regime panel: spectrum, thresholds and how the rate compares, per-direction factors, steps; what a
    mini-batch changes, and momentum against plain GD (``traj`` is the whole run, for its measured steps)."""
    s = analysis.spectrum(problem)
    lr = config.learning_rate
    c1, c2, c3 = st.columns(3)
    c1.metric("lambda_min", f"{s.lambda_min:.4g}", help="Smallest eigenvalue of the Hessian (2/n) X1^T X1.")
    c2.metric("lambda_max", f"{s.lambda_max:.4g}", help="Largest eigenvalue: the stiffest direction of the bowl.")
    c3.metric(
        "Condition number", f"{s.condition_number:.4g}", help="lambda_max / lambda_min: how elongated the valley is."
    )
    rows = explain.rate_comparisons(problem, lr)
    # st.table, not st.dataframe: a plain table of a few rows, and no data-grid bundle to load on first paint.
    # Built with its index (set_index on Arrow-backed strings cost more than the rest of the panel).
    st.table(
        pd.DataFrame(
            {
                "rate": [f"{r.threshold:.4g}" for r in rows],
                "your rate / threshold": [f"{r.ratio:.3g}x" for r in rows],
            },
            index=pd.Index([f"{r.name} {r.formula}" for r in rows], name="threshold"),
        )
    )
    for r in rows:
        st.markdown(f"- {r.sentence}")
    dirs = explain.direction_factors(problem, lr)
    st.markdown("**Per direction, for plain GD at this rate** (eigen-directions of the Hessian):")
    st.table(
        pd.DataFrame(
            {
                "|1 - rate x lambda|": [f"{d.factor:.4g}" for d in dirs],
                "what each step does to the error": [d.effect for d in dirs],
            },
            index=pd.Index([f"{d.eigenvalue:.4g}" for d in dirs], name="lambda"),
        )
    )
    st.caption(
        "In the eigen-directions chart above the error along each direction shrinks by its own factor per step: "
        "a stiff direction (large lambda) by |1 - rate x lambda|, often far below 1, so it is gone in a few steps; "
        "a flat one (small lambda) by a factor near 1, so it crawls and sets the number of steps. A line that "
        "levels off some 15 powers of ten below the params' size has reached float64's round-off."
    )
    if config.is_closed_form:
        steps = analysis.predicted_steps(problem, lr, tol=config.tol, init_params=init_params(config, problem))
        c1, c2 = st.columns(2)
        c1.metric(
            "Predicted steps to converge",
            explain.steps_text(steps),
            help="From the closed form w_t = w* + (I - rate H)^t (w_0 - w*). 'never': the updates never get "
            "shorter than tol (a divergent rate, or tol = 0).",
        )
        c2.metric("Measured", regimes.outcome(traj), help="Where this run met the stop rule (or why it did not).")
    elif config.is_constant_gd:
        st.caption("Predicted steps come from the closed form of full-batch GD: set the batch size to 0 to see them.")
    else:
        st.caption("Predicted steps come from the closed form of plain GD at a constant rate; pick those to see them.")
    if text := playground.batch_text(config, problem, traj):
        st.markdown(text)
    if config.optimizer in ("momentum", "nesterov"):
        st.markdown(
            "**Momentum against plain GD on this data** (per-step factor of the error at each method's best "
            "settings: (kappa - 1)/(kappa + 1) for GD, (sqrt(kappa) - 1)/(sqrt(kappa) + 1) for heavy ball):"
        )
        rows = playground.momentum_rows(config, problem, regimes.outcome(traj))
        st.table(
            pd.DataFrame(
                {
                    "method": [r.method for r in rows],
                    "factor per step": [r.factor for r in rows],
                    "predicted steps": [r.predicted_steps for r in rows],
                    "measured steps": [r.measured_steps for r in rows],
                }
            ).set_index("method")
        )
        if config.optimizer == "nesterov" or config.schedule != "constant" or not config.is_full_batch:
            st.caption("Predicted steps for this run: heavy ball (momentum) at a constant rate on full batch only.")


# ---------------------------------------------------------------------------------------------
# The page's link key: the step
# ---------------------------------------------------------------------------------------------


def current_step() -> int:
    """The Playground's current step as the server knows it (0 before its first visit); the math page opens
    there."""
    return player.cursor(PAGE)


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q and (step := query.read_step(q["step"], state.get_config().max_steps, notices)) is not None:
        player.go_to(PAGE, step)


def _write_link() -> dict[str, str]:
    step = current_step()
    return {"step": str(step)} if step else {}


share.register(PAGE, keys=("step",), read=_read_link, write=_write_link, bound=widgets.BOUND_FIELDS)


# ---------------------------------------------------------------------------------------------
# The page's downloads
# ---------------------------------------------------------------------------------------------

# Names of the charts whose own title is missing or counts steps (chart key without the page prefix).
CHART_NAMES = {
    "surface": "Loss surface (3D)",
    "contour": "Path on the loss contours",
    "line": "Fitted line over the data",
    "loss": "Loss over the steps",
    "grads": "Gradient magnitude over the steps",
    "bars": "Gradient per parameter",
    "eigen": "Error along each eigen-direction",
}


def download_menu(prefix: str, config: RunConfig, head: Trajectory, names: Sequence[str], charts: Mapping) -> None:
    """The run up to the current step, its charts, the script of the whole run."""
    downloads.run_menu(
        prefix, config, head, names, page="playground", title="Playground", optimizer=config.optimizer,
        csv_label=f"The run so far, steps 0-{int(head.step[-1]):,} (CSV)", figures=charts, labels=CHART_NAMES,
    )  # fmt: skip
