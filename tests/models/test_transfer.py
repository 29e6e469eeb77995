"""build_transfer_classifier and unfreeze_backbone.

Big backbones are built once per module (fixtures) and trained one step
eagerly: for a single step, tracing a training graph costs far more than the
step itself. For the same reason outputs come from eager calls, not from
`predict` (one traced graph per model). Weights files, `.keras` files and
SavedModel exports are tested in `test_transfer_saving.py`.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance.models import transfer
from keras_imbalance.models.backbones import ReverseChannels
from keras_imbalance.models.transfer import (
    BACKBONES,
    build_transfer_classifier,
    unfreeze_backbone,
)
from tests.models.transfer_fixtures import C, images, logits_loss, outputs_of

REQUIRED = [
    "MobileNetV2",
    "MobileNetV3Small",
    "MobileNetV3Large",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetV2B0",
    "ResNet50",
    "ResNet50V2",
    "DenseNet121",
    "ConvNeXtTiny",
    "Xception",
    "InceptionV3",
]
SHAPES = [(32, 32, 3), (28, 28, 1)]


@pytest.fixture(scope="module")
def classifier():
    """(backbone, shape) -> `build_transfer_classifier(C, backbone=backbone,
    input_shape=shape, trainable_backbone=True)`, built once per module."""
    cache = {}

    def get(backbone, shape):
        if (backbone, shape) not in cache:
            keras.utils.set_random_seed(1)
            cache[backbone, shape] = build_transfer_classifier(
                C, backbone=backbone, input_shape=shape, trainable_backbone=True
            )
        return cache[backbone, shape]

    return get


@pytest.fixture(scope="module")
def trained(classifier):
    """(backbone, shape) -> (model, backbone weights before, loss): the
    `classifier` model after one eager fit step, trained once per module."""
    cache = {}

    def get(backbone, shape):
        if (backbone, shape) not in cache:
            model = classifier(backbone, shape)
            before = [
                ops.convert_to_numpy(w)
                for w in model.get_layer("backbone").trainable_weights
            ]
            # SGD: no slot variables to create, the step costs half Adam's.
            model.compile(
                optimizer=keras.optimizers.SGD(0.01),
                loss=logits_loss(),
                run_eagerly=True,
            )
            history = model.fit(
                images(shape), np.array([0, 1, 2, 0]), batch_size=4, verbose=0
            )
            cache[backbone, shape] = (model, before, history.history["loss"][0])
        return cache[backbone, shape]

    return get


# Built and run, each at both input layouts (RGB at the minimum size;
# gray-scale, repeated to RGB and resized up to it): the default backbone,
# EfficientNet (both preprocess inside the backbone) and ResNet50 (caffe
# preprocessing layers before it). TestPreprocessing checks the preprocessing
# layers of every backbone.
BUILT = ["MobileNetV3Small", "EfficientNetB0", "ResNet50"]
# Trained one step, backbone included: the default backbone at the layout
# that adapts the input, and one large Keras Application (ResNet50, 23M
# parameters). Training through the other built cases adds nothing: the
# backbone is a plain keras.applications model either way.
TRAINED = [("MobileNetV3Small", (28, 28, 1)), ("ResNet50", (32, 32, 3))]


class TestBuild:
    @pytest.mark.parametrize("shape", SHAPES, ids=["32x32x3", "28x28x1"])
    @pytest.mark.parametrize("backbone", BUILT)
    def test_builds_with_the_output_shape(self, classifier, backbone, shape):
        model = classifier(backbone, shape)
        assert model.get_layer("backbone").input.shape[1:] == (32, 32, 3)
        assert model.output.shape == (None, C)
        outputs = outputs_of(model, images(shape, batch=5, seed=1))
        assert outputs.shape == (5, C)
        assert np.all(np.isfinite(outputs))

    @pytest.mark.parametrize(
        "backbone, shape",
        TRAINED,
        ids=[f"{b}-{s[0]}x{s[1]}x{s[2]}" for b, s in TRAINED],
    )
    def test_one_fit_step(self, trained, backbone, shape):
        model, before, loss = trained(backbone, shape)
        assert np.isfinite(loss)
        outputs = outputs_of(model, images(shape, batch=5, seed=1))
        assert outputs.shape == (5, C)
        assert np.all(np.isfinite(outputs))
        after = model.get_layer("backbone").trainable_weights
        assert any(
            not np.allclose(b, ops.convert_to_numpy(a)) for b, a in zip(before, after)
        )

    @pytest.mark.parametrize("shape", SHAPES, ids=["32x32x3", "28x28x1"])
    def test_layout(self, shape):
        model = build_transfer_classifier(C, input_shape=shape)
        names = [layer.name for layer in model.layers]
        assert ("channel_repeat" in names) == (shape[-1] == 1)
        assert ("resize" in names) == (shape[0] < 32)
        assert model.get_layer("backbone").input.shape[1:] == (32, 32, 3)
        assert isinstance(model.get_layer("classifier"), keras.layers.Dense)
        assert model.get_layer("classifier").activation is keras.activations.linear
        assert model.output.shape == (None, C)

    def test_backbone_frozen_by_default(self):
        model = build_transfer_classifier(C, input_shape=(32, 32, 3))
        assert model.get_layer("backbone").trainable is False
        assert [w.path for w in model.trainable_weights] == [
            "classifier/kernel",
            "classifier/bias",
        ]
        model.compile(optimizer="adam", loss=logits_loss(), run_eagerly=True)
        backbone_before = model.get_layer("backbone").get_weights()
        model.fit(images((32, 32, 3)), np.array([0, 1, 2, 0]), verbose=0)
        for b, a in zip(backbone_before, model.get_layer("backbone").get_weights()):
            np.testing.assert_array_equal(b, a)

    def test_trainable_backbone(self, classifier):
        # build_transfer_classifier(C, input_shape=(32, 32, 3),
        # trainable_backbone=True), the default backbone.
        model = classifier("MobileNetV3Small", (32, 32, 3))
        assert model.get_layer("backbone").trainable is True
        assert len(model.trainable_weights) > 2

    def test_resize_to_the_backbone_minimum(self, monkeypatch):
        # Xception needs 71x71: check the wiring with a small stand-in.
        seen = {}

        def constructor(**kwargs):
            seen.update(kwargs)
            return keras.applications.MobileNetV3Small(**kwargs)

        spec = BACKBONES["Xception"]._replace(constructor=constructor)
        monkeypatch.setitem(BACKBONES, "Xception", spec)
        model = build_transfer_classifier(
            C, backbone="Xception", input_shape=(32, 40, 1)
        )
        assert seen["input_shape"] == (71, 71, 3)
        assert model.get_layer("resize").get_config()["height"] == 71
        assert outputs_of(model, images((32, 40, 1))).shape == (4, C)

    def test_imagenet_is_forwarded(self, monkeypatch):
        seen = {}

        def constructor(**kwargs):
            seen.update(kwargs)
            return keras.applications.MobileNetV3Small(**{**kwargs, "weights": None})

        spec = BACKBONES["MobileNetV3Small"]._replace(constructor=constructor)
        monkeypatch.setitem(BACKBONES, "MobileNetV3Small", spec)
        build_transfer_classifier(C, input_shape=(32, 32, 3), weights="imagenet")
        assert seen["weights"] == "imagenet"
        assert seen["include_top"] is False
        assert seen["name"] == "backbone"

    @pytest.mark.parametrize(
        "failure",
        [
            Exception("URL fetch failure on https://x/w.h5: None -- no network"),
            OSError("[Errno -3] Temporary failure in name resolution"),
        ],
    )
    def test_an_imagenet_download_failure_says_what_to_do(self, monkeypatch, failure):
        def constructor(**kwargs):
            raise failure

        spec = BACKBONES["MobileNetV3Small"]._replace(constructor=constructor)
        monkeypatch.setitem(BACKBONES, "MobileNetV3Small", spec)
        with pytest.raises(
            OSError,
            match=r"Could not download the ImageNet weights of MobileNetV3Small: "
            r".*Without internet access, pass `weights=None`",
        ) as raised:
            build_transfer_classifier(C, input_shape=(32, 32, 3), weights="imagenet")
        assert raised.value.__cause__ is failure

    def test_other_backbone_errors_pass_through(self, monkeypatch):
        def constructor(**kwargs):
            raise ValueError("not a download")

        spec = BACKBONES["MobileNetV3Small"]._replace(constructor=constructor)
        monkeypatch.setitem(BACKBONES, "MobileNetV3Small", spec)
        with pytest.raises(ValueError, match="not a download"):
            build_transfer_classifier(C, input_shape=(32, 32, 3), weights="imagenet")

    @pytest.mark.parametrize("head", ["dense", "cosine"])
    @pytest.mark.parametrize("attention", ["se", "cbam", "eca"])
    def test_heads_and_attention(self, head, attention):
        from keras_imbalance.layers import CosineClassifier

        model = build_transfer_classifier(
            C, input_shape=(32, 32, 3), head=head, attention=attention, pooling="max"
        )
        classifier = model.get_layer("classifier")
        assert isinstance(classifier, CosineClassifier) == (head == "cosine")
        assert model.get_layer("attention") is not None
        assert isinstance(model.get_layer("pool"), keras.layers.GlobalMaxPooling2D)
        outputs = outputs_of(model, images((32, 32, 3)))
        assert outputs.shape == (4, C)
        if head == "cosine":
            assert np.all(np.abs(outputs) <= 16.0 + 1e-4)

    def test_no_dropout(self):
        model = build_transfer_classifier(C, input_shape=(32, 32, 3), dropout=0.0)
        assert "dropout" not in [layer.name for layer in model.layers]


class TestPreprocessing:
    def test_registry(self):
        assert set(REQUIRED) <= set(BACKBONES)
        for name, spec in BACKBONES.items():
            assert callable(spec.constructor), name
            assert spec.preprocessing in {"tf", "torch", "caffe", "included"}, name
        assert BACKBONES["Xception"].min_size == 71
        assert BACKBONES["InceptionV3"].min_size == 75
        assert BACKBONES["ResNet50"].min_size == 32

    @pytest.mark.parametrize(
        "name", [n for n in BACKBONES if BACKBONES[n].preprocessing != "included"]
    )
    def test_layers_equal_preprocess_input(self, name):
        spec = BACKBONES[name]
        x = images((8, 8, 3))
        expected = spec.preprocess_input(x.copy())
        y = x
        for layer in transfer.preprocessing_layers(spec.preprocessing):
            y = layer(y)
        np.testing.assert_allclose(
            ops.convert_to_numpy(y), expected, rtol=1e-6, atol=1e-5
        )

    @pytest.mark.parametrize(
        "name", [n for n in BACKBONES if BACKBONES[n].preprocessing == "included"]
    )
    def test_included_preprocessing_is_identity_outside(self, name):
        x = images((8, 8, 3))
        np.testing.assert_array_equal(
            ops.convert_to_numpy(BACKBONES[name].preprocess_input(x.copy())), x
        )
        assert transfer.preprocessing_layers("included") == []

    def test_resnet50_model_applies_preprocess_input(self, classifier):
        model = classifier("ResNet50", (32, 32, 3))
        x = images((32, 32, 3))
        inside = keras.Model(model.input, model.get_layer("preprocessing").output)
        np.testing.assert_allclose(
            ops.convert_to_numpy(inside(x)),
            keras.applications.resnet50.preprocess_input(x.copy()),
            rtol=1e-6,
            atol=1e-5,
        )

    def test_raw_pixels_in_with_included_preprocessing(self, classifier):
        # MobileNetV3 rescales inside the backbone: nothing is added before it.
        model = classifier("MobileNetV3Small", (32, 32, 3))
        names = [layer.name for layer in model.layers]
        assert "preprocessing" not in names
        backbone = model.get_layer("backbone")
        assert any(isinstance(lay, keras.layers.Rescaling) for lay in backbone.layers)

    def test_reverse_channels(self):
        layer = ReverseChannels()
        x = images((4, 4, 3))
        np.testing.assert_array_equal(ops.convert_to_numpy(layer(x)), x[..., ::-1])
        assert layer.compute_output_shape((None, 4, 4, 3)) == (None, 4, 4, 3)
        restored = ReverseChannels.from_config(layer.get_config())
        np.testing.assert_array_equal(ops.convert_to_numpy(restored(x)), x[..., ::-1])


class TestUnfreeze:
    @pytest.fixture
    def model(self):
        """A fresh frozen classifier, for the tests that unfreeze it."""
        return build_transfer_classifier(C, input_shape=(32, 32, 3))

    @pytest.fixture(scope="class")
    def untouched(self):
        """A frozen classifier only shown to failing calls, built once."""
        return build_transfer_classifier(C, input_shape=(32, 32, 3))

    @staticmethod
    def expected_flags(backbone, count, keep_batchnorm_frozen=True):
        layers = backbone.layers[1:]
        flags = []
        for index, layer in enumerate(layers):
            on = index >= len(layers) - count
            if keep_batchnorm_frozen and isinstance(
                layer, keras.layers.BatchNormalization
            ):
                on = False
            flags.append(on)
        return flags

    def test_layers(self, model):
        backbone = model.get_layer("backbone")
        result = unfreeze_backbone(model, layers=20)
        assert result is model
        assert backbone.trainable
        flags = [layer.trainable for layer in backbone.layers[1:]]
        assert flags == self.expected_flags(backbone, 20)
        assert sum(flags) > 0
        batchnorms = [
            lay
            for lay in backbone.layers
            if isinstance(lay, keras.layers.BatchNormalization)
        ]
        assert not any(lay.trainable for lay in batchnorms)
        trainable = {id(w) for w in model.trainable_weights}
        assert not any(id(w) in trainable for b in batchnorms for w in b.weights)
        assert model.get_layer("classifier").trainable

    def test_fraction(self, model):
        backbone = model.get_layer("backbone")
        total = len(backbone.layers) - 1
        unfreeze_backbone(model, fraction=0.25)
        count = int(np.ceil(0.25 * total))
        assert [lay.trainable for lay in backbone.layers[1:]] == self.expected_flags(
            backbone, count
        )

    def test_batchnorm_unfrozen_on_request(self, model):
        backbone = model.get_layer("backbone")
        unfreeze_backbone(model, layers=20, keep_batchnorm_frozen=False)
        flags = [layer.trainable for layer in backbone.layers[1:]]
        assert flags == self.expected_flags(backbone, 20, keep_batchnorm_frozen=False)
        assert any(
            isinstance(lay, keras.layers.BatchNormalization) and lay.trainable
            for lay in backbone.layers
        )

    def test_all(self, model, classifier):
        backbone = model.get_layer("backbone")
        frozen_count = len(model.trainable_weights)
        unfreeze_backbone(model, fraction=1.0, keep_batchnorm_frozen=False)
        assert all(layer.trainable for layer in backbone.layers)
        # The same build with trainable_backbone=True.
        trainable = classifier("MobileNetV3Small", (32, 32, 3))
        assert frozen_count < len(model.trainable_weights)
        assert len(model.trainable_weights) == len(trainable.trainable_weights)

    def test_trains_only_the_unfrozen_layers(self, model):
        backbone = model.get_layer("backbone")
        unfreeze_backbone(model, layers=5, keep_batchnorm_frozen=False)
        model.compile(optimizer="adam", loss=logits_loss(), run_eagerly=True)
        before = {lay.name: lay.get_weights() for lay in backbone.layers[1:]}
        model.fit(images((32, 32, 3)), np.array([0, 1, 2, 0]), verbose=0)
        changed = {
            layer.name
            for layer in backbone.layers[1:]
            if not all(
                np.array_equal(b, a)
                for b, a in zip(before[layer.name], layer.get_weights())
            )
        }
        top = {layer.name for layer in backbone.layers[-5:]}
        assert changed and changed <= top

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({}, "exactly one of `layers` and `fraction`"),
            ({"layers": 3, "fraction": 0.5}, "exactly one of `layers` and `fraction`"),
            ({"layers": 0}, r"`layers`. Expected an integer in \[1, "),
            ({"layers": 10_000}, r"the backbone has \d+ layers"),
            ({"layers": 2.5}, "Invalid value for argument `layers`"),
            ({"fraction": 0.0}, r"`fraction`. Expected a float in \(0, 1\]"),
            ({"fraction": 1.5}, r"`fraction`. Expected a float in \(0, 1\]"),
            ({"fraction": 0.5, "keep_batchnorm_frozen": "yes"}, "a boolean"),
        ],
    )
    def test_errors(self, untouched, kwargs, match):
        backbone = untouched.get_layer("backbone")
        with pytest.raises(ValueError, match=match):
            unfreeze_backbone(untouched, **kwargs)
        # Checked before any change: the model stays frozen.
        assert not backbone.trainable
        assert len(untouched.trainable_weights) == 2

    def test_model_without_backbone(self):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        with pytest.raises(ValueError, match="named 'backbone'"):
            unfreeze_backbone(model, layers=1)


class TestErrors:
    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (
                {"backbone": "ResNet51"},
                r"`backbone`. Expected one of \[.*'MobileNetV3Small'.*\]"
                r".*Received: backbone='ResNet51'",
            ),
            ({"backbone": None}, "Invalid value for argument `backbone`"),
            ({"head": "mlp"}, r"`head`. Expected one of \['dense', 'cosine'\]"),
            (
                {"attention": "nonlocal"},
                r"`attention`. Expected one of \['se', 'cbam', 'eca', None\]",
            ),
            ({"pooling": "flatten"}, r"`pooling`. Expected one of \['avg', 'max'\]"),
            ({"num_classes": 1}, "`num_classes`. Expected an integer >= 2"),
            ({"num_classes": 2.0}, "`num_classes`. Expected an integer >= 2"),
            ({"input_shape": (28, 28)}, r"`input_shape`. Expected an image shape"),
            ({"input_shape": (1, 28, 28, 3)}, "`input_shape`. Expected an image"),
            ({"input_shape": (28, 28, 2)}, "with 1 or 3 channels"),
            ({"input_shape": (0, 28, 3)}, "`input_shape`"),
            ({"input_shape": (None, 28, 3)}, "sizes of at least 32"),
            ({"input_shape": "28x28"}, "`input_shape`"),
            ({"dropout": 1.0}, r"`dropout`. Expected a float in \[0, 1\)"),
            ({"trainable_backbone": 1}, "`trainable_backbone`. Expected a boolean"),
            ({"weights": "imagenet21k"}, '`weights`. Expected None, "imagenet"'),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        kwargs = {"num_classes": C, "input_shape": (32, 32, 3), **kwargs}
        with pytest.raises(ValueError, match=match):
            build_transfer_classifier(**kwargs)

    def test_unknown_sizes_allowed_when_large_enough(self):
        model = build_transfer_classifier(C, input_shape=(None, None, 3))
        assert "resize" not in [layer.name for layer in model.layers]
        assert outputs_of(model, images((40, 48, 3))).shape == (4, C)
