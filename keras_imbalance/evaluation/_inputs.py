"""What `evaluate_imbalanced` reads: model outputs, predictions, class names."""

import keras
import numpy as np

from keras_imbalance._arrays import model_scores
from keras_imbalance._validation import invalid

__all__ = [
    "check_names",
    "class_probabilities",
    "infer_num_classes",
    "is_model",
    "model_scores",
    "read_predictions",
]

# How far a row may be from [0, 1] and a sum of 1 to count as probabilities.
_PROBABILITY_TOLERANCE = 1e-3


def is_model(obj):
    return isinstance(obj, keras.Model) or (
        not isinstance(obj, (np.ndarray, list, tuple, dict))
        and callable(getattr(obj, "predict", None))
    )


def class_probabilities(predictions):
    """`(probabilities, kind)` of scores `(N, C)`: float64 rows summing to 1.

    Rows in [0, 1] summing to 1 within 1e-3 are probabilities (kept as they
    are); other scores are logits and go through a softmax.
    """
    scores = np.asarray(predictions).astype("float64")
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
        return scores, "probabilities"
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True), "logits"


def read_predictions(predictions):
    """Argmax ids, probabilities `(N, C)` (or None), kind and C (or None)."""
    if predictions.ndim == 2 and predictions.shape[-1] >= 2:
        probabilities, kind = class_probabilities(predictions)
        predicted = np.argmax(probabilities, axis=-1)
        return predicted.astype("int64"), probabilities, kind, predictions.shape[-1]
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


def check_names(class_names):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(
        class_names, (list, tuple, np.ndarray)
    ):
        raise invalid("class_names", "a sequence of strings", class_names)
    return [str(n) for n in class_names]


def infer_num_classes(from_scores, counts, names, labels, predicted):
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
