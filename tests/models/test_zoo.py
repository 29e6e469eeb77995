"""The model zoo, the attention and head registries, and the shared checks."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import _catalog, callbacks, layers, models
from keras_imbalance.models import zoo

C = 3
RNG = np.random.default_rng(0)


class Gate(keras.layers.Layer):
    """A user attention layer: `x * sigmoid(x)`, same shape."""

    def call(self, inputs):
        return inputs * ops.sigmoid(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def bias_free_head(num_classes, **kwargs):
    return keras.layers.Dense(num_classes, use_bias=False, **kwargs)


@pytest.fixture(scope="module")
def registered():
    """`"gate"` attention and `"bias_free"` head, unregistered afterwards."""
    layers.register_attention("gate", Gate)
    layers.register_head("bias_free", bias_free_head)
    yield "gate", "bias_free"
    del layers.ATTENTION_LAYERS["gate"]
    del layers.HEAD_LAYERS["bias_free"]


def all_layers(model):
    """Every layer of `model`, nested models included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(all_layers(layer))
    return found


def images(shape, n=2):
    return RNG.uniform(0, 1, size=(n, *shape)).astype("float32")


# name -> builder(attention, head) -> (model, input shape)
BUILDERS = {
    "attention_image": lambda a, h: (
        models.build_attention_classifier(
            (8, 8, 3), C, attention=a, head=h, width=4, depth=2
        ),
        (8, 8, 3),
    ),
    "attention_sequence": lambda a, h: (
        models.build_attention_classifier(
            (10, 2), C, attention=a, head=h, width=4, depth=1
        ),
        (10, 2),
    ),
    "multi_branch": lambda a, h: (
        models.build_multi_branch_classifier(
            (8, 8, 1),
            C,
            branches=[{"depth": 1}, {"depth": 1, "attention": a}],
            head=h,
            width=4,
            embedding=4,
        ),
        (8, 8, 1),
    ),
    "experts": lambda a, h: (
        models.build_expert_ensemble(
            (8, 8, 3), C, num_experts=2, attention=a, head=h, width=4, depth=2
        ),
        (8, 8, 3),
    ),
    "bbn": lambda a, h: (
        models.build_bilateral_branch_network(
            (8, 8, 3), C, attention=a, head=h, width=4, depth=2
        )[1],
        (8, 8, 3),
    ),
    "transfer": lambda a, h: (
        models.build_transfer_classifier(
            C, backbone="MobileNetV3Small", input_shape=(32, 32, 3), attention=a, head=h
        ),
        (32, 32, 3),
    ),
}


class TestRegistries:
    @pytest.mark.parametrize("name", sorted(BUILDERS))
    def test_every_builder_takes_registered_names(self, registered, name):
        attention, head = registered
        model, shape = BUILDERS[name](attention, head)
        assert any(isinstance(layer, Gate) for layer in all_layers(model))
        classifiers = [
            layer for layer in all_layers(model) if layer.name.endswith("classifier")
        ]
        assert classifiers and all(not layer.use_bias for layer in classifiers)
        # An eager call: a traced predict costs seconds for the transfer backbone.
        assert model(images(shape), training=False).shape == (2, C)

    def test_registered_names_in_the_errors(self, registered):
        with pytest.raises(ValueError, match=r"`attention`.*'gate'.*None\]"):
            models.build_attention_classifier((8, 8, 3), C, attention="nope")
        with pytest.raises(ValueError, match=r"`head`.*'bias_free'"):
            models.build_expert_ensemble((8, 8, 3), C, head="nope")

    def test_lookups(self, registered):
        assert type(layers.get_attention("GATE", name="g")) is Gate
        head = layers.get_head("Bias_Free", C, name="classifier")
        assert (head.units, head.use_bias, head.name) == (C, False, "classifier")
        assert type(layers.get_head("dense", C)) is keras.layers.Dense
        assert type(layers.get_head("cosine", C)) is layers.CosineClassifier

    def test_unknown_names(self):
        with pytest.raises(ValueError, match=r"'cosine', 'dense'\].*register_head"):
            layers.get_head("mlp", C)
        with pytest.raises(ValueError, match="register_attention"):
            layers.get_attention("nonlocal")
        with pytest.raises(ValueError, match=r"`attention`.*register_attention"):
            models.build_transfer_classifier(C, input_shape=(32, 32, 3), attention="x")

    def test_taken_names_and_overwrite(self):
        with pytest.raises(ValueError, match="'se' is already registered"):
            layers.register_attention("SE", Gate)
        with pytest.raises(ValueError, match="'dense' is already registered"):
            layers.register_head("dense", bias_free_head)
        try:
            layers.register_attention("se", Gate, overwrite=True)
            assert type(layers.get_attention("se")) is Gate
        finally:
            layers.register_attention("se", layers.SqueezeExcitation, overwrite=True)
        assert type(layers.get_attention("se")) is layers.SqueezeExcitation

    @pytest.mark.parametrize(
        "call, error, match",
        [
            (lambda: layers.register_attention("x", Gate()), TypeError, "layer_class"),
            (lambda: layers.register_attention("x", int), TypeError, "layer_class"),
            (lambda: layers.register_attention("", Gate), ValueError, "`name`"),
            (lambda: layers.register_attention(3, Gate), ValueError, "`name`"),
            (
                lambda: layers.register_attention("x", Gate, overwrite="yes"),
                ValueError,
                "`overwrite`",
            ),
            (lambda: layers.register_head("x", "dense"), TypeError, "`factory`"),
            (lambda: layers.register_head(None, bias_free_head), ValueError, "`name`"),
        ],
    )
    def test_bad_registrations(self, call, error, match):
        with pytest.raises(error, match=match):
            call()
        assert "x" not in layers.ATTENTION_LAYERS and "x" not in layers.HEAD_LAYERS

    def test_factory_must_return_a_layer(self):
        layers.register_head("broken", lambda num_classes, **kwargs: None)
        try:
            with pytest.raises(TypeError, match="'broken' returned NoneType"):
                layers.get_head("broken", C)
        finally:
            del layers.HEAD_LAYERS["broken"]


BAD_SIZES = [None, 0, -1, 2.5, True, "4"]
SIZED = {
    "attention": lambda **kw: models.build_attention_classifier((8, 8, 3), C, **kw),
    "bbn": lambda **kw: models.build_bilateral_branch_network((8, 8, 3), C, **kw),
    "experts": lambda **kw: models.build_expert_ensemble((8, 8, 3), C, **kw),
    "multi_branch": lambda **kw: models.build_multi_branch_classifier(
        (8, 8, 3), C, **kw
    ),
    "factory": lambda **kw: models.ModelFactory("small_cnn", **kw),
}


class TestSizeChecks:
    @pytest.mark.parametrize("value", BAD_SIZES)
    @pytest.mark.parametrize("builder", sorted(SIZED))
    def test_width(self, builder, value):
        match = rf"`width`. Expected a positive integer. Received: width={value!r}"
        with pytest.raises(ValueError, match=match):
            SIZED[builder](width=value)

    @pytest.mark.parametrize("value", BAD_SIZES)
    @pytest.mark.parametrize("builder", ["attention", "bbn", "experts", "factory"])
    def test_depth(self, builder, value):
        words = "an integer >= 2" if builder == "bbn" else "a positive integer"
        with pytest.raises(ValueError, match=f"`depth`. Expected {words}"):
            SIZED[builder](depth=value)

    @pytest.mark.parametrize("value", [-0.1, 1.0, None, "0.5"])
    @pytest.mark.parametrize("builder", sorted(SIZED))
    def test_dropout(self, builder, value):
        with pytest.raises(
            ValueError, match=r"`dropout`. Expected a float in \[0, 1\)"
        ):
            SIZED[builder](dropout=value)

    def test_numpy_integers_are_sizes(self):
        model = models.build_attention_classifier(
            (8, 8, 3), C, width=np.int64(4), depth=np.int32(1)
        )
        assert model.output.shape == (None, C)


class TestModelFactory:
    def test_names_come_from_the_catalog(self):
        assert models.MODELS is _catalog.MODELS
        assert zoo.MODELS is _catalog.MODELS

    @pytest.mark.parametrize("name", list(_catalog.MODELS))
    def test_every_name_builds(self, name):
        shape = (6,) if name in _catalog.TABLE_MODELS else (8, 8, 1)
        model = models.model_factory(name, width=4, depth=1)(shape, C)
        assert model.name == name
        assert models.find_head(model).name == "classifier"
        assert model.output.shape == (None, C)

    def test_table_models(self):
        plain = models.model_factory("mlp", width=4, depth=2)
        attention = models.model_factory("attention_mlp", width=4, depth=2)
        assert attention.attention == "feature" and plain.attention is None
        for factory, first in ((plain, "Dense"), (attention, "FeatureAttention")):
            model = factory((6,), C, head="cosine")
            assert type(model.layers[1]).__name__ == first
            assert isinstance(models.find_head(model), layers.CosineClassifier)
            train_model, inference_model = factory.bilateral((6,), C)
            assert inference_model.name == f"{factory.name}_bbn"
            assert tuple(inference_model.output.shape) == (None, C)
            for build in (factory, factory.bilateral):
                with pytest.raises(ValueError, match="is for tables: inputs of shape"):
                    build((8, 8, 1), C)

    def test_config_round_trip(self):
        factory = models.ModelFactory(
            "attention_resnet", width=4, depth=2, dropout=0.25
        )
        config = factory.get_config()
        assert config == {
            "name": "attention_resnet",
            "width": 4,
            "depth": 2,
            "dropout": 0.25,
        }
        again = models.ModelFactory.from_config(config)
        assert again.get_config() == config
        assert repr(again) == (
            "ModelFactory('attention_resnet', width=4, depth=2, dropout=0.25)"
        )
        assert (again.backbone, again.attention) == ("small_resnet", "se")

    def test_defaults(self):
        assert models.model_factory().get_config() == {
            "name": "small_cnn",
            "width": 32,
            "depth": 3,
            "dropout": 0.0,
        }

    @pytest.mark.parametrize("name", ["vgg", None, 3])
    def test_unknown_name(self, name):
        with pytest.raises(ValueError, match="Available models: small_cnn, "):
            models.model_factory(name)

    def test_unknown_keyword(self):
        with pytest.raises(TypeError, match="heads"):
            models.model_factory("small_cnn", heads=2)

    def test_head_and_bilateral(self):
        factory = models.model_factory("eca_cnn", width=4, depth=2)
        cosine = factory((8, 8, 1), C, head="cosine")
        assert isinstance(models.find_head(cosine), layers.CosineClassifier)
        train_model, inference_model = factory.bilateral((8, 8, 1), C)
        assert inference_model.name == "eca_cnn_bbn"
        assert models.find_head(train_model) is models.find_head(inference_model)

    def test_accepts_head(self):
        assert models.accepts_head(models.model_factory())
        assert models.accepts_head(models.build_attention_classifier)
        assert models.accepts_head(lambda input_shape, num_classes, **kwargs: None)
        assert not models.accepts_head(lambda input_shape, num_classes: None)
        assert not models.accepts_head(object())


def plain_model(input_shape, num_classes):
    """A plain functional model: Dense features, a Dense "classifier"."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Dense(6, activation="relu", name="features")(inputs)
    outputs = keras.layers.Dense(num_classes, name="classifier")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def generic():
    keras.utils.set_random_seed(0)
    return models.build_generic_bilateral(plain_model, (5,), C)


class TestGenericBilateral:
    def test_shapes_and_shared_weights(self, generic):
        train_model, inference_model = generic
        assert isinstance(train_model, models.BilateralBranchTrainer)
        assert [tuple(t.shape) for t in train_model.inputs] == [(None, 5)] * 2
        assert tuple(inference_model.output.shape) == (None, C)
        assert {id(v) for v in train_model.trainable_variables} == {
            id(v) for v in inference_model.trainable_variables
        }
        head = models.find_head(inference_model)
        assert head is models.find_head(train_model)
        assert head.kernel.shape == (12, C)  # both branches' features

    def test_same_logits_at_alpha_half(self, generic):
        train_model, inference_model = generic
        train_model.get_layer("bilateral_mixing").alpha.assign(0.5)
        x = RNG.normal(size=(4, 5)).astype("float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(train_model([x, x])),
            ops.convert_to_numpy(inference_model(x)),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_one_step(self, generic):
        train_model, _ = generic
        x = RNG.normal(size=(8, 5)).astype("float32")
        y = np.arange(8) % C
        train_model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        history = train_model.fit(
            (x, x),
            (y, y),
            batch_size=8,
            epochs=1,
            verbose=0,
            callbacks=[callbacks.CumulativeLearning(1)],
        )
        assert np.isfinite(history.history["loss"][0])

    def test_cosine_head_and_head_name(self):
        def renamed(input_shape, num_classes):
            inputs = keras.Input(input_shape)
            x = keras.layers.Dense(4, name="features")(inputs)
            return keras.Model(inputs, keras.layers.Dense(num_classes, name="out")(x))

        _, inference_model = models.build_generic_bilateral(
            renamed, (5,), C, head="cosine", head_name="out"
        )
        assert isinstance(models.find_head(inference_model), layers.CosineClassifier)
        with pytest.raises(ValueError, match="has no layer named 'classifier'"):
            models.build_generic_bilateral(renamed, (5,), C)

    def test_errors(self):
        with pytest.raises(TypeError, match="`model_fn`"):
            models.build_generic_bilateral("small_cnn", (5,), C)
        with pytest.raises(TypeError, match="must return a keras.Model"):
            models.build_generic_bilateral(lambda s, c: None, (5,), C)

        def unpooled(input_shape, num_classes):
            inputs = keras.Input(input_shape)
            outputs = keras.layers.Dense(num_classes, name="classifier")(inputs)
            return keras.Model(inputs, outputs)

        with pytest.raises(ValueError, match=r"pooled features \(batch, units\)"):
            models.build_generic_bilateral(unpooled, (4, 5), C)
        with pytest.raises(ValueError, match="`head`"):
            models.build_generic_bilateral(plain_model, (5,), C, head="mlp")
