"""Benchmark ``data.read_csv`` on files near the upload limit (10 MiB): tall, wide, messy and European layouts.

Run from the repo root:

    python bench/csv_read.py           # four files of about 8-10 MB, best of 3 reads each
    python bench/csv_read.py --quick   # files of about 1 MB, one read each

The files are generated in memory with a fixed seed. The script prints a table and never asserts anything
about timings: it is not part of the pass/fail test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from gdviz import data  # noqa: E402


def _rows(values: np.ndarray, sep: str = ",", decimal: str = ".") -> list[str]:
    lines = [sep.join(f"{v:.6g}" for v in row) for row in values]
    return [line.replace(".", decimal) for line in lines] if decimal != "." else lines


def files(scale: float) -> dict[str, bytes]:
    """name -> CSV bytes; ``scale`` 1.0 gives files of about 8-10 MB."""
    rng = np.random.default_rng(0)
    out = {}
    n = int(120_000 * scale)
    values = rng.normal(size=(n, 9)) * rng.uniform(0.1, 1000, 9)
    out["tall: 9 numeric columns"] = "\n".join([",".join(f"x{j}" for j in range(9)), *_rows(values)]).encode()
    n = int(8_000 * scale)
    values = rng.normal(size=(n, 120))
    out["wide: 120 numeric columns"] = "\n".join([",".join(f"x{j}" for j in range(120)), *_rows(values)]).encode()
    n = int(90_000 * scale)
    values = rng.normal(size=(n, 6)).round(4)
    lines = ["id,city,a,b,c,d,e,y"]
    for i, row in enumerate(values):
        cells = [f"{v:g}" for v in row]
        if i % 50 == 7:
            cells[i % 6] = "NA"
        lines.append(f"r{i},Paris,{','.join(cells[:5])},{cells[5]}")
    out["messy: text, ids, 2% missing"] = "\n".join(lines).encode()
    n = int(110_000 * scale)
    values = rng.normal(size=(n, 8))
    semi = "\n".join([";".join(f"x{j}" for j in range(8)), *_rows(values, ";", ",")])
    out["semicolons, decimal commas, Latin-1"] = semi.replace("x0", "température", 1).encode("latin-1")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="files of about 1 MB, one read each")
    args = parser.parse_args(argv)
    scale, repeats = (0.1, 1) if args.quick else (1.0, 3)
    print(f"read_csv benchmark, {os.cpu_count()} CPUs, best of {repeats}\n")
    print("| file | MB | rows x columns read | notes | seconds |")
    print("|---|---:|---:|---:|---:|")
    for label, raw in files(scale).items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            ds = data.read_csv(raw, max_bytes=2 * data.MAX_CSV_BYTES)
            times.append(time.perf_counter() - start)
        shape = f"{ds.n_samples} x {ds.n_features + 1}"
        print(f"| {label} | {len(raw) / 2**20:.1f} | {shape} | {len(ds.notes)} | {min(times):.2f} |")


if __name__ == "__main__":
    main()
