"""Load through the proxy: the same Playground sessions against 1 and then 2 app processes behind HAProxy.

Both stacks are started here, one after the other, by deploy/stack.py (loopback only, free ports), and
driven by bench/load_sessions.py's protocol sessions through the proxy's port, so the ratio of the two
comes from one run on the same machine. Each stack first gets a warm-up (one short session per process,
not counted). Reported per stack: reruns finished per second over all sessions (the throughput), setting
change and step sync latencies, the app processes' CPU time, how the proxy spread the sessions (from the SERVERID
cookie each session's websocket got) and the errors (must be 0). It stops by itself.

Usage: .venv/bin/python bench/load_stack.py [--sessions 12] [--changes 3] [--syncs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import load_sessions as ls  # noqa: E402 - bench/ is not a package: found through sys.path above

from deploy import stack as deploy_stack  # noqa: E402


def run_stack(n: int, args) -> dict:
    """Start ``n`` processes behind the proxy, warm them up, run ``args.sessions`` sessions; the figures."""
    stack = deploy_stack.start(n)
    try:
        url = stack.url.replace("http://", "ws://") + "/_stcore/stream"
        warm_args = argparse.Namespace(changes=0, syncs=0, long=False)
        warm, _, _ = asyncio.run(ls.phase(url, n, warm_args, None))
        pids = [p.pid for p in stack.apps]
        cpu0 = sum(ls.cpu_seconds(pid) for pid in pids)
        load_avg = os.getloadavg()[0]
        stats, _, _ = asyncio.run(ls.phase(url, args.sessions, args, None))
        cpu = sum(ls.cpu_seconds(pid) for pid in pids) - cpu0
        rss = [ls.rss_mb(pid) for pid in pids]
    finally:
        stack.stop()
    reruns = sum(len(v) for k, v in stats.latency.items() if not k.startswith("_"))
    wall = stats.latency["_wall"][0]
    return {
        "n": n,
        "stats": stats,
        "warm_errors": warm.errors,
        "reruns": reruns,
        "wall": wall,
        "throughput": reruns / wall,
        "cpu": cpu,
        "rss": rss,
        "load_avg": load_avg,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=12)
    ap.add_argument("--changes", type=int, default=3, help="learning-rate changes per session")
    ap.add_argument("--syncs", type=int, default=3, help="step syncs per session (what a browser sends after a pause)")
    ap.add_argument("--processes", default="1,2", help="the stacks to compare, in order (default 1,2)")
    args = ap.parse_args()
    args.long = False
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = [run_stack(int(n), args) for n in args.processes.split(",")]

    head = ["metric", *(f"{r['n']} process{'es' if r['n'] > 1 else ''}" for r in results)]
    if len(results) == 2:
        head.append("ratio")
    rows = []

    def row(label: str, values: list[float], fmt, ratio: bool = True) -> None:
        cells = [label, *(fmt(v) for v in values)]
        if len(values) == 2:
            cells.append(f"{values[1] / values[0]:.2f}x" if ratio and values[0] else "")
        rows.append(cells)

    row("reruns finished per second, all sessions", [r["throughput"] for r in results], lambda v: f"{v:.1f}")
    for kind in ("setting change", "step sync"):
        for label, q in (("median", 0.5), ("p95", 0.95)):
            row(f"{kind} latency, {label}", [ls.pct(r["stats"].latency.get(kind, []), q) for r in results], ls.ms)
    row("reruns finished", [r["reruns"] for r in results], str)
    row("wall time of the sessions", [r["wall"] for r in results], lambda v: f"{v:.1f} s")
    row("app processes' CPU time", [r["cpu"] for r in results], lambda v: f"{v:.1f} s")
    rows.append(["sessions per process (SERVERID cookie)",
                 *(", ".join(f"{k}: {v}" for k, v in sorted(r["stats"].servers.items())) for r in results),
                 *([""] if len(results) == 2 else [])])  # fmt: skip
    rows.append(["errors", *(str(len(r["stats"].errors) + len(r["warm_errors"])) for r in results),
                 *([""] if len(results) == 2 else [])])  # fmt: skip
    rows.append(["RSS per process at the end", *(", ".join(f"{m:.0f} MB" for m in r["rss"]) for r in results),
                 *([""] if len(results) == 2 else [])])  # fmt: skip

    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    print(
        f"\nLoad through HAProxy ({started}): {args.sessions} sessions on {os.cpu_count()} cores, load average "
        + ", ".join(f"{r['load_avg']:.1f}" for r in results)
        + f" before each stack's sessions. Each session: load, {args.changes} learning-rate changes, "
        f"{args.syncs} step syncs (stepping itself is in the browser).\n"
    )
    print("\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]))
    for r in results:
        for err in (r["warm_errors"] + r["stats"].errors)[:10]:
            print(f"error ({r['n']} processes):", err)


if __name__ == "__main__":
    main()
