"""The per-session memo of an upload's problems and runs, and the shared run cache (gdviz.ui.cache)."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from gdviz import runs
from gdviz.config import RunConfig
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


def test_a_cached_run_is_one_read_only_object_for_every_caller():
    config = RunConfig(learning_rate=0.0371)
    traj = cache.trajectory_for(config)
    assert cache.trajectory_for(config) is traj  # no copy per call
    for a in (traj.step, traj.params, traj.grads, traj.loss, traj.update_norm, traj.learning_rate):
        assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        traj.params[0, 0] = 1.0
    oracle = runs.simulate(config, cache.problem_for(config), max_bytes=cache.RUN_BYTES)
    np.testing.assert_array_equal(traj.params, oracle.params)
    assert traj.nbytes <= cache.RUN_BYTES
