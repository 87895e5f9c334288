"""Reading a user's CSV into a clean numeric table (``read_table``), after ``gdviz.csvtext`` made text of it.

Everything a person can get wrong in a file ends here as one ``InputError`` sentence they can act
on, or as a note saying what was dropped and why. ``gdviz.data.read_csv`` wraps the table into a
Dataset, and ``gdviz.datacheck`` checks its target/feature split.

Line numbers in messages count the lines of the file from 1, the header being line 1, as a text
editor or a spreadsheet shows them (a quoted field spanning several lines shifts them).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from gdviz.csvtext import MAX_CSV_BYTES, decode, detect_separator, read_bytes
from gdviz.csvtext import short as _short
from gdviz.datacheck import name_list
from gdviz.errors import InputError

__all__ = ["MAX_CSV_BYTES", "Table", "read_table"]

_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a", "missing"})
_NA_VALUES = sorted({v for m in _MISSING for v in (m, m.upper(), m.title())})


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


def _parse_frame(text: str, sep: str) -> tuple[list[str], pd.DataFrame, np.ndarray, list[str]]:
    """Parse the header cells and the rows. Plain numeric columns come out as floats (pandas' fast path),
    others as strings with NaN where a cell is missing.

    Lines with more fields than the header are dropped with a note when they are few (at most a tenth
    of the rows), refused otherwise.

    Returns:
        The header cells, the rows, the file's line number (from 1) of the header and of each row, and notes.
    """
    options = dict(sep=sep, skip_blank_lines=True, skipinitialspace=True, engine="c")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            header = pd.read_csv(io.StringIO(text), header=None, nrows=1, dtype=str, na_filter=False, **options)
            frame = pd.read_csv(
                io.StringIO(text), header=0, keep_default_na=False, na_values=_NA_VALUES, on_bad_lines="warn", **options
            )
        except pd.errors.ParserError as exc:
            quote = re.search(r"EOF inside string starting at row (\d+)", str(exc))
            if quote:
                raise InputError(
                    f"A quoted field starting on line {int(quote.group(1)) + 1} never ends: check that every "
                    'opening quote (") has a closing one.'
                ) from None
            raise InputError(f"The file could not be read as CSV ({_short(str(exc).strip(), 120)}).") from None
        except (pd.errors.EmptyDataError, ValueError, csv.Error, UnicodeError, OverflowError) as exc:
            raise InputError(f"The file could not be read as CSV ({_short(str(exc).strip(), 120)}).") from None
    skipped = [
        tuple(int(v) for v in m.groups())
        for w in caught
        for m in re.finditer(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)", str(w.message))
    ]
    notes = []
    if skipped:
        line, k, saw = skipped[0]
        if len(skipped) > len(frame) / 10:
            more = f", and {len(skipped) - 1} more line(s) have too many" if len(skipped) > 1 else ""
            raise InputError(
                f"Line {line} has {saw} fields but the header names {k} columns (separated by "
                f"{_SEPARATOR_NAMES[sep]}){more}: fix that, or quote values that contain the separator."
            )
        shown = name_list([str(s[0]) for s in skipped], quote=False)
        notes.append(f"Dropped {len(skipped)} line(s) with more fields than the header's {k} columns: line(s) {shown}.")
    cells = [str(c).strip() for c in header.iloc[0].tolist()] if len(header) else []
    frame.columns = range(frame.shape[1])
    return cells, frame, _line_numbers(text, len(frame) + 1, skipped), notes


def _line_numbers(text: str, n_rows: int, skipped: list[tuple[int, int, int]]) -> np.ndarray:
    """The line number of each parsed row: exact for files without quotes, else counted past skipped lines."""
    bad = {s[0] for s in skipped}
    if '"' not in text:
        lines = [k + 1 for k, line in enumerate(re.split(r"\r\n|\r|\n", text)) if line.strip() and k + 1 not in bad]
        if len(lines) == n_rows:
            return np.array(lines)
    lines, k = [], 1
    for _ in range(n_rows):
        while k in bad:
            k += 1
        lines.append(k)
        k += 1
    return np.array(lines)


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """Column names from the header cells: blanks named 'column j', repeats numbered. Returns names, notes."""
    if pd.to_numeric(pd.Series(cells), errors="coerce").notna().all():
        shown = ", ".join(_short(c, 12) for c in cells[:3])
        raise InputError(
            f"The first row must name the columns, but it holds only numbers ({shown}, ...): add a header row "
            "such as 'x1,x2,y' at the top of the file."
        )
    notes = []
    names = [_short(c, 60) if c else f"column {j + 1}" for j, c in enumerate(cells)]
    blanks = [n for c, n in zip(cells, names, strict=True) if not c.strip()]
    if blanks:
        notes.append(f"Columns with no name in the header were named by position: {name_list(blanks)}.")
    taken, renamed = set(), []
    for j, n in enumerate(names):
        if n in taken:
            k = 2
            while f"{n} ({k})" in taken or f"{n} ({k})" in names:
                k += 1
            names[j] = f"{n} ({k})"
            renamed.append(names[j])
        taken.add(names[j])
    if renamed:
        notes.append(f"Repeated column names were numbered: {name_list(renamed)}.")
    return names, notes


def _numbers(cells: pd.Series, missing: np.ndarray, *, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """Cells as floats, NaN where missing or not a number; and whether decimal commas were read.

    With ``decimal_comma`` (semicolon files, as much of Europe writes them), cells holding commas are
    read with the commas as decimal points first, and kept so if that leaves fewer cells unread.

    Returns:
        The values, a mask of the cells that are present but not numbers, and the decimal-comma flag.
    """

    def parse(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values) & ~missing

    if decimal_comma and cells.str.contains(",", regex=False).any():
        values, bad = parse(cells.str.replace(",", ".", regex=False))
        if not bad.any():
            return values, bad, True
        plain, plain_bad = parse(cells)
        return (values, bad, True) if bad.sum() < plain_bad.sum() else (plain, plain_bad, False)
    return (*parse(cells), False)


def _numeric_columns(
    body: pd.DataFrame, lines: np.ndarray, names: list[str], sep: str
) -> tuple[np.ndarray, list[str], list[str]]:
    """Parse each column as numbers. Mostly-text and empty columns are dropped; stray text becomes NaN.

    Returns:
        The values (NaN where missing or not a number), the kept names, and notes.
    """
    kept, columns, notes = [], [], []
    text_cols, empty, partial, decimal = [], [], [], []
    for j, column in enumerate(body[c] for c in body.columns):
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(values).all():
                empty.append(names[j])
            else:
                kept.append(names[j])
                columns.append(values)
            continue
        cells = column.astype(object).fillna("").astype(str).str.strip()
        missing = cells.str.lower().isin(_MISSING).to_numpy()
        values, bad, comma = _numbers(cells, missing, decimal_comma=sep == ";")
        if comma:
            decimal.append(names[j])
        present = int((~missing).sum())
        if present == 0:
            empty.append(names[j])
            continue
        example = ""
        if bad.any():
            i = int(np.argmax(bad))
            example = f"e.g. '{_short(cells.iloc[i])}' on line {lines[i]}"
        if bad.sum() * 2 > present:
            text_cols.append(f"'{names[j]}' ({example})")
            continue
        if bad.any():
            partial.append(f"'{names[j]}' has {int(bad.sum())} ({example})")
        kept.append(names[j])
        columns.append(values)
    if text_cols:
        notes.append(f"Dropped {len(text_cols)} non-numeric column(s): {name_list(text_cols, quote=False)}.")
    if empty:
        notes.append(f"Dropped {len(empty)} empty column(s): {name_list(empty)}.")
    if decimal:
        notes.append(f"Decimal commas were read as decimal points in column(s) {name_list(decimal)}.")
    if partial:
        notes.append(f"Non-numeric values were treated as missing: {name_list(partial, quote=False)}.")
    if not kept:
        raise InputError(
            "No usable numeric column is left: every column is text or empty. A regression needs numbers; check "
            "that numbers use a dot as decimal point and no thousands separators."
        )
    return np.column_stack(columns), kept, notes


def _complete_rows(values: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Drop rows with a missing, non-numeric or infinite value; note how many and in which columns."""
    bad = ~np.isfinite(values)
    drop = bad.any(axis=1)
    notes = []
    if drop.any():
        involved = [names[c] for c in np.flatnonzero(bad.any(axis=0))]
        notes.append(
            f"Dropped {int(drop.sum())} of {len(values)} rows with missing, non-numeric or infinite values, in "
            f"column(s) {name_list(involved)}."
        )
    values = values[~drop]
    if len(values) < 3:
        raise InputError(
            f"Only {len(values)} complete row(s) are left after dropping rows with missing, non-numeric or "
            "infinite values: a regression needs at least 3. Fill the gaps or remove the mostly-empty columns."
        )
    return values, notes


def _varying_distinct(values: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """Drop constant columns and columns identical to an earlier one; note which."""
    notes = []
    constant = [c for c in range(values.shape[1]) if np.all(values[:, c] == values[0, c])]
    if constant:
        notes.append(
            f"Dropped {len(constant)} constant column(s) (one value everywhere, they duplicate the intercept): "
            f"{name_list([names[c] for c in constant])}."
        )
    first_of: dict[bytes, int] = {}
    duplicates = []
    for c in range(values.shape[1]):
        key = values[:, c].tobytes()
        if c in constant:
            continue
        if key in first_of:
            duplicates.append(f"'{names[c]}' (same values as '{names[first_of[key]]}')")
        else:
            first_of[key] = c
    if duplicates:
        notes.append(f"Dropped {len(duplicates)} duplicate column(s): {name_list(duplicates, quote=False)}.")
    keep = sorted(first_of.values())
    if len(keep) < 2:
        left = f"only '{names[keep[0]]}'" if keep else "none"
        raise InputError(
            f"Too few columns vary: {left} is left after dropping constant and duplicate columns, but a "
            "regression needs a target and at least one feature."
        )
    return np.ascontiguousarray(values[:, keep]), [names[c] for c in keep], notes


def read_table(source: object, *, name: str | None = None, max_bytes: int = MAX_CSV_BYTES) -> Table:
    """Read a CSV into a finite numeric table, dropping what cannot be used and noting why.

    Dropped with a note: non-numeric columns (over half their values not numbers), empty columns,
    rows with missing, non-numeric or infinite values, constant columns, and columns identical to
    an earlier one. Repeated column names are numbered ('a', 'a (2)') with a note.

    Args:
        source: the file's bytes, a path, or a binary file object.
        name: the name to show; by default the file's base name, else "uploaded.csv".
        max_bytes: the size limit in bytes.

    Raises:
        InputError: for anything that leaves no usable table (see ``gdviz.data.read_csv``).
    """
    raw, file_name = read_bytes(source, max_bytes=max_bytes)
    text, notes = decode(raw)
    sep, text = detect_separator(text)
    cells, body, lines, line_notes = _parse_frame(text, sep)
    if len(cells) < 2:
        raise InputError(
            "The file has a single column: a regression needs at least two (features and a target), separated "
            "by commas, semicolons or tabs."
        )
    names, header_notes = _header(cells)
    if len(body) == 0:
        raise InputError("The file has a header but no rows of data: add rows of numbers below the header.")
    values, names, column_notes = _numeric_columns(body, lines[1:], names, sep)
    values, row_notes = _complete_rows(values, names)
    values, names, drop_notes = _varying_distinct(values, names)
    all_notes = (*notes, *line_notes, *header_notes, *column_notes, *row_notes, *drop_notes)
    return Table(values.astype(np.float64), tuple(names), name or file_name or "uploaded.csv", all_notes)
