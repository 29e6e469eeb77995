"""Many-, medium- and few-shot groups of classes by training count.

The groups of the long-tail literature (Liu et al., "Large-Scale Long-Tailed
Recognition in an Open World", CVPR 2019): more than `many` training samples
is many-shot, fewer than `few` few-shot, the rest medium-shot.
"""

import math

import numpy as np

from keras_imbalance._names import SHOT_GROUPS
from keras_imbalance._validation import invalid, is_integer
from keras_imbalance.metrics import group_of_classes

__all__ = [
    "FEW_THRESHOLD",
    "MANY_THRESHOLD",
    "OLTR_SHOT_THRESHOLDS",
    "auto_shot_thresholds",
    "check_shot_thresholds",
    "shot_group_of",
    "shot_group_recalls",
]

MANY_THRESHOLD = 100
FEW_THRESHOLD = 20

OLTR_SHOT_THRESHOLDS = (MANY_THRESHOLD, FEW_THRESHOLD)
"""`(many, few)` of Liu et al. (OLTR, 2019): more than 100 training samples is
many-shot, fewer than 20 few-shot."""


def shot_group_of(class_counts, class_id, many, few):
    """`"many"`, `"medium"` or `"few"`: the group of one class."""
    for group in SHOT_GROUPS:
        if class_id in group_of_classes(class_counts, group, many, few):
            return group
    return None  # pragma: no cover


def shot_group_recalls(class_counts, recall, support, many, few):
    """`{group: mean recall}` over each group's classes present in the labels.

    A group without such a class gets `None`.
    """
    recalls = {}
    for group in SHOT_GROUPS:
        members = group_of_classes(class_counts, group, many, few)
        members = members[support[members] > 0]
        recalls[group] = float(np.mean(recall[members])) if members.size else None
    return recalls


def _group_sizes(counts, many, few):
    """Number of many-, medium- and few-shot classes (OLTR inequalities)."""
    many_n = int(np.sum(counts > many))
    few_n = int(np.sum(counts < few))
    return many_n, counts.size - many_n - few_n, few_n


def auto_shot_thresholds(class_counts):
    """Many / few-shot thresholds suited to a training distribution.

    OLTR's `(100, 20)` (Liu et al., 2019: more than 100 training samples is
    many-shot, fewer than 20 few-shot) when each of the three groups gets at
    least one class. Otherwise (e.g. Fashion-MNIST-LT, 60 to 6000 samples,
    where no class is few-shot by OLTR's count) the log-scale terciles of the
    non-zero counts: with `n_max`, `n_min` the largest and smallest non-zero
    count and `r = n_max / n_min`, `many = floor(n_max * r**(-1/3))` and
    `few = ceil(n_max * r**(-2/3))` (at most `many`).

    Args:
        class_counts: Training samples per class (non-negative numbers).

    Returns:
        `(many, few)`, two Python ints with `many >= few >= 0`, the
        `shot_thresholds` of `keras_imbalance.evaluation.evaluate_imbalanced`.

    Raises:
        ValueError: for an empty, non-1-D, negative or all-zero `class_counts`.

    Example:

    >>> auto_shot_thresholds([122, 94, 73, 56, 43, 33, 26, 20, 15, 12])
    (100, 20)
    >>> auto_shot_thresholds([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60])
    (1292, 279)
    """
    try:
        counts = np.asarray(class_counts, dtype="float64")
    except (TypeError, ValueError):
        counts = None
    if (
        counts is None
        or counts.ndim != 1
        or counts.size == 0
        or not np.all(np.isfinite(counts))
        or np.any(counts < 0)
        or not np.any(counts > 0)
    ):
        raise ValueError(
            "Invalid value for argument `class_counts`. Expected a non-empty "
            "1-D sequence of non-negative counts, not all zero. Received: "
            f"class_counts={class_counts!r}"
        )
    if min(_group_sizes(counts, *OLTR_SHOT_THRESHOLDS)) > 0:
        return OLTR_SHOT_THRESHOLDS
    present = counts[counts > 0]
    n_max, n_min = float(present.max()), float(present.min())
    ratio = n_max / n_min
    many = math.floor(n_max * ratio ** (-1.0 / 3.0) + 1e-9)
    few = math.ceil(n_max * ratio ** (-2.0 / 3.0) - 1e-9)
    return int(many), int(min(few, many))


def check_shot_thresholds(value):
    """`(many, few)` as Python ints, checked (`many >= few >= 0`)."""
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    ok = ok and all(is_integer(v) for v in value)
    if not ok or value[1] < 0 or value[0] < value[1]:
        raise invalid(
            "shot_thresholds",
            "a pair of integers (many, few) with many >= few >= 0",
            value,
        )
    return int(value[0]), int(value[1])
