"""Server CPU per Playground rerun, by kind: one protocol session (``bench/load_sessions.py``'s) sends its
requests one at a time, so the server CPU time spent around each one is its own.

Kinds: a setting change whose run is cached (a rate another session already chose), a setting change that
computes its run (a rate nobody chose yet: the run, the player payload and its JSON), and a step sync (the
stepping fragment, after each setting change). The session cycles ``--repeat`` times in all through every
fifth rate of ``load_sessions.RATES`` (8 rates: with the computed runs between two visits of one, it stays in
any run cache of the app), each followed by a computed run of a rate 0.1% off it (as long a run). The
server's CPU is read from /proc around each request (10 ms ticks, so only the means over many requests mean
anything). ``--repo`` starts another checkout's app for an A/B in the same run (e.g. the main branch, then
this one). Nothing is asserted.

Usage: .venv/bin/python bench/rerun_cost.py [--repeat 40] [--repo PATH ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_sessions import RATES, ROOT, Session, Stats, cpu_seconds, free_port, rss_mb, start_server  # noqa: E402

KINDS = ("setting change, run cached", "setting change, run computed", "step sync")


async def measure(url: str, pid: int, repeat: int) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """kind -> (server CPU seconds per request, wall seconds per request), and the errors seen."""
    stats = Stats()
    s = Session(url, stats, "s0")
    await s.connect()
    await s.rerun("page load")
    for rate in RATES[::5]:  # every cached rate computed once, before anything is timed
        await s.rerun("warm", key="playground_learning_rate", value={"double_value": rate})
    spent = {kind: [0.0, 0.0] for kind in KINDS}  # kind -> [CPU seconds, wall seconds]

    async def timed(kind: str, **request) -> None:
        t0, c0 = time.perf_counter(), cpu_seconds(pid)
        await s.rerun(kind, **request)
        spent[kind][0] += cpu_seconds(pid) - c0  # 10 ms ticks: unbiased over many requests
        spent[kind][1] += time.perf_counter() - t0

    cached = RATES[::5]  # 8 rates: with the computed runs between them, within any run cache of the app
    for i in range(repeat):
        # The same rates, cached and not: a computed run is as long as the cached one beside it.
        rate = cached[i % len(cached)]
        fresh = float(f"{rate * (1 + 1e-3 * (1 + i // len(cached))):.6g}")
        for kind, r in (("setting change, run cached", rate), ("setting change, run computed", fresh)):
            await timed(kind, key="playground_learning_rate", value={"double_value": r})
            sync = {"json_value": json.dumps({"step": (37 * i) % 200})}
            await timed("step sync", key="player_playground", value=sync)
    n = {kind: repeat * (2 if kind == "step sync" else 1) for kind in KINDS}
    out = {kind: (cpu / n[kind], wall / n[kind]) for kind, (cpu, wall) in spent.items()}
    await s.close()
    return out, stats.errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=40, help="requests per kind")
    ap.add_argument("--repo", type=Path, nargs="*", default=[ROOT], help="checkouts whose app.py to start, in turn")
    args = ap.parse_args()
    results = {}
    for repo in args.repo:
        port = free_port()
        proc = start_server(port, repo)
        try:
            results[repo] = (*asyncio.run(measure(f"ws://127.0.0.1:{port}/_stcore/stream", proc.pid, args.repeat)),
                             rss_mb(proc.pid))  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print(f"\nServer CPU per rerun, one session, {args.repeat} requests per kind (load average "
          f"{os.getloadavg()[0]:.1f} at the end; {os.cpu_count()} cores)\n")  # fmt: skip
    head = ["kind", *[f"{r}: CPU / wall" for r in results]]
    rows = [[k, *[f"{1000 * v[0][k][0]:.1f} / {1000 * v[0][k][1]:.1f} ms" for v in results.values()]] for k in KINDS]
    rows.append(["server RSS at the end", *[f"{v[2]:.0f} MB" for v in results.values()]])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    for repo, (_, errors, _) in results.items():
        for err in errors[:10]:
            print(f"error ({repo}): {err}")


if __name__ == "__main__":
    main()
