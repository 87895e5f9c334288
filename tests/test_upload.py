"""The core of uploads (gdviz.upload, RunConfig's 'upload' dataset), without Streamlit.

Oracles: hashlib written out here for the content id, scikit-learn's diabetes for the example file, and
NumPy's own CSV parser for what the example file holds.
"""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from gdviz import InputError, data, upload
from gdviz.config import RunConfig
from gdviz.runs import one_feature_problem
from tests.test_architecture import modules_after_importing

ID = "0123456789abcdef"


def test_content_id_is_sha256_of_the_file_digest_and_the_columns():
    digest = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert upload.file_digest(b"a,b\n1,2\n") == digest
    expected = hashlib.sha256(digest.encode() + b"\x00b" + b"\x00a").hexdigest()[:16]
    assert upload.content_id(digest, "b", ["a"]) == expected
    assert re.fullmatch(r"[0-9a-f]{16}", expected)


def test_content_ids_differ_by_file_target_features_and_their_order():
    d1, d2 = upload.file_digest(b"1"), upload.file_digest(b"2")
    ids = {
        upload.content_id(d1, "y", ["a", "b"]),
        upload.content_id(d2, "y", ["a", "b"]),
        upload.content_id(d1, "a", ["y", "b"]),
        upload.content_id(d1, "y", ["b", "a"]),
        upload.content_id(d1, "y", ["a"]),
        upload.content_id(d1, "y", ["ab"]),  # no ambiguity from joining names
        upload.content_id(d1, "ya", []),
    }
    assert len(ids) == 7


def test_example_csv_is_the_raw_diabetes_table_in_the_upload_format():
    raw = upload.example_csv()
    diabetes = load_diabetes(scaled=False)
    table = np.genfromtxt(io.BytesIO(raw), delimiter=",", names=True)
    assert table.dtype.names == (*diabetes.feature_names, "progression")
    np.testing.assert_allclose(np.column_stack([table[c] for c in diabetes.feature_names]), diabetes.data, rtol=1e-5)
    np.testing.assert_allclose(table["progression"], diabetes.target, rtol=1e-5)
    read = data.read_csv(raw, name=upload.EXAMPLE_NAME)  # and the reader takes it without a note
    assert read.notes == () and read.target_name == "progression" and read.n_features == 10


def test_table_frame_shows_the_first_rows_with_the_target_last():
    table = data.Dataset(np.arange(30.0).reshape(15, 2), -np.arange(15.0), ("a", "b"), "t", "f.csv")
    frame = upload.table_frame(table, n_rows=4)
    assert list(frame.columns) == ["a", "b", "t"]
    np.testing.assert_array_equal(frame.to_numpy(), [[0, 1, 0], [2, 3, -1], [4, 5, -2], [6, 7, -3]])


def test_runconfig_accepts_an_upload_with_an_id():
    c = RunConfig(dataset=data.UPLOAD, upload=ID)
    assert c.dataset == "upload" and c.upload == ID
    assert RunConfig().upload == ""
    assert data.UPLOAD not in data.DATASETS


@pytest.mark.parametrize(
    ("dataset", "upload_id"),
    [("upload", ""), ("upload", "xyz"), ("upload", ID.upper()), ("diabetes", ID + "0"), ("upload", None)],
)
def test_runconfig_rejects_a_missing_or_malformed_upload_id(dataset, upload_id):
    with pytest.raises(InputError, match=r"The 'upload' parameter of RunConfig must be '' or a content id of 16 hex"):
        RunConfig(dataset=dataset, upload=upload_id)


def test_an_uploads_dataset_is_only_in_its_session():
    c = RunConfig(dataset=data.UPLOAD, upload=ID)
    with pytest.raises(InputError, match="The uploaded data lives in the browser session that uploaded it"):
        c.make_dataset()
    with pytest.raises(InputError, match="lives in the browser session"):
        one_feature_problem(c)


def test_one_feature_problem_on_a_given_dataset_uses_the_configs_feature():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    ds = data.Dataset(X, y, ("a", "b", "c"), "t", "f.csv")
    problem = one_feature_problem(RunConfig(dataset=data.UPLOAD, upload=ID, feature=2), ds)
    X1 = np.column_stack([np.ones(30), X[:, 2]])
    np.testing.assert_allclose(problem.optimum, np.linalg.lstsq(X1, y, rcond=None)[0], rtol=1e-10)
    assert problem.feature_names == ("c",)


def test_the_upload_core_does_not_import_streamlit():
    assert "streamlit" not in modules_after_importing("gdviz.upload")
