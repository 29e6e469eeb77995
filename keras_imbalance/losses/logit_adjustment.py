"""Prior-corrected softmax losses: balanced softmax and logit adjustment."""

import keras
import numpy as np
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import (
    check_bool,
    check_class_counts,
    check_float,
    check_length,
    check_optional_int,
    invalid,
    plain_counts,
)
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    log_softmax,
    prepare,
    softmax_cross_entropy,
)

__all__ = [
    "BalancedSoftmaxLoss",
    "LogitAdjustedLoss",
    "balanced_softmax_loss",
    "logit_adjusted_loss",
]

# Floor for the prior of an empty class, so its log stays finite.
_MIN_PRIOR = 1e-12


def _log_priors(counts_or_priors):
    priors = np.asarray(counts_or_priors, dtype="float64")
    priors = priors / priors.sum()
    return np.log(np.maximum(priors, _MIN_PRIOR)).tolist()


def _adjusted_cross_entropy(y_true, y_pred, log_priors, tau, from_logits, ignore_class):
    target, y_pred = prepare(y_true, y_pred, ignore_class=ignore_class)
    check_length("class_counts", log_priors, _labels.num_classes_of(y_pred))
    if from_logits:
        logits = y_pred
    else:
        eps = keras.config.epsilon()
        logits = ops.log(ops.clip(y_pred, eps, 1.0))
    logits = logits + tau * ops.convert_to_tensor(log_priors, y_pred.dtype)
    return softmax_cross_entropy(target, log_softmax(logits))


def balanced_softmax_loss(
    y_true, y_pred, class_counts, from_logits=True, ignore_class=None
):
    """Balanced softmax cross-entropy, one value per sample (or position).

    `L = CE(softmax(z + log n), y)`. See `BalancedSoftmaxLoss`.

    Example:

    >>> loss = balanced_softmax_loss([0, 1], [[2.0, -1.0], [0.5, 0.0]], [100, 10])
    >>> [round(float(v), 4) for v in loss]
    [0.005, 2.8615]
    """
    counts = plain_counts("class_counts", class_counts)
    from_logits = check_bool("from_logits", from_logits)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(
        y_pred, from_logits=from_logits, name="balanced_softmax_loss"
    )
    loss = _adjusted_cross_entropy(
        y_true, y_pred, _log_priors(counts), 1.0, from_logits, ignore_class
    )
    return apply_guard(loss, guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BalancedSoftmaxLoss(ImbalanceLoss):
    """Balanced softmax: cross-entropy on logits shifted by `log n_c`.

    `L(z, y) = CE(softmax(z + log n), y)`

    Training with the label prior folded into the softmax makes the raw
    logits `z` estimate the *balanced* posterior, so the model is used
    unchanged at test time. It equals `LogitAdjustedLoss(tau=1)` (softmax
    is invariant to the constant `log N`). Empty classes get the prior 1e-12.

    Reference: Ren, Yu, Sheng, Ma, Zhao, Yi, Li. "Balanced Meta-Softmax for
    Long-Tailed Visual Recognition". NeurIPS 2020.
    https://arxiv.org/abs/2007.10740

    Args:
        class_counts: Training samples per class.
        from_logits: Whether `y_pred` holds logits. With `False`, the log of the
            clipped probabilities is used as the logits, and a `y_pred` outside
            `[0, 1]` (logits, which every keras_imbalance builder outputs)
            raises a `ValueError` in an eager call and makes the loss NaN inside
            a compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `True`.
        ignore_class: A label value to leave out of the loss. Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"balanced_softmax_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer or one-hot labels.
        y_pred: Logits (or probabilities) `(B, C)` or `(B, ..., C)`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = BalancedSoftmaxLoss([100, 10])
    >>> round(float(loss([0, 1], [[2.0, -1.0], [0.5, 0.0]])), 4)
    1.4332
    """

    fn = balanced_softmax_loss
    _config_keys = ("class_counts", "from_logits", "ignore_class")

    def __init__(
        self,
        class_counts,
        from_logits=True,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="balanced_softmax_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_counts = plain_counts("class_counts", class_counts)
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)


def _check_prior_args(class_counts, class_priors):
    if (class_counts is None) == (class_priors is None):
        raise ValueError(
            "Pass exactly one of `class_counts` and `class_priors`. Received: "
            f"class_counts={class_counts!r}, class_priors={class_priors!r}"
        )
    if class_counts is not None:
        return plain_counts("class_counts", class_counts), None
    priors = check_class_counts("class_priors", class_priors, integer=False)
    if np.any(priors > 1):
        raise invalid(
            "class_priors", "one probability in [0, 1] per class", priors.tolist()
        )
    return None, (priors / priors.sum()).tolist()


def logit_adjusted_loss(
    y_true,
    y_pred,
    class_counts=None,
    class_priors=None,
    tau=1.0,
    from_logits=True,
    ignore_class=None,
):
    """Logit-adjusted cross-entropy, one value per sample (or position).

    `L = CE(softmax(z + tau * log pi), y)`. See `LogitAdjustedLoss`.

    Example:

    >>> loss = logit_adjusted_loss(
    ...     [0, 1], [[2.0, -1.0], [0.5, 0.0]], class_priors=[0.9, 0.1], tau=1.0)
    >>> [round(float(v), 4) for v in loss]
    [0.0055, 2.7624]
    """
    counts, priors = _check_prior_args(class_counts, class_priors)
    tau = check_float("tau", tau, low=0)
    from_logits = check_bool("from_logits", from_logits)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    log_priors = _log_priors(counts if counts is not None else priors)
    guard = check_predictions(
        y_pred, from_logits=from_logits, name="logit_adjusted_loss"
    )
    loss = _adjusted_cross_entropy(
        y_true, y_pred, log_priors, tau, from_logits, ignore_class
    )
    return apply_guard(loss, guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class LogitAdjustedLoss(ImbalanceLoss):
    """Logit-adjusted cross-entropy: `CE(softmax(z + tau * log pi), y)`.

    Adding `tau * log pi_c` (the log label prior) to the logits during
    training makes the model's own logits Fisher-consistent for the balanced
    error; `tau=1` is the paper's default and equals `BalancedSoftmaxLoss`,
    `tau=0` is plain cross-entropy.

    Reference: Menon, Jayasumana, Rawat, Jain, Veit, Kumar. "Long-tail
    learning via logit adjustment". ICLR 2021.
    https://arxiv.org/abs/2007.07314

    Args:
        class_counts: Training samples per class; or give `class_priors`.
        class_priors: Label prior `pi` (normalised to sum to 1); or give
            `class_counts`. Exactly one of the two.
        tau: Non-negative temperature of the adjustment. Defaults to `1.0`.
        from_logits: Whether `y_pred` holds logits. With `False` (probabilities
            expected), a `y_pred` outside `[0, 1]` (logits, which every
            keras_imbalance builder outputs) raises a `ValueError` in an eager
            call and makes the loss NaN inside a compiled step (`fit`,
            `tf.function`, XLA); with `True`, a softmax/sigmoid output gives a
            `UserWarning`. Defaults to `True`.
        ignore_class: A label value to leave out of the loss. Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"logit_adjusted_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer or one-hot labels.
        y_pred: Logits (or probabilities) `(B, C)` or `(B, ..., C)`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = LogitAdjustedLoss(class_counts=[900, 100], tau=1.0)
    >>> round(float(loss([0, 1], [[2.0, -1.0], [0.5, 0.0]])), 4)
    1.384
    """

    fn = logit_adjusted_loss
    _config_keys = (
        "class_counts",
        "class_priors",
        "tau",
        "from_logits",
        "ignore_class",
    )

    def __init__(
        self,
        class_counts=None,
        class_priors=None,
        tau=1.0,
        from_logits=True,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="logit_adjusted_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_counts, self.class_priors = _check_prior_args(
            class_counts, class_priors
        )
        self.tau = check_float("tau", tau, low=0)
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
