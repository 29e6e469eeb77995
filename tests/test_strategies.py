"""Named strategies: registry, recipes, and that each trains a usable model."""

import math

import keras
import numpy as np
import pytest

from keras_imbalance import (
    datasets,
    evaluation,
    layers,
    losses,
    models,
    protocols,
    strategies,
)
from keras_imbalance.export import export_saved_model, load_exported

ISSUE_NAMES = [
    "ce",
    "weighted_ce",
    "focal",
    "cb_focal",
    "ldam_drw",
    "balanced_softmax",
    "logit_adjusted",
    "posthoc_logit_adjustment",
    "balanced_sampling",
    "minority_augmentation",
    "remix_drw",
    "smote",
    "bbn",
    "crt",
    "tau_norm",
]


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits_lt(imbalance_ratio=10, seed=0)


@pytest.fixture(scope="module")
def tiny():
    return strategies.model_factory("small_cnn", width=8, depth=2)


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def dense_model_fn(input_shape, num_classes):
    """A user model_fn without `head=` or `bilateral`."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu", name="features"),
            keras.layers.Dense(num_classes, name="classifier"),
        ]
    )


# --- registry ------------------------------------------------------------------


def test_available_lists_the_fifteen_recipes_in_order():
    assert strategies.available() == ISSUE_NAMES
    assert strategies.DEFAULT_COMPARE == ISSUE_NAMES
    for name in ISSUE_NAMES:
        strategy = strategies.get(name)
        assert strategy.name == name
        assert strategy.description and strategy.reference


def test_get_returns_new_instances_with_parameters():
    a, b = strategies.get("focal"), strategies.get("focal", gamma=0.5)
    assert a is not b and a.gamma == 2.0 and b.gamma == 0.5
    assert strategies.get(b) is b
    with pytest.raises(ValueError, match="Unknown strategy 'nope'. Available"):
        strategies.get("nope")
    with pytest.raises(ValueError, match="gamma"):
        strategies.get("focal", gamma=-1)
    with pytest.raises(TypeError):
        strategies.get("ce", gamma=1.0)


@pytest.mark.slow
def test_register_a_user_strategy(digits, tiny):
    (x, y), _ = digits

    @strategies.register("smoothed_ce")
    class Smoothed(strategies.Strategy):
        description = "label smoothing"

        def loss(self, context):
            return keras.losses.CategoricalCrossentropy(
                from_logits=True, label_smoothing=0.1
            )

        def training_data(self, context):
            return context.balanced_dataset("instance", one_hot=True)

    try:
        assert strategies.available()[-1] == "smoothed_ce"
        model, history = strategies.get("smoothed_ce").fit(
            tiny, x, y, epochs=1, batch_size=64
        )
        assert tuple(model.output.shape) == (None, 10)
        with pytest.raises(ValueError, match="already registered"):
            strategies.register("smoothed_ce", Smoothed)
        strategies.register("smoothed_ce", Smoothed, overwrite=True)
    finally:
        strategies.unregister("smoothed_ce")
    assert "smoothed_ce" not in strategies.available()
    with pytest.raises(TypeError, match="subclass"):
        strategies.register("not_a_strategy", object)
    with pytest.raises(ValueError, match="name"):
        strategies.register("has space", Smoothed)


@pytest.mark.slow
def test_model_factory():
    assert set(strategies.MODELS) >= {"small_cnn", "attention_cnn", "small_resnet"}
    for name in strategies.MODELS:
        factory = strategies.model_factory(name, width=4, depth=2)
        model = factory((8, 8, 1), 3)
        assert tuple(model.output.shape) == (None, 3)
        assert models.find_head(model).name == "classifier"
        cosine = factory((8, 8, 1), 3, head="cosine")
        assert isinstance(models.find_head(cosine), layers.CosineClassifier)
        train_model, inference_model = factory.bilateral((8, 8, 1), 3)
        assert len(train_model.inputs) == 2 and len(inference_model.inputs) == 1
    tabular = strategies.model_factory("attention_cnn", width=4, depth=2)((5,), 3)
    assert tuple(tabular.output.shape) == (None, 3)
    with pytest.raises(ValueError, match="Unknown model 'vgg'. Available models"):
        strategies.model_factory("vgg")


# --- every recipe trains a usable inference model -------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_every_strategy_fits_and_round_trips(name, digits, tiny, tmp_path):
    (x, y), (x_test, y_test) = digits
    counter = EpochCounter()
    model, history = strategies.get(name).fit(
        tiny,
        x,
        y,
        epochs=2,
        batch_size=64,
        validation_data=(x_test, y_test),
        callbacks=[counter],
    )
    assert len(model.inputs) == 1
    assert tuple(model.output.shape) == (None, 10)
    assert len(history.epoch) == counter.epochs == 2
    assert "val_loss" in history.history and "balanced_accuracy" in history.history
    logits = model.predict(x_test, verbose=0)
    assert logits.shape == (len(x_test), 10) and np.all(np.isfinite(logits))
    report = evaluation.evaluate_imbalanced(logits, y=y_test)
    assert 0.0 <= report.balanced_accuracy <= 1.0
    # The inference model saves and loads without custom_objects.
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(x_test, verbose=0), logits, rtol=1e-5, atol=1e-5
    )


@pytest.mark.slow
def test_same_seed_same_model(digits, tiny):
    (x, y), (x_test, _) = digits
    for name in ("ce", "balanced_sampling", "remix_drw"):
        runs = [
            strategies.get(name)
            .fit(tiny, x, y, epochs=1, batch_size=64, seed=3)[0]
            .predict(x_test[:20], verbose=0)
            for _ in range(2)
        ]
        np.testing.assert_array_equal(runs[0], runs[1])


# --- what each recipe does -------------------------------------------------------


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
def test_exported_strategy_models_predict_like_keras(digits, tiny, tmp_path):
    (x, y), (x_test, y_test) = digits
    for name in ("posthoc_logit_adjustment", "bbn"):
        model, _ = strategies.get(name).fit(
            tiny, x, y, epochs=1, batch_size=64, validation_data=(x_test, y_test)
        )
        path = str(tmp_path / name)
        export_saved_model(model, path)
        exported = load_exported(path)(x_test[:16])
        np.testing.assert_allclose(
            exported["logits"], model.predict(x_test[:16], verbose=0), atol=1e-5
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


@pytest.mark.slow
def test_rebalancing_beats_cross_entropy_on_the_tail(digits):
    """The literature's ordering, on long-tailed digits (ratio 10, 15 epochs)."""
    (x, y), (x_test, y_test) = digits
    factory = strategies.model_factory("small_cnn", width=16, depth=2)
    counts = np.bincount(y).tolist()
    scores = {}
    for name in ("ce", "balanced_softmax"):
        model, _ = strategies.get(name).fit(factory, x, y, epochs=15, batch_size=32)
        scores[name] = evaluation.evaluate_imbalanced(
            model, x_test, y_test, class_counts=counts
        )
    assert scores["balanced_softmax"].balanced_accuracy > scores["ce"].balanced_accuracy
    assert scores["balanced_softmax"].few_shot_accuracy > scores["ce"].few_shot_accuracy
    assert math.isfinite(scores["ce"].g_mean)


# --- protocol, precise BatchNorm, tuned tau, heads ------------------------------


def test_catalog_names_are_the_registry():
    from keras_imbalance import _catalog

    assert tuple(strategies.available()[: len(_catalog.STRATEGIES)]) == (
        _catalog.STRATEGIES
    )
    assert strategies.MODELS is _catalog.MODELS


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


def test_descriptions_and_configs_follow_the_parameters():
    focal = strategies.get("focal", gamma=1.0)
    assert focal.get_config() == {"gamma": 1.0}
    assert focal.description == "focal loss, gamma=1 (no class weights)"
    assert focal.describe() == focal.description
