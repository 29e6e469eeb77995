"""Feature mixing of the bilateral-branch network (Zhou et al. 2020)."""

import keras
from keras import ops

from keras_imbalance._validation import check_float

__all__ = ["BilateralMixing"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BilateralMixing(keras.layers.Layer):
    """Mixes the two BBN branch features with the cumulative weight `alpha`.

    `mix(f_c, f_r) = concat(2 alpha f_c, 2 (1 - alpha) f_r)`, so a single
    classifier `W = [W_c, W_r]` gives `z = 2 (alpha W_c f_c + (1 - alpha) W_r
    f_r) + b`, as in the authors' code; at inference `alpha = 0.5`.
    `alpha` is a non-trainable weight, set each epoch by
    `keras_imbalance.callbacks.CumulativeLearning` and saved with the model.

    Reference: Zhou, Cui, Wei, Chen. "BBN: Bilateral-Branch Network with
    Cumulative Learning for Long-Tailed Visual Recognition". CVPR 2020.
    https://arxiv.org/abs/1912.02413

    Args:
        alpha: Initial weight of the conventional branch, in `[0, 1]`.
            Defaults to `0.5`.

    Call arguments:
        inputs: A list `[f_c, f_r]` of two `(B, D)` feature tensors.

    Returns:
        `(B, 2 D)` mixed features.

    Example:

    >>> mixing = BilateralMixing(alpha=1.0)
    >>> ops.convert_to_numpy(mixing([ops.ones((1, 2)), ops.ones((1, 2))])).tolist()
    [[2.0, 2.0, 0.0, 0.0]]
    """

    def __init__(self, alpha=0.5, **kwargs):
        super().__init__(**kwargs)
        self.initial_alpha = check_float("alpha", alpha, low=0, high=1)

    def build(self, input_shape):
        self.alpha = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial_alpha),
            trainable=False,
            name="alpha",
        )

    def call(self, inputs):
        conventional, rebalancing = inputs
        alpha = ops.cast(self.alpha, conventional.dtype)
        return ops.concatenate(
            [2.0 * alpha * conventional, 2.0 * (1.0 - alpha) * rebalancing], axis=-1
        )

    def compute_output_shape(self, input_shape):
        a, b = input_shape
        width = None if a[-1] is None or b[-1] is None else a[-1] + b[-1]
        return tuple(a[:-1]) + (width,)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.initial_alpha
        return config
