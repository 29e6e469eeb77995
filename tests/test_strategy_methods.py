"""What each recipe does: LDAM-DRW, cRT, tau-norm, BBN, post-hoc logit adjustment."""

import keras
import numpy as np
import pytest

from keras_imbalance import losses, models, protocols, strategies
from tests import strategies_fixtures
from tests.strategies_fixtures import EpochCounter, dense_model_fn

# The shared fixtures, module-scoped: one instance per test module.
digits = strategies_fixtures.digits
tiny = strategies_fixtures.tiny


@pytest.mark.slow
def test_ldam_drw_matches_the_paper_on_a_cosine_head(digits, tiny):
    (x, y), _ = digits
    captured = {}

    class Capture(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            captured["loss"] = self.model.loss

    strategies.get("ldam_drw").fit(
        tiny, x, y, epochs=5, batch_size=64, callbacks=[Capture()]
    )
    loss = captured["loss"]
    assert isinstance(loss, losses.LDAMLoss)
    # s * (cos - m) with s = 30 and m_max = 0.5, on a head of scale 16.
    assert loss.scale == pytest.approx(30.0 / 16.0)
    assert loss.max_margin == pytest.approx(0.5 * 16.0)
    # DRW switched the effective-number weights on at epoch 4 of 5 (0.8).
    weights = np.asarray(loss.class_weight, dtype="float64")
    expected = 1.0 / (1 - 0.9999 ** np.bincount(y, minlength=10))
    expected = expected / expected.sum() * 10
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    # With a plain dense head the margins are in logit units.
    strategies.get("ldam_drw").fit(
        dense_model_fn, x, y, epochs=1, batch_size=64, callbacks=[Capture()]
    )
    assert captured["loss"].scale == 1.0 and captured["loss"].max_margin == 0.5


def test_posthoc_logit_adjustment_subtracts_log_priors(digits):
    (x, y), (x_test, _) = digits
    strategy = strategies.get("posthoc_logit_adjustment", tau=0.5)
    keras.utils.set_random_seed(0)
    base = dense_model_fn((8, 8, 1), 10)
    context = type("Context", (), {"class_counts": np.bincount(y).tolist()})
    adjusted = strategy.finish(base, context)
    priors = np.bincount(y) / len(y)
    np.testing.assert_allclose(
        adjusted.predict(x_test[:8], verbose=0),
        base.predict(x_test[:8], verbose=0) - 0.5 * np.log(priors),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.slow
def test_tau_norm_gives_unit_norm_head_columns(digits):
    (x, y), _ = digits
    model, _ = strategies.get("tau_norm", tau=1.0).fit(
        dense_model_fn, x, y, epochs=1, batch_size=64
    )
    kernel = models.find_head(model).kernel.numpy()
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_crt_splits_the_budget_and_retrains_the_head_alone(digits):
    (x, y), _ = digits
    strategy = strategies.get("crt")
    assert strategy.stage_epochs(20) == (18, 2)
    assert strategy.stage_epochs(1) == (1, 1)
    assert strategy.stage_epochs(3) == (2, 1)
    counter = EpochCounter()
    model, history = strategy.fit(
        dense_model_fn, x, y, epochs=3, batch_size=64, callbacks=[counter]
    )
    assert counter.epochs == 3 and history.epoch == [0, 1, 2]
    assert len(history.history["loss"]) == 3
    trainable = sorted(w.path.split("/", 1)[-1] for w in model.trainable_weights)
    assert trainable == ["classifier/bias", "classifier/kernel"]


@pytest.mark.slow
def test_bbn_with_a_user_model_fn(digits):
    (x, y), (x_test, y_test) = digits
    model, history = strategies.get("bbn").fit(
        dense_model_fn, x, y, epochs=3, batch_size=64
    )
    # CumulativeLearning: alpha = 1 - (epoch / total)^2.
    np.testing.assert_allclose(
        history.history["bbn_alpha"], [1.0, 1 - 1 / 9, 1 - 4 / 9]
    )
    assert tuple(model.output.shape) == (None, 10) and len(model.inputs) == 1


@pytest.mark.slow
def test_tau_auto_needs_validation_data_and_records_the_choice(digits, tiny):
    (x, y), (x_test, y_test) = digits
    for name in ("tau_norm", "posthoc_logit_adjustment"):
        with pytest.raises(ValueError, match="tau='auto' tunes tau on validation"):
            strategies.get(name).fit(tiny, x, y, epochs=1, batch_size=64)
    strategy = strategies.get("posthoc_logit_adjustment")
    model, _ = strategy.fit(
        tiny, x, y, epochs=2, batch_size=64, validation_data=(x_test, y_test)
    )
    tau = strategy.tuned_params_["tau"]
    assert tau in strategies.TAU_GRID
    assert tuple(model.output.shape) == (None, 10)
    with pytest.raises(ValueError, match="tau"):
        strategies.get("tau_norm", tau="best")


@pytest.mark.slow
def test_tau_grid_search_picks_the_validation_optimum():
    """A model whose logits are the priors' logs: tau = 1 removes them exactly."""
    priors = np.array([0.7, 0.2, 0.1])
    x = np.eye(3, dtype="float32")[np.repeat([0, 1, 2], [70, 20, 10])]
    y = np.argmax(x, -1)
    # Logits log(prior) + 0.5 * one-hot: tau = 1 is needed to recover argmax.
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(3, name="classifier")]
    )
    model.get_layer("classifier").set_weights(
        [0.5 * np.eye(3, dtype="float32"), np.log(priors).astype("float32")]
    )
    strategy = strategies.get("posthoc_logit_adjustment")
    strategy.tuned_params_ = {}
    context = strategies.FitContext(
        x=x,
        y=y,
        class_counts=[70, 20, 10],
        num_classes=3,
        epochs=1,
        batch_size=8,
        seed=0,
        validation_data=(x, y),
        callbacks=[],
        verbose=0,
    )
    adjusted = strategy.finish(model, context)
    tau = strategy.tuned_params_["tau"]
    # Every sample is right for tau in (0.74, 1.26): the smallest such is chosen.
    assert tau == 0.8
    assert np.all(np.argmax(adjusted.predict(x, verbose=0), -1) == y)


@pytest.mark.slow
def test_crt_second_stage_restarts_the_schedule_and_scales_a_user_rate(digits, tiny):
    (x, y), _ = digits
    strategy = strategies.get("crt", head_learning_rate_multiplier=4.0)
    model, _ = strategy.fit(
        tiny, x, y, epochs=2, batch_size=64, optimizer=keras.optimizers.SGD(0.01)
    )
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.04)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    with pytest.raises(ValueError, match="cannot scale the learning-rate schedule"):
        strategy.fit(
            tiny,
            x,
            y,
            epochs=2,
            batch_size=64,
            optimizer=keras.optimizers.SGD(schedule),
        )
    assert (
        strategies.get("crt").multiplier(
            strategies.FitContext(
                x=x,
                y=y,
                class_counts=[1],
                num_classes=10,
                epochs=1,
                batch_size=1,
                seed=0,
                validation_data=None,
                callbacks=[],
                verbose=0,
                protocol=protocols.get("ldam"),
            )
        )
        == 1.0
    )


def test_drw_weights_normalised_like_the_reference_code():
    from keras_imbalance.callbacks import DeferredReweighting

    counts = [5000, 500, 50]
    loss = losses.LDAMLoss(counts)
    keras_form = DeferredReweighting(loss, class_counts=counts, start_epoch=1)
    torch_form = DeferredReweighting(
        loss, class_counts=counts, start_epoch=1, normalization="weights"
    )
    w = np.asarray(torch_form.deferred_weights)
    # Mean weight over the training samples is 1 (= sum(w_y) / B in expectation).
    assert np.sum(np.asarray(counts) * w) / np.sum(counts) == pytest.approx(1.0)
    ratio = np.asarray(keras_form.deferred_weights) / w
    np.testing.assert_allclose(ratio, ratio[0])
    with pytest.raises(ValueError, match="normalization"):
        DeferredReweighting(loss, class_counts=counts, start_epoch=1, normalization="x")
