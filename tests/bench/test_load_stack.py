"""Smoke test of bench/load_stack.py: 2 protocol sessions through HAProxy against 1 and then 2 app processes,
without an error, spread over both processes of the 2-process stack. No timing is checked. Skipped without
haproxy, unless GDVIZ_REQUIRE_BROWSER=1 (.ci/run installs it)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_load_stack_compares_one_and_two_processes_without_errors():
    if shutil.which("haproxy") is None:
        if os.environ.get("GDVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail("GDVIZ_REQUIRE_BROWSER=1 but haproxy is missing: apt-get install -y haproxy")
        pytest.skip("haproxy not installed (apt-get install -y haproxy)")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_stack.py"), "--sessions", "2", "--changes", "1",
         "--syncs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out[-2000:] + proc.stderr[-4000:]
    throughput = r"^\| reruns finished per second, all sessions\s*\| [\d.]+\s*\| [\d.]+\s*\| [\d.]+x"
    assert re.search(throughput, out, re.M), out
    assert re.search(r"^\| sessions per process \(SERVERID cookie\)\s*\| s1: 2\s*\| s1: 1, s2: 1\s*\|", out, re.M), out
    assert re.search(r"^\| errors\s*\| 0\s*\| 0\s*\|", out, re.M), out
    assert "error (" not in out, out
