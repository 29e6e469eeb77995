"""Fixtures and helpers shared by the strategy tests: digits, tiny models, callbacks."""

import keras
import pytest

from keras_imbalance import datasets, strategies


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits_lt(imbalance_ratio=10, seed=0)


@pytest.fixture(scope="module")
def tiny():
    return strategies.model_factory("small_cnn", width=8, depth=2)


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def dense_model_fn(input_shape, num_classes):
    """A user model_fn without `head=` or `bilateral`."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="relu", name="features"),
            keras.layers.Dense(num_classes, name="classifier"),
        ]
    )
