"""Every page's view in its URL: read a link into the shared config and the page's own state, write the
view back, and a "Copy link" box.

A page calls ``enter(prefix)`` first and ``save(prefix)`` once its state is built (the Playground inside its
stepping fragment, so a step is in the URL at once). The shared RunConfig travels as
``gdviz.query.to_query`` keys; each page adds a few of its own (``PAGE_KEYS``). A link is read on a page's
first run with it, or whenever the URL's query differs from what this session last wrote there (browser
Back); every parameter that cannot be used is dropped with a notice, shown once.

Session keys (plain data): ``share_written`` prefix -> the query last written on that page;
``share_app_seen`` and ``share_nav_rerun`` (see ``ensure_app``).
"""

from __future__ import annotations

import re
import runpy
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from gdviz import query, regimes, scaling
from gdviz.config import LINK_KEYS, RunConfig
from gdviz.errors import InputError
from gdviz.sweep import SweepSettings
from gdviz.ui import controls, dataset_for, get_config, problem_for, set_config

APP = Path(__file__).resolve().parents[2] / "app.py"
WRITTEN_KEY = "share_written"
NAV_KEY = "share_nav_rerun"  # set while ensure_app runs app.py
SEEN_KEY = "share_app_seen"  # this session has run a page inside app.py's navigation
_render = st.components.v2.component(
    "gdviz_share_link", js=Path(__file__).with_name("share.js").read_text(), isolate_styles=False
)
EMBED_KEYS = ("embed", "embed_options")  # Streamlit's own: kept as they are, never read as settings
MAX_PINS = 6
# The widgets each page binds to config fields (``controls.bind`` / ``multi.bind``): a loaded link reseeds them.
_CONFIG_WIDGETS = (*controls.CONFIG_FIELDS, "lr_slider")
BOUND = {"pg": _CONFIG_WIDGETS, "math": _CONFIG_WIDGETS, "rg": _CONFIG_WIDGETS, "sc": _CONFIG_WIDGETS,
         "sw": ("dataset", "feature", "scaling")}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Deep links on a fresh server
# ---------------------------------------------------------------------------------------------


def ensure_app() -> None:
    """Make sure the app's navigation runs this page; otherwise switch to it and rerun.

    Until some session has run app.py, Streamlit treats ``pages/`` as an old-style page folder: the first
    visitor of ``/sweep`` gets pages/sweep.py run alone (no app navigation, narrow layout, no Plotly
    preload). Then app.py runs here: its ``st.navigation`` switches Streamlit to the app's pages for good,
    and when it runs this page in turn, that nested run asks for a rerun, which is a normal visit. A rerun
    rather than ``st.stop``: a stopped run skips Streamlit's end-of-run bookkeeping (button triggers, stale
    widgets).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.pop(NAV_KEY, False):
        st.rerun()  # inside app.py's navigation now: start again as a normal run
    # Only a session that has not been through app.py yet: AppTest marks every run as a pages-folder run
    # (it resets the flag per run), and must keep running the page alone as it always has.
    if getattr(PagesManager, "uses_pages_directory", False) and not st.session_state.get(SEEN_KEY):
        st.session_state[NAV_KEY] = True
        runpy.run_path(str(APP), run_name="__main__")
        st.session_state.pop(NAV_KEY, None)
        st.rerun()
    st.session_state[SEEN_KEY] = True


# ---------------------------------------------------------------------------------------------
# Page state <-> query keys
# ---------------------------------------------------------------------------------------------


_int = query.read_int
_rate = query.read_rate


def _pg_read(q: dict[str, str], notices: list[str]) -> None:
    from gdviz.ui import player

    if "step" in q and (step := _int("step", q["step"], "step", notices)) is not None:
        limit = get_config().max_steps
        if step > limit:
            notices.append(
                f"The step (step) in the link, {step:,}, is past the max steps ({limit:,}): showing the last step "
                "this run reaches."
            )
        player.go_to("pg", min(step, limit))


def _pg_write() -> dict[str, str]:
    step = int(st.session_state.get("pg_cursor", 0) or 0)
    return {"step": str(step)} if step else {}


def _rg_read(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q and (step := _int("step", q["step"], "step shown", notices)) is not None:
        st.session_state["rg_step"] = step
    if "rates" in q:
        custom = {}
        for item in q["rates"].split(",")[: len(regimes.SLOTS)]:
            slot, _, text = item.partition(":")
            if slot not in regimes.SLOTS:
                notices.append(
                    f"Ignored a panel rate in the link: {slot[:20]!r} is not one of {', '.join(regimes.SLOTS)}."
                )
            elif (rate := _rate("rates", text, f"{slot} panel's rate", notices)) is not None:
                custom[slot] = rate
        st.session_state["rg_custom"] = custom
    if "pins" in q:
        pins = [r for t in q["pins"].split(",")[:MAX_PINS] if (r := _rate("pins", t, "pinned rate", notices))]
        st.session_state["rg_pinned"] = list(dict.fromkeys(pins))
    for slot in regimes.SLOTS:  # the rate boxes reseed from the custom rates
        st.session_state.pop(f"rg_rate_{slot}", None)


def _rg_write() -> dict[str, str]:
    q = {}
    if (step := st.session_state.get("rg_step")) is not None:
        q["step"] = str(int(step))
    if custom := st.session_state.get("rg_custom"):
        q["rates"] = ",".join(f"{slot}:{rate!r}" for slot, rate in custom.items())
    if pins := st.session_state.get("rg_pinned"):
        q["pins"] = ",".join(repr(float(r)) for r in pins)
    return q


SWEEP_KEYS = {"relative": "rates_in", "low": "low", "high": "high", "n_rates": "n_rates", "max_steps": "sweep_steps"}


def _sweep_default() -> SweepSettings:
    from gdviz import sweep

    return SweepSettings(max_steps=min(get_config().max_steps, sweep.DEFAULT_SWEEP_STEPS))


def _short(text: str) -> str:
    """``text`` quoted and cut to 20 characters (a link can carry anything)."""
    return repr(text[:20] + ("..." if len(text) > 20 else ""))


def _sw_read(q: dict[str, str], notices: list[str]) -> None:
    """The sweep's settings from a link, each on its own: a bad one keeps its default (a count above its
    limit is clamped to it) and says so in the widgets' words; the good ones are kept."""
    from gdviz import sweep
    from gdviz.ui import sweep as ui
    from gdviz.ui.messages import FIELD_LABELS, for_people

    if not any(k in q for k in SWEEP_KEYS.values()):
        return
    values = _sweep_default().__dict__.copy()
    limits = {"n_rates": sweep.MAX_RATES, "max_steps": sweep.MAX_SWEEP_STEPS}
    for field, key in SWEEP_KEYS.items():
        if key not in q:
            continue
        text = q[key].strip()
        label = "rate range" if field == "relative" else FIELD_LABELS.get(field, field)
        if field == "max_steps":
            label = "steps per run"
        try:
            if field == "relative":
                if text not in ("rel", "abs"):
                    raise InputError(f"The rate range must be rel or abs; you entered {_short(text)}.")
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
            reason = for_people(err) if isinstance(err, InputError) else f"{_short(text)} is not a number."
            notices.append(f"Ignored the {label} in the link: {reason}")
    settings = SweepSettings(**values)
    try:
        settings.rates(problem_for(get_config()))
    except InputError as err:
        notices.append(f"Ignored the sweep settings in the link: {for_people(err)} Showing the default sweep.")
        return
    for field, value in settings.__dict__.items():
        st.session_state[f"sw_{field}"] = value
    st.session_state.pop(ui.RUN_KEY, None)  # swept again with these settings


def _sw_write() -> dict[str, str]:
    from gdviz.ui import sweep as ui

    run = st.session_state.get(ui.RUN_KEY)
    if run is None:
        return {}
    default, q = _sweep_default(), {}
    for field, key in SWEEP_KEYS.items():
        value = getattr(run.settings, field)
        if value != getattr(default, field):
            q[key] = ("rel" if value else "abs") if field == "relative" else repr(value)
    return q


def _sc_run_id(config: RunConfig) -> tuple:
    return (config.dataset, config.scaling, config.learning_rate, config.tol, config.max_steps)  # multi.step_slider's


def _sc_read(q: dict[str, str], notices: list[str]) -> None:
    from gdviz.ui import multi

    config = get_config()
    if "pair" in q:
        try:
            n_params = multi.problem(config.dataset, config.scaling).n_params
        except InputError:
            n_params = 0
        i, _, j = q["pair"].partition(",")
        ok = re.fullmatch(r"\d{1,4}", i) and re.fullmatch(r"\d{1,4}", j) and int(i) != int(j)
        if ok and max(int(i), int(j)) < n_params:
            st.session_state[f"sc_pair_x_{config.dataset}"] = int(i)
            st.session_state[f"sc_pair_y_{config.dataset}"] = int(j)
        else:
            notices.append(
                f"Ignored the surface's pair of params (pair) in the link: it must be two different numbers "
                f"from 0 to {max(n_params - 1, 0)}, like 0,1."
            )
    if "hold" in q:
        if q["hold"] in scaling.HOLD_MODES:
            st.session_state["sc_hold"] = q["hold"]
        else:
            notices.append(
                f"Ignored where the other params are held (hold): it must be {' or '.join(scaling.HOLD_MODES)}."
            )
    if "step" in q and (step := _int("step", q["step"], "step", notices)) is not None:
        st.session_state["sc_step"] = step
        st.session_state["sc_run_id"] = _sc_run_id(config)  # so the slider keeps it instead of the opening step


def _sc_write() -> dict[str, str]:
    config, q = get_config(), {}
    kx, ky = f"sc_pair_x_{config.dataset}", f"sc_pair_y_{config.dataset}"
    if kx in st.session_state and ky in st.session_state:
        q["pair"] = f"{int(st.session_state[kx])},{int(st.session_state[ky])}"
    if (hold := st.session_state.get("sc_hold")) not in (None, next(iter(scaling.HOLD_MODES))):
        q["hold"] = hold
    if (step := st.session_state.get("sc_step")) is not None:
        q["step"] = str(int(step))
    return q


def _math_read(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q and (step := _int("step", q["step"], "step", notices)) is not None:
        st.session_state["math_step"] = step


def _math_write() -> dict[str, str]:
    step = st.session_state.get("math_step")
    return {"step": str(int(step))} if step else {}


# prefix -> (its own query keys, read them into session state, write them from it)
PAGE_KEYS: dict[str, tuple[tuple[str, ...], Callable, Callable]] = {
    "pg": (("step",), _pg_read, _pg_write),
    "rg": (("step", "rates", "pins"), _rg_read, _rg_write),
    "sw": (tuple(SWEEP_KEYS.values()), _sw_read, _sw_write),
    "sc": (("pair", "hold", "step"), _sc_read, _sc_write),
    "math": (("step",), _math_read, _math_write),
}


def _page_keys(prefix: str) -> tuple[tuple[str, ...], Callable, Callable]:
    """A page's own keys and their reader and writer; a page without any shares the config only."""
    return PAGE_KEYS.get(prefix, ((), lambda q, notices: None, dict))


# ---------------------------------------------------------------------------------------------
# Reading and writing the URL
# ---------------------------------------------------------------------------------------------


def _query() -> dict[str, list[str]]:
    """The URL's query, every value of a repeated key kept, Streamlit's embed keys left out."""
    return {k: st.query_params.get_all(k) for k in st.query_params if k not in EMBED_KEYS}


def view_query(prefix: str) -> dict[str, str]:
    """The query that describes this page's current view: the shared config, then the page's own keys."""
    return {**query.to_query(get_config()), **_page_keys(prefix)[2]()}


def escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped (a link's values are shown as typed, never styled)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$])", r"\\\1", text)


def load(prefix: str, params: dict[str, list[str]]) -> list[str]:
    """Read ``params`` (a link) into the shared config and this page's state; returns the notices."""
    config, notices = query.from_query(params)
    try:
        problem_for(config)  # loads the data: a dataset that cannot be fetched here is reported
    except InputError as err:
        notices.append(f"{err} Showing the synthetic line instead.")
        config = config.replace(dataset="synthetic_line", feature=0)
    n_features = dataset_for(config).n_features
    if config.feature >= n_features:
        notices.append(f"Ignored the feature (feature) in the link: this dataset has features 0 to {n_features - 1}.")
        config = config.replace(feature=0)
    set_config(config)
    for p, fields in BOUND.items():  # the widgets show the link's values, not the ones they had
        for field in (*fields, "error"):
            st.session_state.pop(f"{p}_{field}", None)
    own, read, _ = _page_keys(prefix)
    unknown = [k for k in params if k not in LINK_KEYS.values() and k not in own]
    if unknown:
        shown = ", ".join(repr(k[:20]) for k in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        notices.append(f"Ignored {shown} in the link: this page has no such setting.")
    single = {}
    for key in own:
        if key in params:
            values = params[key]
            if len(values) != 1 or len(values[0]) > 200:
                notices.append(f"Ignored {key} in the link: it must be given once, as a short value.")
            else:
                single[key] = values[0]
    read(single, notices)
    return notices


def enter(prefix: str) -> None:
    """First thing on a page: make sure the app's navigation runs, read a new link, show its notices once,
    and put the "Copy link" box at the top of the sidebar."""
    ensure_app()
    params = _query()
    written = st.session_state.get(WRITTEN_KEY, {})
    # The app's own query, carried to another page, is no link: only a query this session did not write is.
    if params and params != written.get(prefix) and params not in written.values():
        notices = load(prefix, params)
        written[prefix] = params
        st.session_state[WRITTEN_KEY] = written
        for notice in notices:
            st.warning(escape(notice), icon=":material/link_off:")
    link_box(prefix)


def save(prefix: str) -> None:
    """Once the page's state is built: write its view into the URL when it changed (no rerun follows)."""
    if prefix == "pg" and st.session_state.get("pg_playing"):
        return  # one history entry per Play tick would bury the user's own steps under Back
    query = view_query(prefix)
    wanted = {k: [v] for k, v in query.items()}
    written = st.session_state.setdefault(WRITTEN_KEY, {})
    if _query() != wanted:
        embed = {k: st.query_params.get_all(k) for k in EMBED_KEYS if k in st.query_params}
        st.query_params.from_dict({**embed, **query})
    written[prefix] = wanted


def page_url(prefix: str) -> str:
    """The full URL of this view as the server knows it (the browser's own address is used when it can)."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    query = urlencode(view_query(prefix))
    return f"{base}?{query}" if query else base


def link_box(prefix: str) -> None:
    """The "Copy link" box in the sidebar: the address of this exact view, and a button that copies it."""
    with st.sidebar:
        st.caption("Link to this exact view (settings, step, page):")
        # Not "{prefix}_...": Streamlit keeps an unpicklable presenter under a component's key, and the page
        # tests check that every "{prefix}_" key pickles.
        _render(key=f"share_link_{prefix}", data={"url": page_url(prefix)}, height="content")
        if get_config().dataset == "upload":
            st.caption("Uploaded data is not in the link: whoever opens it sees the default data.")
