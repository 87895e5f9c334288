"""The Regimes page's Streamlit parts: the data sidebar, the user's own and pinned rates, the one player of
every run's charts (``gdviz.ui.player``: the browser scrubs, steps and plays them all), one card per run
and the summary table.

Session keys (plain data only): ``{prefix}_custom`` slot -> the user's rate for that slot, ``{prefix}_pinned``
the pinned rates (a list of floats), ``{prefix}_cursor`` the step shown, as the browser last synced it. The
data, scaling, start point, tol and max steps are the shared RunConfig's, edited through ``gdviz.ui.widgets``
(so they carry over to and from the Playground)."""

from __future__ import annotations

import hashlib
import html
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from gdviz import analysis, config, data, export, plots, query, regimes
from gdviz.config import RunConfig
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError
from gdviz.plots._spec import REGIME_LABELS
from gdviz.regimes import Lane
from gdviz.ui import cache, downloads, player, share, state, widgets
from gdviz.ui.messages import for_people

PAGE = "regimes"
MAX_PINS = 6  # pinned rates a link carries
# The shared settings this page shows: what the runs have in common (the rates are the page's own).
DATA_FIELDS = config.names("data", "problem", "run", settable=True)


def _k(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def sidebar(prefix: str) -> None:
    """The shared data, scaling, start point, tol and max steps, bound to the shared RunConfig."""
    p = prefix
    widgets.bind(p, DATA_FIELDS)
    with st.sidebar:
        if err := st.session_state.get(_k(p, "error")):
            st.error(err)
        st.caption("Shared with the Playground: change them here or there.")
        st.subheader("Data")
        widgets.data_controls(p)
        st.subheader("Start and stop")
        widgets.start_stop_controls(p, max_steps_note=f" On this page every run stops by {regimes.STEP_CAP:,}.")


# ---------------------------------------------------------------------------------------------
# Custom and pinned rates
# ---------------------------------------------------------------------------------------------


def custom_rates(prefix: str) -> dict[str, float]:
    return st.session_state.setdefault(_k(prefix, "custom"), {})


def pinned_rates(prefix: str) -> list[float]:
    return st.session_state.setdefault(_k(prefix, "pinned"), [])


def _on_rate(prefix: str, slot: str) -> None:
    """A typed rate: checked by RunConfig; a rejected one is reported and the box keeps the previous rate."""
    key = _k(prefix, f"rate_{slot}")
    value = st.session_state[key]
    custom = dict(custom_rates(prefix))
    st.session_state.pop(_k(prefix, f"rate_error_{slot}"), None)
    if value is None:  # a cleared box: back to the preset
        custom.pop(slot, None)
    else:
        try:
            state.get_config().replace(learning_rate=float(value))
        except InputError as err:
            st.session_state[_k(prefix, f"rate_error_{slot}")] = for_people(err)
            st.session_state[key] = custom.get(slot)
            return
        custom[slot] = float(value)
    st.session_state[_k(prefix, "custom")] = custom


def _pin(prefix: str, rate: float) -> None:
    pins = pinned_rates(prefix)
    if rate not in pins:
        st.session_state[_k(prefix, "pinned")] = [*pins, float(rate)]


def _unpin(prefix: str, index: int) -> None:
    pins = list(pinned_rates(prefix))
    if 0 <= index < len(pins):
        pins.pop(index)
    st.session_state[_k(prefix, "pinned")] = pins


def _rate_controls(prefix: str, lane: Lane, preset: float | None) -> None:
    p = prefix
    with st.container(horizontal=True, vertical_alignment="bottom", key=_k(p, f"{lane.key}_inputs")):
        if lane.key in regimes.SLOTS:
            if err := st.session_state.get(_k(p, f"rate_error_{lane.key}")):
                st.error(err)
            key = _k(p, f"rate_{lane.key}")
            if key not in st.session_state:  # widget state is dropped off the page; the rate is kept
                st.session_state[key] = custom_rates(p).get(lane.key)
            st.number_input(
                "Your rate for this panel", min_value=config.RATE_MIN, max_value=config.RATE_MAX,
                format="%.6g", value=None, key=key, placeholder=f"preset {preset:.4g}", on_change=_on_rate,
                args=(p, lane.key),
                help="Replace this panel's preset rate with your own; clear the box to go back to the preset.",
                width=220,
            )  # fmt: skip
            rate = lane.config.learning_rate
            pinned = rate in pinned_rates(p)
            st.button(
                "Pinned" if pinned else "Pin", key=_k(p, f"pin_{lane.key}"), on_click=_pin, args=(p, rate),
                disabled=not lane.custom or pinned, icon=":material/push_pin:",
                help="Keep this rate as an extra panel and table row, to compare it with the next one you try "
                "(enter your own rate first).",
            )  # fmt: skip
        elif lane.key.startswith("pinned_"):
            index = int(lane.key.split("_")[1])
            st.button(
                "Unpin", key=_k(p, f"unpin_{index}"), on_click=_unpin, args=(p, index), icon=":material/close:",
                help="Remove this pinned run (panel and table row).",
            )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Runs, the player, the cards, the table
# ---------------------------------------------------------------------------------------------


def header(config: RunConfig, problem: Problem) -> None:
    """This data's thresholds, the runs' common start and stop."""
    t = analysis.thresholds(problem)
    st.markdown(
        f"On this data: lambda_max = **{analysis.spectrum(problem).lambda_max:.4g}**, so 1/lambda_max = "
        f"**{t.monotone_max:.4g}** and 2/lambda_max = **{t.stable_max:.4g}**. Every run starts at "
        f"({config.init_intercept:g}, {config.init_slope:g}) and stops at tol = {config.tol:g} or after "
        f"{regimes.base_config(config).max_steps:,} steps."
    )
    widgets.fastest_note(PAGE, regimes.base_config(config), problem)


def lanes(prefix: str, config: RunConfig, problem: Problem) -> list[Lane]:
    """The panels: one per regime's preset (or the user's rate for it), the decaying rate, the pinned rates."""
    return regimes.lanes(config, problem, custom_rates(prefix), pinned_rates(prefix))


class Runs(NamedTuple):
    """The page's runs, once per setting.

    Attributes:
        trajs: each lane's whole run (``cache.trajectory_for``).
        steps: the shared step axis the browser holds (``gdviz.regimes.Player.steps``).
        payload: the player's JSON (``gdviz.regimes.player_json``).
        name: the runs' name (the browser keeps its step while it stays the same).
    """

    trajs: list[Trajectory]
    steps: np.ndarray
    payload: str
    name: str


def _build(config: RunConfig, lanes: tuple[Lane, ...], names: tuple[str, str]) -> Runs:
    trajs = [cache.trajectory_for(lane.config) for lane in lanes]
    p = regimes.player(list(lanes), trajs, cache.problem_for(config), names)
    name = hashlib.sha1(repr((lanes, names)).encode()).hexdigest()[:16]
    return Runs(trajs, p.steps, regimes.player_json(p, run=name), name)


@st.cache_resource(max_entries=16, show_spinner="Running gradient descent at every rate...")  # read-only
def _cached_runs(config: RunConfig, lanes: tuple[Lane, ...], names: tuple[str, str]) -> Runs:
    return _build(config, lanes, names)


def runs(config: RunConfig, lanes: list[Lane], names: tuple[str, str]) -> Runs:
    """Every lane's whole run and the player's payload (cached per setting; an upload's memoised in this
    session)."""
    if config.dataset == data.UPLOAD:
        return cache.upload_memo(("regimes_runs", config, tuple(lanes), names),
                                 lambda: _build(config, tuple(lanes), names))  # fmt: skip
    return _cached_runs(config, tuple(lanes), tuple(names))


def show(prefix: str, runs: Runs) -> int:
    """The one player of every panel (one scrubber, Step, Back, Play, keys), at the step the server knows:
    the end of the longest run on a first visit, where the regimes' outcomes differ most; a step past the
    end opens at the end. Returns the step (the browser tells the server a new one after a pause)."""
    key = player.cursor_key(prefix)
    st.session_state.pop(f"{prefix}_sought", None)  # set by player.go_to; this page keeps its step across runs
    kept = st.session_state.get(key)
    last = int(runs.steps[-1])
    step = last if kept is None else regimes.nearest_step(runs.steps, min(max(int(kept), 0), last))
    st.session_state[key] = step
    st.caption(
        "One scrubber for every chart below: Step, Back and Play move every run at once (keys: arrows, space, "
        "Home, End). A run that stopped earlier stays at its end. Each run's loss and status are read out here."
    )
    player.player(prefix, runs.payload, run=runs.name, step=step)
    return step


def badge_html(label: str, color: str) -> str:
    """A colour swatch with its regime's name in text (colour is never the only cue)."""
    text = "#fff" if color == plots.regimes.DECAY_COLOR else "#000"
    return (
        f'<span style="display:inline-block;padding:0.05rem 0.5rem;border-radius:0.3rem;background:{color};'
        f'color:{text};font-weight:600;font-size:0.85rem">{html.escape(label)}</span>'
    )


def lane_label(lane: Lane) -> str:
    """The badge of a panel: its predicted regime in words (the decaying run has none)."""
    return "Decaying rate" if lane.regime is None else f"{REGIME_LABELS[lane.regime]} (predicted)"


def panel(prefix: str, lane: Lane, traj: Trajectory, problem: Problem, preset: float | None) -> None:
    """One run's card: its rate against the thresholds, its outcome and the rate input (its charts are in the
    player above)."""
    p = prefix
    color = plots.regimes.regime_color(lane.regime)
    with st.container(border=True, key=_k(p, f"{lane.key}_panel")):
        st.html(badge_html(lane_label(lane), color))
        rate = lane.config.learning_rate
        if lane.config.is_constant_gd:
            st.markdown(f"**{lane.title}**: {regimes.rate_relation(rate, problem)}")
        else:
            st.markdown(f"**{lane.title}**: {regimes.decay_story(problem, traj)}")
        st.markdown(f"Outcome: **{regimes.outcome(traj)}**")
        _rate_controls(p, lane, preset)


def panel_grid(prefix: str, lanes: list[Lane], trajs: list[Trajectory], problem: Problem) -> None:
    """The runs' cards, two per row (Streamlit stacks the columns on a phone)."""
    presets = regimes.preset_rates(problem)
    for row in range(0, len(lanes), 2):
        cols = st.columns(2, gap="medium")
        for col, lane, traj in zip(cols, lanes[row : row + 2], trajs[row : row + 2], strict=False):
            with col:
                panel(prefix, lane, traj, problem, presets.get(lane.key))


def summary_table(problem: Problem, lanes: list[Lane], trajs: list[Trajectory]) -> pd.DataFrame:
    """The summary as a DataFrame (one row per run), shown with st.table."""
    rows = [regimes.summary_row(problem, lane, traj) for lane, traj in zip(lanes, trajs, strict=True)]
    frame = pd.DataFrame(
        rows,
        columns=["run", "rate", "regime predicted", "regime observed", "steps to converge: predicted",
                 "steps to converge: measured", "final loss"],
    ).set_index("run")  # fmt: skip
    widgets.table(frame, key=_k(PAGE, "summary"), phone_hide=("rate",))  # each panel's heading says its rate
    return frame


# ---------------------------------------------------------------------------------------------
# The page's link keys: the step shown, the user's panel rates and the pinned rates
# ---------------------------------------------------------------------------------------------


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q:
        limit = regimes.base_config(state.get_config()).max_steps
        if (step := query.read_step(q["step"], limit, notices, label="step shown", several=True)) is not None:
            player.go_to(PAGE, step)
    if "rates" in q:
        custom = {}
        for item in q["rates"].split(",")[: len(regimes.SLOTS)]:
            slot, _, text = item.partition(":")
            if slot not in regimes.SLOTS:
                notices.append(
                    f"Ignored a panel rate in the link: {slot[:20]!r} is not one of {', '.join(regimes.SLOTS)}."
                )
            elif (rate := query.read_rate("rates", text, f"{slot} panel's rate", notices)) is not None:
                custom[slot] = rate
        st.session_state[_k(PAGE, "custom")] = custom
    if "pins" in q:
        texts = q["pins"].split(",")[:MAX_PINS]
        pins = [r for t in texts if (r := query.read_rate("pins", t, "pinned rate", notices))]
        st.session_state[_k(PAGE, "pinned")] = list(dict.fromkeys(pins))
    for slot in regimes.SLOTS:  # the rate boxes reseed from the custom rates
        st.session_state.pop(_k(PAGE, f"rate_{slot}"), None)


def _write_link() -> dict[str, str]:
    q = {}
    if (step := st.session_state.get(player.cursor_key(PAGE))) is not None:
        q["step"] = str(int(step))
    if custom := st.session_state.get(_k(PAGE, "custom")):
        q["rates"] = ",".join(f"{slot}:{rate!r}" for slot, rate in custom.items())
    if pins := st.session_state.get(_k(PAGE, "pinned")):
        q["pins"] = ",".join(repr(float(r)) for r in pins)
    return q


share.register(PAGE, keys=("step", "rates", "pins"), read=_read_link, write=_write_link, bound=widgets.BOUND_FIELDS)


def download_menu(prefix: str, config: RunConfig, lanes: list[Lane], trajs: list[Trajectory],
                  names: tuple[str, str], step: int) -> None:  # fmt: skip
    """Every run in one CSV (a ``run`` column), the page's charts at ``step``, one script for all the runs."""
    upload = downloads.upload_source(config)
    runs = {lane.title: lane.config for lane in lanes}
    labels = {"overview": plots.regimes.OVERVIEW_TITLE}
    labels |= {f"{lane.key}_{kind}": f"{lane.title}: {what}" for lane in lanes for kind, what in
               regimes.CHART_KINDS.items()}  # fmt: skip
    problem = cache.problem_for(config)

    def chart(key: str):  # built when its file is downloaded, not on every rerun (a step sync included)
        return lambda: regimes.figures(lanes, trajs, problem, names, step)[key]

    charts = {f"{prefix}_{key}": chart(key) for key in labels}
    downloads.menu(
        prefix, page="regimes", figures=charts, labels=labels,
        csv=lambda: export.runs_csv([(lane.title, t) for lane, t in zip(lanes, trajs, strict=True)], names),
        csv_label=f"All {len(lanes)} runs (CSV, one 'run' column)", csv_name="runs",
        csv_help="Every run's steps in one table; the 'run' column names the panel it belongs to.",
        script=lambda: export.script(config, runs=runs, upload=upload, page="Regimes"),
    )  # fmt: skip
