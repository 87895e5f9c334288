"""The per-session memo of an upload's problems and runs (gdviz.ui.cache)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gdviz.ui import cache, state


def test_the_upload_memo_keeps_recent_entries_within_its_byte_bound(monkeypatch):
    monkeypatch.setattr(st, "session_state", {})
    monkeypatch.setattr(cache, "MEMO_BYTES", 10 * 8 * 1000)  # room for ten arrays of 1,000 float64
    computed = []

    def make(k: int):
        def compute():
            computed.append(k)
            return (np.full(1000, float(k)), {"run": np.zeros(1000)})  # 16,000 bytes: five fit

        return compute

    for k in range(8):
        assert cache.upload_memo(("run", k), make(k))[0][0] == k
    memo = st.session_state[state.MEMO_KEY]
    assert [key[1] for key in memo] == [3, 4, 5, 6, 7]  # the oldest went first
    assert sum(a.nbytes for v in memo.values() for a in (v[0], v[1]["run"])) <= cache.MEMO_BYTES
    cache.upload_memo(("run", 5), make(5))  # remembered: not computed again, now the most recent
    assert computed == list(range(8)) and list(memo)[-1] == ("run", 5)
    big = cache.upload_memo(("run", 99), lambda: np.zeros(100_000))  # over the bound alone: still kept
    assert list(memo) == [("run", 99)] and big.nbytes > cache.MEMO_BYTES
