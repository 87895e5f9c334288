"""Hostile bytes for data.read_csv: it returns a finite, well-shaped Dataset or raises InputError, nothing else.

Hypothesis runs derandomized (the same examples every run), so CI is deterministic. Warnings are errors
here too: a RuntimeWarning from NumPy or a ParserWarning from pandas would mean an unchecked path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdviz import InputError
from gdviz.data import Dataset, read_csv, select_columns

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _valid_csv() -> bytes:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(20, 4)) * [1, 100, 0.01, 5]
    lines = ["a,b,c,y"] + [",".join(f"{v:.6g}" for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


VALID = _valid_csv()
TOKENS = [
    b",", b";", b"\t", b'"', b'""', b"\x00", b"\n", b"\r\n", b"\r", b" ", b"1e308", b"-1e308", b"9" * 400,
    b"1e-320", b"nan", b"NaN", b"inf", b"-inf", b"Infinity", b"NA", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
    "é".encode("latin-1"), "é".encode(), "€".encode("cp1252"), b"\x81", b"\x89PNG", b"PK\x03\x04", b"abc",
    b"1,5", b"0x1F", b"1_000", b"#", b"'", b"\\",
]  # fmt: skip


def assert_read_or_refused(raw: bytes) -> None:
    """The property: a usable Dataset, or one InputError sentence that is not the internal-error fallback."""
    try:
        ds = read_csv(raw)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip()
        assert "internal error" not in message, message
        return
    assert isinstance(ds, Dataset)
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    n, d = ds.X.shape
    assert ds.y.shape == (n,)
    assert d >= 1 and len(ds.feature_names) == d
    assert n >= d + 1, "at least as many rows as params"
    assert np.isfinite(ds.X).all() and np.isfinite(ds.y).all()
    with np.errstate(all="raise"):  # the loss at the zero start, mean(y ** 2), and X1's squares are finite
        assert np.isfinite(np.mean(ds.y**2)) and np.isfinite(np.sum(ds.X**2))


@pytest.mark.filterwarnings("error")
@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(raw):
    assert_read_or_refused(raw)


@pytest.mark.filterwarnings("error")
@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list(',;\t"\n\r .-+eE0123456789abcxyz') + ["é", "€", "\x00", "\ufeff"]), max_size=600
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]),
)
def test_random_text(text, encoding):
    assert_read_or_refused(text.encode(encoding, errors="replace"))


@st.composite
def mutated_csv(draw) -> bytes:
    raw = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace"]))
        width = draw(st.integers(1, 40))
        if kind == "delete":
            del raw[at : at + width]
        elif kind == "duplicate":
            raw[at:at] = raw[at : at + width]
        elif kind == "insert":
            raw[at:at] = draw(st.sampled_from(TOKENS))
        else:
            token = draw(st.sampled_from(TOKENS))
            raw[at : at + len(token)] = token
    if draw(st.booleans()):  # a different encoding for the whole file, or a BOM in front
        raw[0:0] = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", "ç;".encode("latin-1")]))
    return bytes(raw)


@pytest.mark.filterwarnings("error")
@FUZZ
@given(mutated_csv())
def test_mutated_valid_csv(raw):
    assert_read_or_refused(raw)


@pytest.mark.filterwarnings("error")
@FUZZ
@given(mutated_csv(), st.data())
def test_select_columns_on_what_was_read(raw, choice):
    try:
        ds = read_csv(raw)
    except InputError:
        return
    columns = [*ds.feature_names, ds.target_name]
    target = choice.draw(st.sampled_from(columns))
    features = choice.draw(st.lists(st.sampled_from(columns), unique=True))
    try:
        picked = select_columns(ds, target, features)
    except InputError as exc:
        assert "internal error" not in str(exc)
        return
    assert picked.target_name == target and picked.feature_names == tuple(features)
    table = np.column_stack([ds.X, ds.y])
    np.testing.assert_array_equal(picked.y, table[:, columns.index(target)])
    np.testing.assert_array_equal(picked.X, table[:, [columns.index(f) for f in features]])
    assert picked.n_samples > picked.n_features + 1


def test_the_unmutated_csv_reads():
    # The mutations start from a file that reads: otherwise every mutant would be refused for the same reason.
    ds = read_csv(VALID)
    assert ds.X.shape == (20, 3) and ds.notes == ()
