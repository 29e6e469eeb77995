"""Class-balanced loss (Cui et al. 2019): re-weighting by the effective number."""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import (
    check_bool,
    check_float,
    check_length,
    check_one_of,
    check_optional_int,
    plain_counts,
)
from keras_imbalance.class_weights import compute_class_weights
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    focal_modulation,
    log_probabilities,
    prepare,
    softmax_cross_entropy,
)

__all__ = ["ClassBalancedLoss", "class_balanced_loss"]

_LOSS_TYPES = ("focal", "sigmoid", "softmax")


def class_balanced_loss(
    y_true,
    y_pred,
    class_counts,
    beta=0.9999,
    loss_type="focal",
    gamma=2.0,
    from_logits=False,
    ignore_class=None,
):
    """Class-balanced loss, one value per sample (or position).

    `CB(p, y) = w_y * L(p, y)` with `w_c = (1 - beta) / (1 - beta^n_c)`
    normalised to sum to the number of classes. See `ClassBalancedLoss`.

    Example:

    >>> loss = class_balanced_loss(
    ...     [0, 1], [[2.0, -1.0], [0.5, 0.0]], class_counts=[100, 10],
    ...     loss_type="softmax", from_logits=True)
    >>> [round(float(v), 4) for v in loss]
    [0.0089, 1.7703]
    """
    counts = plain_counts("class_counts", class_counts)
    check_one_of("loss_type", loss_type, _LOSS_TYPES)
    gamma = check_float("gamma", gamma, low=0)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    guard = check_predictions(
        y_pred, from_logits=from_logits, name="class_balanced_loss"
    )
    target, y_pred = prepare(y_true, y_pred, ignore_class=ignore_class)
    check_length("class_counts", counts, _labels.num_classes_of(y_pred))
    weights = ops.convert_to_tensor(
        compute_class_weights(counts, "effective_number", beta=beta), y_pred.dtype
    )
    if loss_type == "softmax":
        log_p, _ = log_probabilities(y_pred, from_logits)
        return apply_guard(softmax_cross_entropy(target, log_p, weights), guard)
    # "sigmoid" and "focal": one binary term per class, summed over classes
    # (eqs. 5-6 of the paper), the whole weighted by the label's weight.
    bce = ops.binary_crossentropy(target, y_pred, from_logits=from_logits)
    if loss_type == "focal":
        p = ops.sigmoid(y_pred) if from_logits else y_pred
        one_minus_p_t = target * (1.0 - p) + (1.0 - target) * p
        bce = focal_modulation(one_minus_p_t, gamma) * bce
    sample_weight = ops.sum(target * weights, axis=-1)
    loss = sample_weight * ops.sum(bce, axis=-1)
    mask = _labels.valid_mask(y_true, y_pred, ignore_class)
    if mask is not None:
        loss = loss * ops.cast(mask, loss.dtype)
    return apply_guard(loss, guard)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class ClassBalancedLoss(ImbalanceLoss):
    """Class-balanced loss based on the effective number of samples.

    Each sample's loss is weighted by its class's
    `w_c = (1 - beta) / (1 - beta^n_c)`, normalised so the weights sum to the
    number of classes (`compute_class_weights(method="effective_number")`).
    `beta=0` gives no re-weighting; `beta -> 1` gives inverse frequency.

    * `loss_type="softmax"`: `w_y * CE(softmax(z), y)`.
    * `loss_type="sigmoid"`: `w_y * sum_c BCE(sigmoid(z_c), y_c)`.
    * `loss_type="focal"`: `w_y * sum_c (1 - p_t,c)^gamma BCE(sigmoid(z_c), y_c)`,
      the sigmoid focal loss of the paper's best CIFAR results.

    The per-class terms are summed, as in the paper's equations (the authors'
    code divides the focal version by the number of positives, which is the
    batch size for one-hot labels: the same as this loss's default reduction).

    Reference: Cui, Jia, Lin, Song, Belongie. "Class-Balanced Loss Based on
    Effective Number of Samples". CVPR 2019. https://arxiv.org/abs/1901.05555

    Args:
        class_counts: Training samples per class (`class_counts(y_train)`).
        beta: Hyperparameter in `[0, 1)`. Defaults to `0.9999`.
        loss_type: `"focal"`, `"sigmoid"` or `"softmax"`. Defaults to
            `"focal"`.
        gamma: Focusing parameter of `"focal"`. Defaults to `2.0`.
        from_logits: Whether `y_pred` holds logits (for `"sigmoid"` and
            `"focal"`, probabilities are per-class sigmoid outputs). With
            `False` (probabilities expected), a `y_pred` outside `[0, 1]`
            (logits, which every keras_imbalance builder outputs) raises a
            `ValueError` in an eager call and makes the loss NaN inside a
            compiled step (`fit`, `tf.function`, XLA); with `True`, a
            softmax/sigmoid output gives a `UserWarning`. Defaults to `False`.
        ignore_class: A label value to leave out of the loss. Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"class_balanced_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer or one-hot labels.
        y_pred: Logits or probabilities `(B, C)` or `(B, ..., C)`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = ClassBalancedLoss([100, 10], beta=0.999, from_logits=True)
    >>> round(float(loss([0, 1], [[2.0, -1.0], [0.5, 0.0]])), 4)
    0.5009
    """

    fn = class_balanced_loss
    _config_keys = (
        "class_counts",
        "beta",
        "loss_type",
        "gamma",
        "from_logits",
        "ignore_class",
    )

    def __init__(
        self,
        class_counts,
        beta=0.9999,
        loss_type="focal",
        gamma=2.0,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="class_balanced_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_counts = plain_counts("class_counts", class_counts)
        self.beta = check_float("beta", beta, low=0, high=1, high_open=True)
        self.loss_type = check_one_of("loss_type", loss_type, _LOSS_TYPES)
        self.gamma = check_float("gamma", gamma, low=0)
        self.from_logits = check_bool("from_logits", from_logits)
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
