"""tau="auto": the shortcut scores (one forward pass) equal one model per tau."""

import keras
import numpy as np
import pytest

from keras_imbalance import models, strategies
from keras_imbalance.strategies import decoupled


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [40, 12, 4])
    x = (rng.normal(size=(len(y), 6)) + y[:, None]).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, name="classifier"),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y, epochs=3, verbose=0)
    return model, x, y


def _captured_scores(strategy, model, x, y, monkeypatch):
    captured = {}

    def capture(strategy, context, model, candidate_model, head_scores):
        x_val = context.validation_data[0]
        captured["scores"] = decoupled.tau_scores(
            model, candidate_model, head_scores, x_val
        )
        return 1.0

    monkeypatch.setattr(decoupled, "tune_tau", capture)
    context = strategies.FitContext(
        x=x, y=y, class_counts=np.bincount(y).tolist(), num_classes=3,
        epochs=1, batch_size=8, seed=0, validation_data=(x, y), callbacks=[],
        verbose=0,
    )  # fmt: skip
    strategy.finish(model, context)
    return captured["scores"]


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.3, 2.0])
def test_tau_norm_shortcut_matches_the_normalised_model(trained, tau, monkeypatch):
    model, x, y = trained
    scores = _captured_scores(strategies.get("tau_norm"), model, x, y, monkeypatch)
    expected = models.tau_normalize(model, tau=tau).predict(x, verbose=0)
    np.testing.assert_allclose(scores(tau), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("tau", [0.0, 0.7, 2.0])
def test_posthoc_shortcut_matches_the_adjusted_model(trained, tau, monkeypatch):
    model, x, y = trained
    strategy = strategies.get("posthoc_logit_adjustment")
    scores = _captured_scores(strategy, model, x, y, monkeypatch)
    priors = np.bincount(y) / len(y)
    expected = models.with_logit_adjustment(model, priors, tau=tau).predict(
        x, verbose=0
    )
    np.testing.assert_allclose(scores(tau), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["tau_norm", "posthoc_logit_adjustment"])
def test_a_layer_after_the_head_is_kept(trained, name, monkeypatch):
    model, x, y = trained
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    logits = keras.layers.Dense(3, name="classifier")(hidden)
    outputs = keras.layers.Rescaling(2.0, name="after")(logits)
    doubled = keras.Model(inputs, outputs)
    doubled.set_weights(model.get_weights())
    scores = _captured_scores(strategies.get(name), doubled, x, y, monkeypatch)
    if name == "tau_norm":
        expected = models.tau_normalize(doubled, tau=1.0)
    else:
        priors = np.bincount(y) / len(y)
        expected = models.with_logit_adjustment(doubled, priors, tau=1.0)
    np.testing.assert_allclose(
        scores(1.0), expected.predict(x, verbose=0), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("copy", ["tau_normalize", "with_logit_adjustment", "crt"])
def test_functional_model_with_an_unnamed_input_is_copied(trained, copy):
    # `keras.Input` names itself `input_layer`, which `clone_model` renames.
    model, x, _ = trained
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    functional = keras.Model(inputs, keras.layers.Dense(3, name="classifier")(hidden))
    functional.set_weights(model.get_weights())
    if copy == "tau_normalize":
        new = models.tau_normalize(functional, tau=0.0)
    elif copy == "with_logit_adjustment":
        new = models.with_logit_adjustment(functional, [1, 1, 1], tau=1.0)
    else:
        new = models.retrain_classifier(functional, reinitialize=False)
    # Uniform priors shift every logit by -log(1/3).
    shift = np.log(3.0) if copy == "with_logit_adjustment" else 0.0
    np.testing.assert_allclose(
        new.predict(x, verbose=0),
        model.predict(x, verbose=0) + shift,
        rtol=1e-5,
        atol=1e-5,
    )
