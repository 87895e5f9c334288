"""The one-way import rules of STYLE.md section 1, checked in fresh interpreters.

A fresh subprocess matters: in the test process itself other tests may already have imported
streamlit, scikit-learn or pandas, which would hide a stray import.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def modules_after_importing(*names: str) -> set[str]:
    """The top-level package names in sys.modules after importing ``names`` in a new interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(names)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_probe_sees_what_is_imported():
    # A probe that came back empty would pass every test below; show that it does see imports.
    assert {"numpy", "gdviz"} <= modules_after_importing("gdviz.engine")
    assert "sklearn" in modules_after_importing("gdviz.data")


def test_core_does_not_import_streamlit():
    loaded = modules_after_importing(
        "gdviz", "gdviz.errors", "gdviz.optimizers", "gdviz.engine", "gdviz.analysis", "gdviz.data", "gdviz.config",
        "gdviz.query", "gdviz.runs", "gdviz.playback", "gdviz.explain", "gdviz.plots", "gdviz.csvread",
        "gdviz.csvtext", "gdviz.datacheck",
        "gdviz.thinning", "gdviz.playground",
    )  # fmt: skip
    assert "streamlit" not in loaded


@pytest.fixture(scope="module")
def numpy_core_modules() -> set[str]:
    return modules_after_importing("gdviz.optimizers", "gdviz.engine", "gdviz.analysis")


@pytest.mark.parametrize("heavy", ["sklearn", "pandas", "streamlit", "plotly", "scipy"])
def test_numpy_only_modules_stay_numpy_only(heavy, numpy_core_modules):
    assert heavy not in numpy_core_modules


def test_core_modules_do_not_mention_streamlit():
    plots = [f"plots/{p.stem}" for p in sorted((REPO / "gdviz" / "plots").glob("*.py"))]
    for name in ("errors", "optimizers", "engine", "analysis", "data", "config", "query", "runs", "playback", "explain",
                 *plots, "__init__", "csvread", "csvtext", "datacheck", "playground"):  # fmt: skip
        source = (REPO / "gdviz" / f"{name}.py").read_text()
        assert "import streamlit" not in source and "from streamlit" not in source, name


PAGE_MODULES = ("playground", "player", "regimes", "sweep", "scaling", "math", "your_data")
SHARED_SHELL = ("share", "downloads", "cache", "state", "widgets", "messages", "live_chart")


@pytest.mark.parametrize("name", SHARED_SHELL)
def test_shared_shell_modules_know_no_page(name):
    """The hubs import no page's ui module and name no page's session keys: pages register with them."""
    tree = ast.parse((REPO / "gdviz" / "ui" / f"{name}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "gdviz.ui":
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gdviz.ui."):
            imported.add(node.module.removeprefix("gdviz.ui."))
    assert not imported & set(PAGE_MODULES)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if s.startswith(tuple(f"{page}_" for page in PAGE_MODULES))]


def test_the_ui_package_holds_no_logic():
    tree = ast.parse((REPO / "gdviz" / "ui" / "__init__.py").read_text())
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Constant)  # its docstring only
