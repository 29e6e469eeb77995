"""Label handling shared by losses and metrics (backend-agnostic).

The rule (DESIGN.md): `y_true` is *dense* (one-hot or soft) when it has the
same rank as `y_pred` and the same last dimension; otherwise it holds integer
labels of shape `y_pred.shape[:-1]`, optionally with a trailing axis of 1.

Labels are checked, never silently dropped: a class id outside
`[0, num_classes)` (other than `ignore_class`), a float label that is not an
integer, a NaN label, or a dense / binary target outside `[0, 1]` raises a
`ValueError` when the values are concrete (an eager call) and, inside a
compiled step (a `tf.function` graph, XLA, a JAX trace), where nothing can be
raised, turns the affected target rows into NaN so the loss, its gradients
and the metrics are NaN from that step on.

`integer_class_ids` is the one parser of NumPy-side labels (class counts,
dataset checks, samplers, evaluation, training loops). Keras is imported
inside the tensor helpers only, so that the NumPy side runs without it.
"""

import numpy as np

from keras_imbalance._arrays import to_numpy
from keras_imbalance._validation import check_positive_int

__all__ = [
    "ROW_TOLERANCE",
    "as_float",
    "check_label_type",
    "checked_dense_targets",
    "checked_sparse_labels",
    "class_ids",
    "compute_dtype",
    "concrete_bool",
    "integer_class_ids",
    "is_dense",
    "mark_invalid",
    "match_binary_rank",
    "num_classes_of",
    "one_hot_labels",
    "sparse_labels",
    "valid_mask",
]

_HALF_TYPES = ("float16", "bfloat16")
# How many offending values a label error lists.
_SHOWN = 5


def compute_dtype(x):
    """Half-precision inputs are computed in float32; others keep their dtype."""
    import keras

    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in _HALF_TYPES or not dtype.startswith("float"):
        return "float32"
    return dtype


def as_float(x):
    """Convert `x` to a tensor in its computation dtype (see `compute_dtype`)."""
    from keras import ops

    x = ops.convert_to_tensor(x)
    return ops.cast(x, compute_dtype(x))


def concrete_bool(x):
    """`bool(x)` in an eager call, None when `x` is symbolic.

    Python truthiness needs a concrete value on every backend: a `tf.function`
    graph (also under XLA), a JAX tracer and a `KerasTensor` all refuse it
    with an error, without converting anything to NumPy.
    """
    try:
        return bool(x)
    except Exception:  # symbolic: no Python value until the step runs
        return None


def check_label_type(y_true):
    """Refuse labels that are not numbers (strings, objects) in plain words."""
    if isinstance(y_true, str):
        kind = "U"
    else:
        dtype = getattr(y_true, "dtype", None)
        if dtype is None:
            try:
                dtype = np.asarray(y_true).dtype
            except (TypeError, ValueError):
                dtype = np.dtype(object)
        kind = getattr(dtype, "kind", None)
        if kind is None:  # a tensor dtype: strings are the only non-numbers
            kind = "U" if "string" in str(dtype) else "f"
    if kind in ("U", "S", "O"):
        raise TypeError(
            "y_true must hold numeric labels (class ids, one-hot rows or binary "
            "targets). Received labels of a non-numeric type: map class names "
            "to ids first, e.g. with `np.unique(names, return_inverse=True)`."
        )


def num_classes_of(y_pred):
    num_classes = y_pred.shape[-1]
    if num_classes is None:
        raise ValueError(
            "The last axis of `y_pred` (the number of classes) must be known "
            f"statically. Received: y_pred.shape={y_pred.shape}"
        )
    return num_classes


def is_dense(y_true, y_pred):
    """True when `y_true` is one-hot / soft, False when it holds class ids."""
    return len(y_true.shape) == len(y_pred.shape) and (
        y_true.shape[-1] == y_pred.shape[-1]
    )


def _check_positions(y_true_shape, positions_shape, y_pred_shape):
    """Static batch / position sizes of the labels and predictions agree."""
    for a, b in zip(y_true_shape, positions_shape):
        if a is not None and b is not None and a != b:
            raise ValueError(
                "y_true and y_pred disagree on the number of samples (or "
                f"positions): y_true.shape={y_true_shape}, y_pred.shape="
                f"{y_pred_shape}. Integer labels have shape `y_pred.shape[:-1]`, "
                "one-hot labels the shape of `y_pred`."
            )


def _raise_or_mark(bad, values, what):
    """Raise when `bad` is concrete and set; else the mark for symbolic steps.

    Returns None when nothing is wrong (or nothing can be known yet and the
    caller should mark with the returned tensor), so: None means clean.
    """
    from keras import ops

    flagged = concrete_bool(ops.any(bad))
    if flagged is None:
        return bad
    if flagged:
        found = np.asarray(ops.convert_to_numpy(values))[
            np.asarray(ops.convert_to_numpy(bad))
        ]
        shown = ", ".join(f"{v:g}" for v in np.unique(found)[:_SHOWN])
        more = " ..." if np.unique(found).size > _SHOWN else ""
        raise ValueError(f"y_true holds {what}. Found: {shown}{more}")
    return None


def checked_sparse_labels(y_true, y_pred, *, num_classes=None, ignore_class=None):
    """`(labels, invalid)`: integer labels of shape `y_pred.shape[:-1]`.

    `invalid` is None when every label is a class id in `[0, num_classes)` or
    `ignore_class`; a concrete offender raises a `ValueError`. In a compiled
    step `invalid` is the boolean tensor of offending positions (their label
    is replaced by 0), for the caller to turn into NaN.
    """
    from keras import ops

    if len(y_true.shape) == len(y_pred.shape):
        if y_true.shape[-1] != 1:
            raise ValueError(
                "Integer labels must have shape `y_pred.shape[:-1]`, optionally "
                "with a trailing axis of size 1, and one-hot labels the shape "
                f"of `y_pred`. Received: y_true.shape={y_true.shape}, "
                f"y_pred.shape={y_pred.shape}"
            )
        y_true = ops.squeeze(y_true, axis=-1)
    elif len(y_true.shape) != len(y_pred.shape) - 1:
        raise ValueError(
            "Integer labels must have shape `y_pred.shape[:-1]` and one-hot "
            f"labels the shape of `y_pred`. Received: y_true.shape="
            f"{y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    _check_positions(tuple(y_true.shape), tuple(y_pred.shape[:-1]), y_pred.shape)
    if num_classes is None:
        num_classes = num_classes_of(y_pred)
    integer = ops.dtype(y_true) in ("int8", "int16", "int32", "int64", "uint8")
    if integer:
        labels = ops.cast(y_true, "int32")
        bad = ops.logical_or(
            ops.less(labels, 0), ops.greater_equal(labels, num_classes)
        )
    else:
        values = ops.cast(y_true, "float32")
        rounded = ops.round(values)
        # NaN fails every comparison, so `not (0 <= v < C and v == round(v))`.
        good = ops.logical_and(
            ops.logical_and(
                ops.greater_equal(values, 0.0), ops.less(values, float(num_classes))
            ),
            ops.equal(values, rounded),
        )
        bad = ops.logical_not(good)
        labels = ops.cast(ops.where(good, rounded, 0.0), "int32")
    if ignore_class is not None:
        bad = ops.logical_and(bad, ops.not_equal(y_true, ignore_class))
        labels = ops.where(ops.equal(y_true, ignore_class), ignore_class, labels)
    ignore = "" if ignore_class is None else f" or ignore_class={ignore_class}"
    invalid = _raise_or_mark(
        bad,
        y_true,
        f"labels that are not class ids of the {num_classes} classes of y_pred "
        f"(integers in [0, {num_classes - 1}]{ignore})",
    )
    if invalid is not None:
        labels = ops.where(invalid, 0, labels)
    return labels, invalid


def sparse_labels(y_true, y_pred, *, num_classes=None, ignore_class=None):
    """Integer labels of shape `y_pred.shape[:-1]` (see `checked_sparse_labels`)."""
    labels, _ = checked_sparse_labels(
        y_true, y_pred, num_classes=num_classes, ignore_class=ignore_class
    )
    return labels


def checked_dense_targets(y_true, y_pred, *, ignore_class=None):
    """`(targets, invalid)`: one-hot / soft / binary targets checked to `[0, 1]`.

    `invalid` (per element, like `targets`) is None when clean; concrete
    values outside `[0, 1]` (or NaN) raise, symbolic ones are returned for
    the caller to mark. Values equal to `ignore_class` are allowed (binary
    masks with an ignore value, e.g. 255).
    """
    from keras import ops

    values = ops.convert_to_tensor(y_true)
    if not ops.dtype(values).startswith("float"):
        values = ops.cast(values, "float32")
    bad = ops.logical_not(
        ops.logical_and(ops.greater_equal(values, 0.0), ops.less_equal(values, 1.0))
    )
    if ignore_class is not None:
        bad = ops.logical_and(bad, ops.not_equal(values, float(ignore_class)))
    ignore = "" if ignore_class is None else f" (or ignore_class={ignore_class})"
    invalid = _raise_or_mark(
        bad,
        values,
        f"targets outside [0, 1]{ignore}: one-hot, soft and binary "
        "targets are probabilities",
    )
    return values, invalid


def mark_invalid(target, invalid):
    """NaN in every entry of `target` whose position is `invalid`."""
    from keras import ops

    if invalid is None:
        return target
    if len(invalid.shape) < len(target.shape):
        invalid = ops.expand_dims(invalid, -1)
    return ops.where(invalid, float("nan"), target)


def class_ids(y_true, y_pred):
    """Integer class ids of shape `y_pred.shape[:-1]` from either label form."""
    from keras import ops

    if is_dense(y_true, y_pred) and y_pred.shape[-1] != 1:
        return ops.argmax(y_true, axis=-1)
    return sparse_labels(y_true, y_pred)


def valid_mask(y_true, y_pred, ignore_class):
    """Boolean mask of shape `y_pred.shape[:-1]`, False where the label is ignored.

    Integer labels equal to `ignore_class` are ignored. One-hot labels can only
    express a real class, so there the positions whose label (argmax) is
    `ignore_class` are ignored when `0 <= ignore_class < num_classes`, which
    keeps integer and one-hot labels equivalent. Returns None when
    `ignore_class` is None.
    """
    from keras import ops

    if ignore_class is None:
        return None
    if is_dense(y_true, y_pred):
        labels = ops.argmax(y_true, axis=-1)
        if ignore_class >= num_classes_of(y_pred):
            return ops.ones_like(labels, dtype="bool")
        return ops.not_equal(labels, ignore_class)
    labels = sparse_labels(y_true, y_pred, ignore_class=ignore_class)
    return ops.not_equal(labels, ignore_class)


def one_hot_labels(y_true, y_pred, *, ignore_class=None, label_smoothing=0.0):
    """Dense targets shaped like `y_pred`, in `y_pred`'s dtype.

    Ignored positions (see `valid_mask`) get an all-zero target row, so every
    loss written as a sum over `target * term` is zero there. Invalid labels
    raise, or in a compiled step give a NaN row (module docstring).
    """
    from keras import ops

    num_classes = num_classes_of(y_pred)
    if is_dense(y_true, y_pred):
        values, invalid = checked_dense_targets(y_true, y_pred)
        target = ops.cast(values, y_pred.dtype)
    else:
        labels, invalid = checked_sparse_labels(
            y_true, y_pred, ignore_class=ignore_class
        )
        if ignore_class is not None:
            labels = ops.where(ops.equal(labels, ignore_class), -1, labels)
        # `one_hot` of -1 (an ignored position) is an all-zero row.
        target = ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
    if label_smoothing:
        row_mass = ops.sum(target, axis=-1, keepdims=True)
        target = target * (1.0 - label_smoothing) + row_mass * (
            label_smoothing / num_classes
        )
    mask = valid_mask(y_true, y_pred, ignore_class)
    if mask is not None and is_dense(y_true, y_pred):
        target = target * ops.expand_dims(ops.cast(mask, target.dtype), -1)
    return mark_invalid(target, invalid)


def match_binary_rank(y_true, y_pred, *, ignore_class=None):
    """Binary / multi-label targets: add a last axis to `y_true` when missing.

    Targets must lie in `[0, 1]` (or equal `ignore_class`): see the module
    docstring for what happens otherwise.
    """
    from keras import ops

    if len(y_true.shape) == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    if len(y_true.shape) != len(y_pred.shape):
        raise ValueError(
            "Binary and multi-label targets must have the shape of `y_pred`. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    _check_positions(tuple(y_true.shape), tuple(y_pred.shape), y_pred.shape)
    values, invalid = checked_dense_targets(y_true, y_pred, ignore_class=ignore_class)
    return mark_invalid(ops.cast(values, y_pred.dtype), invalid)


# --- NumPy labels ---------------------------------------------------------------

ROW_TOLERANCE = 1e-3
"""How far a one-hot / probability row's sum may be from 1."""
_ONE_LABEL = (
    "must hold one label per sample: integer class ids of shape (N,) or (N, 1), "
    "or one-hot / probability rows of shape (N, C)"
)


def _ids_from_rows(y, num_classes, name):
    """Argmax of one-hot / probability rows `(N, C)`, checked to be such rows."""
    if num_classes is not None and y.shape[1] != num_classes:
        raise ValueError(
            f"`{name}` holds one-hot rows of width {y.shape[1]}, but "
            f"num_classes={num_classes}. Received: {name}.shape={y.shape}"
        )
    values = y.astype("float64")
    rows_ok = np.all(values >= 0, axis=1) & (
        np.abs(values.sum(axis=1) - 1.0) <= ROW_TOLERANCE
    )
    if not rows_ok.all():  # NaN rows fail both tests
        row = int(np.flatnonzero(~rows_ok)[0])
        raise ValueError(
            f"`{name}` {_ONE_LABEL} (non-negative, summing to 1); row {row} of "
            f"{name}.shape={y.shape} is {y[row].tolist()}."
        )
    return values.argmax(axis=1).astype("int64")


def integer_class_ids(y, num_classes=None, *, name="y"):
    """Integer class ids, int64 `(N,)`, from any one-label-per-sample form.

    Args:
        y: Class ids `(N,)` or `(N, 1)` (integers, or floats with integral
            values), or one-hot / probability rows `(N, C)` with `C > 1`
            (read by their argmax); an array, a list or a tensor.
        num_classes: The number of classes `C`, or `None`. When given, every
            id must be below it and rows must be `C` wide.
        name: The argument's name, for the error messages.

    Returns an int64 NumPy array of shape `(N,)` (`N` may be 0).

    Raises:
        TypeError: for strings, objects and booleans.
        ValueError: for another shape, rows that are not probabilities, NaN,
            inf, fractions, negative ids or ids `>= num_classes` (naming
            `name` and the first bad sample).

    Example:

    >>> integer_class_ids([[0], [2], [1]]).tolist()
    [0, 2, 1]
    >>> integer_class_ids(np.eye(3)[[2, 0]]).tolist()
    [2, 0]
    >>> integer_class_ids([0, 3], num_classes=3, name="y_test")
    Traceback (most recent call last):
    ...
    ValueError: Found the label 3, but num_classes=3. Labels must lie in [0, 2]: \
sample 1 of `y_test` is out of range.
    """
    if num_classes is not None:
        num_classes = check_positive_int("num_classes", num_classes)
    y = to_numpy(y)
    if y.dtype.kind not in "iuf":  # strings, objects, booleans, complex
        raise TypeError(
            f"`{name}` must hold integer class ids. Received: {name}.dtype={y.dtype}"
        )
    if y.ndim == 2 and y.shape[1] > 1:
        return _ids_from_rows(y, num_classes, name)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"`{name}` {_ONE_LABEL}. Received: {name}.shape={y.shape}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"`{name}` must hold integer class ids; sample {i} has the label "
                f"{float(y[i])!r} ({bad.size} non-integer label(s) in all)."
            )
    ids = y.astype("int64")
    if ids.size and ids.min() < 0:
        i = int(np.argmin(ids))  # the smallest label, at its first sample
        raise ValueError(
            f"`{name}` must hold non-negative class ids; sample {i} has the "
            f"label {int(ids[i])}."
        )
    if num_classes is not None and ids.size and ids.max() >= num_classes:
        i = int(np.argmax(ids))  # the largest label, at its first sample
        raise ValueError(
            f"Found the label {int(ids[i])}, but num_classes={num_classes}. "
            f"Labels must lie in [0, {num_classes - 1}]: sample {i} of `{name}` "
            "is out of range."
        )
    return ids
