"""gdviz: an interactive learning-rate lab for gradient descent on linear regression.

A pure NumPy core (errors, optimizers, engine, analysis, data, config, query, runs, playback, one module
per page topic) and pure Plotly figure specs (``gdviz.plots``) under a thin Streamlit shell (``gdviz.ui``
and ``pages/``). Only ``gdviz.ui`` imports streamlit. README, "How the code is laid out", has the map.
"""

from gdviz.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
