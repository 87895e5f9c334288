"""Tests for data.read_csv and data.select_columns: every bad input's message, every encoding and separator,
and values checked against the numbers the test itself wrote into the file (or np.loadtxt of it).
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gdviz import InputError, data, datacheck
from gdviz.data import MAX_CSV_BYTES, read_csv, select_columns

from .conftest import CALIFORNIA_CSV


def csv_text(header: list[str], rows: np.ndarray, sep: str = ",") -> str:
    """A CSV written by hand: repr() of each float is its shortest round-trip text, so it reads back exactly."""
    lines = [sep.join(header)] + [sep.join(repr(float(v)) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def table() -> np.ndarray:
    """12 rows of 4 independent random columns (a, b, c, y) with non-round values."""
    return np.random.default_rng(7).normal(size=(12, 4)) * [1.0, 10.0, 1e-3, 5.0] + [0.0, 3.0, 0.0, -2.0]


def assert_dataset(ds: data.Dataset, values: np.ndarray, names: list[str]) -> None:
    """Features are all columns but the last, target the last, values exactly those written."""
    assert ds.feature_names == tuple(names[:-1])
    assert ds.target_name == names[-1]
    np.testing.assert_array_equal(ds.X, values[:, :-1])
    np.testing.assert_array_equal(ds.y, values[:, -1])
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    assert not ds.X.flags.writeable and not ds.y.flags.writeable


# --------------------------------------------------------------------------------------------
# Bad input: one clear InputError each
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"], ids=["empty", "blank-lines", "only-bom"])
def test_empty_file(raw):
    with pytest.raises(InputError, match=r"^The file is empty: upload a CSV with a header row"):
        read_csv(raw)


def test_no_header_row():
    with pytest.raises(InputError, match=r"first row must name the columns.*only numbers \(1\.5, 2, 3, \.\.\.\)"):
        read_csv(b"1.5,2,3\n4,5,6\n7,8,9\n1,1,2\n")


def test_single_column():
    with pytest.raises(InputError, match=r"single column: a regression needs at least two"):
        read_csv(b"price\n1\n2\n3\n4\n")


def test_binary_with_nul_bytes():
    raw = b"a,b\n1,2\n" + bytes(range(256)) * 4
    with pytest.raises(InputError, match=r"looks binary \(it contains NUL bytes\), not a CSV text file"):
        read_csv(raw)


def test_png_image():
    with pytest.raises(InputError, match=r"This file is a PNG image, not a CSV text file: export or save"):
        read_csv(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_zip_archive_names_excel():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match=r"a zip archive \(an Excel \.xlsx workbook is one\), not a CSV"):
        read_csv(buffer.getvalue())


def test_undecodable_text():
    # Invalid UTF-8, and in Latin-1 these bytes are all C1 control codes: no encoding makes text of them.
    raw = b"a,b\n" + bytes(range(0x80, 0xA0)) * 40
    with pytest.raises(
        InputError,
        match=r"^The file is not readable as text in UTF-8 or Latin-1 \(\d+ control characters in its first 64 KB\)",
    ):
        read_csv(raw)


def test_file_over_the_default_limit_says_size_and_limit():
    assert MAX_CSV_BYTES == 10 * 1024 * 1024
    raw = b"a,b\n" + b"1,2\n" * (11 * 2**20 // 4)  # 11.0 MiB
    with pytest.raises(InputError, match=r"^The file is 11\.0 MB, over the 10\.0 MB limit"):
        read_csv(raw)


def test_file_over_a_limit_from_a_path_is_not_read(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * (3 * 2**20 // 4))  # 3.0 MiB
    with pytest.raises(InputError, match=r"^The file is 3\.0 MB, over the 2\.0 MB limit"):
        read_csv(path, max_bytes=2 * 2**20)


def test_file_object_over_the_limit_says_its_size_when_it_knows_it():
    raw = b"a,b\n" + b"1,2\n" * 1000
    with pytest.raises(InputError, match=r"^The file is larger than the 2 KB limit for uploads"):
        read_csv(io.BytesIO(raw), max_bytes=2048)
    upload = io.BytesIO(raw)
    upload.size = len(raw)  # as Streamlit's UploadedFile has
    with pytest.raises(InputError, match=r"^The file is 4 KB, over the 2 KB limit for uploads"):
        read_csv(upload, max_bytes=2048)


def test_fewer_rows_than_params():
    # 3 features -> 4 params; 4 rows is not more than that.
    raw = csv_text(["a", "b", "c", "y"], np.arange(16.0).reshape(4, 4) ** 2)
    with pytest.raises(InputError, match=r"has 4 usable rows, but a fit with 3 features has 4 params"):
        read_csv(raw.encode())


def test_one_feature_is_said_in_the_singular():
    with pytest.raises(InputError, match=r"has 2 usable rows, but a fit with 1 feature has 2 params"):
        datacheck.check_split(np.array([[1.0], [3.0]]), np.array([2.0, 5.0]), ("a",), "y")


def test_values_whose_squares_overflow_name_the_column():
    rows = np.array([[1.0, 2e200, 3.0], [2.0, 1.0, 1.0], [4.0, 3.0, 2.0], [3.0, 5.0, 7.0], [5.0, 2.0, 1.0]])
    with pytest.raises(InputError, match=r"^Column 'big' has values up to 2e\+200, .*overflows float64: divide"):
        read_csv(csv_text(["a", "big", "y"], rows).encode())


def test_columns_fine_alone_but_overflowing_together_name_the_largest():
    rng = np.random.default_rng(4)
    rows = rng.uniform(0.5, 1.0, size=(6, 3)) * 1e153  # each column's squares sum to < 6e306, all three's do not
    rows[:, 1] *= 1.1
    with pytest.raises(InputError, match=r"^The values are so large that the loss overflows float64, 'b' most of all"):
        read_csv(csv_text(["a", "b", "y"], rows).encode())


def test_no_usable_numeric_column():
    raw = b"city,country\nParis,France\nRome,Italy\nBern,Switzerland\n"
    with pytest.raises(InputError, match=r"^No usable numeric column is left: every column is text or empty"):
        read_csv(raw)


def test_only_one_numeric_column_left():
    raw = b"city,price\nParis,1\nRome,2\nBern,3\nOslo,4\n"
    with pytest.raises(InputError, match=r"only 'price' is left .* needs a target and at least one feature"):
        read_csv(raw)


def test_header_without_rows():
    with pytest.raises(InputError, match=r"header but no rows of data"):
        read_csv(b"a,b,y\n")


def test_many_rows_with_too_many_fields_are_refused_naming_the_first_line():
    raw = b"a,b,y\n1,2,3\n4,5,6\n7,8,9,10\n1,1,1\n2,2,2,2\n"
    with pytest.raises(
        InputError,
        match=r"^Line 4 has 4 fields but the header names 3 columns \(separated by commas\), and 1 more line\(s\) "
        r"have too many: fix that",
    ):
        read_csv(raw)


def test_unclosed_quote_names_the_line():
    with pytest.raises(InputError, match=r"quoted field starting on line 3 never ends"):
        read_csv(b'a,b,y\n1,2,3\n"4,5,6\n7,8,9\n')


def test_too_few_complete_rows():
    with pytest.raises(InputError, match=r"Only 2 complete row\(s\) are left .* at least 3"):
        read_csv(b"a,b,y\n1,2,3\n4,,6\n7,8,9\n1,NA,1\n")


def test_an_unexpected_failure_still_reaches_the_user_as_an_input_error(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(data.csvread, "read_table", broken)
    with pytest.raises(InputError, match=r"could not be read as a CSV table \(internal error: KeyError\)"):
        read_csv(b"a,b\n1,2\n")


def test_missing_path_and_wrong_source_type(tmp_path):
    with pytest.raises(InputError, match=r"^Could not open '.*nowhere\.csv'"):
        read_csv(tmp_path / "nowhere.csv")
    with pytest.raises(InputError, match=r"needs the file's bytes, a path or a binary file object. Got int"):
        read_csv(42)


# --------------------------------------------------------------------------------------------
# Good input: separators, encodings, quotes, size
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_each_separator_reads_the_numbers_written(sep, table):
    names = ["a", "b", "c", "y"]
    ds = read_csv(csv_text(names, table, sep).encode())
    assert_dataset(ds, table, names)
    assert ds.notes == () and ds.warnings == ()


def test_excel_separator_hint_line_decides_and_is_not_a_header(table):
    text = "sep=;\n" + csv_text(["a", "b", "c", "y"], table, ";")
    lines = text.split("\n")
    lines[3] = lines[3].replace(";", ";x", 1)  # line 4 of the file: 'x...' is not a number
    ds = read_csv("\n".join(lines).encode())
    assert ds.feature_names == ("a", "b", "c") and ds.n_samples == 11
    assert "Non-numeric values were treated as missing: 'b' has 1 (e.g. 'x" in ds.notes[0]
    assert ds.notes[0].endswith("on line 4).")


def test_windows_line_endings_and_spaces_after_separators(table):
    text = csv_text(["a", "b", "c", "y"], table, sep=", ").replace("\n", "\r\n")
    assert_dataset(read_csv(text.encode()), table, ["a", "b", "c", "y"])


def test_utf8_bom_is_not_part_of_the_first_name(table):
    ds = read_csv(csv_text(["a", "b", "c", "y"], table).encode("utf-8-sig"))
    assert_dataset(ds, table, ["a", "b", "c", "y"])


def test_latin1_file_is_decoded_with_a_note(table):
    names = ["température", "höhe", "c", "prix €"[:4]]
    ds = read_csv(csv_text(names, table, ";").encode("latin-1"))
    assert_dataset(ds, table, names)
    assert ds.notes == ("The file is not UTF-8; it was read as Latin-1 (Windows-1252).",)


def test_utf16_with_bom_as_excel_writes_it(table):
    ds = read_csv(csv_text(["a", "b", "c", "y"], table, "\t").encode("utf-16"))
    assert_dataset(ds, table, ["a", "b", "c", "y"])


def test_quoted_fields_with_separators_inside(table):
    lines = ['"city, country","a","b","c","y"']
    cities = ["Paris, France", 'Rome "Roma", Italy', "Bern"] * 4
    for city, row in zip(cities, table, strict=True):
        quoted = city.replace('"', '""')
        lines.append(f'"{quoted}",' + ",".join(f'"{float(v)!r}"' for v in row))
    ds = read_csv(("\n".join(lines) + "\n").encode())
    assert_dataset(ds, table, ["a", "b", "c", "y"])
    assert ds.notes == ("Dropped 1 non-numeric column(s): 'city, country' (e.g. 'Paris, France' on line 2).",)


def test_decimal_commas_in_a_semicolon_file():
    raw = b"a;b;y\n1,5;2;3,25\n2;3,5;1\n4,75;1;2\n3;3;3,5\n1;0,5;4\n"
    ds = read_csv(raw)
    np.testing.assert_array_equal(ds.X, [[1.5, 2], [2, 3.5], [4.75, 1], [3, 3], [1, 0.5]])
    np.testing.assert_array_equal(ds.y, [3.25, 1, 2, 3.5, 4])
    assert ds.notes == ("Decimal commas were read as decimal points in column(s) 'a', 'b' and 'y'.",)


def test_5000_rows_by_120_columns_matches_loadtxt(tmp_path):
    rng = np.random.default_rng(11)
    values = rng.normal(size=(5000, 120)) * rng.uniform(0.1, 100, 120)
    path = tmp_path / "wide.csv"
    names = [f"x{j}" for j in range(119)] + ["target"]
    np.savetxt(path, values, delimiter=",", header=",".join(names), comments="", fmt="%.10g")
    oracle = np.loadtxt(path, delimiter=",", skiprows=1)
    ds = read_csv(path)
    assert_dataset(ds, oracle, names)
    assert ds.name == "wide.csv" and ds.notes == () and ds.warnings == ()


# --------------------------------------------------------------------------------------------
# What is dropped, counted and renamed
# --------------------------------------------------------------------------------------------


def test_notes_count_dropped_rows_and_name_every_dropped_column():
    rng = np.random.default_rng(3)
    n = 40
    a, b, y = rng.normal(size=(3, n)).round(6)
    cells = {
        "id": [f"row-{i}" for i in range(n)],  # text: a non-numeric column
        "a": [repr(float(v)) for v in a],
        "const": ["7"] * n,  # constant
        "b": [repr(float(v)) for v in b],
        "b_copy": [repr(float(v)) for v in b],  # identical to b
        "y": [repr(float(v)) for v in y],
    }
    holes = {"a": {3: "", 9: "NA", 17: "inf"}, "b": {9: "n/a", 25: "?"}, "y": {30: "-inf"}}
    for column, where in holes.items():
        for i, value in where.items():
            cells[column][i] = value
    cells["b_copy"] = list(cells["b"])
    text = ",".join(cells) + "\n" + "\n".join(",".join(cells[c][i] for c in cells) for i in range(n)) + "\n"
    ds = read_csv(text.encode())

    bad_rows = sorted({i for where in holes.values() for i in where})  # counted here, independently
    keep = np.setdiff1d(np.arange(n), bad_rows)
    np.testing.assert_array_equal(ds.X, np.column_stack([a, b])[keep])
    np.testing.assert_array_equal(ds.y, y[keep])
    assert ds.feature_names == ("a", "b") and ds.target_name == "y"
    assert ds.notes == (
        "Dropped 1 non-numeric column(s): 'id' (e.g. 'row-0' on line 2).",
        f"Dropped {len(bad_rows)} of {n} rows with missing, non-numeric or infinite values, in column(s) "
        "'a', 'b', 'b_copy' and 'y'.",
        "Dropped 1 constant column(s) (one value everywhere, they duplicate the intercept): 'const'.",
        "Dropped 1 duplicate column(s): 'b_copy' (same values as 'b').",
    )


def test_stray_text_in_a_numeric_column_drops_its_rows_with_an_example():
    raw = b"a,b,y\n1,2,3\n2,oops,1\n3,1,2\n4,4,4\n5,2,9\n6,3,1\n"
    ds = read_csv(raw)
    assert ds.n_samples == 5
    assert ds.notes == (
        "Non-numeric values were treated as missing: 'b' has 1 (e.g. 'oops' on line 3).",
        "Dropped 1 of 6 rows with missing, non-numeric or infinite values, in column(s) 'b'.",
    )


def test_a_few_rows_with_too_many_fields_are_dropped_and_line_numbers_stay_exact():
    rows = [f"{i},{(i * 7) % 11},{(i * 5) % 13}" for i in range(30)]
    rows[11] += ",99"  # line 13 of the file
    rows[20] = "5,oops,1"  # line 23, after a blank line 16
    lines = ["a,b,y", *rows[:14], "", *rows[14:]]
    ds = read_csv(("\n".join(lines) + "\n").encode())
    assert ds.n_samples == 28
    assert ds.notes == (
        "Dropped 1 line(s) with more fields than the header's 3 columns: line(s) 13.",
        "Non-numeric values were treated as missing: 'b' has 1 (e.g. 'oops' on line 23).",
        "Dropped 1 of 29 rows with missing, non-numeric or infinite values, in column(s) 'b'.",
    )
    keep = [i for i in range(30) if i not in (11, 20)]
    np.testing.assert_array_equal(ds.X[:, 0], keep)


def test_repeated_and_blank_names_are_renamed_with_a_note():
    # Decision: repeated names are numbered rather than refused, so one careless header does not stop the upload.
    raw = b"a,a,,a,y\n1,2,3,4,5\n2,1,3,0,1\n3,3,1,2,2\n4,0,2,9,3\n5,7,1,1,6\n6,1,0,3,1\n"
    ds = read_csv(raw)
    assert ds.feature_names == ("a", "a (2)", "column 3", "a (3)")
    assert ds.notes == (
        "Columns with no name in the header were named by position: 'column 3'.",
        "Repeated column names were numbered: 'a (2)' and 'a (3)'.",
    )


def test_names_with_line_breaks_or_great_length_are_shortened_to_one_line(table):
    long = "a" * 100
    text = csv_text(['"price\n(EUR)"', long, "c", "y"], table)
    ds = read_csv(text.encode())
    assert ds.feature_names == ("price (EUR)", "a" * 57 + "...", "c")
    np.testing.assert_array_equal(ds.X, table[:, :3])


def test_a_trailing_separator_on_every_line_is_an_empty_column(table):
    text = csv_text(["a", "b", "c", "y"], table).replace("\n", ",\n")
    ds = read_csv(text.encode())
    assert_dataset(ds, table, ["a", "b", "c", "y"])
    assert "Dropped 1 empty column(s): 'column 5'." in ds.notes


# --------------------------------------------------------------------------------------------
# Collinearity, sources, select_columns
# --------------------------------------------------------------------------------------------


def test_collinear_features_warn_about_the_zero_eigenvalue():
    rng = np.random.default_rng(5)
    a, b, z, y = rng.integers(-50, 50, size=(4, 30)).astype(float)
    rows = np.column_stack([a, z, b, a + b, y])
    ds = read_csv(csv_text(["a", "z", "b", "c", "y"], rows).encode())
    # The oracle: with an intercept, X1 has rank 4 < 5 columns.
    assert np.linalg.matrix_rank(np.column_stack([np.ones(30), ds.X])) == 4
    assert len(ds.warnings) == 1
    assert ds.warnings[0].startswith("Features 'a', 'b' and 'c' are perfectly collinear")
    assert "zero eigenvalue" in ds.warnings[0] and "condition number is infinite" in ds.warnings[0]
    assert "never settles" in ds.warnings[0]
    assert select_columns(ds, "y", ["a", "b", "z"]).warnings == ()


def test_nearly_collinear_features_do_not_warn():
    rng = np.random.default_rng(8)
    a, b, y = rng.normal(size=(3, 200))
    c = a + b + 1e-6 * rng.normal(size=200)  # condition number about 1e6: poor, but finite
    ds = read_csv(csv_text(["a", "b", "c", "y"], np.column_stack([a, b, c, y])).encode())
    assert np.linalg.matrix_rank(np.column_stack([np.ones(200), ds.X])) == 4  # the oracle: full rank
    assert ds.warnings == ()


def test_features_collinear_with_the_intercept_warn():
    rng = np.random.default_rng(6)
    p = rng.uniform(0, 1, 25).round(3)
    rows = np.column_stack([p, 1 - p, rng.normal(size=25)])  # share + complement = 1, the intercept's column
    ds = read_csv(csv_text(["share", "rest", "y"], rows).encode())
    assert ds.warnings and "'share' and 'rest' are perfectly collinear" in ds.warnings[0]


def test_three_source_kinds_give_the_same_dataset(tmp_path, table):
    raw = csv_text(["a", "b", "c", "y"], table).encode()
    path = tmp_path / "houses.csv"
    path.write_bytes(raw)
    file_obj = io.BytesIO(raw)
    file_obj.name = "/uploads/flat.csv"
    got = {
        "bytes": read_csv(raw),
        "str path": read_csv(str(path)),
        "Path": read_csv(path),
        "file": read_csv(file_obj),
        "named": read_csv(io.BytesIO(raw), name="mine"),
    }
    for ds in got.values():
        assert_dataset(ds, table, ["a", "b", "c", "y"])
    assert {k: ds.name for k, ds in got.items()} == {
        "bytes": "uploaded.csv",
        "str path": "houses.csv",
        "Path": "houses.csv",
        "file": "flat.csv",
        "named": "mine",
    }


def test_select_columns_chooses_target_and_feature_order(table):
    ds = read_csv(csv_text(["a", "b", "c", "y"], table).encode())
    picked = select_columns(ds, "b", ["y", "a"])
    assert picked.feature_names == ("y", "a") and picked.target_name == "b"
    np.testing.assert_array_equal(picked.X, table[:, [3, 0]])
    np.testing.assert_array_equal(picked.y, table[:, 1])
    assert picked.name == ds.name and picked.notes == ds.notes
    assert select_columns(picked, "a", ["y"]).feature_names == ("y",)  # the result's table is the chosen columns
    with pytest.raises(InputError, match=r"no column 'c' in uploaded.csv. The columns are 'y', 'a', 'b'"):
        select_columns(picked, "y", ["c"])


def test_select_columns_refuses_bad_choices(table):
    ds = read_csv(csv_text(["a", "b", "c", "y"], table).encode())
    with pytest.raises(InputError, match=r"no column 'price' in uploaded.csv. The columns are 'a', 'b', 'c', 'y'"):
        select_columns(ds, "price", ["a"])
    with pytest.raises(InputError, match=r"'a' is the target, so it cannot also be a feature"):
        select_columns(ds, "a", ["a", "b"])
    with pytest.raises(InputError, match=r"Choose at least one feature"):
        select_columns(ds, "y", [])
    with pytest.raises(InputError, match=r"only once"):
        select_columns(ds, "y", ["a", "a"])


def test_select_columns_too_few_rows_for_the_features():
    rng = np.random.default_rng(9)
    rows = rng.normal(size=(5, 6))  # 5 rows: 3 features (4 params) fit, 4 features (5 params) do not
    names = ["a", "b", "c", "y"]
    ds = read_csv(csv_text(names, rows[:, :4]).encode())
    extended = ds._replace(X=np.column_stack([ds.X, rows[:, 4:6]]), feature_names=(*ds.feature_names, "d", "e"))
    assert select_columns(extended, "y", ["a", "b", "c"]).n_features == 3
    with pytest.raises(InputError, match=r"has 5 usable rows, but a fit with 4 features has 5 params"):
        select_columns(extended, "y", ["a", "b", "c", "d"])


def test_read_dataset_feeds_make_problem_and_its_optimum_matches_lstsq(table):
    ds = read_csv(csv_text(["a", "b", "c", "y"], table).encode())
    problem = data.problem_from_dataset(ds)
    X1 = np.column_stack([np.ones(len(table)), table[:, :3]])
    w_star = np.linalg.lstsq(X1, table[:, 3], rcond=None)[0]
    loss = np.mean((X1 @ w_star - table[:, 3]) ** 2)
    grad = (2 / len(table)) * X1.T @ (X1 @ w_star - table[:, 3])
    assert loss == pytest.approx(problem.loss(w_star), rel=1e-10)
    np.testing.assert_allclose(problem.grad(w_star), grad, atol=1e-10)


def _california_path() -> Path:
    env = os.environ.get(data.CALIFORNIA_ENV)
    if env:
        return Path(env)
    if CALIFORNIA_CSV.is_file():  # the shared copy next to the repository
        return CALIFORNIA_CSV
    pytest.skip(f"set {data.CALIFORNIA_ENV} to the California housing CSV to run this test")


def test_california_housing_csv_as_an_upload():
    path = _california_path()
    oracle = np.loadtxt(path, delimiter=",", skiprows=1)
    with open(path, "rb") as fh:
        ds = read_csv(fh)
    assert ds.X.shape == (20_640, 8) and ds.y.shape == (20_640,)
    assert ds.feature_names == (
        "MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude",
    )  # fmt: skip
    assert ds.target_name == "MedHouseVal"
    np.testing.assert_array_equal(ds.X, oracle[:, :8])
    np.testing.assert_array_equal(ds.y, oracle[:, 8])
    assert ds.notes == () and ds.warnings == ()
    assert ds.name == path.name
