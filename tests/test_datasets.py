"""Tests for keras_imbalance.datasets (long-tailed builders and loaders).

Here the long-tailed counts, `make_long_tailed` and the digits; the loaders of
Fashion-MNIST and of .npz files are in `test_fashion_mnist.py` and
`test_npz_datasets.py`.
"""

import numpy as np
import pytest

from keras_imbalance.datasets import (
    load_digits_lt,
    long_tailed_counts,
    make_long_tailed,
)
from tests.ldam_counts import ldam_get_img_num_per_cls


def balanced_data(num_classes, per_class):
    """x holds each sample's own index, so subsets can be compared."""
    y = np.repeat(np.arange(num_classes), per_class)
    x = np.arange(len(y)).reshape(-1, 1)
    return x, y


# --- counts of the formula ---------------------------------------------------


@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("num_classes", [10, 3])
@pytest.mark.parametrize("n_max", [5000, 500, 6000, 120])
def test_exponential_counts_match_ldam(ratio, num_classes, n_max):
    expected = ldam_get_img_num_per_cls(n_max, num_classes, "exp", 1.0 / ratio)
    assert long_tailed_counts(num_classes, n_max, ratio).tolist() == expected


@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("n_max", [5000, 500, 120])
def test_step_counts_match_ldam(ratio, n_max):
    expected = ldam_get_img_num_per_cls(n_max, 10, "step", 1.0 / ratio)
    assert long_tailed_counts(10, n_max, ratio, profile="step").tolist() == expected


@pytest.mark.parametrize("ratio", [1, 10, 100])
def test_step_counts_odd_number_of_classes(ratio):
    # The LDAM code lists one class too few for odd C; the last class is tail.
    ldam = ldam_get_img_num_per_cls(500, 3, "step", 1.0 / ratio)
    counts = long_tailed_counts(3, 500, ratio, profile="step").tolist()
    assert counts == ldam + [int(500 * (1.0 / ratio))]


def test_cifar10_lt_published_counts():
    # CIFAR-10-LT at ratio 100 (Cao et al. 2019): 12406 training images.
    counts = long_tailed_counts(10, 5000, 100)
    assert counts.tolist() == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert counts.sum() == 12406
    assert long_tailed_counts(10, 5000, 10).sum() == 20431


def test_one_class():
    assert long_tailed_counts(1, 7, 100).tolist() == [7]


@pytest.mark.parametrize("profile", ["exponential", "step"])
@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("num_classes", [10, 3])
def test_make_long_tailed_exact_counts(profile, ratio, num_classes):
    x, y = balanced_data(num_classes, 300)
    (x_lt, y_lt), counts = make_long_tailed(
        x, y, imbalance_ratio=ratio, profile=profile
    )
    expected = long_tailed_counts(num_classes, 300, ratio, profile)
    assert counts.dtype == np.int64
    assert counts.tolist() == expected.tolist()
    assert np.bincount(y_lt, minlength=num_classes).tolist() == expected.tolist()
    assert len(x_lt) == len(y_lt) == expected.sum()
    # Each sample keeps its own label, and no sample is drawn twice.
    np.testing.assert_array_equal(y[x_lt[:, 0]], y_lt)
    assert len(np.unique(x_lt)) == len(x_lt)


def test_n_max_defaults_to_smallest_class():
    y = np.concatenate([np.zeros(50), np.ones(40), np.full(30, 2)]).astype(int)
    x = np.arange(len(y))
    _, counts = make_long_tailed(x, y, imbalance_ratio=10)
    assert counts.tolist() == ldam_get_img_num_per_cls(30, 3, "exp", 0.1)
    _, counts = make_long_tailed(x, y, imbalance_ratio=10, max_per_class=50)
    assert counts.tolist() == ldam_get_img_num_per_cls(50, 3, "exp", 0.1)


def test_seed_determines_subset():
    x, y = balanced_data(10, 100)
    (a, ya), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=3)
    (b, yb), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=3)
    (c, _), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert set(a[:, 0]) != set(c[:, 0])


def test_output_is_shuffled():
    x, y = balanced_data(4, 50)
    (_, y_lt), _ = make_long_tailed(x, y, imbalance_ratio=2)
    assert not np.all(np.diff(y_lt) >= 0)


def test_one_hot_and_column_labels_keep_their_form():
    x, y = balanced_data(4, 30)
    one_hot = np.eye(4, dtype="float32")[y]
    (x1, y1), counts1 = make_long_tailed(x, one_hot, imbalance_ratio=10, seed=1)
    (x2, y2), counts2 = make_long_tailed(x, y, imbalance_ratio=10, seed=1)
    (x3, y3), _ = make_long_tailed(x, y[:, None], imbalance_ratio=10, seed=1)
    assert y1.shape == (counts1.sum(), 4) and y1.dtype == np.float32
    assert counts1.tolist() == counts2.tolist()
    np.testing.assert_array_equal(y1.argmax(-1), y2)
    np.testing.assert_array_equal(x1, x2)
    assert y3.shape == (len(y2), 1)
    np.testing.assert_array_equal(y3[:, 0], y2)


def test_num_classes_with_a_missing_class():
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match=r"classes \[3\] have none"):
        make_long_tailed(x, y, num_classes=4)
    _, counts = make_long_tailed(x, y, num_classes=3, imbalance_ratio=2)
    assert counts.tolist() == [20, 14, 10]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"imbalance_ratio": 0.5}, "Invalid value for argument `imbalance_ratio`"),
        ({"imbalance_ratio": float("nan")}, "imbalance_ratio"),
        ({"imbalance_ratio": "10"}, "imbalance_ratio"),
        ({"profile": "linear"}, "Invalid value for argument `profile`"),
        ({"max_per_class": 0}, "Invalid value for argument `max_per_class`"),
        ({"num_classes": 0}, "Invalid value for argument `num_classes`"),
        ({"seed": -1}, "Invalid value for argument `seed`"),
        ({"seed": 1.5}, "Invalid value for argument `seed`"),
        (
            {"max_per_class": 30, "imbalance_ratio": 2},
            "Class 0 has 20 samples but needs 30",
        ),
        ({"imbalance_ratio": 100}, "get 0 samples"),
    ],
)
def test_make_long_tailed_validation(kwargs, match):
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match=match):
        make_long_tailed(x, y, **kwargs)


def test_make_long_tailed_shape_mismatch():
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match="same number of samples"):
        make_long_tailed(x[:-1], y)
    with pytest.raises(ValueError, match="one label per sample"):
        make_long_tailed(x, y.reshape(6, 10))


# --- digits ------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [1, 10, 50])
def test_digits_lt(ratio):
    (x_train, y_train), (x_test, y_test) = load_digits_lt(imbalance_ratio=ratio)
    assert x_train.dtype == x_test.dtype == np.float32
    assert x_train.shape[1:] == x_test.shape[1:] == (8, 8, 1)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    test_counts = np.bincount(y_test, minlength=10)
    assert len(set(test_counts.tolist())) == 1  # balanced
    assert test_counts[0] == round(0.3 * 174)
    train_counts = np.bincount(y_train, minlength=10)
    n_max = 174 - test_counts[0]  # the smallest digit class has 174 images
    assert train_counts.tolist() == long_tailed_counts(10, n_max, ratio).tolist()


def test_digits_splits_are_disjoint_and_seeded():
    (a, ya), (t, yt) = load_digits_lt(seed=1)
    (b, yb), (u, yu) = load_digits_lt(seed=1)
    (c, _), (v, _) = load_digits_lt(seed=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(t, u)
    assert not np.array_equal(t, v) and not np.array_equal(a, c)
    # No training image is also a test image (digits has few duplicates, so
    # compare with the indices of the original images).
    from sklearn.datasets import load_digits

    images = load_digits().images.reshape(len(load_digits().images), -1) / 16.0
    lookup = {row.tobytes(): i for i, row in enumerate(images.astype("float32"))}
    train_ids = {lookup[r.tobytes()] for r in a.reshape(len(a), -1)}
    test_ids = {lookup[r.tobytes()] for r in t.reshape(len(t), -1)}
    assert not train_ids & test_ids


@pytest.mark.parametrize("test_size", [0, 1, -0.1, "0.3"])
def test_digits_validation(test_size):
    with pytest.raises(ValueError, match="Invalid value for argument `test_size`"):
        load_digits_lt(test_size=test_size)
    with pytest.raises(ValueError, match="`imbalance_ratio`"):
        load_digits_lt(imbalance_ratio=0)
