"""Smoke test of bench/load_sessions.py: two protocol sessions load, change the rate and sync steps, no error.

It starts the app and drives it over Streamlit's websocket protocol, so it also checks that the Playground's
widget keys and player element are what the benchmark expects. No timing is checked.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_load_bench_runs_two_sessions_without_errors():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_sessions.py"), "--sessions", "2", "--changes", "2",
         "--syncs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out[-2000:] + proc.stderr[-4000:]
    assert re.search(r"^\| setting change latency, p95\s*\|", out, re.MULTILINE), out[-2000:]
    assert re.search(r"^\| step sync requests\s*\| 2\s*\| 4\s*\|", out, re.MULTILINE), out[-2000:]
    assert re.search(r"^\| errors\s*\| 0\s*\| 0\s*\|", out, re.MULTILINE), out[-2000:]
    assert "error:" not in out, out[-2000:]
