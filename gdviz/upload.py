"""Uploaded tables without Streamlit: their content id, the session's record of one (``Upload``), a preview of
their first rows, and an example file.

The reading and validating itself is ``gdviz.data.read_csv`` / ``select_columns``; this module only names
an upload (so that configs and caches of different uploads differ) and shows one.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from gdviz import data

ID_LENGTH = 16  # hex characters of the content id (64 bits)
PREVIEW_ROWS = 10
EXAMPLE_NAME = "diabetes_example.csv"


def file_digest(raw: bytes) -> str:
    """The sha256 of an uploaded file's bytes, as hex."""
    return hashlib.sha256(raw).hexdigest()


def content_id(digest: str, target: str, features: Sequence[str]) -> str:
    """The id of an upload with a choice of columns: 16 hex digits of sha256(file digest + columns).

    Args:
        digest: ``file_digest`` of the file's bytes.
        target: the target column's name.
        features: the feature columns' names, in order.

    Returns:
        A string of ``ID_LENGTH`` lowercase hex digits; different files or column choices give different ids.
    """
    h = hashlib.sha256(digest.encode())
    for name in (target, *features):
        h.update(b"\x00" + str(name).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:ID_LENGTH]


def table_frame(table: data.Dataset, n_rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first ``n_rows`` rows of a table as read (features, then the target), under its column names
    (``read_csv`` has made them distinct)."""
    values = np.column_stack([table.X[:n_rows], table.y[:n_rows]])
    return pd.DataFrame(values, columns=[*table.feature_names, table.target_name])


def example_csv() -> bytes:
    """An example CSV in the format uploads expect: scikit-learn's diabetes table, raw, 442 rows.

    One header row, comma-separated numeric columns, the target (``progression``) last, as UTF-8.
    """
    ds = data.load_dataset("diabetes")
    frame = pd.DataFrame(np.column_stack([ds.X, ds.y]), columns=[*ds.feature_names, ds.target_name])
    out = io.StringIO()
    frame.to_csv(out, index=False, float_format="%.6g")
    return out.getvalue().encode()


class Upload(NamedTuple):
    """A session's uploaded table with its choice of columns (plain data: it lives in session state).

    Attributes:
        id: ``content_id`` of the file and the chosen columns; a config on this upload names it.
        file_name: the file's name as uploaded.
        digest: ``file_digest`` of the file's bytes.
        table: the Dataset as read (every usable numeric column).
        dataset: the chosen target and features (``data.select_columns``).
        target: the target column's name.
        features: the feature columns' names, in order.
    """

    id: str
    file_name: str
    digest: str
    table: data.Dataset
    dataset: data.Dataset
    target: str
    features: tuple[str, ...]


def make_upload(table: data.Dataset, digest: str, file_name: str, target: str, features: Sequence[str]) -> Upload:
    """The record of ``table`` with a choice of columns; InputError for a bad choice (``data.select_columns``)."""
    chosen = data.select_columns(table, target, list(features))
    return Upload(content_id(digest, target, features), file_name, digest, table, chosen, target, tuple(features))
