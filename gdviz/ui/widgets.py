"""Sidebar controls bound to the shared RunConfig: every widget edits one field, validated by RunConfig.

Widgets are keyed ``f"{prefix}_{field}"`` and only read their value from session state (never ``value=``):
``bind`` seeds missing keys from the config (a widget's state is dropped when the user leaves its page),
and each widget's callback writes the new field into the config. A value RunConfig rejects, or a dataset
that cannot be loaded, is reported with its message and the widget goes back to the previous value, so
nothing the user had is lost.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import streamlit as st

from gdviz import analysis, data, explain, regimes, runs, sweep, thinning
from gdviz.analysis import Regime
from gdviz.config import EXP_DECAY, FIELDS, RATE_MAX, RATE_MIN, SETTABLE_FIELDS, RunConfig
from gdviz.config import names as config_names
from gdviz.engine import Trajectory
from gdviz.errors import InputError
from gdviz.plots._spec import REGIME_COLORS, REGIME_LABELS
from gdviz.ui import cache, share, state
from gdviz.ui.messages import for_people

# The learning-rate slider: 1e-6 .. 10 on the Renard R20 series (20 round values per decade, nearly evenly
# spaced in log terms). Round values people type are on it: 0.05 shows as 0.05, never as 10^-1.3 = 0.0501.
RATE_LO, RATE_HI = 1e-6, 10.0
_R20 = (1.0, 1.12, 1.25, 1.4, 1.6, 1.8, 2.0, 2.24, 2.5, 2.8, 3.15, 3.55, 4.0, 4.5, 5.0, 5.6, 6.3, 7.1, 8.0, 9.0)
RATE_GRID: tuple[float, ...] = (*(float(f"{m * 10.0**e:.3g}") for e in range(-6, 1) for m in _R20), RATE_HI)

OPTIMIZER_LABELS = {
    "gd": "Plain gradient descent",
    "momentum": "Momentum (heavy ball)",
    "nesterov": "Nesterov momentum",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
}
SCHEDULE_LABELS = {
    "constant": "Constant",
    "inverse_time": "Inverse time: lr / (1 + decay * t)",
    "inverse_scaling": "Inverse scaling: lr / (t + 1)^power",
    "exponential_decay": "Exponential: lr * (1 - decay)^t",
    "step_decay": "Step: lr * factor every N steps",
}
SCALING_CHOICES = {name: data.SCALING_LABELS[name] for name in data.SCALINGS}  # in data.SCALINGS order
PRESETS = ("slow", "good", "fastest", "oscillating", "divergent")
PRESET_HELP = {
    "slow": "rate = 0.05 / lambda_max: every step shrinks the stiff direction's error by only 5%.",
    "good": "rate = 0.5 / lambda_max: fast and monotone.",
    "fastest": "rate = 2 / (lambda_min + lambda_max): the constant rate with the smallest worst-case shrink factor "
    "over all directions, the best guarantee for any start. It lies above 1/lambda_max, so the stiff direction "
    "zig-zags (it reads Oscillating) while the slow one is as fast as it can be. From one given start another "
    "rate can need fewer steps: the measured best is shown under these buttons.",
    "oscillating": "rate = 1.6 / lambda_max: overshoots the valley every step but still converges.",
    "divergent": "rate = 2.1 / lambda_max: just past 2/lambda_max, every step overshoots by more than it corrects.",
}


def _key(prefix: str, field: str) -> str:
    return f"{prefix}_{field}"


def nearest_grid_rate(rate: float) -> float:
    """The slider position for an exact rate: the nearest grid value in log terms."""
    grid = np.asarray(RATE_GRID)
    return float(grid[np.argmin(np.abs(np.log(grid) - np.log(max(rate, 1e-300))))])


def thinned_note(traj: Trajectory, snaps: str) -> str:
    """The sentence a step widget's help adds when ``traj`` is stored thinned ("" when every step is stored);
    ``snaps`` says what the widget does with a step that is not stored."""
    gaps = np.diff(traj.step)
    if not gaps.size or gaps.max() == 1:
        return ""
    dense = int(traj.step[int(np.argmax(gaps > 1))])
    return (
        f" To keep memory bounded, every step up to {dense:,} is stored and later ones at a stride that doubles "
        f"(2, 4, 8...): {snaps}"
    )


def keep_step(
    key: str, *, opening: int, snap: Callable[[int], int] | None = None, run_key: str = "", run_id: object = None
) -> int:
    """The step under session key ``key`` (a step widget's), kept in step with its run before the widget is
    drawn; the one way every step widget of the app follows its run.

    Args:
        opening: the step when the key is missing (the user left the page, or a widget keyed per run or per
            step is new) or, with ``run_key``, when the run changed.
        snap: moves a step onto one the widget offers (``stored_step``, or a slider's options); None keeps it.
        run_key, run_id: where the run the step belongs to is recorded, and the current one.

    Returns:
        The step, also left under ``key``.
    """
    if key not in st.session_state or (run_key and st.session_state.get(run_key) != run_id):
        if run_key:
            st.session_state[run_key] = run_id
        st.session_state[key] = opening
    if snap is not None:
        st.session_state[key] = snap(st.session_state[key])
    return int(st.session_state[key])


def stored_step(traj: Trajectory) -> Callable[[int], int]:
    """Clamp a step to ``traj`` (a new run may be shorter) and snap it to a stored step (a long run is thinned)."""
    last = int(traj.step[-1])
    return lambda step: thinning.snap(traj, int(np.clip(step or 0, 0, last)))


def line_names(config: RunConfig) -> tuple[str, str]:
    """The two params of a one-feature run, named for the chart axes: the intercept and the feature's slope."""
    ds = cache.dataset_for(config)
    return ("intercept", f"slope on {ds.feature_names[min(config.feature, ds.n_features - 1)]}")


def bind(prefix: str, fields: tuple[str, ...]) -> None:
    """Seed the widget keys of ``fields`` from the config where they are missing."""
    config = state.get_config()
    for field in fields:
        key = _key(prefix, field)
        if key not in st.session_state:
            st.session_state[key] = getattr(config, field)
    if _key(prefix, "lr_slider") not in st.session_state:
        st.session_state[_key(prefix, "lr_slider")] = nearest_grid_rate(config.learning_rate)


def _apply(prefix: str, **changes) -> bool:
    """Write ``changes`` into the config; on a rejected value report it and restore the widgets."""
    share.note_widget_change()  # a callback's rerun: the address it carries is no link (share.enter)
    old = state.get_config()
    notice = ""
    try:
        new, notice = _fit_batch(old, changes)
    except InputError as err:
        st.session_state[_key(prefix, "error")] = for_people(err)
        for field in changes:
            if _key(prefix, field) in st.session_state:
                st.session_state[_key(prefix, field)] = getattr(old, field)
        return False
    st.session_state.pop(_key(prefix, "error"), None)
    st.session_state.pop(_key(prefix, "notice"), None)
    if notice:
        st.session_state[_key(prefix, "notice")] = notice
        st.session_state[_key(prefix, "batch_size")] = 0
    state.set_config(new)
    return True


def _fit_batch(old: RunConfig, changes: dict) -> tuple[RunConfig, str]:
    """``old`` with ``changes``, its data loaded (a fetch that fails offline raises here), and a notice when the
    batch size had to go back to full batch: a new data set (or fewer points) with fewer rows than the batch.
    A batch size the user typed above the rows is refused instead (InputError)."""
    try:
        new = old.replace(**changes)
        rows = cache.problem_for(new).n_samples
    except InputError as err:
        if err.field != "batch_size" or "batch_size" in changes:
            raise
        new = old.replace(**changes, batch_size=0)
        rows = cache.problem_for(new).n_samples
    if new.batch_size > rows:
        if "batch_size" in changes:
            runs.check_batch(new, cache.problem_for(new))
        new = new.replace(batch_size=0)
    if new.batch_size == old.batch_size or "batch_size" in changes:
        return new, ""
    return new, (
        f"The batch size {old.batch_size:,} is more than the {rows:,} rows of this data: back to full batch (0)."
    )


def select(prefix: str, field: str, label: str, labels: dict, *, on_change=None, args=None, help=None) -> None:
    """A select box for the RunConfig ``field`` under the key ``{prefix}_{field}``: ``labels`` maps each
    option to what the box shows; by default a change goes to the shared config and the help is the field's."""
    st.selectbox(
        label,
        list(labels),
        format_func=labels.get,
        key=_key(prefix, field),
        on_change=on_change or _on_field,
        args=args or (prefix, field),
        help=help or FIELDS[field].help,
    )


def _on_field(prefix: str, field: str) -> None:
    _apply(prefix, **{field: st.session_state[_key(prefix, field)]})


def _on_dataset(prefix: str) -> None:
    if _apply(prefix, **state.dataset_changes(st.session_state[_key(prefix, "dataset")]), feature=0):
        st.session_state[_key(prefix, "feature")] = 0


def set_rate(prefix: str, rate: float, *, move_slider: bool = True) -> bool:
    """Set the learning rate everywhere: config, exact box and (unless ``move_slider`` is False) the slider;
    False (and reported) if rejected."""
    if _apply(prefix, learning_rate=float(rate)):
        st.session_state[_key(prefix, "learning_rate")] = float(rate)
        if move_slider:
            st.session_state[_key(prefix, "lr_slider")] = nearest_grid_rate(rate)
        return True
    return False


def _on_slider(prefix: str) -> None:
    # The slider's own key is not written back: Streamlit would send the browser that value, and a slider the
    # user has moved on since (fast key presses) would jump back to it.
    set_rate(prefix, st.session_state[_key(prefix, "lr_slider")], move_slider=False)


def _on_exact(prefix: str) -> None:
    slider = st.session_state.get(_key(prefix, "lr_slider"))
    if slider is not None and slider != st.session_state.get(_key(prefix, "lr_slider_shown"), slider):
        # The slider moved in this same rerun: the user is on the slider, and the box's value is one it showed
        # before the server set it (a browser busy drawing sends it back with the slider's move). The slider
        # wins; its callback sets the box.
        st.session_state[_key(prefix, "learning_rate")] = float(slider)
        return
    value = st.session_state[_key(prefix, "learning_rate")]
    if value is None or value <= 0:  # a cleared box (it falls back to its minimum, 0) keeps the rate it had
        kept = state.get_config().learning_rate
        st.session_state[_key(prefix, "learning_rate")] = kept
        st.session_state[_key(prefix, "error")] = (
            f"The learning rate must be a number above 0 (e.g. 0.05); it stays at {kept:g}."
        )
        return
    set_rate(prefix, value)


def preset_rate(problem, name: str) -> tuple[float, str]:
    """The rate of preset ``name`` for ``problem`` (4 significant figures), moved into the range a run
    accepts, [RATE_MIN, RATE_MAX], and a sentence saying so when it had to move ("" when not)."""
    rate = analysis.regime_rates(problem)[name]
    kept = regimes.round_rate(rate)
    if RATE_MIN <= rate <= RATE_MAX:
        return kept, ""
    side = "below the smallest" if rate < RATE_MIN else "above the largest"
    regime = REGIME_LABELS[analysis.predict_regime(problem, kept)]
    differs = name in ("slow", "good", "oscillating", "divergent") and regime.lower() != name
    return kept, (
        f"The {name.capitalize()} preset's rate for this data, {rate:.3g}, is {side} rate allowed; the rate "
        f"is set to {kept:g} instead, which on this data is in the {regime.lower()} regime"
        + (f", not the {name} one." if differs else ".")
    )


BETA_MAX = 0.9999  # the beta box's top: RunConfig's range is open at 1
MOMENTUM_HELP = (
    "Heavy ball at Polyak's optimal settings for this data: rate (2 / (sqrt(lambda_max) + sqrt(lambda_min)))^2 "
    "and beta ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, kappa = lambda_max / lambda_min. Each step then "
    "shrinks the error by about (sqrt(kappa) - 1) / (sqrt(kappa) + 1), against (kappa - 1) / (kappa + 1) for "
    "plain GD at its best rate (the theory panel shows both)."
)


def momentum_preset(problem) -> tuple[float, float, str]:
    """The Optimal momentum preset for ``problem``: (rate, beta, notice), each to 4 significant figures, the
    rate moved into the range a run accepts and beta below 1 (at most BETA_MAX); notice says what moved."""
    lr, beta = analysis.optimal_momentum(problem)
    rate, kept = regimes.round_rate(lr), min(float(f"{beta:.4g}"), BETA_MAX)
    moved = []
    if rate != float(f"{lr:.4g}"):
        moved.append(f"its rate {lr:.3g} is outside the rates allowed, so it is {rate:g}")
    if kept != float(f"{beta:.4g}"):
        moved.append(
            f"its beta {beta:.8g} is too close to 1 for a run (the valley is this elongated), so it is {kept:g}"
        )
    return rate, kept, ("The Optimal momentum preset on this data: " + "; ".join(moved) + ".") if moved else ""


def _momentum_preset(prefix: str) -> None:
    rate, beta, notice = momentum_preset(cache.problem_for(state.get_config()))
    if _apply(prefix, optimizer="momentum", learning_rate=rate, beta=beta):
        for field, value in (("optimizer", "momentum"), ("learning_rate", rate), ("beta", beta)):
            st.session_state[_key(prefix, field)] = value
        st.session_state[_key(prefix, "lr_slider")] = nearest_grid_rate(rate)
        if notice:
            st.session_state[_key(prefix, "notice")] = notice


def _preset(prefix: str, name: str) -> None:
    rate, notice = preset_rate(cache.problem_for(state.get_config()), name)
    if set_rate(prefix, rate) and notice:
        st.session_state[_key(prefix, "notice")] = notice


# A table on a phone (up to 640 px): smaller type, tight cells that wrap, and, when that is not enough, a few
# columns left out with a line saying which, so that every column shown fits the screen instead of the last ones
# hiding behind a sideways scroll nobody sees. ``{key}`` is the table's container.
PHONE_TABLE_CSS = """<style>
.st-key-{key} .gdviz-phone-only {{ display: none; }}
@media (max-width: 640px) {{
  .st-key-{key} table {{ font-size: 0.68rem; line-height: 1.25; width: 100%; }}
  .st-key-{key} th, .st-key-{key} td {{ white-space: normal !important; overflow-wrap: anywhere;
    padding: 0.25rem 0.2rem !important; min-width: 0; }}
  .st-key-{key} .gdviz-phone-only {{ display: block; font-size: 0.8rem; color: #555; }}
  {hidden}
}}
</style>"""


def table(frame, *, key: str, phone_hide: tuple[str, ...] = ()) -> None:
    """``frame`` as a plain st.table in a container keyed ``key`` that fits a phone's width (PHONE_TABLE_CSS):
    the columns ``phone_hide`` are left out there, and a line under the table names them."""
    cells = [
        f".st-key-{key} tr > :nth-child({list(frame.columns).index(name) + 2})"  # + 1: 1-based, + 1: the index
        for name in phone_hide
    ]
    hidden = f"{', '.join(cells)} {{ display: none; }}" if cells else ""
    with st.container(key=key):
        st.html(PHONE_TABLE_CSS.format(key=key, hidden=hidden))
        st.table(frame)
        if phone_hide:
            names = " and ".join(f"'{name}'" for name in phone_hide)
            verb, them = ("is", "it") if len(phone_hide) == 1 else ("are", "them")
            st.html(f'<div class="gdviz-phone-only">On a narrow screen {names} {verb} left out: turn the phone '
                    f"sideways, or download the table, to see {them}.</div>")  # fmt: skip


def fastest_note(prefix: str, config: RunConfig, problem) -> None:
    """The Fastest preset against the measured best rate from this start (plain GD), one line, and why they
    differ in an expander (``explain.fastest_story``)."""
    best = cache.best_rate(config)
    opt = float(f"{analysis.thresholds(problem).optimal:.4g}")
    if best is None:
        line = f"Fastest = 2/(lambda_min + lambda_max) = {explain.fmt(opt, 4)}; no rate reaches tol within the cap."
    else:
        took = explain.plural(best.fastest_steps, "step") if best.fastest_steps is not None else "over the cap"
        line = (
            f"Fastest, 2/(lambda_min + lambda_max) = {explain.fmt(best.fastest_rate, 4)}: {took} from this start. "
            f"Measured best: {explain.fmt(best.learning_rate, 4)}, {explain.plural(best.steps, 'step')} (plain GD)."
        )
    with st.container(key=_key(prefix, "fastest_note")):
        st.caption(line)
        with st.expander("Why is Fastest not always the fewest steps?"):
            st.markdown(explain.fastest_story(problem, best, runs.init_params(config, problem)))


def _number(prefix: str, field: str, label: str, *, help: str = "", **kwargs) -> None:
    """The number box of ``field``: its help text and, unless given, its lowest value come from the field table."""
    kwargs.setdefault("min_value", FIELDS[field].constraint.lowest)
    st.number_input(
        label, key=_key(prefix, field), help=help or FIELDS[field].help, on_change=_on_field, args=(prefix, field),
        **kwargs,
    )  # fmt: skip


def regime_band_html(problem, rate: float) -> str:
    """A coloured band on the slider's log scale (1e-6 .. 10): where each regime lies for this data."""
    lo, hi = np.log10(RATE_LO), np.log10(RATE_HI)
    edges = [RATE_LO, *sweep.regime_edges(problem), RATE_HI]
    pos = [float(np.clip((np.log10(e) - lo) / (hi - lo), 0, 1)) * 100 for e in edges]
    short = {Regime.SLOW: "slow", Regime.GOOD: "good", Regime.OSCILLATING: "osc.", Regime.DIVERGENT: "diverges"}
    cells = []
    for k, regime in enumerate((Regime.SLOW, Regime.GOOD, Regime.OSCILLATING, Regime.DIVERGENT)):
        width = pos[k + 1] - pos[k]
        if width <= 0:
            continue
        label = short[regime] if width > 7 else ""
        title = f"{REGIME_LABELS[regime]}: {edges[k]:.3g} to {edges[k + 1]:.3g}"
        cells.append(
            f'<div title="{html.escape(title)}" style="flex:0 0 {width:.3f}%;background:{REGIME_COLORS[regime]};'
            f'color:#000;font-size:0.7rem;text-align:center;overflow:hidden;white-space:nowrap">{label}</div>'
        )
    mark = float(np.clip((np.log10(rate) - lo) / (hi - lo), 0, 1)) * 100
    return (
        '<div data-testid="gdviz-regime-band" style="position:relative;margin:-0.6rem 0 0.2rem 0">'
        f'<div style="display:flex;height:1.1rem;border-radius:3px;overflow:hidden">{"".join(cells)}</div>'
        f'<div style="position:absolute;top:-3px;left:calc({mark:.3f}% - 1px);width:3px;height:calc(1.1rem + 6px);'
        'background:#000"></div>'
        f'<div style="font-size:0.7rem;color:#555">Regimes of plain GD on this data: slow below {edges[1]:.3g}, '
        f"oscillating from {edges[2]:.3g}, diverging from {edges[3]:.3g}.</div></div>"
    )


def data_controls(prefix: str, *, synthetic_settings: bool = True) -> None:
    """The shared data widgets (call inside the sidebar): dataset, the synthetic line's settings (or the
    feature of a real table) and scaling, bound to the shared RunConfig under ``prefix``-keyed widgets.

    Args:
        synthetic_settings: show the synthetic line's settings (pages that leave them to the Playground
            pass False).
    """
    p = prefix
    config = state.get_config()
    # With "Your data: <file>" once this session has an upload.
    select(p, "dataset", "Dataset", state.dataset_labels(), on_change=_on_dataset, args=(p,))
    if config.dataset == "synthetic_line":
        if synthetic_settings:
            with st.expander("Synthetic line settings"):
                _number(p, "n_samples", "Points", max_value=10_000, step=1)
                _number(p, "slope", "True slope", format="%g")
                _number(p, "intercept", "True intercept", format="%g")
                _number(p, "noise", "Noise", format="%g")
                _number(p, "x_loc", "x centre", format="%g")
                _number(p, "x_scale", "x spread", min_value=1e-6, format="%g")  # the range is open at 0
                _number(p, "seed", "Seed", step=1)
    else:
        names = cache.dataset_for(config).feature_names
        st.selectbox(
            "Feature",
            range(len(names)),
            format_func=lambda i: names[i],
            key=_key(p, "feature"),
            on_change=_on_field,
            args=(p, "feature"),
            help=FIELDS["feature"].help,
        )
    select(p, "scaling", "Feature scaling", SCALING_CHOICES)


def batch_control(prefix: str) -> None:
    """The batch size box (0 = full batch, up to the data's rows), bound to the shared RunConfig."""
    config = state.get_config()
    rows = cache.problem_for(config).n_samples
    if config.batch_size > rows:  # e.g. the session's upload was replaced by a shorter table
        state.set_config(config.replace(batch_size=0))
        st.session_state[_key(prefix, "batch_size")] = 0
        st.warning(f"The batch size {config.batch_size:,} is more than the {rows:,} rows of this data: back to "
                   "full batch (0).")  # fmt: skip
    _number(
        prefix, "batch_size", "Mini-batch size (0 = full batch)", max_value=rows, step=1,
        help=FIELDS["batch_size"].help + f" This data has {rows:,} rows.",
    )  # fmt: skip


def start_stop_controls(prefix: str, *, max_steps_note: str = "", batch: bool = True) -> None:
    """The shared batch size (unless ``batch`` is False), start point, tol and max steps (call inside the
    sidebar), bound to the shared RunConfig."""
    p = prefix
    if batch:
        batch_control(p)
    c1, c2 = st.columns(2)
    with c1:
        _number(p, "init_intercept", "Start intercept", format="%g")
    with c2:
        _number(p, "init_slope", "Start slope", format="%g")
    _number(p, "tol", "tol", format="%.1e")
    steps = FIELDS["max_steps"]
    top = steps.constraint.highest
    _number(p, "max_steps", "Max steps", help=steps.help + max_steps_note, max_value=top, step=1000)


def shared_sidebar(prefix: str, *, step_cap: int) -> None:
    """The sidebar of a page that races several runs on the shared data: dataset, scaling, start point, tol and
    max steps (bound to the shared RunConfig under ``prefix``-keyed widgets), with a refused value's message.

    Args:
        step_cap: the most steps a run of the page takes, said under max steps.
    """
    p = prefix
    # Not the batch size: a race page keeps its own (``{prefix}_batch_size``, None for full batch), for its
    # fixed-rate runs only.
    bind(p, tuple(f for f in config_names("data", "problem", "run", settable=True) if f != "batch_size"))
    with st.sidebar:
        if err := st.session_state.get(_key(p, "error")):
            st.error(err)
        st.caption("Shared with the other pages: change them here or there.")
        st.subheader("Data")
        data_controls(p)
        st.subheader("Start and stop")
        start_stop_controls(p, max_steps_note=f" On this page every run stops by {step_cap:,}.", batch=False)


def sidebar(prefix: str) -> None:
    """Every control of a one-feature run, in the sidebar: data, learning rate, optimizer, scaling, start."""
    config = state.get_config()
    problem = cache.problem_for(config)
    p = prefix
    with st.sidebar:
        if err := st.session_state.get(_key(p, "error")):
            st.error(err)
        if notice := st.session_state.get(_key(p, "notice")):
            st.warning(notice)
        st.subheader("Data")
        data_controls(p)

        st.subheader("Learning rate")
        # The slider sits at the grid value nearest the rate in use; its label there says the rate in use
        # (a link's or a preset's exact rate, e.g. 0.15 at the 0.16 position), never another number.
        rate, at = config.learning_rate, nearest_grid_rate(config.learning_rate)
        st.select_slider(
            "Learning rate (log scale)",
            RATE_GRID,
            format_func=lambda v: f"{rate:.6g}" if v == at else f"{v:g}",
            key=_key(p, "lr_slider"),
            on_change=_on_slider,
            args=(p,),
            help="Drag along a log scale from 1e-6 to 10. The band below shows this data's regimes.",
        )
        st.session_state[_key(p, "lr_slider_shown")] = st.session_state[_key(p, "lr_slider")]  # see _on_exact
        st.html(regime_band_html(problem, config.learning_rate))
        st.number_input(
            "Exact learning rate",
            min_value=0.0,  # not 1e-12: a cleared box falls back to the minimum, which must not look like a rate
            max_value=999_999.0,  # RunConfig's range is [1e-12, 1e6): open at the top
            format="%.6g",
            key=_key(p, "learning_rate"),
            on_change=_on_exact,
            args=(p,),
            help=FIELDS["learning_rate"].help,
        )
        st.caption("Set the rate to a regime of this data:")
        with st.container(horizontal=True, gap="small"):
            for name in PRESETS:
                st.button(
                    name.capitalize(),
                    key=_key(p, f"preset_{name}"),
                    on_click=_preset,
                    args=(p, name),
                    help=PRESET_HELP[name],
                )
        fastest_note(p, config, problem)

        st.subheader("Optimizer")
        select(p, "optimizer", "Optimizer", OPTIMIZER_LABELS)
        st.button(
            "Optimal momentum", key=_key(p, "preset_momentum"), on_click=_momentum_preset, args=(p,),
            help=MOMENTUM_HELP,
        )  # fmt: skip
        if FIELDS["beta"].reads(config):  # each setting is shown where the run reads it
            _number(p, "beta", "Momentum beta", max_value=BETA_MAX, format="%.4f")  # the range is open at 1
        if FIELDS["rms_decay"].reads(config):
            _number(p, "rms_decay", "Decay", max_value=0.9999, format="%.4f")
        if FIELDS["b1"].reads(config):
            _number(p, "b1", "beta1", max_value=0.9999, format="%.4f")
            _number(p, "b2", "beta2", max_value=0.99999, format="%.5f")
        if FIELDS["eps"].reads(config):
            _number(p, "eps", "epsilon", min_value=0.0, format="%.1e")  # 0 can be typed, and is refused in words
        select(p, "schedule", "Schedule", SCHEDULE_LABELS)
        if FIELDS["decay_rate"].reads(config):
            exponential = config.schedule == "exponential_decay"
            _number(
                p,
                "decay_rate",
                "Decay",
                help=FIELDS["decay_rate"].help
                + (
                    f" Below 1 (up to {EXP_DECAY.highest:g}): at 1 every rate after the first would be 0."
                    if exponential
                    else ""
                ),
                max_value=EXP_DECAY.highest if exponential else 1.0,
                format="%.4f",
            )
        if FIELDS["power_t"].reads(config):
            _number(p, "power_t", "Power", max_value=10.0, format="%.3f")
        if FIELDS["factor"].reads(config):
            factor = FIELDS["factor"].constraint
            _number(p, "factor", "Factor", min_value=1e-6, max_value=factor.highest, format="%.3f")  # open at 0
            _number(p, "every", "Every N steps", step=1)

        st.subheader("Batch, start and stop")
        start_stop_controls(p)


CONFIG_FIELDS = SETTABLE_FIELDS  # every field a person sets: the widgets bind() seeds
# The session keys (``{page}_{field}``) of a page with every widget above: a loaded link drops them (share).
BOUND_FIELDS = (*CONFIG_FIELDS, "lr_slider")
