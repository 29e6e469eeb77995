"""Attention pooling with learned queries (multi-head, masked).

Lee, Lee, Kim, Kosiorek, Choi, Teh. "Set Transformer: A Framework for
Attention-based Permutation-Invariant Neural Networks" (pooling by
multi-head attention). ICML 2019. https://arxiv.org/abs/1810.00825

Ilse, Tomczak, Welling. "Attention-based Deep Multiple Instance Learning".
ICML 2018. https://arxiv.org/abs/1802.04712
"""

import math

import keras
from keras import ops

from keras_imbalance._validation import check_bool
from keras_imbalance.layers._common import check_positive_int, large_negative

__all__ = ["AttentionPooling"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class AttentionPooling(keras.layers.Layer):
    """Pools a sequence or a feature map to one vector by learned-query attention.

    For each head `h` with learned query `q_h` (of size `d = D / num_heads`):

    `a_{h,t} = softmax_t(k_{h,t} . q_h / sqrt(d))`, `k_t = W_k x_t`,
    `y_h = sum_t a_{h,t} x_{t,h}`, `y = concat_h(y_h)`,

    where `x_{t,h}` is the `h`-th slice of `d` features of position `t`. Each
    head's output is thus a convex combination of the input vectors' slice
    (no value projection): the pooled vector lives in the input's feature
    space, and the scores say which positions each head looked at. With one
    head it is a learned weighted average, where global average pooling is
    the uniform one.

    `(B, H, W, C)` maps are pooled over the `H * W` positions. A Keras mask
    on `(B, T, D)` inputs (from `Embedding(mask_zero=True)` or `Masking`)
    gives masked steps zero weight; a sample with every step masked pools to
    zeros.

    References: Lee et al., "Set Transformer", ICML 2019 (pooling by
    multi-head attention); Ilse et al., "Attention-based Deep Multiple
    Instance Learning", ICML 2018.

    Args:
        num_heads: Positive integer dividing the feature size `D`.
            Defaults to `1`.
        return_attention_scores: Whether to also return the scores.
            Defaults to `False`.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: `(B, T, D)` or `(B, H, W, C)` with a known feature size.
        mask: Optional boolean mask of shape `inputs.shape[:-1]`.

    Returns:
        The pooled `(B, D)` tensor, or `(pooled, scores)` with
        `return_attention_scores=True`, where `scores` has shape
        `(B, num_heads, T)` (or `(B, num_heads, H, W)`) and sums to 1 over the
        positions.

    Example:

    >>> import numpy as np
    >>> x = np.random.rand(2, 10, 16).astype("float32")
    >>> pooled, scores = AttentionPooling(
    ...     num_heads=4, return_attention_scores=True)(x)
    >>> tuple(pooled.shape), tuple(scores.shape)
    ((2, 16), (2, 4, 10))
    """

    def __init__(self, num_heads=1, return_attention_scores=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.return_attention_scores = check_bool(
            "return_attention_scores", return_attention_scores
        )
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(
                "`AttentionPooling` expects inputs of shape (batch, steps, "
                "features) or (batch, height, width, channels). Received: "
                f"input_shape={tuple(input_shape)}"
            )
        features = input_shape[-1]
        if features is None or features % self.num_heads:
            raise ValueError(
                "`AttentionPooling` needs a known feature size that "
                f"`num_heads={self.num_heads}` divides. Received: "
                f"input_shape={tuple(input_shape)}"
            )
        self._head_size = features // self.num_heads
        self.key_dense = keras.layers.Dense(
            features,
            use_bias=False,
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="key",
        )
        self.key_dense.build((None, features))
        self.query = self.add_weight(
            name="query",
            shape=(self.num_heads, self._head_size),
            initializer="glorot_uniform",
        )

    def call(self, inputs, mask=None):
        spatial = len(inputs.shape) == 4
        features = inputs.shape[-1]
        if spatial:
            height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
            inputs = ops.reshape(inputs, (ops.shape(inputs)[0], -1, features))
            if mask is not None:
                mask = ops.reshape(mask, (ops.shape(mask)[0], -1))
        # (B, T, D) -> (B, T, heads, d)
        split = (ops.shape(inputs)[0], -1, self.num_heads, self._head_size)
        keys = ops.reshape(self.key_dense(inputs), split)
        query = ops.cast(self.query, keys.dtype)
        logits = ops.einsum("bthd,hd->bht", keys, query)
        logits = logits / math.sqrt(self._head_size)
        if mask is not None:
            valid = ops.expand_dims(ops.cast(mask, "bool"), 1)
            logits = ops.where(valid, logits, large_negative(logits.dtype))
        scores = ops.softmax(logits, axis=-1)
        if mask is not None:
            # Exact zeros on masked steps; an all-masked sample gets no weight.
            scores = scores * ops.cast(valid, scores.dtype)
        pooled = ops.einsum("bht,bthd->bhd", scores, ops.reshape(inputs, split))
        pooled = ops.reshape(pooled, (ops.shape(pooled)[0], features))
        if not self.return_attention_scores:
            return pooled
        if spatial:
            scores = ops.reshape(
                scores, (ops.shape(scores)[0], self.num_heads, height, width)
            )
        return pooled, scores

    def compute_mask(self, inputs, mask=None):
        if self.return_attention_scores:
            return None, None
        return None

    def compute_output_shape(self, input_shape):
        pooled = (input_shape[0], input_shape[-1])
        if not self.return_attention_scores:
            return pooled
        return pooled, (input_shape[0], self.num_heads, *input_shape[1:-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "return_attention_scores": self.return_attention_scores,
            }
        )
        return config
