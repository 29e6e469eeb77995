"""Re-sampling pipelines: target distributions, determinism, fit, errors."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from keras_imbalance.data.sampling import (
    ProgressiveSampling,
    balanced_dataset,
    bilateral_dataset,
    rebalance,
    sampling_weights,
)

COUNTS = np.array([500, 150, 45, 13, 4])  # imbalance ratio 125
NUM_CLASSES = COUNTS.size
P_MIN = 1e-3  # chi-square: reject only a clear mismatch (fixed seeds)


def make_data(counts=COUNTS, features=3, seed=0):
    """Shuffled labels with the given counts; x[i, 0] is the sample's id."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    x = rng.standard_normal((y.size, features)).astype("float32")
    x[:, 0] = np.arange(y.size)
    return x, y


def histogram(labels, num_classes=NUM_CLASSES):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    return np.bincount(labels.ravel(), minlength=num_classes)


def assert_matches(observed, probabilities):
    """Chi-square goodness of fit over the classes that can be drawn."""
    observed = np.asarray(observed)
    probabilities = np.asarray(probabilities, dtype="float64")
    assert np.all(observed[probabilities == 0] == 0)
    keep = probabilities > 0
    expected = probabilities[keep] / probabilities[keep].sum() * observed.sum()
    result = chisquare(observed[keep], expected)
    assert result.pvalue > P_MIN, (observed.tolist(), expected.round(1).tolist())


def epoch_batches(dataset):
    return [tuple(np.asarray(t) for t in batch) for batch in dataset]


def labels_of(dataset):
    return np.concatenate([np.asarray(y) for _, y in dataset])


@pytest.fixture(scope="module")
def data():
    return make_data()


class TestSamplingWeights:
    @pytest.mark.parametrize(
        "sampling, expected",
        [
            ("instance", COUNTS / COUNTS.sum()),
            ("balanced", np.full(5, 0.2)),
            ("sqrt", np.sqrt(COUNTS) / np.sqrt(COUNTS).sum()),
            ("reversed", (1 / COUNTS) / (1 / COUNTS).sum()),
            ([1, 1, 2, 0, 4], np.array([1, 1, 2, 0, 4]) / 8),
            ({0: 2.0, 4: 6.0}, np.array([2, 1, 1, 1, 6]) / 11),
        ],
    )
    def test_modes(self, sampling, expected):
        np.testing.assert_allclose(sampling_weights(COUNTS, sampling), expected)

    def test_progressive_moves_from_instance_to_balanced(self):
        instance = COUNTS / COUNTS.sum()
        for t in range(6):
            p = sampling_weights(COUNTS, "progressive", epoch=t, total_epochs=4)
            f = min(t / 4, 1.0)
            np.testing.assert_allclose(p, (1 - f) * instance + f * 0.2)

    @settings(max_examples=60, deadline=None)
    @given(
        counts=st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(any),
        mode=st.sampled_from(["instance", "balanced", "sqrt", "reversed"]),
        epoch=st.integers(0, 20),
    )
    def test_a_distribution_over_the_classes_with_samples(self, counts, mode, epoch):
        counts = np.asarray(counts)
        for p in (
            sampling_weights(counts, mode),
            sampling_weights(counts, "progressive", epoch=epoch, total_epochs=10),
        ):
            assert p.shape == counts.shape
            assert p.sum() == pytest.approx(1.0)
            assert np.all(p[counts == 0] == 0) and np.all(p[counts > 0] > 0)

    def test_empty_classes_get_zero(self):
        counts = [10, 0, 5]
        for mode in ("instance", "balanced", "sqrt", "reversed"):
            p = sampling_weights(counts, mode)
            assert p[1] == 0 and p.sum() == pytest.approx(1.0)
        p = sampling_weights(counts, "progressive", epoch=3, total_epochs=3)
        np.testing.assert_allclose(p, [0.5, 0.0, 0.5])


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


def small_model(inputs, num_classes=NUM_CLASSES):
    if isinstance(inputs, dict):
        tensors = {k: keras.Input((v.shape[1],), name=k) for k, v in inputs.items()}
        h = keras.layers.Concatenate()(list(tensors.values()))
    else:
        tensors = keras.Input((inputs.shape[1],))
        h = tensors
    h = keras.layers.Dense(8, activation="relu")(h)
    return keras.Model(tensors, keras.layers.Dense(num_classes)(h))


class StepCounter(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


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


# -- rebalance on a stream of unknown length -------------------------------

STREAM_COUNTS = np.array([12, 6, 3, 2])


def generator_stream(counts=STREAM_COUNTS, one_hot=False):
    x, y = make_data(counts, features=2, seed=1)
    labels = np.eye(len(counts), dtype="float32")[y] if one_hot else y

    def generate():
        yield from zip(x, labels)

    label_spec = (
        tf.TensorSpec((len(counts),), tf.float32)
        if one_hot
        else tf.TensorSpec((), tf.int64)
    )
    ds = tf.data.Dataset.from_generator(
        generate, output_signature=(tf.TensorSpec((2,), tf.float32), label_spec)
    )
    return ds, x, y


@pytest.fixture(scope="module")
def rebalanced_epochs():
    stream, x, y = generator_stream()
    assert int(stream.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    out = rebalance(stream, num_classes=4, seed=0)
    assert int(out.cardinality()) == y.size
    epochs, reached = [], set()
    # Enough epochs for the chi-square test and to see every element.
    while len(epochs) < 12 or (len(reached) < y.size and len(epochs) < 40):
        ids = np.array([int(xe[0]) for xe, _ in out.as_numpy_iterator()])
        epochs.append(ids)
        reached.update(ids.tolist())
    return epochs, y


@pytest.mark.slow
class TestRebalance:
    def test_reaches_target_distribution(self, rebalanced_epochs):
        epochs, y = rebalanced_epochs
        assert all(ids.size == y.size for ids in epochs)
        assert_matches(histogram(y[np.concatenate(epochs)], 4), [1, 1, 1, 1])

    def test_every_element_is_reached(self, rebalanced_epochs):
        epochs, y = rebalanced_epochs
        assert set(np.concatenate(epochs)) == set(range(y.size))
        # Within an epoch, a class drawn D_c times repeats each of its n_c
        # elements floor(D_c / n_c) or ceil(D_c / n_c) times.
        for ids in epochs:
            uses = np.bincount(ids, minlength=y.size)
            for c, n_c in enumerate(STREAM_COUNTS):
                drawn = uses[y == c]
                assert set(drawn) <= {drawn.sum() // n_c, -(-drawn.sum() // n_c)}

    def test_epochs_differ_and_seed_repeats(self, rebalanced_epochs):
        epochs, _ = rebalanced_epochs
        assert not np.array_equal(epochs[0], epochs[1])
        stream, _, _ = generator_stream()
        again = rebalance(stream, num_classes=4, seed=0, class_counts=STREAM_COUNTS)
        first = np.array([int(xe[0]) for xe, _ in again.as_numpy_iterator()])
        np.testing.assert_array_equal(first, epochs[0])
        other = rebalance(stream, num_classes=4, seed=1, class_counts=STREAM_COUNTS)
        second = np.array([int(xe[0]) for xe, _ in other.as_numpy_iterator()])
        assert not np.array_equal(second, epochs[0])

    def test_custom_weights_and_one_hot_stream(self):
        stream, _, _ = generator_stream(one_hot=True)
        out = rebalance(
            stream, num_classes=4, sampling=[0, 1, 1, 2], seed=0, class_counts=None
        )
        labels = np.concatenate([y for _, y in out.batch(64).repeat(6)])
        assert labels.shape[1] == 4
        assert_matches(histogram(labels, 4), [0, 1, 1, 2])

    def test_sample_weights_pass_through(self):
        x, y = make_data(STREAM_COUNTS, features=2)
        stream = tf.data.Dataset.from_tensor_slices((x, y, x[:, 0] * 10))
        for xe, ye, we in rebalance(stream, num_classes=4, seed=0):
            assert we == xe[0] * 10 and ye == y[int(xe[0])]

    def test_fit_with_dict_inputs(self):
        x, y = make_data(STREAM_COUNTS, features=2)
        stream = tf.data.Dataset.from_tensor_slices(({"a": x, "b": x[:, :1]}, y))
        out = rebalance(stream, num_classes=4, seed=0).batch(16)
        model = small_model({"a": x, "b": x[:, :1]}, num_classes=4)
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        counter = StepCounter()
        model.fit(out, epochs=2, verbose=0, callbacks=[counter])
        assert counter.steps == math.ceil(y.size / 16)

    def test_progressive(self):
        x, y = make_data(STREAM_COUNTS, features=2)
        stream = tf.data.Dataset.from_tensor_slices((x, y))
        out = rebalance(stream, num_classes=4, sampling="progressive", seed=0)
        schedule = ProgressiveSampling(out, total_epochs=1)
        schedule.on_epoch_begin(1)
        labels = np.concatenate([lab for _, lab in out.batch(23).repeat(20)])
        assert_matches(histogram(labels, 4), [1, 1, 1, 1])

    def test_out_of_range_label_fails_at_run_time(self):
        stream = tf.data.Dataset.from_tensor_slices(([[0.0], [1.0]], [5, 0]))
        out = rebalance(stream, num_classes=2, class_counts=[1, 1], seed=0)
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside"):
            list(out)


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


def test_progressive_needs_total_epochs():
    with pytest.raises(ValueError, match="`total_epochs`"):
        sampling_weights([3, 1], "progressive", epoch=1)
    with pytest.raises(ValueError, match="sampling='progressive' only"):
        sampling_weights([3, 1], "balanced", epoch=1)


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


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_classes": None}, "`num_classes`"),
        ({"class_counts": [1, 2]}, "`class_counts` has 2 entries"),
        ({"class_counts": [1, -2, 1, 1]}, "Invalid value for argument `class_counts`"),
        ({"sampling": "median"}, "Invalid value for argument `sampling`"),
    ],
)
def test_rebalance_errors(kwargs, match):
    stream, _, _ = generator_stream()
    kwargs = {"num_classes": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        rebalance(stream, **kwargs)


def test_rebalance_rejects_batched_and_non_datasets():
    stream, _, _ = generator_stream()
    with pytest.raises(ValueError, match="looks batched"):
        rebalance(stream.batch(4), num_classes=4)
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        rebalance([1, 2, 3], num_classes=4)
