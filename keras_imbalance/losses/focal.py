"""Focal losses (Lin et al. 2017): softmax, sigmoid, and the TF-Addons one.

Lin, Goyal, Girshick, He, Dollar. "Focal Loss for Dense Object Detection".
ICCV 2017. https://arxiv.org/abs/1708.02002
"""

import keras
import numpy as np
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import (
    check_bool,
    check_float,
    check_optional_int,
    check_scalar_or_per_class,
    invalid,
)
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    focal_modulation,
    log_probabilities,
    per_class,
    prepare,
)

__all__ = [
    "BinaryFocalLoss",
    "FocalLoss",
    "SigmoidFocalCrossEntropy",
    "binary_focal_loss",
    "focal_loss",
    "sigmoid_focal_crossentropy",
]


def _check_focal_args(gamma, alpha, label_smoothing, *, alpha_high=None):
    gamma = check_scalar_or_per_class("gamma", gamma)
    alpha = check_scalar_or_per_class("alpha", alpha, allow_none=True, high=alpha_high)
    if alpha_high is None and alpha is not None and not np.any(np.asarray(alpha) > 0):
        # Softmax focal: alpha multiplies every term, so all zero = no loss.
        raise invalid(
            "alpha",
            "None, a positive float or per-class weights not all zero (an "
            "all-zero alpha makes the loss zero everywhere)",
            alpha,
        )
    label_smoothing = check_float("label_smoothing", label_smoothing, low=0, high=1)
    return gamma, alpha, label_smoothing


def focal_loss(
    y_true,
    y_pred,
    gamma=2.0,
    alpha=None,
    from_logits=False,
    label_smoothing=0.0,
    ignore_class=None,
):
    """Softmax focal loss, one value per sample (or per position).

    `FL = -sum_c alpha_c * (1 - p_c)^gamma_c * y_c * log(p_c)`.

    See `FocalLoss` for the arguments. Returns a tensor of shape
    `y_pred.shape[:-1]`; positions whose label is `ignore_class` are 0.

    Example:

    >>> loss = focal_loss([0, 1], [[0.9, 0.1], [0.4, 0.6]])
    >>> [round(float(v), 4) for v in loss]
    [0.0011, 0.0817]
    """
    gamma, alpha, label_smoothing = _check_focal_args(gamma, alpha, label_smoothing)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(y_pred, from_logits=from_logits, name="focal_loss")
    target, y_pred = prepare(
        y_true, y_pred, ignore_class=ignore_class, label_smoothing=label_smoothing
    )
    num_classes = _labels.num_classes_of(y_pred)
    gamma = per_class(gamma, num_classes, "gamma", y_pred.dtype)
    alpha = per_class(alpha, num_classes, "alpha", y_pred.dtype)
    log_p, p = log_probabilities(y_pred, from_logits)
    terms = focal_modulation(1.0 - p, gamma) * target * log_p
    if alpha is not None:
        terms = terms * alpha
    return apply_guard(-ops.sum(terms, axis=-1), guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class FocalLoss(ImbalanceLoss):
    """Softmax focal loss for multi-class (and dense) prediction.

    `FL(p, y) = -sum_c alpha_c * (1 - p_c)^gamma_c * y_c * log(p_c)`

    The modulating factor `(1 - p_c)^gamma` shrinks the loss of well-classified
    samples so training concentrates on the hard ones, typically the tail
    classes. With `gamma=0` and `alpha=None` it is categorical cross-entropy;
    with one-hot labels and a float `alpha` it equals
    `keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma)`,
    which, unlike this loss, refuses integer labels.

    Reference: Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.

    Args:
        gamma: Focusing parameter, a non-negative float or one per class.
            Defaults to `2.0`.
        alpha: Class weighting: `None` (no weighting), a float for every
            class, or a sequence of one non-negative weight per class.
            Defaults to `None`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        label_smoothing: In `[0, 1]`; targets become
            `y * (1 - label_smoothing) + label_smoothing / num_classes`.
            Defaults to `0.0`.
        ignore_class: A label value (e.g. 255 in segmentation) whose
            positions are left out of the loss and of the mean. Defaults to
            `None`.
        reduction: Type of reduction, as in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Name of the loss instance. Defaults to `"focal_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`
            (`keras.backend.floatx()`).

    Call arguments:
        y_true: Integer labels of shape `y_pred.shape[:-1]` (or with a trailing
            axis of 1), or one-hot / soft labels of the shape of `y_pred`.
        y_pred: Probabilities or logits, shape `(B, C)` or `(B, ..., C)`.
        sample_weight: Optional weights, per sample or per position.

    Returns:
        The reduced loss (a scalar unless `reduction` is `"none"`).

    Example:

    >>> import keras
    >>> loss = FocalLoss(gamma=2.0, from_logits=True)
    >>> round(float(loss([0, 2], [[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])), 4)
    0.0061
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss=FocalLoss(from_logits=True))
    """

    fn = focal_loss
    #: The per-class weights `callbacks.DeferredReweighting` switches.
    class_weight_attribute = "alpha"
    _config_keys = ("gamma", "alpha", "from_logits", "label_smoothing", "ignore_class")

    def __init__(
        self,
        gamma=2.0,
        alpha=None,
        from_logits=False,
        label_smoothing=0.0,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="focal_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma, self.alpha, self.label_smoothing = _check_focal_args(
            gamma, alpha, label_smoothing
        )
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)


def binary_focal_loss(
    y_true, y_pred, gamma=2.0, alpha=None, from_logits=False, label_smoothing=0.0
):
    """Sigmoid focal loss, averaged over the last axis.

    `FL = alpha_t * (1 - p_t)^gamma * BCE(y, p)` with
    `p_t = y p + (1 - y)(1 - p)` and `alpha_t = y a + (1 - y)(1 - a)`.

    See `BinaryFocalLoss` for the arguments. Returns `y_pred.shape[:-1]`.

    Example:

    >>> loss = binary_focal_loss([[1.0], [0.0]], [[0.9], [0.2]], alpha=0.25)
    >>> [round(float(v), 5) for v in loss]
    [0.00026, 0.00669]
    """
    gamma = check_float("gamma", gamma, low=0)
    alpha = check_scalar_or_per_class("alpha", alpha, allow_none=True, high=1.0)
    label_smoothing = check_float("label_smoothing", label_smoothing, low=0, high=1)
    guard = check_predictions(y_pred, from_logits=from_logits, name="binary_focal_loss")
    y_pred = _labels.as_float(y_pred)
    y_true = _labels.match_binary_rank(ops.convert_to_tensor(y_true), y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    loss = focal_modulation(1.0 - p_t, gamma) * bce
    if alpha is not None:
        alpha = per_class(alpha, y_pred.shape[-1], "alpha", y_pred.dtype)
        loss = loss * (y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    return apply_guard(ops.mean(loss, axis=-1), guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BinaryFocalLoss(ImbalanceLoss):
    """Sigmoid focal loss for binary and multi-label targets.

    `FL(p, y) = mean_j alpha_t * (1 - p_t)^gamma * BCE(y_j, p_j)`, where
    `p_t = y p + (1 - y)(1 - p)` and `alpha_t = y a + (1 - y)(1 - a)`.

    With `alpha=a` it equals `keras.losses.BinaryFocalCrossentropy(
    apply_class_balancing=True, alpha=a, gamma=gamma)`; with `alpha=None`,
    the same without class balancing. Unlike Keras, `alpha` may give one
    value per label of a multi-label target.

    Reference: Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.

    Args:
        gamma: Non-negative focusing parameter. Defaults to `2.0`.
        alpha: `None`, a float in `[0, 1]` (the weight of positives, negatives
            get `1 - alpha`), or one such float per label. Defaults to `None`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        label_smoothing: In `[0, 1]`; targets are squeezed towards 0.5.
            Defaults to `0.0`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"binary_focal_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Binary targets, the shape of `y_pred` (a missing trailing axis
            of 1 is added).
        y_pred: Probabilities or logits, `(B, L)` or `(B, ..., L)`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = BinaryFocalLoss(gamma=2.0, alpha=0.25)
    >>> round(float(loss([[1.0], [0.0]], [[0.9], [0.2]])), 5)
    0.00348
    """

    fn = binary_focal_loss
    _config_keys = ("gamma", "alpha", "from_logits", "label_smoothing")

    def __init__(
        self,
        gamma=2.0,
        alpha=None,
        from_logits=False,
        label_smoothing=0.0,
        reduction="sum_over_batch_size",
        name="binary_focal_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = check_float("gamma", gamma, low=0)
        self.alpha = check_scalar_or_per_class(
            "alpha", alpha, allow_none=True, high=1.0
        )
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = check_float(
            "label_smoothing", label_smoothing, low=0, high=1
        )


def sigmoid_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False
):
    """The tensorflow-addons `sigmoid_focal_crossentropy`, summed over the last axis.

    Same signature, defaults and numbers as `tfa.losses.sigmoid_focal_crossentropy`
    (including its rule that `alpha=None` or `0` and `gamma=None` or `0` turn
    the corresponding factor off).

    Example:

    >>> loss = sigmoid_focal_crossentropy(
    ...     [[1.0], [1.0], [0.0]], [[0.97], [0.91], [0.03]])
    >>> [f"{float(v):.4e}" for v in loss]
    ['6.8533e-06', '1.9098e-04', '2.0560e-05']
    """
    alpha = None if not alpha else check_float("alpha", alpha, low=0, high=1)
    gamma = None if not gamma else check_float("gamma", gamma, low=0)
    guard = check_predictions(
        y_pred, from_logits=from_logits, name="sigmoid_focal_crossentropy"
    )
    y_pred = _labels.as_float(y_pred)
    y_true = _labels.match_binary_rank(ops.convert_to_tensor(y_true), y_pred)
    if from_logits:
        ce = ops.binary_crossentropy(y_true, y_pred, from_logits=True)
        p = ops.sigmoid(y_pred)
    else:
        # tf.keras 2's `binary_crossentropy`, which TF-Addons called: clip,
        # then log(p + eps). Keras 3 dropped the `+ eps`; keep it for TFA's numbers.
        eps = keras.config.epsilon()
        p = y_pred
        clipped = ops.clip(p, eps, 1.0 - eps)
        ce = -(
            y_true * ops.log(clipped + eps)
            + (1.0 - y_true) * ops.log(1.0 - clipped + eps)
        )
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    loss = ce
    if alpha:
        loss = loss * (y_true * alpha + (1.0 - y_true) * (1.0 - alpha))
    if gamma:
        loss = loss * focal_modulation(1.0 - p_t, gamma)
    return apply_guard(ops.sum(loss, axis=-1), guard)


def _tfa_default_reduction():
    """TF-Addons' `"none"` where `fit` accepts a per-sample loss (TensorFlow
    trains on its sum); elsewhere an error asking for an explicit choice, as
    `fit` on JAX / PyTorch fails on it with "Gradient only defined for
    scalar-output functions" / "grad can be implicitly created only for
    scalar outputs"."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return "none"
    raise ValueError(
        "SigmoidFocalCrossEntropy keeps TF-Addons' per-sample default "
        "(reduction=None, one loss per sample) on the TensorFlow backend only: "
        f"model.fit on the {backend} backend needs a scalar loss. Pass "
        'reduction="sum_over_batch_size" to train with it (the mean, Keras\' '
        'default), or reduction="none" for per-sample values.'
    )


@keras.saving.register_keras_serializable(package="keras_imbalance")
class SigmoidFocalCrossEntropy(ImbalanceLoss):
    """Drop-in replacement for `tfa.losses.SigmoidFocalCrossEntropy`.

    tensorflow-addons does not import under Keras 3; this class has its name,
    argument order, defaults (`alpha=0.25`, `gamma=2.0`, `reduction="none"`)
    and numbers, so migrating is a change of import:

        # from tensorflow_addons.losses import SigmoidFocalCrossEntropy
        from keras_imbalance.losses import SigmoidFocalCrossEntropy

    `FL = sum_j alpha_t * (1 - p_t)^gamma * BCE(y_j, p_j)` (summed, not
    averaged, over the last axis, as in TF-Addons).

    Reference: Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017.

    Args:
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        alpha: Balancing factor in `[0, 1]` for positives; `None` or `0` turns
            balancing off (TF-Addons' rule). Defaults to `0.25`.
        gamma: Non-negative focusing parameter; `None` or `0` turns focusing
            off. Defaults to `2.0`.
        reduction: As in `keras.losses.Loss`. Defaults to `None`: on the
            TensorFlow backend TF-Addons' `"none"` (one value per sample,
            which TensorFlow's `fit` accepts). On JAX and PyTorch, where
            `fit` needs a scalar loss, `None` raises a `ValueError` asking
            for an explicit `reduction=`: `"sum_over_batch_size"` to train,
            `"none"` for per-sample values.
        name: Defaults to `"sigmoid_focal_crossentropy"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Binary targets, the shape of `y_pred`.
        y_pred: Probabilities or logits.
        sample_weight: Optional weights.

    Returns:
        One loss per sample with the default `reduction="none"`.

    Example (the TF-Addons documentation's, with the reduction spelled out
    so that it runs on every backend):

    >>> fl = SigmoidFocalCrossEntropy(reduction="none")
    >>> loss = fl([[1.0], [1.0], [0.0]], [[0.97], [0.91], [0.03]])
    >>> [f"{float(v):.4e}" for v in loss]
    ['6.8533e-06', '1.9098e-04', '2.0560e-05']
    """

    fn = sigmoid_focal_crossentropy
    _config_keys = ("alpha", "gamma", "from_logits")

    def __init__(
        self,
        from_logits=False,
        alpha=0.25,
        gamma=2.0,
        reduction=None,
        name="sigmoid_focal_crossentropy",
        dtype=None,
    ):
        from_logits = check_bool("from_logits", from_logits)
        alpha = None if alpha is None else check_float("alpha", alpha, low=0, high=1)
        gamma = None if gamma is None else check_float("gamma", gamma, low=0)
        if reduction is None:
            reduction = _tfa_default_reduction()
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits, self.alpha, self.gamma = from_logits, alpha, gamma
