import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import layers

RNG = np.random.default_rng(9)


def test_weights_are_a_softmax_and_scale_the_features():
    x = RNG.normal(size=(5, 7)).astype("float32")
    layer = layers.FeatureAttention(hidden_units=4, return_attention=True)
    features, weights = (ops.convert_to_numpy(v) for v in layer(x))
    assert features.shape == weights.shape == (5, 7)
    assert np.all(weights > 0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(features, x * weights, rtol=1e-6)
    w1, b1, w2, b2 = layer.get_weights()
    logits = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    want = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(weights, want, rtol=1e-5)


def test_hidden_units_default_to_the_feature_count():
    layer = layers.FeatureAttention()
    layer.build((None, 13))
    assert layer.hidden_dense.units == 13
    assert layer.score_dense.units == 13
    assert layer.get_config()["hidden_units"] is None


def test_single_output_by_default():
    x = RNG.normal(size=(2, 4)).astype("float32")
    y = layers.FeatureAttention()(x)
    assert not isinstance(y, (tuple, list)) and tuple(y.shape) == (2, 4)


def test_in_a_model_the_weights_are_a_second_output():
    inputs = keras.Input((6,))
    features, weights = layers.FeatureAttention(return_attention=True)(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(2)(features), weights])
    assert tuple(model.outputs[1].shape) == (None, 6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hidden_units": 0}, "`hidden_units`. Expected a positive integer"),
        ({"hidden_units": "8"}, "`hidden_units`. Expected a positive integer"),
        ({"return_attention": 1}, "`return_attention`. Expected a boolean"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.FeatureAttention(**kwargs)


def test_needs_tabular_inputs():
    with pytest.raises(
        ValueError, match=r"tabular inputs of shape \(batch, features\)"
    ):
        layers.FeatureAttention().build((None, 4, 5))
