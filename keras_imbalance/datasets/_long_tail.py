"""Long-tailed subsets of labelled data: the CIFAR-LT protocol (Cao et al.).

`long_tailed_counts` gives the per-class counts of the exponential or step
profile, `make_long_tailed` draws such a subset of any labelled arrays, and
`stratified_split` holds out a per-class validation split.
"""

import numpy as np

from keras_imbalance._arrays import is_file_source
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import (
    check_float,
    check_one_of,
    check_optional_int,
    check_positive_int,
    invalid,
)

__all__ = [
    "check_ratio",
    "labels_of",
    "long_tailed_counts",
    "make_long_tailed",
    "stratified_split",
]

PROFILES = ("exponential", "step")
"""The count profiles of `long_tailed_counts`."""


def check_ratio(imbalance_ratio):
    try:
        return check_float("imbalance_ratio", imbalance_ratio, low=1)
    except ValueError:
        raise invalid(
            "imbalance_ratio", "a finite float >= 1", imbalance_ratio
        ) from None


def long_tailed_counts(
    num_classes, max_per_class, imbalance_ratio=100, profile="exponential"
):
    """Per-class sample counts of the CIFAR-LT protocol (Cao et al., 2019).

    Exponential profile: class `i` (0-based) gets
    `int(max_per_class * (1 / imbalance_ratio) ** (i / (num_classes - 1)))`,
    i.e. `n_max * ratio ** (-i / (C - 1))` truncated, computed exactly as
    `get_img_num_per_cls` in the LDAM-DRW code. Step profile: the first
    `num_classes // 2` classes get `max_per_class`, the others
    `int(max_per_class * (1 / imbalance_ratio))`. With one class, it gets
    `max_per_class`.

    Args:
        num_classes: Number of classes `C` (>= 1).
        max_per_class: Count of the head class (class 0), `n_max` (>= 1).
        imbalance_ratio: `n_max / n_min`, a float >= 1. Defaults to 100.
        profile: `"exponential"` (default) or `"step"`.

    Returns:
        An int64 NumPy array of length `num_classes`, non-increasing.

    Example:

    >>> long_tailed_counts(10, 5000, 100).tolist()
    [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    >>> long_tailed_counts(4, 100, 10, profile="step").tolist()
    [100, 100, 10, 10]
    """
    num_classes = check_positive_int("num_classes", num_classes)
    max_per_class = check_positive_int("max_per_class", max_per_class)
    ratio = check_ratio(imbalance_ratio)
    check_one_of("profile", profile, PROFILES)
    imb_factor = 1.0 / ratio
    img_max = float(max_per_class)
    if num_classes == 1:
        counts = [int(img_max)]
    elif profile == "exponential":
        counts = [
            int(img_max * (imb_factor ** (cls_idx / (num_classes - 1.0))))
            for cls_idx in range(num_classes)
        ]
    else:
        # The LDAM-DRW code lists `cls_num // 2` tail classes, one short for an
        # odd number of classes; here every class after the head half is tail.
        head = num_classes // 2
        counts = [int(img_max)] * head + [int(img_max * imb_factor)] * (
            num_classes - head
        )
    return np.asarray(counts, dtype="int64")


def labels_of(y, num_classes, name="y"):
    """Integer class ids `(N,)` from integer `(N,)`, `(N, 1)` or one-hot labels."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(f"`{name}` must hold at least one label. Received: {y!r}")
    labels = integer_class_ids(y, num_classes, name=name)
    if num_classes is None:
        if y.ndim == 2 and y.shape[1] > 1:
            num_classes = y.shape[1]
        else:
            num_classes = int(labels.max()) + 1
    return labels, num_classes


def make_long_tailed(
    x,
    y,
    *,
    imbalance_ratio=100,
    profile="exponential",
    num_classes=None,
    max_per_class=None,
    seed=0,
):
    """Draw a long-tailed subset of a labelled dataset (CIFAR-LT protocol).

    Class `i` keeps `n_i` samples chosen at random, with the counts of
    `long_tailed_counts` as in Cao et al. (2019): `n_i = n_max * ratio **
    (-i / (C - 1))` truncated to an integer (`"exponential"`), or `n_max` for
    the first half of the classes and `n_max / ratio` for the rest
    (`"step"`). Class 0 is the head, class `C - 1` the tail.

    Args:
        x: Inputs, an array whose first axis is the sample axis.
        y: Labels: integer class ids `(N,)` or `(N, 1)`, or one-hot `(N, C)`.
            The subset's labels keep the same form.
        imbalance_ratio: `n_max / n_min`, a float >= 1. Defaults to 100.
        profile: `"exponential"` (default) or `"step"`.
        num_classes: Number of classes `C`. Defaults to `None`: the width of
            one-hot labels, else the largest label + 1.
        max_per_class: `n_max`, the head class count. Defaults to `None`: the
            size of the smallest class in `y`, so that every class can supply
            its count (for balanced data such as CIFAR-10, `N / C`, as in the
            LDAM-DRW code).
        seed: Integer seed of the random choice (or `None` for a fresh one).
            The same seed gives the same subset in the same order.

    Returns:
        `((x_subset, y_subset), class_counts)`: the subset, in a shuffled
        order (so that `validation_split` and batches see every class), and an
        int64 array of its per-class counts, of length `C`.

    Raises:
        ValueError: for invalid arguments, a class with fewer samples than
            its count, or a tail count of zero.

    Example:

    >>> x = np.arange(40).reshape(40, 1)
    >>> y = np.repeat(np.arange(4), 10)
    >>> (x_lt, y_lt), counts = make_long_tailed(x, y, imbalance_ratio=10)
    >>> counts.tolist()
    [10, 4, 2, 1]
    >>> x_lt.shape, np.bincount(y_lt).tolist()
    ((17, 1), [10, 4, 2, 1])
    """
    ratio = check_ratio(imbalance_ratio)
    check_one_of("profile", profile, PROFILES)
    if num_classes is not None:
        num_classes = check_positive_int("num_classes", num_classes)
    if max_per_class is not None:
        max_per_class = check_positive_int("max_per_class", max_per_class)
    seed = check_optional_int("seed", seed, low=0)
    x = x if is_file_source(x) else np.asarray(x)  # files: a subset of paths
    y_array = np.asarray(y)
    labels, num_classes = labels_of(y_array, num_classes)
    if x.ndim == 0 or len(x) != len(labels):
        raise ValueError(
            "`x` and `y` must have the same number of samples. Received: "
            f"x.shape={x.shape}, y.shape={y_array.shape}"
        )
    available = np.bincount(labels, minlength=num_classes)
    if max_per_class is None:
        if available.min() == 0:
            empty = np.flatnonzero(available == 0).tolist()
            raise ValueError(
                "Every class needs at least one sample to build a long-tailed "
                f"subset; classes {empty} have none (num_classes={num_classes})."
            )
        max_per_class = int(available.min())
    counts = long_tailed_counts(num_classes, max_per_class, ratio, profile)
    if counts.min() == 0:
        raise ValueError(
            f"With max_per_class={max_per_class} and imbalance_ratio={ratio:g} "
            f"the tail classes get 0 samples (counts {counts.tolist()}). Use a "
            "smaller `imbalance_ratio` or a larger `max_per_class`."
        )
    short = np.flatnonzero(available < counts)
    if short.size:
        c = int(short[0])
        raise ValueError(
            f"Class {c} has {int(available[c])} samples but needs {int(counts[c])} "
            f"(max_per_class={max_per_class}, imbalance_ratio={ratio:g}, "
            f"profile={profile!r}). Use a smaller `max_per_class`."
        )
    rng = np.random.default_rng(seed)
    chosen = [
        rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in enumerate(counts)
    ]
    index = rng.permutation(np.concatenate(chosen))
    return (x[index], y_array[index]), counts


def stratified_split(x, y, fraction, *, seed=0, num_classes=None):
    """Hold out a stratified validation split of the training data.

    Each class `c` with `n_c` samples gives `max(1, round(fraction * n_c))`
    of them to the validation split and keeps the rest (at least one) for
    training, so that every class is both trained on and validated on; the
    rarest classes of a long-tailed set are over-represented in the
    validation split compared with `fraction`, which is what a balanced
    metric chosen on it needs. Classes with no sample are left out.

    Args:
        x: Inputs, an array `(N, ...)`.
        y: Integer class ids `(N,)`.
        fraction: Fraction of each class to hold out, in `(0, 0.5]`.
        seed: Seed of the random choice. Defaults to `0`.
        num_classes: Number of classes. Defaults to the largest label + 1.

    Returns:
        `(x_train, y_train), (x_val, y_val)`, both in a shuffled order.

    Raises:
        ValueError: for a class with a single sample (it cannot be both
            trained on and validated on), or invalid arguments.

    Example:

    >>> x = np.arange(20).reshape(20, 1)
    >>> y = np.array([0] * 14 + [1] * 4 + [2] * 2)
    >>> (x_tr, y_tr), (x_val, y_val) = stratified_split(x, y, 0.25)
    >>> np.bincount(y_tr).tolist(), np.bincount(y_val).tolist()
    ([10, 3, 1], [4, 1, 1])
    """
    fraction = check_float("fraction", fraction, low=0, high=0.5, low_open=True)
    seed = check_optional_int("seed", seed, low=0)
    y, _ = labels_of(y, num_classes)
    x = x if is_file_source(x) else np.asarray(x)  # files: a subset of paths
    if len(x) != len(y):
        raise ValueError(
            f"`x` has {len(x)} samples but `y` has {len(y)}; they must match."
        )
    counts = np.bincount(y)
    single = np.flatnonzero(counts == 1)
    if single.size:
        raise ValueError(
            f"Class {int(single[0])} has 1 training sample: a validation split "
            "needs at least 2 per class (one to train on, one to validate on). "
            "Gather more samples of it, or drop the class."
        )
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.flatnonzero(counts):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = min(max(1, int(round(fraction * idx.size))), idx.size - 1)
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    train = rng.permutation(np.concatenate(train))
    val = rng.permutation(np.concatenate(val))
    return (x[train], y[train]), (x[val], y[val])
