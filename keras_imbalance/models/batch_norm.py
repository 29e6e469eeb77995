"""Precise BatchNorm: re-estimate the moving statistics with the final weights.

During training a `BatchNormalization` layer keeps an exponential moving
average of the batch statistics it saw, each computed with the weights of its
own step. Under a constant learning rate (or after few steps) that average
trails the final weights, and inference, which normalises by it, drifts from
what the network learned: on a dense head the drift is a random per-class
bias. Re-estimating the statistics over the training data with the final
weights removes it (Wu & Johnson 2021, "precise BN").
"""

import itertools

import keras
import numpy as np
from keras import ops

from keras_imbalance._logs import without_retracing_notices
from keras_imbalance._validation import check_optional_int, check_positive_int

__all__ = ["recompute_batch_norm_statistics"]


def recompute_batch_norm_statistics(model, x, *, batch_size=32, steps=None):
    """Re-estimate every trainable BatchNormalization's moving statistics.

    Runs the whole model in training mode over batches of `x` with its current
    weights and sets the moving mean and variance of each trainable
    `keras.layers.BatchNormalization` to the average over batches of the batch
    mean and variance of its input (Keras' convention: the biased variance,
    `mean((x - mean)^2)`). As in training, and in fvcore's `update_bn_stats`,
    the layers upstream of a BatchNormalization normalise by batch statistics
    in these passes; Dropout is active too. Each batch counts once, whatever
    its size, as in fvcore.

    Layers are found anywhere in the model: nested models, layers shared
    between models (a layer reached twice is updated once), sublayers of
    custom layers. A frozen BatchNormalization (`trainable=False`, or inside
    a frozen model) runs in inference mode and keeps its statistics; so does
    one the forward pass does not reach. A layer called several times in one
    forward pass (the shared trunk of the bilateral-branch *train* model) gets
    the statistics of its last call: recompute on the model you evaluate (the
    inference model, which shares the layers). Trainable weights and every
    other variable of the model (other layers' state, Dropout's seed) are left
    as they were.

    Use batches of the training batch size, with the training data (and its
    augmentation, if any), to get the statistics training normalised by;
    a few hundred batches are plenty (Wu & Johnson use 100 x 32 images on
    ImageNet). Run it after the last change of weights (after
    `EarlyStopping(restore_best_weights=True)` or weight averaging) and before
    evaluating, saving or exporting. The per-batch passes are compiled by the
    backend (through `predict_on_batch` of a probe model).

    Reference: Wu, Johnson. "Rethinking 'Batch' in BatchNorm". 2021.
    https://arxiv.org/abs/2105.07576 ; fvcore's
    `fvcore.nn.precise_bn.update_bn_stats`.

    Args:
        model: A built `keras.Model`.
        x: Inputs: a NumPy array or tensor `(N, ...)`, a list/tuple/dict of
            them for a multi-input model (cut into batches of `batch_size`),
            or an iterable of batches (a `tf.data.Dataset`, a generator, a
            `keras.utils.PyDataset`) yielding inputs or `(x, y)` /
            `(x, y, sample_weight)` tuples, whose targets are ignored. An
            infinite iterable needs `steps`.
        batch_size: Batch size for array inputs (ignored for iterables).
            Defaults to `32`.
        steps: Use at most this many batches. Defaults to `None` (all).

    Returns:
        The number of BatchNormalization layers updated (`0` for a model
        without a trainable one, which is left as it was).

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
    ...                           keras.layers.BatchNormalization()])
    >>> x = np.random.default_rng(0).normal(5.0, 2.0, (256, 3)).astype("float32")
    >>> recompute_batch_norm_statistics(model, x, batch_size=64)
    1
    >>> features = keras.ops.convert_to_numpy(model.layers[0](x))
    >>> moving_mean = keras.ops.convert_to_numpy(model.layers[1].moving_mean)
    >>> bool(np.allclose(moving_mean, features.mean(axis=0), atol=1e-4))
    True
    """
    # Validate.
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a `keras.Model`. "
            f"Received: model of type {type(model).__name__}"
        )
    batch_size = check_positive_int("batch_size", batch_size)
    steps = check_optional_int("steps", steps, low=1)
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built yet: call it on data (or fit "
            "it) before recomputing its BatchNormalization statistics."
        )
    batches = _batches(x, batch_size, steps)
    layers = [layer for layer in _batch_norm_layers(model) if layer.trainable]
    layers = [layer for layer in layers if layer.moving_mean is not None]
    for layer in layers:
        if layer.renorm:
            raise ValueError(
                f"BatchNormalization layer {layer.name!r} uses batch "
                "renormalization (`renorm=True`), whose statistics "
                "`recompute_batch_norm_statistics` does not re-estimate."
            )
    if not layers:
        return 0

    # Run the model in training mode, reading each layer's batch statistics.
    targets = {id(v) for layer in layers for v in layer.non_trainable_weights}
    saved = [v for v in model.variables if not v.trainable or id(v) in targets]
    saved = [(v, ops.convert_to_numpy(v)) for v in saved]
    momenta = [layer.momentum for layer in layers]
    sums = [None] * len(layers)
    reached = [False] * len(layers)
    count = 0
    try:
        for layer in layers:
            # With momentum 0 the update `moving * momentum + batch * (1 -
            # momentum)` writes the batch statistics themselves; starting from
            # (0, 1) rather than stale values keeps a non-finite one out.
            layer.momentum = 0.0
            # `ops.zeros(shape)`, not `zeros_like(variable)`: JAX cannot
            # convert a Keras variable given to `zeros_like`.
            mean, variance = layer.moving_mean, layer.moving_variance
            mean.assign(ops.zeros(mean.shape, dtype=mean.dtype))
            variance.assign(ops.ones(variance.shape, dtype=variance.dtype))
        probe = _BatchStatisticsProbe(model, layers)
        for batch in batches:
            # Each call's new probe traces once: a retracing notice after a
            # few models in a row would blame the user for nothing.
            with without_retracing_notices():
                statistics = probe.predict_on_batch(batch)
            for i, (mean, variance) in enumerate(statistics):
                mean = np.asarray(mean, dtype="float64")
                variance = np.asarray(variance, dtype="float64")
                # A layer the pass does not reach keeps the (0, 1) it was
                # given, which no reached one keeps in every channel.
                reached[i] = reached[i] or bool(
                    np.any(mean != 0.0) or np.any(variance != 1.0)
                )
                if sums[i] is None:
                    sums[i] = [mean, variance]
                else:
                    sums[i][0] += mean
                    sums[i][1] += variance
            count += 1
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        for variable, value in saved:
            variable.assign(value)
    if count == 0:
        raise ValueError(
            "`x` yielded no batches: BatchNormalization statistics need at "
            "least one batch of inputs."
        )

    # Assign the averages.
    updated = 0
    for layer, is_reached, (mean_sum, variance_sum) in zip(layers, reached, sums):
        if not is_reached:
            continue
        dtype = layer.moving_mean.dtype
        layer.moving_mean.assign((mean_sum / count).astype(dtype))
        layer.moving_variance.assign((variance_sum / count).astype(dtype))
        updated += 1
    return updated


class _BatchStatisticsProbe(keras.Model):
    """Calls `model` in training mode and returns its layers' moving statistics.

    With the layers' momentum at 0 these are the batch statistics of the call.
    Wrapping the call in a model lets `predict_on_batch` compile it with the
    backend (`tf.function`, `jax.jit`) through public API only.
    """

    def __init__(self, model, layers):
        super().__init__(name="batch_statistics_probe")
        self.probed_model = model
        self.probed_layers = list(layers)

    def call(self, inputs, training=None):
        self.probed_model(inputs, training=True)
        return [
            (
                ops.convert_to_tensor(layer.moving_mean),
                ops.convert_to_tensor(layer.moving_variance),
            )
            for layer in self.probed_layers
        ]


def _batch_norm_layers(model):
    """Every distinct BatchNormalization reachable from `model`, depth first."""
    found, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        for child in _sublayers(layer):
            visit(child)

    visit(model)
    return found


def _sublayers(layer):
    """A layer's direct sublayers: `Model.layers`, or its layer attributes."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    children = []
    for value in vars(layer).values():
        values = list(value.values()) if isinstance(value, dict) else value
        if isinstance(values, (list, tuple)):
            children.extend(v for v in values if isinstance(v, keras.layers.Layer))
        elif isinstance(value, keras.layers.Layer):
            children.append(value)
    return children


def _batches(x, batch_size, steps):
    """An iterator over the input batches of `x` (arrays are checked now)."""
    if isinstance(x, (dict, list, tuple)) or _is_array(x):
        return _array_batches(x, batch_size, steps)
    try:
        # A `tf.data.Dataset` yields NumPy batches: a JAX model's compiled
        # step cannot take TensorFlow tensors.
        numpy_batches = getattr(x, "as_numpy_iterator", None)
        batches = numpy_batches() if callable(numpy_batches) else iter(x)
    except TypeError:
        raise TypeError(
            "`x` must be an array or tensor, a list/tuple/dict of them, or an "
            "iterable of batches (e.g. a `tf.data.Dataset`). "
            f"Received: x of type {type(x).__name__}"
        ) from None
    inputs = (keras.utils.unpack_x_y_sample_weight(b)[0] for b in batches)
    return itertools.islice(inputs, steps)


def _is_array(x):
    return isinstance(x, np.ndarray) or ops.is_tensor(x)


def _array_batches(x, batch_size, steps):
    if isinstance(x, dict):
        names = list(x)
        arrays = [x[name] for name in names]
    else:
        names, arrays = None, list(x) if isinstance(x, (list, tuple)) else [x]
    arrays = [a if _is_array(a) else np.asarray(a) for a in arrays]
    if not arrays or any(len(a.shape) == 0 for a in arrays):
        raise ValueError(
            "`x` must hold arrays with a leading sample axis. Received: "
            f"shapes {[tuple(a.shape) for a in arrays]}"
        )
    sizes = sorted({int(a.shape[0]) for a in arrays})
    if len(sizes) > 1:
        raise ValueError(
            f"All inputs in `x` must have the same number of samples. Received: {sizes}"
        )
    num_samples = sizes[0]
    if num_samples == 0:
        raise ValueError(
            "`x` has no samples (received inputs of shapes "
            f"{[tuple(a.shape) for a in arrays]}): BatchNormalization "
            "statistics need at least one sample."
        )
    starts = range(0, num_samples, batch_size)
    if steps is not None:
        starts = starts[:steps]

    def generate():
        for start in starts:
            parts = [a[start : start + batch_size] for a in arrays]
            if names is not None:
                yield dict(zip(names, parts))
            elif isinstance(x, (list, tuple)):
                yield parts
            else:
                yield parts[0]

    return generate()
