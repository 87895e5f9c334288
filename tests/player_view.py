"""What the browser's player (gdviz/ui/player.js) shows, read from the payload Python sent it, for AppTest.

AppTest cannot click inside a component. The player only picks rows out of the payload's columns (the row of
the step shown, or the rows up to it), so these helpers do the same picking here: the read-out and every
chart at a step, as the browser draws them. ``sync`` is what the browser sends after a pause: the step.
"""

from __future__ import annotations

import copy
import json

from streamlit.testing.v1 import AppTest

from gdviz.explain import fmt
from gdviz.ui.player import unpack


def element(at: AppTest, prefix: str = "playground"):
    """The player element of ``prefix`` in the last run."""
    for e in at.get("bidi_component"):
        if e.proto.component_name == "gdviz_player" and unpack(e.proto.bytes).get("prefix") == prefix:
            return e
    raise AssertionError(f"no player {prefix!r} on the page")


def data(at: AppTest, prefix: str = "playground") -> dict:
    """The element's data (bytes, ``gdviz.ui.player.pack``) as the browser reads it: payload (JSON text), run,
    step, seek, ..."""
    return unpack(element(at, prefix).proto.bytes)


def payload(at: AppTest, prefix: str = "playground") -> dict:
    return json.loads(data(at, prefix)["payload"])


def row_of(p: dict, step: int) -> int:
    """The stored row nearest to ``step`` (ties: the earlier), as the player picks it."""
    steps = p["columns"]["step"]
    return min(range(len(steps)), key=lambda i: (abs(steps[i] - step), i))


def shown_row(at: AppTest, prefix: str = "playground") -> int:
    """The row the player opens at: the step the server sent."""
    return row_of(payload(at, prefix), data(at, prefix)["step"])


def readout(p: dict, k: int) -> dict[str, str]:
    """Label -> text of the read-out at row ``k`` (6 significant figures, as the player writes them)."""
    out = {}
    for cell in p["readout"]:
        col, last = cell["col"], cell.get("last", p["n"] - 1)
        r = min(k, last)  # a cell of a run that stopped (Regimes) shows its last row
        if not col:
            text = cell.get("final", p["final_status"]) if k >= last else "running"
        elif col == "step":
            text = f"{p['columns']['step'][r]:,}"
        else:
            v = p["columns"][col][r]
            text = ("-" if r == 0 else "overflowed") if v is None else fmt(v, 6)
            if r == 0 and col in ("norm", "rate"):
                text = "-"
        out[cell["label"]] = text
    return out


def _pick(p: dict, bind: dict, k: int) -> dict:
    last = bind.get("last", p["n"] - 1)
    if "upto" in bind:
        n = max(0, min(k, last) + 1)
        return {attr: p["columns"][col][:n] for attr, col in bind["upto"].items()}
    if "lines" in bind:
        x, y = [], []
        for r in range(max(0, min(k, last) - bind["back"]), min(k, last + 1)):
            x += [*bind["lines"]["x"], None]
            y += [p["columns"][bind["lines"]["y"][0]][r], p["columns"][bind["lines"]["y"][1]][r], None]
        return {"x": x, "y": y}
    row = min(k + bind.get("offset", 0), last)
    return {attr: [] if row < 0 else [_entry(p, e, row) for e in entries] for attr, entries in bind["at"].items()}


def _entry(p: dict, e, row: int):
    """An "at" entry at ``row``: a column's value, a text picked by a column of indices ({"label": column}), or e."""
    if isinstance(e, str):
        return p["columns"][e][row]
    if isinstance(e, dict) and "label" in e:
        return p["labels"][p["columns"][e["label"]][row]]
    return e


def figure(p: dict, key: str, k: int) -> dict:
    """The chart ``key`` (short name, e.g. "contour") at row ``k``: its moving traces filled in."""
    chart = next(c for c in p["charts"] if c["key"] == key)
    fig = copy.deepcopy(chart["figure"])
    for bind in chart["bind"]:
        fig["data"][bind["trace"]].update(_pick(p, bind, k))
    return fig


def figures(at: AppTest, prefix: str = "playground") -> dict[str, dict]:
    """Every chart of the player at the step shown, by its page key (``{prefix}_{name}``)."""
    p, k = payload(at, prefix), shown_row(at, prefix)
    return {f"{prefix}_{c['key']}": figure(p, c["key"], k) for c in p["charts"]}


def sync(at: AppTest, step: int, prefix: str = "playground") -> AppTest:
    """What the browser sends about a second after the user stopped at ``step``: the step, then a rerun."""
    at.session_state[f"{prefix}_cursor"] = int(step)
    return at.run()


BUTTONS = ("step1", "step10", "back", "reset", "end")  # the player's moves, by the names tests use


def press(at: AppTest, name: str, prefix: str = "playground") -> AppTest:
    """A press of the player's Step ("step1"), Step x10 ("step10"), Back, Reset or End: the browser moves,
    and what reaches the server is the step it stopped at."""
    p, k = payload(at, prefix), shown_row(at, prefix)
    steps = p["columns"]["step"]
    rows = {
        "step1": k + 1,
        "step10": max(k + 1, row_of(p, steps[k] + 10)),
        "back": k - 1,
        "reset": 0,
        "end": p["n"] - 1,
    }
    return sync(at, steps[min(max(rows[name], 0), p["n"] - 1)], prefix)


def shown(at: AppTest, prefix: str = "playground") -> dict[str, str]:
    """The player's read-out at the step shown ({} when the page has no player)."""
    try:
        return readout(payload(at, prefix), shown_row(at, prefix))
    except AssertionError:
        return {}


def _column(e) -> str | None:
    """The column an "at" entry reads, if any."""
    return e if isinstance(e, str) else e.get("label") if isinstance(e, dict) else None


def bound_columns(p: dict) -> set[str]:
    """Every column the payload's bindings, layout bindings and read-out name (what the player looks up)."""
    names = {c["col"] for c in p["readout"]} - {""}
    for chart in p["charts"]:
        for bind in chart["bind"]:
            for part in ("upto", "at"):
                for v in bind.get(part, {}).values():
                    names |= {v} if isinstance(v, str) else {_column(e) for e in v if _column(e)}
        for entries in chart.get("layout_at", {}).values():
            names |= {e for e in entries if isinstance(e, str)}
    return names
