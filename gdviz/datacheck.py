"""Is a target and a set of features a usable least-squares problem? Checks and warnings on arrays.

Used by ``gdviz.data.read_csv`` and ``gdviz.data.select_columns``; pure NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdviz.errors import InputError


def name_list(items: Sequence[str], *, quote: bool = True, limit: int = 6) -> str:
    """'a', 'b' and 'c' (or the first ``limit`` items and "and N more")."""
    shown = [f"'{s}'" if quote else str(s) for s in items[:limit]]
    if len(items) > limit:
        shown.append(f"{len(items) - limit} more")
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def check_split(X: np.ndarray, y: np.ndarray, feature_names: Sequence[str], target_name: str) -> tuple[str, ...]:
    """Check that features ``X`` and target ``y`` make a usable regression; return warnings for dubious data.

    Args:
        X: array of shape (n_samples, n_features), finite.
        y: array of shape (n_samples,), finite.
        feature_names: one name per column of X, for the messages.
        target_name: the name of y.

    Returns:
        Warnings (see ``collinearity_warnings``); empty when all is well.

    Raises:
        InputError: for no features, too few rows (n_samples must exceed n_params = n_features + 1), or
            values so large that the loss at the zero start, mean(y ** 2), or the Hessian (2/n) X1.T @ X1
            overflows float64.
    """
    n, d = X.shape
    if d == 0:
        raise InputError("Choose at least one feature: a regression needs something to predict the target from.")
    if n <= d + 1:
        raise InputError(
            f"The table has {n} usable rows, but a fit with {d} feature{'' if d == 1 else 's'} has {d + 1} params "
            "(an intercept and one weight per feature) and needs more rows than that: add rows or use fewer features."
        )
    with np.errstate(all="ignore"):  # overflow is the question asked here, answered by isfinite
        for col, label in [(y, target_name), *((X[:, j], feature_names[j]) for j in range(d))]:
            if not np.isfinite(16 * np.sum(col * col)):  # headroom for centring and scaling downstream
                raise InputError(
                    f"Column '{label}' has values up to {np.max(np.abs(col)):.3g}, so large that the squared error "
                    "overflows float64: divide that column by 1e6 (or more) before uploading."
                )
        if not np.isfinite(16 * (np.sum(X * X) + np.sum(y * y))):
            big = feature_names[int(np.argmax(np.max(np.abs(X), axis=0)))]
            raise InputError(
                f"The values are so large that the loss overflows float64, '{big}' most of all: divide the largest "
                "columns by 1e6 (or more) before uploading."
            )
    return collinearity_warnings(X, feature_names)


def collinearity_warnings(X: np.ndarray, feature_names: Sequence[str]) -> tuple[str, ...]:
    """A warning when the features with an intercept are perfectly collinear (X1 = [1, X] rank-deficient).

    X1 is rank-deficient exactly when a constant column exists or the centred features are, so the
    test runs on the centred, unit-variance features Z. The eigenvalues of Z.T @ Z screen out the
    clearly full-rank case cheaply (smallest > 1e-10 * largest, far above rounding); otherwise QR
    takes Z down to a d x d triangle, whose singular values are compared with NumPy's ``matrix_rank``
    tolerance, s_max * max(n, d) * eps. The right singular vectors of the zero singular values name
    the features involved.

    Args:
        X: array of shape (n_samples, n_features), finite.
        feature_names: one name per column of X.

    Returns:
        One warning sentence, or nothing.
    """
    n, d = X.shape
    with np.errstate(all="ignore"):
        Xc = X - X.mean(axis=0)
        std = Xc.std(axis=0)
        constant = [feature_names[j] for j in np.flatnonzero(~(std > 0))]
        if constant:  # read_csv drops these; arrays built by hand may still have them
            return (
                f"Feature(s) {name_list(constant)} are constant: they duplicate the intercept, so the Hessian has a "
                "zero eigenvalue, its condition number is infinite, and gradient descent never settles along that "
                "direction. Leave them out.",
            )
        Z = Xc / std
        lam = np.linalg.eigvalsh(Z.T @ Z)  # quick screen: clearly full rank when lam_min >> d * eps * lam_max
        if np.all(np.isfinite(lam)) and lam[0] > 1e-10 * lam[-1]:
            return ()
        R = np.linalg.qr(Z, mode="r")
        _, s, Vt = np.linalg.svd(R)
    if not (np.all(np.isfinite(s)) and s[0] > 0):
        return ()
    null = Vt[s <= s[0] * max(n, d) * np.finfo(float).eps]
    if len(null) == 0:
        return ()
    weight = np.abs(null).max(axis=0)
    involved = [feature_names[j] for j in np.flatnonzero(weight > 1e-6 * weight.max())]
    return (
        f"Features {name_list(involved, limit=8)} are perfectly collinear (one is a linear combination of the "
        "others and the intercept, e.g. c = a + b): the Hessian has a zero eigenvalue, its condition number is "
        "infinite, and gradient descent never settles along that direction. Leave one of them out.",
    )
