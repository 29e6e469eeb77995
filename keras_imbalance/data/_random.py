"""Seeds, stateless random keys and epoch counters shared by the pipelines.

Every random draw of a pipeline in `keras_imbalance.data` is a
`tf.random.stateless_*` op whose `[2]` key is folded from the pipeline's own
`seed`, a salt that names the random stream, the epoch number and the
position of the element or batch. The same seed therefore gives the same
output whatever TensorFlow's global seed is: ops that take an op-level seed
(`tf.random.uniform(seed=...)`, `Dataset.shuffle(seed=...)`,
`Dataset.random(seed=...)`) combine it with the global seed of
`tf.random.set_seed`, so none of them is used.

The epoch number is a CPU variable that each new pass over a pipeline (each
new iterator) reads once and advances, so every epoch draws afresh and the
same seed gives the same sequence of epochs.
"""

import secrets

import numpy as np
import tensorflow as tf

__all__ = ["EpochCounter", "base_key", "fold", "keyed_elements"]


def base_key(seed, salt):
    """A `[2]` int64 stateless key for one random stream (`salt`) of a pipeline.

    `seed` is an integer (any sign) or `None`, which draws a fresh one (not
    reproducible). For seeds in `[0, 2**63)` the key is the one
    `balanced_dataset` has always used, so its batches do not change.
    """
    if seed is None:
        seed = secrets.randbits(62)
    seed = int(seed)
    entropy = [seed, salt] if seed >= 0 else [-seed, salt, 1]
    mixed = np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0]
    return tf.constant([int(mixed) >> 1, 0], dtype=tf.int64)


def fold(key, *data):
    """Fold integers (Python ints or tensors) into a `[2]` key, one at a time."""
    for value in data:
        key = tf.random.experimental.stateless_fold_in(key, tf.cast(value, tf.int64))
    return key


class EpochCounter:
    """The number of the next pass over a pipeline, in a CPU variable.

    Each new iterator over `epochs()` reads the number once, when it produces
    its only element, and advances it. `assign` sets it (the
    `ProgressiveSampling` callback does, at the start of each epoch of
    `fit`).
    """

    def __init__(self, name="pipeline_epoch"):
        with tf.device("/cpu:0"):
            self.variable = tf.Variable(0, dtype=tf.int64, trainable=False, name=name)

    def next_epoch(self, _=None):
        """Read the epoch number of a new pass and advance the counter."""
        return self.variable.assign_add(1, read_value=True) - 1

    def assign(self, epoch):
        self.variable.assign(epoch)

    def epochs(self):
        """A one-element dataset: the epoch number of each new pass."""
        return tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).map(
            self.next_epoch
        )


def keyed_elements(dataset, seed, salt):
    """Zip `dataset` with one `[2]` key per element, folded from its position.

    The key of element `i` of epoch `e` is `fold(base_key(seed, salt), e, i)`:
    fixed by `seed`, new in every epoch, independent of TensorFlow's global
    seed. The result keeps the cardinality of `dataset`.
    """
    base = base_key(seed, salt)
    counter = EpochCounter()
    keys = counter.epochs().flat_map(
        lambda epoch: tf.data.Dataset.counter().map(lambda i: fold(base, epoch, i))
    )
    keyed = tf.data.Dataset.zip(dataset, keys)
    # The keys' `flat_map` hides the length from `zip`; it is the dataset's.
    cardinality = int(dataset.cardinality())
    if cardinality != int(tf.data.UNKNOWN_CARDINALITY):
        keyed = keyed.apply(tf.data.experimental.assert_cardinality(cardinality))
    return keyed
