"""`balanced_dataset` and `bilateral_dataset`: histograms, determinism, fit, errors."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.data.sampling import (
    ProgressiveSampling,
    balanced_dataset,
    bilateral_dataset,
    sampling_weights,
)
from tests.data.sampling_fixtures import (
    COUNTS,
    NUM_CLASSES,
    StepCounter,
    assert_matches,
    histogram,
    make_data,
    small_model,
)


def epoch_batches(dataset):
    return [tuple(np.asarray(t) for t in batch) for batch in dataset]


def labels_of(dataset):
    return np.concatenate([np.asarray(y) for _, y in dataset])


@pytest.fixture(scope="module")
def data():
    return make_data()


class TestBalancedDataset:
    @pytest.mark.parametrize(
        "sampling",
        ["instance", "balanced", "sqrt", "reversed", [4, 3, 2, 1, 1], {1: 5, 3: 0}],
    )
    def test_histogram_matches_target(self, data, sampling):
        x, y = data
        ds = balanced_dataset(
            x, y, batch_size=32, sampling=sampling, steps_per_epoch=200, seed=1
        )
        observed = histogram(labels_of(ds))
        assert observed.sum() == 200 * 32
        assert_matches(observed, sampling_weights(COUNTS, sampling))

    def test_instance_reproduces_data_distribution(self, data):
        x, y = data
        ds = balanced_dataset(
            x, y, batch_size=32, sampling="instance", steps_per_epoch=200, seed=2
        )
        assert_matches(histogram(labels_of(ds)), np.bincount(y))

    def test_progressive_histogram_at_each_epoch(self, data):
        x, y = data
        ds = balanced_dataset(
            x, y, batch_size=32, sampling="progressive", steps_per_epoch=200, seed=3
        )
        schedule = ProgressiveSampling(ds, total_epochs=4)
        for epoch in (0, 2, 4):
            schedule.on_epoch_begin(epoch)
            assert_matches(
                histogram(labels_of(ds)),
                sampling_weights(COUNTS, "progressive", epoch, total_epochs=4),
            )

    def test_every_sample_of_a_rare_class_is_drawn(self, data):
        x, y = data
        rare = np.flatnonzero(y == NUM_CLASSES - 1)
        ds = balanced_dataset(x, y, batch_size=32, seed=4)
        seen = set()
        for _ in range(3):
            for xb, yb in ds:
                seen.update(np.asarray(xb)[np.asarray(yb) == NUM_CLASSES - 1, 0])
        assert seen == set(rare.astype("float32"))

    def test_batches_are_the_samples_they_claim(self, data):
        x, y = data
        for xb, yb in balanced_dataset(x, y, batch_size=16, seed=5):
            ids = np.asarray(xb)[:, 0].astype(int)
            np.testing.assert_array_equal(x[ids], xb)
            np.testing.assert_array_equal(y[ids], yb)

    def test_same_seed_same_first_epoch(self, data):
        x, y = data
        first = epoch_batches(balanced_dataset(x, y, batch_size=32, seed=7))
        ds = balanced_dataset(x, y, batch_size=32, seed=7)
        # TensorFlow's global seed plays no part.
        keras.utils.set_random_seed(1234)
        second = epoch_batches(ds)
        assert len(first) == len(second) == math.ceil(len(y) / 32)
        for (x1, y1), (x2, y2) in zip(first, second):
            np.testing.assert_array_equal(x1, x2)
            np.testing.assert_array_equal(y1, y2)

    def test_different_seed_different_batches(self, data):
        x, y = data
        a = labels_of(balanced_dataset(x, y, batch_size=32, seed=7))
        b = labels_of(balanced_dataset(x, y, batch_size=32, seed=8))
        assert not np.array_equal(a, b)

    def test_epochs_differ(self, data):
        x, y = data
        ds = balanced_dataset(x, y, batch_size=32, seed=9)
        first, second = labels_of(ds), labels_of(ds)
        assert first.shape == second.shape
        assert not np.array_equal(first, second)

    def test_label_forms_are_kept(self, data):
        x, y = data
        one_hot = np.eye(NUM_CLASSES, dtype="float32")[y]
        _, yb = next(iter(balanced_dataset(x, one_hot, batch_size=8, seed=0)))
        assert yb.shape == (8, NUM_CLASSES) and yb.dtype == tf.float32
        column = y[:, None].astype("int32")
        _, yb = next(iter(balanced_dataset(x, column, batch_size=8, seed=0)))
        assert yb.shape == (8, 1) and yb.dtype == tf.int32

    def test_dict_inputs(self, data):
        x, y = data
        inputs = {"a": x, "b": x[:, :2] * 2}
        xb, yb = next(iter(balanced_dataset(inputs, y, batch_size=8, seed=0)))
        assert set(xb) == {"a", "b"}
        np.testing.assert_array_equal(xb["b"], xb["a"][:, :2] * 2)

    def test_cardinality_and_steps(self, data):
        x, y = data
        ds = balanced_dataset(x, y, batch_size=100, seed=0)
        assert int(ds.cardinality()) == math.ceil(len(y) / 100)
        ds = balanced_dataset(x, y, batch_size=100, steps_per_epoch=3, seed=0)
        assert int(ds.cardinality()) == 3 and len(list(ds)) == 3

    def test_num_classes_with_missing_classes(self):
        x, y = make_data([5, 3])
        ds = balanced_dataset(
            x, y, batch_size=10, num_classes=4, steps_per_epoch=20, seed=0
        )
        assert set(np.unique(labels_of(ds))) == {0, 1}


@pytest.mark.parametrize("form", ["array_sparse", "dict_one_hot"])
def test_fit_without_steps_per_epoch(data, form):
    x, y = data
    if form == "dict_one_hot":
        x = {"a": x, "b": x[:, :2]}
        y = np.eye(NUM_CLASSES, dtype="float32")[y]
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = small_model(x)
    model.compile(optimizer="sgd", loss=loss)
    counter = StepCounter()
    ds = balanced_dataset(x, y, batch_size=128, seed=0)
    history = model.fit(ds, epochs=2, verbose=0, callbacks=[counter])
    assert len(history.history["loss"]) == 2
    assert counter.steps == math.ceil(len(data[1]) / 128)


@pytest.mark.slow
def test_progressive_distribution_moves_inside_fit(data):
    x, y = data
    seen = {}

    class Recorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            seen[epoch] = []

    recorder = Recorder()

    def recording_loss(y_true, y_pred):
        seen[recorder.epoch].append(keras.ops.convert_to_numpy(y_true))
        return keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=True
        )

    model = small_model(x)
    model.compile(optimizer="sgd", loss=recording_loss, run_eagerly=True)
    ds = balanced_dataset(
        x, y, batch_size=128, sampling="progressive", steps_per_epoch=25, seed=0
    )
    model.fit(ds, epochs=3, verbose=0, callbacks=[recorder, ProgressiveSampling(ds, 2)])
    tail = []
    for epoch in range(3):
        observed = histogram(np.concatenate(seen[epoch]).astype(int))
        assert observed.sum() == 25 * 128
        assert_matches(observed, sampling_weights(COUNTS, "progressive", epoch, 2))
        tail.append(observed[1:].sum() / observed.sum())
    # The head class's share falls from ~70% (instance) to 20% (balanced).
    assert tail[0] < 0.4 < tail[1] < 0.7 < tail[2]


class TestBilateralDataset:
    def test_branches_follow_instance_and_reversed(self, data):
        x, y = data
        ds = bilateral_dataset(x, y, batch_size=256, seed=0)
        conventional, rebalancing = [], []
        for _ in range(8):
            for (x_c, x_r), (y_c, y_r) in ds:
                np.testing.assert_array_equal(y[np.asarray(x_c)[:, 0].astype(int)], y_c)
                np.testing.assert_array_equal(y[np.asarray(x_r)[:, 0].astype(int)], y_r)
                conventional.append(np.asarray(y_c))
                rebalancing.append(np.asarray(y_r))
        assert_matches(histogram(np.concatenate(conventional)), COUNTS)
        assert_matches(
            histogram(np.concatenate(rebalancing)),
            sampling_weights(COUNTS, "reversed"),
        )

    def test_fits_the_bbn_train_model(self, data):
        from keras_imbalance.callbacks import CumulativeLearning
        from keras_imbalance.models import build_bilateral_branch_network

        x, y = data
        train_model, _ = build_bilateral_branch_network(
            (x.shape[1],), NUM_CLASSES, width=4, depth=2
        )
        train_model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        ds = bilateral_dataset(x, y, batch_size=128, seed=0)
        history = train_model.fit(
            ds, epochs=1, verbose=0, callbacks=[CumulativeLearning(1)]
        )
        assert np.isfinite(history.history["loss"][0])


# -- errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sampling": "uniform"}, "Invalid value for argument `sampling`"),
        ({"sampling": 0.5}, "Invalid value for argument `sampling`"),
        ({"sampling": [1, -1, 1, 1, 1]}, "non-negative weights"),
        ({"sampling": [1, 2]}, "5 classes, but 2 weights"),
        ({"sampling": {9: 1.0}}, r"dict keys in \[0, 4\]"),
        ({"sampling": [0, 0, 0, 0, 0]}, "weight 0 to every class"),
        ({"sampling": "progressive", "num_classes": 0}, "`num_classes`"),
        ({"batch_size": 0}, "Expected a positive integer. Received: batch_size=0"),
        ({"batch_size": 2.5}, "Invalid value for argument `batch_size`"),
        ({"steps_per_epoch": 0}, "Invalid value for argument `steps_per_epoch`"),
        ({"seed": -1}, "Invalid value for argument `seed`"),
        ({"num_classes": 3}, "Found the label 4, but num_classes=3"),
    ],
)
def test_balanced_dataset_errors(data, kwargs, match):
    x, y = data
    kwargs = {"batch_size": 8, **kwargs}
    with pytest.raises(ValueError, match=match):
        balanced_dataset(x, y, **kwargs)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.zeros((5, 2)), np.zeros(4, int), "x has 5 and y has 4"),
        ({"a": np.zeros((5, 2)), "b": np.zeros((4, 2))}, np.zeros(5, int), "same"),
        (np.zeros((3, 2)), np.array([0, -1, 1]), "non-negative class ids"),
        (np.zeros((2, 2)), np.array([[0, 3], [1, 2]]), "one label per sample"),
        (np.zeros((2, 2)), np.array([0.5, 1.0]), "non-integer label"),
        (np.zeros((0, 2)), np.zeros(0, int), "empty"),
    ],
)
def test_bad_data(x, y, match):
    with pytest.raises(ValueError, match=match):
        balanced_dataset(x, y, batch_size=2)


def test_weight_on_an_empty_class():
    x, y = make_data([5, 5])
    with pytest.raises(ValueError, match="Class 2 has no samples"):
        balanced_dataset(x, y, batch_size=2, num_classes=3, sampling=[1, 1, 1])


def test_progressive_sampling_errors(data):
    x, y = data
    ds = balanced_dataset(x, y, batch_size=8, sampling="balanced")
    with pytest.raises(ValueError, match="built with sampling='progressive'"):
        ProgressiveSampling(ds, 10)
    ds = balanced_dataset(x, y, batch_size=8, sampling="progressive")
    with pytest.raises(ValueError, match="a transformed copy"):
        ProgressiveSampling(ds.map(lambda a, b: (a, b)), 10)
    with pytest.raises(ValueError, match="`total_epochs`"):
        ProgressiveSampling(ds, 0)
