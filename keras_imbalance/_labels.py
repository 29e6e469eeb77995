"""Label handling shared by losses and metrics (backend-agnostic).

The rule (DESIGN.md): `y_true` is *dense* (one-hot or soft) when it has the
same rank as `y_pred` and the same last dimension; otherwise it holds integer
labels of shape `y_pred.shape[:-1]`, optionally with a trailing axis of 1.
"""

import keras
from keras import ops

_HALF_TYPES = ("float16", "bfloat16")


def compute_dtype(x):
    """Half-precision inputs are computed in float32; others keep their dtype."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in _HALF_TYPES or not dtype.startswith("float"):
        return "float32"
    return dtype


def as_float(x):
    """Convert `x` to a tensor in its computation dtype (see `compute_dtype`)."""
    x = ops.convert_to_tensor(x)
    return ops.cast(x, compute_dtype(x))


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


def sparse_labels(y_true, y_pred):
    """Integer labels of shape `y_pred.shape[:-1]` from a sparse `y_true`."""
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
    if ops.dtype(y_true) not in ("int32", "int64"):
        y_true = ops.cast(ops.round(y_true), "int32")
    return y_true


def class_ids(y_true, y_pred):
    """Integer class ids of shape `y_pred.shape[:-1]` from either label form."""
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
    if ignore_class is None:
        return None
    if is_dense(y_true, y_pred):
        labels = ops.argmax(y_true, axis=-1)
        if ignore_class >= num_classes_of(y_pred):
            return ops.ones_like(labels, dtype="bool")
        return ops.not_equal(labels, ignore_class)
    return ops.not_equal(sparse_labels(y_true, y_pred), ignore_class)


def one_hot_labels(y_true, y_pred, *, ignore_class=None, label_smoothing=0.0):
    """Dense targets shaped like `y_pred`, in `y_pred`'s dtype.

    Ignored positions (see `valid_mask`) get an all-zero target row, so every
    loss written as a sum over `target * term` is zero there.
    """
    num_classes = num_classes_of(y_pred)
    if is_dense(y_true, y_pred):
        target = ops.cast(y_true, y_pred.dtype)
    else:
        labels = sparse_labels(y_true, y_pred)
        if ignore_class is not None:
            labels = ops.where(ops.equal(labels, ignore_class), -1, labels)
        # `one_hot` of a label outside [0, C) is an all-zero row.
        target = ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
    if label_smoothing:
        row_mass = ops.sum(target, axis=-1, keepdims=True)
        target = target * (1.0 - label_smoothing) + row_mass * (
            label_smoothing / num_classes
        )
    mask = valid_mask(y_true, y_pred, ignore_class)
    if mask is not None and is_dense(y_true, y_pred):
        target = target * ops.expand_dims(ops.cast(mask, target.dtype), -1)
    return target


def match_binary_rank(y_true, y_pred):
    """Binary / multi-label targets: add a last axis to `y_true` when missing."""
    if len(y_true.shape) == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    if len(y_true.shape) != len(y_pred.shape):
        raise ValueError(
            "Binary and multi-label targets must have the shape of `y_pred`. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return ops.cast(y_true, y_pred.dtype)
