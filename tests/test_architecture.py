"""The layout rules of STYLE.md section 1, checked on every module (globbed, so a new one is checked too).

Two kinds of check: the import statements each file holds (read with ``ast``, function bodies included, so
a late import cannot hide a dependency), and fresh interpreters that import the core and report what got
loaded (in the test process itself other tests may already have imported streamlit or scikit-learn).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gdviz"
SHELL = PACKAGE / "ui"
PLOTS = PACKAGE / "plots"
PAGES = REPO / "pages"
MAX_PAGE_LINES = 80
# The NumPy core: nothing heavier than NumPy below these.
NUMPY_CORE = ("gdviz.optimizers", "gdviz.engine", "gdviz.contours", "gdviz.analysis", "gdviz.thinning")
# What each low layer may import from the package (STYLE.md section 1: optimizers <- engine <- analysis;
# contours, the loss's level sets over a plane, sits between engine and analysis).
LOW_LAYERS = {
    "gdviz.errors": set(),
    "gdviz.optimizers": {"gdviz.errors"},
    "gdviz.engine": {"gdviz.errors", "gdviz.optimizers"},
    "gdviz.contours": {"gdviz.engine"},
    "gdviz.analysis": {"gdviz.errors", "gdviz.optimizers", "gdviz.engine", "gdviz.contours"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in ([root] if root.is_file() else root.rglob("*.py")))


CORE = [p for p in python_files(PACKAGE) if SHELL not in p.parents]
SHELL_FILES = python_files(SHELL)
PAGE_FILES = python_files(PAGES)
APP = REPO / "app.py"


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in ``path``; ``from a import b`` gives a.b too."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
            found += [(f"{node.module}.{alias.name}", id(node) in top) for alias in node.names]
    return found


def package_imports(path: Path) -> set[str]:
    """The gdviz modules ``path`` imports: ``from gdviz.plots import sweep`` is gdviz.plots.sweep, not the package."""
    known = {module_name(p) for p in python_files(PACKAGE)}
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found |= modules or {node.module}
    return {name for name in found if name in known and name != "gdviz"}


def test_the_globs_see_the_layout():
    # Globs that came back empty would pass every test below.
    names = {module_name(p) for p in CORE}
    assert {"gdviz.engine", "gdviz.optimizers", "gdviz.analysis", "gdviz.config", "gdviz.query"} <= names
    assert any(module_name(p).startswith("gdviz.plots.") for p in CORE)
    assert len(SHELL_FILES) >= 5 and len(PAGE_FILES) >= 6


@pytest.mark.parametrize("path", CORE, ids=module_name)
def test_core_imports_neither_streamlit_nor_the_shell(path):
    bad = [n for n, _ in imports(path) if n.split(".")[0] == "streamlit" or n.startswith("gdviz.ui")]
    assert not bad, f"{module_name(path)} imports {bad}"


def test_only_the_shell_pages_and_app_import_streamlit():
    allowed = set(SHELL_FILES) | set(PAGE_FILES) | {APP}
    for path in python_files(PACKAGE, PAGES, APP):
        if any(n.split(".")[0] == "streamlit" for n, _ in imports(path)):
            assert path in allowed, path


@pytest.mark.parametrize("path", python_files(PACKAGE, PAGES, APP), ids=lambda p: str(p.relative_to(REPO)))
def test_no_import_hides_inside_a_function(path):
    late = [n for n, at_top in imports(path) if not at_top and not n.startswith("__future__")]
    # ``if TYPE_CHECKING:`` blocks are module level too; anything else nested is a hidden dependency.
    tree = ast.parse(path.read_text())
    guarded = {
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for node in tree.body
        if isinstance(node, ast.If)
        for n in ast.walk(node)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert not [n for n in late if n.split(".")[0] not in guarded and n not in guarded], (path, late)


@pytest.mark.parametrize("name", sorted(LOW_LAYERS))
def test_low_layers_import_only_what_is_below_them(name):
    path = REPO / Path(*name.split(".")).with_suffix(".py")
    assert package_imports(path) <= LOW_LAYERS[name], (name, package_imports(path) - LOW_LAYERS[name])


def test_the_core_has_no_import_cycle():
    graph = {module_name(p): {m for m in package_imports(p) if m != module_name(p)} for p in CORE}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_plots_draw_only():
    """Plots take data and return specs: they never run the optimizer or read the session."""
    for path in python_files(PLOTS):
        mods = package_imports(path)
        assert not {m for m in mods if m.startswith(("gdviz.ui", "gdviz.playback", "gdviz.runs"))}, (path, mods)
        assert "gdviz.engine.run" not in {n for n, _ in imports(path)}


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_are_short_pipelines_without_numpy(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_PAGE_LINES, f"{path.name}: {len(source.splitlines())} lines"
    assert not [n for n, _ in imports(path) if n.split(".")[0] in ("numpy", "pandas", "sklearn")], path.name
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{path.name} says what it teaches in its docstring"


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_each_page_has_its_shell_module_of_the_same_name(path):
    # One name per topic: pages/regimes.py is drawn by gdviz/ui/regimes.py.
    assert (SHELL / path.name).exists(), f"gdviz/ui/{path.name} is missing"


PAGE_MODULES = ("playground", "player", "race", "regimes", "sweep", "scaling", "math", "your_data")
SHARED_SHELL = ("share", "downloads", "cache", "state", "widgets", "messages", "live_chart")


@pytest.mark.parametrize("name", SHARED_SHELL)
def test_shared_shell_modules_know_no_page(name):
    """The hubs import no page's ui module and name no page's session keys: pages register with them."""
    path = SHELL / f"{name}.py"
    imported = {m.removeprefix("gdviz.ui.") for m in package_imports(path) if m.startswith("gdviz.ui.")}
    assert not imported & set(PAGE_MODULES)
    tree = ast.parse(path.read_text())
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if s.startswith(tuple(f"{page}_" for page in PAGE_MODULES))]


def test_the_ui_package_holds_no_logic():
    tree = ast.parse((SHELL / "__init__.py").read_text())
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Constant)  # its docstring only


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
    assert {"numpy", "gdviz"} <= modules_after_importing("gdviz.engine")
    assert "sklearn" in modules_after_importing("gdviz.data")


def test_importing_the_whole_core_loads_no_streamlit():
    assert "streamlit" not in modules_after_importing(*(module_name(p) for p in CORE))


@pytest.mark.parametrize("heavy", ["sklearn", "pandas", "streamlit", "plotly", "scipy"])
def test_numpy_only_modules_stay_numpy_only(heavy):
    assert heavy not in modules_after_importing(*NUMPY_CORE)


# Test files are named after what they test: tests/test_<m>.py for gdviz/<m>.py, tests/<dir>/test_<m>.py for
# gdviz/<dir>/<m>.py (plots, ui), pages/<m>.py (tests/pages: AppTests; tests/e2e: the real browser),
# bench/<m>.py or deploy/<m>.py. A suffix may say which aspect (test_data_csv.py tests gdviz/data.py's CSV reading).
NOT_A_MODULE = {"test_architecture.py"}  # this file: the layout itself


def _tested_module(test: Path) -> Path | None:
    homes = {
        "": [PACKAGE],
        "plots": [PLOTS],
        "ui": [SHELL],
        "pages": [PAGES],
        "e2e": [PAGES, SHELL, PACKAGE, REPO, REPO / "deploy"],
        "bench": [REPO / "bench"],
        "deploy": [REPO / "deploy"],
    }
    sub = test.parent.relative_to(REPO / "tests").as_posix().replace(".", "")
    parts = test.stem.removeprefix("test_").split("_")
    for n in range(len(parts), 0, -1):  # the longest prefix that names a module
        for home in homes.get(sub, []):
            for name in ("_".join(parts[:n]), "_" + "_".join(parts[:n])):  # a private module: test_spec.py
                if (home / f"{name}.py").exists():
                    return home / f"{name}.py"
    return None


def test_test_files_are_named_after_what_they_test():
    tests = sorted((REPO / "tests").rglob("test_*.py"))
    assert len(tests) > 30
    wrong = [str(t.relative_to(REPO)) for t in tests if t.name not in NOT_A_MODULE and _tested_module(t) is None]
    assert not wrong, wrong
