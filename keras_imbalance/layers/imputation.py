"""Missing-value imputation inside a model: `MeanImputation`."""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import invalid

__all__ = ["MeanImputation"]


def _check_mean(mean):
    if isinstance(mean, numbers.Real) and not isinstance(mean, bool):
        values = [float(mean)]
    else:
        try:
            values = [float(v) for v in np.asarray(mean, dtype="float64").ravel()]
        except (TypeError, ValueError):
            values = None
        if values is not None and np.ndim(mean) != 1:
            values = None
    if not values or not all(math.isfinite(v) for v in values):
        raise invalid(
            "mean", "a finite float or a non-empty sequence of finite floats", mean
        )
    return values


@keras.saving.register_keras_serializable(package="keras_imbalance")
class MeanImputation(keras.layers.Layer):
    """Replaces missing values (NaN) by per-feature values, e.g. training means.

    `y_i = mean_i` where `x_i` is NaN, else `x_i`.

    The mean imputation of scikit-learn's `SimpleImputer(strategy="mean")`
    as a layer, so that a model exported for serving takes raw rows with
    missing values and fills them as its training data were filled
    (`keras_imbalance.datasets.load_table` puts one before a
    `keras.layers.Normalization` for the numeric columns of a CSV table).

    Args:
        mean: The value for each feature (the last axis), a sequence of
            finite floats, or one float for every feature.
        **kwargs: Base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: A float tensor `(B, ..., F)` with NaN for missing values.

    Returns:
        The filled tensor, of the shape of `inputs`.

    Raises:
        ValueError: for a `mean` that is empty or not finite, or that has
            neither one value nor `F` values.

    Example:

    >>> import keras, numpy as np
    >>> layer = MeanImputation([10.0, 20.0])
    >>> x = np.array([[1.0, np.nan], [np.nan, 2.0]])
    >>> keras.ops.convert_to_numpy(layer(x)).tolist()
    [[1.0, 20.0], [10.0, 2.0]]
    """

    def __init__(self, mean, **kwargs):
        super().__init__(**kwargs)
        self.mean = _check_mean(mean)
        self.supports_masking = True

    def build(self, input_shape):
        features = input_shape[-1]
        if len(self.mean) != 1 and features != len(self.mean):
            raise ValueError(
                f"MeanImputation has {len(self.mean)} values but its input has "
                f"{features} features (last axis). Received: "
                f"input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        mean = ops.convert_to_tensor(self.mean, dtype=inputs.dtype)
        return ops.where(ops.isnan(inputs), mean, inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"mean": list(self.mean)})
        return config
