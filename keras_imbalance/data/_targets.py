"""Target class distributions and the sampling state of the re-samplers.

`sampling_weights` (public, re-exported by `keras_imbalance.data.sampling`)
turns a sampling mode into per-class probabilities; `SamplingState` holds the
variables that `balanced_dataset`, `bilateral_dataset` and `rebalance` read
as they run and that `ProgressiveSampling` rewrites.
"""

import numbers
import secrets

import numpy as np
import tensorflow as tf

from keras_imbalance._arrays import plain, unwrap_tensor
from keras_imbalance._validation import (
    check_class_counts,
    check_class_weight,
    check_optional_int,
    invalid,
)
from keras_imbalance._validation import check_seed as validate_seed
from keras_imbalance.data._random import EpochCounter

__all__ = ["sampling_weights"]

SAMPLING_MODES = ("balanced", "instance", "progressive", "reversed", "sqrt")
_SAMPLING_WORDS = (
    f"one of {sorted(SAMPLING_MODES)}, a dict {{class: weight}} or a 1-D "
    "sequence of non-negative weights, one per class"
)
# Attribute of a returned dataset that holds its sampling state.
STATE_ATTRIBUTE = "_keras_imbalance_sampling_state"


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
    sampling = check_sampling(sampling)
    present = counts > 0
    if isinstance(sampling, str):
        if sampling == "progressive":
            return progressive_weights(counts, epoch, total_epochs)
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


def progressive_weights(counts, epoch, total_epochs):
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
    if _all_zero(sampling, counts.size):
        raise _nothing_to_draw(sampling, counts)
    try:
        weights = np.asarray(
            check_class_weight("sampling", sampling, num_classes=counts.size)
        )
    except ValueError as error:
        # Say what a sampling argument may be, not only what a weight may be.
        if isinstance(sampling, dict) and "dict keys" in str(error):
            raise
        raise invalid("sampling", _SAMPLING_WORDS, plain(sampling)) from None
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
        raise _nothing_to_draw(sampling, counts)
    return weights / weights.sum()


def _all_zero(sampling, num_classes):
    """Weights given for every class, all 0 (checked before the general check)."""
    values = list(sampling.values()) if isinstance(sampling, dict) else sampling
    try:
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        return False
    covered = not isinstance(sampling, dict) or len(sampling) >= num_classes
    return array.ndim == 1 and array.size > 0 and covered and not np.any(array)


def _nothing_to_draw(sampling, counts):
    return ValueError(
        "`sampling` gives weight 0 to every class that has samples: "
        "nothing could be drawn. Received: "
        f"sampling={plain(sampling)!r}, class_counts={counts.tolist()}"
    )


def check_sampling(sampling):
    """Validate the form of `sampling` before any data is read.

    Returns a mode name, a dict, or a list for any 1-D sequence of weights
    (list, tuple, NumPy array, tensor), so that later code compares it with
    `==` safely (an array's `==` is elementwise).
    """
    if isinstance(sampling, str):
        if sampling not in SAMPLING_MODES:
            raise invalid("sampling", _SAMPLING_WORDS, sampling)
        return sampling
    if isinstance(sampling, (bool, numbers.Number)) or sampling is None:
        raise invalid("sampling", _SAMPLING_WORDS, sampling)
    if isinstance(sampling, (dict, list)):
        return sampling  # the weights themselves are checked with the counts
    if isinstance(sampling, tuple):
        return list(sampling)
    sampling = unwrap_tensor(sampling)
    try:
        array = np.asarray(sampling)
    except (TypeError, ValueError):
        raise invalid("sampling", _SAMPLING_WORDS, sampling) from None
    if array.ndim != 1 or array.dtype == object:
        raise invalid("sampling", _SAMPLING_WORDS, plain(sampling))
    return array.tolist()


def check_seed(seed):
    """An int64 seed; `None` draws a fresh one (non-reproducible)."""
    if seed is None:
        return secrets.randbits(62)
    return validate_seed("seed", seed, bits=63)


def check_num_classes(num_classes):
    return check_optional_int("num_classes", num_classes, low=1)


# ---------------------------------------------------------------------------
# Shared state: the epoch counter and the current class distribution.


class SamplingState:
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
            initial = progressive_weights(self.counts, 0, 1)
        else:
            initial = sampling_weights(self.counts, sampling)
        self.counter = EpochCounter("sampling_epoch")
        self.epoch = self.counter.variable
        with tf.device("/cpu:0"):
            self.probabilities = tf.Variable(
                initial,
                dtype=tf.float64,
                trainable=False,
                name="sampling_probabilities",
            )

    def set_epoch(self, epoch, total_epochs):
        self.counter.assign(epoch)
        self.probabilities.assign(progressive_weights(self.counts, epoch, total_epochs))

    def epochs(self):
        """A one-element dataset: the epoch number of each new pass."""
        return self.counter.epochs()


def draw_classes(probabilities, last_present, u):
    """Class ids drawn from `probabilities`, one per uniform in `u`."""
    cdf = tf.cumsum(probabilities)
    classes = tf.searchsorted(cdf, u * cdf[-1], side="right")
    # u * cdf[-1] < cdf[-1] up to rounding; an index past the end goes back
    # to the last class that can be drawn.
    return tf.minimum(classes, last_present)
