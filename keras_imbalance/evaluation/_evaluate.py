"""`evaluate_imbalanced`: a model or its predictions and labels -> a report."""

import numpy as np

from keras_imbalance._arrays import predict, to_numpy
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._names import SHOT_GROUPS
from keras_imbalance._validation import check_positive_int, plain_counts
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

    Scores are read as probabilities when every row lies in [0, 1] and sums
    to 1 within 1e-3; otherwise they are logits and go through a softmax.
    The predicted class is the argmax either way. The expected calibration
    error (Guo et al. 2017) bins the top-class confidence into 15 equal-width
    bins `(k/15, (k+1)/15]` and is `sum_b |B_b|/N * |acc(B_b) - conf(B_b)|`;
    it is `None` for class-id predictions, which carry no confidence.

    The number of classes `C` comes from the scores, else `class_counts`,
    `class_names` or one-hot labels, else the largest class id seen + 1.

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
    """
    batch_size = check_positive_int("batch_size", batch_size)
    many_threshold, few_threshold = check_shot_thresholds(shot_thresholds)
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
    predicted, confidence, output_kind, num_classes = read_predictions(predictions)
    num_classes = infer_num_classes(num_classes, counts, names, labels, predicted)
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
    if confidence is not None:
        ece = expected_calibration_error(confidence, predicted == true)

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
