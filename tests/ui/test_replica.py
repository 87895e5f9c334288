"""gdviz.ui.replica: when a session counts as moved to another app process behind the proxy, and that the
app shows nothing outside the proxy. The notice itself, after a real process is killed, is checked in a
real browser by tests/deploy/test_stack.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gdviz.ui import replica

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("sticky", "own", "expected"),
    [
        ("s1", "s2", True),  # the page was on s1, this is s2: s1 stopped
        ("s2", "s2", False),  # the same process came back (a network blip)
        (None, "s2", False),  # an ordinary run: no reconnect
        ("", "s2", False),  # the page was served outside the stack
        ("s1", "", False),  # a process started by hand, not by deploy/stack.py
        (1234, "s2", False),  # not a name
    ],
)
def test_moved_only_when_both_are_known_and_differ(sticky, own, expected):
    assert replica.moved(sticky, own) is expected


def test_outside_the_proxy_the_app_shows_no_notice(monkeypatch):
    monkeypatch.setenv(replica.NAME_ENV, "s2")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception
    assert not at.toast
