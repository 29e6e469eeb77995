"""The backend-agnostic core tests, run again on Keras' JAX and PyTorch backends.

The test session runs on TensorFlow. For each other backend whose package is
installed, one child `pytest` runs the quick tests of the core (losses,
metrics, layers, builders, callbacks, optimizers) with `KERAS_BACKEND` set,
so the same assertions, against the same references, gate every backend;
`test_backend_gate_training.py` does the same for evaluation, the strategies
and `compare` (a file of its own, so that the test workers share the load).
A backend whose package is missing is skipped with its reason (`.ci/run`
installs JAX with the `test` extra and the CPU build of PyTorch).
"""

import importlib.util

import pytest

from tests.child_report import PACKAGES, child_pytest

pytestmark = pytest.mark.slow  # two child test sessions

# The test files that hold only backend-agnostic tests, or mark their
# TensorFlow-only ones (SavedModel files, `tf.function`) with a skip.
CORE_TESTS = (
    "tests/losses",
    "tests/test_metrics.py",
    "tests/test_metrics_bad_input.py",
    "tests/layers",
    "tests/models",
    "tests/test_callbacks.py",
    "tests/test_precise_batch_norm_callback.py",
    "tests/test_optimizers.py",
)


@pytest.mark.parametrize("backend", sorted(PACKAGES))
def test_core_tests_pass_on_backend(backend):
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{PACKAGES[backend]} is not installed")
    child_pytest(backend, CORE_TESTS)
