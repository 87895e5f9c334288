"""Benchmark the descent engine: per-State cost of ``run``, ``lr_sweep`` against separate runs, Trajectory memory.

Run from the repo root:

    python bench/engine.py           # full run (about a minute on 2 cores)
    python bench/engine.py --quick   # smaller counts, a smoke run of a few seconds

Sections: 1. per-State cost of run against a naive loop; 2. lr_sweep against separate runs; 3. memory of a
Trajectory; 4. mini-batch steps (run(..., batch_size=b)) against the full-batch run.

Every ratio is against a baseline timed in the same process, on the same data. The script prints tables and
never asserts anything about timings: it is not part of the pass/fail test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402

from gdviz import analysis, engine, optimizers  # noqa: E402
from gdviz.data import load_dataset, make_problem  # noqa: E402

CALIFORNIA_CSV = Path("/work/shared/data/california_housing.csv")
SMALL_SHAPE = (20_640, 8)
BIG_SHAPE = (1_000_000, 10)
MB = 1e6  # bytes per MB (decimal)

# Targets (the summary compares against these).
TARGET_SPEEDUP_SMALL = 20.0
TARGET_SPEEDUP_BIG = 500.0
TARGET_SWEEP = 20.0
TARGET_MEMORY_MB = 30.0
TARGET_MINI_BATCH = 2.0  # a batch-32 State costs at most this many full-batch States
MINI_BATCH_SIZES = (1, 32, 256, 2048)


@dataclass(frozen=True)
class Config:
    """Counts for one benchmark run.

    Attributes:
        engine_steps: updates per timed ``run`` (States yielded = engine_steps + 1).
        naive_steps_small, naive_steps_big: updates per timed naive loop at 20,640 and 1,000,000 rows.
        repeats: timed repeats; the best is reported.
        sweep_rates, sweep_steps: size of the learning-rate sweep.
        separate_subset: how many of the separate runs to time (then scaled up); None times them all.
        memory_steps: updates of the Trajectory whose memory is measured.
    """

    engine_steps: int
    naive_steps_small: int
    naive_steps_big: int
    repeats: int
    sweep_rates: int
    sweep_steps: int
    separate_subset: int | None
    memory_steps: int


FULL = Config(50_000, 300, 30, 3, 1_000, 1_000, None, 100_000)
QUICK = Config(5_000, 50, 5, 2, 200, 200, 50, 10_000)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table with aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of fn, in seconds (garbage collected before each)."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def consume(states) -> engine.State:
    """Run a generator of States to the end with a plain for loop; return the last State."""
    last = None
    for last in states:  # noqa: B007 (the last value is kept on purpose)
        pass
    return last


def fmt_ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:,.1f}x"


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    info = threadpool_info()
    return ", ".join(f"{d.get('internal_api')} {d.get('num_threads')} threads" for d in info) or "none found"


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def synthetic(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n x d correlated Gaussian features on mixed scales, and a noisy linear target."""
    rng = np.random.default_rng(seed)
    mix = np.eye(d) + 0.3 * rng.standard_normal((d, d))  # correlated columns: a non-trivial spectrum
    X = rng.standard_normal((n, d)) @ mix
    X *= rng.uniform(0.5, 20.0, d)
    X += rng.uniform(-10.0, 10.0, d)
    y = 1.5 + X @ rng.uniform(-2.0, 2.0, d) + 0.5 * rng.standard_normal(n)
    return X, y


def small_data(seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    if CALIFORNIA_CSV.is_file():
        ds = load_dataset("california_housing", path=CALIFORNIA_CSV)
        return np.asarray(ds.X), np.asarray(ds.y), f"California housing CSV ({ds.n_samples:,} x {ds.n_features})"
    X, y = synthetic(*SMALL_SHAPE, seed)
    return X, y, f"synthetic {SMALL_SHAPE[0]:,} x {SMALL_SHAPE[1]} (no CSV at {CALIFORNIA_CSV})"


# ---------------------------------------------------------------------------------------------
# 1. Per-State cost of run against a naive per-step loop
# ---------------------------------------------------------------------------------------------


def naive_descent(X1: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """The textbook loop: every step goes over all rows of X1. Returns the params after ``steps`` updates."""
    n = X1.shape[0]
    w = np.zeros(X1.shape[1])
    for _ in range(steps):
        r = X1 @ w - y
        loss = np.mean(r**2)  # noqa: F841 (computed as a per-step loop would, for the plot)
        grads = (2.0 / n) * (X1.T @ r)
        u = lr * grads
        w -= u
        norm = np.sqrt(u @ u)  # noqa: F841
    return w


def engine_us_per_state(problem: engine.Problem, opt: optimizers.Optimizer, steps: int, repeats: int):
    """Best-of-``repeats`` microseconds per yielded State, and the last State of the run."""
    last = []

    def go():
        last[:] = [consume(engine.run(problem, opt, tol=0.0, max_steps=steps))]

    seconds = best_of(go, repeats)
    return seconds / (steps + 1) * 1e6, last[0]


def bench_per_state(datasets, cfg: Config) -> list[tuple[str, float, float, float]]:
    section("1. Per-State cost of engine.run (tol=0) vs a naive per-step loop over all rows")
    setup_rows, rows, opt_rows, checks = [], [], [], []
    speedups = []
    for label, X, y, naive_steps, target in datasets:
        make_s = best_of(partial(make_problem, X, y, scaling="standard"), cfg.repeats)
        problem = make_problem(X, y, scaling="standard")
        lr = analysis.regime_rates(problem)["slow"]  # r = lr * lambda_max = 0.05
        X1, yy = problem.X1, problem.y

        naive_s = best_of(partial(naive_descent, X1, yy, lr, naive_steps), cfg.repeats)
        naive_us = naive_s / naive_steps * 1e6
        gd_us, last = engine_us_per_state(problem, optimizers.gd(lr), cfg.engine_steps, cfg.repeats)
        speedup = naive_us / gd_us
        speedups.append((label, speedup, target, gd_us))

        # Sanity: the engine and the naive loop agree after naive_steps updates (not timed).
        w_naive = naive_descent(X1, yy, lr, naive_steps)
        w_engine = consume(engine.run(problem, optimizers.gd(lr), tol=0.0, max_steps=naive_steps)).params
        rel = float(np.max(np.abs(w_engine - w_naive)) / max(np.max(np.abs(w_naive)), 1e-300))
        checks.append([label, f"{naive_steps}", f"{rel:.1e}", last.status.value, f"{last.loss:.6g}"])

        setup_rows.append([label, f"{problem.n_params}", f"{make_s * 1e3:,.1f}", f"{make_s * 1e6 / naive_us:,.1f}"])
        rows.append(
            [
                label,
                f"{lr:.4g}",
                f"{naive_steps:,}",
                f"{naive_us:,.1f}",
                f"{cfg.engine_steps + 1:,}",
                f"{gd_us:.2f}",
                fmt_ratio(speedup),
                f">= {target:.0f}x",
                met(speedup >= target),
            ]
        )
        opt_rows.append([label, "gd", f"{gd_us:.2f}", "1.00", fmt_ratio(speedup), last.status.value])
        for name, opt in (("momentum", optimizers.momentum(lr, beta=0.9)), ("adam", optimizers.adam(0.01))):
            us, opt_last = engine_us_per_state(problem, opt, cfg.engine_steps, cfg.repeats)
            opt_rows.append(
                [label, name, f"{us:.2f}", f"{us / gd_us:.2f}", fmt_ratio(naive_us / us), opt_last.status.value]
            )
        del problem, X1, yy
        gc.collect()

    print(
        "Plain GD at the 'slow' rate of analysis.regime_rates (lr = 0.05 / lambda_max, stable), standard scaling, "
        f"tol=0; best of {cfg.repeats}. A State costs its update plus the bookkeeping; the naive loop builds no "
        "States at all.\n"
    )
    print(
        table(
            [
                "data",
                "lr",
                "naive steps",
                "naive us/step",
                "engine States",
                "engine us/State",
                "speed-up",
                "target",
                "met?",
            ],
            rows,
        )
    )
    print(
        "\nOne-off cost of make_problem (validation, scaling, the one pass X1.T @ X1 and lstsq), NOT included in "
        f"the per-step numbers above; best of {cfg.repeats}:\n"
    )
    print(table(["data", "params", "make_problem ms", "as naive steps"], setup_rows))
    print("\nOther optimizers (informative, no target; adam at lr=0.01); ratio against plain GD and the naive loop:\n")
    print(table(["data", "optimizer", "us/State", "vs gd", "vs naive", "last status"], opt_rows))
    print("\nSanity (not timed): engine params vs the naive loop's after the same number of updates:\n")
    print(table(["data", "updates", "max rel diff", "last status (timed gd run)", "last loss"], checks))
    return speedups


# ---------------------------------------------------------------------------------------------
# 2. lr_sweep against separate runs
# ---------------------------------------------------------------------------------------------


def bench_sweep(problem: engine.Problem, label: str, cfg: Config, seed: int) -> float:
    section(
        f"2. analysis.lr_sweep vs separate engine.run calls ({cfg.sweep_rates:,} rates x {cfg.sweep_steps:,} steps)"
    )
    lam = analysis.spectrum(problem).lambda_max
    rates = np.geomspace(1e-3, 1.9, cfg.sweep_rates) / lam  # r = lr * lambda_max in [0.001, 1.9]: all stable
    steps = cfg.sweep_steps

    result = []

    def sweep():
        result[:] = [analysis.lr_sweep(problem, rates, tol=0.0, max_steps=steps)]

    sweep_s = best_of(sweep, cfg.repeats)
    res = result[0]

    if cfg.separate_subset is None or cfg.separate_subset >= rates.size:
        idx = np.arange(rates.size)
    else:
        idx = np.sort(np.random.default_rng(seed).choice(rates.size, cfg.separate_subset, replace=False))
    finals = np.empty(idx.size)
    gc.collect()
    t0 = time.perf_counter()
    for k, i in enumerate(idx):
        finals[k] = consume(engine.run(problem, optimizers.gd(float(rates[i])), tol=0.0, max_steps=steps)).loss
    timed_s = time.perf_counter() - t0
    separate_s = timed_s * rates.size / idx.size
    ratio = separate_s / sweep_s

    scaled = idx.size < rates.size
    statuses, counts = np.unique(res.status, return_counts=True)
    rel = np.max(np.abs(finals - res.final_loss[idx]) / np.abs(res.final_loss[idx]))
    print(
        f"Data: {label}. Plain GD, tol=0 (every run goes the full {steps:,} steps), rates log-spaced from "
        f"0.001 / lambda_max to 1.9 / lambda_max (below 2 / lambda_max, so none diverges); zeros start.\n"
        f"Sweep statuses: {', '.join(f'{s} {c}' for s, c in zip(statuses, counts, strict=True))}. "
        f"Separate runs: each consumed to its last State with a for loop, 1 repeat"
        + (f"; a random subset of {idx.size} of the {rates.size:,} rates was timed and scaled up" if scaled else "")
        + ".\n"
    )
    print(
        table(
            ["method", "runs timed", "seconds", "per run ms", "ratio", "target", "met?"],
            [
                [
                    f"lr_sweep (best of {cfg.repeats})",
                    f"{rates.size:,}",
                    f"{sweep_s:.3f}",
                    f"{sweep_s / rates.size * 1e3:.3f}",
                    "1x",
                    "",
                    "",
                ],
                [
                    f"separate run calls{' (scaled up)' if scaled else ''}",
                    f"{idx.size:,}",
                    f"{separate_s:.3f}" + (f" (timed {timed_s:.3f})" if scaled else ""),
                    f"{separate_s / rates.size * 1e3:.3f}",
                    fmt_ratio(ratio),
                    f">= {TARGET_SWEEP:.0f}x",
                    met(ratio >= TARGET_SWEEP),
                ],
            ],
        )
    )
    print(f"\nSanity: max relative difference of the final losses, sweep vs separate runs: {rel:.1e}")
    return ratio


# ---------------------------------------------------------------------------------------------
# 3. Memory of a Trajectory
# ---------------------------------------------------------------------------------------------


def traced_peak(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Call fn under tracemalloc; return its result, the peak and the retained memory above the start, in MB."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, (peak - base) / MB, (current - base) / MB


def bench_memory(problem: engine.Problem, label: str, cfg: Config) -> tuple[float, float]:
    steps = cfg.memory_steps
    section(f"3. Memory of a {steps:,}-step Trajectory ({problem.n_params} params)")
    lr = analysis.regime_rates(problem)["slow"]

    def run():
        return engine.run(problem, optimizers.gd(lr), tol=0.0, max_steps=steps)

    traj, peak_mb, kept_mb = traced_peak(lambda: engine.collect(run()))
    states, list_peak_mb, list_kept_mb = traced_peak(lambda: list(run()))
    n_states = len(states)
    del states
    gc.collect()
    collect_s = best_of(lambda: engine.collect(run()), 1)
    nbytes_mb = traj.nbytes / MB
    print(
        f"Data: {label}; plain GD, tol=0, max_steps={steps:,}: {traj.n_states:,} States. Traced with tracemalloc "
        f"(NumPy reports its buffers to it); MB = 10^6 bytes. Baseline: the same run kept as list(run(...)) "
        f"({n_states:,} State objects).\n"
    )
    print(
        table(
            ["what", "MB", "vs list of States", "target", "met?"],
            [
                [
                    "trajectory.nbytes",
                    f"{nbytes_mb:.2f}",
                    "",
                    f"< {TARGET_MEMORY_MB:.0f} MB",
                    met(nbytes_mb < TARGET_MEMORY_MB),
                ],
                [
                    "collect(run(...)): peak traced",
                    f"{peak_mb:.2f}",
                    f"{list_peak_mb / peak_mb:.1f}x less",
                    f"< {TARGET_MEMORY_MB:.0f} MB",
                    met(peak_mb < TARGET_MEMORY_MB),
                ],
                ["collect(run(...)): retained after", f"{kept_mb:.2f}", f"{list_kept_mb / kept_mb:.1f}x less", "", ""],
                ["baseline list(run(...)): peak traced", f"{list_peak_mb:.2f}", "1x", "", ""],
                ["baseline list(run(...)): retained", f"{list_kept_mb:.2f}", "1x", "", ""],
            ],
        )
    )
    print(
        f"\ncollect(run(...)) untraced: {collect_s:.3f} s, {collect_s / traj.n_states * 1e6:.2f} us/State "
        f"(informative); bytes per State in the Trajectory: {traj.nbytes / traj.n_states:.0f}."
    )
    return nbytes_mb, peak_mb


# ---------------------------------------------------------------------------------------------
# 4. Mini-batch steps against full-batch steps
# ---------------------------------------------------------------------------------------------


def bench_mini_batch(problem: engine.Problem, label: str, cfg: Config) -> float:
    steps = cfg.engine_steps
    section(f"4. Mini-batch run vs full-batch run, per State ({problem.n_params} params, {steps:,} updates)")
    lr = analysis.regime_rates(problem)["slow"]

    def timed(batch_size):
        last = []

        def go():
            last[:] = [consume(engine.run(problem, optimizers.gd(lr), tol=0.0, max_steps=steps, batch_size=batch_size))]

        return best_of(go, cfg.repeats) / (steps + 1) * 1e6, last[0]

    # Interleaved, so that a slow spell of the machine hits both sides of each ratio.
    sizes = [b for b in MINI_BATCH_SIZES if b < problem.n_samples]
    full_us, full_last = timed(None)
    rows, ratio32 = [], float("nan")
    for b in sizes:
        us, last = timed(b)
        full_us = min(full_us, timed(None)[0])
        rows.append((b, us, last))
    rows_out = [["full batch (None)", f"{full_us:.2f}", "1.00", "", "", f"{full_last.loss:.6g}"]]
    for b, us, last in rows:
        ratio = us / full_us
        if b == 32:
            ratio32 = ratio
        target = f"<= {TARGET_MINI_BATCH:.0f}x" if b == 32 else ""
        rows_out.append(
            [f"batch_size={b}", f"{us:.2f}", f"{ratio:.2f}", target, met(ratio <= TARGET_MINI_BATCH) if b == 32 else "",
             f"{last.loss:.6g}"]
        )  # fmt: skip
    print(
        f"Data: {label}, standard scaling; plain GD at lr = 0.05 / lambda_max, tol=0, seed 0; best of {cfg.repeats}, "
        "the full-batch run timed again after each mini-batch run (its best kept). Every State reports the "
        "full-data loss and grads; a mini-batch update costs O(batch_size x params), a full-batch one O(params^2). "
        "California's outlier rows "
        "(a feature at 119 standard deviations) make small batches unstable at a rate that is stable for the full "
        "batch: the last losses show it (the timing does not depend on it).\n"
    )
    print(table(["run", "us/State", "vs full batch", "target", "met?", "last loss"], rows_out))
    return ratio32


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts: a smoke run of a few seconds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data and the timed subset")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats, best kept (default 3; quick 2)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.repeats is not None:
        cfg = replace(cfg, repeats=max(1, args.repeats))
    t_start = time.perf_counter()

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    print(f"# gdviz engine benchmark ({'quick' if args.quick else 'full'} run)\n")
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), numpy {np.__version__}")
    print(f"cores: {os.cpu_count()} (usable {affinity}); BLAS: {blas_threads()}; {platform.platform()}")
    print(f"config: {cfg}")

    X_small, y_small, small_label = small_data(args.seed)
    X_big, y_big = synthetic(*BIG_SHAPE, args.seed)
    big_label = f"synthetic {BIG_SHAPE[0]:,} x {BIG_SHAPE[1]}"
    datasets = [
        (small_label, X_small, y_small, cfg.naive_steps_small, TARGET_SPEEDUP_SMALL),
        (big_label, X_big, y_big, cfg.naive_steps_big, TARGET_SPEEDUP_BIG),
    ]
    speedups = bench_per_state(datasets, cfg)
    del datasets, X_big, y_big
    gc.collect()

    problem = make_problem(X_small, y_small, scaling="standard")
    sweep_ratio = bench_sweep(problem, small_label, cfg, args.seed)
    nbytes_mb, peak_mb = bench_memory(problem, small_label, cfg)
    mini_ratio = bench_mini_batch(problem, small_label, cfg)

    section("Summary")
    rows = [
        [f"run speed-up vs naive loop, {lab}", fmt_ratio(s), f">= {t:.0f}x", met(s >= t)] for lab, s, t, _ in speedups
    ]
    rows.append(
        [
            f"lr_sweep vs separate runs ({cfg.sweep_rates:,} rates x {cfg.sweep_steps:,} steps)",
            fmt_ratio(sweep_ratio),
            f">= {TARGET_SWEEP:.0f}x",
            met(sweep_ratio >= TARGET_SWEEP),
        ]
    )
    n_states = f"{cfg.memory_steps:,}-step Trajectory"
    rows.append(
        [
            f"{n_states}: nbytes",
            f"{nbytes_mb:.2f} MB",
            f"< {TARGET_MEMORY_MB:.0f} MB",
            met(nbytes_mb < TARGET_MEMORY_MB),
        ]
    )
    rows.append(
        [
            f"{n_states}: peak traced in collect",
            f"{peak_mb:.2f} MB",
            f"< {TARGET_MEMORY_MB:.0f} MB",
            met(peak_mb < TARGET_MEMORY_MB),
        ]
    )
    rows.append(
        [
            "mini-batch (32) State vs full-batch State",
            f"{mini_ratio:.2f}x",
            f"<= {TARGET_MINI_BATCH:.0f}x",
            met(mini_ratio <= TARGET_MINI_BATCH),
        ]
    )
    print(table(["metric", "measured", "target", "met?"], rows))
    if args.quick:
        print("\n(quick run: smaller counts than the targets are set for; read the full run for the verdict)")
    print(f"\nTotal wall time: {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
