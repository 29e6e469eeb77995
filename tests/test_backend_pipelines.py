"""`tf.data` pipelines feeding JAX and PyTorch models, and SavedModel export.

One child process per backend (`KERAS_BACKEND=jax` or `torch`) builds every
pipeline of `keras_imbalance.data` (the samplers, progressive sampling,
mixup / CutMix / Remix, SMOTE, class-aware augmentation), fits a small model
on each, and exports a model with `export_saved_model`; it prints a JSON
report that the tests below check. The label fraction of the batches is
measured inside `fit` by a metric, so the class distribution the model sees
is the one checked.
"""

import os
import textwrap

import numpy as np
import pytest

from tests.child_report import child_report

pytestmark = pytest.mark.slow  # the whole file: see pyproject.toml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNTS = [90, 10]

CHILD = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import numpy as np
    import keras
    from keras import ops
    import keras_imbalance

    before_data = "tensorflow" in sys.modules
    from keras_imbalance import data as D
    import tensorflow as tf

    out = {"backend": keras.backend.backend(), "tf_before_data": before_data}
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    counts = [90, 10]
    y = np.repeat([0, 1], counts)
    x = rng.normal(size=(100, 4)).astype("float32") + y[:, None]
    images = rng.random((100, 8, 8, 3)).astype("float32")


    def minority_fraction(y_true, y_pred):
        y_true = ops.reshape(y_true, (ops.shape(y_pred)[0], -1))
        if ops.shape(y_true)[-1] == 2:  # one-hot or soft labels
            return y_true[:, 1]
        return ops.cast(ops.equal(y_true[:, 0], 1), "float32")


    def fit(ds, shape, epochs=1, soft=False, callbacks=(), steps=None):
        inputs = keras.Input(shape)
        h = keras.layers.Flatten()(inputs)
        model = keras.Model(inputs, keras.layers.Dense(2)(h))
        loss = (
            keras.losses.CategoricalCrossentropy(from_logits=True)
            if soft
            else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        model.compile(
            "sgd",
            loss,
            metrics=[keras.metrics.MeanMetricWrapper(minority_fraction, "p1")],
        )
        history = model.fit(
            ds, epochs=epochs, steps_per_epoch=steps, verbose=0,
            callbacks=list(callbacks),
        )
        return {k: [float(v) for v in vs] for k, vs in history.history.items()}


    fits = out["fits"] = {}
    for mode in ("balanced", "sqrt"):
        ds = D.balanced_dataset(x, y, batch_size=32, sampling=mode,
                                steps_per_epoch=20, seed=0)
        fits[mode] = fit(ds, (4,))
    ds = D.balanced_dataset(x, y, batch_size=32, sampling="progressive",
                            steps_per_epoch=20, seed=0)
    fits["progressive"] = fit(
        ds, (4,), epochs=3, callbacks=[D.ProgressiveSampling(ds, total_epochs=2)]
    )
    plain = tf.data.Dataset.from_tensor_slices((images, y)).shuffle(
        100, seed=0, reshuffle_each_iteration=False
    )
    fits["mixup"] = fit(D.mixup(plain.batch(20), num_classes=2, seed=0),
                        (8, 8, 3), soft=True)
    fits["cutmix"] = fit(D.cutmix(plain.batch(20), num_classes=2, seed=0),
                         (8, 8, 3), soft=True)
    fits["remix"] = fit(D.remix(plain.batch(20), class_counts=counts, seed=0),
                        (8, 8, 3), soft=True)
    fits["smote"] = fit(D.smote_dataset(x, y, batch_size=20, seed=0), (4,))
    encoder = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    fits["feature_space_smote"] = fit(
        D.feature_space_oversample(encoder, x, y, batch_size=20, seed=0), (3,)
    )

    def augmented(augmenter):
        ds = D.augment_minority(plain, augmenter, class_counts=counts, seed=0)
        got = list(ds.batch(100).as_numpy_iterator())[0]
        # Order is kept: compare each output row with the input row.
        order = list(plain.batch(100).as_numpy_iterator())[0]
        changed = np.abs(got[0] - order[0]).reshape(100, -1).max(axis=1) > 0
        return {
            "labels_kept": bool(np.array_equal(got[1], order[1])),
            "head_changed": int(changed[order[1] == 0].sum()),
            "tail_changed": int(changed[order[1] == 1].sum()),
            "fit": fit(ds.batch(20), (8, 8, 3), epochs=2),
        }

    out["augment"] = {
        "pipeline": augmented(D.default_image_augmenter(seed=0)),
        "sequential": augmented(keras.Sequential(
            [keras.Input((8, 8, 3)), keras.layers.RandomFlip(seed=1),
             keras.layers.RandomRotation(0.2, seed=2)]
        )),
    }

    from keras_imbalance.export import export_saved_model, load_exported

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(5)(inputs)))
    path = os.path.join(tempfile.mkdtemp(), "model")
    try:
        export_saved_model(model, path, class_names=["no", "yes"], threshold=0.7)
    except NotImplementedError as error:
        out["export_error"] = str(error)
        pt2 = os.path.join(tempfile.mkdtemp(), "model.pt2")
        model.export(pt2, format="torch", verbose=False)  # the named alternative
        out["torch_export"] = os.path.getsize(pt2) > 0
    else:
        served = load_exported(path)
        result = served(x[:8])
        out["export"] = {
            "keras_logits": ops.convert_to_numpy(model(x[:8])).tolist(),
            "logits": result["logits"].tolist(),
            "probabilities": result["probabilities"].tolist(),
            "class_name": result["class_name"].tolist(),
            "threshold": served.threshold,
        }
    print("REPORT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module", params=["jax", "torch"])
def report(request):
    pytest.importorskip(request.param)
    out = child_report(CHILD, KERAS_BACKEND=request.param)
    assert out["backend"] == request.param
    return out


def test_tensorflow_loads_with_the_data_module_only(report):
    assert not report["tf_before_data"]


def test_every_pipeline_fits_with_finite_losses(report):
    expected = {
        "balanced",
        "sqrt",
        "progressive",
        "mixup",
        "cutmix",
        "remix",
        "smote",
        "feature_space_smote",
    }
    assert set(report["fits"]) == expected
    for name, history in report["fits"].items():
        assert history["loss"] and np.all(np.isfinite(history["loss"])), name
    for name, case in report["augment"].items():
        assert np.all(np.isfinite(case["fit"]["loss"])), name


def test_samplers_draw_the_target_distribution(report):
    # 640 draws an epoch: the fraction's standard deviation is under 0.02.
    fits = report["fits"]
    sqrt = np.sqrt(COUNTS[1]) / np.sqrt(COUNTS).sum()
    assert fits["balanced"]["p1"][0] == pytest.approx(0.5, abs=0.08)
    assert fits["sqrt"]["p1"][0] == pytest.approx(sqrt, abs=0.08)


def test_progressive_sampling_follows_its_schedule_in_fit(report):
    # p_1(t) = (1 - t/2) * 0.1 + (t/2) * 0.5 for t = 0, 1, 2 (then balanced).
    fractions = report["fits"]["progressive"]["p1"]
    np.testing.assert_allclose(fractions, [0.1, 0.3, 0.5], atol=0.08)
    assert fractions[0] < fractions[1] < fractions[2]


def test_mixing_and_smote_change_the_label_distribution(report):
    fits = report["fits"]
    # SMOTE balances the classes; the mixed labels are soft.
    assert fits["smote"]["p1"][0] == pytest.approx(0.5, abs=0.01)
    assert fits["feature_space_smote"]["p1"][0] == pytest.approx(0.5, abs=0.01)
    for name in ("mixup", "cutmix"):
        assert fits[name]["p1"][0] == pytest.approx(0.1, abs=0.05), name
    # Remix pushes mixed labels of head-tail pairs towards the tail.
    assert fits["remix"]["p1"][0] > fits["mixup"]["p1"][0]


def test_augment_minority_augments_the_tail_only(report):
    for name, case in report["augment"].items():
        assert case["labels_kept"], name
        assert case["head_changed"] == 0, name  # p = 0 for the head class
        # p = 1 - 10/90 for the tail: most of its 10 samples change.
        assert case["tail_changed"] >= 6, name


def test_export_on_jax_or_a_clear_error_on_torch(report):
    if report["backend"] == "torch":
        message = report["export_error"]
        assert "TensorFlow or JAX Keras backend" in message
        assert 'format="onnx"' in message and 'format="torch"' in message
        assert report["torch_export"]
        return
    exported = report["export"]
    logits = np.array(exported["logits"])
    np.testing.assert_allclose(logits, exported["keras_logits"], atol=1e-5)
    z = logits - logits.max(axis=1, keepdims=True)
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(exported["probabilities"], softmax, atol=1e-5)
    assert exported["threshold"] == 0.7
    names = np.where(softmax[:, 1] >= 0.7, "yes", "no").tolist()
    assert exported["class_name"] == names
