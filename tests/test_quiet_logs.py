"""Evaluating or re-estimating many fresh models in a row (a notebook, a
sweep) does not print TensorFlow's "triggered tf.function retracing" notice:
each new model traces its own function, which is expected, not a user error."""

import logging

import keras
import numpy as np
import pytest

from keras_imbalance import evaluation, models

pytestmark = pytest.mark.slow  # builds a few small models

RETRACING = "triggered tf.function retracing"


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def tensorflow_records():
    logger, records = logging.getLogger("tensorflow"), _Records()
    logger.addHandler(records)
    try:
        yield records.messages
    finally:
        logger.removeHandler(records)


def small_model(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(3),
        ]
    )


def test_fresh_models_in_a_row_print_no_retracing_notice(tensorflow_records):
    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    y = np.arange(40) % 3
    for seed in range(7):
        model = small_model(seed)
        models.recompute_batch_norm_statistics(model, x, batch_size=8)
        report = evaluation.evaluate_imbalanced(model, x, y)
        assert 0.0 <= report.balanced_accuracy <= 1.0
    assert not [m for m in tensorflow_records if RETRACING in m]


def test_the_notice_filter_is_removed_afterwards(tensorflow_records):
    logging.getLogger("tensorflow").warning("x " + RETRACING)
    assert any(RETRACING in m for m in tensorflow_records)
