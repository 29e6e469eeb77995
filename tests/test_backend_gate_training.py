"""Evaluation, the strategies and `compare`, run again on JAX and PyTorch.

The second half of the backend gate (`test_backend_gate.py` has the first):
one child `pytest` per installed backend runs the quick evaluation and
strategy tests (every one of the 15 strategies trains, predicts and
reloads from `.keras` once) with `KERAS_BACKEND` set. Another child checks
that importing the core leaves TensorFlow unloaded, then runs the README's
quick start and a small `compare`.
"""

import importlib.util

import pytest

from tests.child_report import PACKAGES, ROOT, child_pytest, child_report

pytestmark = pytest.mark.slow  # child test sessions

# Files whose quick tests train, predict or evaluate models (the others of
# the strategies and comparison are argument checks and bookkeeping, the
# same on every backend).
TRAINING_TESTS = (
    "tests/test_evaluation.py",
    "tests/test_thresholds.py",
    "tests/test_tau_tuning.py",
    "tests/test_strategies.py",
)


@pytest.mark.parametrize("backend", sorted(PACKAGES))
def test_evaluation_and_strategy_tests_pass_on_backend(backend):
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{PACKAGES[backend]} is not installed")
    child_pytest(backend, TRAINING_TESTS)


QUICK_START_CHILD = """
import json, re, sys
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
compared = float(min(run.validation.balanced_accuracy for run in result.runs))
print("REPORT" + json.dumps({
    "backend": keras.backend.backend(),
    "balanced_accuracy": float(scores["balanced_accuracy"]),
    "tensorflow_loaded": tensorflow_loaded,
    "recorded": result.setup["machine"]["backend"],
    "compared": compared,
}))
"""


@pytest.mark.parametrize("backend", sorted(PACKAGES))
def test_core_imports_without_tensorflow_and_quick_start_and_compare_run(
    backend, tmp_path
):
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"{PACKAGES[backend]} is not installed")
    report = child_report(
        QUICK_START_CHILD,
        args=[str(ROOT / "README.md")],
        cwd=tmp_path,
        KERAS_BACKEND=backend,
    )
    assert report["backend"] == backend and report["recorded"] == backend
    # both strategies trained and were scored
    assert 0.0 <= report["compared"] <= 1.0
    assert report["balanced_accuracy"] > 0.5
    assert not report["tensorflow_loaded"], "importing the core loaded TensorFlow"
    assert (tmp_path / "model.keras").exists()
