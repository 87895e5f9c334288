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
        ("s1", "s2", True),  # the browser was on s1, this is s2: s1 stopped
        ("s2", "s2", False),  # the same process (every ordinary rerun and reconnect)
        ("", "s2", False),  # a first visit: no cookie yet
        (None, "s2", False),  # not behind the proxy
        ("s1", None, False),  # a process started by hand, not by deploy/stack.py
        ("s1", "", False),
    ],
)
def test_moved_only_when_both_are_known_and_differ(sticky, own, expected):
    assert replica.moved(sticky, own) is expected


def test_outside_the_proxy_the_app_shows_no_notice(monkeypatch):
    monkeypatch.setenv(replica.NAME_ENV, "s2")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    assert not at.exception
    assert not at.toast
    assert at.session_state[replica.SHOWN_KEY] is True
