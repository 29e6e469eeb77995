"""The losses and metrics on Keras' JAX and PyTorch backends, in subprocesses.

The test process runs on TensorFlow; one child process per backend
(`KERAS_BACKEND=jax`, `KERAS_BACKEND=torch`) computes every loss and metric
on the same inputs, compiles, fits, evaluates, saves (`.keras`) and reloads a
small model with each loss, and feeds it an invalid label. Values must equal
TensorFlow's to 1e-5; the invalid label gives NaN under JAX (a compiled step
cannot raise) and the eager error under PyTorch (its steps run eagerly).
"""

import textwrap

import numpy as np
import pytest

from tests.child_report import child_report

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

LABEL_ERROR = "y_true holds labels that are not class ids of the 3 classes"

SETUP = textwrap.dedent(
    """
    import numpy as np
    from keras_imbalance import losses as L, metrics as M

    rng = np.random.default_rng(0)
    z = rng.normal(size=(16, 3)).astype("float32") * 3
    y = np.arange(16) % 3
    multi = (rng.random(size=(16, 3)) > 0.5).astype("float32")
    counts = [40, 10, 2]
    kernel = (rng.normal(size=(4, 3)) * 0.5).tolist()


    def make_model():
        # Fixed weights: each backend draws its own from the same seed.
        import keras

        dense = keras.layers.Dense(
            3, kernel_initializer=keras.initializers.Constant(kernel)
        )
        return keras.Sequential([keras.Input((4,)), dense])
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
        "SigmoidFocalCrossEntropy": (
            L.SigmoidFocalCrossEntropy(
                from_logits=True, reduction="sum_over_batch_size"
            ),
            multi,
        ),
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

    x = rng.normal(size=(64, 4)).astype("float32")
    labels = np.arange(64) % 3
    multi_labels = (x[:, :3] > 0).astype("float32")
    out["models"] = {}
    for name, (loss, target) in cases.items():
        model = make_model()
        model.compile(optimizer="sgd", loss=loss)
        data = multi_labels if target is multi else labels
        history = model.fit(x, data, epochs=1, batch_size=32, shuffle=False, verbose=0)
        before = model.evaluate(x, data, verbose=0)
        model.save(f"{name}.keras")
        loaded = keras.saving.load_model(f"{name}.keras")
        out["models"][name] = {
            "fit": history.history["loss"][-1],
            "evaluate": before,
            "loaded": loaded.evaluate(x, data, verbose=0),
            "loss_class": type(loaded.loss).__name__,
        }
    try:
        L.SigmoidFocalCrossEntropy()
        out["sigmoid_focal_default"] = None
    except ValueError as error:
        out["sigmoid_focal_default"] = str(error)

    keras.utils.set_random_seed(0)
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
    try:
        bad = model.evaluate(x, bad_labels, verbose=0, return_dict=True)
    except ValueError as error:
        bad = str(error)
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


@pytest.fixture(scope="module", params=["jax", "torch"])
def jax_report(request, tmp_path_factory):
    pytest.importorskip(request.param)
    return child_report(
        CHILD,
        cwd=tmp_path_factory.mktemp(request.param),
        KERAS_BACKEND=request.param,
    )


def test_runs_on_the_backend(jax_report, request):
    assert jax_report["backend"] == request.node.callspec.params["jax_report"]


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


def test_every_loss_fits_evaluates_and_reloads_as_on_tensorflow(jax_report):
    namespace = {}
    exec(SETUP, namespace)
    cases, multi = namespace["cases"], namespace["multi"]
    x = namespace["rng"].normal(size=(64, 4)).astype("float32")
    labels = np.arange(64) % 3
    multi_labels = (x[:, :3] > 0).astype("float32")
    assert sorted(jax_report["models"]) == sorted(cases)
    for name, (loss, target) in cases.items():
        got = jax_report["models"][name]
        model = namespace["make_model"]()
        model.compile(optimizer="sgd", loss=loss)
        data = multi_labels if target is multi else labels
        fit = model.fit(x, data, epochs=1, batch_size=32, shuffle=False, verbose=0)
        assert got["loss_class"] == type(loss).__name__
        np.testing.assert_allclose(
            got["fit"], fit.history["loss"][-1], rtol=1e-5, err_msg=name
        )
        want = model.evaluate(x, data, verbose=0)
        np.testing.assert_allclose(got["evaluate"], want, rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(got["loaded"], want, rtol=1e-5, err_msg=name)


def test_sigmoid_focal_default_reduction_names_reduction(jax_report):
    assert jax_report["sigmoid_focal_default"].startswith(
        "SigmoidFocalCrossEntropy keeps TF-Addons' per-sample default "
        "(reduction=None, one loss per sample) on the TensorFlow backend only: "
        f"model.fit on the {jax_report['backend']} backend needs a scalar loss."
    )


def test_fit_and_evaluate_under_the_backend_step(jax_report):
    fit = jax_report["fit"]
    assert np.isfinite(fit["loss"])
    assert 0.0 <= fit["balanced_accuracy"] <= 1.0
    good = jax_report["evaluate"]["good"]
    assert all(np.isfinite(v) for v in good.values())


def test_invalid_label_is_nan_under_jax_and_an_error_eagerly(jax_report):
    bad = jax_report["evaluate"]["bad"]
    if jax_report["backend"] == "torch":  # eager steps: the eager error
        assert bad.startswith(LABEL_ERROR)
        return
    assert np.isnan(bad["loss"])
    assert np.isnan(bad["balanced_accuracy"])
    assert np.isnan(bad["macro_f1"])
    assert jax_report["eager_error"].startswith(LABEL_ERROR)


def test_imbalance_monitor_with_a_tf_data_validation_set(jax_report):
    monitor = jax_report["monitor"]
    assert 0.0 <= monitor["val_balanced_accuracy"] <= 1.0
    assert {"val_macro_f1", "val_g_mean", "val_recall/0"} <= set(monitor)
