"""The "Download" menu of every page: the run as CSV, any figure as a standalone HTML file, and a Python
script that reproduces the run (the files themselves come from the pure ``gdviz.export``). It knows no page:
each page's ui module calls ``menu`` with its own files, next to its widgets.

Every file is built only when its button is clicked (``st.download_button`` with a callable ``data``, run on
Streamlit's download thread), so a figure's several MB of HTML are never rebuilt on a rerun or a Play tick,
and a click does not rerun the page (``on_click="ignore"``). A figure may itself be given as a function that
builds its spec, called on the click too: a page whose charts live in the browser's player then computes no
figure on a rerun at all. Widget keys: ``{prefix}_download`` (the
popover), ``{prefix}_dl_csv``, ``{prefix}_dl_fig_pick``, ``{prefix}_dl_fig``, ``{prefix}_dl_script``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from gdviz import export
from gdviz.config import RunConfig
from gdviz.engine import Trajectory
from gdviz.ui import state


def _label(prefix: str, key: str, fig: object, labels: Mapping[str, str] | None = None) -> str:
    """A chart's name in the picker: stable across steps (a title that counts steps would reset the pick)."""
    short = key.removeprefix(f"{prefix}_").removesuffix("_chart")
    return (labels or {}).get(short) or export.figure_title(_spec(fig), short.replace("_", " "))


def _spec(fig: object) -> object:
    """A figure given as a spec (dict or go.Figure) or as a function that builds one: the spec."""
    return fig() if callable(fig) else fig


def menu(
    prefix: str,
    *,
    page: str,
    rate: float | None = None,
    csv: Callable[[], str] | None = None,
    csv_label: str = "The run (CSV)",
    csv_name: str = "run",
    csv_help: str = "",
    figures: Mapping[str, object | Callable[[], object]] | None = None,
    labels: Mapping[str, str] | None = None,
    script: Callable[[], str] | None = None,
) -> None:
    """A "Download" popover with a CSV button, a figure picker and its HTML button, and a script button.

    Args:
        prefix: the page's key prefix.
        page: the page's name in the file names, e.g. "playground".
        rate: the learning rate in the file names (None when several rates are involved).
        csv: builds the CSV text (called on click only).
        csv_label, csv_help: the CSV button's label and tooltip.
        csv_name: what the CSV is, in its file name ("run", "runs", "table").
        figures: chart key -> figure spec (or go.Figure), or a function that builds it (called only when its
            file is downloaded, or for its title when ``labels`` does not name it); the picker lists them by
            title.
        labels: chart key without the page prefix -> its name in the picker, where its title will not do.
        script: builds the Python script (called on click only).
    """
    p = prefix
    with st.popover("Download", icon=":material/download:", key=f"{p}_download",
                    help="The run as CSV, a figure as an interactive HTML file, or a Python script that "
                    "reproduces the run."):  # fmt: skip
        if csv is not None:
            st.download_button(
                csv_label, data=csv, file_name=export.file_name(page, csv_name, "csv", rate=rate), mime="text/csv",
                key=f"{p}_dl_csv", on_click="ignore", icon=":material/table:",
                help=csv_help or "One row per step: params by name, loss, gradients, the rate used, update norm.",
            )  # fmt: skip
        if figures:
            labelled = {_label(p, k, fig, labels): fig for k, fig in figures.items()}
            title = st.selectbox("Figure", list(labelled), key=f"{p}_dl_fig_pick",
                                 help="Which chart to save as a standalone, interactive HTML file.")  # fmt: skip
            fig = labelled.get(title) or next(iter(labelled.values()))
            st.download_button(
                "The figure (interactive HTML)", data=lambda: export.figure_html(_spec(fig), title=title),
                file_name=export.file_name(page, title, "html", rate=rate), mime="text/html", key=f"{p}_dl_fig",
                on_click="ignore", icon=":material/insert_chart:",
                help="Opens in any browser, offline: plotly.js is inside the file (about 5 MB). Zoom, pan and "
                "hover work as on the page.",
            )  # fmt: skip
        if script is not None:
            st.download_button(
                "Python script that reproduces it", data=script, file_name=export.file_name(page, "script", "py",
                rate=rate), mime="text/x-python", key=f"{p}_dl_script", on_click="ignore", icon=":material/code:",
                help="Runs the same settings again with the gdviz API and prints the final status, step and "
                "params. Run it from a gdviz checkout.",
            )  # fmt: skip


def upload_source(config: RunConfig) -> export.Upload | None:
    """The uploaded CSV a script must read again, when ``config`` runs on this session's upload (else None)."""
    up = state.upload() if getattr(config, "dataset", "") == "upload" else None
    if up is None:
        return None
    name = up.file_name or "data.csv"
    name = name if "." in name else f"{name}.csv"
    return export.Upload(name, up.target, up.features)


def run_menu(
    prefix: str,
    config: RunConfig,
    traj: Trajectory,
    names: Sequence[str],
    *,
    page: str,
    title: str,
    csv_label: str,
    optimizer: str,
    figures: Mapping[str, object] | None = None,
    labels: Mapping[str, str] | None = None,
    all_features: bool = False,
) -> None:
    """``menu`` for a page that shows one run: ``traj`` as CSV, the page's charts, a script that runs ``config``
    again (its upload read from the CSV file it came from).

    Args:
        title: the page's title, named in the script's docstring.
        optimizer: the optimizer of the run, which names its rate column.
        all_features: the run is plain GD on every feature (the Feature scaling page).
    """
    upload = upload_source(config)
    menu(
        prefix, page=page, rate=config.learning_rate, figures=figures, labels=labels, csv_label=csv_label,
        csv=lambda: export.run_csv(traj, names, optimizer=optimizer),
        script=lambda: export.script(config, all_features=all_features, upload=upload, page=title),
    )  # fmt: skip
