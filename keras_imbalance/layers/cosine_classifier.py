"""Cosine (normalised) classifier head.

Cao, Wei, Gaidon, Arechiga, Ma. "Learning Imbalanced Datasets with
Label-Distribution-Aware Margin Loss". NeurIPS 2019.
https://arxiv.org/abs/1906.07413

Gidaris, Komodakis. "Dynamic Few-Shot Visual Learning without Forgetting".
CVPR 2018. https://arxiv.org/abs/1804.09458
"""

import keras
from keras import ops

from keras_imbalance._validation import check_bool, check_float
from keras_imbalance.layers._common import check_positive_int, l2_normalize

__all__ = ["CosineClassifier"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class CosineClassifier(keras.layers.Layer):
    """Logits from the cosine similarity of features and class weight vectors.

    `z_j = s * cos(x, w_j) = s * (x / ||x||) . (w_j / ||w_j||)`

    where `w_j` is column `j` of `kernel` (shape `(D, units)`) and `s` the
    scale. Normalising both sides removes the bias of plain linear heads
    trained on imbalanced data, whose head-class weight vectors grow larger
    norms; the logits are bounded by `|s|`. This is the normalised head of the
    LDAM-DRW code (Cao et al. 2019, `s = 16` for CIFAR) and of decoupled
    classifier re-training. With `learn_scale=True` the scale is a trainable
    scalar initialised at `scale` (Gidaris & Komodakis 2018).

    The weights are a variable named `kernel`, as in `keras.layers.Dense`;
    the learned scale, when there is one, is the variable `learned_scale`
    (named `"scale"`), and `scale` keeps the configured initial value.

    References: Cao et al., "Learning Imbalanced Datasets with
    Label-Distribution-Aware Margin Loss", NeurIPS 2019; Gidaris &
    Komodakis, "Dynamic Few-Shot Visual Learning without Forgetting",
    CVPR 2018.

    Args:
        units: Positive integer, the number of classes.
        scale: Positive float `s` multiplying the cosines (its initial value
            when learned). Defaults to `16.0`.
        learn_scale: Whether `s` is a trainable weight. Defaults to `False`.
        kernel_initializer: Initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: Features `(B, D)` (or `(B, ..., D)`) with a known `D`.

    Returns:
        Logits of shape `(B, units)` (or `(B, ..., units)`) in `[-|s|, |s|]`.

    Example:

    >>> import keras, numpy as np
    >>> head = CosineClassifier(10, scale=16.0)
    >>> logits = keras.ops.convert_to_numpy(
    ...     head(np.random.rand(4, 32).astype("float32")))
    >>> tuple(logits.shape), tuple(head.kernel.shape)
    ((4, 10), (32, 10))
    >>> bool(np.all(np.abs(logits) <= 16.0 + 1e-4))
    True
    """

    def __init__(
        self,
        units,
        scale=16.0,
        learn_scale=False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.scale = check_float("scale", scale, low=0, low_open=True)
        self.learn_scale = check_bool("learn_scale", learn_scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        features = input_shape[-1]
        if len(input_shape) < 2 or features is None:
            raise ValueError(
                "`CosineClassifier` expects features of shape (batch, ..., "
                f"features) with a known feature size. Received: "
                f"input_shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, self.units),
            initializer=self.kernel_initializer,
        )
        self.learned_scale = None
        if self.learn_scale:
            self.learned_scale = self.add_weight(
                name="scale",
                shape=(),
                initializer=keras.initializers.Constant(self.scale),
            )

    def call(self, inputs):
        features = l2_normalize(inputs, axis=-1)
        kernel = l2_normalize(ops.cast(self.kernel, features.dtype), axis=0)
        # `einsum`, not `matmul`: Keras' PyTorch `matmul` returns float32 for
        # float64 tensors (Keras 3.15), which a float64 policy must not get.
        cosines = ops.einsum("...i,ij->...j", features, kernel)
        if self.learned_scale is None:
            return cosines * self.scale
        return cosines * ops.cast(self.learned_scale, cosines.dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "scale": self.scale,
                "learn_scale": self.learn_scale,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
