"""The probability losses, their data, and a fixture that sets the dtype policy."""

from functools import partial

import keras
import numpy as np
import pytest

from keras_imbalance import losses

C = 4
COUNTS = [40, 20, 10, 5]
WEIGHTS = [1.0, 2.0, 3.0, 0.5]

# Class name -> (class factory, functional twin, kind), each on its
# probability path: the default for all but the two prior-corrected losses.
# kind: "multiclass" (softmax, integer labels), "multilabel" (sigmoid,
# multi-hot), "segmentation" (softmax over (B, H, W, C), integer masks).
PROBABILITY_LOSSES = {
    "FocalLoss": (losses.FocalLoss, losses.focal_loss, "multiclass"),
    "BinaryFocalLoss": (
        losses.BinaryFocalLoss,
        losses.binary_focal_loss,
        "multilabel",
    ),
    "SigmoidFocalCrossEntropy": (
        # (Its TF-Addons default, reduction=None, is TensorFlow's only.)
        partial(losses.SigmoidFocalCrossEntropy, reduction="sum_over_batch_size"),
        losses.sigmoid_focal_crossentropy,
        "multilabel",
    ),
    "WeightedCrossEntropy": (
        partial(losses.WeightedCrossEntropy, WEIGHTS),
        partial(losses.weighted_cross_entropy, class_weight=WEIGHTS),
        "multiclass",
    ),
    "ClassBalancedLoss": (
        partial(losses.ClassBalancedLoss, COUNTS),
        partial(losses.class_balanced_loss, class_counts=COUNTS),
        "multiclass",
    ),
    "AsymmetricLoss": (losses.AsymmetricLoss, losses.asymmetric_loss, "multilabel"),
    "DiceLoss": (losses.DiceLoss, losses.dice_loss, "segmentation"),
    "TverskyLoss": (losses.TverskyLoss, losses.tversky_loss, "segmentation"),
    "BalancedSoftmaxLoss": (
        partial(losses.BalancedSoftmaxLoss, COUNTS, from_logits=False),
        partial(losses.balanced_softmax_loss, class_counts=COUNTS, from_logits=False),
        "multiclass",
    ),
    "LogitAdjustedLoss": (
        partial(losses.LogitAdjustedLoss, class_counts=COUNTS, from_logits=False),
        partial(losses.logit_adjusted_loss, class_counts=COUNTS, from_logits=False),
        "multiclass",
    ),
}


def twin_name(twin):
    return getattr(twin, "func", twin).__name__


def make_data(kind, *, logits, batch=8, seed=0):
    """Labels and logits (or their softmax / sigmoid, as float32)."""
    rng = np.random.default_rng(seed)
    shape = (batch, 3, 3, C) if kind == "segmentation" else (batch, C)
    z = 3.0 * rng.normal(size=shape)
    if kind == "multilabel":
        y = (rng.random(size=shape) > 0.6).astype("float32")
        p = 1.0 / (1.0 + np.exp(-z))
    else:
        y = rng.integers(0, C, size=shape[:-1])
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
    return y, (z if logits else p).astype("float32")


def model_data(kind, batch=8):
    y, _ = make_data(kind, logits=True, batch=batch)
    shape = (batch, 3, 3, 2) if kind == "segmentation" else (batch, 6)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    return x * 5.0, y


@pytest.fixture
def policy():
    """Set a global dtype policy for one test and restore it afterwards."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)
