"""`rebalance`: one pass per epoch at any number of classes, the shuffle
buffer, element forms, and `class_counts` that disagree with the stream.

The statistical tests shared with the old design (target distribution,
reachability, floor/ceil copies, seeding, progressive) are in
`test_sampling.py`.
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf
from scipy.stats import chisquare, spearmanr

from keras_imbalance.data import rebalance

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

P_MIN = 1e-3


def long_tail(num_classes, ratio, n_max):
    profile = float(ratio) ** (-np.arange(num_classes) / (num_classes - 1))
    return np.maximum(1, np.round(n_max * profile)).astype("int64")


def stream_of(counts, *, seed=0, shuffled=True):
    """A stream of `(x, y)`, `x = [id, noise]`, with the given class counts."""
    y = np.repeat(np.arange(len(counts)), counts)
    if shuffled:
        y = np.random.default_rng(seed).permutation(y)
    x = np.stack([np.arange(y.size), np.zeros(y.size)], axis=1).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)), y


def epoch_ids(dataset):
    """Stream ids of one epoch, in output order."""
    return np.concatenate(
        [np.asarray(xb)[:, 0].astype(int) for xb, *_ in dataset.batch(4096)]
    )


def assert_floor_or_ceil(ids, y, counts):
    """Class c supplies its elements floor or ceil of D_c / n_c times each."""
    uses = np.bincount(ids, minlength=y.size)
    for c, n_c in enumerate(counts):
        drawn = uses[y == c]
        assert set(drawn) <= {drawn.sum() // n_c, -(-drawn.sum() // n_c)}, c


class TestManyClasses:
    COUNTS = long_tail(500, 100, 60)  # 500 classes, imbalance ratio 60

    def test_one_pass_over_the_stream_per_epoch(self):
        stream, y = stream_of(self.COUNTS)
        reads = tf.Variable(0, dtype=tf.int64)

        def count(x, label):
            reads.assign_add(1)
            return x, label

        out = rebalance(
            stream.map(count),
            num_classes=self.COUNTS.size,
            class_counts=self.COUNTS,
            seed=0,
        )
        assert int(reads.numpy()) == 0  # nothing is read to build it
        epochs = [epoch_ids(out) for _ in range(3)]
        # The old design read the stream (through a filter) once per class.
        assert int(reads.numpy()) == 3 * y.size
        for ids in epochs:
            assert ids.size == y.size
            assert_floor_or_ceil(ids, y, self.COUNTS)
        observed = np.bincount(y[np.concatenate(epochs)], minlength=self.COUNTS.size)
        assert chisquare(observed).pvalue > P_MIN

    def test_imbalance_ratio_1000_at_1000_classes(self):
        counts = long_tail(1000, 1000, 40)
        stream, y = stream_of(counts)
        out = rebalance(stream, num_classes=1000, class_counts=counts, seed=3)
        assert int(out.cardinality()) == y.size
        ids = epoch_ids(out)
        assert ids.size == y.size
        assert_floor_or_ceil(ids, y, counts)
        # Balanced: the 1-element tail classes come out about N / C times.
        tail = np.bincount(ids, minlength=y.size)[y == 999]
        assert 0 < tail.sum() < 4 * y.size / 1000


class TestShuffleBuffer:
    COUNTS = np.array([900, 300, 100, 40])

    def test_default_is_documented(self):
        default = inspect.signature(rebalance).parameters["shuffle_buffer"].default
        assert default == 10_000
        assert "shuffle_buffer" in rebalance.__doc__

    def test_a_buffer_of_the_epoch_shuffles_a_sorted_stream(self):
        stream, y = stream_of(self.COUNTS, shuffled=False)
        out = rebalance(stream, num_classes=4, shuffle_buffer=y.size, seed=0)
        ids = epoch_ids(out)
        assert abs(spearmanr(np.arange(ids.size), ids).statistic) < 0.1
        # ... and every chunk of the epoch holds every class.
        for part in np.array_split(y[ids], 4):
            assert set(part) == {0, 1, 2, 3}

    def test_a_small_buffer_keeps_the_stream_order_roughly(self):
        # What the docstring warns of: a sorted stream stays sorted, up to
        # the buffer and the chunk of 256 elements read at a time.
        counts = 5 * self.COUNTS
        stream, y = stream_of(counts, shuffled=False)
        out = rebalance(stream, num_classes=4, shuffle_buffer=64, seed=0)
        ids = epoch_ids(out)
        assert spearmanr(np.arange(ids.size), ids).statistic > 0.9
        assert_floor_or_ceil(ids, y, counts)

    @pytest.mark.parametrize("buffer", [1, 7, 5000])
    def test_totals_whatever_the_buffer(self, buffer):
        stream, y = stream_of(self.COUNTS)
        out = rebalance(stream, num_classes=4, shuffle_buffer=buffer, seed=1)
        for _ in range(2):
            ids = epoch_ids(out)
            assert ids.size == y.size
            assert_floor_or_ceil(ids, y, self.COUNTS)

    @pytest.mark.parametrize("buffer", [0, -3, 2.5, None, "10"])
    def test_bad_buffer(self, buffer):
        stream, _ = stream_of(self.COUNTS)
        with pytest.raises(
            ValueError, match="Invalid value for argument `shuffle_buffer`"
        ):
            rebalance(stream, num_classes=4, shuffle_buffer=buffer)


class TestElementForms:
    def test_static_element_spec_is_kept(self):
        x = np.zeros((6, 2, 3), "float16")
        stream = tf.data.Dataset.from_tensor_slices(
            ({"a": x, "b": np.arange(6)}, np.array([[0]] * 4 + [[1]] * 2, "int32"))
        )
        out = rebalance(stream, num_classes=2, seed=0)
        assert out.element_spec == stream.element_spec
        for features, label in out:
            assert label.shape == (1,) and features["a"].dtype == tf.float16

    def test_strings_pass_through(self):
        # e.g. file names, decoded after re-sampling to keep the buffer small.
        names = np.array([f"img_{i}.png" for i in range(8)])
        labels = np.array([0] * 6 + [1] * 2)
        stream = tf.data.Dataset.from_tensor_slices((names, labels))
        for name, label in rebalance(stream, num_classes=2, seed=0):
            i = int(name.numpy().decode()[4:-4])
            assert labels[i] == int(label)

    def test_variable_length_elements(self):
        labels = np.array([0] * 6 + [1] * 3)

        def generate():
            for i, c in enumerate(labels):
                yield np.full(i % 3 + 1, i, "float32"), c

        stream = tf.data.Dataset.from_generator(
            generate,
            output_signature=(
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((), tf.int64),
            ),
        )
        out = rebalance(stream, num_classes=2, seed=0)
        assert out.element_spec == stream.element_spec
        ids = []
        for x, label in out.repeat(4):
            i = int(x[0])
            assert x.shape == (i % 3 + 1,) and int(label) == labels[i]
            ids.append(i)
        assert len(ids) == 4 * labels.size
        assert set(ids) == set(range(labels.size))

    def test_ragged_elements_and_sample_weights(self):
        x = tf.ragged.constant(
            [[[0.0], [0.0, 0.0]], [[1.0]], [[2.0, 2.0]], [[3.0]]], ragged_rank=2
        )
        stream = tf.data.Dataset.from_tensor_slices(
            (x, [0, 0, 0, 1], [10.0, 11.0, 12.0, 13.0])
        )
        out = rebalance(stream, num_classes=2, seed=0)
        assert out.element_spec == stream.element_spec
        for value, label, weight in out.repeat(3):
            i = int(value.flat_values[0])
            assert float(weight) == 10 + i and int(label) == (i == 3)

    def test_one_hot_labels_with_sample_weights(self):
        y = np.array([0] * 9 + [1] * 3 + [2] * 2)
        x = np.arange(y.size, dtype="float32")[:, None]
        stream = tf.data.Dataset.from_tensor_slices(
            (x, np.eye(3, dtype="float32")[y], x[:, 0] * 2)
        )
        out = rebalance(stream, num_classes=3, seed=0)
        for xe, ye, we in out:
            i = int(xe[0])
            assert int(np.argmax(ye)) == y[i] and float(we) == 2 * i


class TestCountsThatDisagree:
    """Counts that are not the stream's raise in data terms, in the pass."""

    TRUE = [6, 4, 3, 2]

    @pytest.mark.parametrize(
        "counts, match",
        [
            (
                [6, 4, 2, 2],
                r"class 2 has more elements in the stream than "
                r"class_counts\[2\] = 2 \(its element number 3 just arrived\)",
            ),
            (
                [6, 4, 3, 0],
                r"class 3 has more elements in the stream than class_counts\[3\] = 0",
            ),
            (
                [6, 6, 3, 2],
                r"class 1 has 4 elements in the stream but class_counts\[1\] = 6 "
                r"\(1 of 4 classes disagree",
            ),
            (
                [7, 4, 5, 2],
                r"class 0 has 6 elements in the stream but class_counts\[0\] = 7 "
                r"\(2 of 4 classes disagree",
            ),
        ],
    )
    def test_message_names_the_class(self, counts, match):
        stream, _ = stream_of(self.TRUE)
        out = rebalance(stream, num_classes=4, class_counts=counts, seed=0)
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            epoch_ids(out)

    def test_a_class_missing_from_the_stream(self):
        stream, _ = stream_of(self.TRUE)
        out = rebalance(
            stream, num_classes=5, class_counts=[*self.TRUE, 3], sampling="instance"
        )
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"class 4 has 0 elements in the stream but class_counts\[4\] = 3",
        ):
            epoch_ids(out)

    def test_caught_on_the_variable_length_path_too(self):
        def generate():
            for c in [0, 0, 1, 1, 1]:
                yield np.zeros(c + 1, "float32"), c

        stream = tf.data.Dataset.from_generator(
            generate,
            output_signature=(
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((), tf.int32),
            ),
        )
        out = rebalance(stream, num_classes=2, class_counts=[2, 2], seed=0)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"class 1 has more elements in the stream than class_counts\[1\]",
        ):
            list(out)

    def test_true_counts_pass_in_every_form(self):
        stream, _ = stream_of(self.TRUE)
        for counts in (self.TRUE, tuple(self.TRUE), np.array(self.TRUE)):
            out = rebalance(stream, num_classes=4, class_counts=counts, seed=0)
            assert epoch_ids(out).size == sum(self.TRUE)

    def test_out_of_range_label_names_it(self):
        stream = tf.data.Dataset.from_tensor_slices(([[0.0], [1.0]], [0, 7]))
        out = rebalance(stream, num_classes=2, class_counts=[1, 1], seed=0)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"a label is outside \[0, 1\] \(num_classes=2\): found the label 7",
        ):
            list(out)
