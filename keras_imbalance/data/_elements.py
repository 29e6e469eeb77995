"""Element handling shared by the augmentation and mixing pipelines.

A pipeline element is `(x, y)` or `(x, y, sample_weight)`, where `x` is a
tensor or a dict of tensors (multi-input) and `y` holds integer class ids or
one-hot (soft) rows. Randomness is stateless: each element (or internal
batch) is zipped with a `[2]` key folded from `seed`, the epoch number and its
position (see `keras_imbalance.data._random`), so the same seed gives the same
epochs whatever TensorFlow's global seed is, and every epoch draws afresh.
"""

import keras
import tensorflow as tf

from keras_imbalance._validation import check_seed as validate_seed
from keras_imbalance.data._random import fold, keyed_elements

__all__ = [
    "assert_ids_in_range",
    "broadcast_to_rank",
    "check_dataset",
    "check_seed",
    "class_ids",
    "float_dtype",
    "leading_dims_agree",
    "stateless_seed",
    "with_keys",
]

# Salt of the element keys (see `_random.base_key`).
_KEY_SALT = 10


def check_dataset(name, dataset, function):
    """A `tf.data.Dataset` of `(x, y)` or `(x, y, sample_weight)` tuples."""
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"`{function}` takes a `tf.data.Dataset` as `{name}`. Received: "
            f"{name} of type {type(dataset).__name__}"
        )
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(
            f"`{function}` needs a dataset of (x, y) or (x, y, sample_weight) "
            f"tuples. Received: element_spec={spec}"
        )
    if not isinstance(spec[1], tf.TensorSpec):
        raise ValueError(
            f"`{function}` needs labels `y` as one tensor (integer class ids or "
            f"one-hot rows). Received: element_spec[1]={spec[1]}"
        )
    return spec


def check_seed(seed):
    """`None` or an integer of any sign (see `_random.base_key`)."""
    return validate_seed("seed", seed, bits=None)


def with_keys(dataset, seed):
    """Zip `dataset` with one `[2]` int64 random key per element.

    The keys differ between epochs (each new iterator) but are fixed by
    `seed` alone (not by `tf.random.set_seed`); `seed=None` gives
    non-reproducible keys.
    """
    return keyed_elements(dataset, seed, _KEY_SALT)


def stateless_seed(key, salt):
    """A `[2]` seed for `tf.random.stateless_*` from a key and a draw number."""
    return fold(key, salt)


def leading_dims_agree(spec):
    """False when two components have different static leading dimensions."""
    dims = {
        s.shape[0]
        for s in tf.nest.flatten(spec)
        if s.shape.rank and s.shape[0] is not None
    }
    return len(dims) <= 1


def class_ids(y, sparse):
    """Integer class ids of shape `(B,)` from batched labels."""
    if sparse:
        return tf.reshape(tf.cast(y, tf.int32), [-1])
    return tf.argmax(y, axis=-1, output_type=tf.int32)


def assert_ids_in_range(ids, num_classes):
    """Runtime check of integer labels against `len(class_counts)`."""
    message = (
        f"Labels must be class ids in [0, {num_classes - 1}] "
        f"(class_counts has {num_classes} entries)."
    )
    checks = [
        tf.debugging.assert_non_negative(ids, message=message),
        tf.debugging.assert_less(ids, tf.constant(num_classes, ids.dtype), message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(ids)


def float_dtype(dtype):
    """The dtype mixed values take: float inputs keep theirs, others floatx."""
    dtype = tf.as_dtype(dtype)
    return dtype if dtype.is_floating else tf.as_dtype(keras.config.floatx())


def broadcast_to_rank(values, rank):
    """`(B,)` values reshaped to `(B, 1, ..., 1)` of the given rank."""
    return tf.reshape(values, [-1] + [1] * (rank - 1))
