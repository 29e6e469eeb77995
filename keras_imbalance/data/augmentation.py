"""Class-aware data augmentation: augment the rare classes more often.

Augmenting every sample alike leaves the class imbalance where it was; giving
the tail classes more augmented views (and the head class its plain samples)
enlarges the tail's effective variety instead, which is the class-aware
augmentation surveyed by Shorten & Khoshgoftaar, "A survey on Image Data
Augmentation for Deep Learning" (J. Big Data, 2019). `augment_minority` runs a
Keras preprocessing pipeline on each sample with a probability that grows
with the rarity of its class; it streams inside `tf.data`.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_imbalance._validation import check_class_counts, check_float, invalid
from keras_imbalance.data._elements import (
    assert_ids_in_range,
    check_dataset,
    check_seed,
    class_ids,
    leading_dims_agree,
    stateless_seed,
    with_keys,
)

__all__ = ["augment_minority", "default_image_augmenter"]

# Samples of an unbatched dataset are augmented this many at a time.
_BLOCK_SIZE = 64
_FLIPS = (None, "horizontal", "vertical", "horizontal_and_vertical")


def check_augmenter_arguments(rotation, zoom, flip):
    """`(rotation, zoom, flip)` of `default_image_augmenter`, checked."""
    rotation = check_float("rotation", rotation, low=0, high=1)
    zoom = check_float("zoom", zoom, low=0, high=1, high_open=True)
    if flip not in _FLIPS:
        raise invalid(
            "flip",
            "one of None, 'horizontal', 'vertical', 'horizontal_and_vertical'",
            flip,
        )
    return rotation, zoom, flip


def default_image_augmenter(rotation=0.1, zoom=0.1, flip="horizontal", seed=None):
    """A light, label-preserving image augmenter for `augment_minority`.

    A `keras.layers.Pipeline` of `RandomRotation(rotation)`,
    `RandomZoom(zoom)` and `RandomFlip(flip)`; a factor of 0 (or
    `flip=None`) leaves its layer out. It takes images `(H, W, C)` or
    batches `(B, H, W, C)` (channels last) and returns float images of the
    same shape. A `Pipeline` (unlike a `keras.Sequential`) runs inside
    `tf.data` on every Keras backend: there its layers compute with
    TensorFlow ops, as Keras documents for its preprocessing layers.

    Args:
        rotation: Largest rotation, as a fraction of a full turn (`0.1` is
            ±36°), in `[0, 1]`. Defaults to `0.1`.
        zoom: Largest zoom in or out, as a fraction of the image height, in
            `[0, 1)`. Defaults to `0.1`.
        flip: `"horizontal"`, `"vertical"`, `"horizontal_and_vertical"` or
            `None` (no flip). Defaults to `"horizontal"`.
        seed: Integer seed of the layers' random generators (each layer gets
            its own, derived from it), for use on its own. Inside
            `augment_minority` the pipeline's `seed` sets the generators
            instead. Defaults to `None`.

    Returns:
        A `keras.layers.Pipeline` named `"default_image_augmenter"`.

    Example:

    >>> import numpy as np
    >>> augmenter = default_image_augmenter(seed=0)
    >>> [layer.__class__.__name__ for layer in augmenter.layers]
    ['RandomRotation', 'RandomZoom', 'RandomFlip']
    >>> tuple(augmenter(np.zeros((2, 8, 8, 3), "float32")).shape)
    (2, 8, 8, 3)
    """
    rotation, zoom, flip = check_augmenter_arguments(rotation, zoom, flip)
    seed = check_seed(seed)

    def layer_seed(offset):
        return None if seed is None else seed + offset

    layers = []
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, seed=layer_seed(0)))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, seed=layer_seed(1)))
    if flip is not None:
        layers.append(keras.layers.RandomFlip(flip, seed=layer_seed(2)))
    return keras.layers.Pipeline(layers, name="default_image_augmenter")


def augment_minority(
    dataset,
    augmenter,
    *,
    class_counts,
    power=1.0,
    max_probability=1.0,
    seed=None,
):
    """Augment each sample with a probability that grows with its class's rarity.

    A sample of class `c` is replaced by `augmenter(x)` with probability

        p_c = max_probability * (1 - n_c / n_max) ** power,

    `n_c` the count of class `c` and `n_max` the largest count. The head class
    (`p = 0`) is never augmented and comes out bit-identical; the rarest class
    is augmented almost always. `power > 1` concentrates augmentation on the
    very rarest classes, `power < 1` spreads it to the medium ones, and
    `power=0` augments every class with `max_probability` (the class-agnostic
    baseline, `0 ** 0 = 1`). Class-aware augmentation in the sense of Shorten
    & Khoshgoftaar, "A survey on Image Data Augmentation for Deep Learning"
    (J. Big Data, 2019).

    The dataset yields `(x, y)` or `(x, y, sample_weight)`, unbatched or
    batched; the output has the same element structure, order, dtypes and
    batching. An unbatched dataset is augmented in blocks of 64 samples (one
    at a time when its shapes vary) and unbatched again, so the augmenter runs
    vectorised inside `tf.data`; of each batch, only the chosen samples are
    gathered, augmented and scattered back. Integer inputs (`uint8` images)
    are rounded and saturated back to their dtype.

    Labels are integer class ids or one-hot (soft) rows, read by their
    argmax. The layout is read from the label shape, with `C =
    len(class_counts)`: `()` or `(1,)` is one unbatched id, `(C,)` one
    unbatched one-hot row, `(B,)` or `(B, 1)` a batch of ids and `(B, C)` a
    batch of one-hot rows (so a batched dataset of static batch size 1 or
    `C`, from `drop_remainder=True`, is read as unbatched: batch it after).

    Randomness depends on `seed` alone, not on TensorFlow's global seed
    (`tf.random.set_seed`) nor on how often the augmenter ran before: which
    samples are augmented is drawn statelessly from `seed`, the epoch and
    the block (or batch), and before each block the seed-generator state of
    every Keras random layer in `augmenter` (a `keras.random.SeedGenerator`,
    as in `RandomFlip`, `RandomRotation`, `RandomZoom`, found in
    `augmenter.variables`) is set from the same key, so the augmented values
    are fixed by `seed` too and the layers' own `seed` arguments play no
    part. The same `seed` thus gives the same output on every run and new
    choices and transformations every epoch. What this cannot reach stays
    the augmenter's own: a plain function drawing with `tf.random.uniform`
    (which follows the global seed; use `tf.random.stateless_*` ops), or a
    Keras layer drawing from the global Keras generator (no `SeedGenerator`
    of its own, as with a `seed=None` random op inside a custom layer); and,
    under a Keras backend other than TensorFlow, the layers' values, which
    then come from TensorFlow generators the layers create on first use in
    `tf.data` and do not list in `variables` (these follow the layers' own
    `seed` and how often they ran, still not the global seed). The layers'
    states are rewritten as the pipeline runs, which is why it maps
    sequentially: add `.prefetch(tf.data.AUTOTUNE)` after it.

    Args:
        dataset: A `tf.data.Dataset` of `(x, y)` or `(x, y, sample_weight)`;
            `x` a tensor or a dict of tensors (multi-input).
        augmenter: A callable that maps a batch of inputs to a batch of the
            same shape: a Keras preprocessing layer, `keras.layers.Pipeline`
            or `keras.Sequential` (called with `training=True`), or any
            function of tensors. For dict inputs, either one callable that
            takes and returns the dict, or a dict `{input_name: callable}`
            (inputs it leaves out pass unchanged). Under the JAX and PyTorch
            backends a `keras.Sequential` cannot run inside `tf.data`; its
            layers are then run as a `keras.layers.Pipeline` (the same layer
            objects, in order).
        class_counts: One non-negative count per class, e.g. from
            `keras_imbalance.class_counts`.
        power: Exponent of the rarity `1 - n_c / n_max`, `>= 0`. Defaults to
            `1.0`.
        max_probability: Probability for a class of zero count, in `[0, 1]`.
            Defaults to `1.0`.
        seed: Integer seed of the augmentation choices and of the Keras
            random layers in `augmenter` (see above). Defaults to `None`
            (not reproducible).

    Returns:
        A `tf.data.Dataset` with the element structure of `dataset`.

    Raises:
        ValueError: for a bad argument, labels whose width differs from
            `len(class_counts)`, or a dict augmenter naming unknown inputs.
        TypeError: when `dataset` is not a `tf.data.Dataset` or `augmenter`
            is not callable.

    Example:

    >>> import numpy as np
    >>> import tensorflow as tf
    >>> x = np.zeros((6, 2), "float32")
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> ds = tf.data.Dataset.from_tensor_slices((x, y))
    >>> out = augment_minority(ds, lambda t: t + 1.0, class_counts=[4, 2], seed=0)
    >>> [float(v[0]) for v, label in out.as_numpy_iterator() if label == 0]
    [0.0, 0.0, 0.0, 0.0]
    >>> out.element_spec[0]
    TensorSpec(shape=(2,), dtype=tf.float32, name=None)
    """
    spec = check_dataset("dataset", dataset, "augment_minority")
    counts = check_class_counts("class_counts", class_counts)
    power = check_float("power", power, low=0)
    max_probability = check_float("max_probability", max_probability, low=0, high=1)
    seed = check_seed(seed)
    augmenter = _check_augmenter(augmenter, spec[0])
    num_classes = counts.size
    probabilities = _augment_probabilities(counts, power, max_probability)
    batched, sparse = _label_layout(spec, num_classes)
    seed_states = _seed_states(augmenter)

    def augment_batch(element, key):
        x = element[0]
        ids = assert_ids_in_range(class_ids(element[1], sparse), num_classes)
        p = tf.gather(tf.constant(probabilities, tf.float32), ids)
        u = tf.random.stateless_uniform(tf.shape(ids), seed=stateless_seed(key, 0))
        chosen = tf.where(u < p)[:, 0]
        # The layers draw from these states: setting them from the key makes
        # the augmentation a function of `seed`, the epoch and the block.
        reseed = [
            state.assign(tf.cast(stateless_seed(key, 1 + i), state.dtype))
            for i, state in enumerate(seed_states)
        ]
        with tf.control_dependencies(reseed):
            x = tf.cond(
                tf.size(chosen) > 0,
                lambda: _augment_rows(x, chosen, augmenter),
                lambda: x,
            )
        return (x, *element[1:])

    if batched:
        return with_keys(dataset, seed).map(augment_batch)
    fixed = all(s.shape.is_fully_defined() for s in tf.nest.flatten(spec))
    blocks = dataset.batch(_BLOCK_SIZE if fixed else 1)
    out = with_keys(blocks, seed).map(augment_batch).unbatch()
    # `unbatch` forgets the length; keep it so that `fit` knows its epoch.
    cardinality = int(dataset.cardinality())
    if cardinality != int(tf.data.UNKNOWN_CARDINALITY):
        out = out.apply(tf.data.experimental.assert_cardinality(cardinality))
    return out


def _augment_probabilities(counts, power, max_probability):
    """p_c = max_probability * (1 - n_c / n_max) ** power (`0 ** 0 = 1`)."""
    rarity = 1.0 - counts / counts.max()
    return max_probability * np.power(np.clip(rarity, 0.0, 1.0), power)


def _seed_states(augmenter):
    """The `SeedGenerator` state variables of the Keras layers in `augmenter`.

    None off TensorFlow: there the listed states are the backend's arrays,
    and inside `tf.data` the layers draw from TensorFlow generators of their
    own instead (see `augment_minority`).
    """
    if keras.backend.backend() != "tensorflow":
        return []
    functions = augmenter.values() if isinstance(augmenter, dict) else [augmenter]
    states, seen = [], set()
    for function in functions:
        if not isinstance(function, keras.layers.Layer):
            continue
        for variable in function.variables:
            if variable.name == "seed_generator_state" and id(variable) not in seen:
                seen.add(id(variable))
                states.append(variable)
    return states


def _in_tf_data(function):
    """`function`, as it can run inside `tf.data` on this Keras backend.

    A `keras.Sequential` converts its inputs to backend tensors, which JAX
    and PyTorch cannot do inside a TensorFlow graph; a `keras.layers.Pipeline`
    of the same layers runs them with TensorFlow ops there.
    """
    if (
        isinstance(function, keras.Sequential)
        and keras.backend.backend() != "tensorflow"
    ):
        return keras.layers.Pipeline(function.layers, name=function.name)
    return function


def _check_augmenter(augmenter, x_spec):
    if isinstance(augmenter, dict):
        if not isinstance(x_spec, dict):
            raise ValueError(
                "A dict `augmenter` {input_name: callable} needs a dataset "
                f"whose inputs `x` are a dict. Received: x spec {x_spec}"
            )
        unknown = sorted(set(augmenter) - set(x_spec), key=str)
        if not augmenter or unknown:
            raise ValueError(
                "Invalid value for argument `augmenter`. Expected a dict whose "
                f"keys are inputs of the dataset ({sorted(x_spec)}). Received "
                f"keys: {sorted(augmenter, key=str)}"
            )
        for name, value in augmenter.items():
            if not callable(value):
                raise TypeError(
                    f"`augmenter[{name!r}]` must be callable (a Keras layer or "
                    f"a function). Received: {value!r}"
                )
        return {name: _in_tf_data(value) for name, value in augmenter.items()}
    if not callable(augmenter):
        raise TypeError(
            "`augmenter` must be callable (a Keras preprocessing layer, a "
            "`keras.Sequential` or a function) or a dict of callables. "
            f"Received: augmenter={augmenter!r}"
        )
    return _in_tf_data(augmenter)


def _label_layout(spec, num_classes):
    """(batched, sparse) from the label spec; see `augment_minority`."""
    shape = spec[1].shape
    rank = shape.rank
    if rank == 0:
        return False, True
    if rank == 1 and shape[0] == 1:
        return False, True
    if rank == 1 and shape[0] == num_classes and num_classes > 1:
        return False, False
    if rank == 1:
        layout = True, True
    elif rank == 2 and shape[1] == 1:
        layout = True, True
    elif rank == 2 and shape[1] in (None, num_classes):
        layout = True, False
    elif rank == 2:
        raise ValueError(
            f"Labels of shape {shape} are one-hot rows of {shape[1]} classes, "
            f"but `class_counts` has {num_classes} entries: give one count per "
            "class."
        )
    else:
        raise ValueError(
            "`augment_minority` takes labels of shape (), (1,) or (C,) per "
            f"sample, or (B,), (B, 1) or (B, C) per batch. Received: labels of "
            f"shape {shape}"
        )
    if not leading_dims_agree(spec):
        raise ValueError(
            f"Labels of shape {shape} read as a batch, but the inputs have "
            f"another leading dimension ({spec}). Unbatched one-hot labels "
            "need one entry per class, and `class_counts` has "
            f"{num_classes} entries."
        )
    return layout


def _call(augmenter, value):
    if isinstance(augmenter, keras.layers.Layer):
        return augmenter(value, training=True)
    return augmenter(value)


def _restore(new, old):
    """Cast augmented values back to the input's dtype, checking the shape."""
    new = tf.convert_to_tensor(new)
    if not new.shape.is_compatible_with(old.shape):
        raise ValueError(
            "The augmenter must keep the shape of its input. Received: input "
            f"shape {old.shape}, augmented shape {new.shape}"
        )
    if new.dtype == old.dtype:
        return new
    if old.dtype.is_integer:
        if new.dtype.is_floating:
            new = tf.round(new)
        return tf.saturate_cast(new, old.dtype)
    return tf.cast(new, old.dtype)


def _augment_rows(x, chosen, augmenter):
    """Replace the rows `chosen` of `x` (a tensor or a dict) by augmented ones."""

    def augment(value, function):
        rows = tf.nest.map_structure(lambda t: tf.gather(t, chosen), value)
        out = _call(function, rows)
        tf.nest.assert_same_structure(rows, out)
        return tf.nest.map_structure(
            lambda old, new, t: tf.tensor_scatter_nd_update(
                t, chosen[:, None], _restore(new, old)
            ),
            rows,
            out,
            value,
        )

    if isinstance(augmenter, dict):
        return {
            name: augment(value, augmenter[name]) if name in augmenter else value
            for name, value in x.items()
        }
    return augment(x, augmenter)
