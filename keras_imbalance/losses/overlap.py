"""Overlap losses for imbalanced segmentation: Dice and (focal) Tversky."""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import check_bool, check_float, check_optional_int
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import apply_guard, check_predictions

__all__ = ["DiceLoss", "TverskyLoss", "dice_loss", "tversky_loss"]


def _overlap_terms(y_true, y_pred, from_logits, ignore_class):
    """Per-sample, per-class soft TP, FP and FN, each of shape `(B, C)`."""
    y_pred = _labels.as_float(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if _labels.num_classes_of(y_pred) == 1:
        # One channel: binary segmentation with sigmoid outputs.
        target = _labels.match_binary_rank(y_true, y_pred, ignore_class=ignore_class)
        probs = ops.sigmoid(y_pred) if from_logits else y_pred
        mask = (
            None
            if ignore_class is None
            else ops.not_equal(ops.squeeze(ops.cast(target, "int32"), -1), ignore_class)
        )
        target = (
            target
            if mask is None
            else ops.where(ops.expand_dims(mask, -1), target, 0.0)
        )
    else:
        target = _labels.one_hot_labels(y_true, y_pred, ignore_class=ignore_class)
        probs = ops.softmax(y_pred, axis=-1) if from_logits else y_pred
        mask = _labels.valid_mask(y_true, y_pred, ignore_class)
    if mask is not None:
        probs = probs * ops.expand_dims(ops.cast(mask, probs.dtype), -1)
    axes = tuple(range(1, len(y_pred.shape) - 1))
    tp = target * probs
    fp = (1.0 - target) * probs
    fn = target * (1.0 - probs)
    if axes:
        tp, fp, fn = (ops.sum(t, axis=axes) for t in (tp, fp, fn))
    return tp, fp, fn


def dice_loss(y_true, y_pred, smooth=1.0, from_logits=False, ignore_class=None):
    """Soft Dice loss per sample: `1 - mean_c (2TP_c + s) / (2TP_c + FP_c + FN_c + s)`.

    See `DiceLoss`. Returns one value per sample, shape `(B,)`.

    Example:

    >>> y_true = [[[0, 1], [1, 1]]]            # (B, H, W) integer masks
    >>> y_pred = [[[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]]]
    >>> [round(float(v), 4) for v in dice_loss(y_true, y_pred)]
    [0.2122]
    """
    smooth = check_float("smooth", smooth, low=0)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(y_pred, from_logits=from_logits, name="dice_loss")
    tp, fp, fn = _overlap_terms(y_true, y_pred, from_logits, ignore_class)
    dice = (2.0 * tp + smooth) / (2.0 * tp + fp + fn + smooth)
    return apply_guard(1.0 - ops.mean(dice, axis=-1), guard)


def _check_tversky_args(alpha, beta, gamma, smooth):
    return (
        check_float("alpha", alpha, low=0),
        check_float("beta", beta, low=0),
        check_float("gamma", gamma, low=0, low_open=True),
        check_float("smooth", smooth, low=0),
    )


def tversky_loss(
    y_true,
    y_pred,
    alpha=0.3,
    beta=0.7,
    gamma=1.0,
    smooth=1.0,
    from_logits=False,
    ignore_class=None,
):
    """(Focal) Tversky loss per sample: `mean_c (1 - TI_c)^(1/gamma)`.

    `TI_c = (TP_c + s) / (TP_c + alpha FP_c + beta FN_c + s)`. See
    `TverskyLoss`. Returns one value per sample, shape `(B,)`.

    Example:

    >>> y_true = [[[0, 1], [1, 1]]]
    >>> y_pred = [[[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]]]
    >>> [round(float(v), 4) for v in tversky_loss(y_true, y_pred)]
    [0.1637]
    """
    alpha, beta, gamma, smooth = _check_tversky_args(alpha, beta, gamma, smooth)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(y_pred, from_logits=from_logits, name="tversky_loss")
    tp, fp, fn = _overlap_terms(y_true, y_pred, from_logits, ignore_class)
    index = (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    loss = 1.0 - index
    if gamma != 1.0:
        loss = ops.power(ops.maximum(loss, keras.config.epsilon()), 1.0 / gamma)
    return apply_guard(ops.mean(loss, axis=-1), guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class DiceLoss(ImbalanceLoss):
    """Soft Dice loss for imbalanced (segmentation) targets.

    For each sample and class, over the spatial positions:
    `Dice_c = (2 sum(p y) + s) / (sum(p) + sum(y) + s)`, and
    `L = 1 - mean_c Dice_c`. A small structure counts as much as a large one,
    which is why overlap losses suit imbalanced segmentation. Classes are
    averaged per sample, every class included.

    A single output channel is a binary mask with sigmoid outputs;
    otherwise `y_pred` is a softmax over classes.

    Reference: Milletari, Navab, Ahmadi. "V-Net: Fully Convolutional Neural
    Networks for Volumetric Medical Image Segmentation". 3DV 2016.
    https://arxiv.org/abs/1606.04797

    Args:
        smooth: Non-negative smoothing `s`, which keeps absent classes
            finite. Defaults to `1.0`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        ignore_class: A label value whose positions are left out of every sum.
            Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"dice_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer masks `(B, H, W)` (or `(B, H, W, 1)`) or one-hot masks.
        y_pred: Probabilities or logits `(B, H, W, C)` (any number of spatial
            axes, or none).
        sample_weight: Optional per-sample weights `(B,)`.

    Returns:
        The reduced loss.

    Example:

    >>> y_true = [[[0, 1], [1, 1]]]
    >>> y_pred = [[[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]]]
    >>> round(float(DiceLoss()(y_true, y_pred)), 4)
    0.2122
    """

    fn = dice_loss
    _config_keys = ("smooth", "from_logits", "ignore_class")
    _per_position = False

    def __init__(
        self,
        smooth=1.0,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="dice_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.smooth = check_float("smooth", smooth, low=0)
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class TverskyLoss(ImbalanceLoss):
    """Tversky loss, and with `gamma > 1` the focal Tversky loss.

    `TI_c = (TP_c + s) / (TP_c + alpha FP_c + beta FN_c + s)` per sample and
    class (soft counts over the spatial positions), and
    `L = mean_c (1 - TI_c)^(1/gamma)`. `beta > alpha` penalises missed
    pixels (false negatives) more, raising recall on small structures;
    `alpha = beta = 0.5` with `smooth=0` is the Dice loss; `gamma > 1`
    (the paper recommends 4/3) focuses on the poorly segmented classes.

    References: Salehi, Erdogmus, Gholipour. "Tversky loss function for
    image segmentation using 3D fully convolutional deep networks". MLMI
    2017. https://arxiv.org/abs/1706.05721 ; Abraham, Khan. "A Novel Focal
    Tversky loss function with improved Attention U-Net for lesion
    segmentation". ISBI 2019. https://arxiv.org/abs/1810.07842

    Args:
        alpha: Non-negative weight of false positives. Defaults to `0.3`.
        beta: Non-negative weight of false negatives. Defaults to `0.7`.
        gamma: Positive focal parameter; the loss is raised to `1/gamma`.
            Defaults to `1.0` (plain Tversky).
        smooth: Non-negative smoothing `s`. Defaults to `1.0`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
            With `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        ignore_class: A label value whose positions are left out of every sum.
            Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"tversky_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer masks `(B, H, W)` or one-hot masks.
        y_pred: Probabilities or logits `(B, H, W, C)`.
        sample_weight: Optional per-sample weights `(B,)`.

    Returns:
        The reduced loss.

    Example:

    >>> y_true = [[[0, 1], [1, 1]]]
    >>> y_pred = [[[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]]]]
    >>> round(float(TverskyLoss(gamma=4 / 3)(y_true, y_pred)), 4)
    0.2572
    """

    fn = tversky_loss
    _config_keys = ("alpha", "beta", "gamma", "smooth", "from_logits", "ignore_class")
    _per_position = False

    def __init__(
        self,
        alpha=0.3,
        beta=0.7,
        gamma=1.0,
        smooth=1.0,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="tversky_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha, self.beta, self.gamma, self.smooth = _check_tversky_args(
            alpha, beta, gamma, smooth
        )
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
