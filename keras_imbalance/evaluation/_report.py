"""`ImbalanceReport`: the numbers of an evaluation, as tables and a figure."""

import dataclasses
import math

import numpy as np

from keras_imbalance._names import BINARY_METRICS, SUMMARY_METRICS
from keras_imbalance.evaluation._calibration import ECE_BINS
from keras_imbalance.evaluation._drawing import class_ticks, draw_confusion, log_axis
from keras_imbalance.evaluation._shots import (
    FEW_THRESHOLD,
    MANY_THRESHOLD,
    shot_group_of,
)

__all__ = ["ImbalanceReport"]

# The row labels of the summary table, for each of `SUMMARY_METRICS`.
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


def float_or_none(value):
    return None if value is None else float(value)


def _finite_or_none(value):
    """JSON form of a binary score: NaN (undefined) is written as null."""
    return None if value is None or math.isnan(value) else float(value)


def _binary_from_dict(config):
    """The binary entries of `to_dict()` output: `None` back to NaN, except
    the areas of class-id predictions, which are not computed."""
    if config.get("positive_class") is None:
        return {}
    scored = config["output_kind"] != "class_ids"
    entries = {
        "positive_class": config["positive_class"],
        "threshold": config.get("threshold"),
    }
    for key in BINARY_METRICS:
        value = config.get(key)
        if value is None and (scored or not key.endswith("_auc")):
            value = math.nan
        entries[key] = value
    return entries


def _format(value):
    if value is None:
        return "n/a"
    return "undefined" if math.isnan(value) else f"{value:.4f}"


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
        positive_class: Two-class tasks: the class (0 or 1, default 1) the
            binary entries below are about; `None` with more classes, and
            then the binary entries are `None` too.
        threshold: The decision threshold on the positive class's
            probability (`p >= threshold`), or `None` for the argmax.
        pr_auc, roc_auc: Average precision (`sklearn.metrics.
            average_precision_score`) and area under the ROC curve
            (`roc_auc_score`) of the positive class's probability; NaN when
            `y` has one class only (PR-AUC: no positive sample), `None` for
            class-id predictions.
        positive_precision, positive_recall, positive_f1: The positive
            class's scores at the decision used; NaN where undefined (0 / 0;
            the per-class lists say 0 there, scikit-learn's
            `zero_division=0`). In `to_dict()` every NaN is written `None`.

    Example:

    >>> from keras_imbalance.evaluation import evaluate_imbalanced
    >>> report = evaluate_imbalanced([0, 0, 1, 1, 2], y=[0, 0, 1, 2, 2],
    ...                              class_counts=[300, 50, 5])
    >>> report.recall, round(report.balanced_accuracy, 4)
    ([1.0, 1.0, 0.5], 0.8333)
    >>> report.few_shot_accuracy, [row["group"] for row in report.per_class()]
    (0.5, ['many', 'medium', 'few'])
    >>> ImbalanceReport.from_dict(report.to_dict()) == report
    True
    >>> binary = evaluate_imbalanced([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]],
    ...                              y=[0, 1, 1], threshold=0.4)
    >>> binary.positive_class, binary.positive_recall, binary.pr_auc
    (1, 1.0, 1.0)
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
    positive_class: int | None = None
    threshold: float | None = None
    pr_auc: float | None = None
    roc_auc: float | None = None
    positive_precision: float | None = None
    positive_recall: float | None = None
    positive_f1: float | None = None

    def __eq__(self, other):
        # Field by field, except that NaN (an undefined score) equals NaN.
        if not isinstance(other, ImbalanceReport):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def is_binary(self):
        """True for a two-class report (with the binary entries)."""
        return self.positive_class is not None

    def shot_group(self, class_id):
        """`"many"`, `"medium"`, `"few"` for a class, or `None` without counts."""
        if self.class_counts is None:
            return None
        return shot_group_of(
            self.class_counts, class_id, self.many_threshold, self.few_threshold
        )

    def summary(self):
        """The scalar scores as a `{name: value}` dict (values may be `None`).

        The names are `SUMMARY_METRICS`, in that order, then for a two-class
        report `pr_auc`, `roc_auc`, `positive_precision`, `positive_recall`
        and `positive_f1`.
        """
        names = SUMMARY_METRICS + (BINARY_METRICS if self.is_binary else ())
        return {name: getattr(self, name) for name in names}

    def per_class(self):
        """One dict per class, with the keys `class_id`, `name`,
        `train_count` (`None` without class counts), `group` (`"many"`,
        `"medium"`, `"few"` or `None`), `precision`, `recall`, `f1` and
        `support`.

        >>> from keras_imbalance.evaluation import evaluate_imbalanced
        >>> report = evaluate_imbalanced([0, 1, 1], y=[0, 1, 1],
        ...                              class_counts=[300, 5])
        >>> print(*report.per_class()[1])
        class_id name train_count group precision recall f1 support
        >>> report.per_class()[1]["train_count"], report.per_class()[1]["recall"]
        (5, 1.0)
        """
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
        A two-class report adds `positive_class`, `threshold` and the binary
        scores, NaN written as `None`.
        """
        binary = {}
        if self.is_binary:
            binary = {
                "positive_class": int(self.positive_class),
                "threshold": float_or_none(self.threshold),
                **{k: _finite_or_none(getattr(self, k)) for k in BINARY_METRICS},
            }
        summary = {k: getattr(self, k) for k in SUMMARY_METRICS}
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
            **{k: float_or_none(v) for k, v in summary.items()},
            **binary,
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
            **{k: config[k] for k in SUMMARY_METRICS},
            **_binary_from_dict(config),
        )

    def _summary_rows(self):
        rows = []
        for key, label in _SUMMARY_LABELS.items():
            value = getattr(self, key)
            if value is None and key.endswith("shot_accuracy"):
                continue
            rows.append((label, "n/a" if value is None else f"{value:.4f}"))
        if self.is_binary:
            name = self.class_names[self.positive_class]
            rule = "argmax" if self.threshold is None else f"p >= {self.threshold:.4g}"
            rows += [
                (f"PR-AUC ({name})", _format(self.pr_auc)),
                (f"ROC-AUC ({name})", _format(self.roc_auc)),
                (f"precision ({name}, {rule})", _format(self.positive_precision)),
                (f"recall ({name}, {rule})", _format(self.positive_recall)),
                (f"F1 ({name}, {rule})", _format(self.positive_f1)),
            ]
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
        draw_confusion(ax_cm, np.asarray(self.confusion_matrix), self.class_names)
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
            log_axis(ax_recall, counts)
            for threshold in (self.few_threshold, self.many_threshold):
                ax_recall.axvline(threshold, color="grey", linestyle="--", lw=0.8)
            ax_recall.set_xlabel("training samples")
        else:
            ax_recall.bar(np.arange(self.num_classes), recall)
            class_ticks(ax_recall.set_xticks, ax_recall, self.class_names)
            ax_recall.set_xlabel("class")
        ax_recall.set_ylim(0.0, 1.05)
        ax_recall.set_ylabel("recall")
        ax_recall.set_title(
            f"per-class recall (balanced accuracy {self.balanced_accuracy:.3f})"
        )
        return fig
