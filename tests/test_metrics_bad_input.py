"""Metrics and the ImbalanceMonitor never report a plausible number on bad input.

Eager `update_state` raises on labels that are not class ids and on NaN
predictions; inside a compiled step (`fit`, `evaluate`, a `tf.function`, a
JAX trace) the metric reads NaN until its next reset. PyTorch's Keras steps
run eagerly, so there `evaluate` raises the eager error. Keras' own accuracy
gives 0.75 on the first case below, and the metrics here used to give 1.0.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance import metrics
from keras_imbalance.callbacks import ImbalanceMonitor
from tests import conformance

C = 3
COUNTS = [100, 30, 2]
METRICS = {
    "BalancedAccuracy": lambda **kw: metrics.BalancedAccuracy(C, **kw),
    "MacroF1": lambda **kw: metrics.MacroF1(C, **kw),
    "GeometricMeanRecall": lambda **kw: metrics.GeometricMeanRecall(C, **kw),
    "GroupAccuracy": lambda **kw: metrics.GroupAccuracy(
        COUNTS, "many", many_threshold=50, few_threshold=5, **kw
    ),
}
PERFECT = np.eye(C, dtype="float32")[[0, 1, 2, 0]]
LABEL_ERROR = "y_true holds labels that are not class ids of the 3 classes"


@pytest.mark.parametrize(
    "labels", [[0, 1, 2, 3], [0, -1, 2, 0], [0, 1, 255, 0], [0.0, 1.5, 2.0, 0.0]]
)
@pytest.mark.parametrize("name", sorted(METRICS))
def test_eager_update_raises_on_labels_outside_classes(name, labels):
    metric = METRICS[name]()
    with pytest.raises(ValueError, match=re.escape(LABEL_ERROR)):
        metric.update_state(np.asarray(labels), PERFECT)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_compiled_update_makes_the_metric_nan_until_reset(name):
    metric = METRICS[name]()
    update = compiled_update(metric)
    good, bad = np.array([0, 1, 2, 0]), np.array([0, 1, 2, 3])
    update(good, PERFECT)
    assert float(metric.result()) == pytest.approx(1.0)
    update(bad, PERFECT)
    assert np.isnan(float(metric.result()))
    update(good, PERFECT)
    assert np.isnan(float(metric.result())), "stays NaN for the epoch"
    metric.reset_state()
    update(good, PERFECT)
    assert float(metric.result()) == pytest.approx(1.0)


def compiled_update(metric):
    update = conformance.traced_update(metric)
    if update is None:
        pytest.skip(conformance.EAGER_STEPS + ": test_evaluate_with_a_bad_label")
    return update


@pytest.mark.parametrize("name", sorted(METRICS))
def test_nan_predictions(name):
    bad = PERFECT.copy()
    bad[1] = np.nan
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        METRICS[name]().update_state(np.array([0, 1, 2, 0]), bad)
    metric = METRICS[name]()
    compiled_update(metric)(np.array([0, 1, 2, 0]), bad)
    assert np.isnan(float(metric.result()))


@pytest.mark.parametrize("name", sorted(METRICS))
def test_ignore_class_is_not_an_error(name):
    metric = METRICS[name](ignore_class=255)
    metric.update_state(np.array([0, 1, 2, 0, 255]), np.eye(C)[[0, 1, 2, 0, 1]])
    assert float(metric.result()) == pytest.approx(1.0)


def test_string_labels_raise_type_error():
    with pytest.raises(TypeError, match="y_true must hold numeric labels"):
        metrics.BalancedAccuracy(C).update_state(
            np.array(["a", "b", "c", "a"]), PERFECT
        )


def test_shape_mismatch_in_our_words():
    with pytest.raises(ValueError, match="disagree on the number of samples"):
        metrics.BalancedAccuracy(C).update_state(np.array([0, 1, 2]), PERFECT)


def test_binary_sigmoid_column_labels_checked_against_two_classes():
    metric = metrics.BalancedAccuracy(2, from_logits=True)
    metric.update_state(np.array([0, 1]), np.array([[-1.0], [2.0]]))
    assert float(metric.result()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="class ids of the 2 classes"):
        metric.update_state(np.array([0, 2]), np.array([[-1.0], [2.0]]))


@pytest.fixture(scope="module")
def model():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = np.arange(32) % C
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(C)])
    net.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.BalancedAccuracy(C)],
    )
    return net, x, y


def test_evaluate_with_a_bad_label_is_nan_or_an_error(model):
    from keras_imbalance.losses import FocalLoss

    _, x, y = model
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(C)])
    net.compile(
        optimizer="sgd",
        loss=FocalLoss(from_logits=True),
        metrics=[metrics.BalancedAccuracy(C, from_logits=True)],
    )
    good = net.evaluate(x, y, verbose=0, return_dict=True)
    assert np.isfinite(good["balanced_accuracy"]) and np.isfinite(good["loss"])
    bad = y.copy()
    bad[3] = 7
    if conformance.backend() == "torch":  # eager steps: the eager error
        with pytest.raises(ValueError, match=re.escape(LABEL_ERROR)):
            net.evaluate(x, bad, verbose=0)
        return
    result = net.evaluate(x, bad, verbose=0, return_dict=True)
    assert np.isnan(result["balanced_accuracy"])
    assert np.isnan(result["loss"])


def test_monitor_refuses_bad_validation_labels_before_training(model):
    net, x, y = model
    net.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    bad = y.copy()
    bad[0] = 3
    weights = [keras.ops.convert_to_numpy(w).copy() for w in net.weights]
    with pytest.raises(
        ValueError,
        match=r"ImbalanceMonitor: the labels of `validation_data` are not class "
        r"ids of the model's 3 outputs",
    ):
        net.fit(x, y, epochs=1, verbose=0, callbacks=[ImbalanceMonitor((x, bad))])
    for before, after in zip(weights, net.weights):
        np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(after))


def test_monitor_refuses_bad_dataset_labels_before_training(model):
    net, x, y = model
    net.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    bad = y.copy()
    bad[0] = -1
    data = tf.data.Dataset.from_tensor_slices((x, bad)).batch(8)
    with pytest.raises(
        ValueError,
        match=r"ImbalanceMonitor: the labels of `validation_data` are not class "
        r"ids of the model's 3 outputs",
    ):
        net.fit(x, y, epochs=1, verbose=0, callbacks=[ImbalanceMonitor(data)])


def test_monitor_names_the_epoch_when_scoring_fails(model):
    # Labels that change between passes (a generator) are caught when scored.
    net, x, y = model
    net.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    monitor = ImbalanceMonitor((x, y))
    net.fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    bad = y.copy()
    bad[0] = -1
    monitor.validation_data = (x, bad)
    with pytest.raises(
        ValueError, match=r"ImbalanceMonitor, validation data at epoch 3: y_true holds"
    ):
        monitor.on_epoch_end(3, logs={})
