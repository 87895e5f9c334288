"""The components' scripts as the browser gets them (the shared Plotly loader in front of each): they parse,
and every module-level constant they use is declared. A merge once dropped ``SYNC_MS`` from player.js, and
every step sync threw in the browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from gdviz.ui.live_chart import component_js

SCRIPTS = ("live_chart.js", "player.js", "share.js")
# Names the browser provides (not declared in the scripts).
GLOBALS = {"JSON", "URL", "NaN", "DOM"}


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_constant_a_component_uses_is_declared_once(name):
    js = component_js(name)
    strings_and_comments = r"//[^\n]*|/\*.*?\*/|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"
    code = re.sub(strings_and_comments, "", js, flags=re.S)
    used = set(re.findall(r"\b[A-Z][A-Z0-9_]{2,}\b", code)) - GLOBALS
    declared = re.findall(r"\b(?:const|let|var|function)\s+([A-Z][A-Z0-9_]{2,})\b", code)
    assert sorted(used - set(declared)) == []
    assert len(declared) == len(set(declared))  # twice would be a SyntaxError in the browser


@pytest.mark.skipif(shutil.which("node") is None, reason="node not found")
@pytest.mark.parametrize("name", SCRIPTS)
def test_a_component_script_parses_as_a_module(name, tmp_path):
    path = tmp_path / (name.replace(".js", "") + ".mjs")
    path.write_text(component_js(name))
    done = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
