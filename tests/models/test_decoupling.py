"""Decoupled classifier learning (Kang et al. 2020) and post-hoc logit adjustment.

Here `find_head`, tau-normalization, classifier re-training and the saving of every
function's output; the layers that learnable weight scaling and logit adjustment
add are tested in `test_decoupling_layers.py`.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_imbalance.models.decoupling import (
    find_head,
    learnable_weight_scaling,
    retrain_classifier,
    tau_normalize,
    with_logit_adjustment,
)
from keras_imbalance.models.transfer import build_transfer_classifier
from tests.backend_marks import skip_unless_saved_model
from tests.models.decoupling_fixtures import (
    C,
    D,
    X,
    Y,
    features_of,
    functional,
    head_name,
    sequential,
    sparse_ce,
)


class TestFindHead:
    def test_named_classifier(self):
        model = functional()
        assert find_head(model) is model.get_layer("classifier")

    def test_explicit_name(self):
        model = sequential()
        assert find_head(model, name="logits") is model.layers[1]
        assert find_head(model, "logits") is model.layers[1]

    def test_no_guess_without_a_classifier_layer(self):
        # A last layer with a kernel is no longer taken for the head.
        model = sequential()
        match = (
            r"(?s)Model 'tiny_sequential' has no layer named 'classifier'.*"
            r"\[.*'logits'.*\].*name=\"classifier\".*"
            r"find_head\(model, name=\.\.\.\).*head_name="
        )
        with pytest.raises(ValueError, match=match):
            find_head(model)

    def test_unknown_explicit_name(self):
        with pytest.raises(ValueError, match="no layer named 'head'"):
            find_head(sequential(), name="head")

    @pytest.mark.parametrize("name", ["", None, 3])
    def test_bad_name(self, name):
        with pytest.raises(ValueError, match="Invalid value for argument `name`"):
            find_head(sequential(), name=name)

    @pytest.mark.parametrize(
        "transform",
        [
            retrain_classifier,
            tau_normalize,
            learnable_weight_scaling,
            lambda model: with_logit_adjustment(model, [1, 1, 1, 1]),
        ],
        ids=["retrain", "tau", "lws", "logit_adjustment"],
    )
    def test_callers_need_a_named_head(self, transform):
        with pytest.raises(ValueError, match="has no layer named 'classifier'"):
            transform(sequential())

    def test_not_a_model(self):
        with pytest.raises(TypeError, match="Expected a `keras.Model`"):
            find_head(keras.layers.Dense(3))


class TestTauNormalize:
    @pytest.mark.parametrize("build", [functional, sequential])
    def test_tau_zero_is_identity(self, build):
        model = build()
        normalized = tau_normalize(model, tau=0.0, head_name=head_name(model))
        np.testing.assert_allclose(
            ops.convert_to_numpy(normalized(X)),
            ops.convert_to_numpy(model(X)),
            atol=1e-6,
        )
        for a, b in zip(normalized.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)

    @pytest.mark.parametrize("build", [functional, sequential])
    def test_tau_one_gives_unit_norm_columns(self, build):
        model = build()
        name = head_name(model)
        kernel_before = ops.convert_to_numpy(find_head(model, name).kernel).copy()
        bias_before = ops.convert_to_numpy(find_head(model, name).bias).copy()
        normalized = tau_normalize(model, head_name=name)
        head = find_head(normalized, name)
        np.testing.assert_allclose(
            np.linalg.norm(ops.convert_to_numpy(head.kernel), axis=0),
            np.ones(C),
            atol=1e-6,
        )
        np.testing.assert_array_equal(ops.convert_to_numpy(head.bias), bias_before)
        # The original is untouched.
        np.testing.assert_array_equal(
            ops.convert_to_numpy(find_head(model, name).kernel), kernel_before
        )

    @pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
    def test_numpy_reference(self, tau):
        model = functional()
        w, b = find_head(model).get_weights()
        expected_w = w / np.linalg.norm(w, axis=0) ** tau
        normalized = tau_normalize(model, tau=tau)
        np.testing.assert_allclose(
            ops.convert_to_numpy(find_head(normalized).kernel), expected_w, rtol=1e-6
        )
        np.testing.assert_allclose(
            ops.convert_to_numpy(normalized(X)),
            features_of(model) @ expected_w + b,
            rtol=1e-5,
            atol=1e-5,
        )

    def test_shares_nothing_mutable(self):
        model = functional()
        normalized = tau_normalize(model, tau=0.0)
        original = {id(v) for v in model.variables}
        assert not any(id(v) in original for v in normalized.variables)
        before = ops.convert_to_numpy(model(X))
        for variable in normalized.trainable_variables:
            variable.assign(ops.convert_to_numpy(variable) + 1.0)
        np.testing.assert_array_equal(ops.convert_to_numpy(model(X)), before)

    def test_bad_tau(self):
        with pytest.raises(ValueError, match="`tau`. Expected a non-negative float"):
            tau_normalize(functional(), tau=-1.0)


class TestRetrainClassifier:
    def test_only_the_head_trains(self):
        model = functional()
        head = model.get_layer("classifier")
        kernel_before = ops.convert_to_numpy(head.kernel).copy()
        others_before = {
            layer.name: layer.get_weights() for layer in model.layers if layer != head
        }
        result = retrain_classifier(model)
        assert result is model
        assert {id(w) for w in model.trainable_weights} == {
            id(head.kernel),
            id(head.bias),
        }
        # Re-initialised: a fresh draw, not the trained weights.
        assert not np.allclose(ops.convert_to_numpy(head.kernel), kernel_before)
        np.testing.assert_array_equal(ops.convert_to_numpy(head.bias), np.zeros(C))

        reinitialized = ops.convert_to_numpy(head.kernel).copy()
        model.compile(optimizer="adam", loss=sparse_ce())
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
        assert not np.allclose(ops.convert_to_numpy(head.kernel), reinitialized)
        for layer in model.layers:
            if layer is head:
                continue
            for a, b in zip(others_before[layer.name], layer.get_weights()):
                # BatchNormalization statistics too: frozen means inference mode.
                np.testing.assert_array_equal(a, b)

    def test_fresh_draw_not_the_initial_one(self):
        # A Keras 3 initializer instance is seeded: reusing it would give the
        # head back its very first weights.
        keras.utils.set_random_seed(0)
        head = keras.layers.Dense(C, name="classifier")
        model = keras.Sequential([keras.Input((D,)), head])
        initial = ops.convert_to_numpy(head.kernel).copy()
        again = ops.convert_to_numpy(head.kernel_initializer(head.kernel.shape))
        np.testing.assert_array_equal(again, initial)  # the pitfall
        retrain_classifier(model)
        assert not np.allclose(ops.convert_to_numpy(head.kernel), initial)

    def test_without_reinitialize(self):
        model = functional()
        before = model.get_layer("classifier").get_weights()
        retrain_classifier(model, reinitialize=False)
        for a, b in zip(before, model.get_layer("classifier").get_weights()):
            np.testing.assert_array_equal(a, b)
        assert len(model.trainable_weights) == 2

    def test_frozen_model_is_opened(self):
        model = functional()
        model.trainable = False
        retrain_classifier(model)
        assert len(model.trainable_weights) == 2

    def test_explicit_head_name(self):
        model = sequential()
        retrain_classifier(model, head_name="logits")
        head = model.get_layer("logits")
        assert [id(w) for w in model.trainable_weights] == [
            id(head.kernel),
            id(head.bias),
        ]

    def test_transfer_classifier(self):
        model = build_transfer_classifier(C, input_shape=(32, 32, 3), head="cosine")
        retrain_classifier(model)
        head = model.get_layer("classifier")
        assert [id(w) for w in model.trainable_weights] == [id(head.kernel)]

    def test_bad_argument(self):
        with pytest.raises(ValueError, match="`reinitialize`. Expected a boolean"):
            retrain_classifier(functional(), reinitialize="yes")


# Every function's output: `.keras` round trip without `custom_objects` and a
# SavedModel export round trip.
def _retrained():
    model = retrain_classifier(functional())
    model.compile(optimizer="adam", loss=sparse_ce())
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    return model


def _lws():
    model = learnable_weight_scaling(functional())
    model.get_layer("weight_scaling").scale.assign([0.5, 1.0, 1.5, 2.0])
    return model


DECOUPLED = {
    "retrain_classifier": _retrained,
    "tau_normalize": lambda: tau_normalize(functional(), tau=0.7),
    "tau_normalize_sequential": lambda: tau_normalize(
        sequential(), tau=1.0, head_name="logits"
    ),
    "learnable_weight_scaling": _lws,
    "with_logit_adjustment": lambda: with_logit_adjustment(
        sequential(), [5, 3, 1, 1], tau=1.5, head_name="logits"
    ),
}


@pytest.mark.parametrize("name", sorted(DECOUPLED))
def test_keras_and_saved_model_round_trip(name, tmp_path):
    model = DECOUPLED[name]()
    expected = ops.convert_to_numpy(model(X, training=False))

    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(restored(X, training=False)), expected, atol=1e-6
    )
    assert [(w.name, w.shape) for w in restored.trainable_weights] == [
        (w.name, w.shape) for w in model.trainable_weights
    ]

    skip_unless_saved_model()
    export_path = str(tmp_path / "exported")
    model.export(export_path, verbose=False)
    loaded = tf.saved_model.load(export_path)
    np.testing.assert_allclose(
        loaded.serve(tf.constant(X)).numpy(), expected, atol=1e-5
    )
