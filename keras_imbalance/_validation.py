"""Argument validation shared by every public object.

Errors follow the Keras form::

    Invalid value for argument `gamma`. Expected a non-negative float.
    Received: gamma=-1

NumPy / tensor conversions (`plain`, `unwrap_tensor`) live in `_arrays`.
"""

import numbers

import numpy as np

from keras_imbalance._arrays import plain, unwrap_tensor

__all__ = [
    "SEED_BITS",
    "check_bool",
    "check_class_counts",
    "check_class_weight",
    "check_float",
    "check_length",
    "check_one_of",
    "check_optional_int",
    "check_positive_int",
    "check_scalar_or_per_class",
    "check_seed",
    "check_threshold_objective",
    "invalid",
    "is_integer",
    "is_seed",
    "plain_class_weight",
    "plain_counts",
]

SEED_BITS = 32
"""Training and data seeds are 32-bit: what NumPy, Keras and every backend take."""


def invalid(name, expected, received):
    """Return the Keras-style `ValueError` for argument `name`.

    NumPy scalars and arrays in `received` are shown as Python values
    (`plain`): `Received: ratio=0.5`, not `np.float64(0.5)`.
    """
    return ValueError(
        f"Invalid value for argument `{name}`. Expected {expected}. "
        f"Received: {name}={plain(received)!r}"
    )


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_float(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Validate a real number in an interval and return it as a Python float."""
    if not _is_real(value) or not np.isfinite(value):
        raise invalid(name, _interval_words(low, high, low_open, high_open), value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise invalid(name, _interval_words(low, high, low_open, high_open), value)
    return float(value)


def _interval_words(low, high, low_open, high_open):
    if low == 0 and high is None:
        return "a positive float" if low_open else "a non-negative float"
    if low is None and high is None:
        return "a finite float"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"a float in {left}{lo}, {hi}{right}"


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(name, "a boolean", value)
    return bool(value)


def check_one_of(name, value, allowed):
    if value not in allowed:
        raise invalid(name, f"one of {sorted(allowed)}", value)
    return value


def is_integer(value):
    """A Python or NumPy integer, not a boolean."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, bool
    )


def check_positive_int(name, value):
    """An integer >= 1, returned as a Python int."""
    if not is_integer(value) or value < 1:
        raise invalid(name, "a positive integer", value)
    return int(value)


def check_optional_int(name, value, *, low=0):
    """`None` or an integer >= `low` (e.g. `ignore_class`)."""
    if value is None:
        return None
    if not is_integer(value):
        raise invalid(name, "None or an integer", value)
    if low is not None and value < low:
        raise invalid(name, f"None or an integer >= {low}", value)
    return int(value)


def is_seed(value, bits=SEED_BITS):
    """An integer in `[0, 2**bits)`; with `bits=None`, any integer."""
    if not is_integer(value):
        return False
    return bits is None or 0 <= value < 2**bits


def check_seed(name, value, *, bits=SEED_BITS, allow_none=True):
    """A seed (see `is_seed`) as a Python int, or `None` when allowed.

    Example:

    >>> check_seed("seed", 7), check_seed("seed", None)
    (7, None)
    >>> check_seed("data_seed", 2**32, allow_none=False)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `data_seed`. Expected an integer in \
[0, 2**32). Received: data_seed=4294967296
    """
    if value is None and allow_none:
        return None
    if not is_seed(value, bits):
        expected = "an integer" if bits is None else f"an integer in [0, 2**{bits})"
        raise invalid(name, f"None or {expected}" if allow_none else expected, value)
    return int(value)


# The name the losses and metrics import (`get_config` values): `plain`.


def check_scalar_or_per_class(name, value, *, allow_none=False, low=0.0, high=None):
    """A non-negative float or a 1-D sequence of them, returned JSON-plain.

    Used for `gamma` and `alpha`, which take one value for all classes or one
    per class. The length is checked against the number of classes at call
    time, when it is known.
    """
    if value is None:
        if allow_none:
            return None
        raise invalid(name, "a float or a sequence of floats", value)
    value = unwrap_tensor(value)
    if _is_real(value) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return check_float(name, float(value), low=low, high=high)
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise invalid(name, "a float or a 1-D sequence of floats", value) from None
    words = "a 1-D sequence of non-negative floats"
    if high is not None:
        words = f"a 1-D sequence of floats in [{low:g}, {high:g}]"
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise invalid(name, words, value)
    if np.any(array < low) or (high is not None and np.any(array > high)):
        raise invalid(name, words, plain(value))
    return array.tolist()


def check_class_counts(name, value, *, integer=True):
    """Validate per-class sample counts: 1-D, non-negative, not all zero.

    Counts are whole numbers (`integer=False` for priors and other
    per-class masses, which may be fractional).
    """
    value = unwrap_tensor(value)
    if isinstance(value, dict):
        raise invalid(
            name, "a 1-D sequence of non-negative counts, one per class", value
        )
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise invalid(
            name, "a 1-D sequence of non-negative counts, one per class", value
        ) from None
    expected = "a 1-D sequence of non-negative counts, one per class, not all zero"
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
        raise invalid(name, expected, plain(value))
    if np.any(array < 0) or not np.any(array > 0):
        raise invalid(name, expected, plain(value))
    if integer and np.any(array != np.round(array)):
        raise invalid(
            name,
            "whole-number counts of samples per class (use `class_counts(y)`; "
            "fractional counts are not sample counts)",
            plain(value),
        )
    return array


def check_length(name, values, num_classes):
    """Raise if a per-class sequence does not have `num_classes` entries."""
    if values is not None and not _is_real(values) and len(values) != num_classes:
        raise invalid(
            name,
            f"one value per class ({num_classes} values, from the last axis "
            "of `y_pred`)",
            f"<sequence of length {len(values)}>",
        )


def check_class_weight(name, value, num_classes=None):
    """Per-class weights from a sequence or a `{class: weight}` dict.

    A dict may leave classes out when `num_classes` is known; they get 1.0
    (as in `fit(class_weight=...)`). Returns a list of floats.
    """
    value = unwrap_tensor(value)
    expected = "a 1-D sequence of non-negative floats or a dict {class: weight}"
    if isinstance(value, dict):
        if not value:
            raise invalid(name, expected, value)
        keys = list(value)
        if any(
            isinstance(k, bool)
            or not isinstance(k, (numbers.Integral, np.integer, str))
            for k in keys
        ):
            raise invalid(name, expected, value)
        try:
            keys = [int(k) for k in keys]
        except ValueError:
            raise invalid(name, expected, value) from None
        if min(keys) < 0:
            raise invalid(name, expected, value)
        size = max(keys) + 1 if num_classes is None else num_classes
        if max(keys) >= size:
            raise invalid(name, f"dict keys in [0, {size - 1}] (one per class)", value)
        array = np.ones(size, dtype="float64")
        for k, w in zip(keys, value.values()):
            array[k] = w
    else:
        try:
            array = np.asarray(value, dtype="float64")
        except (TypeError, ValueError):
            raise invalid(name, expected, value) from None
    if array.ndim != 1 or array.size == 0:
        raise invalid(name, expected, plain(value))
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise invalid(name, expected, plain(value))
    if not np.any(array > 0):
        raise invalid(
            name,
            "weights that are not all zero (all-zero weights make every loss "
            "term zero, so nothing would be learned)",
            plain(value),
        )
    return array.tolist()


def plain_class_weight(name, value):
    """Validate per-class weights and keep their form: a list or a dict.

    A dict keeps its keys (as ints) so that classes it leaves out still get
    1.0 once the number of classes is known at call time.
    """
    weights = check_class_weight(name, value)
    if isinstance(value, dict):
        return {int(k): weights[int(k)] for k in value}
    return weights


def plain_counts(name, value):
    """Validated class counts as a JSON-plain list (ints when integral)."""
    return [int(v) for v in check_class_counts(name, value)]


_OBJECTIVE_WORDS = "'f1', {'recall': r} or ('recall', r) with r in (0, 1]"


def check_threshold_objective(name, value, *, allow_none=False):
    """A decision-threshold objective, JSON-plain: `"f1"` or `{"recall": r}`.

    `("recall", r)` is read as `{"recall": r}`; `r` must lie in `(0, 1]`.
    With `allow_none`, `None` (no tuning) is returned as is.
    """
    if value is None and allow_none:
        return None
    expected = _OBJECTIVE_WORDS + (", or None" if allow_none else "")
    if isinstance(value, str):
        if value == "f1":
            return "f1"
        raise invalid(name, expected, value)
    if isinstance(value, dict) and list(value) == ["recall"]:
        recall = value["recall"]
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], str)
        and value[0] == "recall"
    ):
        recall = value[1]
    else:
        raise invalid(name, expected, value)
    if not _is_real(recall) or not np.isfinite(recall) or not 0 < recall <= 1:
        raise invalid(name, "a target recall r in (0, 1] ({'recall': r})", value)
    return {"recall": float(recall)}
