"""Benchmark the optimizer race: nine runs of 10,000 steps against one plain GD run of 10,000 steps.

Run from the repo root:

    python bench/race.py           # 7 repeats: the best and the median
    python bench/race.py --quick   # one repeat, a smoke run

For each data set: the baseline (one plain GD run, ``engine.run`` + ``collect``, 10,000 steps, tol 0 so that
it never stops early), the race with tol 0 (every one of the nine runs takes all 10,000 steps: the worst
case; then each of its runs against the baseline), the race at the default tol 1e-6 (what the page computes),
and the page's player payload built from the race (``race.player`` + ``race.player_json``). Ratios are against
the baseline timed in the same process; the target is judged on the median, with the garbage collector on.
The script prints a table and asserts nothing about timings: it is not part of the pass/fail test suite.
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
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from gdviz import data, engine, optimizers, race  # noqa: E402
from gdviz.config import RunConfig  # noqa: E402
from gdviz.runs import one_feature_problem  # noqa: E402

STEPS = 10_000
TARGET_SECONDS = 0.5  # nine runs of 10,000 steps
CALIFORNIA_CSV = Path(os.environ.get("GDVIZ_CALIFORNIA_CSV", "/work/shared/data/california_housing.csv"))


def timings(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The fastest and the median of ``repeats`` timed calls, in seconds. Python's garbage collector stays on, as
    in the app (the engine keeps no per-step objects alive for it to walk)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def problems() -> dict[str, engine.Problem]:
    out = {"synthetic line (2 params)": one_feature_problem(RunConfig())}
    ds = data.load_dataset("diabetes")
    out["diabetes, standardised (11 params)"] = data.make_problem(
        ds.X, ds.y, scaling="standard", feature_names=ds.feature_names
    )
    if CALIFORNIA_CSV.exists():
        ca = data.load_dataset("california_housing", path=CALIFORNIA_CSV)
        out["California, standardised (9 params)"] = data.make_problem(
            ca.X, ca.y, scaling="standard", feature_names=ca.feature_names
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat instead of five")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 7
    print(f"# Optimizer race benchmark ({platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, {repeats} repeats, garbage collector on)\n")  # fmt: skip
    print("| data | what | runs x steps | seconds, best | seconds, median | best x baseline | under 0.5 s (median)? |")
    print("|---|---|---|---|---|---|---|")
    for name, p in problems().items():
        init = np.zeros(p.n_params)
        d = race.default_settings(p, init)
        entries = [race.Entry(n, tuple(d[n].items())) for n in race.RUNS]
        gd = optimizers.gd(d["gd"]["learning_rate"])

        def baseline(p=p, gd=gd) -> object:
            return engine.collect(engine.run(p, gd, tol=0, max_steps=STEPS))

        def worst(p=p, entries=entries, init=init) -> list:
            return race.race(p, entries, init_params=init, tol=0, max_steps=STEPS)

        def typical(p=p, entries=entries, init=init) -> list:
            return race.race(p, entries, init_params=init, tol=1e-6, max_steps=STEPS)

        base, base_median = timings(baseline, repeats)
        done = typical()
        steps = sum(int(r.traj.step[-1]) for r in done)

        def payload(p=p, done=done) -> str:
            return race.player_json(race.player(p, done, (0, p.n_params - 1), names=race.param_labels(p)), run="b")

        rows = [
            ("baseline: one plain GD run, tol 0", f"1 x {STEPS:,}", (base, base_median)),
            ("race, tol 0 (every run takes every step)", f"9 x {STEPS:,}", timings(worst, repeats)),
            ("race, tol 1e-6 (the page's)", f"9 runs, {steps:,} steps in all", timings(typical, repeats)),
            ("player payload of that race", f"{len(payload()) / 1e6:.2f} MB of JSON", timings(payload, repeats)),
        ]
        for what, size, (seconds, median) in rows:
            race_row = what.startswith("race")
            met = ("yes" if median < TARGET_SECONDS else "no") if race_row else ""
            print(f"| {name} | {what} | {size} | {seconds:.3f} | {median:.3f} | {seconds / base:.2f} | {met} |")
        per_run = ", ".join(f"{race.LABELS[r.name]} {r.seconds / base:.1f}" for r in worst())
        print(f"| {name} | each run of the tol-0 race, x baseline | {per_run} | | | | |")
        if "California" in name:  # mini-batches: the six fixed-rate runs on batches of 32 rows
            batch, batch_median = timings(
                lambda p=p, e=entries, i=init: race.race(p, e, init_params=i, tol=0, batch_size=32), repeats
            )
            met = "yes" if batch_median < TARGET_SECONDS else "no"
            print(f"| {name} | race, tol 0, batch 32 (reference runs full batch) | 9 x {STEPS:,} | {batch:.3f} | "
                  f"{batch_median:.3f} | {batch / base:.2f} | {met} |")  # fmt: skip


if __name__ == "__main__":
    main()
