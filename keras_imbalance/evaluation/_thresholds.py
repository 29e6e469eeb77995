"""`tune_threshold`: the decision threshold of a two-class task, from held-out data."""

import numpy as np

from keras_imbalance._arrays import to_numpy
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import check_threshold_objective
from keras_imbalance.evaluation._binary import (
    check_positive_class,
    positive_probability,
    ranked_counts,
)

__all__ = ["tune_threshold"]


def tune_threshold(y_true, scores, *, objective="f1", positive_class=1):
    """Tune the decision threshold on the positive-class probability.

    Threshold moving is the standard first remedy for a skewed two-class
    task: train as usual, then predict the positive class when its
    probability `p` reaches a threshold `t` chosen on held-out data (a
    validation split, never the test split), instead of `p >= 0.5`.
    This is what scikit-learn's `TunedThresholdClassifierCV` does; here the
    candidates are exactly the distinct scores rather than a grid.

    The rule is: predict positive when `p >= t`. The candidate thresholds
    are the distinct values of `p` (so every candidate predicts at least one
    sample positive, and thresholds between two scores predict as the upper
    one does). Among them:

    - `objective="f1"`: the one with the highest F1 of the positive class,
      `2 TP / (2 TP + FP + FN)`; of several with the same F1, the highest
      threshold (the fewest positive predictions).
    - `objective={"recall": r}` (or `("recall", r)`), `0 < r <= 1`: of the
      thresholds whose recall `TP / P` is at least `r`, the one with the
      highest precision `TP / (TP + FP)` (the best precision at that recall,
      which is not always the highest such threshold: precision is not
      monotonic in the threshold); of several with the same precision, the
      highest threshold.

    Args:
        y_true: Labels of the held-out samples: class ids 0 and 1, shape
            `(N,)` or `(N, 1)`, or one-hot `(N, 2)`. Both classes must occur.
        scores: The positive class's probabilities, shape `(N,)`, in [0, 1];
            or the model's scores for both classes, shape `(N, 2)` (logits
            or probabilities, read as `evaluate_imbalanced` reads them).
            Finite.
        objective: `"f1"`, `{"recall": r}` or `("recall", r)`. Defaults to
            `"f1"`.
        positive_class: The class id (0 or 1) whose probability is
            thresholded. Defaults to `1`.

    Returns:
        The threshold `t`, a Python float in [0, 1]: one of the scores.
        Pass it to `evaluate_imbalanced(..., threshold=t)` or
        `export.export_saved_model(..., threshold=t)`.

    Raises:
        ValueError: for a bad `objective` (`r` outside `(0, 1]`) or
            `positive_class`, labels other than 0 and 1, a single class in
            `y_true`, non-finite scores, scores `(N,)` outside [0, 1], or
            lengths that differ.

    Example:

    >>> import numpy as np
    >>> y = [0, 0, 0, 0, 0, 0, 1, 0, 1, 1]
    >>> p = np.array([0.05, 0.1, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.6, 0.7])
    >>> tune_threshold(y, p)  # p >= 0.35: TP 3, FP 1, F1 0.857
    0.35
    >>> tune_threshold(y, p, objective={"recall": 0.5})  # 2 of 3 positives
    0.6
    """
    objective = check_threshold_objective("objective", objective)
    positive_class = check_positive_class(positive_class)
    probability = positive_probability(to_numpy(scores), positive_class)
    labels = integer_class_ids(to_numpy(y_true), 2, name="y_true")
    if labels.shape[0] != probability.shape[0]:
        raise ValueError(
            f"`y_true` has {labels.shape[0]} samples but `scores` has "
            f"{probability.shape[0]}; they must match."
        )
    positive = labels == positive_class
    positives = int(np.count_nonzero(positive))
    if positives in (0, labels.shape[0]):
        present = "no" if positives == 0 else "only"
        raise ValueError(
            f"`y_true` holds {present} samples of the positive class "
            f"{positive_class}: a threshold needs both classes to be tuned "
            f"({labels.shape[0]} samples)."
        )
    thresholds, tps, fps = ranked_counts(positive, probability)
    if objective == "f1":
        # One division of exact integers: equal F1 values compare equal.
        f1 = (2 * tps) / (tps + fps + positives)
        best = int(np.flatnonzero(f1 == f1.max())[0])
    else:
        reaching = np.flatnonzero(tps / positives >= objective["recall"])
        precision = tps[reaching] / (tps[reaching] + fps[reaching])
        best = int(reaching[np.flatnonzero(precision == precision.max())[0]])
    return float(thresholds[best])
