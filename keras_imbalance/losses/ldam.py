"""Label-distribution-aware margin loss (Cao et al. 2019)."""

import keras
import numpy as np
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import (
    check_class_weight,
    check_float,
    check_length,
    check_optional_int,
    plain_class_weight,
    plain_counts,
)
from keras_imbalance.losses._base import ImbalanceLoss
from keras_imbalance.losses._common import (
    check_predictions,
    log_softmax,
    per_class,
    prepare,
    softmax_cross_entropy,
)

__all__ = ["LDAMLoss", "ldam_loss", "ldam_margins"]


def ldam_margins(class_counts, max_margin=0.5):
    """Per-class margins `m_c = C / n_c^(1/4)`, scaled so the largest is `max_margin`.

    Empty classes, the rarest of all, get `max_margin`.

    Example:

    >>> [round(m, 4) for m in ldam_margins([10000, 100, 1], max_margin=0.5)]
    [0.05, 0.1581, 0.5]
    """
    counts = np.asarray(plain_counts("class_counts", class_counts), dtype="float64")
    max_margin = check_float("max_margin", max_margin, low=0)
    present = counts > 0
    margins = np.zeros_like(counts)
    margins[present] = counts[present] ** -0.25
    margins = margins * (max_margin / margins.max())
    margins[~present] = max_margin
    return margins.tolist()


def ldam_loss(
    y_true,
    y_pred,
    class_counts,
    max_margin=0.5,
    scale=30.0,
    class_weight=None,
    ignore_class=None,
):
    """LDAM loss on logits, one value per sample (or position).

    `L = -sum_c w_c y_c log softmax(s * (z - m * y))_c`. See `LDAMLoss`.

    Example:

    >>> loss = ldam_loss([0, 1], [[0.8, 0.6], [0.1, 0.7]], class_counts=[100, 10])
    >>> [round(float(v), 4) for v in loss]
    [2.5191, 0.0486]
    """
    margins = ldam_margins(class_counts, max_margin)
    scale = check_float("scale", scale, low=0, low_open=True)
    ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
    check_predictions(y_pred, from_logits=True, name="ldam_loss", logits_only=True)
    target, logits = prepare(y_true, y_pred, ignore_class=ignore_class)
    num_classes = _labels.num_classes_of(logits)
    check_length("class_counts", margins, num_classes)
    if class_weight is not None:
        class_weight = check_class_weight("class_weight", class_weight, num_classes)
        class_weight = per_class(
            class_weight, num_classes, "class_weight", logits.dtype
        )
    margins = ops.convert_to_tensor(margins, logits.dtype)
    adjusted = scale * (logits - margins * target)
    log_p = log_softmax(adjusted)
    return softmax_cross_entropy(target, log_p, class_weight)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class LDAMLoss(ImbalanceLoss):
    """Label-distribution-aware margin (LDAM) loss, on logits.

    `L(z, y) = CE(softmax(s * (z - m_y * onehot(y))), y)`, with per-class
    margins `m_c ∝ n_c^(-1/4)` scaled so that the largest (rarest class) is
    `max_margin`. Rare classes must win by a larger margin, which tightens
    their decision boundary. Pair it with a cosine classifier head (inputs
    and weights normalised) and, after a few epochs, with deferred
    re-weighting (`class_weight`), as in the paper's LDAM-DRW. The paper
    feeds raw cosines (in [-1, 1]) to the loss: a `CosineClassifier` head
    already multiplies them by its own `scale` (16 by default), so either
    give that head `scale=1.0` or set this loss's `scale` to `30 / 16` and
    `max_margin` to `0.5 * 16`; otherwise the two scales multiply.

    With `class_weight`, each sample's loss is multiplied by its class's
    weight and the default reduction divides by the batch size (the Keras
    convention); PyTorch's `F.cross_entropy(weight=...)` used by the authors
    divides by the sum of the weights instead.

    Reference: Cao, Wei, Gaidon, Arechiga, Ma. "Learning Imbalanced Datasets
    with Label-Distribution-Aware Margin Loss". NeurIPS 2019.
    https://arxiv.org/abs/1906.07413

    Args:
        class_counts: Training samples per class.
        max_margin: The largest margin, `C` chosen so the rarest class gets
            it. Defaults to `0.5`.
        scale: Logit scale `s` (the paper's code uses 30 with normalised
            logits). Defaults to `30.0`.
        class_weight: Optional per-class weights (sequence or dict). Defaults
            to `None`.
        ignore_class: A label value to leave out of the loss. Defaults to `None`.
        reduction: As in `keras.losses.Loss`. Defaults to
            `"sum_over_batch_size"`.
        name: Defaults to `"ldam_loss"`.
        dtype: Dtype of the loss computation. Defaults to `None`.

    Call arguments:
        y_true: Integer or one-hot labels.
        y_pred: Logits `(B, C)` or `(B, ..., C)`; the output of a
            softmax/sigmoid activation gives a `UserWarning`.
        sample_weight: Optional weights.

    Returns:
        The reduced loss.

    Example:

    >>> loss = LDAMLoss([100, 10], max_margin=0.5, scale=30.0)
    >>> round(float(loss([0, 1], [[0.8, 0.6], [0.1, 0.7]])), 4)
    1.2838
    """

    fn = ldam_loss
    _logits_only = True
    #: The per-class weights `callbacks.DeferredReweighting` switches.
    class_weight_attribute = "class_weight"
    _config_keys = (
        "class_counts",
        "max_margin",
        "scale",
        "class_weight",
        "ignore_class",
    )

    def __init__(
        self,
        class_counts,
        max_margin=0.5,
        scale=30.0,
        class_weight=None,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="ldam_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_counts = plain_counts("class_counts", class_counts)
        self.max_margin = check_float("max_margin", max_margin, low=0)
        self.scale = check_float("scale", scale, low=0, low_open=True)
        self.class_weight = (
            None
            if class_weight is None
            else plain_class_weight("class_weight", class_weight)
        )
        self.ignore_class = check_optional_int("ignore_class", ignore_class, low=None)
