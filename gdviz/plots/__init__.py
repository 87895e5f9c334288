"""Pure Plotly figure specs: data in, a new plain dict in Plotly's JSON schema out. No Streamlit, no optimizer
runs (STYLE.md section 5).

- ``_spec``: what every spec shares: the spec dict and base layout, log axes, the colours of regimes and
  params, downsampling of long runs, and the limit of what WebGL can draw.
- ``encode``: a spec on its way out: ``to_json`` for the browser, ``to_figure``/``styled`` for a
  validated ``go.Figure``, and the template the live charts apply.
- one module per page topic: ``playground`` (the basic run charts, which the other pages reuse),
  ``race``, ``regimes``, ``scaling`` and ``sweep``.

Importing the package imports these modules, so ``from gdviz import plots`` then
``plots.sweep.steps_chart(...)`` works wherever it is written.
"""

from gdviz.plots import encode, playground, race, regimes, scaling, sweep

__all__ = ["encode", "playground", "race", "regimes", "scaling", "sweep"]
