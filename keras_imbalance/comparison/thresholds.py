"""The decision threshold of each run of a two-class comparison.

`compare(threshold=...)` tunes it on the validation predictions of the run
(`evaluation.tune_threshold`), then evaluates the validation and the test
split at it; the test split is never looked at to choose it.
"""

from keras_imbalance import evaluation
from keras_imbalance._arrays import model_scores, predict
from keras_imbalance._validation import check_threshold_objective, invalid

# Helpers of `compare` (no public API of their own).
__all__ = []

AUTO = "auto"
"""`compare`'s default: `"f1"` for two classes, `None` for more."""


def threshold_objective(option, num_classes):
    """The objective `compare` tunes with (`"f1"`, `{"recall": r}` or `None`)."""
    if isinstance(option, str) and option == AUTO:
        return "f1" if num_classes == 2 else None
    objective = check_threshold_objective("threshold", option, allow_none=True)
    if objective is not None and num_classes != 2:
        raise invalid(
            "threshold",
            f"None or 'auto' for data with {num_classes} classes (decision "
            "thresholds are tuned for two-class tasks only)",
            option,
        )
    return objective


def recorded_option(option):
    """The `threshold` argument as JSON-plain data, for `setup["call"]`."""
    if option is None or (isinstance(option, str) and option == AUTO):
        return option
    return check_threshold_objective("threshold", option)


def evaluate_run(evaluate, model, validation, test, objective, *, batch_size=256):
    """`(validation report, test report, threshold or None)` of a trained run.

    With an objective, the validation split is predicted once, the
    threshold tuned on those scores, and both splits evaluated at it.
    `evaluate(model_or_scores, x, y, threshold)` makes a report.
    """
    (x_val, y_val), (x_test, y_test) = validation, test
    if objective is None:
        return (
            evaluate(model, x_val, y_val, None),
            evaluate(model, x_test, y_test, None),
            None,
        )
    scores = model_scores(predict(model, x_val, batch_size=batch_size))
    threshold = evaluation.tune_threshold(y_val, scores, objective=objective)
    return (
        evaluate(scores, None, y_val, threshold),
        evaluate(model, x_test, y_test, threshold),
        threshold,
    )
