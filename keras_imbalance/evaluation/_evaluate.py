"""`evaluate_imbalanced`: a model or its predictions and labels -> a report."""

import numpy as np

from keras_imbalance._arrays import predict, to_numpy
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._names import SHOT_GROUPS
from keras_imbalance._validation import check_float, check_positive_int, plain_counts
from keras_imbalance.evaluation._binary import binary_fields, check_positive_class
from keras_imbalance.evaluation._calibration import expected_calibration_error
from keras_imbalance.evaluation._inputs import (
    check_names,
    infer_num_classes,
    is_model,
    model_scores,
    read_predictions,
)
from keras_imbalance.evaluation._report import ImbalanceReport
from keras_imbalance.evaluation._shots import (
    FEW_THRESHOLD,
    MANY_THRESHOLD,
    check_shot_thresholds,
    shot_group_recalls,
)

__all__ = ["evaluate_imbalanced", "scores_from_confusion"]


def evaluate_imbalanced(
    model_or_predictions,
    x=None,
    y=None,
    *,
    class_counts=None,
    class_names=None,
    batch_size=256,
    shot_thresholds=(MANY_THRESHOLD, FEW_THRESHOLD),
    threshold=None,
    positive_class=None,
):
    """Evaluate a classifier on (imbalanced) test data.

    Args:
        model_or_predictions: A Keras model (anything with `predict`), run on
            `x`; its output is logits or probabilities of shape `(N, C)`, or a
            dict whose `"logits"` entry is (else its `"probabilities"` entry).
            Or the predictions themselves: scores of shape `(N, C)` (logits or
            probabilities) or integer class ids of shape `(N,)`.
        x: The model's inputs; only with a model.
        y: Labels: integer class ids `(N,)` / `(N, 1)` or one-hot `(N, C)`.
        class_counts: Training samples per class (length `C`). Enables the
            many / medium / few-shot accuracies and the plots against count.
        class_names: One name per class. Defaults to `"0"`, `"1"`, ...
        batch_size: Batch size of `model.predict`. Defaults to 256.
        shot_thresholds: `(many, few)`: a class with more than `many`
            training samples is many-shot, one with fewer than `few` is
            few-shot, the rest medium-shot. Defaults to `(100, 20)`, the
            OLTR split of Liu et al. 2019; datasets whose counts all fall in
            one or two groups (Fashion-MNIST-LT: 60 to 6000) need their own.
        threshold: Two-class tasks with scores only: predict the positive
            class when its probability is `>= threshold` (in [0, 1]; e.g.
            from `tune_threshold` on validation data). Defaults to `None`:
            the argmax (which, unlike `threshold=0.5`, gives a tie of 0.5 to
            class 0).
        positive_class: Two-class tasks only: the class (0 or 1) whose
            scores the binary entries report and `threshold` applies to.
            Defaults to `None`: class 1.

    Scores are read as probabilities when every row lies in [0, 1] and sums
    to 1 within 1e-3; otherwise they are logits and go through a softmax.
    The predicted class is the argmax either way. The expected calibration
    error (Guo et al. 2017) bins the top-class confidence into 15 equal-width
    bins `(k/15, (k+1)/15]` and is `sum_b |B_b|/N * |acc(B_b) - conf(B_b)|`;
    it is `None` for class-id predictions, which carry no confidence.

    The number of classes `C` comes from the scores, else `class_counts`,
    `class_names` or one-hot labels, else the largest class id seen + 1.

    With two classes the report also has the binary entries of the
    positive class (class 1 unless `positive_class` says otherwise):
    `pr_auc` (average precision, as `sklearn.metrics.average_precision_score`)
    and `roc_auc` (as `roc_auc_score`), ranked by the positive class's
    probability (`None` for class-id predictions), and `positive_precision`,
    `positive_recall`, `positive_f1` at the decision used (the argmax or
    `threshold`). An undefined value is NaN, never a plausible number: the
    areas with one class only in `y` (PR-AUC: no positive sample), a
    precision with no positive prediction, a recall with no positive label.

    Returns:
        An `ImbalanceReport`.

    Raises:
        ValueError: on mismatched lengths, a wrong number of classes or class
            names, labels or class ids out of range.

    Example:

    >>> import numpy as np
    >>> y = [0, 0, 0, 0, 1, 1, 2]
    >>> predicted = np.array([0, 0, 0, 1, 1, 1, 0])
    >>> report = evaluate_imbalanced(predicted, y=y, class_counts=[500, 50, 5])
    >>> round(report.balanced_accuracy, 4)  # recalls 0.75, 1 and 0
    0.5833
    >>> report.many_shot_accuracy, report.few_shot_accuracy
    (0.75, 0.0)
    >>> report.g_mean, report.ece
    (0.0, None)
    >>> probabilities = np.array([[0.8, 0.2], [0.8, 0.2], [0.8, 0.2],
    ...                           [0.8, 0.2], [0.1, 0.9]])
    >>> report = evaluate_imbalanced(probabilities, y=[0, 0, 0, 1, 1])
    >>> report.output_kind, report.accuracy, round(report.ece, 4)
    ('probabilities', 0.8, 0.06)
    >>> report.pr_auc, report.roc_auc, round(report.positive_f1, 4)
    (0.7, 0.75, 0.6667)
    >>> report = evaluate_imbalanced(probabilities, y=[0, 0, 0, 1, 1],
    ...                              threshold=0.2)  # p >= 0.2: all positive
    >>> report.positive_recall, report.positive_precision, report.threshold
    (1.0, 0.4, 0.2)
    """
    batch_size = check_positive_int("batch_size", batch_size)
    many_threshold, few_threshold = check_shot_thresholds(shot_thresholds)
    if threshold is not None:
        threshold = check_float("threshold", threshold, low=0, high=1)
    from_model = is_model(model_or_predictions)
    if not from_model and x is not None:
        raise ValueError(
            "`x` is only used with a model; with predictions pass the labels "
            "as `y=`: evaluate_imbalanced(predictions, y=labels)."
        )
    if y is None:
        raise ValueError(
            "`y` (the true labels) is required. Received: y=None. With "
            "predictions, call evaluate_imbalanced(predictions, y=labels)."
        )
    if from_model:
        if x is None:
            raise ValueError(
                "A model needs its inputs `x` to predict on. Received: x=None."
            )
        outputs = predict(model_or_predictions, x, batch_size=batch_size)
        predictions = model_scores(outputs)
    else:
        predictions = to_numpy(model_or_predictions)
    labels = to_numpy(y)

    counts = (
        None if class_counts is None else plain_counts("class_counts", class_counts)
    )
    names = check_names(class_names)
    predicted, probabilities, output_kind, num_classes = read_predictions(predictions)
    num_classes = infer_num_classes(num_classes, counts, names, labels, predicted)
    if num_classes != 2 and (threshold is not None or positive_class is not None):
        given = "threshold" if threshold is not None else "positive_class"
        raise ValueError(
            f"`{given}` is for two-class tasks; this one has {num_classes} "
            "classes (the decision is the argmax)."
        )
    positive = check_positive_class(positive_class)
    if threshold is not None:
        if probabilities is None:
            raise ValueError(
                "`threshold` needs scores of shape (N, 2) (logits or "
                "probabilities); class-id predictions cannot be re-thresholded."
            )
        predicted = np.where(
            probabilities[:, positive] >= threshold, positive, 1 - positive
        )
    true = integer_class_ids(labels, num_classes, name="y")
    if true.shape[0] != predicted.shape[0]:
        raise ValueError(
            f"`y` has {true.shape[0]} samples but there are {predicted.shape[0]} "
            "predictions; they must match."
        )
    if true.shape[0] == 0:
        raise ValueError("There is nothing to evaluate: `y` has 0 samples.")
    if predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(
            f"Predicted class ids must lie in [0, {num_classes - 1}]. Received "
            f"ids from {predicted.min()} to {predicted.max()}."
        )
    if names is None:
        names = [str(c) for c in range(num_classes)]

    confusion = np.zeros((num_classes, num_classes), dtype="int64")
    np.add.at(confusion, (true, predicted), 1)
    scores = scores_from_confusion(confusion)
    groups = dict.fromkeys(SHOT_GROUPS)
    if counts is not None:
        groups = shot_group_recalls(
            counts, scores["recall"], scores["support"], many_threshold, few_threshold
        )
    ece = None
    if probabilities is not None:
        confidence = probabilities[np.arange(len(predicted)), predicted]
        ece = expected_calibration_error(confidence, predicted == true)
    binary = {}
    if num_classes == 2:
        binary = binary_fields(true, probabilities, confusion, positive, threshold)

    return ImbalanceReport(
        num_samples=int(true.shape[0]),
        class_names=names,
        class_counts=counts,
        precision=scores["precision"].tolist(),
        recall=scores["recall"].tolist(),
        f1=scores["f1"].tolist(),
        support=[int(s) for s in scores["support"]],
        accuracy=scores["accuracy"],
        balanced_accuracy=scores["balanced_accuracy"],
        macro_f1=scores["macro_f1"],
        g_mean=scores["g_mean"],
        many_shot_accuracy=groups["many"],
        medium_shot_accuracy=groups["medium"],
        few_shot_accuracy=groups["few"],
        ece=ece,
        confusion_matrix=confusion.tolist(),
        output_kind=output_kind,
        many_threshold=many_threshold,
        few_threshold=few_threshold,
        **binary,
    )


def scores_from_confusion(confusion):
    """The metrics of `keras_imbalance.metrics`, from a confusion matrix."""
    cm = confusion.astype("float64")
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = divide(tp, predicted)
    recall = divide(tp, support)
    f1 = divide(2.0 * tp, support + predicted)
    in_labels = support > 0
    in_either = (support + predicted) > 0
    if np.any(in_either & (recall <= 0)):
        g_mean = 0.0
    else:
        g_mean = float(np.exp(np.mean(np.log(recall[in_either]))))
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support.astype("int64"),
        "accuracy": float(tp.sum() / cm.sum()),
        "balanced_accuracy": float(np.mean(recall[in_labels])),
        "macro_f1": float(np.mean(f1[in_either])),
        "g_mean": g_mean,
    }


def divide(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)
