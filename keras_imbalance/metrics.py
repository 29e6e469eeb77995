"""Stateful Keras metrics for imbalanced classification.

Every metric here accumulates a weighted confusion matrix over the batches
of an epoch and computes its value from it, so it equals the scikit-learn /
imbalanced-learn score of all the predictions seen since the last reset.
Labels are integer or one-hot; predictions are probabilities or logits
(the predicted class is the argmax; a single sigmoid column is thresholded).

Labels that are not class ids (negative, `>= num_classes`, fractional, NaN;
other than `ignore_class`) and NaN predictions raise a `ValueError` when
`update_state` is called eagerly; inside a compiled step (`fit`,
`evaluate`), where nothing can be raised, they make the metric NaN until
its next reset.

Samples of weight 0 (and labels equal to `ignore_class`) are left out
entirely, as Keras masks are. scikit-learn differs in one corner: a class that
occurs *only* in zero-weight samples still counts among its labels, which
lowers its macro F1 and zeroes its G-mean.
"""

import keras
import numpy as np
from keras import ops

from keras_imbalance._arrays import plain
from keras_imbalance._confusion import ConfusionMatrixMetric, masked_mean
from keras_imbalance._names import SHOT_GROUPS
from keras_imbalance._validation import (
    check_float,
    check_one_of,
    plain_counts,
)

__all__ = [
    "BalancedAccuracy",
    "GeometricMeanRecall",
    "GroupAccuracy",
    "MacroF1",
    "group_of_classes",
]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class BalancedAccuracy(ConfusionMatrixMetric):
    """Balanced accuracy: the mean recall over the classes.

    `BA = mean_c TP_c / n_c` over the classes present in the labels seen so
    far, the number `sklearn.metrics.balanced_accuracy_score` gives. Plain
    accuracy is dominated by the head classes; balanced accuracy weighs
    every class equally.

    Reference: Brodersen, Ong, Stephan, Buhmann. "The balanced accuracy and
    its posterior distribution". ICPR 2010.

    Args:
        num_classes: Number of classes.
        from_logits: Threshold of a single sigmoid column (0 for logits, 0.5
            for probabilities). Defaults to `False`.
        ignore_class: A label value to leave out. Defaults to `None`.
        name: Defaults to `"balanced_accuracy"`.
        dtype: Defaults to `None`.

    Example:

    >>> m = BalancedAccuracy(num_classes=3)
    >>> m.update_state([0, 0, 0, 1, 2], [[.9, .1, 0], [.8, .2, 0], [.2, .8, 0],
    ...                                  [.1, .9, 0], [0, .3, .7]])
    >>> round(float(m.result()), 4)
    0.8889
    """

    def __init__(
        self,
        num_classes,
        from_logits=False,
        ignore_class=None,
        name="balanced_accuracy",
        dtype=None,
    ):
        super().__init__(
            num_classes,
            from_logits=from_logits,
            ignore_class=ignore_class,
            name=name,
            dtype=dtype,
        )

    def _value(self):
        tp, support, _ = self._counts()
        return masked_mean(ops.divide_no_nan(tp, support), support > 0)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class MacroF1(ConfusionMatrixMetric):
    """Macro-averaged F1 score, from integer or one-hot labels.

    `F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c)`, averaged over the classes that
    occur in the labels or the predictions seen so far: the number of
    `sklearn.metrics.f1_score(average="macro")`. Keras' `F1Score` refuses
    integer labels; this one takes both.

    Reference: van Rijsbergen, "Information Retrieval", 1979; Sokolova and
    Lapalme, "A systematic analysis of performance measures for
    classification tasks", 2009.

    Args:
        num_classes: Number of classes.
        from_logits: Threshold of a single sigmoid column. Defaults to `False`.
        ignore_class: A label value to leave out. Defaults to `None`.
        name: Defaults to `"macro_f1"`.
        dtype: Defaults to `None`.

    Example:

    >>> m = MacroF1(num_classes=3)
    >>> m.update_state([0, 0, 1, 2],
    ...                [[.9, .1, 0], [.2, .8, 0], [.1, .9, 0], [0, .3, .7]])
    >>> round(float(m.result()), 4)
    0.7778
    """

    def __init__(
        self,
        num_classes,
        from_logits=False,
        ignore_class=None,
        name="macro_f1",
        dtype=None,
    ):
        super().__init__(
            num_classes,
            from_logits=from_logits,
            ignore_class=ignore_class,
            name=name,
            dtype=dtype,
        )

    def _value(self):
        tp, support, predicted = self._counts()
        f1 = ops.divide_no_nan(2.0 * tp, support + predicted)
        return masked_mean(f1, (support + predicted) > 0)


@keras.saving.register_keras_serializable(package="keras_imbalance")
class GeometricMeanRecall(ConfusionMatrixMetric):
    """Geometric mean of the per-class recalls (G-mean).

    `G = (prod_c recall_c)^(1/K)` over the `K` classes occurring in the labels
    or the predictions: the number of
    `imblearn.metrics.geometric_mean_score` (its default
    `average="multiclass"`). A single class never recognised drives it to
    0, unless `correction` substitutes a small recall for it, as imblearn's
    argument of the same name does.

    Reference: Kubat, Matwin. "Addressing the curse of imbalanced training
    sets: one-sided selection". ICML 1997.

    Args:
        num_classes: Number of classes.
        correction: Recall substituted for classes with zero recall.
            Defaults to `0.0`.
        from_logits: Threshold of a single sigmoid column. Defaults to `False`.
        ignore_class: A label value to leave out. Defaults to `None`.
        name: Defaults to `"g_mean"`.
        dtype: Defaults to `None`.

    Example:

    >>> m = GeometricMeanRecall(num_classes=2)
    >>> m.update_state([0, 0, 0, 1], [[.9, .1], [.8, .2], [.4, .6], [.3, .7]])
    >>> round(float(m.result()), 4)
    0.8165
    """

    def __init__(
        self,
        num_classes,
        correction=0.0,
        from_logits=False,
        ignore_class=None,
        name="g_mean",
        dtype=None,
    ):
        super().__init__(
            num_classes,
            from_logits=from_logits,
            ignore_class=ignore_class,
            name=name,
            dtype=dtype,
        )
        self.correction = check_float("correction", correction, low=0, high=1)

    def _value(self):
        tp, support, predicted = self._counts()
        present = (support + predicted) > 0
        recall = ops.divide_no_nan(tp, support)
        recall = ops.where(recall > 0, recall, self.correction)
        # Classes not present count as recall 1 (log 0) in the product.
        log_recall = ops.where(present, ops.log(ops.maximum(recall, 1e-30)), 0.0)
        any_zero = ops.any(ops.logical_and(present, recall <= 0))
        k = ops.sum(ops.cast(present, "float32"))
        gmean = ops.exp(ops.divide_no_nan(ops.sum(log_recall), k))
        return ops.where(ops.logical_or(any_zero, k == 0), 0.0, gmean)

    def get_config(self):
        config = super().get_config()
        config["correction"] = self.correction
        return config


def group_of_classes(class_counts, group, many_threshold=100, few_threshold=20):
    """Indices of the classes in a shot group of the long-tail literature.

    Many-shot: more than `many_threshold` training samples; few-shot: fewer
    than `few_threshold`; medium-shot: the rest (Liu et al., OLTR, 2019).

    Example:

    >>> group_of_classes([500, 100, 20, 19, 3], "few").tolist()
    [3, 4]
    """
    counts = np.asarray(plain_counts("class_counts", class_counts))
    check_one_of("group", group, SHOT_GROUPS)
    if group == "many":
        return np.flatnonzero(counts > many_threshold)
    if group == "few":
        return np.flatnonzero(counts < few_threshold)
    return np.flatnonzero((counts >= few_threshold) & (counts <= many_threshold))


@keras.saving.register_keras_serializable(package="keras_imbalance")
class GroupAccuracy(ConfusionMatrixMetric):
    """Many-, medium- or few-shot accuracy of long-tailed recognition.

    Classes are grouped by their *training* counts: many-shot (more than
    `many_threshold` samples), few-shot (fewer than `few_threshold`) and
    medium-shot (the rest). The metric is the mean per-class accuracy
    (recall) over the group's classes present in the labels seen so far, as
    in the OLTR benchmark code; on a balanced test set it is the group's
    plain accuracy. It is 0 until a sample of the group has been seen.

    Reference: Liu, Miao, Zhan, Wang, Gong, Yu. "Large-Scale Long-Tailed
    Recognition in an Open World". CVPR 2019.
    https://arxiv.org/abs/1904.05160

    Args:
        class_counts: Training samples per class (its length is `C`).
        group: `"many"`, `"medium"` or `"few"`. Defaults to `"few"`.
        many_threshold: Defaults to `100`.
        few_threshold: Defaults to `20`.
        from_logits: Threshold of a single sigmoid column. Defaults to `False`.
        ignore_class: A label value to leave out. Defaults to `None`.
        name: Defaults to `"<group>_shot_accuracy"`.
        dtype: Defaults to `None`.

    Raises:
        ValueError: when no class of `class_counts` falls in `group`.

    Example:

    >>> m = GroupAccuracy([500, 200, 10], group="few")
    >>> m.update_state([0, 1, 2, 2], [[.9, .1, 0], [.2, .8, 0], [.1, .2, .7],
    ...                               [.6, .3, .1]])
    >>> float(m.result())
    0.5
    """

    def __init__(
        self,
        class_counts,
        group="few",
        many_threshold=100,
        few_threshold=20,
        from_logits=False,
        ignore_class=None,
        name=None,
        dtype=None,
    ):
        counts = plain_counts("class_counts", class_counts)
        check_one_of("group", group, SHOT_GROUPS)
        many_threshold = check_float("many_threshold", many_threshold, low=0)
        few_threshold = check_float(
            "few_threshold", few_threshold, low=0, high=many_threshold
        )
        members = group_of_classes(counts, group, many_threshold, few_threshold)
        if members.size == 0:
            raise ValueError(
                f"No class is {group}-shot with many_threshold={many_threshold:g} and "
                f"few_threshold={few_threshold:g}: class_counts={counts}."
            )
        super().__init__(
            len(counts),
            from_logits=from_logits,
            ignore_class=ignore_class,
            name=name or f"{group}_shot_accuracy",
            dtype=dtype,
        )
        self.class_counts = counts
        self.group = group
        self.many_threshold = many_threshold
        self.few_threshold = few_threshold
        membership = np.zeros(len(counts), dtype="float32")
        membership[members] = 1.0
        self._membership = membership

    def _value(self):
        tp, support, _ = self._counts()
        members = ops.convert_to_tensor(self._membership) > 0
        recall = ops.divide_no_nan(tp, support)
        return masked_mean(recall, ops.logical_and(members, support > 0))

    def get_config(self):
        config = super().get_config()
        del config["num_classes"]
        config.update(
            {
                "class_counts": plain(self.class_counts),
                "group": self.group,
                "many_threshold": self.many_threshold,
                "few_threshold": self.few_threshold,
            }
        )
        return config
