"""Smoke test of bench/engine.py: the quick run finishes and prints its summary. No timing is checked."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_engine_quick_runs_and_prints_the_summary_table():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert re.search(r"^\|\s*metric\s*\|\s*measured\s*\|\s*target\s*\|\s*met\?\s*\|$", proc.stdout, re.MULTILINE), (
        proc.stdout[-2000:]
    )


def test_bench_csv_read_quick_runs_and_prints_its_table():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "csv_read.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert re.search(r"^\| file \| MB \| rows x columns read \| notes \| seconds \|$", proc.stdout, re.MULTILINE)
    assert len(re.findall(r"^\| (tall|wide|messy|semicolons)", proc.stdout, re.MULTILINE)) == 4, proc.stdout
