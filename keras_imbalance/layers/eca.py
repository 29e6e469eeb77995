"""Efficient channel attention (Wang et al. 2020).

Wang, Wu, Zhu, Li, Zuo, Hu. "ECA-Net: Efficient Channel Attention for Deep
Convolutional Neural Networks". CVPR 2020. https://arxiv.org/abs/1910.03151
"""

import math

import keras
from keras import ops

from keras_imbalance._validation import check_float
from keras_imbalance.layers._common import (
    check_data_format,
    check_odd_int,
    expand_to_map,
    feature_map_axes,
    global_pool,
)

__all__ = ["EfficientChannelAttention", "eca_kernel_size"]


def eca_kernel_size(channels, gamma=2, b=1):
    """The adaptive ECA kernel size `k = |log2(C) / gamma + b / gamma|_odd`.

    As in the authors' code: `t = int(|(log2(C) + b) / gamma|)`, then
    `k = t` if `t` is odd, else `t + 1`.

    Example:

    >>> [eca_kernel_size(c) for c in (16, 64, 256, 512)]
    [3, 3, 5, 5]
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


@keras.saving.register_keras_serializable(package="keras_imbalance")
class EfficientChannelAttention(keras.layers.Layer):
    """Efficient channel attention: a 1-D convolution across pooled channels.

    `s = sigmoid(conv1d_k(z))`, `z = mean over positions of x` (shape
    `(B, C)`, convolved along the channel axis, no bias), `y = x * s`.

    Unlike squeeze-and-excitation there is no bottleneck: each channel's gate
    depends on its `k` neighbours, with only `k` weights in all. With
    `kernel_size=None`, `k` adapts to the channel count:
    `k = |log2(C) / gamma + b / gamma|_odd` (see `eca_kernel_size`). On a 1-D
    map with a Keras mask, masked steps are left out of the pooling.

    Reference: Wang et al., "ECA-Net: Efficient Channel Attention for Deep
    Convolutional Neural Networks", CVPR 2020.

    Args:
        kernel_size: Positive odd integer, or `None` for the adaptive size.
            Defaults to `None`.
        gamma: Positive float of the adaptive rule. Defaults to `2`.
        b: Float offset of the adaptive rule. Defaults to `1`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `None` (`keras.config.image_data_format()`).
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A feature map of rank 3, 4 or 5 with a known channel count.
        mask: Optional `(B, T)` mask of a 1-D map.

    Returns:
        The re-weighted input, with the input's shape.

    Example:

    >>> import numpy as np
    >>> layer = EfficientChannelAttention()
    >>> tuple(layer(np.random.rand(2, 8, 8, 64).astype("float32")).shape)
    (2, 8, 8, 64)
    >>> layer.conv.kernel_size
    (3,)
    """

    def __init__(self, kernel_size=None, gamma=2, b=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = (
            None if kernel_size is None else check_odd_int("kernel_size", kernel_size)
        )
        self.gamma = check_float("gamma", gamma, low=0, low_open=True)
        self.b = check_float("b", b)
        self.data_format = check_data_format(data_format)
        self.supports_masking = True

    def build(self, input_shape):
        _, self._spatial_axes, channels = feature_map_axes(
            input_shape, self.data_format, type(self).__name__
        )
        kernel_size = self.kernel_size or eca_kernel_size(channels, self.gamma, self.b)
        self.conv = keras.layers.Conv1D(
            1,
            kernel_size,
            padding="same",
            use_bias=False,
            data_format="channels_last",
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="conv",
        )
        self.conv.build((None, channels, 1))

    def call(self, inputs, mask=None):
        mask = mask if len(self._spatial_axes) == 1 else None
        pooled = global_pool(inputs, self._spatial_axes, "avg", mask)
        gates = ops.sigmoid(self.conv(ops.expand_dims(pooled, -1))[..., 0])
        return inputs * expand_to_map(gates, len(inputs.shape), self.data_format)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "gamma": self.gamma,
                "b": self.b,
                "data_format": self.data_format,
            }
        )
        return config
