import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import layers
from tests import conformance

RNG = np.random.default_rng(13)


def test_logits_are_scaled_cosines():
    x = RNG.normal(size=(6, 5)).astype("float32")
    head = layers.CosineClassifier(4, scale=16.0)
    logits = ops.convert_to_numpy(head(x))
    kernel = ops.convert_to_numpy(head.kernel)
    assert kernel.shape == (5, 4) and head.kernel.path.endswith("kernel")
    cos = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ (
        kernel / np.linalg.norm(kernel, axis=0, keepdims=True)
    )
    np.testing.assert_allclose(logits, 16.0 * cos, rtol=1e-5, atol=1e-5)
    assert np.all(np.abs(logits) <= 16.0 * (1 + 1e-6))


def test_logits_bounded_by_scale_and_reached_at_the_weight_direction():
    head = layers.CosineClassifier(3, scale=5.0)
    head.build((None, 4))
    kernel = ops.convert_to_numpy(head.kernel)
    x = np.concatenate([kernel.T * 7.0, RNG.normal(size=(50, 4)) * 100])
    logits = ops.convert_to_numpy(head(x.astype("float32")))
    assert np.all(np.abs(logits) <= 5.0 * (1 + 1e-6))
    np.testing.assert_allclose(np.diag(logits[:3]), 5.0, rtol=1e-5)


def test_invariant_to_feature_and_column_norms():
    x = RNG.normal(size=(3, 4)).astype("float32")
    head = layers.CosineClassifier(3)
    before = ops.convert_to_numpy(head(x))
    # Rescaling a class's weight column (tau-normalisation, LWS) is a no-op.
    head.kernel.assign(
        ops.convert_to_numpy(head.kernel) * np.array([0.1, 1.0, 30.0], "float32")
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(head(x * 42.0)), before, rtol=1e-5, atol=1e-6
    )


def test_zero_features_give_finite_zero_logits_and_gradients():
    head = layers.CosineClassifier(3)
    x = np.zeros((2, 4), "float32")
    assert np.all(ops.convert_to_numpy(head(x)) == 0)  # builds it, eagerly
    total, gradient = conformance.value_and_gradient(lambda t: ops.sum(head(t)), x)
    assert total == 0
    assert gradient.shape == (2, 4) and np.all(np.isfinite(gradient))


def test_learned_scale():
    head = layers.CosineClassifier(3, scale=8.0, learn_scale=True)
    head.build((None, 4))
    assert head.learned_scale.path.endswith("scale") and head.learned_scale.trainable
    assert float(head.learned_scale) == 8.0
    assert len(head.trainable_weights) == 2
    head.learned_scale.assign(2.0)
    x = RNG.normal(size=(10, 4)).astype("float32")
    assert np.all(np.abs(ops.convert_to_numpy(head(x))) <= 2.0 * (1 + 1e-6))
    fixed = layers.CosineClassifier(3)
    fixed.build((None, 4))
    assert fixed.learned_scale is None and len(fixed.trainable_weights) == 1


def test_kernel_initializer():
    head = layers.CosineClassifier(2, kernel_initializer="ones")
    head.build((None, 3))
    np.testing.assert_array_equal(ops.convert_to_numpy(head.kernel), np.ones((3, 2)))
    config = head.get_config()
    assert config["kernel_initializer"]["class_name"] == "Ones"
    init = keras.initializers.Orthogonal(seed=1)
    assert (
        layers.CosineClassifier(2, kernel_initializer=init).kernel_initializer is init
    )


def test_dense_prediction_shapes():
    head = layers.CosineClassifier(3)
    assert tuple(head(np.ones((2, 5, 5, 4), "float32")).shape) == (2, 5, 5, 3)
    assert head.compute_output_shape((None, 5, 5, 4)) == (None, 5, 5, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "`units`. Expected a positive integer"),
        ({"units": 3, "scale": 0.0}, "`scale`. Expected a positive float"),
        ({"units": 3, "scale": -16.0}, "`scale`. Expected a positive float"),
        ({"units": 3, "learn_scale": "no"}, "`learn_scale`. Expected a boolean"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.CosineClassifier(**kwargs)
