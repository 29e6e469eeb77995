"""Recipes as data: configs, validation at construction, descriptions,
stages, the registry, global random state and re-running a comparison."""

import json
import random

import keras
import numpy as np
import pytest

from keras_imbalance import _catalog, comparison, losses, strategies
from keras_imbalance.callbacks import DeferredReweighting
from keras_imbalance.comparison.runner import _strategy_list

# A value other than the default for every parameter of every built-in.
OTHER_VALUES = {
    "focal": {"gamma": 1.0},
    "cb_focal": {"beta": 0.99, "gamma": 2.0},
    "ldam_drw": {"max_margin": 0.3, "scale": 10.0, "drw_fraction": 0.5},
    "logit_adjusted": {"tau": 0.5},
    "posthoc_logit_adjustment": {"tau": 0.7},
    "minority_augmentation": {
        "rotation": 0.1,
        "zoom": 0.2,
        "flip": "horizontal",
        "power": 0.5,
    },
    "remix_drw": {"alpha": 0.5, "kappa": 2.0, "tau": 0.7, "drw_fraction": 0.6},
    "smote": {"k_neighbors": 3},
    "crt": {"retrain_fraction": 0.2, "head_learning_rate_multiplier": 2.0},
    "tau_norm": {"tau": 0.4},
}

BAD_ARGUMENTS = [
    ("remix_drw", {"kappa": -1}, "kappa"),
    ("remix_drw", {"alpha": 0}, "alpha"),
    ("remix_drw", {"tau": 2}, "tau"),
    ("remix_drw", {"drw_fraction": 1.5}, "drw_fraction"),
    ("minority_augmentation", {"rotation": 2}, "rotation"),
    ("minority_augmentation", {"zoom": 1.0}, "zoom"),
    ("minority_augmentation", {"flip": "diagonal"}, "flip"),
    ("minority_augmentation", {"power": -1}, "power"),
    ("ldam_drw", {"scale": 0}, "scale"),
    ("ldam_drw", {"max_margin": -0.1}, "max_margin"),
    ("cb_focal", {"beta": 1.0}, "beta"),
    ("crt", {"retrain_fraction": 0}, "retrain_fraction"),
    ("crt", {"head_learning_rate_multiplier": 0}, "head_learning_rate_multiplier"),
    ("tau_norm", {"tau": "best"}, "tau"),
    ("smote", {"k_neighbors": 0}, "k_neighbors"),
]


def mlp(input_shape, num_classes, head="dense"):
    inputs = keras.Input(input_shape)
    flat = keras.layers.Flatten()(inputs)
    features = keras.layers.Dense(8, activation="relu", name="features")(flat)
    outputs = keras.layers.Dense(num_classes, name="classifier")(features)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [48, 12, 6])
    x = (rng.normal(size=(len(y), 4)) + y[:, None]).astype("float32")
    return x, y


@pytest.mark.parametrize("name", _catalog.STRATEGIES)
def test_every_recipe_round_trips_as_plain_data(name):
    recipe = strategies.get(name, **OTHER_VALUES.get(name, {}))
    data = json.loads(json.dumps(strategies.serialize(recipe)))
    again = strategies.deserialize(data)
    assert type(again) is type(recipe)
    assert again.get_config() == recipe.get_config()
    assert again.description == recipe.description
    assert type(recipe).from_config(recipe.get_config()).get_config() == (
        recipe.get_config()
    )
    assert strategies.get(data).get_config() == recipe.get_config()


@pytest.mark.parametrize("name", sorted(OTHER_VALUES))
def test_descriptions_show_every_parameter(name):
    default = strategies.get(name).description
    for parameter, value in OTHER_VALUES[name].items():
        changed = strategies.get(name, **{parameter: value})
        assert changed.description != default, (name, parameter)
        assert changed.describe() == changed.description


def test_recipes_without_parameters_have_fixed_descriptions():
    for name in set(_catalog.STRATEGIES) - set(OTHER_VALUES):
        recipe = strategies.get(name)
        assert recipe.get_config() == {}
        assert recipe.description and "{" not in recipe.description


@pytest.mark.parametrize(("name", "kwargs", "match"), BAD_ARGUMENTS)
def test_bad_parameters_fail_at_construction(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        strategies.get(name, **kwargs)


def test_unknown_names_and_bad_serialized_forms():
    with pytest.raises(ValueError, match="Unknown strategy 'nope'"):
        strategies.deserialize({"name": "nope", "config": {}})
    with pytest.raises(ValueError, match="config"):
        strategies.deserialize({"name": "focal", "extra": 1})
    with pytest.raises(TypeError):
        strategies.deserialize({"name": "focal", "config": {"beta": 1}})
    with pytest.raises(ValueError, match="instance"):
        strategies.get(strategies.get("focal"), gamma=1.0)


def test_user_strategies_join_available_and_all():
    @strategies.register("scaled_focal")
    class ScaledFocal(strategies.Strategy):
        summary = "focal with gamma={gamma:g}"

        def __init__(self, gamma=3.0):
            self.gamma = gamma

    try:
        assert strategies.available()[-1] == "scaled_focal"
        assert strategies.available()[: len(_catalog.STRATEGIES)] == list(
            _catalog.STRATEGIES
        )
        names, recipes, automatic = _strategy_list("all")
        assert names[-1] == "scaled_focal" and automatic
        assert not _strategy_list(["ce"])[2] and _strategy_list(None)[2]
        assert strategies.serialize(ScaledFocal(gamma=1.0)) == {
            "name": "scaled_focal",
            "config": {"gamma": 1.0},
        }
        assert "scaled_focal" not in strategies.DEFAULT_COMPARE
    finally:
        strategies.unregister("scaled_focal")

    class Unregistered(strategies.Strategy):
        pass

    with pytest.raises(ValueError, match="not registered"):
        strategies.serialize(Unregistered())


def test_a_recipe_cannot_override_the_runner():
    with pytest.raises(TypeError, match="stages"):

        class Custom(strategies.Strategy):
            def train(self, model_fn, context):
                return None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "old"}, "model"),
        ({"share": 0}, "share"),
        ({"share": 1.5}, "share"),
        ({"loss": "focal"}, "loss"),
        ({"learning_rate_multiplier": -1.0}, "learning_rate_multiplier"),
        ({"restart_schedule": 1}, "restart_schedule"),
    ],
)
def test_stage_checks_its_fields(kwargs, match):
    with pytest.raises(ValueError, match=match):
        strategies.Stage(**kwargs)


def test_stages_must_be_stages(table):
    class Broken(strategies.Strategy):
        def stages(self):
            return ["not a stage"]

    class StartsFromNothing(strategies.Strategy):
        def stages(self):
            return [strategies.Stage(model="previous")]

    x, y = table
    with pytest.raises(TypeError, match="Stage objects"):
        Broken().fit(mlp, x, y, epochs=1, batch_size=16)
    with pytest.raises(ValueError, match="first stage"):
        StartsFromNothing().fit(mlp, x, y, epochs=1, batch_size=16)


def test_a_declared_two_stage_recipe_runs_both_stages(table):
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append([layer.name for layer in self.model.layers if layer.trainable])

    class HeadOnlySecond(strategies.Strategy):
        def stages(self):
            from keras_imbalance import models

            return [
                self.default_stage(share=1.0),
                self.default_stage(
                    model="previous",
                    share=0.5,
                    prepare=lambda model, context: models.retrain_classifier(model),
                    callbacks=lambda context, loss: [Recorder()],
                ),
            ]

    x, y = table
    model, history = HeadOnlySecond().fit(mlp, x, y, epochs=4, batch_size=16)
    assert len(history.epoch) == 4  # 2 + 2
    assert seen == [["classifier"]]


@pytest.mark.slow
def test_fit_leaves_python_and_numpy_global_state_alone(table):
    x, y = table
    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    expected = (random.random(), np.random.random())  # noqa: NPY002
    random.seed(11)
    np.random.seed(11)  # noqa: NPY002
    strategies.get("ce").fit(mlp, x, y, epochs=1, batch_size=16, seed=3)
    assert (random.random(), np.random.random()) == expected  # noqa: NPY002
    # seed=None seeds nothing: two runs differ.
    runs = [
        strategies.get("ce").fit(mlp, x, y, epochs=1, batch_size=16, seed=None)[0]
        for _ in range(2)
    ]
    assert not np.array_equal(
        runs[0].predict(x, verbose=0), runs[1].predict(x, verbose=0)
    )
    with pytest.raises(ValueError, match="seed"):
        strategies.get("ce").fit(mlp, x, y, epochs=1, batch_size=16, seed=2**32)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["remix_drw", "crt"])
def test_a_restored_recipe_gives_the_same_model_for_the_same_seed(name, table):
    x, y = table
    recipe = strategies.get(name, **OTHER_VALUES[name])
    restored = strategies.deserialize(
        json.loads(json.dumps(strategies.serialize(recipe)))
    )
    first, _ = recipe.fit(mlp, x, y, epochs=3, batch_size=16, seed=5)
    second, _ = restored.fit(mlp, x, y, epochs=3, batch_size=16, seed=5)
    np.testing.assert_array_equal(
        first.predict(x, verbose=0), second.predict(x, verbose=0)
    )


def test_deferred_reweighting_reads_the_loss_protocol():
    class MarginLoss(losses.LDAMLoss):
        pass

    counts = [50, 10, 2]
    drw = DeferredReweighting(MarginLoss(counts), class_counts=counts, start_epoch=1)
    assert drw.attribute == "class_weight"
    assert DeferredReweighting(
        losses.FocalLoss(), class_counts=counts, start_epoch=1
    ).attribute == ("alpha")

    class OwnWeights(keras.losses.Loss):
        class_weight_attribute = "weights"

        def __init__(self):
            super().__init__()
            self.weights = None

        def call(self, y_true, y_pred):
            return keras.ops.mean(y_pred, axis=-1)

    own = OwnWeights()
    drw = DeferredReweighting(own, class_counts=counts, start_epoch=0)
    assert drw.weights_at(0) == drw.deferred_weights
    with pytest.raises(TypeError, match="class_weight_attribute"):
        DeferredReweighting(
            keras.losses.CategoricalCrossentropy(), class_counts=counts, start_epoch=1
        )


@pytest.mark.slow
def test_a_comparison_reruns_from_its_json(tmp_path):
    model = comparison.model_factory("small_cnn", width=4, depth=1)
    first = comparison.compare(
        [strategies.get("focal", gamma=1.0), "crt"],
        "digits-lt",
        epochs=2,
        seeds=(1,),
        model=model,
    )
    setup = first.setup
    assert setup["strategies"] == {
        "focal": {"name": "focal", "config": {"gamma": 1.0}},
        "crt": {
            "name": "crt",
            "config": {
                "retrain_fraction": 0.1,
                "head_learning_rate_multiplier": None,
            },
        },
    }
    assert setup["call"]["model"] == {"model_factory": model.get_config()}
    path = tmp_path / "results.json"
    first.to_json(path)
    again = comparison.rerun(path)
    for name in ("focal", "crt"):
        assert again.values(name) == first.values(name)
        assert again.values(name, split="validation") == first.values(
            name, split="validation"
        )
    subset = comparison.rerun(path, strategies=["ce"], epochs=1)
    assert subset.strategies == ["ce"] and subset.setup["epochs"] == 1


@pytest.mark.slow
def test_rerun_asks_for_what_results_do_not_hold(table):
    x, y = table
    images = np.repeat(x[:, :, None, None], 4, axis=2)[:, :4, :4, :]
    arrays = ((images, y), (images, y))
    result = comparison.compare(["ce"], arrays, epochs=1, model=mlp)
    with pytest.raises(ValueError, match="arrays"):
        comparison.rerun(result)
    with pytest.raises(ValueError, match="model_fn"):
        comparison.rerun(result, data=arrays)
    again = comparison.rerun(result, data=arrays, model=mlp)
    assert again.values("ce") == result.values("ce")
    old = result.to_dict()
    del old["setup"]["call"]
    with pytest.raises(ValueError, match="do not record"):
        comparison.rerun(json.dumps(old))
