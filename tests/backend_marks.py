"""Skips for the checks that a Keras backend cannot run, with their reasons.

The tests of layers, builders and callbacks run on every Keras backend
(`KERAS_BACKEND`); a SavedModel round trip is the one check they hold that
some backend cannot do. Keep each reason precise: it is what a reader of the
test report learns about the backend.
"""

import keras
import pytest

SAVED_MODEL_BACKENDS = ("tensorflow", "jax")
NO_SAVED_MODEL = (
    "SavedModel export is TensorFlow's format: Keras writes it from TensorFlow "
    "and JAX models (`model.export(format='tf_saved_model')`, checked there); "
    "on PyTorch it goes through `torch.export` and torch_xla, and with torch "
    "2.13 `torch.export` rejects the dynamic batch shape Keras passes it for "
    "any model"
)

needs_saved_model = pytest.mark.skipif(
    keras.backend.backend() not in SAVED_MODEL_BACKENDS, reason=NO_SAVED_MODEL
)


def skip_unless_saved_model():
    """Skip the rest of a test (after its backend-agnostic checks) where
    SavedModel export cannot run."""
    if keras.backend.backend() not in SAVED_MODEL_BACKENDS:
        pytest.skip(NO_SAVED_MODEL)
