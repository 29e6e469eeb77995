"""`rebalance`: re-sampling a stream without random access, one pass an epoch.

The stream is read once per epoch, in chunks, by one `tf.data.Dataset.scan`
whose state is the per-class count of elements seen so far and a shuffle
buffer. An element's number of copies is a table look-up (its class's
`floor(D_c / n_c)`, plus one when its position in the class is in the epoch's
random subset), so the work per element does not depend on the number of
classes; the per-epoch set-up draws `N` class ids and sorts `N` numbers.
"""

import numpy as np
import tensorflow as tf

from keras_imbalance._validation import (
    check_class_counts,
    check_positive_int,
    invalid,
)
from keras_imbalance.class_weights import class_counts as count_classes
from keras_imbalance.data._elements import check_dataset
from keras_imbalance.data._random import base_key, fold
from keras_imbalance.data._targets import (
    STATE_ATTRIBUTE,
    SamplingState,
    check_sampling,
    check_seed,
    draw_classes,
)

__all__ = ["rebalance"]

# Salt of the stream keys (see `_random.base_key`); the class totals D_c are
# drawn from it as they always were, so a seed gives the totals it gave.
_STREAM_SALT = 3
# Stream elements read by one step of the scan: 256, or buffer / 16 for a
# large buffer (each step moves the whole buffer), up to 8192.
_CHUNK = 256
_MAX_CHUNK = 8192


def rebalance(
    dataset,
    *,
    num_classes,
    sampling="balanced",
    class_counts=None,
    shuffle_buffer=10_000,
    seed=None,
):
    """Re-sample a stream of `(x, y)` elements to a target class distribution.

    For data without random access: any unbatched `tf.data.Dataset` of
    `(x, y)` or `(x, y, sample_weight)` elements, of known or unknown length
    (e.g. `tf.data.Dataset.from_generator`). Nothing is dropped for good,
    unlike `tf.data.Dataset.rejection_resample`: every element stays
    reachable in every epoch.

    One epoch has as many elements as the stream, `N = sum(class_counts)`,
    and reads the stream once:

    1. the class of each of the `N` outputs is drawn independently from the
       target distribution `p` (see `sampling_weights`), which fixes how many
       elements `D_c` class `c` supplies this epoch;
    2. as the stream goes by, each element of class `c` is emitted
       `floor(D_c / n_c)` or `ceil(D_c / n_c)` times: the extra copies go to a
       uniformly random subset of `D_c mod n_c` of the class's `n_c`
       elements, drawn afresh each epoch. Class `c` thus supplies exactly
       `D_c` elements; an under-sampled class gives a fresh random subset
       each epoch;
    3. the copies go through a shuffle buffer of `B = shuffle_buffer`
       elements: the stream is read in chunks of `K = max(256, B // 16)`
       elements (at most 8192); once the buffer is full, each chunk adds its
       copies and as many leave, drawn uniformly from the buffer and the
       new copies together; what is left leaves in random order at the end
       of the pass.

    Order: the output is the stream order mixed by that buffer. An element
    comes out about `B` places after it went in on average (later with a
    geometric tail), and the copies of a repeated element go in together,
    so a tail element repeated `r` times comes out `r` times within a few
    `B` outputs: a batch may hold repeats of it. A stream sorted or grouped
    by class therefore needs a `.shuffle(...)` first or a buffer of the
    order of `N`; `shuffle_buffer >= N` shuffles each epoch uniformly.
    What changed from earlier versions, which built one filtered view of
    the stream per class and interleaved the classes in the drawn order:
    those read the whole stream once per class per epoch (at 1000 classes,
    minutes to build and under one element a second) but mixed the classes
    whatever the stream order; the order now depends on the stream and `B`.
    The exact totals `D_c`, the floor/ceil copies, reachability, seeding,
    the known cardinality and the progressive schedule are as they were
    (for a given seed the totals `D_c` of each epoch are the same numbers).

    Cost: one pass over the stream per epoch, `O(1)` table look-ups per
    element whatever the number of classes, plus, per epoch, `N` uniform
    draws and a sort of `N` numbers for the subsets; each chunk moves the
    buffer once, so the work per element grows like `B / K` (about 16 for
    a large buffer). Memory: the buffer (up to `B` elements plus the copies
    of one chunk, about twice that while a chunk is mixed in) and a few
    arrays of `N` numbers. Keep buffered elements small (rebalance file
    names or encoded records and decode after, or `.cache()` a stream that
    is slow to read); data that fit in memory are faster with
    `balanced_dataset`. Elements whose shapes are not fully static (`None`
    dimensions, ragged components) go through the buffer serialized with
    `tf.io.serialize_tensor`, which is slower but gives the same result.

    Randomness is stateless: the totals, subsets and buffer draws of an
    epoch are a function of `seed` and the epoch number only, not of
    TensorFlow's global seed; every epoch differs from the last.
    `sampling="progressive"` works as in `balanced_dataset`, with the
    `ProgressiveSampling` callback built from the returned dataset.

    `class_counts` must be the stream's true counts. A disagreement is
    detected by the pass that meets it and raises
    `tf.errors.InvalidArgumentError` naming the class: as soon as a class has
    more elements than its count ("class 3 has more elements in the stream
    than class_counts[3] = 5"), and at the end of the pass for a class with
    fewer ("class 2 has 3 elements in the stream but class_counts[2] = 5").
    Nothing is corrected silently. A label outside `[0, num_classes - 1]`
    raises the same error.

    References: Kang et al. 2020 (class-balanced, square-root and
    progressively-balanced sampling, https://arxiv.org/abs/1910.09217);
    Zhou et al. 2020 (BBN's reversed sampling,
    https://arxiv.org/abs/1912.02413).

    Args:
        dataset: An unbatched `tf.data.Dataset` of `(x, y)` or
            `(x, y, sample_weight)`; `y` a class id (shape `()` or `(1,)`) or
            a one-hot row `(num_classes,)`.
        num_classes: Number of classes.
        sampling: Target distribution, as in `balanced_dataset`: a mode
            name, a dict `{class: weight}` or a sequence (list, tuple, NumPy
            array) of weights. Defaults to `"balanced"`.
        class_counts: The stream's count of each class, a sequence (list,
            tuple, NumPy array). Defaults to `None`: counted in one pass with
            `keras_imbalance.class_counts`.
        shuffle_buffer: Elements held to mix the output (see "Order"), at
            least 1. Defaults to `10_000`.
        seed: Integer seed. Defaults to `None` (not reproducible).

    Returns:
        An unbatched `tf.data.Dataset` with the input's element structure and
        a known cardinality of `N` elements per epoch; batch it with
        `.batch(...)`.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices(
    ...     (np.arange(10.0), np.array([0] * 8 + [1] * 2)))
    >>> out = rebalance(ds, num_classes=2, seed=0)
    >>> int(out.cardinality()), len(list(out))
    (10, 10)
    >>> labels = [int(y) for _, y in out.repeat(50)]
    >>> 0.4 < sum(labels) / len(labels) < 0.6
    True
    """
    spec = check_dataset("dataset", dataset, "rebalance")
    num_classes = check_positive_int("num_classes", num_classes)
    sampling = check_sampling(sampling)
    shuffle_buffer = check_positive_int("shuffle_buffer", shuffle_buffer)
    seed = check_seed(seed)
    labels_of = _label_reader(spec[1], num_classes)
    counts = _stream_counts(dataset, num_classes, class_counts)
    state = SamplingState(counts, sampling)
    pass_ = _EpochPass(dataset, labels_of, counts, state, shuffle_buffer, seed)
    out = state.epochs().flat_map(pass_.epoch)
    out = out.apply(tf.data.experimental.assert_cardinality(pass_.total))
    out = out.prefetch(tf.data.AUTOTUNE)
    setattr(out, STATE_ATTRIBUTE, state)
    return out


def _label_reader(spec, num_classes):
    """A function from a chunk of labels `(k, ...)` to int64 class ids `(k,)`."""
    shape, dtype = spec.shape, spec.dtype
    if shape.rank == 0 or (shape.rank == 1 and shape[0] == 1):
        return lambda y: tf.reshape(tf.cast(y, tf.int64), [-1])
    if shape.rank == 1 and shape[0] == num_classes and num_classes > 1:
        return lambda y: tf.argmax(y, axis=-1, output_type=tf.int64)
    batched = (
        " (it looks batched: call `.unbatch()`)"
        if shape.rank and shape.rank >= 1
        else ""
    )
    raise ValueError(
        "`rebalance` takes an unbatched dataset of (x, y) elements whose label "
        "is a class id (shape () or (1,)) or a one-hot row of width "
        f"num_classes={num_classes}. Received labels of shape {shape} and dtype "
        f"{dtype.name}{batched}."
    )


def _stream_counts(dataset, num_classes, class_counts):
    if class_counts is None:
        return count_classes(dataset, num_classes).astype("int64")
    counts = check_class_counts("class_counts", class_counts)
    if counts.size != num_classes:
        raise ValueError(
            f"`class_counts` has {counts.size} entries but "
            f"num_classes={num_classes}: give one count per class."
        )
    if np.any(counts != np.round(counts)):
        raise invalid("class_counts", "integer counts, one per class", counts.tolist())
    return counts.astype("int64")


class _Payload:
    """How elements travel through the buffer: as they are, or serialized.

    Elements of fully static shapes are batched into chunks as they are.
    Others (a `None` dimension, ragged or sparse components) are turned into
    one scalar string per component, which always batch, and restored after.
    """

    def __init__(self, spec, labels_of):
        self.spec = spec
        self.labels_of = labels_of
        self.components = tf.nest.flatten(spec, expand_composites=True)
        self.dense = all(
            isinstance(s, tf.TensorSpec) and s.shape.is_fully_defined()
            for s in tf.nest.flatten(spec)
        )

    def chunks(self, dataset, size):
        """`(labels (k,), payload with leading k)` chunks of the stream."""
        if self.dense:
            return dataset.batch(size).map(lambda *e: (self.labels_of(e[1]), e))
        return dataset.map(self._serialize).batch(size)

    def _serialize(self, *element):
        label = self.labels_of(element[1][None])[0]
        flat = tf.nest.flatten(element, expand_composites=True)
        return label, tuple(tf.io.serialize_tensor(t) for t in flat)

    def empty(self, chunk_spec):
        """A payload of no elements (the end-of-pass chunk, the first buffer)."""
        return tf.nest.map_structure(
            lambda s: tf.zeros([0] + s.shape[1:].as_list(), s.dtype), chunk_spec
        )

    def restore(self, dataset):
        if self.dense:
            return dataset
        return dataset.map(self._deserialize, num_parallel_calls=tf.data.AUTOTUNE)

    def _deserialize(self, *strings):
        tensors = [
            tf.ensure_shape(tf.io.parse_tensor(s, c.dtype), c.shape)
            for s, c in zip(strings, self.components)
        ]
        return tf.nest.pack_sequence_as(self.spec, tensors, expand_composites=True)


class _EpochPass:
    """One pass over the stream: copies per element, then the buffer."""

    def __init__(self, dataset, labels_of, counts, state, buffer_size, seed):
        self.dataset = dataset
        self.state = state
        self.buffer_size = buffer_size
        self.num_classes = counts.size
        self.total = int(counts.sum())
        self.last_present = int(np.flatnonzero(counts)[-1])
        self.counts = tf.constant(counts)
        self.start = tf.constant(np.concatenate([[0], np.cumsum(counts)[:-1]]))
        self.base = base_key(seed, _STREAM_SALT)
        self.payload = _Payload(dataset.element_spec, labels_of)
        self.chunk = min(max(_CHUNK, buffer_size // 16), _MAX_CHUNK)

    def epoch(self, epoch):
        key = fold(self.base, epoch)
        u = tf.random.stateless_uniform([self.total], seed=key, dtype=tf.float64)
        classes = draw_classes(self.state.probabilities, self.last_present, u)
        drawn = tf.math.bincount(
            tf.cast(classes, tf.int32),
            minlength=self.num_classes,
            maxlength=self.num_classes,
            dtype=tf.int64,
        )
        safe = tf.maximum(self.counts, 1)
        repeats, rest = drawn // safe, drawn % safe
        extra = self._extra_copies(rest, fold(key, -1))
        chunks = self.payload.chunks(self.dataset, self.chunk)
        spec = chunks.element_spec
        end = tf.data.Dataset.from_tensors(
            (tf.zeros([0], tf.int64), self.payload.empty(spec[1]))
        )
        initial = (
            tf.zeros([self.num_classes], tf.int64),
            tf.constant(0, tf.int64),
            self.payload.empty(spec[1]),
        )

        def step(carry, chunk):
            return self._step(carry, chunk, repeats, extra, fold(key, -2))

        out = chunks.concatenate(end).scan(initial, step).unbatch()
        return self.payload.restore(out)

    def _extra_copies(self, rest, key):
        """Which of the `N` (class, position) slots get one copy more.

        Slot `start[c] + j` is the `j`-th element of class `c` in the stream.
        Per class, `rest[c]` slots chosen uniformly: sort the slots by class
        plus a uniform in `[0, 0.5)` and take the first `rest[c]` of each.
        """
        owner = tf.repeat(tf.range(self.num_classes, dtype=tf.int64), self.counts)
        v = tf.random.stateless_uniform([self.total], seed=key, dtype=tf.float64)
        order = tf.argsort(tf.cast(owner, tf.float64) + 0.5 * v, stable=True)
        rank = tf.range(self.total, dtype=tf.int64) - tf.gather(self.start, owner)
        chosen = tf.cast(rank < tf.gather(rest, owner), tf.int64)
        return tf.scatter_nd(order[:, None], chosen, [self.total])

    def _step(self, carry, chunk, repeats, extra, key):
        seen, step, buffer = carry
        labels, payload = chunk
        with tf.control_dependencies([self._check_labels(labels)]):
            labels = tf.identity(labels)  # every use waits for the check
        index = tf.gather(seen, labels) + _rank_in_chunk(labels)
        with tf.control_dependencies([self._check_not_over(labels, index)]):
            slot = tf.minimum(tf.gather(self.start, labels) + index, self.total - 1)
        copies = tf.gather(repeats, labels) + tf.gather(extra, slot)
        seen = seen + tf.math.bincount(
            tf.cast(labels, tf.int32),
            minlength=self.num_classes,
            maxlength=self.num_classes,
            dtype=tf.int64,
        )
        pool = tf.nest.map_structure(
            lambda b, t: tf.concat([b, tf.repeat(t, copies, axis=0)], 0),
            buffer,
            payload,
        )
        size = tf.shape(tf.nest.flatten(pool)[0], out_type=tf.int64)[0]
        last = tf.equal(tf.size(labels), 0)
        with tf.control_dependencies([self._check_end(last, seen)]):
            emit = tf.where(last, size, tf.maximum(size - self.buffer_size, 0))
        order = tf.random.experimental.stateless_shuffle(
            tf.range(size), seed=fold(key, step)
        )
        out = tf.nest.map_structure(lambda t: tf.gather(t, order[:emit]), pool)
        kept = tf.nest.map_structure(lambda t: tf.gather(t, order[emit:]), pool)
        return (seen, step + 1, kept), out

    # The checks assert on a message string only: `tf.debugging.Assert` then
    # needs no `tf.cond`, which would cost more than the rest of a step.

    def _check_labels(self, labels):
        outside = (labels < 0) | (labels >= self.num_classes)
        message = tf.strings.format(
            "`rebalance`: a label is outside [0, {}] (num_classes={}): found "
            "the label {}.",
            (self.num_classes - 1, self.num_classes, _first(outside, labels)),
        )
        return tf.debugging.Assert(tf.logical_not(tf.reduce_any(outside)), [message])

    def _check_not_over(self, labels, index):
        """Fail as soon as a class has more elements than its count."""
        limit = tf.gather(self.counts, labels)
        over = index >= limit
        c = _first(over, labels)
        message = tf.strings.format(
            "`rebalance`: class {} has more elements in the stream than "
            "class_counts[{}] = {} (its element number {} just arrived). Pass "
            "the stream's true counts (keras_imbalance.class_counts(dataset, "
            "num_classes)) or class_counts=None to count them.",
            (c, c, _first(over, limit), _first(over, index) + 1),
        )
        return tf.debugging.Assert(tf.logical_not(tf.reduce_any(over)), [message])

    def _check_end(self, last, seen):
        """At the end of the pass, every class must have had its count."""
        wrong = tf.not_equal(seen, self.counts)
        c = _first(wrong, tf.range(self.num_classes, dtype=tf.int64))
        message = tf.strings.format(
            "`rebalance`: class {} has {} elements in the stream but "
            "class_counts[{}] = {} ({} of {} classes disagree; the first is "
            "shown). Pass the stream's true counts (keras_imbalance."
            "class_counts(dataset, num_classes)) or class_counts=None to "
            "count them.",
            (
                c,
                _first(wrong, seen),
                c,
                _first(wrong, self.counts),
                tf.reduce_sum(tf.cast(wrong, tf.int64)),
                self.num_classes,
            ),
        )
        ok = tf.logical_not(last) | tf.logical_not(tf.reduce_any(wrong))
        return tf.debugging.Assert(ok, [message])


def _first(mask, values):
    """The first of `values` where `mask` holds (-1 when none does)."""
    values = tf.concat([tf.cast(values, tf.int64), [-1]], 0)
    index = tf.argmax(tf.concat([tf.cast(mask, tf.int32), [1]], 0))
    return values[index]


def _rank_in_chunk(labels):
    """For each label, how many equal labels come before it in the chunk."""
    order = tf.argsort(labels, stable=True)
    ordered = tf.gather(labels, order)
    first = tf.searchsorted(ordered, ordered, side="left", out_type=tf.int64)
    rank = tf.range(tf.size(labels, out_type=tf.int64)) - first
    return tf.scatter_nd(order[:, None], rank, tf.shape(labels))
