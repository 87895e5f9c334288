"""The Playground's read-out and theory panels (metrics and sentences, no figures, no maths of their own),
its link key (the step) and its downloads. Its stepping controls are ``gdviz.ui.player``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from gdviz import analysis, explain, query
from gdviz.analysis import Regime
from gdviz.config import RunConfig
from gdviz.engine import Problem, Status, Trajectory
from gdviz.explain import fmt
from gdviz.plots._spec import REGIME_LABELS
from gdviz.runs import init_params
from gdviz.ui import downloads, player, share, state, widgets

PAGE = "playground"
# How a regime is announced: Streamlit's alert boxes come in these tones (text always names the regime).
_ALERT = {Regime.SLOW: st.info, Regime.GOOD: st.success, Regime.OSCILLATING: st.warning, Regime.DIVERGENT: st.warning}


# On a phone (narrow screen) the read-out's nine metrics, one or two a row at full size, pushed the first chart
# about 1,100 px down. There they become a compact grid of three a row, the stepping buttons and the regime
# banner get smaller, so the first chart starts on the first screen (390 x 844: at about 800 px).
PHONE_CSS = """<style>
@media (max-width: 640px) {{
  .st-key-{prefix}_readout {{
    display: grid !important; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.1rem 0.6rem !important;
  }}
  .st-key-{prefix}_readout [data-testid="stMetricValue"],
  .st-key-{prefix}_readout [data-testid="stMetricValue"] > div {{
    font-size: 1.05rem !important; line-height: 1.3 !important; overflow-wrap: anywhere; white-space: normal;
  }}
  .st-key-{prefix}_readout [data-testid="stMetricLabel"] p {{ font-size: 0.75rem !important; }}
  .st-key-{prefix}_buttons {{ gap: 0.35rem !important; }}
  .st-key-{prefix}_buttons button {{ min-height: 2rem; padding: 0.15rem 0.55rem; }}
  .st-key-{prefix}_speed {{ width: 112px !important; flex: 0 0 112px !important; }}
  .st-key-{prefix}_goto {{ width: 132px !important; flex: 0 0 132px !important; }}
  .st-key-{prefix}_goto button {{ display: none; }}  /* room for "Go to step..."; the keypad types it */
  .st-key-{prefix}_regime [data-testid="stAlert"] p {{ font-size: 0.85rem; line-height: 1.4; }}
}}
</style>"""


def stalled(head: Trajectory, optimum_loss: float) -> bool:
    """True when the run stopped by the tol rule far from the minimum: its loss is still more than 1% of the
    way from the least-squares floor back to where it started (the steps got too small, e.g. rate 1e-9)."""
    if head.status is not Status.CONVERGED:
        return False
    return bool(head.loss[-1] - optimum_loss > 0.01 * (head.loss[0] - optimum_loss))


def readout(prefix: str, names: tuple[str, ...], head: Trajectory, *, optimum_loss: float | None = None) -> None:
    """The current state: step, loss, params (one name each), gradient, update norm, rate used and status.

    On a phone it is a compact grid of three metrics a row (PHONE_CSS), so the first chart starts on the first
    screen.

    Args:
        optimum_loss: the least-squares floor J*; when given, a run stopped by tol far above it says
            "stalled", not "converged".
    """
    s = head.last_state
    st.html(PHONE_CSS.format(prefix=prefix))
    with st.container(horizontal=True, key=f"{prefix}_readout"):
        st.metric("Step", f"{s.step:,}", help="Updates applied so far (step 0 is the start point).")
        st.metric("Loss", fmt(s.loss, 6), help="Mean squared error at this step.")
        for name, value in zip(names, s.params, strict=True):
            st.metric(name.capitalize(), fmt(value, 6), help=f"The {name} at this step (in the units the run fits).")
        for name, value in zip(names, s.grads, strict=True):
            st.metric(f"dJ/d {name}", fmt(value, 6), help=f"The gradient of the loss with respect to the {name}.")
        st.metric(
            "Update norm",
            fmt(s.update_norm, 6) if s.step else "-",
            help="Length of the last update; the run stops once it is < tol.",
        )
        st.metric(
            "Rate used",
            fmt(s.learning_rate, 6) if s.step else "-",
            help="The learning rate of the last update (after the schedule).",
        )
        status = s.status.value.replace("_", " ")
        if optimum_loss is not None and stalled(head, optimum_loss):
            status = "stalled"
        st.metric(
            "Status",
            status,
            help="running, converged, diverged or max steps; 'stalled' when the steps fell below tol far from "
            "the minimum (the stop rule fired, the loss is still well above the least-squares floor).",
        )


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
    observed = analysis.observed_regime(problem, head)
    where = "so far" if head.status is Status.RUNNING else "over the whole run"
    text = f"**Observed regime ({where}): {REGIME_LABELS[observed]}.**"
    if predicted is not None:
        text += f" Predicted from the Hessian: **{REGIME_LABELS[predicted]}**. "
        text += explain.regime_sentence(predicted, config.learning_rate, problem)
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


def theory(config: RunConfig, problem: Problem) -> None:
    """The regime panel: spectrum, thresholds and how the rate compares, per-direction factors, steps."""
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
    st.table(
        pd.DataFrame(
            {
                "threshold": [f"{r.name} {r.formula}" for r in rows],
                "rate": [f"{r.threshold:.4g}" for r in rows],
                "your rate / threshold": [f"{r.ratio:.3g}x" for r in rows],
            }
        ).set_index("threshold")
    )
    for r in rows:
        st.markdown(f"- {r.sentence}")
    dirs = explain.direction_factors(problem, lr)
    st.markdown("**Per direction, for plain GD at this rate** (eigen-directions of the Hessian):")
    st.table(
        pd.DataFrame(
            {
                "lambda": [f"{d.eigenvalue:.4g}" for d in dirs],
                "|1 - rate x lambda|": [f"{d.factor:.4g}" for d in dirs],
                "what each step does to the error": [d.effect for d in dirs],
            }
        ).set_index("lambda")
    )
    if config.is_constant_gd:
        steps = analysis.predicted_steps(problem, lr, tol=config.tol, init_params=init_params(config, problem))
        text = explain.steps_text(steps)
        st.metric(
            "Predicted steps to converge",
            text,
            help="From the closed form w_t = w* + (I - rate H)^t (w_0 - w*). 'never': the updates never get "
            "shorter than tol (a divergent rate, or tol = 0).",
        )
    else:
        st.caption("Predicted steps come from the closed form of plain GD at a constant rate; pick those to see them.")


# ---------------------------------------------------------------------------------------------
# The page's link key: the step
# ---------------------------------------------------------------------------------------------


def current_step() -> int:
    """The Playground's current step (0 before its first visit); the math page opens there."""
    return int(st.session_state.get(player.cursor_key(PAGE), 0) or 0)


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q and (step := query.read_int("step", q["step"], "step", notices)) is not None:
        limit = state.get_config().max_steps
        if step > limit:
            notices.append(
                f"The step (step) in the link, {step:,}, is past the max steps ({limit:,}): showing the last step "
                "this run reaches."
            )
        player.go_to(PAGE, min(step, limit))


def _write_link() -> dict[str, str]:
    step = current_step()
    return {"step": str(step)} if step else {}


share.register(PAGE, keys=("step",), read=_read_link, write=_write_link, bound=widgets.BOUND_FIELDS,
               paused=lambda: bool(st.session_state.get(player.playing_key(PAGE))))  # fmt: skip


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
}


def download_menu(prefix: str, config: RunConfig, head: Trajectory, names: Sequence[str], charts: Mapping) -> None:
    """The run up to the current step, its charts, the script of the whole run."""
    downloads.run_menu(
        prefix, config, head, names, page="playground", title="Playground", optimizer=config.optimizer,
        csv_label=f"The run so far, steps 0-{int(head.step[-1]):,} (CSV)", figures=charts, labels=CHART_NAMES,
    )  # fmt: skip
