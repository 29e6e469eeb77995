"""Tests for `keras_imbalance.class_weights`.

References: scikit-learn's `compute_class_weight("balanced", ...)` and NumPy
formulas written from Cui et al., "Class-Balanced Loss Based on Effective
Number of Samples" (CVPR 2019).
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight

from keras_imbalance import (
    class_counts,
    class_priors,
    compute_class_weights,
    imbalance_ratio,
)

# 12 labels over 4 classes, every class present: counts [6, 3, 2, 1].
LABELS = np.array([0, 0, 1, 0, 2, 0, 1, 3, 0, 2, 1, 0])
LABEL_COUNTS = np.array([6, 3, 2, 1])
NUM_CLASSES = 4


def one_hot(labels, num_classes, dtype="float32"):
    return np.eye(num_classes, dtype=dtype)[np.asarray(labels)]


def normalised(raw):
    """Scale per-class weights to sum to the number of classes."""
    return raw / raw.sum() * raw.size


def inverse_reference(counts):
    return normalised(1.0 / np.asarray(counts, dtype="float64"))


def sqrt_inverse_reference(counts):
    return normalised(1.0 / np.sqrt(np.asarray(counts, dtype="float64")))


def effective_number_reference(counts, beta):
    """Cui et al. 2019, eq. (4)-(5): (1 - beta) / (1 - beta^n), sum to C."""
    n = np.asarray(counts, dtype="float64")
    return normalised((1.0 - beta) / (1.0 - beta**n))


def assert_counts(actual, expected):
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == np.int64
    np.testing.assert_array_equal(actual, expected)


class TestClassCounts:
    @pytest.mark.parametrize(
        "labels",
        [
            LABELS,
            LABELS.reshape(-1, 1),
            LABELS.tolist(),
            LABELS.astype("int32"),
            LABELS.astype("uint8"),
            LABELS.astype("float32"),
            LABELS.astype("float64").reshape(-1, 1),
        ],
        ids=["int64-N", "int64-N1", "list", "int32", "uint8", "float32", "float64-N1"],
    )
    def test_integer_labels(self, labels):
        assert_counts(class_counts(labels), LABEL_COUNTS)

    def test_dense_prediction_labels(self):
        masks = np.random.default_rng(0).integers(0, 5, size=(3, 6, 7))
        assert_counts(class_counts(masks), np.bincount(masks.ravel(), minlength=5))

    @pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
    def test_one_hot_labels(self, dtype):
        assert_counts(class_counts(one_hot(LABELS, NUM_CLASSES, dtype)), LABEL_COUNTS)

    def test_one_hot_keeps_width_of_empty_classes(self):
        # Class 3 never occurs, but the one-hot width says there are 5 classes.
        y = one_hot([0, 1, 1, 2], 5)
        assert_counts(class_counts(y), [1, 2, 1, 0, 0])

    def test_soft_labels_are_counted_by_argmax(self):
        y = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2]])
        assert_counts(class_counts(y), [1, 1, 1])

    def test_dense_one_hot_masks(self):
        masks = np.random.default_rng(1).integers(0, 3, size=(2, 4, 5))
        expected = np.bincount(masks.ravel(), minlength=3)
        assert_counts(class_counts(one_hot(masks, 3)), expected)

    @pytest.mark.parametrize("dtype", [tf.int32, tf.int64, tf.float32])
    def test_tensor(self, dtype):
        assert_counts(class_counts(tf.constant(LABELS, dtype=dtype)), LABEL_COUNTS)

    def test_one_hot_tensor(self):
        y = tf.one_hot(LABELS, NUM_CLASSES)
        assert_counts(class_counts(y), LABEL_COUNTS)

    @pytest.mark.parametrize(
        "form",
        ["int", "int-N1", "float", "one-hot", "one-hot-int"],
    )
    @pytest.mark.parametrize(
        "batching",
        ["unbatched", "batch5", "batch4-drop-remainder", "batch1"],
    )
    def test_dataset(self, form, batching):
        y = {
            "int": LABELS,
            "int-N1": LABELS.reshape(-1, 1),
            "float": LABELS.astype("float32"),
            "one-hot": one_hot(LABELS, NUM_CLASSES),
            "one-hot-int": one_hot(LABELS, NUM_CLASSES, "int32"),
        }[form]
        x = np.zeros((len(LABELS), 3), dtype="float32")
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if batching == "batch5":
            ds = ds.batch(5)
        elif batching == "batch4-drop-remainder":
            # Batches of static size 4: rank-1 labels of static width, like an
            # unbatched one-hot row; the first batch is [0, 0, 1, 0].
            ds = ds.batch(4, drop_remainder=True)
        elif batching == "batch1":
            ds = ds.batch(1)
        assert_counts(class_counts(ds), LABEL_COUNTS)

    def test_dataset_with_sample_weight(self):
        x = np.zeros((len(LABELS), 2), dtype="float32")
        w = np.linspace(0.1, 1.0, len(LABELS)).astype("float32")
        ds = tf.data.Dataset.from_tensor_slices((x, LABELS, w)).batch(5)
        assert_counts(class_counts(ds), LABEL_COUNTS)

    def test_dataset_matches_array(self):
        masks = np.random.default_rng(2).integers(0, 4, size=(6, 5, 5))
        x = np.zeros((6, 5, 5, 1), dtype="float32")
        ds = tf.data.Dataset.from_tensor_slices((x, masks)).batch(4)
        assert_counts(class_counts(ds), class_counts(masks))

    def test_num_classes_pads(self):
        assert_counts(class_counts([0, 1, 1], num_classes=5), [1, 2, 0, 0, 0])
        assert_counts(class_counts(LABELS, num_classes=6), [6, 3, 2, 1, 0, 0])

    def test_num_classes_pads_dataset(self):
        ds = tf.data.Dataset.from_tensor_slices((np.zeros((3, 1)), [0, 1, 1]))
        assert_counts(class_counts(ds, num_classes=4), [1, 2, 0, 0])
        assert_counts(class_counts(ds.batch(2), num_classes=4), [1, 2, 0, 0])

    def test_ignore_class(self):
        y = np.array([0, 255, 1, 1, 255, 2])
        assert_counts(class_counts(y, ignore_class=255), [1, 2, 1])
        assert_counts(class_counts(y, num_classes=4, ignore_class=255), [1, 2, 1, 0])
        assert_counts(class_counts(y.reshape(2, 3), ignore_class=255), [1, 2, 1])

    def test_ignore_class_inside_the_class_range(self):
        assert_counts(class_counts([0, 0, 1, 2, 2], ignore_class=0), [0, 1, 2])

    def test_ignore_class_one_hot(self):
        # A one-hot row of the ignored class is ignored, as in the losses.
        y = one_hot([0, 0, 1, 2], 3)
        assert_counts(class_counts(y, ignore_class=0), [0, 1, 1])
        assert_counts(class_counts(y, ignore_class=255), [2, 1, 1])

    def test_ignore_class_dataset(self):
        masks = np.array(
            [
                [[0, 1], [255, 1]],
                [[255, 255], [255, 255]],  # an all-void mask is no error
                [[2, 255], [0, 0]],
            ]
        )
        x = np.zeros((3, 2, 2, 1), dtype="float32")
        ds = tf.data.Dataset.from_tensor_slices((x, masks))
        expected = [3, 2, 1]
        assert_counts(class_counts(ds, ignore_class=255), expected)
        assert_counts(class_counts(ds.batch(2), ignore_class=255), expected)
        assert_counts(class_counts(ds.batch(1), ignore_class=255), expected)


class TestComputeClassWeights:
    @pytest.mark.parametrize(
        "labels",
        [
            LABELS,
            [0, 1],
            [3, 3, 3, 0],
            [0] * 95 + [1] * 4 + [2],
            np.random.default_rng(3).integers(0, 10, size=500),
        ],
    )
    def test_balanced_matches_sklearn(self, labels):
        labels = np.asarray(labels)
        classes = np.unique(labels)
        expected = compute_class_weight("balanced", classes=classes, y=labels)
        weights = compute_class_weights(class_counts(labels))
        np.testing.assert_allclose(weights[classes], expected, rtol=1e-12)
        absent = np.setdiff1d(np.arange(weights.size), classes)
        np.testing.assert_array_equal(weights[absent], 0.0)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(0, 9), min_size=1, max_size=200))
    def test_balanced_matches_sklearn_property(self, labels):
        labels = np.asarray(labels)
        classes = np.unique(labels)
        counts = class_counts(labels, num_classes=10)
        weights = compute_class_weights(counts)
        expected = compute_class_weight("balanced", classes=classes, y=labels)
        np.testing.assert_allclose(weights[classes], expected, rtol=1e-12)
        # Empty classes get 0; reweighted, every present class has the same
        # total weight, and the total is the number of samples.
        np.testing.assert_array_equal(weights[counts == 0], 0.0)
        totals = weights * counts
        np.testing.assert_allclose(totals[counts > 0], labels.size / classes.size)
        np.testing.assert_allclose(totals.sum(), labels.size, rtol=1e-12)

    @pytest.mark.parametrize(
        "counts", [[500, 120, 30, 7, 1], [10, 10], [1, 2, 3, 4, 5, 6], [4000, 1]]
    )
    def test_inverse(self, counts):
        weights = compute_class_weights(counts, method="inverse")
        np.testing.assert_allclose(weights, inverse_reference(counts), rtol=1e-12)
        np.testing.assert_allclose(weights.sum(), len(counts), rtol=1e-12)

    @pytest.mark.parametrize(
        "counts", [[500, 120, 30, 7, 1], [10, 10], [1, 2, 3, 4, 5, 6], [4000, 1]]
    )
    def test_sqrt_inverse(self, counts):
        weights = compute_class_weights(counts, method="sqrt_inverse")
        np.testing.assert_allclose(weights, sqrt_inverse_reference(counts), rtol=1e-12)
        np.testing.assert_allclose(weights.sum(), len(counts), rtol=1e-12)

    @pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999])
    @pytest.mark.parametrize("counts", [[500, 120, 30, 7, 1], [4000, 1], [3, 3, 3]])
    def test_effective_number(self, counts, beta):
        weights = compute_class_weights(counts, method="effective_number", beta=beta)
        expected = effective_number_reference(counts, beta)
        np.testing.assert_allclose(weights, expected, rtol=1e-10)
        np.testing.assert_allclose(weights.sum(), len(counts), rtol=1e-12)

    def test_effective_number_default_beta_is_0_999(self):
        counts = [500, 120, 30, 7, 1]
        np.testing.assert_allclose(
            compute_class_weights(counts, method="effective_number"),
            effective_number_reference(counts, 0.999),
            rtol=1e-10,
        )

    def test_effective_number_beta_zero_gives_ones(self):
        weights = compute_class_weights(
            [500, 120, 30, 7, 1], method="effective_number", beta=0.0
        )
        np.testing.assert_array_equal(weights, np.ones(5))

    def test_effective_number_tends_to_inverse(self):
        counts = [500, 120, 30, 7, 1]
        inverse = compute_class_weights(counts, method="inverse")
        distances = [
            np.abs(
                compute_class_weights(counts, method="effective_number", beta=beta)
                - inverse
            ).max()
            for beta in (0.9, 0.99, 0.999, 0.9999, 1 - 1e-7)
        ]
        assert all(a > b for a, b in zip(distances, distances[1:])), distances
        np.testing.assert_allclose(
            compute_class_weights(counts, method="effective_number", beta=1 - 1e-7),
            inverse,
            rtol=1e-4,
        )

    @pytest.mark.parametrize(
        "method", ["balanced", "inverse", "sqrt_inverse", "effective_number"]
    )
    def test_empty_classes_get_zero(self, method):
        counts = [40, 0, 10, 0, 3]
        weights = compute_class_weights(counts, method=method, beta=0.99)
        np.testing.assert_array_equal(weights[[1, 3]], 0.0)
        # The present classes are weighted as if the empty ones did not exist.
        present = compute_class_weights([40, 10, 3], method=method, beta=0.99)
        np.testing.assert_allclose(weights[[0, 2, 4]], present, rtol=1e-12)

    @pytest.mark.parametrize(
        "method", ["balanced", "inverse", "sqrt_inverse", "effective_number"]
    )
    def test_rarer_classes_weigh_more(self, method):
        weights = compute_class_weights([500, 120, 30, 7, 1], method=method)
        assert np.all(np.diff(weights) > 0)

    @pytest.mark.parametrize(
        "method", ["balanced", "inverse", "sqrt_inverse", "effective_number"]
    )
    def test_balanced_counts_give_ones(self, method):
        weights = compute_class_weights([25, 25, 25], method=method)
        np.testing.assert_allclose(weights, np.ones(3), rtol=1e-12)

    def test_counts_forms(self):
        expected = compute_class_weights(LABEL_COUNTS)
        assert expected.dtype == np.float64 and expected.shape == (NUM_CLASSES,)
        for counts in (
            LABEL_COUNTS.tolist(),
            tuple(LABEL_COUNTS),
            LABEL_COUNTS.astype("float32"),
            tf.constant(LABEL_COUNTS),
        ):
            np.testing.assert_allclose(compute_class_weights(counts), expected)

    def test_as_dict(self):
        weights = compute_class_weights([30, 10, 0], as_dict=True)
        assert weights == {0: pytest.approx(2 / 3), 1: 2.0, 2: 0.0}
        assert all(type(k) is int and type(v) is float for k, v in weights.items())
        counts = [30, 10, 0]
        array = compute_class_weights(counts, method="sqrt_inverse")
        as_dict = compute_class_weights(counts, method="sqrt_inverse", as_dict=True)
        assert as_dict == dict(enumerate(array.tolist()))


@pytest.fixture(scope="module")
def tiny_classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


@pytest.mark.slow
def test_as_dict_is_accepted_by_fit(tiny_classifier):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(20, 4)).astype("float32")
    y = np.array([0] * 14 + [1] * 5 + [2])
    weights = compute_class_weights(class_counts(y), as_dict=True)
    history = tiny_classifier.fit(
        x, y, class_weight=weights, epochs=1, batch_size=8, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])


class TestClassPriors:
    def test_values(self):
        priors = class_priors([3, 1, 0])
        np.testing.assert_allclose(priors, [0.75, 0.25, 0.0])
        assert priors.dtype == np.float64

    def test_matches_label_frequencies(self):
        priors = class_priors(class_counts(LABELS))
        np.testing.assert_allclose(priors, LABEL_COUNTS / LABELS.size)
        np.testing.assert_allclose(priors.sum(), 1.0)


class TestImbalanceRatio:
    @pytest.mark.parametrize(
        "counts, expected",
        [
            ([500, 50, 5], 100.0),
            ([500, 50, 5, 0], 100.0),  # empty classes are left out
            ([0, 7, 7], 1.0),
            ([3, 12], 4.0),
            ([9], 1.0),
        ],
    )
    def test_values(self, counts, expected):
        ratio = imbalance_ratio(counts)
        assert type(ratio) is float
        assert ratio == pytest.approx(expected)

    def test_from_labels(self):
        assert imbalance_ratio(class_counts(LABELS)) == pytest.approx(6.0)


def _empty_dataset():
    return tf.data.Dataset.from_tensor_slices(
        (np.zeros((0, 2), dtype="float32"), np.zeros((0,), dtype="int64"))
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: class_counts([0, -1, 2]), "non-negative class ids"),
        (lambda: class_counts(np.array([[1, -2]])), "non-negative class ids"),
        (lambda: class_counts([0, 1, 3], num_classes=3), "num_classes=3"),
        (lambda: class_counts(tf.constant([5]), num_classes=2), "num_classes=2"),
        (lambda: class_counts([]), "empty labels"),
        (lambda: class_counts(np.zeros((0, 1))), "empty labels"),
        (lambda: class_counts(_empty_dataset()), "yielded no labels"),
        (lambda: class_counts([0.0, 1.5, 2.0]), "sample 1 has the label 1.5"),
        (lambda: class_counts([0.0, np.nan]), "sample 1 has the label nan"),
        (lambda: class_counts([7, 7], ignore_class=7), "ignore_class=7"),
        (lambda: class_counts([0, 1], num_classes=0), "argument `num_classes`"),
        (lambda: class_counts([0, 1], ignore_class=1.5), "argument `ignore_class`"),
        (
            lambda: compute_class_weights([5, 1], "effective_number", beta=-0.1),
            "argument `beta`. Expected a float in [0, 1)",
        ),
        (
            lambda: compute_class_weights([5, 1], "effective_number", beta=1.0),
            "argument `beta`. Expected a float in [0, 1)",
        ),
        (
            lambda: compute_class_weights([5, 1], "effective_number", beta=1.5),
            "beta=1.5",
        ),
        (lambda: compute_class_weights([5, 1], method="focal"), "method='focal'"),
        (lambda: compute_class_weights([5, 1], method="Balanced"), "`method`"),
        (lambda: compute_class_weights([5, -1]), "argument `counts`"),
        (lambda: compute_class_weights([0, 0, 0]), "not all zero"),
        (lambda: compute_class_weights([]), "argument `counts`"),
        (lambda: compute_class_weights([[5, 1]]), "argument `counts`"),
        (lambda: compute_class_weights([5, np.inf]), "argument `counts`"),
        (lambda: class_priors([3, -1]), "argument `counts`"),
        (lambda: class_priors([0, 0]), "not all zero"),
        (lambda: imbalance_ratio([-4, 2]), "argument `counts`"),
        (lambda: imbalance_ratio([0, 0]), "not all zero"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
