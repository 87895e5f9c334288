"""The learning-rate sweep page's Streamlit layer: its controls, the sweep with a progress bar, and opening
a swept rate in the Playground.

Session keys (plain data only): ``sweep_run`` the last SweepRun; widget keys ``sweep_*`` are seeded from it, so
the controls come back as they were when the user returns to the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import streamlit as st

from gdviz import analysis, export, plots, query, runs, sweep
from gdviz.config import RunConfig
from gdviz.errors import InputError
from gdviz.explain import plural
from gdviz.plots._spec import REGIME_LABELS
from gdviz.sweep import SweepSettings, SweepTable
from gdviz.ui import cache, downloads, share, state, widgets
from gdviz.ui.messages import FIELD_LABELS, for_people

PAGE = "sweep"
RUN_KEY = f"{PAGE}_run"
PLAYGROUND = "pages/playground.py"
MODES = {True: "multiples of 2/lambda_max", False: "absolute rates"}


class SweepRun(NamedTuple):
    """One finished sweep: the run settings it used (data, start, tol), its own settings, its table, its id."""

    config: RunConfig
    settings: SweepSettings
    table: SweepTable
    run_id: int


def sweep_key(config: RunConfig) -> RunConfig:
    """What a sweep depends on besides its own settings: the data, the start point and tol."""
    return cache.data_key(config).replace(
        init_intercept=config.init_intercept, init_slope=config.init_slope, tol=config.tol
    )


def _k(name: str) -> str:
    return f"{PAGE}_{name}"


def _seed() -> None:
    last = st.session_state.get(RUN_KEY)
    cap = min(state.get_config().max_steps, sweep.DEFAULT_SWEEP_STEPS)
    settings = last.settings if last else SweepSettings(max_steps=cap)
    seeds = {"relative": settings.relative, "low": settings.low, "high": settings.high,
             "n_rates": settings.n_rates, "max_steps": settings.max_steps}  # fmt: skip
    for name, value in seeds.items():
        st.session_state.setdefault(_k(name), value)


def _on_mode() -> None:
    """Keep the same rates when the range switches between multiples of 2/lambda_max and absolute rates."""
    scale = 2.0 / _lambda_max()
    factor = 1.0 / scale if st.session_state[_k("relative")] else scale
    for name in ("low", "high"):
        value = float(f"{st.session_state[_k(name)] * factor:.4g}")
        st.session_state[_k(name)] = min(max(value, sweep.RATE_MIN), sweep.RATE_MAX)  # the boxes' own bounds


def _lambda_max() -> float:
    return analysis.spectrum(cache.problem_for(state.get_config())).lambda_max


def data_sidebar() -> None:
    """The data the sweep runs on (shared with the Playground): dataset, feature and scaling."""
    widgets.bind(PAGE, ("dataset", "feature", "scaling"))
    config = state.get_config()
    with st.sidebar:
        if err := st.session_state.get(_k("error")):
            st.error(err)
        st.subheader("Data (shared with the Playground)")
        widgets.data_controls(PAGE, synthetic_settings=False)  # the synthetic line's settings: in the Playground
        st.caption(
            f"Start point ({config.init_intercept:g}, {config.init_slope:g}) and tol = {config.tol:g} come from "
            "the Playground's settings. The sweep always runs plain gradient descent at constant rates."
        )


def settings_form() -> tuple[SweepSettings | None, bool]:
    """The sweep's own controls; returns (valid settings or None with the error shown, Run clicked)."""
    _seed()
    c1, c2, c3, c4, c5 = st.columns([1.4, 1, 1, 1, 1])
    c1.radio("Rate range in", list(MODES), format_func=MODES.get, key=_k("relative"), on_change=_on_mode,
             help="Multiples of 2/lambda_max (the divergence threshold of this data) follow the data; "
                  "absolute rates stay put when the data changes.")  # fmt: skip
    unit = " (x 2/lambda_max)" if st.session_state[_k("relative")] else ""
    bounds = {"min_value": sweep.RATE_MIN, "max_value": sweep.RATE_MAX}
    c2.number_input(f"Lowest rate{unit}", key=_k("low"), format="%.4g", **bounds,
                    help="The smallest rate swept. Rates are spaced evenly on a log scale.")  # fmt: skip
    c3.number_input(f"Highest rate{unit}", key=_k("high"), format="%.4g", **bounds,
                    help="The largest rate swept. Above 1 x 2/lambda_max every run diverges.")  # fmt: skip
    c4.number_input("Number of rates", min_value=2, max_value=sweep.MAX_RATES, step=100, key=_k("n_rates"),
                    help=f"How many rates to run, all at once (vectorised), up to {sweep.MAX_RATES:,}.")  # fmt: skip
    c5.number_input("Steps per run (cap)", min_value=1, max_value=sweep.MAX_SWEEP_STEPS, step=1000,
                    key=_k("max_steps"),
                    help=f"Each run stops here at the latest. Sweeps are capped at {sweep.MAX_SWEEP_STEPS:,} steps, "
                         "whatever the Playground's max steps.")  # fmt: skip
    clicked = st.button("Run sweep", key=_k("go"), type="primary", help="Run gradient descent at every rate.")
    try:
        values = {n: st.session_state[_k(n)] for n in ("relative", "low", "high", "n_rates", "max_steps")}
        settings = SweepSettings(**values)
        settings.rates(cache.problem_for(state.get_config()))  # rates outside what a run accepts are reported here
    except InputError as err:
        st.error(for_people(err))
        return None, False
    return settings, clicked


def current(settings: SweepSettings | None, clicked: bool) -> SweepRun | None:
    """The sweep to show: run now on a click, or when there is none yet for this data, start and tol."""
    config = state.get_config()
    last: SweepRun | None = st.session_state.get(RUN_KEY)
    stale = last is None or sweep_key(last.config) != sweep_key(config)
    if settings is not None and (clicked or stale):
        last = run(config, settings, (last.run_id + 1) if last else 1)
        st.session_state[RUN_KEY] = last
    elif last is not None and last.settings != settings:
        st.info("The charts show the last sweep; press **Run sweep** to apply the changed settings.")
    return last


def run(config: RunConfig, settings: SweepSettings, run_id: int) -> SweepRun:
    """Sweep the rates of ``settings`` on ``config``'s data with a progress bar (in chunks of rates)."""
    problem = cache.problem_for(config)
    rates = settings.rates(problem)
    init = runs.init_params(config, problem)
    bar = st.progress(0.0, text=f"Sweeping {rates.size:,} rates...")
    shown = [0.0]

    def report(fraction: float) -> None:
        if fraction - shown[0] >= 0.02 or fraction >= 1.0:
            shown[0] = fraction
            bar.progress(min(fraction, 1.0), text=f"Sweeping {rates.size:,} rates: {fraction:.0%}")

    result = sweep.run_sweep(problem, rates, tol=config.tol, max_steps=settings.max_steps, init_params=init,
                             progress=report)  # fmt: skip
    bar.empty()
    table = sweep.summarise(problem, result, tol=config.tol, max_steps=settings.max_steps, init_params=init)
    return SweepRun(config, settings, table, run_id)


def summary(swept: SweepRun) -> None:
    """One line on what the sweep found."""
    t = swept.table
    counts = {o: int(np.sum(t.outcome == o)) for o in sweep.Outcome}
    done = t.outcome == sweep.Outcome.CONVERGED
    best = ""
    if done.any():
        k = np.flatnonzero(done)[np.argmin(t.steps[done])]
        best = f" The fastest converged in {plural(int(t.steps[k]), 'step')}, at rate {t.learning_rate[k]:.4g}."
    st.markdown(
        f"**{t.learning_rate.size:,} rates, {t.learning_rate[0]:.3g} to {t.learning_rate[-1]:.3g}, at most "
        f"{t.max_steps:,} steps each:** {counts[sweep.Outcome.CONVERGED]:,} converged, "
        f"{counts[sweep.Outcome.STILL_MOVING]:,} still moving at the cap, {counts[sweep.Outcome.GROWING]:,} growing, "
        f"{counts[sweep.Outcome.OVERFLOWED]:,} overflowed.{best}"
    )


def charts(swept: SweepRun) -> dict[str, dict]:
    """The sweep's two charts (chart key -> figure spec), with the regimes the Hessian predicts."""
    problem = cache.problem_for(swept.config)
    edges, thresholds, meta = sweep.regime_edges(problem), analysis.thresholds(problem), {"run": swept.run_id}
    return {
        _k("steps_chart"): plots.sweep.steps_chart(swept.table, edges, thresholds, meta=meta),
        _k("loss_chart"): plots.sweep.loss_chart(swept.table, edges, thresholds, floor=problem.optimum_loss, meta=meta),
    }


def picked_rate(swept: SweepRun, *events) -> float | None:
    """The swept rate of the first clicked point in the charts' selection events, if any."""
    for event in events:
        points = (event or {}).get("selection", {}).get("points", [])
        xs = [p.get("x") for p in points if isinstance(p.get("x"), int | float)]
        if xs:
            return sweep.nearest_rate(swept.table, xs[0])
    return None


def rate_picker(swept: SweepRun) -> float | None:
    """A select box of the swept rates and an Open button; returns the rate when the button is pressed."""
    t = swept.table

    def label(k: int) -> str:
        steps = plural(int(t.steps[k]), "step") if t.outcome[k] == sweep.Outcome.CONVERGED else str(t.outcome[k])
        return f"{t.learning_rate[k]:.6g} ({REGIME_LABELS[str(t.regime[k])].lower()}, {steps})"

    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    k = c1.selectbox("Open a swept rate in the Playground", range(t.learning_rate.size), format_func=label,
                     index=int(np.argmin(np.where(t.outcome == sweep.Outcome.CONVERGED, t.steps, np.inf))),
                     key=_k(f"pick_{swept.run_id}"), help="Or click a point in either chart.")  # fmt: skip
    if c2.button("Open in Playground", key=_k("open"), help="Step through this rate in the Playground."):
        return float(t.learning_rate[k])
    return None


def open_in_playground(swept: SweepRun, rate: float) -> None:
    """Set the shared rate (plain GD, constant schedule) and go to the Playground, whose widgets follow.

    The rate is the swept one with the fewest figures that reproduces its run (``sweep.shortest_rate``): the
    Playground's box and the link then read 0.178, not 0.1780392680032521."""
    t, config = swept.table, swept.config
    problem = cache.problem_for(config)
    k = int(np.argmin(np.abs(np.log(t.learning_rate) - np.log(rate))))
    short = sweep.shortest_rate(problem, t, k, tol=config.tol, init_params=runs.init_params(config, problem))
    state.set_config(state.get_config().replace(learning_rate=short, optimizer="gd", schedule="constant"))
    st.switch_page(PLAYGROUND)


# ---------------------------------------------------------------------------------------------
# The page's link keys: the sweep's own settings
# ---------------------------------------------------------------------------------------------

LINK_KEYS = {"relative": "rates_in", "low": "low", "high": "high", "n_rates": "n_rates", "max_steps": "sweep_steps"}


def _default() -> SweepSettings:
    return SweepSettings(max_steps=min(state.get_config().max_steps, sweep.DEFAULT_SWEEP_STEPS))


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    """The sweep's settings from a link, each on its own: a bad one keeps its default (a count above its
    limit is clamped to it) and says so in the widgets' words; the good ones are kept."""
    if not any(k in q for k in LINK_KEYS.values()):
        return
    values = _default().__dict__.copy()
    limits = {"n_rates": sweep.MAX_RATES, "max_steps": sweep.MAX_SWEEP_STEPS}
    skip = set()
    try:  # a link's low and high that are each fine but in the wrong order: said with the link's own numbers
        low, high = float(q["low"]), float(q["high"])
        if 0 < high <= low:
            skip = {"low", "high"}
            notices.append(f"Ignored the rate range in the link: low = {low:g} must be below high = {high:g}.")
    except (KeyError, ValueError):
        pass
    for field, key in LINK_KEYS.items():
        if key not in q or field in skip:
            continue
        text = q[key].strip()
        label = "rate range" if field == "relative" else FIELD_LABELS.get(field, field)
        if field == "max_steps":
            label = "steps per run"
        try:
            if field == "relative":
                if text not in ("rel", "abs"):
                    raise InputError(f"The rate range must be rel or abs; you entered {query.short(text)}.")
                value = text == "rel"
            elif field in limits:
                value = int(text) if re.fullmatch(r"\d{1,12}", text) else float("nan")
                if isinstance(value, int):
                    value = query.clamp(value, limits[field], label, notices)
            else:
                value = float(text)
            SweepSettings(**{**values, field: value})  # this setting against the ones read so far
            values[field] = value
        except (ValueError, InputError) as err:
            reason = for_people(err) if isinstance(err, InputError) else f"{query.short(text)} is not a number."
            notices.append(f"Ignored the {label} in the link: {reason}")
    settings = SweepSettings(**values)
    try:
        settings.rates(cache.problem_for(state.get_config()))
    except InputError as err:
        notices.append(f"Ignored the sweep settings in the link: {for_people(err)} Showing the default sweep.")
        return
    for field, value in settings.__dict__.items():
        st.session_state[_k(field)] = value
    st.session_state.pop(RUN_KEY, None)  # swept again with these settings


def _write_link() -> dict[str, str]:
    run = st.session_state.get(RUN_KEY)
    if run is None:
        return {}
    default, q = _default(), {}
    for field, key in LINK_KEYS.items():
        value = getattr(run.settings, field)
        if value != getattr(default, field):
            q[key] = ("rel" if value else "abs") if field == "relative" else repr(value)
    return q


share.register(PAGE, keys=tuple(LINK_KEYS.values()), read=_read_link, write=_write_link,
               bound=("dataset", "feature", "scaling"))  # fmt: skip


def download_menu(swept: SweepRun, charts: Mapping) -> None:
    """The sweep table, its two charts, a script that repeats the sweep."""
    downloads.menu(
        PAGE, page="sweep", figures=charts,
        csv=lambda: export.sweep_csv(swept.table),
        csv_label=f"The sweep table, {swept.table.learning_rate.size:,} rates (CSV)", csv_name="table",
        csv_help="One row per rate: regime predicted, outcome, steps measured and predicted, final loss.",
        script=lambda: export.sweep_script(swept.config, swept.settings),
    )  # fmt: skip
