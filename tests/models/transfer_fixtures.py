"""Images and helpers shared by the transfer-classifier tests."""

import keras
import numpy as np

C = 3


def images(shape, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, size=(batch, *shape)).astype("float32")


def logits_loss():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def outputs_of(model, x):
    """`model`'s inference outputs on `x`, from an eager call."""
    return keras.ops.convert_to_numpy(model(x, training=False))
