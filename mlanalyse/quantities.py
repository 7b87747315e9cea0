"""Per-minimum quantities computed from the landscape, beside the stored columns of /minima.

For network landscapes: ``misclassification`` (the fraction of the test set a minimum
misclassifies, the misclassification index of the triatomic and MNIST studies; the
training set when there is no test set) and ``misclassification_train``.
"""
from __future__ import annotations

import numpy as np

from mlcore.errors import InputError

#: name -> (subset of the data, label of a colour bar or column)
DERIVED = {
    "misclassification": ("test", "fraction of test inputs misclassified"),
    "misclassification_train": ("train", "fraction of training inputs misclassified"),
}


def per_minimum_quantity(system, coords, name: str) -> tuple[np.ndarray, str]:
    """Values of the derived quantity ``name`` for every row of ``coords``, and its label.

    Raises
    ------
    InputError
        An unknown name, or a landscape that has no such quantity.
    """
    if name not in DERIVED:
        raise InputError(f"{name!r} is not a derived quantity (choose from "
                         f"{', '.join(DERIVED)})")
    subset, label = DERIVED[name]
    error_rate = getattr(system, "error_rate", None)
    if error_rate is None:
        raise InputError(f"{name}: only network (nn) landscapes classify; this file's "
                         f"landscape is {getattr(system, 'kind', type(system).__name__)}")
    if subset == "test" and getattr(system, "x_test", None) is None:
        subset, label = "train", "fraction of training inputs misclassified (no test set)"
    return np.array([error_rate(c, subset) for c in np.asarray(coords)]), label
