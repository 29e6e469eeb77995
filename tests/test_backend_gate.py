"""The backend-agnostic core tests, run again on Keras' JAX and PyTorch backends.

The test session runs on TensorFlow. For each other backend whose package is
installed, one child `pytest` runs the quick tests of the core (losses,
metrics, layers, builders, callbacks, optimizers) with `KERAS_BACKEND` set,
so the same assertions, against the same references, gate every backend.
A backend whose package is missing is skipped with its reason (`.ci/run`
installs JAX with the `test` extra and the CPU build of PyTorch).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two child test sessions

ROOT = Path(__file__).resolve().parents[1]

# The test files that hold only backend-agnostic tests, or mark their
# TensorFlow-only ones (SavedModel files, `tf.function`) with a skip.
CORE_TESTS = (
    "tests/losses",
    "tests/test_metrics.py",
    "tests/test_metrics_bad_input.py",
    "tests/layers",
    "tests/models",
    "tests/test_callbacks.py",
    "tests/test_optimizers.py",
)

PACKAGES = {"jax": "jax", "torch": "torch"}


@pytest.mark.parametrize("backend", sorted(PACKAGES))
def test_core_tests_pass_on_backend(backend):
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{PACKAGES[backend]} is not installed")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:xdist"]
    command += ["-o", "addopts=-p no:cacheprovider --strict-markers", *CORE_TESTS]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    summary = done.stdout.strip().splitlines()[-1:] or [""]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in summary[0] and "failed" not in summary[0], summary


QUICK_START_CHILD = """
import re, sys
import keras_imbalance
from keras_imbalance import callbacks, layers, losses, metrics, models
# Keras itself loads TensorFlow, when installed, as soon as it serializes an
# object (`model.save`): only the imports are checked.
tensorflow_loaded = "tensorflow" in sys.modules
readme = open(sys.argv[1], encoding="utf-8").read()
section = readme[readme.index("## Quick start") :]
code = re.search(r"```python\\n(.*?)```", section, re.S).group(1)
namespace = {}
exec(compile(code, "README.md quick start", "exec"), namespace)
model = namespace["model"]
scores = model.evaluate(
    namespace["x_test"], namespace["y_test"], return_dict=True, verbose=0
)
import keras
# compare (strategies feed tf.data pipelines: TensorFlow loads from here on)
from keras_imbalance.comparison import compare, model_factory
result = compare(["ce", "ldam_drw"], "digits-lt", epochs=2,
                 model=model_factory("small_cnn", width=8, depth=1))
compared = min(run.validation.balanced_accuracy for run in result.runs)
print("REPORT", keras.backend.backend(), scores["balanced_accuracy"],
      tensorflow_loaded, result.setup["machine"]["backend"], compared)
"""


@pytest.mark.parametrize("backend", sorted(PACKAGES))
def test_core_imports_without_tensorflow_and_quick_start_and_compare_run(
    backend, tmp_path
):
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{PACKAGES[backend]} is not installed")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    done = subprocess.run(
        [sys.executable, "-c", QUICK_START_CHILD, str(ROOT / "README.md")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = [line for line in done.stdout.splitlines() if line.startswith("REPORT")]
    _, ran_on, balanced_accuracy, tensorflow_loaded, recorded, compared = report[
        -1
    ].split()
    assert ran_on == backend and recorded == backend
    assert 0.0 <= float(compared) <= 1.0  # both strategies trained and were scored
    assert float(balanced_accuracy) > 0.5
    assert tensorflow_loaded == "False", "importing the core loaded TensorFlow"
    assert (tmp_path / "model.keras").exists()
