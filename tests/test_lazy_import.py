"""`import keras_imbalance` is cheap, and `load_model` still needs no
`custom_objects`.

Each check runs in a fresh interpreter: this process has Keras imported.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_imbalance
from keras_imbalance import layers, losses, metrics

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The modules that must register on any backend, without TensorFlow.
CORE = ("losses", "metrics", "layers", "models", "callbacks", "optimizers")

# Prints, as the last line of output, what the checks below compare.
REPORT = """
import json, sys
import keras
print(json.dumps({
    "registered": sorted(
        name for name, obj in keras.saving.get_custom_objects().items()
        if getattr(obj, "__module__", "").startswith("keras_imbalance.")
    ),
    "modules": sorted(m for m in sys.modules if m.startswith("keras_imbalance")),
    "tensorflow": "tensorflow" in sys.modules,
    "hooks": [
        type(f).__name__ for f in sys.meta_path
        if getattr(f, "_keras_imbalance_hook", False)
    ],
    **globals().get("extra", {}),
}))
"""

LOAD = """
model = keras.saving.load_model(PATH)
extra = {
    "loss": type(model.loss).__name__,
    "layers": [type(layer).__name__ for layer in model.layers],
}
"""

# Builds the compiled metrics, which Keras deserializes only then.
EVALUATE = """
x, y = np.zeros((6, 4, 4, 8), "float32"), np.array([0, 1, 2, 0, 1, 2])
extra["results"] = sorted(model.evaluate(x, y, verbose=0, return_dict=True))
"""


def run_python(*parts, **env):
    """Runs the code `parts` in a fresh interpreter; its last line as JSON."""
    code = "\n".join(textwrap.dedent(part) for part in parts)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    inputs = keras.Input((4, 4, 8))
    x = layers.SqueezeExcitation()(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="sgd",
        loss=losses.FocalLoss(from_logits=True),
        metrics=[metrics.BalancedAccuracy(3)],
    )
    model.fit(np.zeros((6, 4, 4, 8)), np.array([0, 1, 2, 0, 1, 2]), verbose=0)
    path = str(tmp_path_factory.mktemp("lazy") / "model.keras")
    model.save(path)
    return path


@pytest.fixture(scope="module")
def registered():
    """What the core modules register, as this process (which has them all
    imported) sees it."""
    for name in CORE:
        getattr(keras_imbalance, name, None)  # optimizers: while being added
    return sorted(
        name
        for name, obj in keras.saving.get_custom_objects().items()
        if getattr(obj, "__module__", "").startswith("keras_imbalance.")
        and obj.__module__.split(".")[1] in CORE
    )


def test_import_is_cheap_and_loads_on_access():
    out = run_python("""
        import json, sys
        import keras_imbalance
        heavy = sorted({"keras", "tensorflow", "jax", "torch"} & set(sys.modules))
        try:
            keras_imbalance.no_such_name
        except AttributeError as exc:
            missing = str(exc)
        counts = keras_imbalance.class_counts([0, 1, 1]).tolist()
        print(json.dumps({
            "heavy": heavy,
            "missing": missing,
            "dir": dir(keras_imbalance),
            "counts": counts,
            "keras_after_counts": "keras" in sys.modules,
            "version": keras_imbalance.__version__,
        }))
    """)
    assert out["heavy"] == []
    assert out["missing"] == "module 'keras_imbalance' has no attribute 'no_such_name'"
    assert set(keras_imbalance.__all__) <= set(out["dir"])
    assert {"losses", "data", "class_counts", "__version__"} <= set(out["dir"])
    assert out["counts"] == [1, 2]
    assert not out["keras_after_counts"]  # class statistics need only NumPy
    assert out["version"] == keras_imbalance.__version__


def test_load_model_after_import_keras_imbalance_then_keras(model_path, registered):
    out = run_python(
        "import keras_imbalance\nimport keras\nimport numpy as np",
        f"PATH = {model_path!r}",
        LOAD,
        EVALUATE,
        REPORT,
    )
    assert out["loss"] == "FocalLoss"
    assert "SqueezeExcitation" in out["layers"]
    assert "balanced_accuracy" in out["results"]
    assert out["registered"] == registered
    assert out["hooks"] == []  # one-shot: gone once Keras has loaded
    # Registration imports the core only: the TensorFlow pipelines stay lazy.
    assert "keras_imbalance.data" not in out["modules"]
    assert "keras_imbalance.export" not in out["modules"]


def test_load_model_after_import_keras_then_keras_imbalance(model_path, registered):
    out = run_python(
        f"""
        import keras
        import numpy as np
        PATH = {model_path!r}
        try:
            keras.saving.load_model(PATH)
        except Exception as exc:
            unregistered = repr(exc)
        else:
            unregistered = None
        import keras_imbalance
        """,
        LOAD,
        "extra['unregistered'] = unregistered",
        REPORT,
    )
    # Without keras_imbalance the file does not load: the test means something.
    assert out["unregistered"] is not None
    assert out["loss"] == "FocalLoss"
    assert out["registered"] == registered
    assert out["hooks"] == []


def test_load_model_after_a_submodule_import(model_path, registered):
    # `losses` imports Keras itself, half-way through its own import.
    out = run_python(
        "import keras_imbalance\nassert keras_imbalance.losses.FocalLoss",
        "import keras\nimport numpy as np",
        f"PATH = {model_path!r}",
        LOAD,
        REPORT,
    )
    assert out["loss"] == "FocalLoss"
    assert out["registered"] == registered
    assert out["hooks"] == []


def test_core_needs_no_tensorflow_on_the_numpy_backend(registered):
    out = run_python(
        """
        import json, sys
        try:
            import keras
        except ImportError as exc:  # Keras's NumPy backend imports JAX
            print(json.dumps({"skip": repr(exc)}))
            raise SystemExit
        extra = {
            "backend": keras.backend.backend(),
            "keras_tf": "tensorflow" in sys.modules,
        }
        import keras_imbalance.losses, keras_imbalance.metrics, keras_imbalance.layers
        import keras_imbalance.models, keras_imbalance.callbacks
        try:
            import keras_imbalance.optimizers
        except ModuleNotFoundError:  # while being added
            pass
        """,
        REPORT,
        KERAS_BACKEND="numpy",
    )
    if "skip" in out:
        pytest.skip(f"Keras's NumPy backend does not load here: {out['skip']}")
    assert out["backend"] == "numpy"
    if out["keras_tf"]:
        pytest.skip("Keras itself imports TensorFlow on the NumPy backend")
    assert not out["tensorflow"]
    assert out["registered"] == registered
