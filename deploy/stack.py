"""Start the app as N ``streamlit run app.py`` processes behind HAProxy on one port; stop them all on Ctrl-C.

Usage: python deploy/stack.py [N] [--port 8600] [--public]

The proxy's configuration is deploy/haproxy.cfg: this writes a copy whose ``bind`` line and server list
(between "BEGIN servers" and "END servers") are for N processes, checks it with ``haproxy -c`` and runs
HAProxy with it. App process i listens on 127.0.0.1:PORT+i and gets GDVIZ_SERVER_NAME=s<i>, the cookie
value of its server line (gdviz/ui/replica.py tells a session that moved there from another process).
Everything listens on 127.0.0.1 unless ``--public`` binds the proxy to 0.0.0.0 (the apps stay on loopback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "deploy" / "haproxy.cfg"
SERVERS = re.compile(r"(?m)^(\s*# BEGIN servers\n)(.*?)(^\s*# END servers)", re.S)
BIND = re.compile(r"(?m)^(\s*bind )\S+$")


def server_name(i: int) -> str:
    return f"s{i + 1}"


def render_config(template: str, app_ports: list[int], bind: str) -> str:
    """``template`` (deploy/haproxy.cfg) with the proxy bound to ``bind`` (host:port) and one server line per
    app port on 127.0.0.1, each with its own sticky cookie value."""
    lines = "".join(
        f"    server {server_name(i)} 127.0.0.1:{p} check cookie {server_name(i)}\n" for i, p in enumerate(app_ports)
    )
    out, n = SERVERS.subn(lambda m: m.group(1) + lines + m.group(3), template)
    out, k = BIND.subn(lambda m: m.group(1) + bind, out)
    if n != 1 or k != 1:
        raise ValueError("the template needs one bind line and one BEGIN/END servers block")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def served_by(url: str) -> str | None:
    """The server (SERVERID cookie) the proxy at ``url`` sends a new visitor's health check to; None if down."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            cookies = r.headers.get_all("Set-Cookie") or []
    except OSError:
        return None
    found = [c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("SERVERID=")]
    return found[0] if found else None


def _spawn(cmd: list[str], log, env: dict[str, str] | None = None) -> subprocess.Popen:
    # A process group of its own: stopping the stack stops each process and whatever it started, and
    # Ctrl-C in the terminal reaches only this launcher, which then stops them in order.
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


@dataclass
class Stack:
    """A running stack: the proxy's URL, the app processes (index i is server s<i+1>) and HAProxy."""

    url: str
    apps: list[subprocess.Popen]
    app_urls: list[str]
    proxy: subprocess.Popen | None = None
    workdir: Path | None = None
    logs: list = field(default_factory=list)

    def kill_app(self, i: int) -> None:
        """Kill app process i at once (SIGKILL to its group): a crash, as far as its sessions can tell."""
        _signal_group(self.apps[i], signal.SIGKILL)
        self.apps[i].wait(timeout=10)

    def stop(self) -> None:
        for proc in [self.proxy, *self.apps]:
            if proc is not None and proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        for proc in [self.proxy, *self.apps]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        for log in self.logs:
            log.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        out = []
        for log in self.logs:
            log.seek(0)
            out.append(log.read().decode(errors="replace")[-chars:])
        return "\n---\n".join(out)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def start(n: int, port: int = 0, *, host: str = "127.0.0.1", app_ports: list[int] | None = None,
          timeout: float = 90.0) -> Stack:  # fmt: skip
    """Start ``n`` app processes and HAProxy on ``host:port`` (0: a free port); return once the proxy
    answers /_stcore/health through every server. Raises RuntimeError (after stopping what started) if not."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise RuntimeError("haproxy is not installed (apt-get install -y haproxy)")
    port = port or free_port()
    app_ports = app_ports or ([port + i + 1 for i in range(n)] if port else [free_port() for _ in range(n)])
    workdir = Path(tempfile.mkdtemp(prefix="gdviz-stack-"))
    stack = Stack(url=f"http://127.0.0.1:{port}", apps=[], app_urls=[], workdir=workdir)
    # One cookie secret for all: the XSRF cookie a browser got from one process is valid on the others, so
    # uploads still work after its session moved (failover). In the environment, not on the command line.
    env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET")
           or secrets.token_hex(32)}  # fmt: skip
    try:
        for i, p in enumerate(app_ports):
            log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process, closed by stop()
            stack.logs.append(log)
            cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                   str(p), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
            stack.apps.append(_spawn(cmd, log, {**env, "GDVIZ_SERVER_NAME": server_name(i)}))
            stack.app_urls.append(f"http://127.0.0.1:{p}")
        cfg = workdir / "haproxy.cfg"
        cfg.write_text(render_config(CONFIG.read_text(), app_ports, f"{host}:{port}"))
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(cfg)], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy -c rejected the configuration:\n{check.stdout}{check.stderr}")
        log = tempfile.TemporaryFile()  # noqa: SIM115
        stack.logs.append(log)
        stack.proxy = _spawn([haproxy, "-db", "-f", str(cfg)], log)
        deadline = time.monotonic() + timeout
        while not all(healthy(u) for u in stack.app_urls):
            if time.monotonic() > deadline or any(p.poll() is not None for p in [stack.proxy, *stack.apps]):
                raise RuntimeError("the stack did not start:\n" + stack.log_tail())
            time.sleep(0.3)
        # The proxy marks a server up after `rise` good checks (2 x 1 s): wait until it sends to every one.
        seen: set[str] = set()
        while len(seen) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the proxy sent only to {sorted(seen)}:\n" + stack.log_tail())
            seen.add(served_by(stack.url) or "")
            seen.discard("")
            time.sleep(0.2)
    except BaseException:
        stack.stop()
        raise
    return stack


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=2, help="app processes (default 2)")
    ap.add_argument("--port", type=int, default=8600, help="the proxy's port; the apps use the next N ports")
    ap.add_argument("--public", action="store_true", help="bind the proxy to 0.0.0.0 (a real deployment)")
    args = ap.parse_args(argv)
    host = "0.0.0.0" if args.public else "127.0.0.1"  # noqa: S104 - only with --public
    stack = start(args.n, args.port, host=host)
    shown = "http://127.0.0.1" if host == "127.0.0.1" else f"http://{host}"
    print(f"gdviz: {args.n} processes ({', '.join(stack.app_urls)}) behind HAProxy at {shown}:{args.port}")
    print("Ctrl-C stops the stack.", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started in the background
    try:
        while not stopping:
            dead = [i for i, p in enumerate([stack.proxy, *stack.apps]) if p.poll() is not None]
            if dead:
                print(f"gdviz: a process stopped ({dead}); stopping the stack", file=sys.stderr)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        print("gdviz: stack stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
