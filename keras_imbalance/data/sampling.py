"""Class-aware re-sampling as `tf.data` pipelines.

* `balanced_dataset`: batches drawn by index from in-memory arrays, class
  first and then a sample of that class, with replacement; every epoch
  draws afresh. Nothing is copied per over-sampled sample: memory is one
  copy of the data plus a few batches, whatever the over-sampling factor.
* `rebalance`: the same target distributions for a stream without random
  access (a `tf.data.Dataset` of `(x, y)` elements of unknown length).
* `bilateral_dataset`: the paired instance- and reverse-sampled batches of
  the bilateral-branch network (BBN).
* `sampling_weights`: the per-class target distribution of each mode.
* `ProgressiveSampling`: the callback that moves `sampling="progressive"`
  from instance to balanced sampling over the epochs of `fit`.

Randomness is stateless: each batch (or, for `rebalance`, each epoch's class
sequence) is a pure function of `seed`, the epoch number and its position,
so the same seed gives the same batches, independently of TensorFlow's global
seed, and every epoch differs from the last. The epoch number is a counter
that each new pass over the dataset advances (the `ProgressiveSampling`
callback sets it to the epoch of `fit` instead).
"""

import math
import numbers
import secrets

import keras
import numpy as np
import tensorflow as tf

from keras_imbalance._validation import (
    check_class_counts,
    check_class_weight,
    check_optional_int,
    check_positive_int,
    invalid,
)
from keras_imbalance.class_weights import _integer_labels, _looks_dense
from keras_imbalance.class_weights import class_counts as count_classes

__all__ = [
    "ProgressiveSampling",
    "balanced_dataset",
    "bilateral_dataset",
    "rebalance",
    "sampling_weights",
]

SAMPLING_MODES = ("balanced", "instance", "progressive", "reversed", "sqrt")
_SAMPLING_WORDS = (
    f"one of {sorted(SAMPLING_MODES)}, a dict {{class: weight}} or a 1-D "
    "sequence of non-negative weights, one per class"
)
# Attribute of a returned dataset that holds its sampling state.
_STATE_ATTRIBUTE = "_keras_imbalance_sampling_state"


# ---------------------------------------------------------------------------
# Target distributions.


def sampling_weights(class_counts, sampling, epoch=None, total_epochs=None):
    """The per-class target distribution of a sampling mode.

    With `n_c` the number of samples of class `c`:

    * `"instance"`: `p_c ∝ n_c`, the data's own distribution (every sample
      equally likely).
    * `"balanced"`: uniform over the classes that have samples
      (class-balanced sampling).
    * `"sqrt"`: `p_c ∝ sqrt(n_c)` (square-root sampling).
    * `"reversed"`: `p_c ∝ 1 / n_c`, the reversed sampler of BBN's
      re-balancing branch (Zhou et al. 2020).
    * `"progressive"`: `p_c(t) = (1 - t/T) p_c^instance + (t/T)
      p_c^balanced` at the 0-based epoch `t` of `T = total_epochs`
      (progressively-balanced sampling, Kang et al. 2020); `t` is clipped
      to `T`, so the distribution stays balanced after `T` epochs.
    * a dict `{class: weight}` or a sequence of non-negative weights, one per
      class: normalised to sum to 1. A dict may leave classes out; they get
      weight 1.0 (as in `compute_class_weights(..., as_dict=True)` and
      `fit(class_weight=...)`).

    Classes without samples always get probability 0; a weight given
    explicitly to such a class is an error.

    References:
        Kang, Xie, Rohrbach, Yan, Gordo, Feng, Kalantidis. "Decoupling
        Representation and Classifier for Long-Tailed Recognition". ICLR
        2020. https://arxiv.org/abs/1910.09217

        Zhou, Cui, Wei, Chen. "BBN: Bilateral-Branch Network with Cumulative
        Learning for Long-Tailed Visual Recognition". CVPR 2020.
        https://arxiv.org/abs/1912.02413

    Args:
        class_counts: One non-negative count per class (see
            `keras_imbalance.class_counts`).
        sampling: A mode name, a dict or a sequence of weights (see above).
        epoch: The 0-based epoch `t`, for `"progressive"` only. Defaults to
            `None` (epoch 0).
        total_epochs: `T`, for `"progressive"` only (required there).
            Defaults to `None`.

    Returns:
        A float64 NumPy array of `C` probabilities that sum to 1.

    Example:

    >>> sampling_weights([80, 20], "balanced").tolist()
    [0.5, 0.5]
    >>> sampling_weights([80, 20], "reversed").tolist()
    [0.2, 0.8]
    >>> sampling_weights([80, 20], "progressive", epoch=1, total_epochs=2).tolist()
    [0.65, 0.35]
    >>> sampling_weights([80, 20, 0], {0: 1, 1: 3}).tolist()
    [0.25, 0.75, 0.0]
    """
    counts = check_class_counts("class_counts", class_counts)
    present = counts > 0
    if isinstance(sampling, str):
        if sampling not in SAMPLING_MODES:
            raise invalid("sampling", _SAMPLING_WORDS, sampling)
        if sampling == "progressive":
            return _progressive(counts, epoch, total_epochs)
        if epoch is not None or total_epochs is not None:
            raise ValueError(
                "`epoch` and `total_epochs` apply to sampling='progressive' "
                f"only. Received: sampling={sampling!r}, epoch={epoch!r}, "
                f"total_epochs={total_epochs!r}"
            )
        if sampling == "instance":
            raw = counts
        elif sampling == "balanced":
            raw = present.astype("float64")
        elif sampling == "sqrt":
            raw = np.sqrt(counts)
        else:
            raw = np.divide(1.0, counts, out=np.zeros_like(counts), where=present)
        return raw / raw.sum()
    return _custom_weights(counts, sampling)


def _progressive(counts, epoch, total_epochs):
    total_epochs = check_optional_int("total_epochs", total_epochs, low=1)
    if total_epochs is None:
        raise invalid(
            "total_epochs",
            "a positive integer (sampling='progressive' needs the number of "
            "epochs over which it moves to balanced sampling)",
            total_epochs,
        )
    epoch = check_optional_int("epoch", epoch, low=0) or 0
    t = min(epoch / total_epochs, 1.0)
    instance = counts / counts.sum()
    present = (counts > 0).astype("float64")
    return (1.0 - t) * instance + t * present / present.sum()


def _custom_weights(counts, sampling):
    if isinstance(sampling, (bool, numbers.Number)) or sampling is None:
        raise invalid("sampling", _SAMPLING_WORDS, sampling)
    try:
        weights = np.asarray(
            check_class_weight("sampling", sampling, num_classes=counts.size)
        )
    except ValueError as error:
        # Say what a sampling argument may be, not only what a weight may be.
        if isinstance(sampling, dict) and "dict keys" in str(error):
            raise
        raise invalid("sampling", _SAMPLING_WORDS, _plain(sampling)) from None
    if weights.size != counts.size:
        raise ValueError(
            "`sampling` must give one weight per class: the labels have "
            f"{counts.size} classes, but {weights.size} weights were given."
        )
    explicit = (
        np.isin(np.arange(counts.size), [int(k) for k in sampling])
        if isinstance(sampling, dict)
        else np.ones(counts.size, dtype=bool)
    )
    empty = np.flatnonzero((counts == 0) & (weights > 0) & explicit)
    if empty.size:
        c = int(empty[0])
        raise ValueError(
            f"Class {c} has no samples, so it cannot be drawn, but `sampling` "
            f"gives it the weight {weights[c]:g}. Give it weight 0."
        )
    weights = np.where(counts > 0, weights, 0.0)
    if not np.any(weights > 0):
        raise ValueError(
            "`sampling` gives weight 0 to every class that has samples: "
            "nothing could be drawn. Received: "
            f"sampling={_plain(sampling)!r}, class_counts={counts.tolist()}"
        )
    return weights / weights.sum()


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _check_sampling(sampling):
    """Validate the form of `sampling` before any data is read."""
    if isinstance(sampling, str):
        if sampling not in SAMPLING_MODES:
            raise invalid("sampling", _SAMPLING_WORDS, sampling)
    elif isinstance(sampling, (bool, numbers.Number)) or sampling is None:
        raise invalid("sampling", _SAMPLING_WORDS, sampling)
    return sampling


# ---------------------------------------------------------------------------
# Argument checks.


def _check_seed(seed):
    """An int64 seed; `None` draws a fresh one (non-reproducible)."""
    if seed is None:
        return secrets.randbits(62)
    seed = check_optional_int("seed", seed, low=0)
    if seed >= 2**63:
        raise invalid("seed", "None or an integer in [0, 2**63)", seed)
    return seed


def _base_key(seed, salt):
    """A `[2]` stateless key for one random stream (`salt`) of a pipeline."""
    mixed = np.random.SeedSequence([seed, salt]).generate_state(1, np.uint64)[0]
    return tf.constant([int(mixed) >> 1, 0], dtype=tf.int64)


def _batch_key(base, epoch, step, steps):
    """The key of batch `step` of `epoch`: distinct for every batch."""
    return tf.stack([base[0], base[1] + epoch * steps + step])


def _fold(key, *data):
    for value in data:
        key = tf.random.experimental.stateless_fold_in(key, tf.cast(value, tf.int64))
    return key


# ---------------------------------------------------------------------------
# Shared state: the epoch counter and the current class distribution.


class _SamplingState:
    """Variables a sampling pipeline reads as it runs.

    `epoch` is the number of the next pass over the dataset: each new
    iterator reads it once, when it produces its first element, and
    advances it. `probabilities` holds the class distribution that the
    draws read; `ProgressiveSampling` rewrites both at the start of each
    epoch of `fit`. The variables live on the CPU, where `tf.data` runs.
    """

    def __init__(self, counts, sampling):
        self.counts = np.asarray(counts, dtype="int64")
        self.sampling = sampling
        if sampling == "progressive":
            initial = _progressive(self.counts, 0, 1)
        else:
            initial = sampling_weights(self.counts, sampling)
        with tf.device("/cpu:0"):
            self.epoch = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="sampling_epoch"
            )
            self.probabilities = tf.Variable(
                initial,
                dtype=tf.float64,
                trainable=False,
                name="sampling_probabilities",
            )

    def next_epoch(self, _=None):
        """Read the epoch number of a new pass and advance the counter."""
        return self.epoch.assign_add(1, read_value=True) - 1

    def set_epoch(self, epoch, total_epochs):
        self.epoch.assign(epoch)
        self.probabilities.assign(_progressive(self.counts, epoch, total_epochs))

    def epochs(self):
        """A one-element dataset: the epoch number of each new pass."""
        return tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).map(
            self.next_epoch
        )


def _draw_classes(probabilities, last_present, u):
    """Class ids drawn from `probabilities`, one per uniform in `u`."""
    cdf = tf.cumsum(probabilities)
    classes = tf.searchsorted(cdf, u * cdf[-1], side="right")
    # u * cdf[-1] < cdf[-1] up to rounding; an index past the end goes back
    # to the last class that can be drawn.
    return tf.minimum(classes, last_present)


# ---------------------------------------------------------------------------
# In-memory data: balanced_dataset and bilateral_dataset.


class _IndexedData:
    """Arrays `x` (a tensor or a structure of them) and `y`, indexed by class.

    The data are held once, in CPU variables (captured by reference: a
    constant would be copied into the dataset graph at every new
    iterator). Samples of class `c` are `order[start[c] : start[c] + n_c]`.
    """

    def __init__(self, x, y, num_classes):
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
        classes = _draw_classes(probabilities, self.last_present(), u[0])
        start, count, last = tf.unstack(tf.gather(self.table, classes), axis=1)
        # u < 1, so floor(u * count) < count but for rounding: clip.
        position = start + tf.minimum(tf.floor(u[1] * count), last)
        return tf.gather(self.order, tf.cast(position, tf.int64))

    def gather(self, indices):
        x = tf.nest.map_structure(lambda v: tf.gather(v, indices), self.x)
        return x, tf.gather(self.y, indices)


def _as_array(name, value):
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = np.asarray(value)
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
    if num_classes is not None and y.ndim == 2 and y.shape[1] not in (1, num_classes):
        raise ValueError(
            f"`y` of shape {y.shape} is neither integer labels nor one-hot rows "
            f"of width num_classes={num_classes}."
        )
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] > 1 and not _looks_dense(y, None)):
        raise ValueError(
            "`y` must hold one label per sample: integer class ids of shape "
            f"(N,) or (N, 1), or one-hot rows of shape (N, C). Received: y of "
            f"shape {y.shape}"
        )
    labels, width = _integer_labels(y, num_classes, None)
    return labels, width


def _check_num_classes(num_classes):
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    return num_classes


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
        x: An array `(N, ...)`, or a dict (or list) of arrays with `N` rows
            each, for a multi-input model.
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
    sampling = _check_sampling(sampling)
    num_classes = _check_num_classes(num_classes)
    if steps_per_epoch is not None:
        steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
    seed = _check_seed(seed)
    data = _IndexedData(x, y, num_classes)
    state = _SamplingState(data.counts, sampling)
    steps = steps_per_epoch or math.ceil(data.size / batch_size)
    base = _base_key(seed, 0)

    def draw(epoch, step):
        key = _batch_key(base, epoch, step, steps)
        indices = data.draw_indices(state.probabilities, key, batch_size)
        return data.gather(indices)

    dataset = _batches(state, steps, draw)
    setattr(dataset, _STATE_ATTRIBUTE, state)
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
    seed = _check_seed(seed)
    data = _IndexedData(x, y, None)
    state = _SamplingState(data.counts, "instance")
    reversed_probabilities = tf.constant(sampling_weights(data.counts, "reversed"))
    steps = math.ceil(data.size / batch_size)
    base_c, base_r = _base_key(seed, 1), _base_key(seed, 2)

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
# Streams: rebalance.


def _stream_label_reader(spec, num_classes):
    """A function from an element's `y` to its int64 class id."""
    shape, dtype = spec.shape, spec.dtype
    if shape.rank == 0:
        return lambda y: tf.cast(y, tf.int64)
    if shape.rank == 1 and shape[0] == 1:
        return lambda y: tf.cast(y[0], tf.int64)
    if shape.rank == 1 and shape[0] == num_classes and num_classes > 1:
        return lambda y: tf.argmax(y, output_type=tf.int64)
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


def rebalance(
    dataset, *, num_classes, sampling="balanced", class_counts=None, seed=None
):
    """Re-sample a stream of `(x, y)` elements to a target class distribution.

    For data without random access: any unbatched `tf.data.Dataset` of
    `(x, y)` or `(x, y, sample_weight)` elements, of known or unknown length
    (e.g. `tf.data.Dataset.from_generator`). Nothing is dropped for good,
    unlike `tf.data.Dataset.rejection_resample`: every element stays
    reachable in every epoch.

    One epoch has as many elements as the stream, `N = sum(class_counts)`.
    It is built in two steps:

    1. the class of each of the `N` outputs is drawn independently from the
       target distribution `p` (see `sampling_weights`), which fixes how many
       elements `D_c` class `c` supplies this epoch;
    2. class `c` supplies them from its own filtered view of the stream:
       `D_c // n_c` full passes over its `n_c` elements, then a uniformly
       random subset of `D_c % n_c` of them (selection sampling in one pass).
       An over-sampled class thus repeats each element `floor` or `ceil` of
       `D_c / n_c` times; an under-sampled one gives a fresh random subset
       each epoch. Elements keep their stream order within a pass, and the
       classes are interleaved in the drawn order.

    Cost: class `c` reads the stream (through a filter) `ceil(D_c / n_c)`
    times per epoch, stopping each pass once it has its elements: cheap for
    in-memory or generated streams, but a stream that is slow to read
    (files, decoding) should be `.cache()`d first; and data that fit in
    memory are faster with `balanced_dataset`. `class_counts` must be the
    stream's true counts: a stream that yields fewer elements of a class
    makes the epoch run short, which `tf.data` reports as an error.

    `sampling="progressive"` works as in `balanced_dataset`, with the
    `ProgressiveSampling` callback built from the returned dataset.

    References: Kang et al. 2020 (class-balanced, square-root and
    progressively-balanced sampling, https://arxiv.org/abs/1910.09217);
    Zhou et al. 2020 (BBN's reversed sampling,
    https://arxiv.org/abs/1912.02413).

    Args:
        dataset: An unbatched `tf.data.Dataset` of `(x, y)` or
            `(x, y, sample_weight)`; `y` a class id (shape `()` or `(1,)`) or
            a one-hot row `(num_classes,)`.
        num_classes: Number of classes.
        sampling: Target distribution, as in `balanced_dataset`. Defaults to
            `"balanced"`.
        class_counts: The stream's count of each class. Defaults to `None`:
            counted in one pass with `keras_imbalance.class_counts`.
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
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            "`rebalance` takes a `tf.data.Dataset` of (x, y) elements. "
            f"Received: dataset of type {type(dataset).__name__}"
        )
    num_classes = _check_num_classes(num_classes)
    if num_classes is None:
        raise invalid("num_classes", "a positive integer", num_classes)
    sampling = _check_sampling(sampling)
    seed = _check_seed(seed)
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(
            "`rebalance` needs a dataset of (x, y) or (x, y, sample_weight) "
            f"tuples. Received: element_spec={spec}"
        )
    if not isinstance(spec[1], tf.TensorSpec):
        raise ValueError(
            "`rebalance` needs the label `y` as one tensor. Received: "
            f"element_spec[1]={spec[1]}"
        )
    label_of = _stream_label_reader(spec[1], num_classes)
    if class_counts is None:
        counts = count_classes(dataset, num_classes)
    else:
        counts = check_class_counts("class_counts", class_counts)
        if counts.size != num_classes:
            raise ValueError(
                f"`class_counts` has {counts.size} entries but "
                f"num_classes={num_classes}: give one count per class."
            )
        if np.any(counts != np.round(counts)):
            raise invalid(
                "class_counts", "integer counts, one per class", counts.tolist()
            )
    counts = counts.astype("int64")
    state = _SamplingState(counts, sampling)
    total = int(counts.sum())
    present = np.flatnonzero(counts)
    stream_of_class = np.full(num_classes, -1, dtype="int64")
    stream_of_class[present] = np.arange(present.size)
    stream_of_class = tf.constant(stream_of_class)
    last_present = int(present[-1])
    base = _base_key(seed, 3)
    message = (
        f"`rebalance`: a label is outside [0, {num_classes - 1}] "
        f"(num_classes={num_classes})."
    )

    def is_class(c):
        def predicate(*element):
            label = label_of(element[1])
            checks = [
                tf.debugging.assert_non_negative(label, message=message),
                tf.debugging.assert_less(
                    label, tf.constant(num_classes, tf.int64), message
                ),
            ]
            with tf.control_dependencies(checks):
                return tf.equal(label, c)

        return predicate

    def class_elements(c, n_c):
        # `take` stops reading the stream once the class's last element is in.
        return dataset.filter(is_class(c)).take(n_c)

    def class_stream(c, drawn, key):
        """`drawn` elements of class `c`: full passes, then a random subset."""
        n_c = int(counts[c])
        full, rest = drawn // n_c, drawn % n_c
        chosen = tf.random.experimental.stateless_shuffle(
            tf.range(n_c, dtype=tf.int64), seed=_fold(key, c)
        )[:rest]
        mask = tf.scatter_nd(
            chosen[:, None], tf.ones_like(chosen, dtype=tf.bool), [n_c]
        )
        # Positions past the last chosen one need not be read.
        length = tf.maximum(tf.reduce_max(chosen) + 1, 0)
        subset = (
            class_elements(c, n_c)
            .take(length)
            .enumerate()
            .filter(lambda position, element: mask[position])
            .map(lambda position, element: element)
        )
        return class_elements(c, n_c).repeat(full).concatenate(subset)

    def epoch_stream(epoch):
        key = _fold(base, epoch)
        u = tf.random.stateless_uniform([total], seed=key, dtype=tf.float64)
        classes = _draw_classes(state.probabilities, last_present, u)
        drawn = tf.math.bincount(
            tf.cast(classes, tf.int32), minlength=num_classes, dtype=tf.int64
        )
        streams = [class_stream(int(c), drawn[c], key) for c in present]
        choices = tf.data.Dataset.from_tensor_slices(
            tf.gather(stream_of_class, classes)
        )
        return tf.data.Dataset.choose_from_datasets(streams, choices)

    out = state.epochs().flat_map(epoch_stream)
    out = out.apply(tf.data.experimental.assert_cardinality(total))
    out = out.prefetch(tf.data.AUTOTUNE)
    setattr(out, _STATE_ATTRIBUTE, state)
    return out


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
        state = getattr(dataset, _STATE_ATTRIBUTE, None)
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
                f"sampling={_plain(state.sampling)!r}"
            )
        self.total_epochs = check_positive_int("total_epochs", total_epochs)
        self._state = state

    def probabilities_at(self, epoch):
        """The class distribution at a 0-based epoch."""
        return _progressive(self._state.counts, epoch, self.total_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self._state.set_epoch(epoch, self.total_epochs)
