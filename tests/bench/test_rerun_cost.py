"""Smoke test of bench/rerun_cost.py: one protocol session's setting changes and step syncs, a table, no error.

It starts the app, so it also checks that the Playground's widget keys are what the benchmark expects. No
timing is checked.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rerun_cost_prints_a_row_per_kind_without_errors():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rerun_cost.py"), "--repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out[-2000:] + proc.stderr[-4000:]
    for kind in ("setting change, run cached", "setting change, run computed", "step sync"):
        assert re.search(rf"^\| {kind}\s*\| [\d.]+ / [\d.]+ ms\s*\|", out, re.MULTILINE), out[-2000:]
    assert "error" not in out, out[-2000:]
