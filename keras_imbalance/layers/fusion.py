"""Fusion of the feature vectors of several branches into one.

Jacobs, Jordan, Nowlan, Hinton. "Adaptive Mixtures of Local Experts".
Neural Computation 1991 (the softmax gate of `"gated"`).

Yang, Yang, Dyer, He, Smola, Hovy. "Hierarchical Attention Networks for
Document Classification". NAACL 2016 (the learned-query attention of
`"attention"`). https://aclanthology.org/N16-1174
"""

import keras
from keras import ops

from keras_imbalance._validation import check_one_of

__all__ = ["BranchFusion"]

MODES = ("concat", "sum", "mean", "gated", "attention")


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BranchFusion(keras.layers.Layer):
    """Fuses a list of branch features `[x_1, ..., x_N]` (each `(B, D_i)`) into one.

    * `"concat"`: `[x_1; ...; x_N]`, shape `(B, sum D_i)`.
    * `"sum"`: `sum_n x_n`; `"mean"`: `(1 / N) sum_n x_n`.
    * `"gated"`: `g = softmax(W [x_1; ...; x_N] + b)` (`N` gates per sample,
      a mixture-of-experts gate computed from all branches together),
      `y = sum_n g_n x_n`.
    * `"attention"`: `u_n = tanh(W_a x_n + b_a)`, `a_n = softmax_n(u_n . q)`
      with a learned query `q` (as the context vector of hierarchical
      attention networks), `y = sum_n a_n x_n`. Unlike `"gated"`, each
      branch is scored on its own features by a shared scorer.

    Every mode but `"concat"` needs branches of equal width `D`, and returns
    `(B, D)`. The weights of `"gated"` and `"attention"` are positive and sum
    to 1 for each sample. Inputs may also be `(B, ..., D_i)` with equal
    leading axes; fusion is along the last axis.

    References: Jacobs et al., "Adaptive Mixtures of Local Experts", 1991;
    Yang et al., "Hierarchical Attention Networks for Document
    Classification", NAACL 2016.

    Args:
        mode: One of `"concat"`, `"sum"`, `"mean"`, `"gated"`, `"attention"`.
            Defaults to `"concat"`.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A list of at least 2 tensors `(B, D_i)`.

    Returns:
        The fused tensor: `(B, sum D_i)` for `"concat"`, else `(B, D)`.

    Example:

    >>> import numpy as np
    >>> a = np.random.rand(2, 8).astype("float32")
    >>> b = np.random.rand(2, 8).astype("float32")
    >>> tuple(BranchFusion("concat")([a, b]).shape)
    (2, 16)
    >>> tuple(BranchFusion("gated")([a, b]).shape)
    (2, 8)
    """

    def __init__(self, mode="concat", **kwargs):
        super().__init__(**kwargs)
        if isinstance(mode, str):
            mode = mode.lower()
        self.mode = check_one_of("mode", mode, MODES)

    def build(self, input_shape):
        shapes = self._check_shapes(input_shape)
        width = shapes[0][-1]
        if self.mode == "gated":
            total = sum(shape[-1] for shape in shapes)
            self.gate_dense = keras.layers.Dense(
                len(shapes),
                dtype=self.dtype_policy,
                trainable=self.trainable,
                name="gate",
            )
            self.gate_dense.build((None, total))
        elif self.mode == "attention":
            self.score_dense = keras.layers.Dense(
                width,
                activation="tanh",
                dtype=self.dtype_policy,
                trainable=self.trainable,
                name="score",
            )
            self.score_dense.build((None, width))
            self.query = self.add_weight(
                name="query", shape=(width,), initializer="glorot_uniform"
            )

    def call(self, inputs):
        inputs = list(inputs)
        if self.mode == "concat":
            return ops.concatenate(inputs, axis=-1)
        if self.mode == "sum":
            return _add(inputs)
        if self.mode == "mean":
            return _add(inputs) / float(len(inputs))
        stacked = ops.stack(inputs, axis=-2)  # (B, ..., N, D)
        if self.mode == "gated":
            logits = self.gate_dense(ops.concatenate(inputs, axis=-1))
        else:
            keys = self.score_dense(stacked)
            # `einsum`, not `matmul`: Keras' PyTorch `matmul` returns float32
            # for float64 tensors (Keras 3.15).
            logits = ops.einsum("...d,d->...", keys, ops.cast(self.query, keys.dtype))
        weights = ops.softmax(logits, axis=-1)  # (B, ..., N)
        return ops.sum(stacked * ops.expand_dims(weights, -1), axis=-2)

    def compute_output_shape(self, input_shape):
        shapes = self._check_shapes(input_shape)
        if self.mode != "concat":
            return tuple(shapes[0])
        widths = [shape[-1] for shape in shapes]
        total = None if None in widths else sum(widths)
        return (*shapes[0][:-1], total)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config

    def _check_shapes(self, input_shape):
        is_list = isinstance(input_shape, (list, tuple)) and all(
            isinstance(s, (list, tuple)) for s in input_shape
        )
        if not is_list or len(input_shape) < 2:
            raise ValueError(
                "`BranchFusion` expects a list of at least 2 tensors of shape "
                f"(batch, features). Received: input_shape={input_shape}"
            )
        shapes = [tuple(s) for s in input_shape]
        if any(len(s) < 2 for s in shapes) or len({len(s) for s in shapes}) > 1:
            raise ValueError(
                "`BranchFusion` expects branch tensors of the same rank >= 2, "
                f"(batch, ..., features). Received: input_shape={shapes}"
            )
        if self.mode != "concat":
            widths = [s[-1] for s in shapes]
            if None in widths or len(set(widths)) > 1:
                raise ValueError(
                    f'`BranchFusion(mode="{self.mode}")` needs branches of equal, '
                    f"known width (last axis); use a Dense projection per "
                    f'branch or mode="concat". Received widths: {widths}'
                )
        return shapes


def _add(tensors):
    total = tensors[0]
    for tensor in tensors[1:]:
        total = total + tensor
    return total
