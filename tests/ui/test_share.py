"""Every page's view in its URL, under AppTest: a link sets the shared config, the widgets and the page's
own state; changing a widget writes the URL; hostile parameters give a warning and a working page.

Expected values are the ones written into the links here (and independent arithmetic), never values read
back from gdviz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import data
from gdviz.ui import cache
from tests import player_view
from tests.conftest import CALIFORNIA_CSV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path, fresh_loader_cache):
    """California housing (the scaling page's puzzle) from the shared CSV, or from a missing path: no fetch."""
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(CALIFORNIA_CSV if CALIFORNIA_CSV.is_file() else tmp_path / "no.csv"))
    cache.clear_caches()
    yield
    cache.clear_caches()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_link(page: str, query: dict[str, str | list[str]]) -> AppTest:
    """A fresh session opening ``page`` with ``query`` in its URL (the first run is the app's default page)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if page == "pages/playground.py":
        for k, v in query.items():
            at.query_params[k] = v
        return ok(at.run())
    ok(at.run())
    for k, v in query.items():
        at.query_params[k] = v
    return ok(at.switch_page(page).run())


def config(at: AppTest):
    return at.session_state["gdviz_config"]


def query(at: AppTest) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in at.query_params.items()}


def warnings(at: AppTest) -> list[str]:
    """The link notices (the pages' own warnings have other icons); Markdown escapes removed."""
    return [w.value.replace("\\", "") for w in at.warning if w.icon == ":material/link_off:"]


# ---------------------------------------------------------------------------------------------
# Playground
# ---------------------------------------------------------------------------------------------


def test_playground_link_sets_config_widgets_and_step():
    at = open_link("pages/playground.py", {"lr": "0.3", "opt": "momentum", "beta": "0.5", "step": "7"})
    c = config(at)
    assert (c.learning_rate, c.optimizer, c.beta) == (0.3, "momentum", 0.5)
    assert at.session_state["playground_cursor"] == 7
    # The widgets show the link's values (they are seeded from the config).
    assert at.number_input(key="playground_learning_rate").value == 0.3
    assert at.selectbox(key="playground_optimizer").value == "momentum"
    assert at.number_input(key="playground_beta").value == 0.5
    assert player_view.data(at)["step"] == 7  # the browser opens the run at the link's step
    assert not warnings(at)
    assert query(at) == {"lr": "0.3", "opt": "momentum", "beta": "0.5", "step": "7"}


def test_playground_widgets_and_steps_write_the_url():
    at = open_link("pages/playground.py", {})
    assert query(at) == {}
    ok(player_view.press(at, "step10"))  # the player's Step x10, and the step it sends after a pause
    assert query(at) == {"step": "10"}
    ok(at.number_input(key="playground_learning_rate").set_value(0.125).run())
    assert query(at) == {"lr": "0.125"}  # a new rate starts a new run at step 0
    ok(at.selectbox(key="playground_optimizer").set_value("adam").run())
    ok(player_view.press(at, "step1"))
    assert query(at) == {"lr": "0.125", "opt": "adam", "step": "1"}


def test_a_link_moves_the_browser_to_its_step_once():
    at = open_link("pages/playground.py", {"step": "5"})
    seek = player_view.data(at)["seek"]
    ok(player_view.sync(at, 9))  # the browser's own move comes back: the server does not send it back to it
    assert player_view.data(at)["seek"] == seek and player_view.data(at)["step"] == 9
    assert query(at) == {"step": "9"}


def test_playground_step_past_max_steps_shows_the_end_and_says_so():
    at = open_link("pages/playground.py", {"max_steps": "30", "tol": "0", "step": "500"})
    assert at.session_state["playground_cursor"] == 30 == player_view.data(at)["step"]
    assert any("step (step)" in w and "500" in w for w in warnings(at))


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"lr": "-1"}, "learning rate (lr)"),
        ({"lr": "NaN"}, "not a finite number"),
        ({"dataset": "../../etc/passwd"}, "dataset (dataset)"),
        ({"opt": "turbo"}, "optimizer (opt)"),
        ({"max_steps": "1e99"}, "above the limit"),
        ({"step": "abc"}, "step (step)"),
        ({"lr": ["0.1", "0.2"]}, "given 2 times"),
        ({"lr": "9" * 100_000}, "100,000 characters"),
        ({"dataset": "upload"}, "uploaded file"),
        ({"feature": "99", "dataset": "diabetes"}, "feature (feature)"),
        ({"bogus": "1"}, "no such setting"),
        ({"scale": "**bold** [x](http://e.vil)"}, "feature scaling (scale)"),
    ],
)
def test_playground_hostile_link_warns_and_the_page_works(params, words):
    at = open_link("pages/playground.py", params)
    assert any(words in w for w in warnings(at)), warnings(at)
    assert config(at).learning_rate == 0.05 or "lr" not in params
    ok(player_view.press(at, "step1"))  # still usable
    assert at.session_state["playground_cursor"] == 1
    # The URL is rewritten to the view actually shown: nothing of the bad parameters is left.
    assert all(k in ("step", "max_steps", "dataset") for k in query(at)), query(at)


def test_markdown_in_a_link_is_shown_as_text():
    at = open_link("pages/playground.py", {"scale": "**bold**"})
    shown = [w.value for w in at.warning]
    assert any(r"\*\*bold\*\*" in w for w in shown), shown


def test_the_same_link_is_read_once_and_widgets_win_afterwards():
    at = open_link("pages/playground.py", {"lr": "0.3"})
    ok(at.number_input(key="playground_learning_rate").set_value(0.02).run())
    assert config(at).learning_rate == 0.02 and query(at) == {"lr": "0.02"}
    ok(at.run())
    assert config(at).learning_rate == 0.02 and not warnings(at)


def test_an_address_the_browser_has_not_caught_up_with_does_not_undo_a_slider_move(monkeypatch):
    """Fast slider moves: each rerun carries the browser's address, which can still be a query this session
    wrote two moves ago. Read as a link it undid the newest move (the rate went back, and the link then named
    another rate than the page showed). The browser's Back button (an older query, no widget change) still
    opens that view."""
    from gdviz.ui import share

    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run())
    for rate in (0.056, 0.063):
        ok(at.select_slider(key="playground_lr_slider").set_value(rate).run())
        assert config(at).learning_rate == rate and query(at) == {"lr": str(rate)}
    at.query_params["lr"] = "0.056"  # the address of two moves ago, sent with the next move
    ok(at.select_slider(key="playground_lr_slider").set_value(0.071).run())
    assert config(at).learning_rate == 0.071 and query(at) == {"lr": "0.071"}
    assert at.number_input(key="playground_learning_rate").value == 0.071 and not warnings(at)
    # The same stale address on a rerun no widget caused, moments later: still the session's own.
    at.query_params["lr"] = "0.063"
    ok(at.run())
    assert config(at).learning_rate == 0.071
    # Back, once the moves are over (the echo window passed): the older view opens.
    monkeypatch.setattr(share, "ECHO_S", 0.0)
    at.query_params["lr"] = "0.063"
    ok(at.run())
    assert config(at).learning_rate == 0.063 and query(at) == {"lr": "0.063"}
    assert at.select_slider(key="playground_lr_slider").value == 0.063


# ---------------------------------------------------------------------------------------------
# Regimes
# ---------------------------------------------------------------------------------------------


def test_regimes_link_sets_step_custom_rates_and_pins():
    link = {"lr": "0.01", "step": "5", "rates": "slow:0.001,good:0.05", "pins": "0.02,0.03"}
    at = open_link("pages/regimes.py", link)
    assert at.session_state["regimes_cursor"] == 5  # the one player opens there (tests/pages/test_regimes.py)
    assert player_view.shown(at, "regimes")["Step"] == "5"
    assert at.session_state["regimes_custom"] == {"slow": 0.001, "good": 0.05}
    assert at.session_state["regimes_pinned"] == [0.02, 0.03]
    assert at.number_input(key="regimes_rate_slow").value == 0.001
    assert config(at).learning_rate == 0.01
    assert not warnings(at)
    q = query(at)
    assert (q["step"], q["rates"], q["pins"]) == ("5", "slow:0.001,good:0.05", "0.02,0.03")


def test_regimes_link_past_the_end_opens_at_the_last_step_with_a_notice():
    at = open_link("pages/regimes.py", {"step": "999999"})
    assert "is past the max steps of these runs (10,000): showing the last step they reach" in " ".join(warnings(at))
    steps = player_view.payload(at, "regimes")["columns"]["step"]
    assert at.session_state["regimes_cursor"] == steps[-1] == 10_000
    assert player_view.shown(at, "regimes")["Step"] == "10,000"
    assert query(at)["step"] == "10000"


def test_regimes_rate_box_writes_the_url():
    at = open_link("pages/regimes.py", {})
    ok(at.number_input(key="regimes_rate_divergent").set_value(0.5).run())
    assert query(at)["rates"] == "divergent:0.5"


def test_regimes_hostile_link_warns_and_the_page_works():
    at = open_link("pages/regimes.py", {"rates": "slow:-3,bogus:0.1", "pins": "nan,abc", "step": "-4"})
    text = " ".join(warnings(at))
    assert "slow panel's rate" in text and "'bogus'" in text and "pinned rate" in text and "step shown" in text
    assert at.session_state["regimes_custom"] == {} and at.session_state["regimes_pinned"] == []


# ---------------------------------------------------------------------------------------------
# Sweep
# ---------------------------------------------------------------------------------------------


def test_sweep_link_sets_and_runs_its_settings():
    link = {"rates_in": "abs", "low": "0.002", "high": "0.1", "n_rates": "30", "sweep_steps": "200"}
    at = open_link("pages/sweep.py", link)
    run = at.session_state["sweep_run"]
    assert (run.settings.relative, run.settings.low, run.settings.high) == (False, 0.002, 0.1)
    assert (run.settings.n_rates, run.settings.max_steps) == (30, 200)
    np.testing.assert_allclose(run.table.learning_rate, np.geomspace(0.002, 0.1, 30))
    assert at.number_input(key="sweep_n_rates").value == 30
    assert {k: query(at)[k] for k in link} == link


def test_sweep_run_writes_the_url():
    at = open_link("pages/sweep.py", {})
    ok(at.number_input(key="sweep_n_rates").set_value(40).run())
    assert "n_rates" not in query(at)  # not swept yet: the charts (and the link) show the last sweep
    ok(at.button(key="sweep_go").click().run())
    assert query(at)["n_rates"] == "40"


def test_sweep_hostile_link_warns_in_words_and_keeps_the_good_settings():
    at = open_link("pages/sweep.py", {"n_rates": "5000000", "low": "nan", "high": "1.5", "rates_in": "x" * 99})
    said = warnings(at)
    assert "The number of rates in the link, 5,000,000, is above the limit of 1,000: using 1,000." in said, said
    assert any(w.startswith("Ignored the lowest rate in the link: The lowest rate must be") for w in said), said
    assert any(w.startswith("Ignored the rate range in the link: The rate range must be rel or abs") for w in said)
    assert not any("parameter of" in w or "n_rates" in w for w in said), said  # no API wording
    settings = at.session_state["sweep_run"].settings
    assert (settings.n_rates, settings.high, settings.low, settings.relative) == (1000, 1.5, 0.03, True)


def test_sweep_link_with_low_above_high_says_so_with_the_links_own_numbers():
    at = open_link("pages/sweep.py", {"low": "5", "high": "1"})
    said = warnings(at)
    assert said == ["Ignored the rate range in the link: low = 5 must be below high = 1."], said
    settings = at.session_state["sweep_run"].settings
    assert (settings.low, settings.high) == (0.03, 2.0)  # the default range, both kept


def test_sweep_link_whose_rates_leave_the_allowed_range_falls_back_to_the_default_sweep():
    at = open_link("pages/sweep.py", {"rates_in": "abs", "low": "1e-20", "high": "1e-15"})
    assert any("Showing the default sweep" in w for w in warnings(at)), warnings(at)
    assert at.session_state["sweep_run"].settings.n_rates == 200


# ---------------------------------------------------------------------------------------------
# Feature scaling
# ---------------------------------------------------------------------------------------------


def test_scaling_link_sets_pair_hold_and_step():
    link = {"dataset": "diabetes", "scale": "standard", "lr": "0.1", "pair": "3,5", "hold": "optimum", "step": "4"}
    at = open_link("pages/scaling.py", link)
    assert (at.session_state["scaling_pair_x_diabetes"], at.session_state["scaling_pair_y_diabetes"]) == (3, 5)
    assert at.session_state["scaling_hold"] == "optimum"
    assert player_view.data(at, "scaling")["step"] == 4  # the player opens at the link's step
    assert at.selectbox(key="scaling_dataset").value == "diabetes"
    assert not warnings(at)
    assert {k: query(at)[k] for k in link} == link


def test_playground_link_past_a_converged_runs_end_opens_at_its_last_step_with_a_notice(line_xy):
    """A step inside max steps but after the run stopped: the player opens at the run's last step and says so."""
    at = open_link("pages/playground.py", {"lr": "0.1", "step": "5000"})
    X, y = line_xy
    X1 = np.column_stack([np.ones(len(y)), X[:, 0]])
    w, last = np.zeros(2), 0
    while True:  # the oracle: plain GD until an update is shorter than tol (1e-6)
        new = w - 0.1 * 2 / len(y) * X1.T @ (X1 @ w - y)
        last += 1
        if np.linalg.norm(new - w) < 1e-6:
            break
        w = new
    assert last < 5000
    notes = [i.value for i in at.info if i.icon == ":material/last_page:"]
    assert notes == [f"The link's step, 5,000, is past the end of this run, which stopped at step {last:,} "
                     "(converged): showing that last step."]  # fmt: skip
    assert player_view.data(at)["step"] == last == at.session_state["playground_cursor"]
    assert query(at)["step"] == str(last)
    ok(at.run())  # said once
    assert not [i for i in at.info if i.icon == ":material/last_page:"]


def test_scaling_link_past_the_end_opens_at_the_last_step_with_a_notice():
    # Raw diabetes at a stable rate, 40 steps at most: the run reaches max steps (every step stored).
    at = open_link("pages/scaling.py", {"dataset": "diabetes", "lr": "1e-05", "max_steps": "40", "step": "999"})
    said = warnings(at)
    assert (
        "The step (step) in the link, 999, is past the max steps (40): showing the last step this run reaches." in said
    )
    assert player_view.data(at, "scaling")["step"] == 40 == at.session_state["scaling_cursor"]
    assert player_view.payload(at, "scaling")["columns"]["step"][-1] == 40
    assert player_view.shown(at, "scaling")["Step"] == "40"
    assert query(at)["step"] == "40"
    ok(at.run())  # the notice is shown once
    assert not warnings(at)


def test_scaling_widgets_write_the_url():
    at = open_link("pages/scaling.py", {"dataset": "diabetes", "scale": "standard", "lr": "0.1"})
    ok(at.radio(key="scaling_hold").set_value("optimum").run())
    ok(player_view.sync(at, 2, "scaling"))  # what the browser sends after the user stopped at step 2
    q = query(at)
    assert (q["hold"], q["step"]) == ("optimum", "2")


def test_scaling_hostile_link_warns_and_the_page_works():
    at = open_link("pages/scaling.py", {"pair": "7,7", "hold": "elsewhere", "step": "x"})
    text = " ".join(warnings(at))
    assert "pair of params (pair)" in text and "held (hold)" in text and "step (step)" in text


def test_scaling_link_without_a_dataset_reads_its_pair_on_the_data_the_page_opens_on():
    """A first visit with no dataset in the link opens on raw diabetes (10 features and the intercept: params
    0 to 10), so the pair is read on diabetes, and a pair out of range names diabetes' range."""
    at = open_link("pages/scaling.py", {"pair": "2,9"})
    assert config(at).dataset == "diabetes" and not warnings(at)
    assert (at.session_state["scaling_pair_x_diabetes"], at.session_state["scaling_pair_y_diabetes"]) == (2, 9)
    at = open_link("pages/scaling.py", {"pair": "99,100"})
    assert "two different numbers from 0 to 10, like 0,1" in " ".join(warnings(at))


# ---------------------------------------------------------------------------------------------
# The math
# ---------------------------------------------------------------------------------------------


def test_math_link_sets_its_step_and_the_players_step_writes_it():
    at = open_link("pages/math.py", {"lr": "0.02", "step": "12"})
    assert player_view.data(at, "math")["step"] == 12 and config(at).learning_rate == 0.02
    ok(player_view.sync(at, 3, "math"))
    assert query(at) == {"lr": "0.02", "step": "3"}


def test_math_link_past_the_end_opens_at_the_last_step_with_a_notice():
    at = open_link("pages/math.py", {"max_steps": "25", "tol": "0", "step": "1000"})
    said = warnings(at)
    assert (
        "The step (step) in the link, 1,000, is past the max steps (25): showing the last step this run reaches."
        in said
    )
    assert player_view.data(at, "math")["step"] == 25 == at.session_state["math_cursor"]
    assert player_view.shown(at, "math")["Step"] == "25"
    assert query(at)["step"] == "25"
    ok(at.run())
    assert not warnings(at)


def test_math_hostile_link_warns_and_the_page_works():
    at = open_link("pages/math.py", {"step": "1" * 500})
    assert any("step" in w for w in warnings(at))
    assert player_view.data(at, "math")["step"] == 0


def test_moving_between_pages_carries_no_notice():
    at = open_link("pages/playground.py", {"lr": "0.3", "step": "4"})
    ok(at.switch_page("pages/sweep.py").run())
    assert not warnings(at) and config(at).learning_rate == 0.3
