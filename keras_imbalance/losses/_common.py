"""Building blocks shared by the loss functions (backend-agnostic)."""

import contextlib
import contextvars
import warnings

import keras
import numpy as np
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._validation import check_length


def per_class(value, num_classes, name, dtype):
    """A float stays a float; a sequence becomes a `(C,)` tensor (length checked)."""
    if value is None or isinstance(value, (int, float)):
        return value
    check_length(name, value, num_classes)
    return ops.convert_to_tensor(value, dtype=dtype)


def log_softmax(logits):
    """`log softmax` over the last axis, finite for logits of any finite size.

    The row maximum is subtracted first (outside the gradient, which
    `log_softmax` does not depend on): XLA's own `log_softmax` returns -inf
    for every class once the logits are around 1e11 (LDAM's scale of 30 on
    logits of 1e10), which made the loss NaN only under `jit_compile`.
    """
    peak = ops.stop_gradient(ops.max(logits, axis=-1, keepdims=True))
    return ops.log_softmax(logits - peak, axis=-1)


def log_probabilities(y_pred, from_logits):
    """`(log p, p)` over the last axis.

    Logits go through `log_softmax` (exact for logits of +-1e4); probabilities
    are renormalised and clipped to `[eps, 1 - eps]` as Keras' cross-entropy
    does, so a probability of exactly 0 or 1 gives a finite loss and gradient.
    An all-zero probability row (a model that saturated every class to 0)
    stays all-eps, hence finite, as in Keras' sparse cross-entropy.
    """
    if from_logits:
        log_p = log_softmax(y_pred)
        return log_p, ops.exp(log_p)
    eps = keras.config.epsilon()
    total = ops.sum(y_pred, axis=-1, keepdims=True)
    p = y_pred / ops.maximum(total, eps)
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


# How far outside [0, 1] a probability may stray before it is taken for a
# logit. Half-precision softmax / sigmoid outputs can overshoot 1 by an ulp or
# two, so their tolerance grows with their machine epsilon.
_PROBABILITY_TOLERANCE = 1e-3
_HALF_EPSILON = {"float16": 2.0**-10, "bfloat16": 2.0**-7}

# True while a loss class runs its functional twin on predictions it has
# already checked (the class sees them before Keras casts them, so with their
# own dtype and their `_keras_logits` mark).
_PREDICTIONS_CHECKED = contextvars.ContextVar(
    "keras_imbalance_predictions_checked", default=False
)


@contextlib.contextmanager
def predictions_checked():
    """Within this context `check_predictions` does nothing (already done)."""
    token = _PREDICTIONS_CHECKED.set(True)
    try:
        yield
    finally:
        _PREDICTIONS_CHECKED.reset(token)


def check_predictions(y_pred, *, from_logits, name, logits_only=False):
    """Catch logits given as probabilities, and probabilities given as logits.

    With `from_logits=False`, `y_pred` must lie in `[0, 1]`. Outside it (the
    values are logits) an eager call with concrete values raises a
    `ValueError` naming `name` and the fix; inside a compiled step (a
    `tf.function` graph, XLA, a JAX trace, a `KerasTensor`), where nothing
    can be raised, the returned factor is NaN for the batch, so `fit` shows
    `loss: nan` from the first step instead of training on clipped logits.

    With `from_logits=True`, a `y_pred` that Keras marked as the output of a
    softmax or sigmoid (`_keras_logits`, set on the TensorFlow backend) gives
    a `UserWarning`, once per trace in a compiled step.

    Returns:
        None, or a scalar factor (1 for probabilities, NaN otherwise) to
        pass to `apply_guard` with the loss.
    """
    if _PREDICTIONS_CHECKED.get():
        return None
    if from_logits:
        _warn_if_activated(y_pred, name, logits_only)
        return None
    return _probability_guard(y_pred, name)


def _warn_if_activated(y_pred, name, logits_only):
    if getattr(y_pred, "_keras_logits", None) is None:
        return
    expects = "works on logits only" if logits_only else "received from_logits=True"
    fix = "." if logits_only else " or pass from_logits=False."
    warnings.warn(
        f"{name} {expects} but y_pred was produced by a softmax/sigmoid "
        "activation, so it holds probabilities, not logits. Remove the final "
        f"activation (every keras_imbalance builder outputs logits){fix}",
        UserWarning,
        stacklevel=4,  # the caller of the loss
    )


def _probability_guard(y_pred, name):
    y_pred = ops.convert_to_tensor(y_pred)
    dtype = keras.backend.standardize_dtype(y_pred.dtype)
    if not dtype.startswith("float"):
        y_pred = ops.cast(y_pred, "float32")
    tolerance = max(_PROBABILITY_TOLERANCE, 4 * _HALF_EPSILON.get(dtype, 0.0))
    outside = ops.any(
        ops.logical_or(
            ops.less(y_pred, -tolerance), ops.greater(y_pred, 1.0 + tolerance)
        )
    )
    flagged = _labels.concrete_bool(outside)
    if flagged is None:
        return ops.where(outside, float("nan"), 1.0)
    if flagged:
        values = ops.convert_to_numpy(y_pred).astype("float64")
        raise ValueError(
            f"{name} received y_pred outside [0, 1] (min {np.nanmin(values):.3g}, "
            f"max {np.nanmax(values):.3g}) with from_logits=False: these look like "
            "logits. Pass from_logits=True (every keras_imbalance builder outputs "
            "logits) or end the model with a softmax/sigmoid."
        )
    return None


def apply_guard(loss, guard):
    """`loss` times the factor of `check_predictions` (bit-identical when 1).

    A multiplication, so the gradients are NaN too and a misused loss cannot
    leave behind a plausibly trained model.
    """
    if guard is None:
        return loss
    return loss * ops.cast(guard, loss.dtype)
