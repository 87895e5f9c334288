"""Load: many Playground sessions held open at once against one local ``streamlit run app.py``.

Driver: Python websocket clients that speak Streamlit's own protocol (``streamlit.proto`` BackMsg out,
ForwardMsg in, over ``/_stcore/stream``), as the browser does. The Playground's browser-side player steps,
scrubs and plays with no message to the server; what a browser sends is a page load (``rerun_script``), a
setting change (a ``rerun_script`` with the widget's new value: Python computes the new run and sends the
player its payload) and, about a second after the user stops moving, a step sync (the player element's state
``{"step": N}``, which share links and downloads read). Chosen over Playwright pages because on this 2-core
machine many Chromium pages with software WebGL would mostly measure the browsers and starve the server they
are meant to load; the protocol clients cost little, and each latency is exact on the server's side: from
sending the request to the ``script_finished`` message of the rerun it caused. What a browser adds on top is
measured for one session by ``bench/playground_browser.py``.

Per session: load the page; change the learning rate ``--changes`` times (rates drawn from the slider's
grid between 0.001 and 0.08, so that sessions share some runs in the cache, as a class would); send
``--syncs`` step syncs (think times between); with ``--long`` also set tol 0 and max steps 200,000 (the
longest run) and sync its last step. Every session checks the step the player is told after each request.
Errors count exception boxes, error boxes, wrong steps, lost connections and timeouts. The server's
resident memory (RSS, from /proc) is read before the sessions connect and while they are all still open.

A baseline of 1 session runs first, in the same process against the same server, and the table gives the
ratio of each figure with ``--sessions`` sessions to it. Nothing is asserted about timings.

Usage: .venv/bin/python bench/load_sessions.py [--sessions 100] [--changes 5] [--syncs 5] [--long]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120.0  # seconds one rerun may take before it counts as an error
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
LONG_STEPS = 200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, repo: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start: {proc.stderr.read().decode()[-2000:]}")


def rss_mb(pid: int | None) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc); NaN without a pid (a server behind ``--url``)."""
    if pid is None:
        return float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` so far, in seconds (Linux /proc); NaN without a pid."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stats:
    """Latencies in seconds per kind of request, and the errors seen."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    servers: dict[str, int] = field(default_factory=dict)  # behind a proxy: sessions per SERVERID cookie

    def add(self, kind: str, seconds: float) -> None:
        self.latency.setdefault(kind, []).append(seconds)

    def merge(self, other: Stats) -> None:
        for kind, values in other.latency.items():
            self.latency.setdefault(kind, []).extend(values)
        self.errors.extend(other.errors)
        for name, n in other.servers.items():
            self.servers[name] = self.servers.get(name, 0) + n


class Session:
    """One browser tab's worth of protocol: widget ids by key, the fragment they live in, the player's step."""

    def __init__(self, url: str, stats: Stats, name: str) -> None:
        self.url, self.stats, self.name = url, stats, name
        self.ids: dict[str, tuple[str, str]] = {}  # widget key -> (widget id, fragment id)
        self.step: int | None = None  # the step the player was last told to show
        self.ws = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, ping_interval=None)
        # Behind deploy/haproxy.cfg the proxy names the app process it chose in its sticky cookie.
        for cookie in self.ws.response.headers.get_all("Set-Cookie"):
            if cookie.startswith("SERVERID="):
                name = cookie.split(";")[0].split("=", 1)[1]
                self.stats.servers[name] = self.stats.servers.get(name, 0) + 1

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def _read(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type")
            inner = getattr(element, etype)
            wid = getattr(inner, "id", "")
            if isinstance(wid, str) and wid.startswith("$$ID-"):
                key = wid.rsplit("-", 1)[-1]  # keyed widget ids end in "-<key>" (gdviz keys have no "-")
                self.ids[key] = (wid, msg.delta.fragment_id)
            if etype == "bidi_component" and inner.component_name == "gdviz_player":
                if inner.WhichOneof("data") == "bytes":  # gdviz.ui.player.pack: a JSON line, then the payload
                    self.step = int(json.loads(bytes(inner.bytes).partition(b"\n")[0])["step"])
                else:  # a checkout from before the bytes (--repo, for an A/B)
                    self.step = int(json.loads(inner.json)["step"])
            elif etype == "exception":
                self.stats.errors.append(f"{self.name}: exception {inner.message[:200]}")
            elif etype == "alert" and inner.format == inner.ERROR:
                self.stats.errors.append(f"{self.name}: error box {inner.body[:200]}")

    async def rerun(self, kind: str, *, key: str | None = None, value: dict | None = None) -> bool:
        """Send one rerun request and wait for the end of the rerun it causes; record its latency."""
        back = BackMsg()
        rs = back.rerun_script
        fragment = ""
        if key is not None:
            if key not in self.ids:
                self.stats.errors.append(f"{self.name}: no widget {key!r} on the page")
                return False
            wid, fragment = self.ids[key]
            state = rs.widget_states.widgets.add()
            state.id = wid
            for name, v in (value or {"trigger_value": True}).items():
                setattr(state, name, v)
        rs.fragment_id = fragment
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    msg = ForwardMsg()
                    msg.ParseFromString(await self.ws.recv())
                    self._read(msg)
                    if msg.WhichOneof("type") == "script_finished":
                        if msg.script_finished in FINISHED:
                            break
                        if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                            self.stats.errors.append(f"{self.name}: compile error")
                            return False
                        # FINISHED_EARLY_FOR_RERUN: a callback asked for a full rerun; wait for that one.
        except (TimeoutError, websockets.ConnectionClosed) as err:
            self.stats.errors.append(f"{self.name}: {kind}: {type(err).__name__}")
            return False
        self.stats.add(kind, time.perf_counter() - t0)
        return True

    def expect_step(self, expected: int) -> None:
        if self.step != expected:
            self.stats.errors.append(f"{self.name}: read-out shows step {self.step}, expected {expected}")


# The rates a session picks from: the learning-rate slider's grid between 0.001 and 0.08 (all converge).
RATES = [
    float(f"{m * 10.0**e:.3g}")
    for e in (-3, -2)
    for m in (1, 1.12, 1.25, 1.4, 1.6, 1.8, 2, 2.24, 2.5, 2.8, 3.15, 3.55, 4, 4.5, 5, 5.6, 6.3, 7.1, 8)
]


async def scenario(url: str, stats: Stats, name: str, args, rng: random.Random, ready: asyncio.Event) -> Session:
    """One session's visit; returns the still-open session (closed by the caller once RSS is read)."""
    s = Session(url, stats, name)
    await s.connect()
    await s.rerun("page load")
    for _ in range(args.changes):
        await asyncio.sleep(rng.uniform(0.5, 1.5))  # a person's think time between settings
        rate = rng.choice([r for r in RATES if r != 0.05])
        if await s.rerun("setting change", key="playground_learning_rate", value={"double_value": rate}):
            s.expect_step(0)  # a new run opens at step 0
    for _ in range(args.syncs):
        await asyncio.sleep(rng.uniform(1.0, 2.0))  # steps in the browser, then the sync a second later
        step = rng.randrange(0, 200)
        sync = {"json_value": json.dumps({"step": step})}
        # The player is told the nearest stored step (a short run may end sooner), never a later one.
        if await s.rerun("step sync", key="player_playground", value=sync) and (s.step is None or s.step > step):
            stats.errors.append(f"{name}: the player was told step {s.step} after a sync of {step}")
    if args.long:
        await s.rerun("set tol/max steps", key="playground_tol", value={"double_value": 0.0})
        await s.rerun("200k-step run", key="playground_max_steps", value={"int_value": LONG_STEPS})
        sync = {"json_value": json.dumps({"step": LONG_STEPS})}
        if await s.rerun("step sync", key="player_playground", value=sync):
            s.expect_step(LONG_STEPS)
    ready.set()
    return s


async def phase(url: str, n: int, args, server_pid: int) -> tuple[Stats, float, float]:
    """``n`` sessions at once: (stats, RSS before they connect, RSS once all are done and still open)."""
    stats = Stats()
    before = rss_mb(server_pid)
    readies = [asyncio.Event() for _ in range(n)]
    peak = before

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_mb(server_pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    t0, cpu0 = time.perf_counter(), cpu_seconds(server_pid)
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(scenario(url, stats, f"s{i}", args, random.Random(i), readies[i])))
        await asyncio.sleep(0.1)  # arrivals spread over n / 10 seconds, not one burst
    results = await asyncio.gather(*tasks, return_exceptions=True)
    stats.latency["_wall"] = [time.perf_counter() - t0]
    stats.latency["_cpu"] = [cpu_seconds(server_pid) - cpu0]
    await asyncio.sleep(1.0)  # let the server settle with every session still open
    held = rss_mb(server_pid)
    peak = max(peak, held)
    sampler.cancel()
    for r in results:
        if isinstance(r, BaseException):
            stats.errors.append(f"session failed: {type(r).__name__}: {r}")
        else:
            await r.close()
    stats.latency["_peak"] = [peak]
    return stats, before, held


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def ms(x: float) -> str:
    return f"{1000 * x:,.0f} ms"


def table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("metric", "1 session", "N sessions", "ratio")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--changes", type=int, default=5, help="learning-rate changes per session")
    ap.add_argument("--syncs", type=int, default=5, help="step syncs per session")
    ap.add_argument("--long", action="store_true", help="each session also computes a 200,000-step run")
    ap.add_argument(
        "--url",
        help="an already running app or proxy (ws://host:port); default: start one here. "
        "No server RSS or CPU then (NaN); bench/load_stack.py compares 1 and 2 processes behind HAProxy",
    )
    ap.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose app.py to start (for an A/B)")
    args = ap.parse_args()

    port = free_port()
    proc = start_server(port, args.repo) if args.url is None else None
    url = (args.url or f"ws://127.0.0.1:{port}") + "/_stcore/stream"
    pid = proc.pid if proc else None
    try:
        started = rss_mb(pid) if pid else float("nan")
        warm, _, _ = asyncio.run(phase(url, 1, args, pid))  # imports, caches, first figures: not counted
        load_avg = os.getloadavg()[0]
        base, base_before, base_held = asyncio.run(phase(url, 1, args, pid))
        load, load_before, load_held = asyncio.run(phase(url, args.sessions, args, pid))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    n = args.sessions
    rows = []
    for kind in ("page load", "setting change", "step sync", "200k-step run"):
        a, b = base.latency.get(kind, []), load.latency.get(kind, [])
        if not b:
            continue
        for label, q in (("median", 0.5), ("p95", 0.95)):
            x, y = pct(a, q), pct(b, q)
            rows.append((f"{kind} latency, {label}", ms(x), ms(y), f"{y / x:.2f}x"))
        rows.append((f"{kind} requests", str(len(a)), str(len(b)), f"{len(b) / max(len(a), 1):.0f}x"))
    count = lambda st: sum(len(v) for k, v in st.latency.items() if not k.startswith("_"))  # noqa: E731
    ta, tb = count(base) / base.latency["_wall"][0], count(load) / load.latency["_wall"][0]
    rows.append(("reruns finished per second, all sessions", f"{ta:.1f}", f"{tb:.1f}", f"{tb / ta:.2f}x"))
    ca, cb = base.latency["_cpu"][0] / count(base), load.latency["_cpu"][0] / count(load)
    rows.append(("server CPU time per rerun", ms(ca), ms(cb), f"{cb / ca:.2f}x"))
    sa, sb = base.latency["_cpu"][0], load.latency["_cpu"][0] / n
    rows.append(("server CPU time per session", ms(sa), ms(sb), f"{sb / sa:.2f}x"))
    per_base = base_held - base_before
    per_load = (load_held - load_before) / n
    rows += [
        ("errors", str(len(base.errors)), str(len(load.errors)), ""),
        ("server RSS before the sessions", f"{base_before:.0f} MB", f"{load_before:.0f} MB", ""),
        ("server RSS with the sessions open", f"{base_held:.0f} MB", f"{load_held:.0f} MB",
         f"{load_held / base_held:.2f}x"),
        ("server RSS peak", f"{base.latency['_peak'][0]:.0f} MB", f"{load.latency['_peak'][0]:.0f} MB", ""),
        ("RSS per open session", f"{per_base:.1f} MB", f"{per_load:.1f} MB", ""),
    ]  # fmt: skip
    print(f"\nLoad: {n} sessions on {os.cpu_count()} cores (load average {load_avg:.1f} before the baseline), "
          f"server RSS at start {started:.0f} MB, after a warm-up session {base_before:.0f} MB.\nEach session: load, "
          f"{args.changes} learning-rate changes, {args.syncs} step syncs (stepping itself is in the browser)"
          + (", then tol 0, max steps 200,000 and a sync of its last step" if args.long else "")
          + f". N = {n}. App: {args.repo}\n")  # fmt: skip
    print(table(rows))
    for err in (warm.errors + base.errors + load.errors)[:20]:
        print("error:", err)


if __name__ == "__main__":
    main()
