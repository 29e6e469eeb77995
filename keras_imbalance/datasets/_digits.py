"""`load_digits_lt`: the 8x8 digits bundled with scikit-learn, long-tailed."""

import numpy as np

from keras_imbalance._validation import check_float, check_optional_int
from keras_imbalance.datasets._long_tail import check_ratio, make_long_tailed

__all__ = ["load_digits_lt"]


def balanced_split(labels, per_class, rng):
    """Indices of `per_class` random samples per class, and of the rest."""
    test, rest = [], []
    for c in range(int(labels.max()) + 1):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:per_class])
        rest.append(idx[per_class:])
    return rng.permutation(np.concatenate(test)), np.sort(np.concatenate(rest))


def load_digits_lt(imbalance_ratio=10, test_size=0.3, seed=0):
    """Long-tailed digits: the 8x8 digits bundled with scikit-learn.

    No download and seconds to train: the embedded default dataset. From the
    1797 images (10 classes, 174 to 183 each), a balanced test split takes
    `round(test_size * n_min)` random images of every class (`n_min`: the
    smallest class); the training split is drawn from the rest with
    `make_long_tailed` (exponential profile, class 0 the head, `n_max` the
    smallest remaining class).

    Args:
        imbalance_ratio: Head over tail count of the training split, a float
            (at least 1). Defaults to 10.
        test_size: Fraction of each class (of the smallest class) held out for
            the balanced test split, in (0, 1). Defaults to 0.3.
        seed: Integer seed of both random choices. Defaults to 0.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float32 images of shape
        `(N, 8, 8, 1)` scaled to `[0, 1]` (the raw values are 0 to 16) and
        int64 labels `(N,)`, both splits in a shuffled order.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_digits_lt()
    >>> x_train.shape, x_train.dtype.name, float(x_train.max())
    ((494, 8, 8, 1), 'float32', 1.0)
    >>> np.bincount(y_train).tolist()
    [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    >>> np.bincount(y_test).tolist()
    [52, 52, 52, 52, 52, 52, 52, 52, 52, 52]
    """
    ratio = check_ratio(imbalance_ratio)
    test_size = check_float(
        "test_size", test_size, low=0, high=1, low_open=True, high_open=True
    )
    seed = check_optional_int("seed", seed, low=0)
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images.astype("float32") / 16.0)[..., None]
    labels = digits.target.astype("int64")
    n_min = int(np.bincount(labels).min())
    per_class = min(max(1, int(round(test_size * n_min))), n_min - 1)
    rng = np.random.default_rng(seed)
    test, rest = balanced_split(labels, per_class, rng)
    (x_train, y_train), _ = make_long_tailed(
        x[rest], labels[rest], imbalance_ratio=ratio, seed=seed
    )
    return (x_train, y_train), (x[test], labels[test])
