"""Checks of a dataset's arrays before anything is trained on them.

`datasets.load_dataset` runs them on `.npz` files and `comparison.compare` on
arrays, so that bad data is refused in seconds, in data terms, instead of
training on it (NaN inputs give NaN losses; a stray label 100000 gives a
100001-class model).

The rules:

- inputs `x`: numeric (booleans, integers or real floats), a sample axis
  and 1 to 3 per-sample axes (`(N, features)`, `(N, steps, channels)` or
  `(N, height, width, channels)`), finite, the same per-sample shape in
  both splits;
- labels `y`: integer class ids `(N,)` or `(N, 1)` (integral floats are
  accepted), non-negative (read by `_labels.integer_class_ids`);
- the class set: the classes are `0..C-1` with `C = num_classes` when it is
  given (then every label must be `< C`), else the largest training
  label + 1. Without `num_classes`, a training split in which more than half
  of the class ids `0..C-1` have no sample is refused (a stray or mistyped
  label), and so is a test label that no training sample has (a class the
  model never sees). At least 2 classes must have training samples.
"""

import numpy as np

from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import invalid

__all__ = ["check_class_ids", "check_inputs", "check_label_set", "checked_arrays"]

_SHAPES = "(N, features), (N, steps, channels) or (N, height, width, channels)"
_CHUNK = 1 << 22  # elements per isfinite pass: bounded extra memory


def _first_non_finite(x):
    """`(count, first sample)` of non-finite values in a float array."""
    flat = x.reshape(len(x), -1)
    per_chunk = max(1, _CHUNK // max(1, flat.shape[1]))
    count, first = 0, None
    for start in range(0, len(flat), per_chunk):
        bad = ~np.isfinite(flat[start : start + per_chunk])
        n = int(np.count_nonzero(bad))
        if n and first is None:
            first = start + int(np.flatnonzero(bad.any(axis=1))[0])
        count += n
    return count, first


def _check_input(name, x):
    if x.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` must be a numeric array (booleans, integers or real "
            f"floats). Received: {name}.dtype={x.dtype}"
        )
    if x.ndim < 2:
        raise ValueError(
            f"`{name}` must have a sample axis and 1 to 3 per-sample axes, "
            f"{_SHAPES}; shape {x.shape} has no per-sample axis (one feature "
            f"per sample: `{name}.reshape(-1, 1)`)."
        )
    if x.ndim > 4:
        raise ValueError(
            f"`{name}` must have a sample axis and 1 to 3 per-sample axes, "
            f"{_SHAPES}. Received: {name}.shape={x.shape} "
            f"({x.ndim - 1} per-sample axes)"
        )
    if 0 in x.shape[1:]:
        raise ValueError(
            f"`{name}` has samples of size 0. Received: {name}.shape={x.shape}"
        )
    if x.dtype.kind == "f" and len(x):
        count, first = _first_non_finite(x)
        if count:
            raise ValueError(
                f"`{name}` holds {count} non-finite value(s) (NaN or inf), the "
                f"first in sample {first}; replace or drop them before training."
            )


def check_inputs(x_train, x_test):
    """Refuse non-numeric, badly shaped or non-finite inputs (`ValueError`)."""
    _check_input("x_train", x_train)
    _check_input("x_test", x_test)
    if x_test.shape[1:] != x_train.shape[1:]:
        raise ValueError(
            "`x_test` must have the per-sample shape of `x_train`, "
            f"{x_train.shape[1:]}. Received: x_train.shape={x_train.shape}, "
            f"x_test.shape={x_test.shape}"
        )


def check_class_ids(y, name):
    """Int64 class ids `(N,)`, `N > 0`, from `(N,)` or `(N, 1)` labels.

    Refuses other shapes (one-hot rows too: a dataset file stores class
    ids) and what `integer_class_ids` refuses: non-numeric dtypes
    (`TypeError`), NaN, inf, fractions and negative labels, naming the first
    bad sample.
    """
    y = np.asarray(y)
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != 1) or y.size == 0:
        raise ValueError(
            f"`{name}` must hold integer class ids of shape (N,) with N > 0. "
            f"Received: {name}.shape={y.shape}"
        )
    return integer_class_ids(y, name=name)


def _label(value):
    return int(value) if float(value).is_integer() else float(value)


def check_label_set(y_train, y_test, num_classes=None):
    """The number of classes `C` of checked class ids (see the module rules)."""
    if num_classes is not None:
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, (int, np.integer))
            or num_classes < 2
        ):
            raise invalid("num_classes", "None or an integer >= 2", num_classes)
        num_classes = int(num_classes)
        for name, y in (("y_train", y_train), ("y_test", y_test)):
            if y.max() >= num_classes:
                raise ValueError(
                    f"`{name}` holds the label {_label(y.max())}, but "
                    f"num_classes={num_classes}: class ids must be in "
                    f"0..{num_classes - 1}."
                )
    present = np.unique(y_train)
    if present.size < 2:
        raise ValueError(
            f"`y_train` holds a single class (label {_label(present[0])}); a "
            "classifier needs at least 2."
        )
    if num_classes is not None:
        return num_classes
    largest = _label(present[-1])
    size = largest + 1
    empty = size - present.size
    if 2 * empty > size:
        count = int(np.count_nonzero(y_train == present[-1]))
        raise ValueError(
            f"`y_train` uses {present.size} of the {size} class ids 0..{largest}: "
            f"{empty} classes would have no training sample (the largest "
            f"label, {largest}, has {count} sample(s)). Class ids must be "
            f"0..C-1; if there really are {size} classes, pass "
            f"num_classes={size}."
        )
    unseen = np.setdiff1d(np.unique(y_test), present)
    if unseen.size:
        shown = [_label(v) for v in unseen[:5]] + (["..."] if unseen.size > 5 else [])
        raise ValueError(
            f"`y_test` holds {unseen.size} label(s) that no training sample has: "
            f"{', '.join(map(str, shown))}. A model cannot learn a class it never "
            "sees: drop those test samples (or pass `num_classes` to keep "
            "classes without training samples)."
        )
    return size


def checked_arrays(train, test, num_classes=None):
    """`(x_train, y_train), (x_test, y_test), num_classes`, checked.

    Labels come back as int64 `(N,)`, inputs as given (NumPy arrays).

    Raises:
        ValueError: for any broken rule of the module docstring, or splits
            whose `x` and `y` differ in length.
    """
    (x_train, y_train), (x_test, y_test) = train, test
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    check_inputs(x_train, x_test)
    y_train = check_class_ids(y_train, "y_train")
    y_test = check_class_ids(y_test, "y_test")
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if len(x) != len(y):
            raise ValueError(
                f"`x_{split}` and `y_{split}` must have the same number of "
                f"samples. Received: x_{split}.shape={x.shape}, "
                f"y_{split}.shape={y.shape}"
            )
    num_classes = check_label_set(y_train, y_test, num_classes)
    return (x_train, y_train), (x_test, y_test), num_classes
