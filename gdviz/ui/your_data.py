"""The Your data page's Streamlit parts: the uploader, the preview, the column pickers and the ways out.

A valid file becomes this session's upload (``gdviz.ui.state.set_upload``) and the shared config points at it;
a bad one is reported in one sentence and changes nothing, so the previous data stays loaded and
selected. Session keys (plain data only): the widget keys ``your_data_file``, ``your_data_target``,
``your_data_features``, ``your_data_feature``; ``your_data_error`` the sentence about the last rejected file or
column choice. The upload itself is ``gdviz.ui.state.UPLOAD_KEY`` (a ``gdviz.upload.Upload``).
"""

from __future__ import annotations

import streamlit as st

from gdviz import data, upload
from gdviz.errors import InputError
from gdviz.explain import plural
from gdviz.ui import cache, state

PAGE = "your_data"
TYPES = ("csv", "tsv", "txt")
# Where the "Use this data" buttons lead: label, page file, whether it fits every chosen feature at once.
DESTINATIONS = (
    ("Playground", "pages/playground.py", False),
    ("Regimes", "pages/regimes.py", False),
    ("Learning-rate sweep", "pages/sweep.py", False),
    ("Feature scaling", "pages/scaling.py", True),
)


def _k(name: str) -> str:
    return f"{PAGE}_{name}"


def _accept(entry: upload.Upload) -> None:
    """Make ``entry`` the session's upload, point the shared config at it and sync the column pickers."""
    st.session_state.pop(_k("error"), None)
    state.set_upload(entry)
    state.use_upload()
    st.session_state[_k("target")] = entry.target
    st.session_state[_k("features")] = list(entry.features)


def load_file(raw: bytes, file_name: str) -> bool:
    """Read ``raw`` as this session's new upload (its last numeric column the target); on bad input keep
    everything as it was and leave one sentence under ``your_data_error``. Returns whether it was accepted."""
    try:
        table = data.read_csv(raw, name=file_name)
        entry = upload.make_upload(table, upload.file_digest(raw), file_name, table.target_name, table.feature_names)
    except InputError as err:
        kept = state.upload()
        still = f" Still using {kept.file_name}." if kept is not None else ""
        st.session_state[_k("error")] = f"{file_name} was not loaded: {err}{still}"
        return False
    _accept(entry)
    return True


def _on_file() -> None:
    f = st.session_state.get(_k("file"))
    if f is not None:  # removing the file from the box keeps the data loaded
        load_file(f.getvalue(), f.name)


def _on_example() -> None:
    load_file(cache.example_bytes(), upload.EXAMPLE_NAME)


def _on_columns(changed: str) -> None:
    """A new target (features: every other column) or a new set of features; a bad choice is undone."""
    up = state.upload()
    if up is None:
        return
    table = up.table
    target = st.session_state[_k("target")]
    if changed == "target":
        features = [c for c in (*table.feature_names, table.target_name) if c != target]
    else:
        features = list(st.session_state[_k("features")])
    try:
        entry = upload.make_upload(table, up.digest, up.file_name, target, features)
    except InputError as err:
        st.session_state[_k("error")] = f"{err} The columns stay as they were."
        st.session_state[_k("target")] = up.target
        st.session_state[_k("features")] = list(up.features)
        return
    _accept(entry)


def uploader() -> upload.Upload | None:
    """The example file, the file box and the last error; returns this session's upload (or None)."""
    st.markdown(
        "A CSV file with a header row, one row per sample, separated by commas, semicolons or tabs (up to "
        f"{data.MAX_CSV_BYTES / 2**20:g} MB). Numeric columns are used; anything else is dropped with a note. "
        "The last numeric column is the target to predict until you pick another."
    )
    with st.container(horizontal=True, gap="small"):
        st.button(
            "Load the example", key=_k("example_load"), on_click=_on_example, icon=":material/table_view:",
            help="Use the example file right away, as if you had uploaded it: scikit-learn's diabetes table.",
        )  # fmt: skip
        st.download_button(
            "Download the example (CSV)", cache.example_bytes(), file_name=upload.EXAMPLE_NAME, mime="text/csv",
            key=_k("example_download"), icon=":material/download:",
            help="Save the example file to see the format: scikit-learn's diabetes table (442 patients, 10 "
            "features, target last). Upload it, or your own file in the same layout.",
        )  # fmt: skip
    # The size limit is said once, by the box itself: .streamlit/config.toml sets server.maxUploadSize to
    # MAX_CSV_BYTES in MB (a test checks they agree), and read_csv still checks the bytes it gets.
    st.file_uploader(
        "Upload a CSV file", type=list(TYPES), key=_k("file"),
        on_change=_on_file,
        help="It stays in this browser session only; nobody else sees it. A new valid file replaces the old one.",
    )  # fmt: skip
    if err := st.session_state.get(_k("error")):
        st.error(err)
    return state.upload()


def preview(up: upload.Upload) -> None:
    """The table as read: its size, first rows, what was dropped and why, and warnings on the chosen columns."""
    table = up.table
    st.subheader(f"Loaded: {up.file_name}")
    st.caption(
        f"{table.n_samples:,} rows x {table.n_features + 1} usable numeric columns. The first "
        f"{min(upload.PREVIEW_ROWS, table.n_samples)} rows:"
    )
    st.dataframe(upload.table_frame(table), key=_k("preview"), hide_index=True)
    if table.notes:
        st.info("\n".join(f"- {note}" for note in table.notes))
    for warning in up.dataset.warnings:
        st.warning(warning)


def column_pickers(up: upload.Upload) -> None:
    """The target select and the features multiselect (numeric columns), bound to the upload."""
    table = up.table
    columns = (*table.feature_names, table.target_name)
    st.session_state.setdefault(_k("target"), up.target)  # widget state is dropped off the page
    st.session_state.setdefault(_k("features"), list(up.features))
    st.subheader("What to predict, from what")
    c1, c2 = st.columns([1, 2])
    c1.selectbox(
        "Target (y)", columns, key=_k("target"), on_change=_on_columns, args=("target",),
        help="The column to predict. Choosing a new target makes every other column a feature.",
    )  # fmt: skip
    c2.multiselect(
        "Features (X)", [c for c in columns if c != up.target], key=_k("features"), on_change=_on_columns,
        args=("features",), help="The columns to predict it from. The Feature scaling page uses all of them; "
        "one-feature pages fit one at a time.",
    )  # fmt: skip
    ds = up.dataset
    sizes = f"{plural(ds.n_samples, 'row')}, {plural(ds.n_features, 'feature')}"
    st.caption(f"{sizes}, {ds.n_features + 1} params with the intercept.")


def _go(page: str) -> None:
    """Point the shared config at the upload, with the feature picked here, and open ``page``."""
    state.use_upload()
    state.set_config(state.get_config().replace(feature=int(st.session_state[_k("feature")])))
    st.switch_page(page)


def destinations(up: upload.Upload) -> None:
    """'Use this data' buttons: the one-feature pages with the feature picked here, or Feature scaling."""
    ds = up.dataset
    st.subheader("Use this data")
    config = state.get_config()
    on_it = config.dataset == data.UPLOAD and config.upload == up.id
    st.session_state.setdefault(_k("feature"), min(config.feature, ds.n_features - 1) if on_it else 0)
    st.session_state[_k("feature")] = min(st.session_state[_k("feature")], ds.n_features - 1)
    one, every = st.columns([3, 1], gap="large")
    with one:
        st.markdown("**One feature at a time** (a line: intercept + slope)")
        st.selectbox(
            "Feature for the one-feature pages", range(ds.n_features), format_func=ds.feature_names.__getitem__,
            key=_k("feature"), help="The Playground, Regimes and the sweep fit a line on one feature: this one. "
            "Their sidebars can switch it later.",
        )  # fmt: skip
        feature = ds.feature_names[st.session_state[_k("feature")]]
        with st.container(horizontal=True, gap="small"):
            for label, page, all_features in DESTINATIONS:
                if not all_features and st.button(
                    label, key=_k(f"go_{page.split('/')[-1][:-3]}"), icon=":material/arrow_forward:",
                    help=f"Open the {label} page on {up.file_name}, fitting {up.target} on '{feature}'.",
                ):  # fmt: skip
                    _go(page)
    with every:
        st.markdown(f"**All {plural(ds.n_features, 'feature')} at once**")
        for label, page, all_features in DESTINATIONS:
            if all_features and st.button(
                label, key=_k(f"go_{page.split('/')[-1][:-3]}"), icon=":material/arrow_forward:",
                help=f"Open the {label} page on {up.file_name}, with every chosen feature.",
            ):  # fmt: skip
                _go(page)
