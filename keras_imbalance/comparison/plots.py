"""Figures of a `Comparison`, built without pyplot (they work headless)."""

import numpy as np

# Helpers of `Comparison` (no public API of their own).
__all__ = []


def _head_to_tail(comparison):
    counts = np.asarray(comparison.setup["class_counts"], dtype="float64")
    return np.argsort(-counts, kind="stable"), counts


def recall_heatmap(comparison, split="test"):
    """Mean per-class recall over seeds: strategies (rows) x classes (columns).

    Classes run head to tail (most training samples first); the best
    strategy (chosen on validation) is framed and its name in bold. Cells
    show the recall in % when there is room.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    names = comparison.strategies
    order, counts = _head_to_tail(comparison)
    class_names = comparison.setup["class_names"]
    recall = np.array(
        [
            np.mean([run.report(split).recall for run in comparison.runs_of(n)], 0)
            for n in names
        ]
    )[:, order]
    k, s = len(order), len(names)
    fig = Figure(
        figsize=(max(6.0, 0.75 * k + 3.5), max(3.0, 0.38 * s + 1.8)),
        layout="constrained",
    )
    ax = fig.subplots()
    image = ax.imshow(recall, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    if k <= 30 and s <= 40:
        for i in range(s):
            for j in range(k):
                value = recall[i, j]
                ax.text(
                    j,
                    i,
                    f"{100 * value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > 0.6 else "white",
                )
    ax.set_yticks(np.arange(s), labels=names, fontsize=8)
    if k <= 40:
        ax.set_xticks(
            np.arange(k),
            labels=[f"{class_names[c]} ({int(counts[c])})" for c in order],
            rotation=45,
            ha="right",
            fontsize=8,
        )
    best = comparison.best
    if best in names:
        row = names.index(best)
        ax.add_patch(
            Rectangle((-0.5, row - 0.5), k, 1, fill=False, edgecolor="red", linewidth=2)
        )
        ax.get_yticklabels()[row].set_fontweight("bold")
    seeds = len(comparison.seeds)
    ax.set_xlabel("class (training samples), head -> tail")
    ax.set_title(
        f"per-class recall on the {split} split"
        + (f", mean of {seeds} seeds" if seeds > 1 else "")
        + f"; framed: best on validation ({best})"
    )
    fig.colorbar(image, ax=ax, label="recall", shrink=0.8)
    return fig


def confusion_figure(comparison, strategy=None, split="test"):
    """The confusion matrix (and per-class recall) of a strategy's best run."""
    name = comparison.best if strategy is None else strategy
    run = comparison.best_run(name)
    fig = run.report(split).plot()
    fig.suptitle(
        f"{name} (seed {run.seed}, best validation run): {split} split", fontsize=11
    )
    return fig
