"""The losses and metrics on Keras' JAX backend, in a subprocess.

The test process runs on TensorFlow; a child process with
`KERAS_BACKEND=jax` computes every loss and metric on the same inputs, trains
and evaluates a small model with them under JAX's compiled step, and feeds
it an invalid label. Values must equal TensorFlow's to 1e-5, and the invalid
label must give NaN (a compiled JAX step cannot raise).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

SETUP = textwrap.dedent(
    """
    import numpy as np
    from keras_imbalance import losses as L, metrics as M

    rng = np.random.default_rng(0)
    z = rng.normal(size=(16, 3)).astype("float32") * 3
    y = np.arange(16) % 3
    multi = (rng.random(size=(16, 3)) > 0.5).astype("float32")
    counts = [40, 10, 2]
    cases = {
        "FocalLoss": (L.FocalLoss(from_logits=True), y),
        "WeightedCrossEntropy": (
            L.WeightedCrossEntropy([1.0, 2.0, 3.0], from_logits=True), y),
        "ClassBalancedLoss": (L.ClassBalancedLoss(counts, from_logits=True), y),
        "LDAMLoss": (L.LDAMLoss(counts), y),
        "BalancedSoftmaxLoss": (L.BalancedSoftmaxLoss(counts), y),
        "LogitAdjustedLoss": (L.LogitAdjustedLoss(class_counts=counts), y),
        "DiceLoss": (L.DiceLoss(from_logits=True), y),
        "TverskyLoss": (L.TverskyLoss(from_logits=True), y),
        "BinaryFocalLoss": (L.BinaryFocalLoss(from_logits=True), multi),
        "AsymmetricLoss": (L.AsymmetricLoss(from_logits=True), multi),
    }
    """
)

CHILD = SETUP + textwrap.dedent(
    """
    import json
    import keras

    out = {"backend": keras.backend.backend(), "losses": {}, "metrics": {}}
    for name, (loss, target) in cases.items():
        out["losses"][name] = float(keras.ops.convert_to_numpy(loss(target, z)))
    for name in ("BalancedAccuracy", "MacroF1", "GeometricMeanRecall"):
        metric = getattr(M, name)(3)
        metric.update_state(y, z)
        out["metrics"][name] = float(keras.ops.convert_to_numpy(metric.result()))

    keras.utils.set_random_seed(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    labels = np.arange(64) % 3
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        optimizer="adam",
        loss=L.LDAMLoss(counts),
        metrics=[M.BalancedAccuracy(3), M.MacroF1(3)],
    )
    history = model.fit(x, labels, epochs=2, batch_size=16, verbose=0)
    out["fit"] = {k: v[-1] for k, v in history.history.items()}
    good = model.evaluate(x, labels, verbose=0, return_dict=True)
    bad_labels = labels.copy()
    bad_labels[5] = 3
    bad = model.evaluate(x, bad_labels, verbose=0, return_dict=True)
    out["evaluate"] = {"good": good, "bad": bad}
    import tensorflow as tf
    from keras_imbalance.callbacks import ImbalanceMonitor

    val = tf.data.Dataset.from_tensor_slices((x, labels)).batch(16)
    history = model.fit(
        x, labels, epochs=1, verbose=0, callbacks=[ImbalanceMonitor(val)]
    )
    out["monitor"] = {k: v[-1] for k, v in history.history.items()}
    try:
        L.FocalLoss(from_logits=True)([0, 1, 7], z[:3])
        out["eager_error"] = None
    except ValueError as error:
        out["eager_error"] = str(error)
    print("REPORT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def jax_report():
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [s for s in done.stdout.splitlines() if s.startswith("REPORT")][-1]
    return json.loads(line[len("REPORT") :])


def test_runs_on_jax(jax_report):
    assert jax_report["backend"] == "jax"


def test_losses_and_metrics_equal_tensorflow(jax_report):
    import keras

    from keras_imbalance import metrics as M

    assert keras.backend.backend() == "tensorflow"
    namespace = {}
    exec(SETUP, namespace)  # the same inputs and cases as the JAX child
    cases, y, z = namespace["cases"], namespace["y"], namespace["z"]
    assert sorted(cases) == sorted(jax_report["losses"])
    for name, (loss, target) in cases.items():
        np.testing.assert_allclose(
            jax_report["losses"][name], float(loss(target, z)), rtol=1e-5, err_msg=name
        )
    for name, value in jax_report["metrics"].items():
        metric = getattr(M, name)(3)
        metric.update_state(y, z)
        np.testing.assert_allclose(value, float(metric.result()), rtol=1e-5)


def test_fit_and_evaluate_under_jax_compiled_step(jax_report):
    fit = jax_report["fit"]
    assert np.isfinite(fit["loss"])
    assert 0.0 <= fit["balanced_accuracy"] <= 1.0
    good = jax_report["evaluate"]["good"]
    assert all(np.isfinite(v) for v in good.values())


def test_invalid_label_is_nan_under_jax_and_an_error_eagerly(jax_report):
    bad = jax_report["evaluate"]["bad"]
    assert np.isnan(bad["loss"])
    assert np.isnan(bad["balanced_accuracy"])
    assert np.isnan(bad["macro_f1"])
    assert jax_report["eager_error"].startswith(
        "y_true holds labels that are not class ids of the 3 classes"
    )


def test_imbalance_monitor_with_a_tf_data_validation_set_on_jax(jax_report):
    monitor = jax_report["monitor"]
    assert 0.0 <= monitor["val_balanced_accuracy"] <= 1.0
    assert {"val_macro_f1", "val_g_mean", "val_recall/0"} <= set(monitor)
