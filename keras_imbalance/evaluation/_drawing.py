"""Matplotlib helpers of the report figures (axes in, nothing returned)."""

import numpy as np

__all__ = ["MARKERS", "class_ticks", "draw_confusion", "log_axis"]

MARKERS = "os^vD<>pPXh*"
"""Markers that, with 20 colours, tell more than ten lines apart."""


def class_ticks(set_ticks, ax, names, positions=None):
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


def log_axis(ax, counts):
    if np.any(counts <= 0):
        ax.set_xscale("symlog", linthresh=1.0)
    else:
        ax.set_xscale("log")


def draw_confusion(ax, confusion, names):
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
    class_ticks(ax.set_xticks, ax, names)
    class_ticks(ax.set_yticks, ax, names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (colour: row rate)")
