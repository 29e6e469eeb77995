"""Bad labels and edge-case numerics never give a plausible loss.

Labels that are not class ids of `y_pred` (negative, `>= C`, 255 without
`ignore_class`, fractional, NaN), targets outside `[0, 1]`, string labels and
shape mismatches raise a `ValueError` / `TypeError` in an eager call. Inside a
compiled step (a `tf.function` graph, XLA, a JAX trace), where nothing can be
raised, the loss is NaN; PyTorch's Keras steps run eagerly, so `fit` raises
the eager error there. Extreme logits (LDAM under XLA at 1e10, float16 at +-1e4) and
all-zero probability rows stay finite.
"""

import functools
import re

import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests import conformance

C = 3
COUNTS = [40, 10, 2]
partial = functools.partial

# Losses on integer / one-hot labels, each with logits inputs.
MULTICLASS = {
    "FocalLoss": partial(losses.FocalLoss, from_logits=True),
    "WeightedCrossEntropy": partial(
        losses.WeightedCrossEntropy, [1.0, 2.0, 3.0], from_logits=True
    ),
    "ClassBalancedLoss": partial(
        losses.ClassBalancedLoss, COUNTS, loss_type="softmax", from_logits=True
    ),
    "ClassBalancedLoss_focal": partial(
        losses.ClassBalancedLoss, COUNTS, from_logits=True
    ),
    "LDAMLoss": partial(losses.LDAMLoss, COUNTS),
    "BalancedSoftmaxLoss": partial(losses.BalancedSoftmaxLoss, COUNTS),
    "LogitAdjustedLoss": partial(losses.LogitAdjustedLoss, class_counts=COUNTS),
    "DiceLoss": partial(losses.DiceLoss, from_logits=True),
    "TverskyLoss": partial(losses.TverskyLoss, from_logits=True),
}
# Losses on binary / multi-hot targets of the shape of `y_pred`.
MULTILABEL = {
    "BinaryFocalLoss": partial(losses.BinaryFocalLoss, from_logits=True),
    "SigmoidFocalCrossEntropy": partial(
        losses.SigmoidFocalCrossEntropy,
        from_logits=True,
        reduction="sum_over_batch_size",
    ),
    "AsymmetricLoss": partial(losses.AsymmetricLoss, from_logits=True),
}
LABEL_ERROR = "y_true holds labels that are not class ids of the 3 classes"
TARGET_ERROR = "y_true holds targets outside [0, 1]"

LOGITS = np.array(
    [[2.0, -1.0, 0.5], [0.1, 1.5, -0.3], [-0.7, 0.2, 1.1], [1.0, 0.0, -1.0]],
    dtype="float32",
)
GOOD = np.array([0, 1, 2, 0])
BAD_LABELS = {
    "too_large": [0, 1, 2, 3],
    "negative": [0, -1, 2, 0],
    "void_255": [0, 1, 255, 0],
    "fractional": [0.0, 1.0, 1.5, 0.0],
    "nan": [0.0, np.nan, 2.0, 0.0],
}


def compiled(fn, jit_compile=False):
    step = conformance.traced(fn, jit_compile)
    if step is None:
        pytest.skip(conformance.EAGER_STEPS + ": test_bad_label_in_fit")
    return step


@pytest.mark.parametrize("bad", sorted(BAD_LABELS))
@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_multiclass_label_outside_classes_raises_eagerly(name, bad):
    loss = MULTICLASS[name]()
    assert np.isfinite(float(loss(GOOD, LOGITS)))
    y = np.asarray(BAD_LABELS[bad], dtype="float32")
    with pytest.raises(ValueError, match=re.escape(LABEL_ERROR)):
        loss(y, LOGITS)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_multiclass_label_outside_classes_is_nan_when_compiled(name, jit_compile):
    loss = MULTICLASS[name]()
    step = compiled(lambda y, z: loss(y, z), jit_compile)
    assert np.isfinite(float(step(GOOD, LOGITS)))
    assert np.isnan(float(step(np.array([0, 1, 2, 3]), LOGITS)))


@pytest.mark.parametrize("name", ["FocalLoss", "LDAMLoss"])
def test_bad_label_in_fit(name):
    # The compiled train step (TensorFlow, JAX) cannot raise: the loss is
    # NaN. PyTorch's step runs eagerly: `fit` raises the eager error.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(C)])
    model.compile(optimizer="sgd", loss=MULTICLASS[name]())
    y = np.array([0, 1, 2, 3])
    if conformance.backend() == "torch":
        with pytest.raises(ValueError, match=re.escape(LABEL_ERROR)):
            model.fit(LOGITS, y, batch_size=4, verbose=0)
        return
    history = model.fit(LOGITS, y, batch_size=4, verbose=0)
    assert np.isnan(history.history["loss"][0])


@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_ignore_class_labels_are_not_errors(name):
    loss = MULTICLASS[name](ignore_class=255)
    value = loss(np.array([0, 1, 255, 0]), LOGITS)
    assert np.isfinite(float(value))


@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_functional_twin_raises_too(name):
    # The functional twins share the label rule (they are what the classes call).
    twins = {
        "FocalLoss": lambda y, z: losses.focal_loss(y, z, from_logits=True),
        "WeightedCrossEntropy": lambda y, z: losses.weighted_cross_entropy(
            y, z, class_weight=[1.0, 1.0, 1.0], from_logits=True
        ),
        "ClassBalancedLoss": lambda y, z: losses.class_balanced_loss(
            y, z, COUNTS, loss_type="softmax", from_logits=True
        ),
        "ClassBalancedLoss_focal": lambda y, z: losses.class_balanced_loss(
            y, z, COUNTS, from_logits=True
        ),
        "LDAMLoss": lambda y, z: losses.ldam_loss(y, z, COUNTS),
        "BalancedSoftmaxLoss": lambda y, z: losses.balanced_softmax_loss(y, z, COUNTS),
        "LogitAdjustedLoss": lambda y, z: losses.logit_adjusted_loss(
            y, z, class_counts=COUNTS
        ),
        "DiceLoss": lambda y, z: losses.dice_loss(y, z, from_logits=True),
        "TverskyLoss": lambda y, z: losses.tversky_loss(y, z, from_logits=True),
    }
    with pytest.raises(ValueError, match=re.escape(LABEL_ERROR)):
        twins[name]([0, 1, 2, 7], LOGITS)


def test_one_hot_targets_outside_unit_interval():
    loss = losses.FocalLoss(from_logits=True)
    y = np.eye(C, dtype="float32")[GOOD]
    y[1, 1] = 2.0
    with pytest.raises(ValueError, match=re.escape(TARGET_ERROR)):
        loss(y, LOGITS)
    step = compiled(lambda a, b: loss(a, b))
    assert np.isnan(float(step(y, LOGITS)))


@pytest.mark.parametrize("name", sorted(MULTILABEL))
def test_multilabel_targets_outside_unit_interval(name):
    loss = MULTILABEL[name]()
    y = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 1, 0]], dtype="float32")
    assert np.isfinite(float(loss(y, LOGITS)))
    for value in (2.0, -1.0, np.nan):
        bad = y.copy()
        bad[2, 0] = value
        with pytest.raises(ValueError, match=re.escape(TARGET_ERROR)):
            loss(bad, LOGITS)
    bad = y.copy()
    bad[2, 0] = 2.0
    step = compiled(lambda a, b: loss(a, b))
    assert np.isnan(float(step(bad, LOGITS)))


def test_binary_segmentation_ignore_value_is_allowed():
    loss = losses.DiceLoss(from_logits=True, ignore_class=255)
    y = np.array([[[0], [1]], [[255], [1]]], dtype="float32")
    z = np.array([[[0.5], [1.0]], [[-2.0], [3.0]]], dtype="float32")
    assert np.isfinite(float(loss(y, z)))
    with pytest.raises(ValueError, match=re.escape(TARGET_ERROR)):
        losses.DiceLoss(from_logits=True)(y, z)


@pytest.mark.parametrize("name", sorted(MULTICLASS) + sorted(MULTILABEL))
def test_string_labels_raise_type_error(name):
    loss = {**MULTICLASS, **MULTILABEL}[name]()
    with pytest.raises(TypeError, match="y_true must hold numeric labels"):
        loss(np.array(["cat", "dog", "cat", "dog"]), LOGITS)


@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_shape_mismatch_in_our_words(name):
    loss = MULTICLASS[name]()
    with pytest.raises(
        ValueError, match="y_true and y_pred disagree on the number of samples"
    ):
        loss(np.array([0, 1, 2]), LOGITS)
    with pytest.raises(ValueError, match="Integer labels must have shape"):
        loss(np.zeros((4, 2)), LOGITS)


def test_multilabel_shape_mismatch_in_our_words():
    with pytest.raises(ValueError, match="disagree on the number of samples"):
        losses.AsymmetricLoss(from_logits=True)(np.zeros((3, C)), LOGITS)


# --- construction -------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: losses.LDAMLoss([10.5, 3, 1]),
        lambda: losses.BalancedSoftmaxLoss([10, 2.5, 1]),
        lambda: losses.LogitAdjustedLoss(class_counts=[10, 0.5, 1]),
        lambda: losses.ClassBalancedLoss([1.5, 3, 1]),
    ],
)
def test_fractional_class_counts_rejected(make):
    with pytest.raises(ValueError, match="whole-number counts of samples per class"):
        make()


def test_fractional_priors_still_accepted():
    loss = losses.LogitAdjustedLoss(class_priors=[0.7, 0.2, 0.1])
    assert np.isfinite(float(loss(GOOD, LOGITS)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: losses.WeightedCrossEntropy([0.0, 0.0, 0.0]),
        lambda: losses.WeightedCrossEntropy({0: 0.0, 1: 0.0}),
        lambda: losses.LDAMLoss(COUNTS, class_weight=[0, 0, 0]),
    ],
)
def test_all_zero_class_weight_rejected(make):
    with pytest.raises(ValueError, match="weights that are not all zero"):
        make()


@pytest.mark.parametrize("alpha", [0.0, [0.0, 0.0, 0.0]])
def test_all_zero_focal_alpha_rejected(alpha):
    with pytest.raises(ValueError, match="an all-zero alpha makes the loss zero"):
        losses.FocalLoss(alpha=alpha)


# --- numerics at the edges ----------------------------------------------------


def test_ldam_finite_under_xla_at_huge_logits():
    z = np.array(
        [[1e10, -1e10, 0.0], [-1e10, 1e10, 0.0], [1e10, 0.0, -1e10]], "float32"
    )
    y = np.array([0, 2, 1])
    loss = losses.LDAMLoss(COUNTS)
    eager = float(loss(y, z))
    value, gradient = conformance.value_and_gradient(
        lambda t: loss(y, t), z, jit_compile=True
    )
    assert np.isfinite(float(value))
    np.testing.assert_allclose(float(value), eager, rtol=1e-6)
    assert np.all(np.isfinite(gradient))


HALF_LOGITS = np.array(
    [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 0.0, -1e4], [0.0, -1e4, 1e4]]
)


@pytest.mark.parametrize("name", sorted(MULTICLASS) + sorted(MULTILABEL))
def test_float16_logits_of_1e4_give_finite_loss_and_gradient(name):
    loss = {**MULTICLASS, **MULTILABEL}[name]()
    y = np.array([0, 2, 1, 1])
    if name in MULTILABEL:
        y = np.eye(C, dtype="float32")[y]
    value, gradient = conformance.value_and_gradient(
        lambda z: loss(y, z), HALF_LOGITS, dtype="float16"
    )
    assert np.isfinite(float(value))
    assert np.all(np.isfinite(gradient))


@pytest.fixture
def mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["FocalLoss", "LDAMLoss", "BalancedSoftmaxLoss"])
def test_mixed_float16_training_step_at_logits_1e4(name, mixed_float16):
    # A float16 head whose logits sit at +-1e4: the loss and its gradient
    # with respect to the predictions are finite, and the step keeps the
    # weights finite (Keras' loss scaling skips steps whose float16 weight
    # gradients overflow, which happens at such logits whatever the loss).
    inputs = keras.Input((2,))
    outputs = keras.layers.Dense(
        C,
        kernel_initializer=keras.initializers.Constant([[5e3, -5e3, 0.0]] * 2),
        dtype="mixed_float16",
    )(inputs)
    outputs = keras.layers.Activation("linear", dtype="float32")(outputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss=MULTICLASS[name]())
    x = np.ones((8, 2), "float32")
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    logits = model.predict(x, verbose=0)
    assert np.abs(logits).max() >= 1e4
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for weight in model.weights:
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(weight)))


@pytest.mark.parametrize(
    "make",
    [
        lambda: losses.FocalLoss(),
        lambda: losses.WeightedCrossEntropy([1.0, 2.0, 1.0]),
        lambda: losses.ClassBalancedLoss(COUNTS, loss_type="softmax"),
    ],
)
def test_all_zero_probability_row_is_finite(make):
    p = np.array([[0.0, 0.0, 0.0], [0.2, 0.8, 0.0]], "float32")
    y = np.array([0, 1])
    value = float(make()(y, p))
    # (Keras' own sparse cross-entropy is finite here on TensorFlow only: its
    # JAX and PyTorch versions give NaN for the all-zero row.)
    assert np.isfinite(value)
