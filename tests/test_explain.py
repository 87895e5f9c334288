"""The plain-language read-outs say the right numbers and the right things about them.

Oracles: the Hessian (2/n) X1.T X1 built here from raw X and np.linalg.eigvalsh on it; problems whose
Hessian is diagonal by construction (X = [-a, a] gives H = diag(2, 2 a^2)), so every threshold is known by
hand; a naive GD loop written here for the step at which a run overflows.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from gdviz import analysis, data, engine, explain, optimizers, playback, sweep
from gdviz.analysis import Regime
from gdviz.engine import Status


def design(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def eigenvalues(X: np.ndarray) -> np.ndarray:
    X1 = design(X)
    return np.linalg.eigvalsh(2.0 / len(X) * X1.T @ X1)


def diagonal_problem(a: float = 2.0, y=(1.0, 5.0)):
    """X = [[-a], [a]]: X1.T X1 = diag(2, 2 a^2), n = 2, so the Hessian is diag(2, 2 a^2)."""
    X = np.array([[-a], [a]])
    return X, data.make_problem(X, np.array(y))


# Hessian diag(2, 8): 1/lambda_max = 0.125, 2/(lambda_min + lambda_max) = 0.2, 2/lambda_max = 0.25.
X28, P28 = diagonal_problem(2.0)


def test_the_diagonal_problem_has_the_eigenvalues_by_hand():
    np.testing.assert_allclose(eigenvalues(X28), [2.0, 8.0], rtol=1e-14)


# ----------------------------------------------------------------------------------------------
# fmt
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.08, "0.08"),
        (0.0620000001, "0.062"),
        (1.0, "1"),
        (-1.4, "-1.4"),
        (2 / 3, "0.667"),
        (123456.0, "1.23e+05"),
        (1.5e-7, "1.5e-07"),
        (np.float64(12.3456), "12.3"),
        (float("inf"), "inf"),
        (-np.inf, "-inf"),
        (float("nan"), "nan"),
    ],
)
def test_fmt(x, text):
    assert explain.fmt(x) == text


# ----------------------------------------------------------------------------------------------
# rate_comparisons
# ----------------------------------------------------------------------------------------------


def test_rate_comparisons_by_hand():
    rows = explain.rate_comparisons(P28, 0.3)
    assert [r.formula for r in rows] == ["1/lambda_max", "2/(lambda_min + lambda_max)", "2/lambda_max"]
    np.testing.assert_allclose([r.threshold for r in rows], [0.125, 0.2, 0.25], rtol=1e-14)
    np.testing.assert_allclose([r.ratio for r in rows], [2.4, 1.5, 1.2], rtol=1e-14)
    assert [r.sentence for r in rows] == [
        "0.3 is 2.4x the oscillation threshold 1/lambda_max = 0.125",
        "0.3 is 1.5x the fastest rate 2/(lambda_min + lambda_max) = 0.2",
        "0.3 is 1.2x the divergence threshold 2/lambda_max = 0.25",
    ]


def test_rate_comparisons_reproduce_the_docstring_example():
    # lambda_max = 2/0.062, so the divergence threshold is 0.062 and 0.08 is 1.29x it.
    X, problem = diagonal_problem(np.sqrt(1 / 0.062))
    lam = eigenvalues(X)
    assert lam[-1] == pytest.approx(2 / 0.062, rel=1e-14)
    divergence = explain.rate_comparisons(problem, 0.08)[-1]
    assert divergence.sentence == "0.08 is 1.29x the divergence threshold 2/lambda_max = 0.062"
    assert divergence.name == "divergence threshold"


@pytest.mark.parametrize("lr", [0.001, 0.08, 0.15, 0.3])
def test_rate_comparisons_on_the_default_synthetic_line(lr):
    ds = data.synthetic_line()
    X, y = np.array(ds.X), np.array(ds.y)
    lam_min, lam_max = eigenvalues(X)
    thresholds = [1 / lam_max, 2 / (lam_min + lam_max), 2 / lam_max]
    rows = explain.rate_comparisons(data.make_problem(X, y), lr)
    np.testing.assert_allclose([r.threshold for r in rows], thresholds, rtol=1e-10)
    np.testing.assert_allclose([r.ratio for r in rows], [lr / t for t in thresholds], rtol=1e-10)
    names = ["oscillation threshold", "fastest rate", "divergence threshold"]
    formulas = ["1/lambda_max", "2/(lambda_min + lambda_max)", "2/lambda_max"]
    for row, name, formula, t in zip(rows, names, formulas, thresholds, strict=True):
        assert row.sentence == f"{lr:.3g} is {lr / t:.3g}x the {name} {formula} = {t:.3g}"


# ----------------------------------------------------------------------------------------------
# direction_factors
# ----------------------------------------------------------------------------------------------


def _shrink_percent(effect: str) -> float:
    m = re.fullmatch(r"shrinks (\d+(?:\.\d+)?)% per step(, flipping sign \(zig-zag\))?", effect)
    assert m, effect
    return float(m.group(1))


@pytest.mark.parametrize(
    ("lr", "effects"),
    [
        (0.05, ["shrinks 10% per step", "shrinks 40% per step"]),  # below 1/lambda for both
        (0.125, ["shrinks 25% per step", "shrinks 100% per step"]),  # exactly 1/lambda_max: gone in one step
        (0.2, ["shrinks 40% per step", "shrinks 40% per step, flipping sign (zig-zag)"]),  # between 1/l and 2/l
        (0.3, ["shrinks 60% per step", "grows (flips sign each step)"]),  # above 2/lambda_max
        (0.75, ["shrinks 50% per step, flipping sign (zig-zag)", "grows (flips sign each step)"]),
        (1.2, ["grows (flips sign each step)", "grows (flips sign each step)"]),
        (0.001, ["shrinks 0.20% per step", "shrinks 0.80% per step"]),  # tiny: two decimals, not "0%"
    ],
)
def test_direction_factors_by_hand(lr, effects):
    dirs = explain.direction_factors(P28, lr)
    np.testing.assert_allclose([d.eigenvalue for d in dirs], [2.0, 8.0], rtol=1e-14)
    np.testing.assert_allclose([d.factor for d in dirs], [abs(1 - lr * 2.0), abs(1 - lr * 8.0)], rtol=1e-12)
    assert [d.effect for d in dirs] == effects


@pytest.mark.parametrize("side", [-1, 1])
@pytest.mark.parametrize("boundary", ["1/lambda", "2/lambda"])
@pytest.mark.parametrize("lam_index", [0, 1])
def test_direction_effect_changes_on_each_side_of_the_thresholds(side, boundary, lam_index):
    lam = [2.0, 8.0][lam_index]
    edge = (1.0 if boundary == "1/lambda" else 2.0) / lam
    lr = edge * (1 + side * 0.05)
    effect = explain.direction_factors(P28, lr)[lam_index].effect
    if boundary == "1/lambda":
        assert effect.startswith("shrinks")
        assert ("flipping sign" in effect) == (side > 0)
    else:
        assert effect.startswith("grows") == (side > 0)
        assert "flip" in effect  # on both sides of 2/lambda the direction flips sign every step
        if side < 0:
            assert _shrink_percent(effect) == pytest.approx(100 * (1 - abs(1 - lr * lam)), abs=0.5)


@pytest.mark.parametrize("lr", np.geomspace(0.004, 0.249, 40))
def test_the_reported_shrink_matches_the_factor(lr):
    for lam, d in zip(eigenvalues(X28), explain.direction_factors(P28, lr), strict=True):
        q = 1 - lr * lam
        assert d.factor == pytest.approx(abs(q), rel=1e-12)
        pct = _shrink_percent(d.effect)
        assert pct == pytest.approx(100 * (1 - abs(q)), abs=0.5)
        assert ("zig-zag" in d.effect) == (q < 0)


def test_a_zigzag_that_barely_shrinks_does_not_read_zero_percent():
    lr = 0.999 * 0.25  # |1 - lr * 8| = 0.998: the error shrinks 0.2% per step while flipping sign
    effect = explain.direction_factors(P28, lr)[1].effect
    assert "zig-zag" in effect
    assert _shrink_percent(effect) > 0


def test_a_flat_direction_does_not_shrink():
    X = np.array([[3.0], [3.0], [3.0]])  # a constant feature: the Hessian is singular
    lam = eigenvalues(X)
    assert lam[0] == pytest.approx(0.0, abs=1e-12) and lam[1] == pytest.approx(20.0, rel=1e-12)
    dirs = explain.direction_factors(data.make_problem(X, np.array([1.0, 2.0, 3.0])), 0.05)
    assert dirs[0].effect == "does not shrink" and dirs[0].factor == pytest.approx(1.0, abs=1e-12)
    assert dirs[1].effect == "shrinks 100% per step" and dirs[1].factor == pytest.approx(0.0, abs=1e-12)


def test_regime_meanings_agree_with_what_each_direction_does():
    """The stiffest direction at each regime's representative rate does what the regime's sentence says."""
    rates = analysis.regime_rates(P28)
    expect = {
        "slow": (Regime.SLOW, lambda e: e.startswith("shrinks") and "zig-zag" not in e and _shrink_percent(e) < 20),
        "good": (Regime.GOOD, lambda e: e.startswith("shrinks") and "zig-zag" not in e),
        "oscillating": (Regime.OSCILLATING, lambda e: e.startswith("shrinks") and "zig-zag" in e),
        "divergent": (Regime.DIVERGENT, lambda e: e.startswith("grows")),
    }
    for key, (regime, check) in expect.items():
        stiffest = explain.direction_factors(P28, rates[key])[-1]
        assert check(stiffest.effect), (key, stiffest.effect)
        assert analysis.predict_regime(P28, rates[key]) is regime


# ----------------------------------------------------------------------------------------------
# regime_sentence
# ----------------------------------------------------------------------------------------------

KEYWORDS = {
    Regime.SLOW: "crawls",
    Regime.GOOD: "slides straight down",
    Regime.OSCILLATING: "zig-zags",
    Regime.DIVERGENT: "explodes",
}


@pytest.mark.parametrize(
    ("lr", "regime", "r_text"),
    [
        (0.02, Regime.SLOW, "0.16"),
        (0.1, Regime.GOOD, "0.8"),
        (0.15, Regime.OSCILLATING, "1.2"),
        (0.3, Regime.DIVERGENT, "2.4"),
    ],
)
def test_regime_sentence(lr, regime, r_text):
    assert analysis.predict_regime(P28, lr) is regime
    s = explain.regime_sentence(regime, lr, P28)
    assert s[0].isupper() and s.endswith(").")
    assert KEYWORDS[regime] in s
    assert f"rate x lambda_max = {r_text};" in s
    for other, word in KEYWORDS.items():
        if other is not regime:
            assert word not in s


def _zone_of(zones: str, r: float) -> str:
    """Read 'slow < 0.2 <= good < 1 <= ...' as a classifier: which named zone holds r."""
    tokens = zones.split()
    names, ops_bounds = tokens[0::4], list(zip(tokens[1::4], tokens[2::4], tokens[3::4], strict=True))
    for i, (left_op, bound, right_op) in enumerate(ops_bounds):
        b = float(bound)
        if r < b:
            return names[i]
        if r == b:
            assert {left_op, right_op} == {"<", "<="}, zones
            return names[i] if left_op == "<=" else names[i + 1]
    return names[-1]


def _zones(lr: float) -> str:
    s = explain.regime_sentence(Regime.GOOD, lr, P28)
    m = re.search(r"the zones are (.*)\)\.$", s)
    assert m, s
    return m.group(1)


@pytest.mark.parametrize("r", [0.05, 0.1999, 0.2, 0.5, 0.9999, 1.0001, 1.5, 1.9999, 2.0, 3.0])
def test_regime_zones_in_the_sentence_agree_with_analysis(r):
    assert _zone_of(_zones(0.1), r) == analysis.regime_of_ratio(r).value


def test_regime_zones_agree_with_analysis_at_r_equal_one():
    assert _zone_of(_zones(0.1), 1.0) == analysis.regime_of_ratio(1.0).value


# ----------------------------------------------------------------------------------------------
# divergence_explanation / status_sentence
# ----------------------------------------------------------------------------------------------


def _first_overflow_step(X: np.ndarray, y: np.ndarray, lr: float, max_steps: int = 10_000) -> int:
    """Naive GD on the raw data: the first step whose loss (a mean, so taken in log space) or params overflow."""
    X1, w = design(X), np.zeros(X.shape[1] + 1)
    log_max = np.log(np.finfo(float).max)
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            w = w - lr * (2 / len(y)) * X1.T @ (X1 @ w - y)
            r = X1 @ w - y
            m = np.max(np.abs(r))
            log_loss = 2 * np.log(m) + np.log(np.mean((r / m) ** 2))
            if not (np.isfinite(w).all() and log_loss < log_max):
                return t
    raise AssertionError("did not diverge")


@pytest.fixture(scope="module")
def diverged():
    traj = engine.collect(engine.run(P28, optimizers.gd(0.3), max_steps=10_000))
    assert traj.status is Status.DIVERGED
    return traj


def test_divergence_explanation_names_the_step_and_the_factor(diverged):
    step = _first_overflow_step(X28, np.array([1.0, 5.0]), 0.3)
    assert step == diverged.step[-1]
    text = explain.divergence_explanation(P28, diverged, 0.3, constant_gd=True)
    assert text.startswith("Diverged. ")
    assert f"At step {step} the numbers overflowed float64" in text
    assert f"the largest finite loss was {diverged.loss[:-1].max():.3g})" in text
    assert "The rate 0.3 is above 2/lambda_max = 0.25 (1.2x)" in text
    assert "1 - rate x lambda_max = -1.4:" in text  # 1 - 0.3 * 8
    assert "the error grows 1.4x per step" in text


def test_divergence_explanation_before_the_overflow(diverged):
    head = playback.head(diverged, 20)
    text = explain.divergence_explanation(P28, head, 0.3, constant_gd=True)
    assert f"By step 20 the loss has grown to {diverged.loss[20]:.3g} and keeps growing." in text
    assert "overflowed" not in text
    assert "1 - rate x lambda_max = -1.4" in text


def test_divergence_explanation_for_other_optimizers_names_no_factor(diverged):
    text = explain.divergence_explanation(P28, diverged, 0.3, constant_gd=False)
    assert text.startswith("Diverged. ")
    assert f"At step {int(diverged.step[-1])} " in text
    assert "lambda_max =" not in text and "1 - rate" not in text


# Hessian 2 I: GD at rate 1/2 lands on the optimum in one update, so update 2 has length 0 (converged at 2).
X22, P22 = diagonal_problem(1.0, y=(1.0, 3.0))


def test_status_sentence_for_each_status(diverged):
    converged = engine.collect(engine.run(P22, optimizers.gd(0.5), max_steps=100))
    np.testing.assert_array_equal(converged.params[-1], [2.0, 1.0])  # lstsq of y = 2 + x by hand
    assert converged.status is Status.CONVERGED
    assert explain.status_sentence(converged, 2) == "Converged at step 2: the last update was shorter than tol."
    assert explain.status_sentence(converged, 1) == "Step 1: running (the run stops at step 2: converged)."

    capped = engine.collect(engine.run(P28, optimizers.gd(0.01), max_steps=7, tol=0.0))
    assert capped.status is Status.MAX_STEPS
    assert explain.status_sentence(capped, 7) == "Stopped at max steps (7) before the updates got shorter than tol."
    assert explain.status_sentence(capped, 0) == "Step 0: running (the run stops at step 7: max_steps)."

    last = int(diverged.step[-1])
    assert explain.status_sentence(diverged, last) == (
        f"Diverged at step {last}: the loss or the params stopped being finite numbers."
    )
    assert explain.status_sentence(diverged, last - 1) == (
        f"Step {last - 1}: running (the run stops at step {last}: diverged)."
    )

    running = engine.collect(itertools.islice(engine.run(P28, optimizers.gd(0.01), max_steps=100), 4))
    assert running.status is Status.RUNNING
    assert explain.status_sentence(running, 3) == "Step 3: running."
    assert explain.status_sentence(running, 1) == "Step 1: running."


@pytest.mark.parametrize(
    ("n", "noun", "many", "text"),
    [(1, "feature", None, "1 feature"), (2, "feature", None, "2 features"), (0, "row", None, "0 rows"),
     (1_000, "step", None, "1,000 steps"), (1, "entry", "entries", "1 entry"), (3, "entry", "entries", "3 entries")],
)  # fmt: skip
def test_plural_is_singular_for_exactly_one(n, noun, many, text):
    assert explain.plural(n, noun, many) == text


# The Fastest preset on P28 (Hessian diag(2, 8), by hand): 2/(2 + 8) = 0.2, above 1/lambda_max = 0.125, where
# 1 - 0.2 x 8 = -0.6 and 1 - 0.2 x 2 = 0.6: the worst factor, 0.6, is the same along both directions.


def test_the_fastest_preset_says_why_it_reads_oscillating():
    s = explain.regime_sentence(Regime.OSCILLATING, 0.2, P28)
    assert "2/(lambda_min + lambda_max) = 0.2" in s and "1/lambda_max = 0.125" in s
    assert "1 - rate x lambda_max = -0.6" in s and "overshoots" in s and "why it reads Oscillating" in s
    assert "Fastest preset" not in explain.regime_sentence(Regime.OSCILLATING, 0.15, P28)


def test_fastest_story_by_hand():
    # y = (1, 5) at x = (-2, 2): w* = (3, 1); from zeros the error is -(3, 1), so the start's gradient is
    # 2 x 3 = 6 along the flat (intercept) direction and 8 x 1 = 8 along the stiff (slope) one: 1.33x.
    best = sweep.BestRate(0.19, 10, 0.2, 15, 50, 1000)
    s = explain.fastest_story(P28, best, np.zeros(2))
    assert "max |1 - rate x lambda|, as small as it can be: 0.6 per step" in s
    assert "the gradient along the stiffest direction is 1.33x the one along the flattest" in s
    assert (
        f"shrinks by a factor {abs(1 - 0.19 * 8):.4g} per step instead of 0.6, the flattest by {1 - 0.19 * 2:.4g}" in s
    )
    assert "0.2 takes 15 steps; the best is **0.19**, with 10 steps" in s
    same = explain.fastest_story(P28, best._replace(learning_rate=0.2, steps=15), np.zeros(2))
    assert "also (about) the fastest" in same and "instead of" not in same
    none = explain.fastest_story(P28, None, np.zeros(2))
    assert "no rate below 2/lambda_max reached tol" in none
