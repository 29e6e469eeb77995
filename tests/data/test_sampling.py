"""Re-sampling pipelines: target distributions, determinism, fit, errors.

Here `sampling_weights` and `rebalance`; `balanced_dataset` and
`bilateral_dataset` are tested in `test_balanced_dataset.py`.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_imbalance.data.sampling import (
    ProgressiveSampling,
    rebalance,
    sampling_weights,
)
from tests.data.sampling_fixtures import (
    COUNTS,
    StepCounter,
    assert_matches,
    histogram,
    make_data,
    small_model,
)


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


def test_progressive_needs_total_epochs():
    with pytest.raises(ValueError, match="`total_epochs`"):
        sampling_weights([3, 1], "progressive", epoch=1)
    with pytest.raises(ValueError, match="sampling='progressive' only"):
        sampling_weights([3, 1], "balanced", epoch=1)


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
