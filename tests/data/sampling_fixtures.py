"""Long-tailed labels, a chi-square check and a small model, for the sampling tests."""

import keras
import numpy as np
from scipy.stats import chisquare

COUNTS = np.array([500, 150, 45, 13, 4])  # imbalance ratio 125
NUM_CLASSES = COUNTS.size
P_MIN = 1e-3  # chi-square: reject only a clear mismatch (fixed seeds)


def make_data(counts=COUNTS, features=3, seed=0):
    """Shuffled labels with the given counts; x[i, 0] is the sample's id."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    x = rng.standard_normal((y.size, features)).astype("float32")
    x[:, 0] = np.arange(y.size)
    return x, y


def histogram(labels, num_classes=NUM_CLASSES):
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    return np.bincount(labels.ravel(), minlength=num_classes)


def assert_matches(observed, probabilities):
    """Chi-square goodness of fit over the classes that can be drawn."""
    observed = np.asarray(observed)
    probabilities = np.asarray(probabilities, dtype="float64")
    assert np.all(observed[probabilities == 0] == 0)
    keep = probabilities > 0
    expected = probabilities[keep] / probabilities[keep].sum() * observed.sum()
    result = chisquare(observed[keep], expected)
    assert result.pvalue > P_MIN, (observed.tolist(), expected.round(1).tolist())


def small_model(inputs, num_classes=NUM_CLASSES):
    if isinstance(inputs, dict):
        tensors = {k: keras.Input((v.shape[1],), name=k) for k, v in inputs.items()}
        h = keras.layers.Concatenate()(list(tensors.values()))
    else:
        tensors = keras.Input((inputs.shape[1],))
        h = tensors
    h = keras.layers.Dense(8, activation="relu")(h)
    return keras.Model(tensors, keras.layers.Dense(num_classes)(h))


class StepCounter(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
