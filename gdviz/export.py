"""What the Download sections hand out: runs and tables as CSV text, figures as standalone HTML, and Python
scripts that reproduce a run with the gdviz API (pure: no Streamlit).

CSV numbers are written with ``repr`` (shortest round-trip form), so a file read back gives the very floats
of the run; a value that does not exist (the rate at step 0, when no update has been applied yet) is an
empty cell, an overflowed one ``inf``/``nan``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from gdviz.config import RunConfig, names
from gdviz.engine import Trajectory
from gdviz.plots import encode

# Optimizers that divide each update by a running statistic: their schedule gives a base rate only.
ADAPTIVE = frozenset({"adagrad", "rmsprop", "adam"})
# RunConfig fields that describe the data (left out of a script that reads an uploaded CSV instead).
_DATA_ONLY = names("data")


def _num(x: Any) -> str:
    """A number as CSV text: shortest round-trip repr, empty for NaN (nothing to report)."""
    v = float(x)
    return "" if np.isnan(v) else repr(v)


def rate_column(optimizer: str) -> str:
    """The rate column's name: ``base_learning_rate`` for adaptive optimizers, whose effective per-param
    step is the base rate divided by a running statistic; ``learning_rate`` otherwise."""
    return "base_learning_rate" if optimizer in ADAPTIVE else "learning_rate"


def run_header(param_names: Sequence[str], *, optimizer: str = "gd", run_column: bool = False) -> list[str]:
    """The columns of ``run_csv`` (and, with ``run_column``, of ``runs_csv``)."""
    names = list(param_names)
    cols = ["step", *names, "loss", *(f"grad_{n}" for n in names), rate_column(optimizer), "update_norm"]
    return (["run"] if run_column else []) + cols


def _column(values: np.ndarray) -> list[str]:
    """A float column as CSV text, like ``_num`` but column-wise (a long run has a million numbers)."""
    return [repr(v) if v == v else "" for v in np.asarray(values, dtype=float).tolist()]


def _rows(traj: Trajectory) -> list[tuple[str, ...]]:
    cols = [list(map(str, traj.step.tolist()))]
    cols += [_column(traj.params[:, j]) for j in range(traj.params.shape[1])]
    cols.append(_column(traj.loss))
    cols += [_column(traj.grads[:, j]) for j in range(traj.grads.shape[1])]
    cols += [_column(traj.learning_rate), _column(traj.update_norm)]
    return list(zip(*cols, strict=True))


def _line(fields: Sequence[str]) -> str:
    """One CSV line, quoted where needed (names and labels may hold commas or quotes)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _body(rows: list, prefix: str = "") -> str:
    """``rows`` of number fields as CSV lines, each after ``prefix``. Numbers never need quoting, so they are
    joined directly: about ten times faster than the csv module on a run of 200,000 steps."""
    return "".join(prefix + ",".join(row) + "\n" for row in rows)


def _write(header: list[str], rows: list) -> str:
    return _line(header) + "\n" + _body(rows)


def run_csv(traj: Trajectory, param_names: Sequence[str], *, optimizer: str = "gd") -> str:
    """One row per State of ``traj``: step, params by name, loss, grads (``grad_<name>``), rate, update norm.

    Args:
        traj: the run (or the part of it shown).
        param_names: one name per param, e.g. ``("intercept", "slope on x")``.
        optimizer: the run's optimizer name; for adaptive ones the rate column is ``base_learning_rate``.

    Returns:
        CSV text with a header row. The rate is the one used by the update that led to the row's step
        (the schedule's value), empty at step 0; the update norm ``||w_t - w_{t-1}||`` is empty at step 0.
    """
    _check_names(traj, param_names)
    return _write(run_header(param_names, optimizer=optimizer), _rows(traj))


def runs_csv(runs: Sequence[tuple[str, Trajectory]], param_names: Sequence[str], *, optimizer: str = "gd") -> str:
    """Several runs of the same params in one CSV, told apart by a leading ``run`` column (label per run)."""
    parts = [_line(run_header(param_names, optimizer=optimizer, run_column=True)) + "\n"]
    for label, traj in runs:
        _check_names(traj, param_names)
        parts.append(_body(_rows(traj), prefix=_line([label]) + ","))
    return "".join(parts)


def _check_names(traj: Trajectory, param_names: Sequence[str]) -> None:
    if len(param_names) != traj.params.shape[1]:
        raise ValueError(f"{len(param_names)} param names for a run of {traj.params.shape[1]} params.")


SWEEP_COLUMNS = ("learning_rate", "regime_predicted", "outcome", "status", "steps_measured",
                 "steps_to_converge_predicted", "final_loss")  # fmt: skip


def sweep_csv(table: Any) -> str:
    """A ``gdviz.sweep.SweepTable`` as CSV, one row per rate.

    ``steps_measured`` is the step each run stopped at (converged, the cap, or the first overflowed step);
    ``steps_to_converge_predicted`` the closed form's count (``inf`` when it never converges).
    """
    rows = [
        [_num(table.learning_rate[k]), *(_line([str(a[k])]) for a in (table.regime, table.outcome, table.status)),
         str(int(table.steps[k])), _num(table.predicted_steps[k]), _num(table.final_loss[k])]
        for k in range(len(table.learning_rate))
    ]  # fmt: skip
    return _write(list(SWEEP_COLUMNS), rows)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def figure_title(fig: dict | go.Figure, default: str = "figure") -> str:
    """The figure's title as plain text (its first line, tags removed), or ``default``."""
    layout = fig.to_plotly_json().get("layout", {}) if isinstance(fig, go.Figure) else fig.get("layout", {})
    title = layout.get("title") or {}
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    text = re.sub(r"<[^>]+>", "", re.split(r"<br\s*/?>", text or "")[0]).strip()
    return text or default


def figure_html(fig: dict | go.Figure, *, title: str | None = None) -> str:
    """A standalone interactive HTML page of ``fig`` (Plotly figure spec or Figure), plotly.js inlined.

    The page opens offline: no script is loaded from the network. The house template is applied, as on the
    pages. Several MB (plotly.js alone is about 4.6 MB), so callers build it only when asked.
    """
    out = encode.styled(fig)
    out.update_layout(height=None, width=None, autosize=True)  # the page's fixed chart height: fill the window
    html = pio.to_html(
        out,
        include_plotlyjs=True,
        full_html=True,
        default_height="95vh",
        config={"displaylogo": False, "responsive": True},
    )
    name = title or figure_title(fig, "gdviz figure")
    if not figure_title(fig, ""):  # e.g. the 3D surface: name it in the file as in the menu
        out.update_layout(title={"text": name, "x": 0.0, "xanchor": "left"})
    return html.replace("<head>", f"<head><title>{_escape(name)}</title>", 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slug(text: str) -> str:
    """``text`` as a file-name part: lower case, runs of anything else than letters and digits as ``-``."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "x"


def file_name(page: str, what: str, ext: str, *, rate: float | None = None) -> str:
    """E.g. ``gdviz-playground-run-lr0.05.csv``: the app, the page, what it is, the rate, the extension."""
    parts = ["gdviz", slug(page), slug(what)] + ([f"lr{rate:.4g}"] if rate is not None else [])
    return "-".join(parts) + "." + ext


# ---------------------------------------------------------------------------------------------
# Scripts that reproduce a run
# ---------------------------------------------------------------------------------------------


class Upload(NamedTuple):
    """An uploaded CSV as a script reads it again: its file name and the columns the user chose.

    Attributes:
        file_name: the file's base name, e.g. "houses.csv" (the script expects the file next to it).
        target: the target column's header.
        features: the feature columns' headers, in order.
    """

    file_name: str
    target: str
    features: tuple[str, ...]


_SHOW = '''

def show(traj, names):
    """Print why and where the run stopped, and its last params (exact floats)."""
    print("status:", traj.status.value)
    print("step:", int(traj.step[-1]))
    print("params:")
    for name, value in zip(names, traj.params[-1].tolist()):
        print(f"  {name} = {value!r}")

'''


def _config_literal(config: RunConfig, *, skip: Sequence[str] = ()) -> str:
    """``RunConfig(...)`` with every field written out, so the script does not depend on the defaults."""
    lines = [
        f"    {f.name}={getattr(config, f.name)!r},"
        for f in dataclasses.fields(config)
        if f.name not in skip and not (f.name == "upload" and not getattr(config, f.name))
    ]
    return "RunConfig(\n" + "\n".join(lines) + "\n)"


def _replace_literal(base: RunConfig, config: RunConfig) -> str:
    changes = {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if getattr(config, f.name) != getattr(base, f.name)
    }
    return "config.replace(" + ", ".join(f"{k}={v!r}" for k, v in changes.items()) + ")"


def _read_upload(upload: Upload) -> str:
    return (
        f"# Put {upload.file_name!r} (the file you uploaded) in the same folder as this script.\n"
        f'ds = data.read_csv(Path(__file__).resolve().parent / {upload.file_name!r})\n'
        f"ds = data.select_columns(ds, target={upload.target!r}, features={list(upload.features)!r})\n"
    )  # fmt: skip


def _california_note(config: RunConfig) -> str:
    if config.dataset != "california_housing":
        return ""
    return "# California housing: the CSV named by the GDVIZ_CALIFORNIA_CSV variable, else scikit-learn's fetch.\n"


def _header(what: str) -> str:
    return (
        f'"""Reproduce {what} with the gdviz API (generated by gdviz).\n\n'
        "It needs the gdviz package. Install it once, from a checkout of the gdviz repository:\n"
        "    pip install /path/to/gdviz    (or: pip install git+<the repository's URL>)\n"
        "then run it from any folder: python this_file.py\n"
        '"""\n\n'
    )


def script(
    config: RunConfig,
    *,
    runs: dict[str, RunConfig] | None = None,
    all_features: bool = False,
    upload: Upload | None = None,
    page: str = "Playground",
) -> str:
    """A Python script that runs ``config`` again with the gdviz API and prints its final status, step and params.

    Args:
        config: the run (for ``runs``, the settings they share).
        runs: label -> RunConfig, to reproduce several runs (the Regimes page's lanes); each is written
            as ``config.replace(...)`` of what differs from ``config``.
        all_features: plain GD on every feature of the dataset (the Feature scaling page) instead of the
            one-feature run of ``runs.simulate``.
        upload: the uploaded CSV to read instead of ``config.dataset`` (``config.dataset == "upload"``).
        page: the page named in the docstring.

    Returns:
        The script's source. One-feature runs go through ``RunConfig`` and ``runs.simulate``; the
        all-features run through ``data.make_problem``, ``optimizers.gd`` and ``engine.run``.
    """
    what = "the runs" if runs else "the run"
    head = _header(f"{what} of gdviz's {page} page")
    if all_features:
        return head + _all_features_body(config, upload)
    imports = (
        "from pathlib import Path\n\nfrom gdviz import data\n"
        "from gdviz.config import RunConfig\nfrom gdviz.runs import simulate\n"
        if upload
        else "from gdviz.config import RunConfig\nfrom gdviz.runs import one_feature_problem, simulate\n"
    )
    body = [imports, _SHOW, "\n"]
    if upload:
        body.append(_read_upload(upload))
        body.append(
            f"problem = data.problem_from_dataset(ds, scaling={config.scaling!r}, "
            f"features=[min({config.feature}, ds.n_features - 1)])\n"
        )
        body.append(f"config = {_config_literal(config, skip=_DATA_ONLY)}\n")
    else:
        body.append(_california_note(config) + f"config = {_config_literal(config)}\n")
        body.append("problem = one_feature_problem(config)\n")
    if runs:
        body.append("runs = {\n" + "".join(f"    {k!r}: {_replace_literal(config, c)},\n" for k, c in runs.items()))
        body.append('}\nfor label, run_config in runs.items():\n    print(f"== {label} ==")\n')
        body.append("    show(simulate(run_config, problem), problem.param_names)\n")
    else:
        body.append("traj = simulate(config, problem)  # to the end: converged, diverged or max steps\n")
        body.append("show(traj, problem.param_names)\n")
    return head + "".join(body)


def _all_features_body(config: RunConfig, upload: Upload | None) -> str:
    lines = ["from pathlib import Path\n\n" if upload else "", "from gdviz import data, engine, optimizers\n", _SHOW,
             "\n"]  # fmt: skip
    if upload:
        lines.append(_read_upload(upload))
    else:
        lines.append(_california_note(config))
        lines.append(f"ds = data.load_dataset({config.dataset!r})\n")
    lines.append(
        f"problem = data.make_problem(ds.X, ds.y, scaling={config.scaling!r}, feature_names=ds.feature_names)\n"
        f"states = engine.run(problem, optimizers.gd({config.learning_rate!r}), tol={config.tol!r}, "
        f"max_steps={config.max_steps!r})\n"
        "traj = engine.collect(states)  # plain GD from zeros, to the end: converged, diverged or max steps\n"
        "show(traj, problem.param_names)\n"
    )
    return "".join(lines)


def sweep_script(config: RunConfig, settings: Any) -> str:
    """A script that repeats a learning-rate sweep (``gdviz.sweep.SweepSettings``) on ``config``'s data,
    start point and tol, and prints how many rates converged and the fastest one."""
    s = settings
    return _header("the learning-rate sweep of gdviz's Learning-rate sweep page") + (
        "from gdviz import sweep\nfrom gdviz.config import RunConfig\n"
        "from gdviz.runs import init_params, one_feature_problem\n\n"
        f"config = {_config_literal(config)}\n"
        "problem = one_feature_problem(config)\n"
        f"settings = sweep.SweepSettings(relative={s.relative!r}, low={s.low!r}, high={s.high!r}, "
        f"n_rates={s.n_rates!r}, max_steps={s.max_steps!r})\n"
        "init = init_params(config, problem)\n"
        "rates = settings.rates(problem)\n"
        "result = sweep.run_sweep(problem, rates, tol=config.tol, max_steps=settings.max_steps, init_params=init)\n"
        "table = sweep.summarise(problem, result, tol=config.tol, max_steps=settings.max_steps, init_params=init)\n"
        "for outcome in sweep.Outcome:\n"
        '    print(f"{outcome.value}: {int((table.outcome == outcome.value).sum())}")\n'
        "done = table.outcome == sweep.Outcome.CONVERGED.value\n"
        "if done.any():\n"
        "    k = done.nonzero()[0][table.steps[done].argmin()]\n"
        '    print(f"fastest: rate {table.learning_rate[k]!r}, {int(table.steps[k])} steps")\n'
    )
