"""Asymmetric loss for multi-label classification (Ridnik et al. 2021)."""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import check_bool, check_float
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    focal_modulation,
)

__all__ = ["AsymmetricLoss", "asymmetric_loss"]


def _check_asl_args(gamma_neg, gamma_pos, clip):
    return (
        check_float("gamma_neg", gamma_neg, low=0),
        check_float("gamma_pos", gamma_pos, low=0),
        check_float("clip", clip, low=0, high=1, high_open=True),
    )


def asymmetric_loss(
    y_true, y_pred, gamma_neg=4.0, gamma_pos=1.0, clip=0.05, from_logits=False
):
    """Asymmetric loss, summed over the labels (last axis).

    `L+ = (1 - p)^gamma_pos log(p)`, `L- = p_m^gamma_neg log(1 - p_m)` with the
    shifted probability `p_m = max(p - clip, 0)`; `L = -sum_j y L+ + (1 - y) L-`.
    See `AsymmetricLoss`.

    Example:

    >>> loss = asymmetric_loss([[1.0, 0.0, 0.0]], [[0.7, 0.4, 0.04]])
    >>> [round(float(v), 4) for v in loss]
    [0.1135]
    """
    gamma_neg, gamma_pos, clip = _check_asl_args(gamma_neg, gamma_pos, clip)
    eps = keras.config.epsilon()
    guard = check_predictions(y_pred, from_logits=from_logits, name="asymmetric_loss")
    y_pred = _labels.as_float(y_pred)
    y_true = _labels.match_binary_rank(ops.convert_to_tensor(y_true), y_pred)
    if from_logits:
        p = ops.sigmoid(y_pred)
        log_pos = ops.log_sigmoid(y_pred)
    else:
        p = ops.clip(y_pred, 0.0, 1.0)
        log_pos = ops.log(ops.maximum(p, eps))
    if clip > 0:
        # Probability shifting: easy negatives (p <= clip) are discarded.
        one_minus_p_m = ops.minimum(1.0 - p + clip, 1.0)
        log_neg = ops.log(ops.maximum(one_minus_p_m, eps))
    else:
        one_minus_p_m = 1.0 - p
        log_neg = (
            ops.log_sigmoid(-y_pred)
            if from_logits
            else ops.log(ops.maximum(one_minus_p_m, eps))
        )
    positive = y_true * focal_modulation(1.0 - p, gamma_pos) * log_pos
    negative = (
        (1.0 - y_true) * focal_modulation(1.0 - one_minus_p_m, gamma_neg) * log_neg
    )
    return apply_guard(-ops.sum(positive + negative, axis=-1), guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class AsymmetricLoss(ImbalanceLoss):
    """Asymmetric loss (ASL) for multi-label classification.

    Multi-label data is imbalanced twice over: each image has few positive
    labels and many negatives. ASL focuses positives and negatives
    differently and discards very easy negatives by shifting their
    probability:

    `L+ = -(1 - p)^gamma_pos log(p)`,
    `L- = -p_m^gamma_neg log(1 - p_m)` with `p_m = max(p - clip, 0)`,

    summed over the labels of each sample, as in the authors' code. With
    `gamma_neg = gamma_pos = clip = 0` it is binary cross-entropy summed
    over the labels.

    Reference: Ridnik, Ben-Baruch, Zamir, Noy, Friedman, Protter,
    Zelnik-Manor. "Asymmetric Loss For Multi-Label Classification".
    ICCV 2021. https://arxiv.org/abs/2009.14119

    Args:
        gamma_neg: Non-negative focusing parameter of negatives. Defaults to
            `4.0`.
        gamma_pos: Non-negative focusing parameter of positives. Defaults to
            `1.0`.
        clip: Probability margin `m` in `[0, 1)` for negatives. Defaults to
            `0.05`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"asymmetric_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Multi-hot targets of the shape of `y_pred`.
        y_pred: Per-label probabilities or logits `(B, L)`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = AsymmetricLoss()
    >>> round(float(loss([[1.0, 0.0, 0.0]], [[0.7, 0.4, 0.04]])), 4)
    0.1135
    """

    fn = asymmetric_loss
    _config_keys = ("gamma_neg", "gamma_pos", "clip", "from_logits")

    def __init__(
        self,
        gamma_neg=4.0,
        gamma_pos=1.0,
        clip=0.05,
        from_logits=False,
        reduction="sum_over_batch_size",
        name="asymmetric_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma_neg, self.gamma_pos, self.clip = _check_asl_args(
            gamma_neg, gamma_pos, clip
        )
        self.from_logits = check_bool("from_logits", from_logits)
