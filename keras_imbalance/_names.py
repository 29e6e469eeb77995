"""Names shared by the evaluation, the metrics, the comparison and the CLI.

One spelling each, imported wherever they are needed:

- `SHOT_GROUPS`: the long-tail groups of classes by training count (Liu et
  al., OLTR, 2019), head to tail.
- `SUMMARY_METRICS`: the scalar scores of an evaluation
  (`ImbalanceReport.summary()`), in table order; the shot-group accuracies
  are named `f"{group}_shot_accuracy"`.
- `BINARY_METRICS`: the scores of a two-class task's positive class, which
  two-class reports add to `SUMMARY_METRICS`.
"""

__all__ = ["BINARY_METRICS", "SHOT_GROUPS", "SUMMARY_METRICS", "shot_accuracy_name"]

SHOT_GROUPS = ("many", "medium", "few")


def shot_accuracy_name(group):
    """The summary name of a shot group's accuracy.

    Example:

    >>> shot_accuracy_name("few")
    'few_shot_accuracy'
    """
    return f"{group}_shot_accuracy"


SUMMARY_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "g_mean",
    *(shot_accuracy_name(group) for group in SHOT_GROUPS),
    "ece",
)
"""The scalar scores of an evaluation (`ImbalanceReport.summary()`), in table order;
the shot-group accuracies are named `f"{group}_shot_accuracy"`."""

BINARY_METRICS = (
    "pr_auc",
    "roc_auc",
    "positive_precision",
    "positive_recall",
    "positive_f1",
)
"""The scores a two-class report adds to `SUMMARY_METRICS`."""
