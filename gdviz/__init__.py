"""gdviz: an interactive learning-rate lab for gradient descent on linear regression.

The package is a pure NumPy core (optimizers, engine, analysis, data, config, query, runs, plots) under a
thin Streamlit shell (ui.py and the pages). Only ``gdviz.ui`` imports streamlit.
"""

from gdviz.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
