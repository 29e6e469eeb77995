"""`callbacks.PreciseBatchNorm`: precise BN statistics at the end of `fit`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.callbacks import PreciseBatchNorm
from keras_imbalance.models import (
    build_attention_classifier,
    recompute_batch_norm_statistics,
)

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

SHAPE = (8, 8, 1)
C = 4
RNG = np.random.default_rng(0)
X = RNG.normal(0.5, 1.5, (96, *SHAPE)).astype("float32")
Y = np.arange(96) % C


def _numpy(v):
    return keras.ops.convert_to_numpy(v)


def compiled_model():
    keras.utils.set_random_seed(0)
    model = build_attention_classifier(SHAPE, C, width=4, depth=2)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def bn_state(model):
    return [
        (_numpy(layer.moving_mean), _numpy(layer.moving_variance))
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def precise_reference(model, x, batch_size):
    """The statistics `recompute_batch_norm_statistics` gives a same-weight copy."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    recompute_batch_norm_statistics(clone, x, batch_size=batch_size)
    return bn_state(clone)


def assert_same_state(got, expected):
    assert len(got) == len(expected)
    for (mean, variance), (ref_mean, ref_variance) in zip(got, expected):
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(variance, ref_variance, rtol=1e-5, atol=1e-6)


class Perturb(keras.callbacks.Callback):
    """Changes the weights at the end of training (like restoring the best)."""

    def on_train_end(self, logs=None):
        for v in self.model.trainable_weights:
            v.assign(_numpy(v) * 1.5)


class TestPreciseBatchNorm:
    def test_fit_recomputes_with_final_weights(self):
        model = compiled_model()
        callback = PreciseBatchNorm(X, batch_size=16)
        model.fit(X, Y, batch_size=16, epochs=2, verbose=0, callbacks=[callback])
        assert callback.updated_layers == 2
        assert_same_state(bn_state(model), precise_reference(model, X, 16))

    def test_runs_after_callbacks_that_change_weights(self):
        model = compiled_model()
        model.fit(
            X,
            Y,
            batch_size=32,
            epochs=1,
            verbose=0,
            callbacks=[Perturb(), PreciseBatchNorm(X, batch_size=32)],
        )
        # The statistics are those of the perturbed (final) weights.
        assert_same_state(bn_state(model), precise_reference(model, X, 32))

    def test_dataset_and_steps(self):
        dataset = tf.data.Dataset.from_tensor_slices((X, Y)).batch(16)
        model = compiled_model()
        callback = PreciseBatchNorm(dataset.repeat(), steps=3)
        model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[callback])
        assert callback.updated_layers == 2
        assert_same_state(bn_state(model), precise_reference(model, X[:48], 16))

    def test_stale_statistics_replaced(self):
        model = compiled_model()
        model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
        stale = bn_state(model)
        model.fit(
            X, Y, batch_size=16, epochs=0, verbose=0, callbacks=[PreciseBatchNorm(X)]
        )
        assert not np.allclose(bn_state(model)[0][1], stale[0][1], rtol=1e-3)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (
                {"batch_size": 0},
                "Invalid value for argument `batch_size`. Expected a positive "
                "integer. Received: batch_size=0",
            ),
            ({"steps": 0}, "Invalid value for argument `steps`"),
            ({"steps": 1.5}, "Invalid value for argument `steps`"),
        ],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            PreciseBatchNorm(X, **kwargs)
