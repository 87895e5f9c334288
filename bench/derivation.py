"""What The math page's player costs per setting on California housing: ``derivation.step_columns`` (every
number of every stored step, from the 20,640 data rows) against the loop over stored steps it replaced (one
``gradient_numbers`` and ``step_numbers`` call per step, copied here as it was), in the same process, and the
whole payload (``math_player.player`` + ``player_json``) built with each.

    GDVIZ_CALIFORNIA_CSV=/work/shared/data/california_housing.csv PYTHONPATH=. python bench/derivation.py

Prints one row per setting: stored steps the browser holds, the fastest of 7 builds in seconds (loop, vectorised,
ratio), the same for the whole payload, and the largest difference between the two sets of columns in units
of the columns' own size. Not part of the test run.
"""

from __future__ import annotations

import time
from unittest import mock

import numpy as np

from gdviz import derivation, math_player, runs
from gdviz.config import RunConfig


def step_columns_row_by_row(problem, trajectory, rates, *, plain_gd):
    """``derivation.step_columns`` before it was vectorised (commit ea5430d), for the baseline."""
    n_rows, p = trajectory.n_states, problem.n_params
    out = {"step": np.asarray(trajectory.step)}
    names = ["gdiff", "lf", "le", "eta", "g2", "taylor", "corr", "actual", "below", "ratio", "next_loss"]
    per = ["w", "gf", "ge", "cs", "fac", "e", "ne", "re"]
    out |= {name: np.full(n_rows, np.nan) for name in names}
    out |= {f"{name}{k}": np.full(n_rows, np.nan) for name in per for k in range(p)}
    for r in range(n_rows):
        grad = derivation.gradient_numbers(problem, trajectory, int(trajectory.step[r]))
        nxt = derivation.step_numbers(problem, grad.params, float(rates[r]))
        has_next = plain_gd and r + 1 < n_rows and int(trajectory.step[r + 1]) == grad.step + 1
        row = {"gdiff": grad.grads_difference, "lf": grad.loss_formula, "le": grad.loss_engine,
               "eta": nxt.learning_rate, "g2": nxt.grad_norm2, "taylor": nxt.taylor, "corr": nxt.correction,
               "actual": nxt.actual, "below": nxt.decrease_below, "ratio": nxt.learning_rate / nxt.stable_max,
               "next_loss": float(trajectory.loss[r + 1]) if has_next else np.nan}  # fmt: skip
        with np.errstate(all="ignore"):
            run_next = trajectory.params[r + 1] - problem.optimum if has_next else np.full(p, np.nan)
        for name, value in row.items():
            out[name][r] = value
        for name, values in (("w", grad.params), ("gf", grad.grads_formula), ("ge", grad.grads_engine),
                             ("cs", grad.column_sums), ("fac", nxt.factors), ("e", nxt.error),
                             ("ne", nxt.next_error), ("re", run_next)):  # fmt: skip
            for k in range(p):
                out[f"{name}{k}"][r] = values[k]
    return out


def timed(build, repeat: int = 7):
    """(fastest of ``repeat`` builds in seconds, the result): the machine is shared, the fastest is the least
    disturbed."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = build()
        times.append(time.perf_counter() - t0)
    return min(times), result


def largest_difference(a: dict, b: dict) -> float:
    """max |a - b| / max |a| over the finite entries of every column (0 where all agree bit for bit), but
    ``gdiff``: that column is itself round-off (formula minus engine), so any two ways of summing differ in it."""
    worst = 0.0
    for name, x in a.items():
        if name == "gdiff":
            continue
        x, y = np.asarray(x, dtype=float), np.asarray(b[name], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.any() and np.any(x[ok] != y[ok]):
            worst = max(worst, float(np.max(np.abs(x[ok] - y[ok])) / np.max(np.abs(x[ok]))))
    return worst


def main() -> None:
    print(f"{'California housing':<24} {'rows':>5} {'loop s':>7} {'vector s':>8} {'ratio':>6} "
          f"{'payload: loop s':>15} {'vector s':>8} {'ratio':>6} {'max diff':>9}")  # fmt: skip
    for lr, scaling in ((0.05, "none"), (0.01, "none"), (0.001, "none"), (0.1, "standard"), (0.07, "none")):
        config = RunConfig(dataset="california_housing", learning_rate=lr, scaling=scaling)
        problem = runs.one_feature_problem(config)
        traj = runs.simulate(config, problem)
        rows = math_player.player(problem, traj, config.make_schedule(), plain_gd=True).rows
        rates = np.array([float(config.make_schedule()(int(s))) for s in rows.step])
        old_s, old = timed(lambda: step_columns_row_by_row(problem, rows, rates, plain_gd=True))  # noqa: B023
        new_s, new = timed(lambda: derivation.step_columns(problem, rows, rates, plain_gd=True))  # noqa: B023

        def payload():
            p = math_player.player(problem, traj, config.make_schedule(), plain_gd=True)  # noqa: B023
            return math_player.player_json(p, run="r")

        with mock.patch.object(math_player, "step_columns", step_columns_row_by_row):
            old_p, text_old = timed(payload)
        new_p, text_new = timed(payload)
        label = f"rate {lr:g}, {scaling}, {traj.status.value}"
        print(f"{label:<24} {rows.n_states:>5,} {old_s:>7.3f} {new_s:>8.3f} {old_s / new_s:>5.1f}x "
              f"{old_p:>15.3f} {new_p:>8.3f} {old_p / new_p:>5.1f}x {largest_difference(old, new):>9.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
