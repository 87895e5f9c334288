"""From an uploaded file to text: size limit, binary detection, decoding, and the separator.

The first steps of ``gdviz.csvread``; each refusal is one ``InputError`` sentence a person can act on.
"""

from __future__ import annotations

import csv
import io
import os
import re

from gdviz.errors import InputError

MAX_CSV_BYTES = 10 * 1024 * 1024
SEPARATORS: tuple[str, ...] = ("\t", ";", ",")  # preference order when two fit a sample equally well
SAMPLE_CHARS = 65_536
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook is one)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
}


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MB" if n_bytes >= 2**20 / 10 else f"{n_bytes / 1024:.0f} KB"


def short(text: str, limit: int = 30) -> str:
    """One line of at most ``limit`` characters: runs of whitespace (newlines in quoted fields) become a space."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(source: object, *, max_bytes: int) -> tuple[bytes, str | None]:
    """The raw bytes of ``source`` (bytes, a path or a binary file object) and its base name if known.

    Raises:
        InputError: if the file cannot be opened, or is larger than ``max_bytes``.
    """

    def too_big(size: object) -> InputError:
        shown = f"is {_mb(size)}, over" if isinstance(size, int) and size > max_bytes else "is larger than"
        return InputError(
            f"The file {shown} the {_mb(max_bytes)} limit for uploads: keep fewer rows or columns (or round the "
            "numbers) and try again."
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
                raise too_big(size)
            with open(path, "rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(
                f"Could not open '{short(path, 80)}': {exc.strerror or exc}. Check the path and try again."
            ) from None
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
    if len(raw) > max_bytes:  # a file object read only max_bytes + 1: its own size, if it has one, says more
        raise too_big(getattr(source, "size", None) if hasattr(source, "read") else len(raw))
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
    notes: tuple[str, ...] = ()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(
                "The file starts like UTF-16 text but does not decode as UTF-16: save it as UTF-8 CSV and upload that."
            ) from None
    elif b"\x00" in raw:
        raise InputError(
            "This file looks binary (it contains NUL bytes), not a CSV text file: export or save the table as "
            "CSV (UTF-8, comma, semicolon or tab separated) and upload that."
        )
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            notes = ("The file is not UTF-8; it was read as Latin-1 (Windows-1252).",)
    if "\x00" in text:
        raise InputError(
            "This file looks binary (it holds NUL characters), not a CSV text file: export or save the table as "
            "CSV (UTF-8, comma, semicolon or tab separated) and upload that."
        )
    control = sum(1 for ch in text[:SAMPLE_CHARS] if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0)
    if control > max(2, len(text[:SAMPLE_CHARS]) // 100):
        raise InputError(
            f"The file is not readable as text in UTF-8 or Latin-1 ({control} control characters in its first "
            f"{SAMPLE_CHARS // 1024} KB): save the table as a UTF-8 CSV and upload that."
        )
    return text, notes


def detect_separator(text: str) -> tuple[str, str]:
    """The separator among tab, semicolon and comma that splits a sample most consistently.

    Excel's hint line 'sep=;' at the top decides instead, and is blanked (a blank line keeps the line
    numbers of the rest).

    Returns:
        The separator and the text, without the hint.

    A candidate scores by (more than one column in the header, share of the sample's rows with as
    many fields as the header, number of header fields); ties go to tab, then semicolon, then comma,
    so that '1,5;2,5' (decimal commas) reads as two fields.
    """
    hint = re.match(r"sep=(.)(\r\n|\r|\n)", text)
    if hint and hint.group(1) in SEPARATORS:
        return hint.group(1), hint.group(2) + text[hint.end() :]
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
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
    return best, text
