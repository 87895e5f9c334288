"""The optimizer race page's Streamlit parts: the data sidebar, which runs and their settings, the batch size,
the pair of params drawn, the cached race and its player, the table, the link keys and the downloads.

Session keys (plain data only): ``{prefix}_off`` the runs switched off (a list of names), ``{prefix}_custom``
run -> {setting: value} the user's own settings (reset when the data changes: ``{prefix}_data_id``),
``{prefix}_batch_size`` (None: full batch) and ``{prefix}_shuffle`` (the shuffle's seed), ``{prefix}_features``
("all" or "one"), ``{prefix}_hold``, ``{prefix}_pair_x_{data}``/``{prefix}_pair_y_{data}``, and
``{prefix}_error_{what}`` (a refused value's message). Widget keys ``{prefix}_on_{run}``,
``{prefix}_{run}_{setting}``, ``{prefix}_batch``, ``{prefix}_seed_box`` are seeded from those (widget state is
dropped when the user leaves the page). The data, scaling, start, tol and max steps are the shared RunConfig's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd
import streamlit as st

from gdviz import data, export, query, race, runs, scaling
from gdviz.config import RunConfig
from gdviz.engine import Problem
from gdviz.errors import InputError
from gdviz.explain import fmt, plural
from gdviz.ui import cache, downloads, player, share, state, widgets
from gdviz.ui.messages import for_people

PAGE = "race"
FEATURES = {"all": "Every feature (any two params drawn)", "one": "The Playground's one feature (intercept and slope)"}
NO_RATE = {
    "newton": "No rate: the step is H^-1 g (full batch).",
    "line_search": "No rate: each step's is the exact minimiser along -g (full batch).",
    "barzilai_borwein": "No rate: it comes from the last step (full batch).",
}
SETTING_LABELS = {"learning_rate": "rate", "beta": "beta", "decay": "decay", "b1": "beta1", "b2": "beta2"}


def _k(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def sidebar(prefix: str) -> None:
    """The shared data, scaling, start point, tol and max steps (bound to the shared RunConfig)."""
    widgets.shared_sidebar(prefix, step_cap=race.STEP_CAP)


# ---------------------------------------------------------------------------------------------
# The data the race runs on
# ---------------------------------------------------------------------------------------------


def features(prefix: str, config: RunConfig) -> str:
    """ "all" or "one": the race's features ("one" on the synthetic line, which has one)."""
    if config.dataset == "synthetic_line":
        return "one"
    return st.session_state.get(_k(prefix, "features"), "all")


def problem(prefix: str, config: RunConfig) -> Problem:
    """The Problem the race runs on: every feature of the dataset, or the Playground's one (and the synthetic
    line with the shared settings)."""
    if features(prefix, config) == "one":
        return cache.problem_for(config)
    return cache.all_features_problem(config.dataset, config.scaling)


def features_control(prefix: str, config: RunConfig) -> None:
    """Every feature or the Playground's one (nothing to choose on the one-feature synthetic line)."""
    if config.dataset == "synthetic_line":
        return
    key = _k(prefix, "features")
    st.session_state.setdefault(key, "all")
    st.radio("Fit", list(FEATURES), format_func=FEATURES.get, key=key, horizontal=True,
             help="Every feature: any two of the params are drawn, the others held as chosen. One feature: the "
             "feature picked in the sidebar, drawn as intercept and slope, as on the Playground.")  # fmt: skip


def _data_id(config: RunConfig, feats: str) -> tuple:
    """What the defaults depend on: the data (and its one feature when the race fits one) and the start."""
    key = cache.data_key(config)
    start = (config.init_intercept, config.init_slope)
    return (key if feats == "one" else key.replace(feature=0), feats, start)


# ---------------------------------------------------------------------------------------------
# Which runs, their settings, the batch size
# ---------------------------------------------------------------------------------------------


def off(prefix: str) -> list[str]:
    return st.session_state.setdefault(_k(prefix, "off"), [])


def custom(prefix: str) -> dict[str, dict[str, float]]:
    return st.session_state.setdefault(_k(prefix, "custom"), {})


def settings(prefix: str, defaults: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Each run's settings: the data's defaults with the user's own on top."""
    mine = custom(prefix)
    return {name: {**defaults[name], **mine.get(name, {})} for name in race.RUNS}


def _on_toggle(prefix: str, name: str) -> None:
    now = [n for n in off(prefix) if n != name]
    if not st.session_state[_k(prefix, f"on_{name}")]:
        now.append(name)
    st.session_state[_k(prefix, "off")] = now


def _on_setting(prefix: str, name: str, setting: str, defaults: dict) -> None:
    key = _k(prefix, f"{name}_{setting}")
    value = st.session_state[key]
    mine = {n: dict(v) for n, v in custom(prefix).items()}
    st.session_state.pop(_k(prefix, f"error_{name}"), None)
    if value is None:  # a cleared box: back to the data's default
        mine.get(name, {}).pop(setting, None)
    else:
        trial = {**defaults[name], **mine.get(name, {}), setting: float(value)}
        try:
            race.check_settings(name, trial)
        except InputError as err:
            kept = mine.get(name, {}).get(setting, defaults[name][setting])
            st.session_state[_k(prefix, f"error_{name}")] = (
                f"{race.LABELS[name]}: {for_people(err)} It keeps {kept:.6g}."
            )
            return
        mine.setdefault(name, {})[setting] = float(value)
    st.session_state[_k(prefix, "custom")] = mine


def _reset(prefix: str) -> None:
    st.session_state[_k(prefix, "custom")] = {}
    st.session_state[_k(prefix, "off")] = []
    for name in race.RUNS:
        st.session_state.pop(_k(prefix, f"error_{name}"), None)


def run_controls(prefix: str, config: RunConfig, prob: Problem) -> list[race.Entry]:
    """One row per run: on/off and its settings (the data's defaults until edited); returns the runs switched on."""
    p = prefix
    data_id = _data_id(config, features(p, config))
    if st.session_state.get(_k(p, "data_id")) != data_id:  # new data: its own defaults, not the old data's rates
        if _k(p, "data_id") in st.session_state:
            st.session_state[_k(p, "custom")] = {}
        st.session_state[_k(p, "data_id")] = data_id
    defaults = race.default_settings(prob, runs.init_params(config, prob))
    chosen = settings(p, defaults)
    with st.expander("The runs: switch each on or off, edit its rate and settings", expanded=False):
        st.caption(
            "Defaults come from this data: GD at 2/(lambda_min + lambda_max), momentum at the optimal heavy-ball "
            "settings, Nesterov at 1/lambda_max; AdaGrad, RMSProp and Adam at a fraction of the way to the "
            "optimum (they move each param by about their rate per step). Clear a box to go back to its default."
        )
        for name in race.RUNS:
            key = _k(p, f"on_{name}")
            st.session_state[key] = name not in off(p)
            with st.container(horizontal=True, vertical_alignment="bottom", key=_k(p, f"row_{name}")):
                st.checkbox(race.LABELS[name], key=key, on_change=_on_toggle, args=(p, name), width=170,
                            help=f"Race {race.LABELS[name]} (off: it is neither run nor drawn).")  # fmt: skip
                for setting in race.SETTINGS[name]:
                    box = _k(p, f"{name}_{setting}")
                    st.session_state[box] = chosen[name][setting]
                    st.number_input(
                        f"{race.LABELS[name]} {SETTING_LABELS[setting]}", value=None, format="%.5g", key=box,
                        on_change=_on_setting, args=(p, name, setting, defaults), width=185,
                        placeholder=f"{defaults[name][setting]:.4g}",
                        help=f"Default on this data: {defaults[name][setting]:.6g}.",
                    )  # fmt: skip
                if not race.SETTINGS[name]:
                    st.caption(NO_RATE[name])
            if err := st.session_state.get(_k(p, f"error_{name}")):
                st.error(err)
        st.button("Back to this data's defaults, every run on", key=_k(p, "reset"), on_click=_reset, args=(p,))
    if "momentum" not in off(p) or "gd" not in off(p):
        st.caption(" ".join(race.theory_sentences(prob, chosen)))
    return [race.Entry(n, tuple(chosen[n].items())) for n in race.RUNS if n not in off(p)]


def _on_batch(prefix: str, n_samples: int) -> None:
    value = st.session_state[_k(prefix, "batch")]
    st.session_state.pop(_k(prefix, "error_batch"), None)
    try:
        st.session_state[_k(prefix, "batch_size")] = race.check_batch_size(value, n_samples)
    except InputError as err:
        st.session_state[_k(prefix, "error_batch")] = f"{err} The race keeps its batch size."


def _on_seed(prefix: str) -> None:
    value = st.session_state[_k(prefix, "seed_box")]
    if value is None or value < 0 or not float(value).is_integer():
        st.session_state[_k(prefix, "error_batch")] = "The shuffle seed must be a whole number from 0 up."
        return
    st.session_state.pop(_k(prefix, "error_batch"), None)
    st.session_state[_k(prefix, "shuffle")] = int(value)


def batch_controls(prefix: str, n_samples: int) -> tuple[int | None, int]:
    """Rows per update for the six fixed-rate runs (empty: full batch) and the shuffle's seed."""
    p = prefix
    size = st.session_state.get(_k(p, "batch_size"))
    if size is not None and size >= n_samples:  # the data changed under it
        size = st.session_state[_k(p, "batch_size")] = None
    seed = int(st.session_state.get(_k(p, "shuffle"), 0))
    st.session_state[_k(p, "batch")] = size
    st.session_state[_k(p, "seed_box")] = seed
    with st.container(horizontal=True, vertical_alignment="bottom", key=_k(p, "batch_row")):
        st.number_input(
            "Batch size (rows per update)", value=None, step=1, format="%d", key=_k(p, "batch"),
            placeholder=f"full batch ({n_samples:,} rows)", on_change=_on_batch, args=(p, n_samples), width=230,
            help=f"Empty: full batch (every update uses all {n_samples:,} rows). A number from 1 to {n_samples:,}: "
            "each update of GD, momentum, Nesterov, AdaGrad, RMSProp and Adam uses that many shuffled rows. "
            "Newton, line search and Barzilai-Borwein always use the full batch.",
        )  # fmt: skip
        st.number_input("Shuffle seed", value=None, step=1, format="%d", key=_k(p, "seed_box"), on_change=_on_seed,
                        args=(p,), width=130, help="Which shuffled order of the rows (mini-batches only).")  # fmt: skip
    if err := st.session_state.get(_k(p, "error_batch")):
        st.error(err)
    return size, seed


# ---------------------------------------------------------------------------------------------
# The pair of params drawn
# ---------------------------------------------------------------------------------------------


def pair_controls(prefix: str, config: RunConfig, prob: Problem) -> tuple[tuple[int, int], str]:
    """Which two params the contour and surface show, and where the others are held (for the 3D heights)."""
    names = race.param_labels(prob)
    if prob.n_params == 2:
        return (0, 1), "optimum"
    which = f"{config.dataset}{config.upload}"
    kx, ky, kh = _k(prefix, f"pair_x_{which}"), _k(prefix, f"pair_y_{which}"), _k(prefix, "hold")
    raw = cache.all_features_problem(config.dataset, "none")
    default = scaling.default_pair(raw) if raw.n_params == prob.n_params else (0, 1)
    st.session_state.setdefault(kx, default[0])
    st.session_state.setdefault(ky, default[1])
    st.session_state.setdefault(kh, "optimum")
    if st.session_state[ky] == st.session_state[kx]:
        st.session_state[ky] = next(k for k in range(len(names)) if k != st.session_state[kx])
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.selectbox("x axis", range(len(names)), format_func=names.__getitem__, key=kx,
                 help="Any of the intercept and the feature weights.")  # fmt: skip
    c2.selectbox("y axis", [k for k in range(len(names)) if k != st.session_state[kx]],
                 format_func=names.__getitem__, key=ky, help="A different param from the x axis'.")  # fmt: skip
    c3.radio("3D heights: the other params at", list(race.HOLD_MODES), format_func=race.HOLD_MODES.get, key=kh,
             help="The contours and the surface are the loss with these two params varying and every other one at "
             "the optimum, the one slice all runs share. The paths show each run's own two params; their height "
             "in 3D is the surface under them, or each run's true loss.")  # fmt: skip
    return (int(st.session_state[kx]), int(st.session_state[ky])), st.session_state[kh]


# ---------------------------------------------------------------------------------------------
# The race, cached, and its player
# ---------------------------------------------------------------------------------------------


class Result(NamedTuple):
    """One race: its runs, table rows and the player's payload (read-only, shared by reruns).

    Attributes:
        runs: the finished runs (``race.race``).
        rows: the table (``race.table_rows``).
        payload: the player's JSON.
        name: the race's name (the browser keeps its step while it stays the same).
        player: the player's data: its step axis, the arrows' factors, and the charts the downloads draw at the
            step shown.
    """

    runs: list[race.RaceRun]
    rows: list[race.Row]
    payload: str
    name: str
    player: race.Player


def _compute(config: RunConfig, feats: str, prob: Problem, entries: tuple, batch: int | None, seed: int,
             pair: tuple[int, int], hold: str) -> Result:  # fmt: skip
    init = runs.init_params(config, prob)
    done = race.race(prob, entries, init_params=init, tol=config.tol, max_steps=config.max_steps,
                     batch_size=batch, seed=seed)  # fmt: skip
    rows = race.table_rows(prob, done, tol=config.tol, init_params=init)
    p = race.player(prob, done, pair, hold=hold, names=race.param_labels(prob))
    name = hashlib.sha1(repr((config, feats, entries, batch, seed, pair, hold)).encode()).hexdigest()[:16]
    return Result(done, rows, race.player_json(p, run=name), name, p)


@st.cache_resource(max_entries=16, show_spinner="Racing the optimizers...")  # read-only: no copy per rerun
def _cached(config: RunConfig, feats: str, entries: tuple, batch: int | None, seed: int, pair: tuple, hold: str):
    prob = cache.problem_for(config) if feats == "one" else cache.all_features_problem(config.dataset, config.scaling)
    return _compute(config, feats, prob, entries, batch, seed, pair, hold)


def result(prefix: str, config: RunConfig, prob: Problem, entries: list[race.Entry], batch: int | None, seed: int,
           pair: tuple[int, int], hold: str) -> Result:  # fmt: skip
    """The race (cached per setting; on an upload memoised in this session)."""
    feats = features(prefix, config)
    key = (tuple(entries), batch, seed, tuple(pair), hold)
    if config.dataset == data.UPLOAD:
        return cache.upload_memo(("race", config, feats, *key), lambda: _compute(config, feats, prob, *key))
    return _cached(config, feats, *key)


def show(res: Result) -> int:
    """The player at the step the server knows (snapped to a step the browser holds); returns that step."""
    step = race.snap_step(res.player.steps, player.open_at(PAGE, res.name))
    st.session_state[player.cursor_key(PAGE)] = step
    player.player(PAGE, res.payload, run=res.name, step=step)
    return step


def arrows_caption(res: Result, batch: int | None, n_samples: int) -> None:
    """What the arrows are and how they are scaled; what the batch size changes."""
    arrows = res.player.arrows
    st.caption(
        f"Arrows at the step shown, per run: dotted, the negative gradient (of the full data), drawn x "
        f"{arrows.grad:.3g}; solid, the update the run actually takes from there, drawn x {arrows.update:.3g}. "
        "For GD they point the same way; momentum and Adam's updates turn away from the gradient: they carry "
        "the past steps along. " + race.batch_note(batch, n_samples)
    )


def table(res: Result) -> None:
    """The race's table: status, steps, the theory's steps, final loss, the cost of a step."""
    rows = res.rows
    frame = pd.DataFrame({
        "run": [r.run for r in rows],
        "settings": [r.settings for r in rows],
        "batch": [r.batch for r in rows],
        "status": [r.status for r in rows],
        "steps to tol": [race.fmt_steps(r.steps_to_tol) for r in rows],
        "theory's steps": [race.fmt_steps(r.predicted) for r in rows],
        "final loss": [fmt(r.final_loss) for r in rows],
        "above the floor": [fmt(max(r.above_floor, 0.0)) for r in rows],
        "µs per step": [f"{r.microseconds_per_step:.3g}" for r in rows],
    }).set_index("run")  # fmt: skip
    widgets.table(frame, key=_k(PAGE, "table"), phone_hide=("settings", "batch", "theory's steps"))
    st.caption(
        "Steps to tol: the step at which the update got shorter than tol (the engine's stop rule), '—' when the run "
        "stopped otherwise (max steps, or diverged). The theory's steps: the closed forms of GD and heavy-ball "
        "momentum on this Hessian (full batch only). µs per step: the run's measured wall time over its steps on "
        "this server (Newton's includes its eigendecomposition, line search and Barzilai-Borwein a Hessian product "
        "or two per step)."
    )


# ---------------------------------------------------------------------------------------------
# The page's link keys: runs off, own settings, batch, shuffle seed, features, pair, hold, step
# ---------------------------------------------------------------------------------------------

_SETTING = re.compile(r"([a-z_]+)\.([a-z_0-9]+):([-+0-9.eE]+)")


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    p = PAGE
    if "off" in q:
        names = [n for n in q["off"].split(",") if n]
        bad = [n for n in names if n not in race.RUNS]
        if bad:
            notices.append(f"Ignored the runs switched off (off) in the link: {query.short(','.join(bad))} is not "
                           f"one of {', '.join(race.RUNS)}.")  # fmt: skip
        st.session_state[_k(p, "off")] = [n for n in names if n in race.RUNS]
    if "features" in q:
        if q["features"] in FEATURES:
            st.session_state[_k(p, "features")] = q["features"]
        else:
            notices.append(f"Ignored the features (features) in the link: it must be {' or '.join(FEATURES)}.")
    if "set" in q:
        mine: dict[str, dict[str, float]] = {}
        for part in q["set"].split(","):
            m = _SETTING.fullmatch(part)
            ok = m and m.group(1) in race.SETTINGS and m.group(2) in race.SETTINGS[m.group(1)]
            if ok:
                try:
                    trial = {s: 0.5 for s in race.SETTINGS[m.group(1)]} | {m.group(2): float(m.group(3))}
                    race.check_settings(m.group(1), trial)
                except (InputError, ValueError):
                    ok = False
            if not ok:
                notices.append(f"Ignored the setting {query.short(part)} (set) in the link: it must read like "
                               "adam.learning_rate:0.01, with a value the optimizer accepts.")  # fmt: skip
                continue
            mine.setdefault(m.group(1), {})[m.group(2)] = float(m.group(3))
        st.session_state[_k(p, "custom")] = mine
        config = state.get_config()  # the link's: its settings belong to its data
        st.session_state[_k(p, "data_id")] = _data_id(config, features(p, config))
    # "race_batch", not "batch": that key is the shared config's batch size (every page's runs).
    if (
        "race_batch" in q
        and (size := query.read_int("race_batch", q["race_batch"], "batch size", notices, low=1)) is not None
    ):
        st.session_state[_k(p, "batch_size")] = size
    if "shuffle" in q and (seed := query.read_int("shuffle", q["shuffle"], "shuffle seed", notices)) is not None:
        st.session_state[_k(p, "shuffle")] = seed
    if "hold" in q:
        if q["hold"] in race.HOLD_MODES:
            st.session_state[_k(p, "hold")] = q["hold"]
        else:
            notices.append(
                f"Ignored where the other params are held (hold): it must be {' or '.join(race.HOLD_MODES)}."
            )
    if "pair" in q:
        config = state.get_config()
        i, _, j = q["pair"].partition(",")
        if re.fullmatch(r"\d{1,4}", i) and re.fullmatch(r"\d{1,4}", j) and i != j:
            which = f"{config.dataset}{config.upload}"
            st.session_state[_k(p, f"pair_x_{which}")] = int(i)
            st.session_state[_k(p, f"pair_y_{which}")] = int(j)
        else:
            notices.append("Ignored the pair of params drawn (pair) in the link: it must be two different numbers, "
                           "like 0,3.")  # fmt: skip
    if "step" in q and (step := query.read_int("step", q["step"], "step", notices)) is not None:
        player.go_to(PAGE, step)


def _write_link() -> dict[str, str]:
    p, q = PAGE, {}
    if names := off(p):
        q["off"] = ",".join(n for n in race.RUNS if n in names)
    if mine := custom(p):
        q["set"] = ",".join(f"{n}.{s}:{v!r}" for n in race.RUNS for s, v in mine.get(n, {}).items())
    if st.session_state.get(_k(p, "features"), "all") != "all":
        q["features"] = st.session_state[_k(p, "features")]
    if (size := st.session_state.get(_k(p, "batch_size"))) is not None:
        q["race_batch"] = str(size)
    if seed := st.session_state.get(_k(p, "shuffle"), 0):
        q["shuffle"] = str(seed)
    config = state.get_config()
    which = f"{config.dataset}{config.upload}"
    kx, ky = _k(p, f"pair_x_{which}"), _k(p, f"pair_y_{which}")
    if kx in st.session_state and ky in st.session_state:
        q["pair"] = f"{int(st.session_state[kx])},{int(st.session_state[ky])}"
    if st.session_state.get(_k(p, "hold"), "optimum") != "optimum":
        q["hold"] = st.session_state[_k(p, "hold")]
    if step := player.cursor(PAGE):
        q["step"] = str(step)
    return q


share.register(PAGE, keys=("off", "set", "features", "race_batch", "shuffle", "pair", "hold", "step"), read=_read_link,
               write=_write_link, bound=widgets.BOUND_FIELDS)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The page's downloads
# ---------------------------------------------------------------------------------------------

CHART_NAMES = {"contour": "Every path on the loss contours", "surface": "Every path on the loss surface",
               "loss": "Loss above the least-squares floor (log)"}  # fmt: skip


def download_menu(prefix: str, res: Result, prob: Problem, batch: int | None, seed: int, step: int) -> None:
    """Every run as CSV (one row per step, the batch in each run's label), the table as CSV, the charts as shown
    at ``step`` (each drawn when its file is asked for)."""
    where = "full batch" if batch is None else f"batch {batch}, seed {seed}"
    labelled = [(f"{race.LABELS[r.name]} ({'full batch' if r.batch_size is None else where})", r.traj)
                for r in res.runs]  # fmt: skip
    figures = {
        f"{prefix}_{c['key']}": (lambda key=c["key"]: race.figure_at(res.player, key, step)) for c in res.player.charts
    }
    downloads.menu(
        prefix, page="race", csv=lambda: export.runs_csv(labelled, prob.param_names),
        csv_label=f"Every run, step by step ({plural(len(res.runs), 'run')}, CSV)", csv_name="runs",
        csv_help="One row per step of each run: the run (with its batch size), params by name, loss, gradients, "
        "the rate used, update norm.", figures=figures, labels=CHART_NAMES,
    )  # fmt: skip
    st.download_button(
        "The race's table (CSV)", data=lambda: race.table_csv(res.rows, batch=batch, seed=seed),
        file_name=export.file_name("race", "table", "csv"), mime="text/csv", key=_k(prefix, "dl_table"),
        on_click="ignore", icon=":material/table:",
        help="One row per run: settings, batch size and seed, status, steps, final loss, µs per step.",
    )  # fmt: skip
