"""Helpers shared by the layers: argument checks, layouts, pooling, normalisation."""

import numbers

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import check_one_of, invalid
from keras_imbalance._validation import (  # re-exported for the layers
    check_positive_int as check_positive_int,
)

DATA_FORMATS = ("channels_last", "channels_first")


def check_odd_int(name, value):
    """A positive odd integer (a 'same'-padded kernel centred on its position)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (numbers.Integral, np.integer))
        or value < 1
        or value % 2 == 0
    ):
        raise invalid(name, "a positive odd integer", value)
    return int(value)


def check_data_format(data_format):
    """`None` resolves to `keras.config.image_data_format()`, as in Keras layers."""
    if data_format is None:
        return keras.config.image_data_format()
    if isinstance(data_format, str):
        data_format = data_format.lower()
    return check_one_of("data_format", data_format, DATA_FORMATS)


def check_activation(name, identifier):
    """A Keras activation identifier; returns its serialized (JSON-plain) form."""
    try:
        function = keras.activations.get(identifier)
    except (ValueError, TypeError):
        raise invalid(
            name, 'a Keras activation such as "relu" or "sigmoid"', identifier
        ) from None
    return keras.activations.serialize(function)


def feature_map_axes(input_shape, data_format, layer_name, need_channels=True):
    """`(channel_axis, spatial_axes, channels)` of a 1-D, 2-D or 3-D feature map."""
    rank = len(input_shape)
    if rank not in (3, 4, 5):
        raise ValueError(
            f"`{layer_name}` expects a 1-D, 2-D or 3-D feature map: an input of "
            f"rank 3, 4 or 5 (batch, spatial..., channels). Received: "
            f"input_shape={tuple(input_shape)}"
        )
    if data_format == "channels_last":
        channel_axis, spatial_axes = rank - 1, tuple(range(1, rank - 1))
    else:
        channel_axis, spatial_axes = 1, tuple(range(2, rank))
    channels = input_shape[channel_axis]
    if channels is None and need_channels:
        raise ValueError(
            f"`{layer_name}` needs a known number of channels (axis "
            f"{channel_axis} with data_format={data_format!r}). Received: "
            f"input_shape={tuple(input_shape)}"
        )
    return channel_axis, spatial_axes, channels


def global_pool(inputs, spatial_axes, kind, mask=None):
    """Mean or max over `spatial_axes` -> `(B, C)`; a `(B, T)` mask skips steps."""
    if mask is None:
        reduce = ops.mean if kind == "avg" else ops.max
        return reduce(inputs, axis=spatial_axes)
    # 1-D map: mask (B, T); put it on the time axis of the input's layout.
    mask = ops.cast(mask, "bool")
    time_axis = spatial_axes[0]
    expanded = ops.expand_dims(mask, axis=-1 if time_axis == 1 else 1)
    if kind == "avg":
        weights = ops.cast(expanded, inputs.dtype)
        total = ops.sum(inputs * weights, axis=time_axis)
        count = ops.maximum(ops.sum(weights, axis=time_axis), 1.0)
        return total / count
    lowest = ops.full_like(inputs, _lowest(inputs.dtype))
    pooled = ops.max(ops.where(expanded, inputs, lowest), axis=time_axis)
    # A sample whose every step is masked pools to 0, not to the lowest float.
    any_valid = ops.any(mask, axis=-1, keepdims=True)
    return ops.where(any_valid, pooled, ops.zeros_like(pooled))


def _lowest(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    return -6.0e4 if dtype == "float16" else -3.0e38


def expand_to_map(gates, rank, data_format):
    """`(B, C)` gates -> `(B, 1, ..., C)` or `(B, C, 1, ...)` for broadcasting."""
    axis = 1 if data_format == "channels_last" else -1
    for _ in range(rank - 2):
        gates = ops.expand_dims(gates, axis=axis)
    return gates


def l2_normalize(x, axis=-1):
    """`x / ||x||` along `axis`, computed in float32 (safe under mixed precision)."""
    dtype = x.dtype
    x = ops.cast(x, "float32")
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.cast(x * ops.rsqrt(ops.maximum(square_sum, 1e-12)), dtype)


def large_negative(dtype):
    """A logit that softmax turns into 0, representable in `dtype`."""
    dtype = keras.backend.standardize_dtype(dtype)
    return -3.0e4 if dtype == "float16" else -1.0e9
