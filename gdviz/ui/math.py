"""The sections of "The math" page: a derivation on the left (st.latex, one line at a time), the same
quantities on the current data and run on the right. Columns stack on a phone, formula first.

The step is the shared player's (``gdviz.ui.player``): the browser holds every number of every stored step
(``gdviz.derivation.player``) and steps with no round trip. A number that changes with the step is a page
cell, ``<span data-gdviz-cell="math:<column>">``: the server writes it at the step it knows (synced after a
pause) and the player rewrites it at the step shown. Numbers that do not change with the step (shapes, the
spectrum) are plain metrics. The numbers come from ``gdviz.derivation`` and ``analysis``; this module only
lays them out. Labels are stable: the page tests find the numbers by them.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence

import numpy as np
import streamlit as st

from gdviz import data, derivation, explain, math_player, playback, query, thinning
from gdviz.config import RunConfig
from gdviz.derivation import GradientNumbers, StepNumbers
from gdviz.engine import Problem, Status, Trajectory
from gdviz.explain import fmt
from gdviz.ui import cache, downloads, player, playground, share, state, widgets

PAGE = "math"
COLUMNS = [3, 2]  # formula : numbers


def rate_at(config: RunConfig, step: int) -> float:
    """The learning rate of the update that follows ``step`` (the schedule at count ``step``)."""
    return float(config.make_schedule()(step))


def _run_name(config: RunConfig) -> str:
    return hashlib.sha1(repr(config).encode()).hexdigest()[:16]


def _payload(config: RunConfig) -> tuple[Trajectory, str]:
    problem, traj = cache.problem_for(config), cache.trajectory_for(config)
    # A mini-batch run's next step is not the full-batch step the page derives: no "next" numbers then.
    plain_gd = config.optimizer == "gd" and config.is_full_batch
    p = math_player.player(problem, traj, config.make_schedule(), plain_gd=plain_gd)
    return p.rows, math_player.player_json(p, run=_run_name(config))


@st.cache_resource(max_entries=16, show_spinner="Computing the numbers of every step...")  # read-only
def _cached_payload(config: RunConfig) -> tuple[Trajectory, str]:
    return _payload(config)


def step_player(prefix: str, config: RunConfig) -> int:
    """The player over the run's stored steps (keys: arrows, space, Home, End); returns the step the server
    knows (synced after a pause). A new run opens at the Playground's current step (snapped to a stored one)."""
    if config.dataset == data.UPLOAD:
        rows, payload = cache.upload_memo(("math_player", config), lambda: _payload(config))
    else:
        rows, payload = _cached_payload(config)
    step = player.open_at(prefix, _run_name(config), opening=playground.current_step())
    step = playback.clamp_step(rows, step)
    st.session_state[player.cursor_key(prefix)] = step
    player.player(prefix, payload, run=_run_name(config), step=step)
    return step


@st.fragment
def stepping(config: RunConfig, problem: Problem, traj: Trajectory) -> None:
    """The player and what the server draws at its step: the data and run the numbers are about (with the
    notice when they have overflowed at that step) and the link.

    A fragment: the step the browser syncs after a pause reruns only this. The sections' numbers need no
    rerun: they are page cells, which the player has already rewritten at the step it shows.
    """
    step = step_player(PAGE, config)
    context(config, problem, traj, derivation.gradient_numbers(problem, traj, step))
    share.save(PAGE)


def current_step() -> int:
    """The step the server knows (the player's, synced after a pause; 0 before the first visit)."""
    return player.cursor(PAGE)


def cell(col: str, x: float, *, integer: bool = False, missing: str = "overflowed") -> str:
    """The HTML of a page cell showing column ``col`` of the player (``x``: its value at the server's step),
    6 significant figures as the player writes them; ``missing`` stands for a non-finite value (the JSON's
    null): "overflowed" past a divergence, "-" where a number does not exist (no next step)."""
    text = f"{int(x):,}" if integer else fmt(float(x), 6) if np.isfinite(x) else missing
    flags = (' data-gdviz-int="1"' if integer else "") + f' data-gdviz-null="{html.escape(missing)}"'
    return f'<span data-gdviz-cell="{PAGE}:{col}"{flags}>{html.escape(text)}</span>'


_LABEL = "font-size:0.875rem;color:rgba(49,51,63,0.7);white-space:nowrap"
_VALUE = "font-size:2rem;line-height:1.4;font-variant-numeric:tabular-nums;white-space:nowrap"


def _cells(items: list[tuple[str, str, float, str]], *, missing: dict[str, str] | None = None) -> None:
    """Metric-like blocks (label, column, value at the server's step, help) whose values follow the player;
    ``missing``: column -> what stands for its non-finite values (default "overflowed")."""
    missing = missing or {}
    blocks = "".join(
        f'<div style="flex:1 1 9rem;min-width:9rem" title="{html.escape(help_text)}">'
        f'<div style="{_LABEL}">{html.escape(label)}</div>'
        f'<div style="{_VALUE}">{cell(col, x, missing=missing.get(col, "overflowed"))}</div></div>'
        for label, col, x, help_text in items
    )
    st.markdown(f'<div style="display:flex;flex-wrap:wrap;gap:0.4rem 1rem;margin-bottom:0.8rem">{blocks}</div>',
                unsafe_allow_html=True)  # fmt: skip


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A small table: the header and each row's first cell are text, the other cells HTML (page cells).
    Per-parameter tables are laid out one column per parameter, so they fit the narrow numbers column."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f"<tr><td>{html.escape(row[0])}</td>" + "".join(f"<td>{c}</td>" for c in row[1:]) + "</tr>" for row in rows
    )
    # Compact cells, and a sideways scroll rather than a cut-off column should a narrow column still be too narrow.
    table = f'<table style="font-size:0.875rem"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    st.markdown(f'<div style="overflow-x:auto">{table}</div>', unsafe_allow_html=True)


def context(config: RunConfig, problem: Problem, traj: Trajectory, grad: GradientNumbers) -> None:
    """What data and run the numbers are from, the scaling caveat, and any divergence."""
    last = int(traj.step[-1])
    status = traj.status.value.replace("_", " ")
    st.caption(
        f"Data: {state.dataset_label(config.dataset)}, n = {problem.n_samples:,} rows, feature "
        f"'{problem.feature_names[0]}'. Run: {config.optimizer}, rate {config.learning_rate:g}, "
        f"schedule {config.schedule}, {explain.plural(last, 'step')}, {status}."
    )
    if problem.scaling == "none":
        st.caption("Scaling: none. X1 holds the raw feature, and w is in raw units.")
    else:
        st.info(
            f"Scaling: {data.SCALING_LABELS[problem.scaling]}. The engine fits on the scaled feature "
            f"(x - {problem.offset[0]:.4g}) / {problem.scale[0]:.4g}, so the run's w = [intercept, slope] lives "
            "in that scaled space. Every number below uses that same scaled X1, as the engine does."
        )
    if traj.status is Status.DIVERGED:
        st.warning(
            explain.divergence_explanation(problem, traj, config.learning_rate, constant_gd=config.is_constant_gd)
            + " Section 6 below says where the bound 2/lambda_max comes from."
        )
    if not grad.finite:
        st.warning(
            f"At step {grad.step} the numbers have overflowed float64 (inf or nan), so the formulas below "
            "cannot give finite values there. Pick an earlier step to see the error growing."
        )


def _metrics(items: list[tuple[str, str, str]]) -> None:
    with st.container(horizontal=True):
        for label, value, help_text in items:
            st.metric(label, value, help=help_text)


def loss_section(problem: Problem, grad: GradientNumbers) -> None:
    st.subheader("1. The loss")
    left, right = st.columns(COLUMNS)
    with left:
        st.latex(r"J(w) = \frac{1}{n}\sum_{i=1}^{n}\left(w_0 + w_1 x_i - y_i\right)^2")
        st.latex(r"= \frac{1}{n}\,\lVert X_1 w - y\rVert^2")
        st.latex(r"X_1 = \begin{bmatrix}1 & x_1\\ 1 & x_2\\ \vdots & \vdots\\ 1 & x_n\end{bmatrix}")
        st.latex(
            r"w = \begin{bmatrix}w_0\\ w_1\end{bmatrix} = \begin{bmatrix}\text{intercept}\\ \text{slope}\end{bmatrix}"
        )
        st.markdown(
            "The column of ones lets the intercept ride along in the same product as the slope. There is no "
            r"$\tfrac12$ in front: $J$ is the plain mean of the squared errors, the Loss of the Playground. That "
            "is where the 2 in the gradient will come from."
        )
    with right:
        n, p = problem.X1.shape
        _metrics(
            [
                ("X1 shape", f"{n:,} x {p}", "n rows, one column of ones plus the feature."),
                ("y shape", f"{len(problem.y):,}", "One target per row."),
                ("w shape", f"{len(grad.params)}", "[intercept, slope]."),
                ("Residual shape", f"{len(grad.residual):,}", "r = X1 w - y: one error per row."),
            ]
        )
        _cells(
            [
                ("J(w) from the rows", "lf", grad.loss_formula, "mean((X1 w - y)^2) over the data rows, here."),
                ("J(w) in the run", "le", grad.loss_engine, "The loss the engine recorded at this step."),
            ]
        )


def gradient_section(names: tuple[str, ...], grad: GradientNumbers) -> None:
    st.subheader("2. The gradient, one line at a time")
    left, right = st.columns(COLUMNS)
    with left:
        st.markdown("Write the squared length as a product of the residual with itself, and multiply it out:")
        st.latex(r"J(w) = \frac{1}{n}\,(X_1 w - y)^\top (X_1 w - y)")
        st.latex(r"= \frac{1}{n}\left(w^\top X_1^\top X_1\, w \;-\; 2\, y^\top X_1 w \;+\; y^\top y\right)")
        st.markdown(
            r"The two cross terms are the same number (a scalar equals its transpose), hence the 2. Now take "
            r"the derivative term by term: $w^\top A w$ with $A$ symmetric gives $2Aw$, a linear term "
            r"$b^\top w$ gives $b$, and $y^\top y$ does not depend on $w$:"
        )
        st.latex(r"\nabla J(w) = \frac{1}{n}\left(2\,X_1^\top X_1\, w - 2\,X_1^\top y\right)")
        st.latex(r"= \frac{2}{n}\, X_1^\top (X_1 w - y)")
        st.markdown(
            r"The chain rule, one row at a time, gives the same thing. With $r_i = w_0 + w_1 x_i - y_i$ the "
            r"error of row $i$, and $x_{ij}$ the entry of $X_1$ in row $i$, column $j$ ($x_{i0} = 1$):"
        )
        st.latex(
            r"\frac{\partial J}{\partial w_j} = \frac{1}{n}\sum_{i=1}^{n} 2\, r_i\, \frac{\partial r_i}{\partial w_j}"
            r" = \frac{2}{n}\sum_{i=1}^{n} r_i\, x_{ij}"
        )
    with right:
        st.markdown(f"**The gradient at step {cell('step', grad.step, integer=True)}**, both ways:",
                    unsafe_allow_html=True)  # fmt: skip
        p = range(len(names))
        _table(
            ["quantity", *names],
            [
                ["w", *(cell(f"w{k}", grad.params[k]) for k in p)],
                ["(2/n) X1^T (X1 w - y)", *(cell(f"gf{k}", grad.grads_formula[k]) for k in p)],
                ["engine", *(cell(f"ge{k}", grad.grads_engine[k]) for k in p)],
            ],
        )
        _cells([("Largest difference, formula vs engine", "gdiff", grad.grads_difference,
                 "max |formula - engine| over the two parameters.")])  # fmt: skip
        st.caption(
            "The (2/n) X1^T (X1 w - y) row is computed here from the n data rows. The engine never touches the "
            "rows per step: it keeps X1^T X1 / n and X1^T y / n from one pass and computes 2 (X1^T X1 / n) w - "
            "2 X1^T y / n, the same expression multiplied out. They differ by round-off only."
        )


def transpose_section(names: tuple[str, ...], grad: GradientNumbers) -> None:
    st.subheader("3. Why the transpose")
    left, right = st.columns(COLUMNS)
    with left:
        st.latex(
            r"X_1^\top r = \begin{bmatrix}1 & 1 & \cdots & 1\\ x_1 & x_2 & \cdots & x_n\end{bmatrix}"
            r"\begin{bmatrix}r_1\\ \vdots\\ r_n\end{bmatrix}"
        )
        st.latex(r"= \begin{bmatrix}\sum_i r_i\\ \sum_i x_i\, r_i\end{bmatrix}")
        st.markdown(
            r"Row $j$ of $X_1^\top$ is column $j$ of $X_1$: how much parameter $j$ moves each row's prediction. "
            "So each parameter collects the residuals weighted by its own column. The intercept moves every "
            "prediction by 1 and gets the plain sum of the errors; the slope moves row $i$ by $x_i$ and gets the "
            "$x$-weighted sum, so rows far from $x = 0$ pull hardest on it. The shapes agree: "
            r"$(2 \times n)$ times $(n)$ gives 2 numbers, one per parameter, the shape of $w$."
        )
        st.markdown(
            r"Code often flips the sign: with `error = y - X1 @ w` the gradient is "
            r"$-\tfrac{2}{n} X_1^\top \text{error}$, so `w += rate * X1.T @ error / n` is this same downhill "
            "step, with the 2 folded into the rate."
        )
    with right:
        _cells(
            [
                (f"Column sum for {names[0]}", "cs0", grad.column_sums[0], "sum_i r_i (the column of ones)."),
                (f"Column sum for {names[1]}", "cs1", grad.column_sums[1], "sum_i x_i r_i (the feature column)."),
            ]
        )
        st.caption("Multiply each by 2/n and you get the gradient of section 2.")


def mean_section(problem: Problem, nxt: StepNumbers) -> None:
    st.subheader("4. Why the 1/n")
    left, right = st.columns(COLUMNS)
    with left:
        st.markdown(
            "$J$ is a mean, so its gradient is the mean of the rows' gradients. Ten times more rows of the same "
            "kind of data give a gradient of about the same size, and the same learning rate still fits. With "
            "a sum instead, the gradient and the curvature grow with $n$, and the safe step shrinks by $n$:"
        )
        st.latex(r"H = \frac{2}{n}\,X_1^\top X_1")
        st.latex(r"H_{\text{sum}} = 2\,X_1^\top X_1 = n\,H")
        st.latex(r"\frac{2}{\lambda_{\max}(H_{\text{sum}})} = \frac{1}{n}\cdot\frac{2}{\lambda_{\max}(H)}")
    with right:
        _metrics(
            [
                ("n (rows)", f"{problem.n_samples:,}", "Number of data rows."),
                ("lambda_max of the mean", fmt(nxt.lambda_max, 6), "Largest eigenvalue of H = (2/n) X1^T X1."),
                ("lambda_max of the sum", fmt(nxt.sum_lambda_max, 6), "n times larger: the summed loss is n J."),
                ("Largest safe rate (mean)", fmt(nxt.stable_max, 6), "2 / lambda_max."),
                ("Largest safe rate (sum)", fmt(2.0 / nxt.sum_lambda_max, 6), "2 / (n lambda_max)."),
            ]
        )


def taylor_section(config: RunConfig, traj: Trajectory, grad: GradientNumbers, nxt: StepNumbers) -> None:
    st.subheader("5. Why the step must be small")
    left, right = st.columns(COLUMNS)
    with left:
        st.markdown(
            r"The gradient is a slope at one point. To first order (Taylor), a step of size $\eta$ against it "
            r"lowers the loss by $\eta$ times the squared gradient:"
        )
        st.latex(r"J(w - \eta g) \;\approx\; J(w) - \eta\, g^\top g")
        st.latex(r"= J(w) - \eta\,\lVert g\rVert^2")
        st.markdown(
            "That straight line ignores that the bowl curves up. For this quadratic loss the second-order "
            "term is the whole rest, so the exact value is:"
        )
        st.latex(
            r"\begin{aligned} J(w - \eta g) &= J(w) - \eta\,\lVert g\rVert^2 \\"
            r" &\quad + \frac{\eta^2}{2}\, g^\top H g \end{aligned}"
        )
        st.markdown(r"The last term grows with $\eta^2$. The step lowers the loss only while")
        st.latex(r"\eta < \frac{2\,\lVert g\rVert^2}{g^\top H g}")
    with right:
        st.markdown(f"**One plain step from step {cell('step', grad.step, integer=True)}** at rate eta = "
                    f"{cell('eta', nxt.learning_rate)}:", unsafe_allow_html=True)  # fmt: skip
        if config.optimizer != "gd":
            st.caption(f"(The run uses {config.optimizer}; this is the plain gradient step at its rate.)")
        elif not config.is_full_batch:
            st.caption(f"(The run uses mini-batches of {config.batch_size:,} rows; this is the full-batch step.)")
        items = [
            ("J(w)", "lf", nxt.loss_now, "The loss at this step, from the rows."),
            ("||g||^2", "g2", nxt.grad_norm2, "Squared length of the gradient."),
            ("Taylor prediction", "taylor", nxt.taylor, "J(w) - eta ||g||^2."),
            ("Curvature term", "corr", nxt.correction, "(eta^2 / 2) g^T H g: what the first-order view leaves out."),
            ("Actual J(w - eta g)", "actual", nxt.actual, "The loss after the step, computed on the data rows."),
            ("Loss drops while eta <", "below", nxt.decrease_below, "2 ||g||^2 / g^T H g, along this gradient."),
        ]
        if config.optimizer == "gd" and config.is_full_batch:
            k = _next_row(traj, grad.step)
            items.append(("The run's loss at the next step", "next_loss", np.nan if k is None else traj.loss[k],
                          "From the run ('-': the run ends here, or its next step is not stored)."))  # fmt: skip
        _cells(items, missing={"next_loss": "-"})


def recursion_section(
    config: RunConfig,
    problem: Problem,
    traj: Trajectory,
    names: tuple[str, ...],
    grad: GradientNumbers,
    nxt: StepNumbers,
) -> None:
    st.subheader("6. The error recursion, and the bound 2/lambda_max")
    left, right = st.columns(COLUMNS)
    with left:
        st.markdown(
            r"With $H = \tfrac{2}{n} X_1^\top X_1$, the gradient is $H w - \tfrac{2}{n} X_1^\top y$. At the "
            r"optimum $w^*$ it is zero, so $\tfrac{2}{n} X_1^\top y = H w^*$, and with the error $e_t = w_t - w^*$:"
        )
        st.latex(r"g_t = H w_t - H w^* = H e_t")
        st.markdown("and one step of plain gradient descent moves the error by a fixed matrix:")
        st.latex(r"e_{t+1} = e_t - \eta\, H e_t = (I - \eta H)\, e_t")
        st.markdown(
            r"In the eigenbasis of $H = Q \Lambda Q^\top$ the directions do not mix: each component of the "
            r"error is multiplied by $1 - \eta\lambda_i$ at every step."
        )
        st.latex(r"Q^\top e_{t+1} = (I - \eta\Lambda)\, Q^\top e_t")
        st.latex(r"|1 - \eta\lambda_i| < 1 \text{ for all } i \iff 0 < \eta < \frac{2}{\lambda_{\max}}")
        st.latex(r"1 - \eta\lambda_{\max} < 0 \iff \eta > \frac{1}{\lambda_{\max}}")
        st.markdown(
            r"Past $1/\lambda_{\max}$ the stiffest direction flips sign every step (the zig-zag); it still "
            r"shrinks until $2/\lambda_{\max}$, and from there on it grows every step: divergence."
        )
    with right:
        _table(
            ["eigenvalue of H", "1 - eta x eigenvalue"],
            [
                [fmt(v, 6), cell(f"fac{k}", f)]
                for k, (v, f) in enumerate(zip(nxt.eigenvalues, nxt.factors, strict=True))
            ],
        )
        _metrics(
            [
                ("Oscillation from 1/lambda_max", fmt(nxt.monotone_max, 6), "Above it the stiff direction flips sign."),
                ("Divergence from 2/lambda_max", fmt(nxt.stable_max, 6), "From it on the error grows."),
            ]
        )
        _cells([("eta / (2/lambda_max)", "ratio", nxt.learning_rate / nxt.stable_max, "Below 1, plain GD converges.")])
        _error_table(config, problem, traj, names, grad, nxt)


def _next_row(traj: Trajectory, step: int) -> int | None:
    """The row of ``step + 1`` in ``traj``, or None when the run ends at ``step`` or does not store that step."""
    k = thinning.row_of(traj, step) + 1
    return k if k < traj.n_states and int(traj.step[k]) == step + 1 else None


def _error_table(
    config: RunConfig, problem: Problem, traj: Trajectory, names, grad: GradientNumbers, nxt: StepNumbers
) -> None:
    k = _next_row(traj, grad.step)
    with np.errstate(all="ignore"):
        run_next = traj.params[k] - problem.optimum if k is not None else np.full(len(names), np.nan)
    if config.optimizer != "gd" or not config.is_full_batch:
        run_next = np.full(len(names), np.nan)
    p = range(len(names))
    _table(
        ["quantity", *names],
        [
            ["e_t = w_t - w*", *(cell(f"e{i}", nxt.error[i]) for i in p)],
            ["(I - eta H) e_t", *(cell(f"ne{i}", nxt.next_error[i]) for i in p)],
            ["e_{t+1} in the run", *(cell(f"re{i}", run_next[i], missing="-") for i in p)],
        ],
    )
    if config.optimizer != "gd":
        st.caption(f"The recursion is plain GD's; the run uses {config.optimizer}, so its next error is not shown.")
    elif not config.is_full_batch:
        st.caption(
            f"The recursion is full-batch GD's; the run uses mini-batches of {config.batch_size:,} rows, so its next "
            "error differs (by the noise of the batch's gradient) and is not shown."
        )
    else:
        st.caption(
            "The last two columns agree: the recursion is exact for this loss, up to round-off. ('-' in the last "
            "column: the run ends at this step, or a long run does not store its next step.)"
        )


# ---------------------------------------------------------------------------------------------
# The page's link key: the step
# ---------------------------------------------------------------------------------------------


def _read_link(q: dict[str, str], notices: list[str]) -> None:
    if "step" in q and (step := query.read_step(q["step"], state.get_config().max_steps, notices)) is not None:
        player.go_to(PAGE, step)  # snapped to a stored step of the run when the page opens


def _write_link() -> dict[str, str]:
    step = player.cursor(PAGE)
    return {"step": str(step)} if step else {}


share.register(PAGE, keys=("step",), read=_read_link, write=_write_link, bound=widgets.BOUND_FIELDS)


def download_menu(prefix: str, config: RunConfig, traj: Trajectory, names: Sequence[str]) -> None:
    """The run the page shows (the whole run) and its script."""
    downloads.run_menu(
        prefix, config, traj, names, page="math", title="The math", optimizer=config.optimizer,
        csv_label=f"The run, steps 0-{int(traj.step[-1]):,} (CSV)",
    )  # fmt: skip
