"""The session's own data: the shared RunConfig and the uploaded table, each under one session key.

Settings shared across pages live under the non-widget key CONFIG_KEY (widget values are dropped when the
user leaves a page). An uploaded table lives only in its session, under UPLOAD_KEY (a ``gdviz.upload.Upload``
record), and what is computed from it in a small per-session memo under MEMO_KEY (``gdviz.ui.cache``), never
in a process-wide ``st.cache_*``: one session's upload is never visible to another. A config with
``dataset == "upload"`` names it by its content id (``RunConfig.upload``).
"""

from __future__ import annotations

import streamlit as st

from gdviz import data
from gdviz.config import RunConfig
from gdviz.errors import InputError
from gdviz.upload import Upload

CONFIG_KEY = "gdviz_config"
UPLOAD_KEY = "gdviz_upload"
MEMO_KEY = "gdviz_upload_memo"


def get_config() -> RunConfig:
    """The shared RunConfig of this session (the defaults on first visit).

    A config that names an upload this session no longer holds follows the session's current upload, or
    falls back to the synthetic line when there is none.
    """
    if CONFIG_KEY not in st.session_state:
        st.session_state[CONFIG_KEY] = RunConfig()
    config = st.session_state[CONFIG_KEY]
    if config.dataset == data.UPLOAD:
        up = upload()
        if up is None:
            config = set_config(config.replace(dataset="synthetic_line", upload="", feature=0))
        elif up.id != config.upload:
            feature = config.feature if config.feature < up.dataset.n_features else 0
            config = set_config(config.replace(upload=up.id, feature=feature))
    return config


def set_config(config: RunConfig) -> RunConfig:
    st.session_state[CONFIG_KEY] = config
    return config


# ---------------------------------------------------------------------------------------------
# The session's uploaded table
# ---------------------------------------------------------------------------------------------


def upload() -> Upload | None:
    """This session's upload, or None."""
    return st.session_state.get(UPLOAD_KEY)


def set_upload(entry: Upload) -> None:
    """Make ``entry`` this session's upload (replacing any other, and forgetting what was computed from it);
    a config on the upload follows it."""
    st.session_state[UPLOAD_KEY] = entry
    st.session_state[MEMO_KEY] = {}
    config = st.session_state.get(CONFIG_KEY)
    if config is not None and config.dataset == data.UPLOAD:
        get_config()


def use_upload() -> RunConfig:
    """Point the shared config at this session's upload (its first chosen feature for one-feature pages)."""
    up = upload()
    if up is None:
        raise InputError("There is no uploaded data in this session yet: upload a CSV file on the Your data page.")
    config = get_config()
    if config.dataset == data.UPLOAD and config.upload == up.id:
        return config
    return set_config(config.replace(dataset=data.UPLOAD, upload=up.id, feature=0))


def uploaded_dataset(upload_id: str) -> data.Dataset:
    """The chosen columns of this session's upload ``upload_id``; InputError when the session lacks it."""
    up = upload()
    if up is None or up.id != upload_id:
        raise InputError(
            "Your uploaded data is no longer in this session: upload the file again on the Your data page."
        )
    return up.dataset


def dataset_choices() -> tuple[str, ...]:
    """The datasets a sidebar offers: the bundled ones, plus this session's upload if it has one."""
    return (*data.DATASETS, data.UPLOAD) if upload() is not None else data.DATASETS


def dataset_labels() -> dict[str, str]:
    """``dataset_choices()`` -> their labels, fixed for this run (a select's format_func is called later)."""
    return {name: dataset_label(name) for name in dataset_choices()}


def dataset_label(name: str) -> str:
    """What a dataset select shows for ``name``: "Your data: <file name>" for the upload."""
    if name == data.UPLOAD:
        up = upload()
        return f"Your data: {up.file_name}" if up is not None else "Your data (none uploaded)"
    return data.DATASET_LABELS[name]


def dataset_changes(name: str) -> dict[str, str]:
    """The config fields a dataset select sets for ``name``: the upload's content id goes with "upload"."""
    up = upload()
    return {"dataset": name, "upload": up.id if name == data.UPLOAD and up is not None else ""}
