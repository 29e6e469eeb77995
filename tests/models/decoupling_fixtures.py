"""Tiny trained classifiers, with and without a named head, for the decoupling tests."""

import keras
import numpy as np
from keras import ops

from keras_imbalance.models.decoupling import find_head

C = 4
D = 6
RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, D)).astype("float32")
Y = np.arange(16) % C


_TRAINED = {}


def _trained_weights(softmax, seed):
    """The weights of `functional` after its training, trained once: the cache
    is this module's, shared by the test modules that import it.

    Eagerly: for six steps, tracing a training graph costs far more than the
    steps themselves.
    """
    if (softmax, seed) not in _TRAINED:
        model = _functional(softmax, seed)
        model.compile(
            optimizer=keras.optimizers.Adam(0.05),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax),
            run_eagerly=True,
        )
        model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
        _TRAINED[softmax, seed] = model.get_weights()
    return _TRAINED[softmax, seed]


def _functional(softmax, seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((D,), name="x")
    x = keras.layers.Dense(8, activation="relu", name="features")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    outputs = keras.layers.Dense(C, name="classifier")(x)
    if softmax:
        outputs = keras.layers.Activation("softmax", name="probabilities")(outputs)
    return keras.Model(inputs, outputs, name="tiny")


def functional(softmax=False, seed=0):
    """Input -> features (Dense, BN) -> Dense "classifier" [-> softmax].

    A new, compiled model each call, trained a little so the head norms
    differ between classes: every call gets the same trained weights
    (BatchNormalization statistics included), trained once.
    """
    weights = _trained_weights(softmax, seed)
    model = _functional(softmax, seed)
    model.set_weights(weights)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax),
    )
    return model


def sequential(seed=0):
    """No layer named "classifier": the head, "logits", is named explicitly."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((D,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(C, name="logits"),
            keras.layers.Activation("linear"),
        ],
        name="tiny_sequential",
    )


def head_name(model):
    return "logits" if model.name == "tiny_sequential" else "classifier"


def features_of(model):
    """The input of the head, as a NumPy array."""
    head = find_head(model, head_name(model))
    return ops.convert_to_numpy(keras.Model(model.input, head.input)(X))


def sparse_ce():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
