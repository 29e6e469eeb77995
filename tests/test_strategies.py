"""Named strategies: registry, recipes, and that each trains a usable model.

What each recipe does is tested in `test_strategy_methods.py`, the arguments of
`fit` in `test_strategy_fit.py`.
"""

import math

import keras
import numpy as np
import pytest

from keras_imbalance import evaluation, layers, models, strategies
from keras_imbalance.export import export_saved_model, load_exported
from tests import strategies_fixtures
from tests.strategies_fixtures import EpochCounter

# The shared fixtures, module-scoped: one instance per test module.
digits = strategies_fixtures.digits
tiny = strategies_fixtures.tiny

BATCH = 128  # the batch of the quick fits below

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
    from keras_imbalance import _catalog

    for name in strategies.MODELS:
        factory = strategies.model_factory(name, width=4, depth=2)
        shape = (5,) if name in _catalog.TABLE_MODELS else (8, 8, 1)
        model = factory(shape, 3)
        assert tuple(model.output.shape) == (None, 3)
        assert models.find_head(model).name == "classifier"
        cosine = factory(shape, 3, head="cosine")
        assert isinstance(models.find_head(cosine), layers.CosineClassifier)
        train_model, inference_model = factory.bilateral(shape, 3)
        assert len(train_model.inputs) == 2 and len(inference_model.inputs) == 1
    tabular = strategies.model_factory("attention_cnn", width=4, depth=2)((5,), 3)
    assert tuple(tabular.output.shape) == (None, 3)
    with pytest.raises(ValueError, match="Unknown model 'vgg'. Available models"):
        strategies.model_factory("vgg")


def test_catalog_names_are_the_registry():
    from keras_imbalance import _catalog

    assert tuple(strategies.available()[: len(_catalog.STRATEGIES)]) == (
        _catalog.STRATEGIES
    )
    assert strategies.MODELS is _catalog.MODELS


def test_descriptions_and_configs_follow_the_parameters():
    focal = strategies.get("focal", gamma=1.0)
    assert focal.get_config() == {"gamma": 1.0}
    assert focal.description == "focal loss, gamma=1 (no class weights)"
    assert focal.describe() == focal.description


# --- every recipe trains a usable inference model -------------------------------


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_every_strategy_fits_and_round_trips(name, digits, tiny, tmp_path):
    # Quick (one batch size for every step, so JAX compiles each step once),
    # and in the backend gate: every recipe trains on each Keras backend.
    (x, y), (x_test, y_test) = digits
    x_test, y_test = x_test[:BATCH], y_test[:BATCH]
    counter = EpochCounter()
    model, history = strategies.get(name).fit(
        tiny,
        x,
        y,
        epochs=2,
        batch_size=BATCH,
        validation_data=(x_test, y_test),
        callbacks=[counter],
    )
    assert len(model.inputs) == 1
    assert tuple(model.output.shape) == (None, 10)
    assert len(history.epoch) == counter.epochs == 2
    assert "val_loss" in history.history and "balanced_accuracy" in history.history
    assert all(np.isfinite(history.history["loss"]))
    logits = model.predict(x_test, batch_size=BATCH, verbose=0)
    assert logits.shape == (len(x_test), 10) and np.all(np.isfinite(logits))
    report = evaluation.evaluate_imbalanced(logits, y=y_test)
    assert 0.0 <= report.balanced_accuracy <= 1.0
    # The inference model saves and loads without custom_objects.
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(x_test, batch_size=BATCH, verbose=0),
        logits,
        rtol=1e-5,
        atol=1e-5,
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
