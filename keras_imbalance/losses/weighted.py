"""Class-weighted cross-entropy that works where `fit(class_weight=)` does not."""

import keras

from keras_imbalance import _labels
from keras_imbalance._validation import (
    check_bool,
    check_class_weight,
    check_float,
    check_optional_int,
    plain_class_weight,
)
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    log_probabilities,
    per_class,
    prepare,
    softmax_cross_entropy,
)

__all__ = ["WeightedCrossEntropy", "weighted_cross_entropy"]


def weighted_cross_entropy(
    y_true,
    y_pred,
    class_weight,
    from_logits=False,
    label_smoothing=0.0,
    ignore_class=None,
):
    """Class-weighted cross-entropy, one value per sample (or position).

    `L = -sum_c w_c * y_c * log(p_c)`. See `WeightedCrossEntropy`.

    Example:

    >>> loss = weighted_cross_entropy([0, 1], [[0.8, 0.2], [0.5, 0.5]], [1.0, 4.0])
    >>> [round(float(v), 4) for v in loss]
    [0.2231, 2.7726]
    """
    label_smoothing = check_float("label_smoothing", label_smoothing, low=0, high=1)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(
        y_pred, from_logits=from_logits, name="weighted_cross_entropy"
    )
    target, y_pred = prepare(
        y_true, y_pred, ignore_class=ignore_class, label_smoothing=label_smoothing
    )
    num_classes = _labels.num_classes_of(y_pred)
    weights = check_class_weight("class_weight", class_weight, num_classes)
    weights = per_class(weights, num_classes, "class_weight", y_pred.dtype)
    log_p, _ = log_probabilities(y_pred, from_logits)
    return apply_guard(softmax_cross_entropy(target, log_p, weights), guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class WeightedCrossEntropy(ImbalanceLoss):
    """Cross-entropy with one weight per class.

    `L(p, y) = -sum_c w_c * y_c * log(p_c)`

    With hard labels and the default reduction this is exactly what
    `model.fit(class_weight=w)` computes, but as a loss it also works where
    Keras' `class_weight` does not: together with `sample_weight`, on each
    output of a multi-output model, and on dense predictions `(B, H, W, C)`.
    With soft labels each class's share of the target is weighted by its own
    weight (the numerator of PyTorch's weighted `CrossEntropyLoss`).

    Reference: King & Zeng, "Logistic Regression in Rare Events Data",
    Political Analysis 2001 (weighting by inverse class frequency).

    Args:
        class_weight: One non-negative weight per class, a sequence or a dict
            `{class: weight}` (classes left out of a dict weigh 1.0), e.g.
            from `keras_imbalance.compute_class_weights`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        label_smoothing: In `[0, 1]`. Defaults to `0.0`.
        ignore_class: A label value to leave out of the loss. Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"weighted_cross_entropy"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer labels (`y_pred.shape[:-1]`) or one-hot labels.
        y_pred: Probabilities or logits `(B, C)` or `(B, ..., C)`.
        sample_weight: Optional weights, multiplied with the class weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = WeightedCrossEntropy({0: 1.0, 1: 4.0})
    >>> round(float(loss([0, 1], [[0.8, 0.2], [0.5, 0.5]])), 4)
    1.4979
    """

    fn = weighted_cross_entropy
    #: The per-class weights `callbacks.DeferredReweighting` switches.
    class_weight_attribute = "class_weight"
    _config_keys = ("class_weight", "from_logits", "label_smoothing", "ignore_class")

    def __init__(
        self,
        class_weight,
        from_logits=False,
        label_smoothing=0.0,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="weighted_cross_entropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_weight = plain_class_weight("class_weight", class_weight)
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = check_float(
            "label_smoothing", label_smoothing, low=0, high=1
        )
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
