"""Logits given to a probability loss, probabilities given to a logits loss.

Every builder of the package outputs logits, while eight losses default to
`from_logits=False` (the defaults of Keras' `CategoricalFocalCrossentropy` and
TF-Addons' `SigmoidFocalCrossEntropy`). Logits given to a probability loss
must never train silently: an eager call raises a `ValueError`, a compiled
step gives a NaN loss. A softmax/sigmoid output given to a logits loss warns
(tested in `test_softmax_given_as_logits.py`).
"""

import re
from functools import partial

import keras
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from keras_imbalance import losses, models
from tests import conformance
from tests.losses import probability_inputs_fixtures
from tests.losses.probability_inputs_fixtures import (
    PROBABILITY_LOSSES,
    C,
    make_data,
    model_data,
    twin_name,
)

policy = probability_inputs_fixtures.policy  # the shared fixture

NAMES = sorted(PROBABILITY_LOSSES)


def logits_model(kind):
    """A tiny model ending in a linear layer named "head" (it outputs logits)."""
    if kind == "segmentation":
        inputs = keras.Input((3, 3, 2))
        outputs = keras.layers.Conv2D(C, 1, name="head")(inputs)
    else:
        inputs = keras.Input((6,))
        outputs = keras.layers.Dense(C, name="head")(inputs)
    return keras.Model(inputs, outputs)


def logits_error(name, z):
    """The exact message, as a regex."""
    return "^" + re.escape(
        f"{name} received y_pred outside [0, 1] (min {np.min(z):.3g}, max "
        f"{np.max(z):.3g}) with from_logits=False: these look like logits. Pass "
        "from_logits=True (every keras_imbalance builder outputs logits) or end "
        "the model with a softmax/sigmoid."
    )


# Per-sample values of the probability path on `make_data(kind, logits=False,
# batch=4, seed=1)`, computed with the functions as they were before the
# check existed: the check must leave every valid number as it was.
GOLDEN = {
    "AsymmetricLoss": [1.68873835, 0.439837545, 0.801211536, 1.30129838],
    "BalancedSoftmaxLoss": [8.22718716, 0.162742168, 1.44203353, 1.38801491],
    "BinaryFocalLoss": [0.897159934, 0.248927936, 0.380739778, 0.453705519],
    "ClassBalancedLoss": [15.5263653, 0.0250905957, 0.599000454, 1.86925328],
    "DiceLoss": [0.518167555, 0.677564681, 0.567302227, 0.585724115],
    "FocalLoss": [6.74431944, 0.0761931762, 0.987720668, 2.02443314],
    "LogitAdjustedLoss": [8.22718716, 0.162742168, 1.44203353, 1.38801491],
    "SigmoidFocalCrossEntropy": [2.69147873, 0.744873524, 1.11829281, 1.17535949],
    "TverskyLoss": [0.383275598, 0.577380657, 0.471826643, 0.494887829],
    "WeightedCrossEntropy": [3.37999177, 0.496896565, 3.14529037, 4.86566114],
    "FocalLoss/ignore_class": np.reshape(
        [
            0.0394904353,
            0.87129724,
            0.253111929,
            2.02443314,
            0.920768261,
            0.621365547,
            0.523493052,
            2.96681208e-07,
            4.04260826,
            0.0,
            0.0,
            2.40360379,
            0.0652728304,
            4.56078434,
            6.55490351,
            0.0568704531,
            1.40094972,
            4.53958082,
            0.11649292,
            0.0,
            6.04744005,
            4.99210739,
            0.0962339863,
            0.0,
            0.0789094716,
            0.0711791217,
            8.27556992,
            0.0,
            0.0,
            0.0609606244,
            12.0341873,
            10.648797,
            0.00168689329,
            3.53926444,
            0.0,
            4.45671463,
        ],
        (4, 3, 3),
    ),
    "DiceLoss/binary": [0.258064508, 0.189873397, 0.377777815, 0.377777815],
}


@pytest.mark.parametrize("name", NAMES)
class TestLogitsGivenToAProbabilityLoss:
    def test_eager_call_raises(self, name):
        factory, twin, kind = PROBABILITY_LOSSES[name]
        y, z = make_data(kind, logits=True)
        with pytest.raises(ValueError, match=logits_error(name, z)):
            factory()(y, z)
        with pytest.raises(ValueError, match=logits_error(twin_name(twin), z)):
            twin(y, z)
        # Tensors, half precision and sample weights take the same path.
        with pytest.raises(ValueError, match=f"^{name} received y_pred outside"):
            factory()(y, keras.ops.cast(z, "float16"), sample_weight=np.ones(8))

    @pytest.mark.slow
    @pytest.mark.parametrize("mode", ["graph", "jit_compile", "run_eagerly"])
    def test_fit_step(self, name, mode):
        factory, _, kind = PROBABILITY_LOSSES[name]
        keras.utils.set_random_seed(0)
        model = logits_model(kind)
        model.compile(
            optimizer="sgd",
            loss=factory(),
            jit_compile=mode == "jit_compile",
            run_eagerly=mode == "run_eagerly",
        )
        x, y = model_data(kind)
        if mode == "run_eagerly":
            with pytest.raises(ValueError, match=f"^{name} received y_pred outside"):
                model.fit(x, y, batch_size=8, epochs=1, verbose=0)
            return
        history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        assert np.isnan(history.history["loss"][0])
        # The gradients are NaN too: no plausibly trained model is left behind.
        kernel = keras.ops.convert_to_numpy(model.get_layer("head").kernel)
        assert not np.isfinite(kernel).any()

    def test_valid_probabilities_keep_their_values(self, name):
        factory, twin, kind = PROBABILITY_LOSSES[name]
        y, p = make_data(kind, logits=False, batch=4, seed=1)
        want = GOLDEN[name]
        per_sample = factory(reduction="none")
        np.testing.assert_allclose(per_sample(y, p), want, rtol=1e-6)
        np.testing.assert_allclose(twin(y, p), want, rtol=1e-6)
        mean = factory(reduction="sum_over_batch_size")
        np.testing.assert_allclose(mean(y, p), np.mean(want), rtol=1e-6)
        for jit_compile in (False, True):
            compiled = conformance.traced(per_sample, jit_compile)
            if compiled is not None:  # (PyTorch: no compiled call outside fit)
                np.testing.assert_allclose(compiled(y, p), want, rtol=1e-5)

    @pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
    def test_half_precision_rounding_is_not_taken_for_logits(self, name, dtype):
        factory, _, kind = PROBABILITY_LOSSES[name]
        y, p = make_data(kind, logits=False)
        # Half-precision softmax / sigmoid outputs can overshoot 1 by an ulp.
        ulp = {"float16": 2.0**-10, "bfloat16": 2.0**-7}[dtype]
        p.reshape(-1)[:2] = [1.0 + ulp, 1.0 + ulp]
        value = factory()(y, keras.ops.cast(p, dtype))
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(value)))

    def test_symbolic_call(self, name):
        factory, twin, kind = PROBABILITY_LOSSES[name]
        y, p = make_data(kind, logits=False)
        y_sym = keras.KerasTensor(y.shape, dtype=str(y.dtype))
        p_sym = keras.KerasTensor(p.shape)
        assert isinstance(factory()(y_sym, p_sym), keras.KerasTensor)
        assert isinstance(twin(y_sym, p_sym), keras.KerasTensor)


@pytest.mark.parametrize(
    "loss,y_true,y_pred",
    [
        # Dense prediction with an ignored label.
        (
            losses.FocalLoss(ignore_class=255),
            np.where(make_data("segmentation", logits=True)[0] == 0, 255, 1),
            make_data("segmentation", logits=True)[1],
        ),
        (
            losses.DiceLoss(ignore_class=0),
            make_data("segmentation", logits=True)[0],
            make_data("segmentation", logits=True)[1],
        ),
        # One channel: binary segmentation with sigmoid outputs.
        (
            losses.TverskyLoss(),
            np.zeros((2, 3, 3), "int32"),
            np.linspace(-2.0, 2.0, 18, dtype="float32").reshape(2, 3, 3, 1),
        ),
        # Probabilities a little out of range are logits too.
        (losses.FocalLoss(), [0, 1], [[0.5, 0.55], [-0.05, 1.0]]),
    ],
)
def test_other_shapes_raise(loss, y_true, y_pred):
    with pytest.raises(ValueError, match="received y_pred outside \\[0, 1\\]"):
        loss(y_true, y_pred)


def test_valid_dense_and_ignored_positions_keep_their_values():
    y, p = make_data("segmentation", logits=False, batch=4, seed=1)
    y = np.where(y == 0, 255, y)
    np.testing.assert_allclose(
        losses.FocalLoss(ignore_class=255, reduction="none")(y, p),
        GOLDEN["FocalLoss/ignore_class"],
        rtol=1e-6,
    )
    binary = np.where(y == 1, 0.9, 0.2).astype("float32")[..., None]
    np.testing.assert_allclose(
        losses.DiceLoss(reduction="none")((y == 1).astype("int32"), binary),
        GOLDEN["DiceLoss/binary"],
        rtol=1e-6,
    )


@pytest.mark.slow
def test_mixed_precision_fit(policy):
    x, y = model_data("multiclass")
    # Half-precision logits: NaN at the first step (and the loss-scale
    # optimizer skips the update).
    policy("mixed_float16")
    model = logits_model("multiclass")
    model.compile(optimizer="sgd", loss=losses.FocalLoss())
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isnan(history.history["loss"][0])
    # Half-precision softmax outputs are probabilities: no false alarm.
    policy("mixed_bfloat16")
    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(C, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    assert keras.backend.standardize_dtype(model.output.dtype) == "bfloat16"
    model.compile(optimizer="sgd", loss=losses.FocalLoss())
    history = model.fit(x * 100.0, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# Each of the 11 loss classes with its defaults, on a builder's logits.
DEFAULT_LOSSES = {
    "FocalLoss": losses.FocalLoss,
    "BinaryFocalLoss": losses.BinaryFocalLoss,
    "SigmoidFocalCrossEntropy": losses.SigmoidFocalCrossEntropy,
    "WeightedCrossEntropy": partial(losses.WeightedCrossEntropy, [1.0] * 10),
    "ClassBalancedLoss": partial(losses.ClassBalancedLoss, [50] * 10),
    "AsymmetricLoss": losses.AsymmetricLoss,
    "DiceLoss": losses.DiceLoss,
    "TverskyLoss": losses.TverskyLoss,
    "LDAMLoss": partial(losses.LDAMLoss, [50] * 10),
    "BalancedSoftmaxLoss": partial(losses.BalancedSoftmaxLoss, [50] * 10),
    "LogitAdjustedLoss": partial(losses.LogitAdjustedLoss, class_counts=[50] * 10),
}


@pytest.fixture(scope="module")
def separable_images():
    """Ten classes, each a fixed random 8x8 pattern plus noise; balanced."""
    rng = np.random.default_rng(0)
    templates = rng.normal(size=(10, 8, 8, 1))

    def sample(per_class):
        labels = np.repeat(np.arange(10), per_class)
        noise = 0.5 * rng.normal(size=(len(labels), 8, 8, 1))
        return (templates[labels] + noise).astype("float32"), labels

    (x, y), (x_test, y_test) = sample(20), sample(10)
    return x, np.eye(10, dtype="float32")[y], x_test, y_test


@pytest.fixture(scope="module")
def attention_classifier():
    keras.utils.set_random_seed(0)
    model = models.build_attention_classifier((8, 8, 1), 10)
    return model, model.get_weights()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEFAULT_LOSSES))
def test_default_loss_on_builder_logits_never_trains_silently(
    name, separable_images, attention_classifier
):
    x, y_one_hot, x_test, y_test = separable_images
    model, initial_weights = attention_classifier
    model.set_weights(initial_weights)
    keras.utils.set_random_seed(0)
    loss = DEFAULT_LOSSES[name]()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss)
    history = model.fit(
        x,
        y_one_hot,
        batch_size=40,
        epochs=8,
        verbose=0,
        callbacks=[keras.callbacks.TerminateOnNaN()],
    )
    values = history.history["loss"]
    if np.isnan(values[0]):
        outcome = "misuse reported"
    else:
        predictions = np.argmax(keras.ops.convert_to_numpy(model(x_test)), axis=-1)
        accuracy = balanced_accuracy_score(y_test, predictions)
        # Chance is 0.1; a silently mis-trained model scores near it.
        assert accuracy > 0.5, (name, accuracy, values)
        outcome = "trained"
    expected = "trained" if getattr(loss, "from_logits", True) else "misuse reported"
    assert outcome == expected, (name, values)
