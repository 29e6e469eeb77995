"""Evaluation reports and plots for class-imbalanced classifiers.

`evaluate_imbalanced` turns a trained Keras model (or its predictions) and
test labels into an `ImbalanceReport`: per-class precision, recall, F1 and
support, plain and balanced accuracy, macro F1, the G-mean, the many-,
medium- and few-shot accuracy of the long-tail literature, the expected
calibration error and the confusion matrix. The definitions are those of
`keras_imbalance.metrics` (and so of scikit-learn and imbalanced-learn), here
computed once in NumPy over all the predictions.

`ImbalanceReport.plot` and `plot_per_class_recall` return
`matplotlib.figure.Figure` objects built without `pyplot`, so they work
headless; save them with `figure.savefig(path)`.

References:

- Brodersen, Ong, Stephan, Buhmann. "The balanced accuracy and its posterior
  distribution". ICPR 2010.
- Kubat, Matwin. "Addressing the curse of imbalanced training sets:
  one-sided selection". ICML 1997 (G-mean).
- Liu, Miao, Zhan, Wang, Gong, Yu. "Large-Scale Long-Tailed Recognition in an
  Open World". CVPR 2019 (many / medium / few-shot groups).
- Guo, Pleiss, Sun, Weinberger. "On Calibration of Modern Neural Networks".
  ICML 2017 (expected calibration error).
"""

import dataclasses
import math
import numbers

import keras
import numpy as np

from keras_imbalance._validation import invalid, plain_counts
from keras_imbalance.metrics import group_of_classes

__all__ = [
    "OLTR_SHOT_THRESHOLDS",
    "ImbalanceReport",
    "auto_shot_thresholds",
    "evaluate_imbalanced",
    "plot_per_class_recall",
]

ECE_BINS = 15
"""Number of equal-width confidence bins of the expected calibration error."""

MANY_THRESHOLD = 100
FEW_THRESHOLD = 20
_GROUPS = ("many", "medium", "few")

#: `(many, few)` of Liu et al. (OLTR, 2019): more than 100 training samples is
#: many-shot, fewer than 20 few-shot.
OLTR_SHOT_THRESHOLDS = (MANY_THRESHOLD, FEW_THRESHOLD)
_PROBABILITY_TOLERANCE = 1e-3


# --- the report ------------------------------------------------------------


@dataclasses.dataclass
class ImbalanceReport:
    """The numbers of `evaluate_imbalanced`, with tables and plots.

    Per-class values are lists indexed by class id. Precision of a class never
    predicted, and recall of a class absent from the labels, are 0 (as
    scikit-learn's `zero_division=0`).

    Attributes:
        num_samples: Number of evaluated samples `N`.
        class_names: One name per class (`"0"`, `"1"`, ... by default).
        class_counts: Training samples per class, or `None`.
        precision, recall, f1: Per-class scores (lists of floats).
        support: Test samples per class (list of ints).
        accuracy: Fraction of correct predictions.
        balanced_accuracy: Mean recall over the classes present in the labels
            (Brodersen et al. 2010; `sklearn.metrics.balanced_accuracy_score`).
        macro_f1: Mean F1 over the classes in the labels or the predictions
            (`sklearn.metrics.f1_score(average="macro")`).
        g_mean: Geometric mean of the recalls over the classes in the labels
            or the predictions (Kubat & Matwin 1997;
            `imblearn.metrics.geometric_mean_score`).
        many_shot_accuracy, medium_shot_accuracy, few_shot_accuracy: Mean
            recall over the group's classes present in the labels (Liu et al.
            2019; more than 100 / 20 to 100 / fewer than 20 training samples).
            `None` without `class_counts`, or when the group has no class
            present in the labels.
        ece: Expected calibration error over 15 bins (Guo et al. 2017), or
            `None` when only class ids were given.
        confusion_matrix: `confusion_matrix[true][predicted]` counts.
        output_kind: `"logits"`, `"probabilities"` or `"class_ids"`: how the
            predictions were read.
        many_threshold, few_threshold: The shot-group boundaries used: more
            than `many_threshold` training samples is many-shot, fewer than
            `few_threshold` is few-shot. Default to OLTR's 100 and 20.
    """

    num_samples: int
    class_names: list
    class_counts: list | None
    precision: list
    recall: list
    f1: list
    support: list
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    g_mean: float
    many_shot_accuracy: float | None
    medium_shot_accuracy: float | None
    few_shot_accuracy: float | None
    ece: float | None
    confusion_matrix: list
    output_kind: str
    many_threshold: int = MANY_THRESHOLD
    few_threshold: int = FEW_THRESHOLD

    @property
    def num_classes(self):
        return len(self.class_names)

    def shot_group(self, class_id):
        """`"many"`, `"medium"`, `"few"` for a class, or `None` without counts."""
        if self.class_counts is None:
            return None
        for group in _GROUPS:
            if class_id in group_of_classes(
                self.class_counts, group, self.many_threshold, self.few_threshold
            ):
                return group
        return None  # pragma: no cover

    def summary(self):
        """The scalar scores as a `{name: value}` dict (values may be `None`)."""
        return {
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "macro_f1": self.macro_f1,
            "g_mean": self.g_mean,
            "many_shot_accuracy": self.many_shot_accuracy,
            "medium_shot_accuracy": self.medium_shot_accuracy,
            "few_shot_accuracy": self.few_shot_accuracy,
            "ece": self.ece,
        }

    def per_class(self):
        """One dict per class: name, train count, group, P, R, F1, support."""
        rows = []
        for c, name in enumerate(self.class_names):
            rows.append(
                {
                    "class_id": c,
                    "name": name,
                    "train_count": (
                        None if self.class_counts is None else self.class_counts[c]
                    ),
                    "group": self.shot_group(c),
                    "precision": self.precision[c],
                    "recall": self.recall[c],
                    "f1": self.f1[c],
                    "support": self.support[c],
                }
            )
        return rows

    def to_dict(self):
        """A JSON-plain dict (ints, floats, strings, lists, `None`).

        `ImbalanceReport.from_dict(report.to_dict())` gives the report back.
        """
        return {
            "num_samples": int(self.num_samples),
            "num_classes": self.num_classes,
            "class_names": [str(n) for n in self.class_names],
            "class_counts": (
                None if self.class_counts is None else list(self.class_counts)
            ),
            "output_kind": self.output_kind,
            "many_threshold": int(self.many_threshold),
            "few_threshold": int(self.few_threshold),
            **{k: _float_or_none(v) for k, v in self.summary().items()},
            "per_class": self.per_class(),
            "confusion_matrix": [
                [int(v) for v in row] for row in self.confusion_matrix
            ],
        }

    @classmethod
    def from_dict(cls, config):
        """Rebuild a report from `to_dict()` (e.g. after `json.load`)."""
        rows = config["per_class"]
        return cls(
            num_samples=config["num_samples"],
            class_names=list(config["class_names"]),
            class_counts=config["class_counts"],
            precision=[r["precision"] for r in rows],
            recall=[r["recall"] for r in rows],
            f1=[r["f1"] for r in rows],
            support=[r["support"] for r in rows],
            confusion_matrix=config["confusion_matrix"],
            output_kind=config["output_kind"],
            many_threshold=config.get("many_threshold", MANY_THRESHOLD),
            few_threshold=config.get("few_threshold", FEW_THRESHOLD),
            **{k: config[k] for k in _SUMMARY_KEYS},
        )

    def _summary_rows(self):
        rows = []
        for key, label in _SUMMARY_LABELS.items():
            value = getattr(self, key)
            if value is None and key.endswith("shot_accuracy"):
                continue
            rows.append((label, "n/a" if value is None else f"{value:.4f}"))
        return rows

    def _class_rows(self):
        rows = []
        for row in self.per_class():
            rows.append(
                (
                    str(row["name"]),
                    "" if row["train_count"] is None else str(row["train_count"]),
                    row["group"] or "",
                    f"{row['precision']:.4f}",
                    f"{row['recall']:.4f}",
                    f"{row['f1']:.4f}",
                    str(row["support"]),
                )
            )
        return rows

    def _class_header(self):
        return ("class", "train", "group", "precision", "recall", "f1", "support")

    def to_markdown(self):
        """Two Markdown tables: the scores, then one row per class."""
        lines = ["| metric | value |", "| --- | ---: |"]
        lines += [f"| {label} | {value} |" for label, value in self._summary_rows()]
        header = self._class_header()
        lines += ["", "| " + " | ".join(header) + " |"]
        lines.append("| --- | " + " | ".join("---:" for _ in header[1:]) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in self._class_rows()]
        return "\n".join(lines) + "\n"

    def __str__(self):
        lines = [
            f"ImbalanceReport: {self.num_samples} samples, "
            f"{self.num_classes} classes, from {self.output_kind}"
        ]
        width = max(len(label) for label, _ in self._summary_rows())
        lines += [
            f"  {label:<{width}}  {value}" for label, value in self._summary_rows()
        ]
        header = self._class_header()
        rows = [header, *self._class_rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines.append("")
        for r in rows:
            cells = [r[0].ljust(widths[0])]
            cells += [cell.rjust(w) for cell, w in zip(r[1:], widths[1:])]
            lines.append("  " + "  ".join(cells))
        return "\n".join(lines)

    def plot(self, *, figsize=(11.0, 4.5)):
        """A Figure with the confusion matrix and the per-class recall.

        Left: the confusion matrix, coloured by row-normalised rate (recall on
        the diagonal), annotated with counts for up to 20 classes. Right: the
        recall of each class against its training count on a log x axis
        (symlog when a count is 0), with the few / many-shot thresholds (20,
        100) dashed; without `class_counts`, a bar chart of per-class recall.
        The Figure has exactly two axes.
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        ax_cm, ax_recall = fig.subplots(1, 2)
        _draw_confusion(ax_cm, np.asarray(self.confusion_matrix), self.class_names)
        recall = np.asarray(self.recall, dtype="float64")
        if self.class_counts is not None:
            counts = np.asarray(self.class_counts, dtype="float64")
            ax_recall.scatter(counts, recall, zorder=3)
            if self.num_classes <= 30:
                for c, name in enumerate(self.class_names):
                    ax_recall.annotate(
                        str(name),
                        (counts[c], recall[c]),
                        textcoords="offset points",
                        xytext=(3, 3),
                        fontsize=8,
                    )
            _log_axis(ax_recall, counts)
            for threshold in (self.few_threshold, self.many_threshold):
                ax_recall.axvline(threshold, color="grey", linestyle="--", lw=0.8)
            ax_recall.set_xlabel("training samples")
        else:
            ax_recall.bar(np.arange(self.num_classes), recall)
            _class_ticks(ax_recall.set_xticks, ax_recall, self.class_names)
            ax_recall.set_xlabel("class")
        ax_recall.set_ylim(0.0, 1.05)
        ax_recall.set_ylabel("recall")
        ax_recall.set_title(
            f"per-class recall (balanced accuracy {self.balanced_accuracy:.3f})"
        )
        return fig


_MARKERS = "os^vD<>pPXh*"

_SUMMARY_LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro F1",
    "g_mean": "G-mean",
    "many_shot_accuracy": "many-shot accuracy",
    "medium_shot_accuracy": "medium-shot accuracy",
    "few_shot_accuracy": "few-shot accuracy",
    "ece": f"ECE ({ECE_BINS} bins)",
}
_SUMMARY_KEYS = tuple(_SUMMARY_LABELS)


def _float_or_none(value):
    return None if value is None else float(value)


# --- evaluation --------------------------------------------------------------


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
    if isinstance(batch_size, bool) or not isinstance(
        batch_size, (numbers.Integral, np.integer)
    ):
        raise invalid("batch_size", "a positive integer", batch_size)
    if batch_size < 1:
        raise invalid("batch_size", "a positive integer", batch_size)
    many_threshold, few_threshold = _check_thresholds(shot_thresholds)
    is_model = _is_model(model_or_predictions)
    if not is_model and x is not None:
        raise ValueError(
            "`x` is only used with a model; with predictions pass the labels "
            "as `y=`: evaluate_imbalanced(predictions, y=labels)."
        )
    if y is None:
        raise ValueError(
            "`y` (the true labels) is required. Received: y=None. With "
            "predictions, call evaluate_imbalanced(predictions, y=labels)."
        )
    if is_model:
        if x is None:
            raise ValueError(
                "A model needs its inputs `x` to predict on. Received: x=None."
            )
        outputs = model_or_predictions.predict(x, batch_size=int(batch_size), verbose=0)
        predictions = _model_scores(outputs)
    else:
        predictions = _to_numpy(model_or_predictions)
    labels = _to_numpy(y)

    counts = (
        None if class_counts is None else plain_counts("class_counts", class_counts)
    )
    names = _check_names(class_names)
    predicted, confidence, output_kind, num_classes = _read_predictions(predictions)
    num_classes = _num_classes(num_classes, counts, names, labels, predicted)
    true = _read_labels(labels, num_classes)
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
    scores = _scores_from_confusion(confusion)
    groups = {g: None for g in _GROUPS}
    if counts is not None:
        recall, support = scores["recall"], scores["support"]
        for group in _GROUPS:
            members = group_of_classes(counts, group, many_threshold, few_threshold)
            members = members[support[members] > 0]
            if members.size:
                groups[group] = float(np.mean(recall[members]))
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


# --- shot thresholds suited to a distribution ----------------------------


def _group_sizes(counts, many, few):
    """Number of many-, medium- and few-shot classes (OLTR inequalities)."""
    many_n = int(np.sum(counts > many))
    few_n = int(np.sum(counts < few))
    return many_n, counts.size - many_n - few_n, few_n


def auto_shot_thresholds(class_counts):
    """Many / few-shot thresholds suited to a training distribution.

    OLTR's `(100, 20)` (Liu et al., 2019: more than 100 training samples is
    many-shot, fewer than 20 few-shot) when each of the three groups gets at
    least one class. Otherwise (e.g. Fashion-MNIST-LT, 60 to 6000 samples,
    where no class is few-shot by OLTR's count) the log-scale terciles of the
    non-zero counts: with `n_max`, `n_min` the largest and smallest non-zero
    count and `r = n_max / n_min`, `many = floor(n_max * r**(-1/3))` and
    `few = ceil(n_max * r**(-2/3))` (at most `many`).

    Args:
        class_counts: Training samples per class (non-negative numbers).

    Returns:
        `(many, few)`, two Python ints with `many >= few >= 0`, the
        `shot_thresholds` of `keras_imbalance.evaluation.evaluate_imbalanced`.

    Raises:
        ValueError: for an empty, non-1-D, negative or all-zero `class_counts`.

    Example:

    >>> auto_shot_thresholds([122, 94, 73, 56, 43, 33, 26, 20, 15, 12])
    (100, 20)
    >>> auto_shot_thresholds([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60])
    (1292, 279)
    """
    try:
        counts = np.asarray(class_counts, dtype="float64")
    except (TypeError, ValueError):
        counts = None
    if (
        counts is None
        or counts.ndim != 1
        or counts.size == 0
        or not np.all(np.isfinite(counts))
        or np.any(counts < 0)
        or not np.any(counts > 0)
    ):
        raise ValueError(
            "Invalid value for argument `class_counts`. Expected a non-empty "
            "1-D sequence of non-negative counts, not all zero. Received: "
            f"class_counts={class_counts!r}"
        )
    if min(_group_sizes(counts, *OLTR_SHOT_THRESHOLDS)) > 0:
        return OLTR_SHOT_THRESHOLDS
    present = counts[counts > 0]
    n_max, n_min = float(present.max()), float(present.min())
    ratio = n_max / n_min
    many = math.floor(n_max * ratio ** (-1.0 / 3.0) + 1e-9)
    few = math.ceil(n_max * ratio ** (-2.0 / 3.0) - 1e-9)
    return int(many), int(min(few, many))


def _check_thresholds(value):
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        ok = all(
            isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)
            for v in value
        )
    if not ok or value[1] < 0 or value[0] < value[1]:
        raise invalid(
            "shot_thresholds",
            "a pair of integers (many, few) with many >= few >= 0",
            value,
        )
    return int(value[0]), int(value[1])


def expected_calibration_error(confidence, correct, num_bins=ECE_BINS):
    """Expected calibration error of top-class confidences (Guo et al. 2017).

    Equal-width bins `(k/num_bins, (k+1)/num_bins]`; the error is the
    sample-weighted mean of `|accuracy - mean confidence|` over the bins.

    Example:

    >>> expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    0.4
    """
    confidence = np.asarray(confidence, dtype="float64").reshape(-1)
    correct = np.asarray(correct, dtype="float64").reshape(-1)
    if confidence.size == 0:
        return 0.0
    inner_edges = np.linspace(0.0, 1.0, num_bins + 1)[1:-1]
    bins = np.searchsorted(inner_edges, confidence, side="left")
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        gap = abs(correct[members].mean() - confidence[members].mean())
        total += members.sum() / confidence.size * gap
    return float(total)


def _scores_from_confusion(confusion):
    """The metrics of `keras_imbalance.metrics`, from a confusion matrix."""
    cm = confusion.astype("float64")
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = _divide(tp, predicted)
    recall = _divide(tp, support)
    f1 = _divide(2.0 * tp, support + predicted)
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


def _divide(a, b):
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def _is_model(obj):
    return isinstance(obj, keras.Model) or (
        not isinstance(obj, (np.ndarray, list, tuple, dict))
        and callable(getattr(obj, "predict", None))
    )


def _to_numpy(value):
    if keras.ops.is_tensor(value):
        return np.asarray(keras.ops.convert_to_numpy(value))
    return np.asarray(value)


def _model_scores(outputs):
    if isinstance(outputs, dict):
        for key in ("logits", "probabilities"):
            if key in outputs:
                return _to_numpy(outputs[key])
        raise ValueError(
            "A model with dict outputs needs a `logits` (or `probabilities`) "
            f"output. Received outputs: {sorted(outputs)}"
        )
    if isinstance(outputs, (list, tuple)):
        raise ValueError(
            "The model has several outputs; evaluate a model with one output "
            f"(or dict outputs with a `logits` key). Received {len(outputs)} outputs."
        )
    return _to_numpy(outputs)


def _read_predictions(predictions):
    """Predicted ids, top-class confidence (or None), kind and C (or None)."""
    if predictions.ndim == 2 and predictions.shape[-1] >= 2:
        scores = predictions.astype("float64")
        if not np.all(np.isfinite(scores)):
            raise ValueError("The predicted scores contain NaN or infinite values.")
        tol = _PROBABILITY_TOLERANCE
        is_probability = (
            scores.size > 0
            and scores.min() >= -tol
            and scores.max() <= 1.0 + tol
            and np.all(np.abs(scores.sum(axis=-1) - 1.0) <= tol)
        )
        if is_probability:
            probabilities, kind = scores, "probabilities"
        else:
            shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
            kind = "logits"
        predicted = np.argmax(probabilities, axis=-1)
        confidence = probabilities[np.arange(len(predicted)), predicted]
        return predicted.astype("int64"), confidence, kind, scores.shape[-1]
    if predictions.ndim == 1:
        if predictions.dtype.kind == "b" or (
            predictions.dtype.kind == "f"
            and not np.all(predictions == np.round(predictions))
        ):
            raise ValueError(
                "1-D predictions must be integer class ids. Received "
                f"dtype={predictions.dtype}."
            )
        if predictions.dtype.kind not in "iuf":
            raise ValueError(
                "Predictions must be scores of shape (N, C) or integer class ids "
                f"of shape (N,). Received: dtype={predictions.dtype}"
            )
        return predictions.astype("int64"), None, "class_ids", None
    raise ValueError(
        "Predictions must be scores (logits or probabilities) of shape (N, C) "
        "with C >= 2, or integer class ids of shape (N,). Received: "
        f"shape={predictions.shape}"
    )


def _check_names(class_names):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(
        class_names, (list, tuple, np.ndarray)
    ):
        raise invalid("class_names", "a sequence of strings", class_names)
    return [str(n) for n in class_names]


def _num_classes(from_scores, counts, names, labels, predicted):
    """The number of classes, checking every source that states it."""
    sources = []
    if counts is not None:
        sources.append(("class_counts", len(counts)))
    if names is not None:
        sources.append(("class_names", len(names)))
    if from_scores is not None:
        for name, size in sources:
            if size != from_scores:
                raise ValueError(
                    f"The predictions have {from_scores} classes on their last "
                    f"axis but `{name}` has {size} entries; they must match."
                )
        return from_scores
    if len(sources) == 2 and sources[0][1] != sources[1][1]:
        raise invalid(
            "class_names",
            f"one name per class ({sources[0][1]} names, as in `class_counts`)",
            names,
        )
    if sources:
        return sources[0][1]
    if labels.ndim == 2 and labels.shape[-1] > 1:
        return labels.shape[-1]
    largest = int(max(labels.max(initial=0), predicted.max(initial=0)))
    return max(largest + 1, 2)


def _read_labels(labels, num_classes):
    if labels.ndim == 2 and labels.shape[-1] == num_classes and num_classes > 1:
        return np.argmax(labels, axis=-1).astype("int64")
    if labels.ndim == 2 and labels.shape[-1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            "Labels must be integer class ids of shape (N,) or (N, 1), or "
            f"one-hot of shape (N, {num_classes}). Received: y.shape={labels.shape}"
        )
    if labels.dtype.kind not in "iuf" or not np.all(labels == np.round(labels)):
        raise ValueError(f"Labels must be integer class ids. Received: {labels[:5]}")
    labels = labels.astype("int64")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"Labels must lie in [0, {num_classes - 1}] for {num_classes} classes. "
            f"Received labels from {labels.min()} to {labels.max()}."
        )
    return labels


# --- plots --------------------------------------------------------------------


def _class_ticks(set_ticks, ax, names, positions=None):
    positions = np.arange(len(names)) if positions is None else positions
    if len(names) <= 30:
        long_names = len(names) > 10 or max(len(str(n)) for n in names) > 3
        rotation = 45 if long_names and set_ticks.__name__ == "set_xticks" else 0
        set_ticks(
            positions,
            labels=names,
            rotation=rotation,
            ha="right" if rotation else "center",
        )


def _log_axis(ax, counts):
    if np.any(counts <= 0):
        ax.set_xscale("symlog", linthresh=1.0)
    else:
        ax.set_xscale("log")


def _draw_confusion(ax, confusion, names):
    rows = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(
        confusion, rows, out=np.zeros(confusion.shape, dtype="float64"), where=rows > 0
    )
    ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    if len(names) <= 20:
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(
                    j,
                    i,
                    str(confusion[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black",
                )
    _class_ticks(ax.set_xticks, ax, names)
    _class_ticks(ax.set_yticks, ax, names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (colour: row rate)")


def plot_per_class_recall(reports, class_counts=None, *, figsize=(10.0, 4.5)):
    """One Figure comparing the per-class recall of several strategies.

    Args:
        reports: `{strategy name: ImbalanceReport}`, all over the same classes.
        class_counts: Training samples per class, to sort the classes head ->
            tail (most samples first; ties keep class order). Defaults to the
            first report's `class_counts`; without any, classes stay in index
            order.
        figsize: Figure size in inches.

    Returns:
        A `matplotlib.figure.Figure` with one axes: a line per strategy over
        the classes (x tick labels show each class's training count).

    Example:

    >>> report = evaluate_imbalanced([0, 1, 1, 2], y=[0, 1, 2, 2])
    >>> fig = plot_per_class_recall({"ce": report}, class_counts=[5, 50, 500])
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['2\\n(500)', '1\\n(50)', '0\\n(5)']
    """
    import matplotlib
    from matplotlib.figure import Figure

    if not isinstance(reports, dict) or not reports:
        raise invalid("reports", "a non-empty dict {name: ImbalanceReport}", reports)
    for name, report in reports.items():
        if not isinstance(report, ImbalanceReport):
            raise invalid(
                "reports",
                "a non-empty dict {name: ImbalanceReport}",
                f"{{{name!r}: {type(report).__name__}}}",
            )
    first = next(iter(reports.values()))
    num_classes = first.num_classes
    for name, report in reports.items():
        if report.num_classes != num_classes:
            raise ValueError(
                f"All reports must cover the same classes: {name!r} has "
                f"{report.num_classes} classes, the first has {num_classes}."
            )
    if class_counts is None:
        counts = first.class_counts
    else:
        counts = plain_counts("class_counts", class_counts)
        if len(counts) != num_classes:
            raise invalid(
                "class_counts",
                f"one count per class ({num_classes} values)",
                counts,
            )
    if counts is None:
        order = np.arange(num_classes)
        labels = list(first.class_names)
    else:
        order = np.argsort(-np.asarray(counts, dtype="float64"), kind="stable")
        labels = [f"{first.class_names[c]}\n({counts[c]})" for c in order]

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    positions = np.arange(num_classes)
    # Past ten lines the default colour cycle repeats: 20 colours and
    # varied markers keep every strategy apart, the legend beside the axes.
    crowded = len(reports) > 10
    for i, (name, report) in enumerate(reports.items()):
        recall = np.asarray(report.recall, dtype="float64")[order]
        style = {"marker": "o"}
        if crowded:
            style = {
                "marker": _MARKERS[i % len(_MARKERS)],
                "color": matplotlib.colormaps["tab20"](i % 20),
            }
        ax.plot(
            positions,
            recall,
            label=f"{name} (bal. acc. {report.balanced_accuracy:.3f})",
            **style,
        )
    if num_classes <= 30:
        ax.set_xticks(positions, labels=[str(lab) for lab in labels])
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("recall")
    ax.set_xlabel(
        "class (training samples), head -> tail" if counts is not None else "class"
    )
    ax.set_title("per-class recall")
    ax.grid(axis="y", alpha=0.3)
    if crowded:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.legend(fontsize=8)
    return fig
