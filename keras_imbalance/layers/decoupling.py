"""Layers for decoupled classifier learning and post-hoc logit adjustment.

`LearnableWeightScaling` is the LWS classifier of Kang et al. 2020; the
`LogitAdjustment` layer is the post-hoc logit adjustment of Menon et al. 2021.
`keras_imbalance.models.learnable_weight_scaling` and
`keras_imbalance.models.with_logit_adjustment` insert them after a model's
head.

Kang, Xie, Rohrbach, Yan, Gordo, Feng, Kalantidis. "Decoupling Representation
and Classifier for Long-Tailed Recognition". ICLR 2020.
https://arxiv.org/abs/1910.09217

Menon, Jayasumana, Rawat, Jain, Veit, Kumar. "Long-tail learning via logit
adjustment". ICLR 2021. https://arxiv.org/abs/2007.07314
"""

import math

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import check_class_counts, check_float, invalid

__all__ = ["LearnableWeightScaling", "LogitAdjustment"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class LearnableWeightScaling(keras.layers.Layer):
    """Learnable weight scaling (LWS): one trainable scale per class logit.

    `z'_j = f_j * z_j`, with `f_j` initialised to 1.

    For a linear head `z_j = w_j . x + b_j` this is the LWS classifier of
    Kang et al. 2020, `w'_j = f_j * w_j` (and `b'_j = f_j * b_j`): the
    direction of each class's weight vector, learned with instance-balanced
    sampling, is kept, and only its norm is re-learned, with class-balanced
    sampling and everything else frozen. Use
    `keras_imbalance.models.learnable_weight_scaling` to put it after a
    trained model's head.

    Reference: Kang et al., "Decoupling Representation and Classifier for
    Long-Tailed Recognition", ICLR 2020.

    Args:
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: Logits `(B, ..., C)`.

    Returns:
        The scaled logits, of the shape of `inputs`.

    Example:

    >>> import keras, numpy as np
    >>> layer = LearnableWeightScaling()
    >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, -2.0, 3.0]]))).tolist()
    [[1.0, -2.0, 3.0]]
    >>> _ = layer.scale.assign([1.0, 0.5, 2.0])
    >>> keras.ops.convert_to_numpy(layer(np.array([[1.0, -2.0, 3.0]]))).tolist()
    [[1.0, -1.0, 6.0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        units = input_shape[-1]
        if units is None:
            raise ValueError(
                "LearnableWeightScaling needs a known last (class) axis. "
                f"Received: input_shape={input_shape}"
            )
        self.scale = self.add_weight(
            shape=(units,), initializer="ones", trainable=True, name="scale"
        )

    def call(self, inputs):
        return inputs * ops.cast(self.scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class LogitAdjustment(keras.layers.Layer):
    """Post-hoc logit adjustment: `z'_y = z_y - tau * log(pi_y)`.

    Subtracting the scaled log-prior from a model trained with ordinary
    cross-entropy turns its arg-max from the one that minimises the error
    into the one that minimises the *balanced* error (Menon et al. 2021, eq.
    (9)): head classes lose and tail classes gain logit mass. No weight is
    learned; `tau=1` is the Bayes-consistent choice, and `tau` can be tuned
    on a balanced validation set.

    Reference: Menon et al., "Long-tail learning via logit adjustment", ICLR
    2021.

    Args:
        class_priors: The training class distribution `pi`, one positive
            value per class: priors or class counts (they are normalised to
            sum to 1).
        tau: Scaling of the adjustment, a non-negative float; `0` is the
            identity. Defaults to `1.0`.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: Logits `(B, ..., C)`, `C = len(class_priors)`.

    Returns:
        The adjusted logits, of the shape of `inputs`.

    Example:

    >>> import keras, numpy as np
    >>> layer = LogitAdjustment([0.5, 0.25, 0.25], tau=1.0)
    >>> np.round(keras.ops.convert_to_numpy(layer(np.zeros((1, 3)))), 4).tolist()
    [[0.6931, 1.3863, 1.3863]]
    """

    def __init__(self, class_priors, tau=1.0, **kwargs):
        super().__init__(**kwargs)
        priors = check_class_counts("class_priors", class_priors, integer=False)
        empty = np.flatnonzero(priors <= 0)
        if empty.size:
            raise invalid(
                "class_priors",
                f"a positive prior for every class (class {int(empty[0])} has "
                "prior 0, and log(0) would give it an infinite logit)",
                priors.tolist(),
            )
        priors = priors / priors.sum()
        self.class_priors = [float(p) for p in priors]
        self.tau = check_float("tau", tau, low=0)
        self._adjustment = [self.tau * math.log(p) for p in self.class_priors]
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] != len(self.class_priors):
            raise ValueError(
                f"LogitAdjustment has {len(self.class_priors)} class priors but "
                f"its input has {input_shape[-1]} classes (last axis). "
                f"Received: input_shape={input_shape}"
            )

    def call(self, inputs):
        return inputs - ops.convert_to_tensor(self._adjustment, dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"class_priors": list(self.class_priors), "tau": self.tau})
        return config
