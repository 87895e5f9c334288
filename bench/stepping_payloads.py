"""What Feature scaling's and The math's players cost the server once per setting: the payload's build time
and size, beside the Playground's payload of a run of the same length (the baseline, built in the same run).

    GDVIZ_CALIFORNIA_CSV=... PYTHONPATH=. python bench/stepping_payloads.py

Prints one row per case: rows the browser holds, payload MB, median build seconds over 3 builds, and the ratio
of the build time to the Playground's baseline. Not part of the test run.
"""

from __future__ import annotations

import statistics
import time

from gdviz import data, engine, math_player, optimizers, playground, runs, scaling, scaling_player, thinning
from gdviz.config import RunConfig


def timed(build, repeat: int = 3) -> tuple[float, str]:
    times, text = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        text = build()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), text


def all_features_run(name: str, scaling_name: str, lr: float, max_steps: int):
    ds = data.load_dataset(name)
    problem = data.make_problem(ds.X, ds.y, scaling=scaling_name, feature_names=ds.feature_names)
    states = engine.run(problem, optimizers.gd(lr), tol=1e-6, max_steps=max_steps)
    return problem, thinning.collect(states, thinning.dense_for(problem.n_params, max_steps, 4 * 1024 * 1024))


def case(name: str, lr: float, max_steps: int) -> list[tuple]:
    """The three rows of one data set: the math's, Feature scaling's and the Playground's payload."""
    config = RunConfig(dataset=name, learning_rate=lr, max_steps=max_steps)
    problem, ds = runs.one_feature_problem(config), data.load_dataset(name)
    traj = runs.simulate(config, problem)
    base_s, _ = timed(lambda: playground.player_json(playground.player(config, problem, ds, traj), run="r"))
    schedule = config.make_schedule()
    s, text = timed(
        lambda: math_player.player_json(math_player.player(problem, traj, schedule, plain_gd=True), run="r")
    )
    rows = [("The math", name, min(traj.n_states, math_player.PLAYER_ROWS), len(text) / 1e6, s, s / base_s)]
    multi, run = all_features_run(name, "none", lr, max_steps)
    i, j = scaling.default_pair(multi)
    s, text = timed(lambda: playground.player_json(scaling_player.player(multi, run, i, j), run="r"))
    rows.append(("Feature scaling", name, min(run.n_states, 4096), len(text) / 1e6, s, s / base_s))
    rows.append(("Playground (baseline)", name, min(traj.n_states, 4096), float("nan"), base_s, 1.0))
    return rows


def main() -> None:
    rows = case("diabetes", 1e-5, 10_000) + case("california_housing", 1e-7, 10_000)
    print(f"{'page':<22} {'data':<19} {'rows':>6} {'payload MB':>10} {'build s':>8} {'x baseline':>10}")
    for page, name, n, mb, s, ratio in rows:
        print(f"{page:<22} {name:<19} {n:>6,} {mb:>10.2f} {s:>8.3f} {ratio:>10.2f}")


if __name__ == "__main__":
    main()
