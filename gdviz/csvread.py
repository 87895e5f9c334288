"""Reading a user's CSV into a clean numeric table, and checking a target/feature split of it.

Everything a person can get wrong in a file ends here as one ``InputError`` sentence they can act
on, or as a note saying what was dropped and why. ``gdviz.data.read_csv`` and
``gdviz.data.select_columns`` wrap these functions into Datasets.

Line numbers in messages count the lines of the file from 1, the header being line 1, as a text
editor or a spreadsheet shows them (a quoted field spanning several lines shifts them).
"""

from __future__ import annotations

import csv
import io
import os
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from gdviz._errors import InputError

MAX_CSV_BYTES = 10 * 1024 * 1024
SEPARATORS: tuple[str, ...] = ("\t", ";", ",")  # preference order when two fit a sample equally well
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
_SAMPLE_CHARS = 65_536
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a", "missing"})
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
}


class Table(NamedTuple):
    """A numeric table read from a CSV.

    Attributes:
        values: array of shape (n_samples, n_columns), finite float64.
        columns: one name per column.
        name: the file's name.
        notes: sentences on what was dropped or renamed while reading, and why.
    """

    values: np.ndarray
    columns: tuple[str, ...]
    name: str
    notes: tuple[str, ...]


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


def _quote_list(names: list[str] | tuple[str, ...], limit: int = 6) -> str:
    quoted = [f"'{n}'" for n in names[:limit]]
    if len(names) > limit:
        quoted.append(f"and {len(names) - limit} more")
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(source: object, *, max_bytes: int) -> tuple[bytes, str | None]:
    """The raw bytes of ``source`` (bytes, a path or a binary file object) and its base name if known.

    Raises:
        InputError: if the file cannot be opened, or is larger than ``max_bytes``.
    """
    too_big = (
        "The file is {size}, over the {limit} limit for uploads: keep fewer rows or columns "
        "(or round the numbers) and try again."
    )
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        name = None
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        name = os.path.basename(path)
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                raise InputError(too_big.format(size=_mb(size), limit=_mb(max_bytes)))
            with open(path, "rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"Could not open '{path}': {exc.strerror or exc}. Check the path and try again.") from None
    elif hasattr(source, "read"):
        try:
            raw = source.read(max_bytes + 1)
        except Exception as exc:  # any file-like object: its read can fail in many ways
            raise InputError(f"Could not read the uploaded file ({type(exc).__name__}); upload it again.") from None
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if not isinstance(raw, bytes | bytearray):
            raise InputError("The uploaded file gave no bytes to read; upload it again.")
        raw = bytes(raw)
        file_name = getattr(source, "name", None)
        name = os.path.basename(file_name) if isinstance(file_name, str) else None
    else:
        raise InputError(
            f"read_csv needs the file's bytes, a path or a binary file object. Got {type(source).__name__} instead."
        )
    if len(raw) > max_bytes:
        size = getattr(source, "size", None) if hasattr(source, "read") else len(raw)
        shown = _mb(size) if isinstance(size, int) and size > max_bytes else f"over {_mb(max_bytes)}"
        raise InputError(too_big.format(size=shown, limit=_mb(max_bytes)))
    return raw, name


def decode(raw: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode the bytes as UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252/Latin-1.

    Returns:
        The text and notes (one when the file was not UTF-8).

    Raises:
        InputError: for an empty file, a binary file or bytes that are no text in those encodings.
    """
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError("The file is empty: upload a CSV with a header row and at least a few rows of numbers.")
    for magic, kind in _BINARY_MAGIC.items():
        if raw.startswith(magic):
            raise InputError(
                f"This file is {kind}, not a CSV text file: export or save the table as CSV "
                "(comma, semicolon or tab separated) and upload that."
            )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return raw.decode("utf-16"), ()
        except UnicodeDecodeError:
            raise InputError(
                "The file starts like UTF-16 text but does not decode as UTF-16: save it as UTF-8 CSV and upload that."
            ) from None
    if b"\x00" in raw:
        raise InputError(
            "This file looks binary (it contains NUL bytes), not a CSV text file: export or save the table as "
            "CSV (comma, semicolon or tab separated) and upload that."
        )
    notes: tuple[str, ...] = ()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        notes = ("The file is not UTF-8; it was read as Latin-1 (Windows-1252).",)
    control = sum(1 for ch in text[:_SAMPLE_CHARS] if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0)
    if control > max(2, len(text[:_SAMPLE_CHARS]) // 100):
        raise InputError(
            f"The file is not readable text: {control} characters in it are control codes in UTF-8 and in "
            "Latin-1. Save the table as a UTF-8 CSV and upload that."
        )
    return text, notes


def detect_separator(text: str) -> str:
    """The separator among tab, semicolon and comma that splits a sample most consistently.

    A candidate scores by (more than one column in the header, share of the sample's rows with as
    many fields as the header, number of header fields); ties go to tab, then semicolon, then comma,
    so that '1,5;2,5' (decimal commas) reads as two fields.
    """
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", (False, -1.0, 0)
    for sep in SEPARATORS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        k = len(rows[0])
        body = rows[1:201]
        consistency = sum(len(r) == k for r in body) / len(body) if body else 1.0
        score = (k > 1, consistency, k)
        if score > best_score:
            best, best_score = sep, score
    return best


def _parse_frame(text: str, sep: str) -> pd.DataFrame:
    """All cells as stripped strings, the header row included as row 0."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            skipinitialspace=True,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            k, line, saw = match.groups()
            raise InputError(
                f"Line {line} has {saw} fields but the header names {k} columns (separated by "
                f"{_SEPARATOR_NAMES[sep]}): fix that line, or quote values that contain the separator."
            ) from None
        raise InputError(
            f"The file could not be read as CSV ({_short(str(exc).strip(), 120)}); check its quotes."
        ) from None
    except (pd.errors.EmptyDataError, ValueError, csv.Error, UnicodeError, OverflowError) as exc:
        raise InputError(f"The file could not be read as CSV ({_short(str(exc).strip(), 120)}).") from None
    return frame.apply(lambda col: col.str.strip())


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """Column names from the header cells: blanks named 'column j', duplicates numbered. Returns names, notes."""
    numeric = pd.to_numeric(pd.Series(cells), errors="coerce")
    if numeric.notna().all():
        shown = ", ".join(_short(c, 12) for c in cells[:3])
        raise InputError(
            f"The first row must name the columns, but it holds only numbers ({shown}, ...): add a header row "
            "such as 'x1,x2,y' at the top of the file."
        )
    notes = []
    names = [c if c else f"column {j + 1}" for j, c in enumerate(cells)]
    blanks = [n for c, n in zip(cells, names, strict=True) if not c]
    if blanks:
        notes.append(f"Columns with no name in the header were named by position: {_quote_list(blanks)}.")
    seen: dict[str, int] = {}
    renamed = []
    for j, n in enumerate(names):
        if n in seen:
            seen[n] += 1
            new = f"{n} ({seen[n]})"
            while new in names or new in seen:
                seen[n] += 1
                new = f"{n} ({seen[n]})"
            renamed.append(f"'{new}'")
            names[j] = new
            seen[new] = 1
        else:
            seen[n] = 1
    if renamed:
        notes.append(
            f"Some column names appear more than once; the repeats were numbered: {', '.join(renamed[:6])}"
            + (f" and {len(renamed) - 6} more." if len(renamed) > 6 else ".")
        )
    return names, notes


def read_table(source: object, *, name: str | None = None, max_bytes: int = MAX_CSV_BYTES) -> Table:
    """Read a CSV into a finite numeric table, dropping what cannot be used and noting why.

    Dropped with a note: non-numeric columns; empty columns; rows with missing, non-numeric or
    infinite values in the kept columns; constant columns; columns identical to an earlier one.
    Repeated column names are numbered ('a', 'a (2)') with a note.

    Args:
        source: the file's bytes, a path, or a binary file object.
        name: the name to show; by default the file's base name, else "uploaded.csv".
        max_bytes: the size limit in bytes.

    Raises:
        InputError: for anything that leaves no usable table (see ``gdviz.data.read_csv``).
    """
    raw, file_name = read_bytes(source, max_bytes=max_bytes)
    text, notes = decode(raw)
    notes = list(notes)
    sep = detect_separator(text)
    frame = _parse_frame(text, sep)
    if frame.shape[1] < 2:
        raise InputError(
            "The file has a single column: a regression needs at least two (features and a target), separated "
            "by commas, semicolons or tabs."
        )
    names, header_notes = _header(frame.iloc[0].tolist())
    notes += header_notes
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    n_rows = len(body)
    if n_rows == 0:
        raise InputError("The file has a header but no rows of data: add rows of numbers below the header.")
    lines = np.arange(n_rows) + 2  # line numbers as an editor shows them, the header on line 1

    keep: list[int] = []
    columns: dict[int, np.ndarray] = {}
    non_numeric, empty, partial = [], [], []
    for j in range(body.shape[1]):
        cells = body[j]
        missing = cells.str.lower().isin(_MISSING).to_numpy()
        with np.errstate(all="ignore"):
            values = pd.to_numeric(cells.where(~missing), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = np.isnan(values) & ~missing
        present = int((~missing).sum())
        if present == 0:
            empty.append(names[j])
        elif bad.sum() * 2 > present:
            i = int(np.argmax(bad))
            non_numeric.append(f"'{names[j]}' (e.g. '{_short(cells.iloc[i])}' on line {lines[i]})")
        else:
            if bad.any():
                i = int(np.argmax(bad))
                partial.append(f"'{names[j]}' has {int(bad.sum())} (e.g. '{_short(cells.iloc[i])}' on line {lines[i]})")
            keep.append(j)
            columns[j] = values
    if non_numeric:
        notes.append(
            f"Dropped {len(non_numeric)} non-numeric column(s): {', '.join(non_numeric[:6])}"
            + (f" and {len(non_numeric) - 6} more." if len(non_numeric) > 6 else ".")
        )
    if empty:
        notes.append(f"Dropped {len(empty)} empty column(s): {_quote_list(empty)}.")
    if not keep:
        raise InputError(
            "No usable numeric column is left: every column is text or empty. A regression needs numbers; check "
            "the separator and that numbers use a dot as decimal point."
        )
    if partial:
        notes.append(f"Non-numeric values were treated as missing: {'; '.join(partial[:6])}.")
    values = np.column_stack([columns[j] for j in keep])
    row_bad = ~np.isfinite(values)
    drop = row_bad.any(axis=1)
    if drop.any():
        involved = [names[keep[c]] for c in np.flatnonzero(row_bad.any(axis=0))]
        notes.append(
            f"Dropped {int(drop.sum())} of {n_rows} rows with missing, non-numeric or infinite values, in "
            f"column(s) {_quote_list(involved)}."
        )
        values = values[~drop]
    if len(values) == 0:
        raise InputError(
            "No row is complete: every row has a missing, non-numeric or infinite value in some numeric column. "
            "Fill the gaps or remove the mostly-empty columns."
        )
    kept_names = [names[j] for j in keep]
    constant = [c for c in range(values.shape[1]) if np.all(values[:, c] == values[0, c])]
    if constant:
        notes.append(
            f"Dropped {len(constant)} constant column(s) (one value everywhere, they duplicate the intercept): "
            f"{_quote_list([kept_names[c] for c in constant])}."
        )
    duplicates, first_of = [], {}
    for c in range(values.shape[1]):
        if c in constant:
            continue
        key = values[:, c].tobytes()
        if key in first_of:
            duplicates.append(f"'{kept_names[c]}' (same values as '{kept_names[first_of[key]]}')")
        else:
            first_of[key] = c
    if duplicates:
        notes.append(
            f"Dropped {len(duplicates)} duplicate column(s): {', '.join(duplicates[:6])}"
            + (f" and {len(duplicates) - 6} more." if len(duplicates) > 6 else ".")
        )
    final = sorted(first_of.values())
    if not final:
        raise InputError(
            "No usable numeric column is left: every numeric column is constant. A regression needs columns "
            "whose values vary."
        )
    if len(final) == 1:
        dropped = f" What was dropped: {' '.join(notes)}" if notes else ""
        raise InputError(
            f"Only one usable numeric column is left ('{kept_names[final[0]]}'): a regression needs a target and "
            f"at least one feature.{dropped}"
        )
    table_values = np.ascontiguousarray(values[:, final], dtype=np.float64)
    return Table(table_values, tuple(kept_names[c] for c in final), name or file_name or "uploaded.csv", tuple(notes))


def check_split(X: np.ndarray, y: np.ndarray, feature_names: tuple[str, ...], target_name: str) -> tuple[str, ...]:
    """Check that ``X`` and ``y`` make a usable regression; return warnings for dubious data.

    Raises:
        InputError: for no features, too few rows (n_samples must exceed n_params = n_features + 1),
            or values so large that the loss or the Hessian overflows float64.
    """
    n, d = X.shape
    if d == 0:
        raise InputError("Choose at least one feature: a regression needs something to predict the target from.")
    if n <= d + 1:
        raise InputError(
            f"The table has {n} rows, but a fit with {d} feature(s) has {d + 1} params (an intercept and one weight "
            f"per feature) and needs more rows than that: add rows or use fewer features."
        )
    with np.errstate(all="ignore"):
        for col, label in [(y, target_name), *((X[:, j], feature_names[j]) for j in range(d))]:
            if not np.isfinite(np.sum(col * col)):
                raise InputError(
                    f"Column '{label}' has values up to {np.max(np.abs(col)):.3g}, so large that the squared error "
                    "overflows float64: divide that column by 1e6 (or more) before uploading."
                )
        if not (np.isfinite(np.sum(X * X) + n) and np.isfinite(np.mean(y * y))):
            big = feature_names[int(np.argmax(np.max(np.abs(X), axis=0)))]
            raise InputError(
                f"The values are so large that the loss overflows float64, '{big}' most of all: divide the largest "
                "columns by 1e6 (or more) before uploading."
            )
    return collinearity_warnings(X, feature_names)


def collinearity_warnings(X: np.ndarray, feature_names: tuple[str, ...]) -> tuple[str, ...]:
    """A warning when the features with an intercept are perfectly collinear (rank-deficient X1).

    With an intercept, X1 = [1, X] is rank-deficient exactly when the centred features are, so the
    test runs on the centred, unit-variance features: QR to a d x d triangle, then its singular
    values against NumPy's ``matrix_rank`` tolerance (s_max * max(n, d) * eps).
    """
    n, d = X.shape
    with np.errstate(all="ignore"):
        Xc = X - X.mean(axis=0)
        std = Xc.std(axis=0)
        if not np.all(np.isfinite(std)) or np.any(std == 0):
            return ()
        Xc /= std
        R = np.linalg.qr(Xc, mode="r")
        _, s, Vt = np.linalg.svd(R)
    if not np.all(np.isfinite(s)) or s[0] == 0:
        return ()
    tol = s[0] * max(n, d) * np.finfo(float).eps
    null = Vt[s <= tol]
    if len(null) == 0:
        return ()
    weight = np.abs(null).max(axis=0)
    involved = [feature_names[j] for j in np.flatnonzero(weight > 1e-6 * weight.max())]
    return (
        f"Features {_quote_list(involved, limit=8)} are perfectly collinear (one is a linear combination of the "
        "others and the intercept, e.g. c = a + b): the Hessian has a zero eigenvalue, its condition number is "
        "infinite, and gradient descent never settles along that direction. Leave one of them out to fix it.",
    )
