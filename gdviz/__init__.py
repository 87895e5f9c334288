"""gdviz: an interactive learning-rate lab for gradient descent on linear regression.

The package is a pure NumPy core (optimizers, engine, analysis, data, figures, experiment) under a
thin Streamlit shell (gdviz/ui/ and the pages). Only ``gdviz.ui`` imports streamlit.
"""

from gdviz._errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"
