"""The confusion-matrix base of the imbalance metrics (`keras_imbalance.metrics`).

It accumulates `confusion[true, predicted]` over the batches of an epoch;
a metric subclass computes its value from the matrix in `_value`. Invalid
labels and NaN predictions raise in an eager `update_state` and make the
matrix (so the metric) NaN inside a compiled step (`_labels`).
"""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import check_bool, check_optional_int, invalid

__all__ = ["ConfusionMatrixMetric", "masked_mean"]


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Base: accumulates `confusion[true, predicted]` (sample-weighted).

    Args:
        num_classes: Number of classes `C`.
        from_logits: Only matters for a single sigmoid column (`num_classes=2`
            with `y_pred` of shape `(B, 1)`): the threshold is 0 for logits and
            0.5 for probabilities. Defaults to `False`.
        ignore_class: A label value to leave out. Defaults to `None`.
        name: Name of the metric.
        dtype: Dtype of the result. Defaults to `None`.
    """

    def __init__(
        self,
        num_classes,
        *,
        from_logits=False,
        ignore_class=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        num_classes = check_optional_int("num_classes", num_classes, low=2)
        if num_classes is None:
            raise invalid("num_classes", "an integer >= 2", num_classes)
        self.num_classes = num_classes
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes),
            initializer="zeros",
            dtype="float32",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        _labels.check_label_type(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        if len(y_pred.shape) == 0 or len(y_pred.shape) == 1 or y_pred.shape[-1] == 1:
            predicted, y_pred = self._threshold(y_pred)
        else:
            if y_pred.shape[-1] != self.num_classes:
                raise ValueError(
                    f"`y_pred` has {y_pred.shape[-1]} classes on its last axis but "
                    f"num_classes={self.num_classes}. Received: y_pred.shape="
                    f"{y_pred.shape}"
                )
            predicted = ops.argmax(y_pred, axis=-1)
        if _labels.is_dense(y_true, y_pred) and y_pred.shape[-1] != 1:
            _, invalid = _labels.checked_dense_targets(y_true, y_pred)
            actual = ops.argmax(y_true, axis=-1)
        else:
            actual, invalid = _labels.checked_sparse_labels(
                y_true,
                y_pred,
                num_classes=self.num_classes,
                ignore_class=self.ignore_class,
            )
        guard = _invalid_guard(invalid, y_pred)
        actual = ops.reshape(ops.cast(actual, "int32"), (-1,))
        predicted = ops.reshape(ops.cast(predicted, "int32"), (-1,))
        weight = ops.ones_like(actual, dtype="float32")
        if sample_weight is not None:
            sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
            positions = ops.shape(y_pred)[:-1]
            while len(sample_weight.shape) < len(positions):
                sample_weight = ops.expand_dims(sample_weight, -1)
            if len(sample_weight.shape) > len(positions):
                sample_weight = ops.reshape(sample_weight, positions)
            weight = ops.reshape(ops.broadcast_to(sample_weight, positions), (-1,))
        if self.ignore_class is not None:
            weight = ops.where(ops.equal(actual, self.ignore_class), 0.0, weight)
            actual = ops.where(ops.equal(actual, self.ignore_class), 0, actual)
        true_one_hot = ops.one_hot(actual, self.num_classes, dtype="float32")
        pred_one_hot = ops.one_hot(predicted, self.num_classes, dtype="float32")
        batch = ops.matmul(
            ops.transpose(true_one_hot * ops.expand_dims(weight, -1)), pred_one_hot
        )
        self.confusion.assign_add(batch * guard)

    def _threshold(self, y_pred):
        if self.num_classes != 2:
            raise ValueError(
                "A single prediction column is a binary sigmoid output and needs "
                f"num_classes=2. Received: num_classes={self.num_classes}, "
                f"y_pred.shape={y_pred.shape}"
            )
        if len(y_pred.shape) == 0:
            y_pred = ops.reshape(y_pred, (1, 1))
        elif len(y_pred.shape) == 1:
            y_pred = ops.expand_dims(y_pred, -1)
        threshold = 0.0 if self.from_logits else 0.5
        predicted = ops.cast(ops.squeeze(y_pred, -1) > threshold, "int32")
        return predicted, y_pred

    def reset_state(self):
        # `ops.zeros` of the shape, not `zeros_like(variable)`: JAX cannot
        # convert a Keras variable passed to `zeros_like`.
        self.confusion.assign(
            ops.zeros(self.confusion.shape, dtype=self.confusion.dtype)
        )

    def result(self):
        # NaN in the confusion matrix marks a batch with invalid labels or
        # NaN predictions seen in a compiled step (`_invalid_guard`).
        value = self._value()
        broken = ops.any(ops.isnan(ops.convert_to_tensor(self.confusion)))
        return ops.where(broken, float("nan"), value)

    def _value(self):
        """The metric from the confusion matrix (subclasses)."""
        raise NotImplementedError

    def _counts(self):
        cm = ops.convert_to_tensor(self.confusion)
        tp = ops.diagonal(cm)
        support = ops.sum(cm, axis=1)
        predicted = ops.sum(cm, axis=0)
        return tp, support, predicted

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "from_logits": self.from_logits,
                "ignore_class": self.ignore_class,
            }
        )
        return config


def _invalid_guard(invalid, y_pred):
    """1, or NaN when a label is invalid or a prediction is NaN (symbolic only).

    Concrete bad labels were raised on already (`_labels`); concrete NaN
    predictions raise here. In a compiled step the batch's confusion matrix
    is multiplied by the returned factor, so the metric reads NaN until its
    next `reset_state` instead of a plausible number.
    """
    nan_prediction = ops.any(ops.isnan(ops.cast(y_pred, "float32")))
    flagged = _labels.concrete_bool(nan_prediction)
    if flagged:
        raise ValueError(
            "y_pred contains NaN: the model's outputs are not numbers (a "
            "diverged training, or NaN inputs), so no class can be predicted."
        )
    bad = None if flagged is False else nan_prediction
    if invalid is not None:
        invalid = ops.any(invalid)
        bad = invalid if bad is None else ops.logical_or(bad, invalid)
    if bad is None:
        return 1.0
    return ops.where(bad, float("nan"), 1.0)


def masked_mean(values, mask):
    mask = ops.cast(mask, values.dtype)
    return ops.divide_no_nan(ops.sum(values * mask), ops.sum(mask))
