"""Smoke test of bench/race.py: the quick run finishes and prints its table. No timing is checked."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_race_quick_runs_and_prints_its_table():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "race.py"), "--quick"], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    header = r"^\| data \| what \| runs x steps \| seconds, best \| seconds, median \| best x baseline \| under 0\.5 s"
    assert re.search(header + r" \(median\)\? \|$", proc.stdout, re.MULTILINE), proc.stdout
    assert len(re.findall(r"^\| .* \| race, tol 0 \(every run takes every step\) \| 9 x 10,000 \|", proc.stdout,
                          re.MULTILINE)) >= 2, proc.stdout  # fmt: skip
