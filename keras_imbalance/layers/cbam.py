"""Convolutional block attention module (Woo et al. 2018): channel, then spatial.

Woo, Park, Lee, Kweon. "CBAM: Convolutional Block Attention Module".
ECCV 2018. https://arxiv.org/abs/1807.06521
"""

import keras
from keras import ops

from keras_imbalance.layers._common import (
    check_data_format,
    check_positive_int,
    expand_to_map,
    feature_map_axes,
    global_pool,
)

__all__ = ["CBAM", "ChannelAttention", "SpatialAttention"]

_CONVOLUTIONS = {3: keras.layers.Conv1D, 4: keras.layers.Conv2D, 5: keras.layers.Conv3D}


@keras.saving.register_keras_serializable(package="keras_imbalance")
class ChannelAttention(keras.layers.Layer):
    """CBAM channel attention: a shared MLP over average- and max-pooled channels.

    `M_c = sigmoid(MLP(AvgPool(x)) + MLP(MaxPool(x)))`, `y = x * M_c`, with
    `MLP(z) = W_2 relu(W_1 z + b_1) + b_2` shared by both descriptors and a
    hidden width of `max(1, C // reduction)`.

    Works on 1-D, 2-D and 3-D maps in either layout; on a 1-D map with a
    Keras mask, masked steps are left out of both poolings.

    Reference: Woo et al., "CBAM: Convolutional Block Attention Module",
    ECCV 2018.

    Args:
        reduction: Positive integer; the hidden layer has
            `max(1, C // reduction)` units. Defaults to `16`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `None` (`keras.config.image_data_format()`).
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A feature map of rank 3, 4 or 5 with a known channel count.
        mask: Optional `(B, T)` mask of a 1-D map.

    Returns:
        The channel-re-weighted input, with the input's shape.

    Example:

    >>> import numpy as np
    >>> layer = ChannelAttention(reduction=4)
    >>> tuple(layer(np.random.rand(2, 8, 8, 16).astype("float32")).shape)
    (2, 8, 8, 16)
    """

    def __init__(self, reduction=16, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.reduction = check_positive_int("reduction", reduction)
        self.data_format = check_data_format(data_format)
        self.supports_masking = True

    def build(self, input_shape):
        _, self._spatial_axes, channels = feature_map_axes(
            input_shape, self.data_format, type(self).__name__
        )
        self.hidden_dense = keras.layers.Dense(
            max(1, channels // self.reduction),
            activation="relu",
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="hidden",
        )
        self.output_dense = keras.layers.Dense(
            channels, dtype=self.dtype_policy, trainable=self.trainable, name="output"
        )
        self.hidden_dense.build((None, channels))
        self.output_dense.build((None, self.hidden_dense.units))

    def call(self, inputs, mask=None):
        mask = mask if len(self._spatial_axes) == 1 else None
        logits = 0
        for kind in ("avg", "max"):
            descriptor = global_pool(inputs, self._spatial_axes, kind, mask)
            logits = logits + self.output_dense(self.hidden_dense(descriptor))
        gates = ops.sigmoid(logits)
        return inputs * expand_to_map(gates, len(inputs.shape), self.data_format)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"reduction": self.reduction, "data_format": self.data_format})
        return config


@keras.saving.register_keras_serializable(package="keras_imbalance")
class SpatialAttention(keras.layers.Layer):
    """CBAM spatial attention: a convolution over channel-wise average and max maps.

    `M_s = sigmoid(conv_k([mean_c(x); max_c(x)]))`, `y = x * M_s` (broadcast
    over the channels), where `conv_k` is a `kernel_size`-wide, `"same"`-padded
    convolution from 2 maps to 1 (`Conv1D`, `Conv2D` or `Conv3D` by the input
    rank).

    Reference: Woo et al., "CBAM: Convolutional Block Attention Module",
    ECCV 2018.

    Args:
        kernel_size: Positive integer, the width of the convolution along each
            spatial axis. Defaults to `7`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `None` (`keras.config.image_data_format()`).
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A feature map of rank 3, 4 or 5.

    Returns:
        The spatially re-weighted input, with the input's shape.

    Example:

    >>> import numpy as np
    >>> layer = SpatialAttention(kernel_size=3)
    >>> tuple(layer(np.random.rand(2, 8, 8, 16).astype("float32")).shape)
    (2, 8, 8, 16)
    """

    def __init__(self, kernel_size=7, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.data_format = check_data_format(data_format)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        feature_map_axes(
            input_shape, self.data_format, type(self).__name__, need_channels=False
        )
        self._channel_axis = -1 if self.data_format == "channels_last" else 1
        # The two pooled maps are stacked last, whatever the input's layout,
        # so the convolution always runs channels-last (TensorFlow's CPU
        # convolutions take no other layout).
        self.conv = _CONVOLUTIONS[rank](
            1,
            self.kernel_size,
            padding="same",
            activation="sigmoid",
            data_format="channels_last",
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="conv",
        )
        if self.data_format == "channels_last":
            spatial = tuple(input_shape[1:-1])
        else:
            spatial = tuple(input_shape[2:])
        self.conv.build((None, *spatial, 2))

    def call(self, inputs):
        pooled = ops.stack(
            [
                ops.mean(inputs, axis=self._channel_axis),
                ops.max(inputs, axis=self._channel_axis),
            ],
            axis=-1,
        )
        attention = self.conv(pooled)
        if self.data_format == "channels_first":
            attention = ops.moveaxis(attention, -1, 1)
        return inputs * attention

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"kernel_size": self.kernel_size, "data_format": self.data_format}
        )
        return config


@keras.saving.register_keras_serializable(package="keras_imbalance")
class CBAM(keras.layers.Layer):
    """Convolutional block attention module: channel attention, then spatial.

    `x' = x * M_c(x)`, `y = x' * M_s(x')`, with `M_c` from `ChannelAttention`
    (shared MLP over average- and max-pooled channels) and `M_s` from
    `SpatialAttention` (a convolution over channel-wise average and max maps),
    both sigmoid gates in `(0, 1)`.

    Reference: Woo et al., "CBAM: Convolutional Block Attention Module",
    ECCV 2018.

    Args:
        reduction: Positive integer, the channel MLP's reduction ratio.
            Defaults to `16`.
        kernel_size: Positive integer, the spatial convolution's width.
            Defaults to `7`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `None` (`keras.config.image_data_format()`).
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A feature map of rank 3, 4 or 5 with a known channel count.
        mask: Optional `(B, T)` mask of a 1-D map (used by the channel part).

    Returns:
        The re-weighted input, with the input's shape.

    Example:

    >>> import numpy as np
    >>> layer = CBAM(reduction=4, kernel_size=3)
    >>> tuple(layer(np.random.rand(2, 8, 8, 16).astype("float32")).shape)
    (2, 8, 8, 16)
    """

    def __init__(self, reduction=16, kernel_size=7, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.reduction = check_positive_int("reduction", reduction)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.data_format = check_data_format(data_format)
        self.supports_masking = True
        self.channel_attention = ChannelAttention(
            self.reduction,
            data_format=self.data_format,
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="channel_attention",
        )
        self.spatial_attention = SpatialAttention(
            self.kernel_size,
            data_format=self.data_format,
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="spatial_attention",
        )

    def build(self, input_shape):
        for sublayer in (self.channel_attention, self.spatial_attention):
            if not sublayer.built:
                sublayer.build(input_shape)

    def call(self, inputs, mask=None):
        return self.spatial_attention(self.channel_attention(inputs, mask=mask))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "reduction": self.reduction,
                "kernel_size": self.kernel_size,
                "data_format": self.data_format,
            }
        )
        return config
