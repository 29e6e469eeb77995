"""`Strategy.fit`: its arguments and data checks, optimizer, head and protocol."""

import keras
import numpy as np
import pytest

from keras_imbalance import evaluation, layers, models, protocols, strategies
from tests import strategies_fixtures
from tests.strategies_fixtures import dense_model_fn

# The shared fixtures, module-scoped: one instance per test module.
digits = strategies_fixtures.digits
tiny = strategies_fixtures.tiny


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=0), ValueError, "epochs"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(epochs=1.5), ValueError, "epochs"),
        (dict(seed="a"), ValueError, "seed"),
        (dict(num_classes=5), ValueError, r"Labels must lie in \[0, 4\]"),
        (dict(model_fn=3), ValueError, "model_fn"),
    ],
)
def test_fit_validates_its_arguments(kwargs, error, match, digits, tiny):
    (x, y), _ = digits
    args = dict(model_fn=tiny, epochs=1, batch_size=32)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        strategies.get("ce").fit(args.pop("model_fn"), x, y, **args)


def test_fit_validates_the_data(tiny):
    x = np.zeros((4, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="4 samples but `y` has 3"):
        strategies.get("ce").fit(tiny, x, [0, 1, 1], epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="at least 2 classes"):
        strategies.get("ce").fit(tiny, x, [0, 0, 0, 0], epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="non-negative class ids"):
        strategies.get("ce").fit(tiny, x, [0, 1, -1, 0], epochs=1, batch_size=2)
    with pytest.raises(TypeError, match="single-input"):
        strategies.get("ce").fit(tiny, {"a": x}, [0, 1, 1, 0], epochs=1, batch_size=2)


def test_smote_and_augmentation_refuse_what_they_cannot_do(tiny):
    x = np.random.default_rng(0).random((21, 8, 8, 1)).astype("float32")
    y = np.array([0] * 10 + [1] * 10 + [2])
    with pytest.raises(ValueError, match="rarest class has 1 sample"):
        strategies.get("smote").fit(tiny, x, y, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match=r"augments images \(H, W, C\)"):
        strategies.get("minority_augmentation").fit(
            dense_model_fn, x.reshape(21, -1), y, epochs=1, batch_size=8
        )


@pytest.mark.slow
def test_optimizer_argument(digits, tiny):
    (x, y), _ = digits
    optimizer = keras.optimizers.SGD(0.05)
    model, _ = strategies.get("crt").fit(
        tiny, x, y, epochs=2, batch_size=64, optimizer=optimizer
    )
    assert int(optimizer.iterations.numpy()) == 0  # copied, never stepped
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    # The second stage (the new head) runs at 10x the learning rate.
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.5)
    model, _ = strategies.get("ce").fit(
        tiny, x, y, epochs=1, batch_size=64, optimizer="rmsprop"
    )
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    with pytest.raises(ValueError, match="optimizer"):
        strategies.get("ce").fit(tiny, x, y, epochs=1, batch_size=64, optimizer=3)


@pytest.mark.slow
def test_head_for_every_strategy(digits, tiny):
    (x, y), _ = digits
    model, _ = strategies.get("ce").fit(
        tiny, x, y, epochs=1, batch_size=64, head="cosine"
    )
    assert isinstance(models.find_head(model), layers.CosineClassifier)
    model, _ = strategies.get("ldam_drw").fit(
        tiny, x, y, epochs=1, batch_size=64, head="dense"
    )
    assert isinstance(models.find_head(model), keras.layers.Dense)
    with pytest.raises(ValueError, match="takes `head=`"):
        strategies.get("ce").fit(
            dense_model_fn, x, y, epochs=1, batch_size=64, head="cosine"
        )
    with pytest.raises(ValueError, match="head"):
        strategies.get("ce").fit(tiny, x, y, epochs=1, batch_size=64, head="mlp")


@pytest.mark.slow
def test_ldam_protocol_trains_with_pytorch_sgd_and_a_step_schedule(digits, tiny):
    from keras_imbalance.optimizers import CoupledWeightDecaySGD

    (x, y), _ = digits
    rates = []

    class Rates(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(float(self.model.optimizer.learning_rate.numpy()))

    model, _ = strategies.get("ce").fit(
        tiny, x, y, epochs=10, batch_size=128, protocol="ldam", callbacks=[Rates()]
    )
    assert isinstance(model.optimizer, CoupledWeightDecaySGD)
    np.testing.assert_allclose(
        rates, [0.02, 0.04, 0.06, 0.08, 0.1, 0.1, 0.1, 0.1, 1e-3, 1e-5], rtol=1e-5
    )


@pytest.mark.slow
def test_two_epochs_are_not_at_chance_after_batch_norm_reestimation(digits):
    """The moving statistics have not settled after 2 epochs; re-estimated they
    describe the trained weights (inference close to training mode)."""
    (x, y), (x_test, y_test) = digits
    scores = {}
    for precise in (True, False):
        protocol = protocols.get("default").replace(precise_bn=precise)
        model, _ = strategies.get("ce").fit(
            strategies.model_factory("small_cnn"),
            x,
            y,
            epochs=2,
            batch_size=32,
            protocol=protocol,
        )
        inference = np.argmax(model.predict(x_test, verbose=0), -1)
        training = np.argmax(model(x_test, training=True).numpy(), -1)
        scores[precise] = (
            evaluation.evaluate_imbalanced(inference, y=y_test).balanced_accuracy,
            evaluation.evaluate_imbalanced(training, y=y_test).balanced_accuracy,
        )
    inference, training = scores[True]
    assert inference > 0.5 and abs(inference - training) < 0.1
