"""Squeeze-and-excitation channel attention (Hu et al. 2018).

Hu, Shen, Albanie, Sun, Wu. "Squeeze-and-Excitation Networks". CVPR 2018.
https://arxiv.org/abs/1709.01507
"""

import keras

from keras_imbalance.layers._common import (
    check_activation,
    check_data_format,
    check_positive_int,
    expand_to_map,
    feature_map_axes,
    global_pool,
)

__all__ = ["SqueezeExcitation"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class SqueezeExcitation(keras.layers.Layer):
    """Squeeze-and-excitation block: re-weights the channels of a feature map.

    `s = gate(W_2 activation(W_1 z + b_1) + b_2)`, `z = mean over positions of x`,
    `y = x * s` (broadcast over the positions).

    The squeeze `z` (global average pooling, shape `(B, C)`) goes through a
    bottleneck of `max(1, C // reduction)` units and back to `C` gates in
    `(0, 1)` that scale each channel of the input. Works on 1-D `(B, T, C)`,
    2-D `(B, H, W, C)` and 3-D `(B, D, H, W, C)` maps, or their
    `channels_first` layouts. On a 1-D map with a Keras mask, masked steps are
    left out of the squeeze; the mask passes through.

    Reference: Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018.

    Args:
        reduction: Positive integer; the bottleneck has `max(1, C // reduction)`
            units. Defaults to `16`.
        activation: Activation of the bottleneck. Defaults to `"relu"`.
        gate: Activation producing the channel gates; it should map to
            `[0, 1]` (`"sigmoid"`, `"hard_sigmoid"`). Defaults to `"sigmoid"`.
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
    >>> layer = SqueezeExcitation(reduction=4)
    >>> x = np.random.rand(2, 8, 8, 16).astype("float32")
    >>> tuple(layer(x).shape)
    (2, 8, 8, 16)
    >>> layer.squeeze_dense.units
    4
    """

    def __init__(
        self,
        reduction=16,
        activation="relu",
        gate="sigmoid",
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.reduction = check_positive_int("reduction", reduction)
        self.activation = check_activation("activation", activation)
        self.gate = check_activation("gate", gate)
        self.data_format = check_data_format(data_format)
        self.supports_masking = True

    def build(self, input_shape):
        channel_axis, self._spatial_axes, channels = feature_map_axes(
            input_shape, self.data_format, type(self).__name__
        )
        self.squeeze_dense = keras.layers.Dense(
            max(1, channels // self.reduction),
            activation=self.activation,
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="squeeze",
        )
        self.excite_dense = keras.layers.Dense(
            channels,
            activation=self.gate,
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="excite",
        )
        self.squeeze_dense.build((None, channels))
        self.excite_dense.build((None, self.squeeze_dense.units))

    def call(self, inputs, mask=None):
        mask = mask if len(self._spatial_axes) == 1 else None
        squeezed = global_pool(inputs, self._spatial_axes, "avg", mask)
        gates = self.excite_dense(self.squeeze_dense(squeezed))
        return inputs * expand_to_map(gates, len(inputs.shape), self.data_format)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "reduction": self.reduction,
                "activation": self.activation,
                "gate": self.gate,
                "data_format": self.data_format,
            }
        )
        return config
