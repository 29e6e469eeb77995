"""Per-sample feature attention for tabular inputs.

Arik, Pfister. "TabNet: Attentive Interpretable Tabular Learning". AAAI 2021.
https://arxiv.org/abs/1908.07442

Gui, Ge, Hu, Yang, Zhao. "AFS: An Attention-based mechanism for Supervised
Feature Selection". AAAI 2019. https://arxiv.org/abs/1902.11074
"""

import keras
from keras import ops

from keras_imbalance._validation import check_bool
from keras_imbalance.layers._common import check_positive_int

__all__ = ["FeatureAttention"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class FeatureAttention(keras.layers.Layer):
    """Re-weights the features of each sample by a softmax attention over them.

    `a = softmax(W_2 relu(W_1 x + b_1) + b_2)` over the `F` features,
    `y = a * x` (element-wise).

    A small MLP reads the whole sample and gives each of its `F` features a
    weight; the weights of a sample are positive and sum to 1, like TabNet's
    attentive feature masks (which use sparsemax) and the attention-based
    feature selection of AFS. Softmax is chosen over independent sigmoids
    because the features then compete for a fixed budget of attention, which
    makes the weights comparable across samples and readable as a ranking of
    features (return them with `return_attention=True`). As in TabNet the
    features are multiplied by the weights themselves, so uniform attention
    scales every feature by `1 / F`; the next layer's weights absorb the
    scale.

    References: Arik & Pfister, "TabNet: Attentive Interpretable Tabular
    Learning", AAAI 2021; Gui et al., "AFS: An Attention-based mechanism for
    Supervised Feature Selection", AAAI 2019.

    Args:
        hidden_units: Positive integer, the width of the MLP's hidden layer,
            or `None` for `F` (the number of features). Defaults to `None`.
        return_attention: Whether to also return the weights. Defaults to
            `False`.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A `(B, F)` tensor with a known `F`.

    Returns:
        The re-weighted features `(B, F)`, or `(features, weights)` with
        `return_attention=True`, both of shape `(B, F)`.

    Example:

    >>> import numpy as np
    >>> layer = FeatureAttention(hidden_units=8, return_attention=True)
    >>> features, weights = layer(np.random.rand(4, 10).astype("float32"))
    >>> tuple(features.shape), tuple(weights.shape)
    ((4, 10), (4, 10))
    """

    def __init__(self, hidden_units=None, return_attention=False, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = (
            None
            if hidden_units is None
            else check_positive_int("hidden_units", hidden_units)
        )
        self.return_attention = check_bool("return_attention", return_attention)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "`FeatureAttention` expects tabular inputs of shape (batch, "
                f"features) with a known number of features. Received: "
                f"input_shape={tuple(input_shape)}"
            )
        features = input_shape[-1]
        self.hidden_dense = keras.layers.Dense(
            self.hidden_units or features,
            activation="relu",
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="hidden",
        )
        self.score_dense = keras.layers.Dense(
            features, dtype=self.dtype_policy, trainable=self.trainable, name="score"
        )
        self.hidden_dense.build((None, features))
        self.score_dense.build((None, self.hidden_dense.units))

    def call(self, inputs):
        weights = ops.softmax(self.score_dense(self.hidden_dense(inputs)), axis=-1)
        outputs = inputs * weights
        if self.return_attention:
            return outputs, weights
        return outputs

    def compute_output_shape(self, input_shape):
        if self.return_attention:
            return tuple(input_shape), tuple(input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "return_attention": self.return_attention,
            }
        )
        return config
