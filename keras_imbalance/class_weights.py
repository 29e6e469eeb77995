"""Class statistics: counts, priors, imbalance ratio and class weights.

These are plain NumPy functions; the losses, metrics, samplers and callbacks
take their results (`class_counts`) as arguments rather than guessing them.
"""

import numpy as np

from keras_imbalance._arrays import is_dataset, to_numpy
from keras_imbalance._labels import ROW_TOLERANCE, integer_class_ids
from keras_imbalance._validation import (
    check_class_counts,
    check_float,
    check_one_of,
    check_optional_int,
)

__all__ = [
    "class_counts",
    "class_priors",
    "compute_class_weights",
    "imbalance_ratio",
]

_METHODS = ("balanced", "inverse", "sqrt_inverse", "effective_number")


def _looks_dense(y, num_classes=None):
    """True when the last axis of `y` holds one-hot or probability rows.

    Rows of at least 2 non-negative numbers that each sum to 1 (integer rows
    only with 0s and 1s unless `num_classes` names their width).

    Otherwise labels are class ids of any shape, flattened: a mask
    `(N, H, W)` of ids is counted per pixel, not read as `(N, H)` rows.
    """
    y = np.asarray(y)
    if y.ndim < 2 or y.shape[-1] < 2 or y.size == 0:
        return False
    if num_classes is not None and y.shape[-1] != num_classes:
        return False
    if y.dtype.kind not in "iuf" or np.any(y < 0):
        return False
    if y.dtype.kind in "iu" and num_classes is None and np.any(y > 1):
        return False
    return bool(np.all(np.abs(y.sum(axis=-1) - 1.0) <= ROW_TOLERANCE))


def _array_of_labels(y):
    if hasattr(y, "__array__") or hasattr(y, "numpy") or isinstance(y, (list, tuple)):
        return to_numpy(y)
    raise TypeError(
        "`y` must be an array of labels, one-hot labels, or a tf.data.Dataset "
        f"of (x, y) pairs. Received: y of type {type(y).__name__}"
    )


def _labels_to_count(y, num_classes, ignore_class):
    """`(labels, one-hot width or None)`: the flat class ids of `y` to count.

    One-hot / soft rows (`_looks_dense`) count by their argmax; integer labels
    of any shape are flattened and checked by `integer_class_ids` (booleans
    count as 0 / 1), with `ignore_class` taken out.
    """
    if y.size == 0:
        raise ValueError("Cannot count classes of empty labels: `y` has no samples.")
    if _looks_dense(y, num_classes):
        labels = integer_class_ids(y.reshape(-1, y.shape[-1]), num_classes)
        if ignore_class is not None:
            # As in the losses and metrics: a one-hot row whose class is
            # `ignore_class` is ignored, like the integer label.
            labels = labels[labels != ignore_class]
        return labels, y.shape[-1]
    flat = y.reshape(-1)
    if flat.dtype == np.bool_:
        flat = flat.astype("int64")
    keep = None
    if ignore_class is not None and flat.dtype.kind in "iuf":
        keep = flat != ignore_class
        flat = np.where(keep, flat, 0)  # checked in place: errors keep positions
    labels = integer_class_ids(flat, num_classes)
    if keep is not None:
        # An empty result is for the caller: one all-void mask is no error.
        labels = labels[keep]
    return labels, None


def class_counts(y, num_classes=None, *, ignore_class=None):
    """Number of samples of each class.

    Args:
        y: Integer labels of any shape (`(N,)`, `(N, 1)`, `(N, H, W)` ...),
            one-hot or soft labels `(..., C)` (counted by their argmax), or a
            `tf.data.Dataset` yielding `(x, y)` or `(x, y, sample_weight)`
            (read in one pass, batched or not).
        num_classes: Number of classes `C`. Defaults to `None`: the width of
            one-hot labels, else the largest label + 1.
        ignore_class: A label value not to count (e.g. 255 for "void" in
            segmentation masks). Defaults to `None`.

    Returns:
        An int64 NumPy array of length `C`.

    Raises:
        ValueError: for empty input, negative labels, labels `>= num_classes`,
            or non-integer float labels (see `integer_class_ids`).
        TypeError: for labels that are not numbers (strings, objects).

    Example:

    >>> class_counts([0, 0, 0, 1, 2, 2])
    array([3, 1, 2])
    >>> class_counts([[1, 0], [0, 1], [1, 0]])
    array([2, 1])
    """
    if num_classes is not None:
        num_classes = check_optional_int("num_classes", num_classes, low=1)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    if is_dataset(y):
        return _dataset_class_counts(y, num_classes, ignore_class)
    labels, width = _labels_to_count(_array_of_labels(y), num_classes, ignore_class)
    if labels.size == 0:
        raise ValueError(
            f"Every label equals ignore_class={ignore_class}: nothing to count."
        )
    size = num_classes or width or int(labels.max()) + 1
    return np.bincount(labels, minlength=size).astype("int64")


def _dataset_class_counts(dataset, num_classes, ignore_class):
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(
            "A dataset passed to `class_counts` must yield (x, y) or "
            f"(x, y, sample_weight) tuples. Received element_spec={spec}"
        )
    label_shape = spec[1].shape
    # A label of rank 1 and static width is either one unbatched one-hot row
    # or a batch of integer labels of static size (`drop_remainder=True`).
    # It is read as one-hot rows only when every element is one, so that the
    # whole dataset is read one way.
    elements = (np.asarray(element[1]) for element in dataset.as_numpy_iterator())
    single_row = False
    if label_shape.rank == 1 and label_shape[0] is not None and label_shape[0] > 1:
        elements = list(elements)
        single_row = all(_looks_dense(y.reshape(1, -1), num_classes) for y in elements)
    counts = np.zeros(num_classes or 0, dtype="int64")
    seen = False
    for y in elements:
        if single_row or y.ndim == 0:
            y = y.reshape(1, -1) if single_row else y.reshape(1)
        if y.size == 0:
            continue
        labels, width = _labels_to_count(y, num_classes, ignore_class)
        seen = seen or labels.size > 0
        size = max(counts.size, width or 0, int(labels.max(initial=-1)) + 1)
        counts = np.pad(counts, (0, size - counts.size))
        counts += np.bincount(labels, minlength=size).astype("int64")
    if not seen:
        other = "" if ignore_class is None else f" other than {ignore_class}"
        raise ValueError(f"Cannot count classes: the dataset yielded no labels{other}.")
    return counts


def class_priors(counts):
    """Class frequencies `n_c / sum(n)` from class counts.

    Example:

    >>> class_priors([3, 1]).tolist()
    [0.75, 0.25]
    """
    counts = check_class_counts("counts", counts)
    return counts / counts.sum()


def imbalance_ratio(counts):
    """Largest class count over smallest non-empty class count.

    Example:

    >>> float(imbalance_ratio([500, 50, 5, 0]))
    100.0
    """
    counts = check_class_counts("counts", counts)
    present = counts[counts > 0]
    return float(present.max() / present.min())


def compute_class_weights(counts, method="balanced", beta=0.999, as_dict=False):
    """Per-class loss weights from class counts.

    Methods (`n_c` the count of class `c`, `K` the number of non-empty
    classes, `N` the total):

    * `"balanced"`: `N / (K * n_c)`, the numbers of
      `sklearn.utils.class_weight.compute_class_weight("balanced", ...)`.
    * `"inverse"`: `1 / n_c`, normalised to sum to `K`.
    * `"sqrt_inverse"`: `1 / sqrt(n_c)`, normalised to sum to `K`.
    * `"effective_number"`: `(1 - beta) / (1 - beta^n_c)`, normalised to sum
      to `K` (Cui et al., "Class-Balanced Loss Based on Effective Number of
      Samples", CVPR 2019). `beta=0` gives equal weights, `beta -> 1` the
      inverse frequency.

    Empty classes (`n_c = 0`) get weight 0: no sample of theirs is trained on.
    With every class present, `K` is the number of classes `C`.

    Args:
        counts: One non-negative count per class (see `class_counts`).
        method: One of `"balanced"`, `"inverse"`, `"sqrt_inverse"`,
            `"effective_number"`. Defaults to `"balanced"`.
        beta: Hyperparameter of `"effective_number"`, in `[0, 1)`. Defaults
            to `0.999`.
        as_dict: Return `{class: weight}`, the form `model.fit(class_weight=)`
            takes. Defaults to `False` (a float64 array).

    Returns:
        A NumPy array of `C` weights, or a dict when `as_dict=True`.

    Example:

    >>> compute_class_weights([30, 10], method="balanced").tolist()
    [0.6666666666666666, 2.0]
    >>> compute_class_weights([30, 10], as_dict=True)
    {0: 0.6666666666666666, 1: 2.0}
    """
    counts = check_class_counts("counts", counts)
    check_one_of("method", method, _METHODS)
    beta = check_float("beta", beta, low=0, high=1, high_open=True)
    present = counts > 0
    n_present = int(present.sum())
    weights = np.zeros(counts.size, dtype="float64")
    n = counts[present]
    if method == "balanced":
        weights[present] = n.sum() / (n_present * n)
    else:
        if method == "inverse":
            raw = 1.0 / n
        elif method == "sqrt_inverse":
            raw = 1.0 / np.sqrt(n)
        else:
            raw = (1.0 - beta) / (1.0 - np.power(beta, n))
        weights[present] = raw / raw.sum() * n_present
    if as_dict:
        return {i: float(w) for i, w in enumerate(weights)}
    return weights
