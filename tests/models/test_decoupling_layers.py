"""Learnable weight scaling and logit adjustment: the layers added after the head."""

import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance.layers.decoupling import LearnableWeightScaling, LogitAdjustment
from keras_imbalance.models.decoupling import (
    learnable_weight_scaling,
    with_logit_adjustment,
)
from keras_imbalance.models.transfer import build_transfer_classifier
from tests.models.decoupling_fixtures import (
    RNG,
    C,
    X,
    Y,
    features_of,
    functional,
    head_name,
    sequential,
    sparse_ce,
)


class TestLearnableWeightScaling:
    @pytest.mark.parametrize("build", [functional, sequential])
    def test_only_scales_train_and_outputs_start_equal(self, build):
        model = build()
        lws = learnable_weight_scaling(model, head_name=head_name(model))
        scaling = next(
            lay for lay in lws.layers if isinstance(lay, LearnableWeightScaling)
        )
        assert [id(w) for w in lws.trainable_weights] == [id(scaling.scale)]
        np.testing.assert_array_equal(ops.convert_to_numpy(scaling.scale), np.ones(C))
        np.testing.assert_allclose(
            ops.convert_to_numpy(lws(X)), ops.convert_to_numpy(model(X)), atol=1e-6
        )
        # The original keeps its flags; the copy is not compiled.
        assert model.trainable and all(layer.trainable for layer in model.layers)
        assert not lws.compiled

    def test_equals_scaling_weights_and_bias(self):
        model = functional()
        lws = learnable_weight_scaling(model)
        scale = np.array([0.5, 1.0, 2.0, 3.0], "float32")
        lws.get_layer("weight_scaling").scale.assign(scale)
        w, b = model.get_layer("classifier").get_weights()
        expected = features_of(model) @ (w * scale) + b * scale
        np.testing.assert_allclose(
            ops.convert_to_numpy(lws(X)), expected, rtol=1e-5, atol=1e-5
        )

    def test_fit_changes_only_the_scales(self):
        model = functional()
        lws = learnable_weight_scaling(model)
        frozen_before = [
            lay.get_weights() for lay in lws.layers if lay.name != "weight_scaling"
        ]
        lws.compile(optimizer=keras.optimizers.Adam(0.1), loss=sparse_ce())
        lws.fit(X, Y, epochs=2, batch_size=8, verbose=0)
        assert not np.allclose(
            ops.convert_to_numpy(lws.get_layer("weight_scaling").scale), 1.0
        )
        frozen_after = [
            lay.get_weights() for lay in lws.layers if lay.name != "weight_scaling"
        ]
        for before, after in zip(frozen_before, frozen_after):
            for a, b in zip(before, after):
                np.testing.assert_array_equal(a, b)

    def test_inserted_before_a_softmax(self):
        model = functional(softmax=True)
        lws = learnable_weight_scaling(model)
        assert lws.layers[-1].name == "probabilities"
        scale = np.array([0.5, 1.0, 2.0, 3.0], "float32")
        lws.get_layer("weight_scaling").scale.assign(scale)
        logits = keras.Model(model.input, model.get_layer("classifier").output)(X)
        expected = ops.convert_to_numpy(
            ops.softmax(ops.convert_to_numpy(logits) * scale)
        )
        np.testing.assert_allclose(ops.convert_to_numpy(lws(X)), expected, atol=1e-6)

    def test_transfer_classifier(self):
        model = build_transfer_classifier(C, input_shape=(28, 28, 1))
        lws = learnable_weight_scaling(model)
        assert [w.path for w in lws.trainable_weights] == ["weight_scaling/scale"]
        x = RNG.uniform(0, 255, size=(2, 28, 28, 1)).astype("float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(lws(x, training=False)),
            ops.convert_to_numpy(model(x, training=False)),
            atol=1e-6,
        )

    def test_layer_config(self):
        layer = LearnableWeightScaling(name="lws")
        config = layer.get_config()
        json.dumps(config)
        assert LearnableWeightScaling.from_config(config).name == "lws"
        assert layer.compute_output_shape((None, 5)) == (None, 5)

    def test_unknown_classes(self):
        with pytest.raises(ValueError, match="known last"):
            LearnableWeightScaling().build((None, None))


class TestLogitAdjustment:
    PRIORS = [0.7, 0.2, 0.08, 0.02]

    @pytest.mark.parametrize("tau", [0.0, 1.0, 2.5])
    def test_numpy_reference(self, tau):
        model = functional()
        adjusted = with_logit_adjustment(model, self.PRIORS, tau=tau)
        expected = ops.convert_to_numpy(model(X)) - tau * np.log(np.array(self.PRIORS))
        np.testing.assert_allclose(
            ops.convert_to_numpy(adjusted(X)), expected, atol=1e-5
        )

    def test_counts_are_normalized(self):
        model = functional()
        counts = [700, 200, 80, 20]
        from_counts = with_logit_adjustment(model, counts)
        from_priors = with_logit_adjustment(model, self.PRIORS)
        np.testing.assert_allclose(
            ops.convert_to_numpy(from_counts(X)),
            ops.convert_to_numpy(from_priors(X)),
            atol=1e-6,
        )
        layer = from_counts.get_layer("logit_adjustment")
        np.testing.assert_allclose(layer.class_priors, self.PRIORS)

    def test_inserted_before_a_softmax(self):
        model = functional(softmax=True)
        adjusted = with_logit_adjustment(model, self.PRIORS)
        logits = keras.Model(model.input, model.get_layer("classifier").output)(X)
        expected = ops.convert_to_numpy(
            ops.softmax(ops.convert_to_numpy(logits) - np.log(self.PRIORS))
        )
        np.testing.assert_allclose(
            ops.convert_to_numpy(adjusted(X)), expected, atol=1e-6
        )

    def test_original_untouched_and_name_free(self):
        model = functional()
        once = with_logit_adjustment(model, self.PRIORS)
        twice = with_logit_adjustment(once, self.PRIORS)
        assert "logit_adjustment_1" in [layer.name for layer in twice.layers]
        assert len(model.layers) == 4

    def test_layer_config(self):
        layer = LogitAdjustment(np.array([3, 1]), tau=0.5, name="la")
        config = layer.get_config()
        assert json.loads(json.dumps(config)) == config
        assert config["class_priors"] == [0.75, 0.25]
        assert config["tau"] == 0.5
        restored = LogitAdjustment.from_config(config)
        z = np.zeros((1, 2), "float32")
        np.testing.assert_allclose(
            ops.convert_to_numpy(restored(z)), ops.convert_to_numpy(layer(z))
        )

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"class_priors": [0.5, 0.0, 0.5]}, "class 1 has prior 0"),
            ({"class_priors": [0.5, -0.1]}, "`class_priors`"),
            ({"class_priors": []}, "`class_priors`"),
            ({"class_priors": [1, 1], "tau": -1.0}, "`tau`. Expected a non-negative"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            LogitAdjustment(**kwargs)

    def test_wrong_number_of_classes(self):
        with pytest.raises(ValueError, match="has 3 class priors but its input has 4"):
            with_logit_adjustment(functional(), [0.5, 0.25, 0.25])
