"""Building blocks shared by the loss functions (backend-agnostic)."""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import check_length


def per_class(value, num_classes, name, dtype):
    """A float stays a float; a sequence becomes a `(C,)` tensor (length checked)."""
    if value is None or isinstance(value, (int, float)):
        return value
    check_length(name, value, num_classes)
    return ops.convert_to_tensor(value, dtype=dtype)


def log_probabilities(y_pred, from_logits):
    """`(log p, p)` over the last axis.

    Logits go through `log_softmax` (exact for logits of +-1e4); probabilities
    are renormalised and clipped to `[eps, 1 - eps]` as Keras' cross-entropy
    does, so a probability of exactly 0 or 1 gives a finite loss and gradient.
    """
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
        return log_p, ops.exp(log_p)
    eps = keras.config.epsilon()
    p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
    p = ops.clip(p, eps, 1.0 - eps)
    return ops.log(p), p


def softmax_cross_entropy(target, log_p, class_weight=None):
    """`-sum_c w_c * target_c * log p_c` over the last axis."""
    terms = target * log_p
    if class_weight is not None:
        terms = terms * class_weight
    return -ops.sum(terms, axis=-1)


def focal_modulation(one_minus_p, gamma):
    """`(1 - p)^gamma`, with `1 - p` kept >= eps so the gradient stays finite."""
    if isinstance(gamma, (int, float)) and gamma == 0:
        return 1.0
    return ops.power(ops.maximum(one_minus_p, keras.config.epsilon()), gamma)


def prepare(y_true, y_pred, *, ignore_class=None, label_smoothing=0.0):
    """Float predictions and dense targets of the same shape."""
    y_pred = _labels.as_float(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    target = _labels.one_hot_labels(
        y_true, y_pred, ignore_class=ignore_class, label_smoothing=label_smoothing
    )
    return target, y_pred
