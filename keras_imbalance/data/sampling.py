"""Class-aware re-sampling as `tf.data` pipelines.

* `balanced_dataset`: batches drawn by index from in-memory arrays, class
  first and then a sample of that class, with replacement; every epoch
  draws afresh. Nothing is copied per over-sampled sample: memory is one
  copy of the data plus a few batches, whatever the over-sampling factor.
* `rebalance`: the same target distributions for a stream without random
  access (a `tf.data.Dataset` of `(x, y)` elements of unknown length), in
  one pass over the stream per epoch (defined in `_stream`).
* `bilateral_dataset`: the paired instance- and reverse-sampled batches of
  the bilateral-branch network (BBN).
* `sampling_weights`: the per-class target distribution of each mode.
* `ProgressiveSampling`: the callback that moves `sampling="progressive"`
  from instance to balanced sampling over the epochs of `fit`.

Randomness is stateless: each batch (or, for `rebalance`, each epoch's
draws) is a pure function of `seed`, the epoch number and its position,
so the same seed gives the same batches, independently of TensorFlow's global
seed, and every epoch differs from the last. The epoch number is a counter
that each new pass over the dataset advances (the `ProgressiveSampling`
callback sets it to the epoch of `fit` instead).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_imbalance._arrays import plain, to_numpy
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import check_positive_int
from keras_imbalance.data._random import base_key
from keras_imbalance.data._stream import rebalance
from keras_imbalance.data._targets import (
    STATE_ATTRIBUTE,
    SamplingState,
    check_num_classes,
    check_sampling,
    check_seed,
    draw_classes,
    progressive_weights,
    sampling_weights,
)
from keras_imbalance.data.files import ImageFiles

__all__ = [
    "ProgressiveSampling",
    "balanced_dataset",
    "bilateral_dataset",
    "rebalance",
    "sampling_weights",
]


def _batch_key(base, epoch, step, steps):
    """The key of batch `step` of `epoch`: distinct for every batch."""
    return tf.stack([base[0], base[1] + epoch * steps + step])


# ---------------------------------------------------------------------------
# In-memory data: balanced_dataset and bilateral_dataset.


class _IndexedData:
    """Arrays `x` (a tensor or a structure of them) and `y`, indexed by class.

    The data are held once, in CPU variables (captured by reference: a
    constant would be copied into the dataset graph at every new
    iterator). Samples of class `c` are `order[start[c] : start[c] + n_c]`.
    """

    def __init__(self, x, y, num_classes):
        self.files = x if isinstance(x, ImageFiles) else None
        if self.files is not None:
            x = self.files.paths  # drawn as paths, decoded batch by batch
        if isinstance(x, list):
            # `tf.data` reads a list as one tensor to stack; a tuple of
            # inputs is what a multi-input model takes.
            x = tuple(x)
        leaves = tf.nest.flatten(x)
        if not leaves:
            raise ValueError("`x` has no arrays: pass an array or a dict of arrays.")
        arrays = [_as_array("x", leaf) for leaf in leaves]
        y = _as_array("y", y)
        lengths = {len(a) for a in arrays}
        if len(lengths) > 1:
            shapes = {k: a.shape for k, a in zip(_leaf_names(x), arrays)}
            raise ValueError(
                "All arrays of `x` must have the same number of samples (first "
                f"dimension). Received shapes {shapes}"
            )
        n = lengths.pop()
        if n != len(y):
            raise ValueError(
                f"`x` and `y` must have the same number of samples: x has {n} "
                f"and y has {len(y)}."
            )
        if n == 0:
            raise ValueError("Cannot sample from empty data: `x` has no samples.")
        labels, width = _sample_labels(y, num_classes)
        self.num_classes = num_classes or width or int(labels.max()) + 1
        self.counts = np.bincount(labels, minlength=self.num_classes)
        self.size = n
        order = np.argsort(labels, kind="stable")
        start = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        with tf.device("/cpu:0"):
            self.x = tf.nest.pack_sequence_as(
                x, [tf.Variable(a, trainable=False) for a in arrays]
            )
            self.y = tf.Variable(y, trainable=False)
            self.order = tf.Variable(order.astype("int64"), trainable=False)
        # Per class: first position in `order`, count, count - 1 (float64 is
        # exact for any realistic number of samples).
        self.table = tf.constant(
            np.stack([start, self.counts, self.counts - 1], axis=1).astype("float64")
        )

    def last_present(self):
        return int(np.flatnonzero(self.counts)[-1])

    def draw_indices(self, probabilities, key, batch_size):
        """A batch of sample indices: a class, then a sample of it."""
        u = tf.random.stateless_uniform([2, batch_size], seed=key, dtype=tf.float64)
        classes = draw_classes(probabilities, self.last_present(), u[0])
        start, count, last = tf.unstack(tf.gather(self.table, classes), axis=1)
        # u < 1, so floor(u * count) < count but for rounding: clip.
        position = start + tf.minimum(tf.floor(u[1] * count), last)
        return tf.gather(self.order, tf.cast(position, tf.int64))

    def gather(self, indices):
        x = tf.nest.map_structure(lambda v: tf.gather(v, indices), self.x)
        if self.files is not None:
            x = self.files.decode_batch(x)
        return x, tf.gather(self.y, indices)


def _as_array(name, value):
    try:
        array = to_numpy(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be an array (or, for `x`, a dict of arrays). "
            f"Received: {name} of type {type(value).__name__}"
        ) from None
    if array.ndim == 0:
        raise ValueError(
            f"`{name}` must have a first (sample) dimension. Received: "
            f"{name} of shape {array.shape}"
        )
    if array.dtype == object:
        raise TypeError(
            f"`{name}` must be a numeric array; received an array of Python "
            "objects (ragged or mixed rows?)."
        )
    return array


def _leaf_names(x):
    if isinstance(x, dict):
        return list(x)
    return list(range(len(tf.nest.flatten(x))))


def _sample_labels(y, num_classes):
    """One integer label per sample, and the one-hot width (or None)."""
    labels = integer_class_ids(y, num_classes)
    width = y.shape[1] if y.ndim == 2 and y.shape[1] > 1 else None
    return labels, width


def balanced_dataset(
    x,
    y,
    *,
    batch_size,
    sampling="balanced",
    num_classes=None,
    steps_per_epoch=None,
    seed=None,
):
    """Re-sampled batches from in-memory arrays, as a `tf.data.Dataset`.

    Each sample of a batch is drawn with replacement in two steps: a class
    `c` from the target distribution `p` of `sampling` (see
    `sampling_weights`), then a sample of class `c`, uniformly. The draws
    are made a batch at a time (a vector of indices, then `tf.gather` on the
    arrays), so memory is one copy of the data (in a CPU `tf.Variable`,
    beside the caller's arrays) plus a few batches, whatever the
    over-sampling factor; there is no materialised, over-sampled copy as
    with `RandomOverSampler().fit_resample`. Every epoch (every new pass
    over the dataset) draws new batches; the same `seed` gives the same
    sequence of epochs.

    Modes: `"instance"` (the data's distribution), `"balanced"`
    (class-balanced sampling: uniform over classes), `"sqrt"` (square-root
    sampling), `"reversed"` (`∝ 1/n_c`, BBN's reversed sampler), a dict
    `{class: weight}` or a sequence of weights, and `"progressive"`
    (progressively-balanced sampling, Kang et al. 2020: instance sampling at
    epoch 0, moving linearly to balanced sampling). `"progressive"` needs the
    epoch of `fit`: pair it with the `ProgressiveSampling` callback, built
    from the returned dataset (without the callback it stays at instance
    sampling):

        ds = balanced_dataset(x, y, batch_size=64, sampling="progressive")
        model.fit(ds, epochs=90, callbacks=[ProgressiveSampling(ds, 90)])

    References:
        Kang et al. "Decoupling Representation and Classifier for Long-Tailed
        Recognition". ICLR 2020. https://arxiv.org/abs/1910.09217
        (class-balanced, square-root and progressively-balanced sampling).

        Zhou et al. "BBN: Bilateral-Branch Network with Cumulative Learning
        for Long-Tailed Visual Recognition". CVPR 2020.
        https://arxiv.org/abs/1912.02413 (reversed sampling).

    Args:
        x: An array `(N, ...)`, or a dict, tuple or list of arrays with `N`
            rows each, for a multi-input model (batches hold a list as a
            tuple: `tf.data` has no lists).
        y: Integer class ids `(N,)` or `(N, 1)`, or one-hot rows `(N, C)`.
            Batches hold `y` in the form given.
        batch_size: Samples per batch (>= 1).
        sampling: The target class distribution (see above). Defaults to
            `"balanced"`.
        num_classes: Number of classes. Defaults to `None`: the width of
            one-hot labels, else the largest label + 1.
        steps_per_epoch: Batches in one epoch. Defaults to `None`:
            `ceil(N / batch_size)`, as many samples as the data has.
        seed: Integer seed of the draws. Defaults to `None` (a fresh seed:
            not reproducible).

    Returns:
        A finite `tf.data.Dataset` of `steps_per_epoch` batches `(x, y)`,
        with known cardinality, so `model.fit(ds, epochs=...)` needs no
        `steps_per_epoch`.

    Example:

    >>> x = np.arange(20, dtype="float32").reshape(10, 2)
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> ds = balanced_dataset(x, y, batch_size=4, seed=0)
    >>> int(ds.cardinality())
    3
    >>> xb, yb = next(iter(ds))
    >>> tuple(xb.shape), tuple(yb.shape)
    ((4, 2), (4,))
    """
    batch_size = check_positive_int("batch_size", batch_size)
    sampling = check_sampling(sampling)
    num_classes = check_num_classes(num_classes)
    if steps_per_epoch is not None:
        steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
    seed = check_seed(seed)
    data = _IndexedData(x, y, num_classes)
    state = SamplingState(data.counts, sampling)
    steps = steps_per_epoch or math.ceil(data.size / batch_size)
    base = base_key(seed, 0)

    def draw(epoch, step):
        key = _batch_key(base, epoch, step, steps)
        indices = data.draw_indices(state.probabilities, key, batch_size)
        return data.gather(indices)

    dataset = _batches(state, steps, draw)
    setattr(dataset, STATE_ATTRIBUTE, state)
    return dataset


def _batches(state, steps, draw):
    """`steps` batches per pass, each `draw(epoch, step)`."""
    dataset = state.epochs().flat_map(
        lambda epoch: tf.data.Dataset.range(steps).map(lambda step: (epoch, step))
    )
    dataset = dataset.map(draw, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(steps))
    return dataset.prefetch(tf.data.AUTOTUNE)


def bilateral_dataset(x, y, *, batch_size, seed=None):
    """Paired batches for the bilateral-branch network (BBN).

    Each element is `((x_c, x_r), (y_c, y_r))`: a batch drawn by instance
    sampling (every sample equally likely) for the conventional branch and
    one drawn by reversed sampling (class `c` with probability `∝ 1/n_c`)
    for the re-balancing branch, both with replacement and redrawn every
    epoch. It is what the training model of
    `keras_imbalance.models.build_bilateral_branch_network` takes; fit it
    with `callbacks.CumulativeLearning(epochs)`.

    Reference: Zhou, Cui, Wei, Chen. "BBN: Bilateral-Branch Network with
    Cumulative Learning for Long-Tailed Visual Recognition". CVPR 2020.
    https://arxiv.org/abs/1912.02413

    Args:
        x: An array `(N, ...)` (or a dict of arrays).
        y: Integer class ids `(N,)` or `(N, 1)`, or one-hot rows `(N, C)`.
        batch_size: Samples per batch of each branch (>= 1).
        seed: Integer seed. Defaults to `None` (not reproducible).

    Returns:
        A finite `tf.data.Dataset` of `ceil(N / batch_size)` elements.

    Example:

    >>> x = np.zeros((10, 3), dtype="float32")
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> (x_c, x_r), (y_c, y_r) = next(iter(bilateral_dataset(x, y, batch_size=4)))
    >>> tuple(x_c.shape), tuple(x_r.shape), tuple(y_r.shape)
    ((4, 3), (4, 3), (4,))
    """
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed(seed)
    data = _IndexedData(x, y, None)
    state = SamplingState(data.counts, "instance")
    reversed_probabilities = tf.constant(sampling_weights(data.counts, "reversed"))
    steps = math.ceil(data.size / batch_size)
    base_c, base_r = base_key(seed, 1), base_key(seed, 2)

    def draw(epoch, step):
        x_c, y_c = data.gather(
            data.draw_indices(
                state.probabilities, _batch_key(base_c, epoch, step, steps), batch_size
            )
        )
        x_r, y_r = data.gather(
            data.draw_indices(
                reversed_probabilities,
                _batch_key(base_r, epoch, step, steps),
                batch_size,
            )
        )
        return (x_c, x_r), (y_c, y_r)

    return _batches(state, steps, draw)


# ---------------------------------------------------------------------------
# The progressive schedule.


class ProgressiveSampling(keras.callbacks.Callback):
    """Moves a `sampling="progressive"` pipeline to balanced over the epochs.

    Progressively-balanced sampling (Kang et al. 2020) draws class `c` at the
    0-based epoch `t` with probability `p_c(t) = (1 - t/T) n_c / N + (t/T) /
    K` (`K` the number of classes with samples, `T = total_epochs`): instance
    sampling at the first epoch, balanced from epoch `T` on. The pipeline
    keeps its class distribution and epoch number in variables that it
    reads as it runs; at the start of each epoch of `fit` this callback sets
    them for that epoch, before the epoch's batches are drawn. The batches of
    epoch `t` are then a function of `seed` and `t` alone, so a run resumed
    at epoch `t` (`initial_epoch`, `BackupAndRestore`) sees the batches of an
    uninterrupted one.

    Pair it with the dataset itself (not a transformed copy):

        ds = balanced_dataset(x, y, batch_size=64, sampling="progressive", seed=0)
        model.fit(ds, epochs=30, callbacks=[ProgressiveSampling(ds, 30)])

    Reference: Kang et al. "Decoupling Representation and Classifier for
    Long-Tailed Recognition". ICLR 2020. https://arxiv.org/abs/1910.09217

    Args:
        dataset: The dataset returned by `balanced_dataset` or `rebalance`
            with `sampling="progressive"`.
        total_epochs: `T`, normally the `epochs` of `fit`.

    Example:

    >>> x = np.zeros((10, 2), dtype="float32")
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> ds = balanced_dataset(x, y, batch_size=5, sampling="progressive")
    >>> schedule = ProgressiveSampling(ds, total_epochs=2)
    >>> [schedule.probabilities_at(t).tolist() for t in range(3)]
    [[0.8, 0.2], [0.65, 0.35], [0.5, 0.5]]
    """

    def __init__(self, dataset, total_epochs):
        super().__init__()
        state = getattr(dataset, STATE_ATTRIBUTE, None)
        if state is None:
            raise ValueError(
                "`ProgressiveSampling` needs the dataset returned by "
                "`balanced_dataset` or `rebalance` itself (a transformed copy "
                "such as `ds.map(...)` loses the link). Received: dataset of "
                f"type {type(dataset).__name__}"
            )
        if state.sampling != "progressive":
            raise ValueError(
                "`ProgressiveSampling` schedules a dataset built with "
                "sampling='progressive'. Received a dataset built with "
                f"sampling={plain(state.sampling)!r}"
            )
        self.total_epochs = check_positive_int("total_epochs", total_epochs)
        self._state = state

    def probabilities_at(self, epoch):
        """The class distribution at a 0-based epoch."""
        return progressive_weights(self._state.counts, epoch, self.total_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self._state.set_epoch(epoch, self.total_epochs)
