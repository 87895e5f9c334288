"""The "Download" section of every page: the run as CSV, any figure as a standalone HTML file, and a Python
script that reproduces the run (the files themselves come from the pure ``gdviz.export``).

Every file is built only when its button is clicked (``st.download_button`` with a callable ``data``, run on
Streamlit's download thread), so a figure's several MB of HTML are never rebuilt on a rerun or a Play tick,
and a click does not rerun the page (``on_click="ignore"``). Widget keys: ``{prefix}_download`` (the
popover), ``{prefix}_dl_csv``, ``{prefix}_dl_fig_pick``, ``{prefix}_dl_fig``, ``{prefix}_dl_script``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from gdviz import export
from gdviz.config import RunConfig
from gdviz.engine import Trajectory

UPLOAD_KEY = "gdviz_upload"  # where the "Your data" page keeps an uploaded Dataset (agreed interface)
# Names of the charts whose own title is missing or says something else (chart key without the page prefix).
LABELS = {
    "surface": "Loss surface (3D)",
    "contour": "Path on the loss contours",
    "line": "Fitted line over the data",
    "loss": "Loss over the steps",
    "grads": "Gradient magnitude over the steps",
    "bars": "Gradient per parameter",
    "grad_start": "Gradient per weight at step 0",
    "grad_step": "Gradient per weight at the chosen step",
    "grad_history": "Gradient per weight over the steps",
}


def _label(prefix: str, key: str, fig: object, labels: Mapping[str, str] | None = None) -> str:
    """A chart's name in the picker: stable across steps (a title that counts steps would reset the pick)."""
    short = key.removeprefix(f"{prefix}_").removesuffix("_chart")
    return (labels or {}).get(short) or LABELS.get(short) or export.figure_title(fig, short.replace("_", " "))


def downloads(
    prefix: str,
    *,
    page: str,
    rate: float | None = None,
    csv: Callable[[], str] | None = None,
    csv_label: str = "The run (CSV)",
    csv_name: str = "run",
    csv_help: str = "",
    figures: Mapping[str, object] | None = None,
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
        figures: chart key -> figure spec (or go.Figure); the picker lists them by title.
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
                "The figure (interactive HTML)", data=lambda: export.figure_html(fig, title=title),
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
    """The uploaded CSV a script must read again, when ``config`` runs on uploaded data (else None).

    The session's upload (``UPLOAD_KEY``) is the "Your data" page's dict with ``file_name``, ``target`` and
    ``features``; a bare Dataset (its ``name``, ``target_name``, ``feature_names``) is read as well.
    """
    entry = st.session_state.get(UPLOAD_KEY) if getattr(config, "dataset", "") == "upload" else None
    if entry is None:
        return None
    if isinstance(entry, dict):
        name, target, features = entry.get("file_name"), entry.get("target"), entry.get("features")
    else:
        name, target, features = entry.name, entry.target_name, entry.feature_names
    name = str(name or "data.csv")
    name = name if "." in name else f"{name}.csv"
    return export.Upload(name, str(target), tuple(str(f) for f in features))


# ---------------------------------------------------------------------------------------------
# One call per page
# ---------------------------------------------------------------------------------------------


def playground(prefix: str, config: RunConfig, head: Trajectory, names: Sequence[str], charts: Mapping) -> None:
    """The Playground's downloads: the run up to the current step, its charts, the script of the whole run."""
    last = int(head.step[-1])
    upload = upload_source(config)
    downloads(
        prefix, page="playground", rate=config.learning_rate, figures=charts,
        csv=lambda: export.run_csv(head, names, optimizer=config.optimizer),
        csv_label=f"The run so far, steps 0-{last:,} (CSV)",
        script=lambda: export.script(config, upload=upload),
    )  # fmt: skip


def math(prefix: str, config: RunConfig, traj: Trajectory, names: Sequence[str]) -> None:
    """The math page's downloads: the run it shows (the whole run) and its script."""
    upload = upload_source(config)
    downloads(
        prefix, page="math", rate=config.learning_rate,
        csv=lambda: export.run_csv(traj, names, optimizer=config.optimizer),
        csv_label=f"The run, steps 0-{int(traj.step[-1]):,} (CSV)",
        script=lambda: export.script(config, upload=upload, page="The math"),
    )  # fmt: skip


def regimes(prefix: str, config: RunConfig, lanes: Sequence, trajs: Sequence[Trajectory], names: Sequence[str],
            charts: Mapping) -> None:  # fmt: skip
    """The Regimes page's downloads: every run in one CSV (a ``run`` column), its charts, one script for all."""
    upload = upload_source(config)
    runs = {lane.title: lane.config for lane in lanes}
    kinds = {"contour": "path on the loss contours", "loss": "loss over the steps"}
    labels = {f"{lane.key}_{kind}": f"{lane.title}: {what}" for lane in lanes for kind, what in kinds.items()}
    downloads(
        prefix, page="regimes", figures=charts, labels=labels,
        csv=lambda: export.runs_csv([(lane.title, t) for lane, t in zip(lanes, trajs, strict=True)], names),
        csv_label=f"All {len(lanes)} runs (CSV, one 'run' column)", csv_name="runs",
        csv_help="Every run's steps in one table; the 'run' column names the panel it belongs to.",
        script=lambda: export.script(config, runs=runs, upload=upload, page="Regimes"),
    )  # fmt: skip


def sweep(prefix: str, swept, charts: Mapping) -> None:
    """The sweep page's downloads: the sweep table, its two charts, a script that repeats the sweep."""
    downloads(
        prefix, page="sweep", figures=charts,
        csv=lambda: export.sweep_csv(swept.table),
        csv_label=f"The sweep table, {swept.table.learning_rate.size:,} rates (CSV)", csv_name="table",
        csv_help="One row per rate: regime predicted, outcome, steps measured and predicted, final loss.",
        script=lambda: export.sweep_script(swept.config, swept.settings),
    )  # fmt: skip


def scaling(prefix: str, config: RunConfig, traj: Trajectory, names: Sequence[str], charts: Mapping) -> None:
    """The Feature scaling page's downloads: the all-features run, its charts, its script."""
    upload = upload_source(config)
    downloads(
        prefix, page="scaling", rate=config.learning_rate, figures=charts,
        csv=lambda: export.run_csv(traj, names),
        csv_label=f"The run on every feature, steps 0-{int(traj.step[-1]):,} (CSV)",
        script=lambda: export.script(config, all_features=True, upload=upload, page="Feature scaling"),
    )  # fmt: skip
