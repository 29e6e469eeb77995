"""Scores of a two-class task for its positive class, in NumPy.

The ranking scores are the positive class's probabilities in [0, 1]
(`class_probabilities`: kept as given, or the softmax of the logits).
`ranked_counts` is the one ranking behind the areas and the threshold
tuning: the distinct scores, highest first, and the true and false
positives of "positive when score >= t" at each of them (the counts
`sklearn.metrics.precision_recall_curve` and `roc_curve` are built from).

- PR-AUC is the average precision `sum_n (R_n - R_{n-1}) P_n` over those
  thresholds (`sklearn.metrics.average_precision_score`; no interpolation);
  NaN when the labels hold no positive sample (scikit-learn warns and
  returns 0, a plausible wrong number).
- ROC-AUC is the trapezoidal area under (FPR, TPR), ties counting one half
  (`sklearn.metrics.roc_auc_score`); NaN when the labels hold one class only
  (scikit-learn raises).
- Precision, recall and F1 of the positive class at the decision used are
  NaN where their denominator is 0 (scikit-learn's `zero_division=np.nan`).
"""

import math

import numpy as np

from keras_imbalance._validation import is_integer
from keras_imbalance.evaluation._inputs import class_probabilities

__all__ = [
    "average_precision",
    "binary_fields",
    "check_positive_class",
    "positive_probability",
    "ranked_counts",
    "roc_auc",
]


def check_positive_class(positive_class):
    if positive_class is None:
        return 1
    if not is_integer(positive_class) or positive_class not in (0, 1):
        raise ValueError(
            "Invalid value for argument `positive_class`. Expected 0 or 1 (a "
            "class id of a two-class task). Received: "
            f"positive_class={positive_class!r}"
        )
    return int(positive_class)


def positive_probability(scores, positive_class):
    """`(N,)` float64 probabilities of the positive class, checked.

    `scores` are the positive class's probabilities `(N,)` in [0, 1], or the
    scores `(N, 2)` of both classes (logits or probabilities).
    """
    scores = np.asarray(scores)
    if scores.dtype.kind not in "iuf":
        raise ValueError(f"`scores` must be numbers. Received: dtype={scores.dtype}")
    if scores.ndim == 2 and scores.shape[-1] == 2:
        probabilities, _ = class_probabilities(scores)
        return probabilities[:, positive_class]
    if scores.ndim != 1:
        raise ValueError(
            "`scores` must be the positive class's probabilities, shape (N,), "
            "or the scores of both classes, shape (N, 2). Received: "
            f"shape={scores.shape}"
        )
    scores = scores.astype("float64")
    if not np.all(np.isfinite(scores)):
        raise ValueError("`scores` contain NaN or infinite values.")
    if scores.size and (scores.min() < 0 or scores.max() > 1):
        raise ValueError(
            "`scores` of shape (N,) must be probabilities in [0, 1]. Received "
            f"values from {scores.min():g} to {scores.max():g}; pass logits as "
            "(N, 2) scores of both classes, or apply a sigmoid first."
        )
    return scores


def ranked_counts(positive, scores):
    """Distinct scores, highest first, and the TP and FP of `scores >= t`.

    Args:
        positive: Boolean `(N,)`, true for the positive samples.
        scores: Float `(N,)`.

    Returns:
        `(thresholds, tps, fps)`, three arrays of the same length.
    """
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    ends = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    tps = np.cumsum(positive[order], dtype="int64")[ends]
    fps = (ends + 1) - tps
    return ranked[ends], tps, fps


def average_precision(positive, scores):
    """`sum_n (R_n - R_{n-1}) P_n`; NaN without a positive sample."""
    _, tps, fps = ranked_counts(positive, scores)
    total = tps[-1]
    if total == 0:
        return math.nan
    precision = tps / (tps + fps)
    recall = tps / total
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def roc_auc(positive, scores):
    """Trapezoidal area under the ROC curve; NaN with a single class."""
    _, tps, fps = ranked_counts(positive, scores)
    positives, negatives = tps[-1], fps[-1]
    if positives == 0 or negatives == 0:
        return math.nan
    tpr = np.r_[0, tps] / positives
    fpr = np.r_[0, fps] / negatives
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _ratio(numerator, denominator):
    return math.nan if denominator == 0 else float(numerator / denominator)


def binary_fields(true, probabilities, confusion, positive_class, threshold):
    """The binary entries of an `ImbalanceReport` (keyword arguments)."""
    p, n = positive_class, 1 - positive_class
    tp, fp, fn = confusion[p, p], confusion[n, p], confusion[p, n]
    fields = {
        "positive_class": p,
        "threshold": threshold,
        "pr_auc": None,
        "roc_auc": None,
        "positive_precision": _ratio(tp, tp + fp),
        "positive_recall": _ratio(tp, tp + fn),
        "positive_f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    if probabilities is not None:
        positive, scores = true == p, probabilities[:, p]
        fields["pr_auc"] = average_precision(positive, scores)
        fields["roc_auc"] = roc_auc(positive, scores)
    return fields
