"""`plot_per_class_recall`: several strategies' per-class recall, one figure."""

import numpy as np

from keras_imbalance._validation import invalid, plain_counts
from keras_imbalance.evaluation._drawing import MARKERS
from keras_imbalance.evaluation._report import ImbalanceReport

__all__ = ["plot_per_class_recall"]


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

    >>> from keras_imbalance.evaluation import evaluate_imbalanced
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
                "marker": MARKERS[i % len(MARKERS)],
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
