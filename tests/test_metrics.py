"""Tests for `keras_imbalance.metrics`.

Each metric accumulates a confusion matrix over batches; its result must equal
the scikit-learn / imbalanced-learn score (or the NumPy reference of the OLTR
group accuracy) of all the predictions seen since the last reset.

The checks that every metric passes, and their data, are in `metrics_checks.py`;
here each metric adds its own, and one compiled model holds them all.
"""

import re
import warnings

import keras
import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, f1_score

from keras_imbalance import metrics
from keras_imbalance.metrics import (
    BalancedAccuracy,
    GeometricMeanRecall,
    GroupAccuracy,
    MacroF1,
    group_of_classes,
)
from tests.metrics_checks import (
    NUM_CLASSES,
    PRIORS,
    TOL,
    TRAIN_COUNTS,
    ConfusionMetricChecks,
    accumulate,
    concat,
    group_accuracy_reference,
    make_batches,
    one_hot,
)

# --- one test class per metric ----------------------------------------------


class TestBalancedAccuracy(ConfusionMetricChecks):
    name = "balanced_accuracy"

    def make(self, num_classes=NUM_CLASSES, **kwargs):
        return BalancedAccuracy(num_classes=num_classes, **kwargs)

    def reference(self, y, pred, sample_weight=None, num_classes=NUM_CLASSES):
        return balanced_accuracy_score(y, pred, sample_weight=sample_weight)

    def test_docstring_numbers(self):
        # Recalls 2/3, 1, 1.
        metric = self.make(num_classes=3)
        metric.update_state(
            [0, 0, 0, 1, 2],
            [[0.9, 0.1, 0], [0.8, 0.2, 0], [0.2, 0.8, 0], [0.1, 0.9, 0], [0, 0.3, 0.7]],
        )
        assert float(metric.result()) == pytest.approx(8 / 9)

    @pytest.mark.parametrize("num_classes", [1, 0, -2, None, 2.0, True])
    def test_num_classes_below_two(self, num_classes):
        with pytest.raises(ValueError, match="argument `num_classes`"):
            BalancedAccuracy(num_classes=num_classes)


class TestMacroF1(ConfusionMetricChecks):
    name = "macro_f1"

    def make(self, num_classes=NUM_CLASSES, **kwargs):
        return MacroF1(num_classes=num_classes, **kwargs)

    def reference(self, y, pred, sample_weight=None, num_classes=NUM_CLASSES):
        return f1_score(
            y, pred, average="macro", sample_weight=sample_weight, zero_division=0
        )

    def test_matches_keras_f1_score_on_one_hot(self):
        # Keras' F1Score takes one-hot labels only; with every class present
        # in the labels and the predictions the two agree.
        batches = make_batches(17)
        keras_f1 = keras.metrics.F1Score(average="macro")
        for y, logits in batches:
            keras_f1.update_state(one_hot(y), one_hot(logits.argmax(-1)))
        assert accumulate(self.make(), batches) == pytest.approx(
            float(keras_f1.result()), abs=TOL
        )

    @pytest.mark.parametrize("num_classes", [1, 0, -2, None, 2.0, True])
    def test_num_classes_below_two(self, num_classes):
        with pytest.raises(ValueError, match="argument `num_classes`"):
            MacroF1(num_classes=num_classes)


class TestGeometricMeanRecall(ConfusionMetricChecks):
    name = "g_mean"
    correction = 0.0

    def make(self, num_classes=NUM_CLASSES, **kwargs):
        kwargs.setdefault("correction", self.correction)
        return GeometricMeanRecall(num_classes=num_classes, **kwargs)

    def reference(self, y, pred, sample_weight=None, num_classes=NUM_CLASSES):
        return geometric_mean_score(
            y, pred, sample_weight=sample_weight, correction=self.correction
        )

    def test_zero_recall_gives_zero(self):
        batches = make_batches(18, n_batches=2)
        for _, logits in batches:
            logits[:, 3] -= 10.0
        assert accumulate(self.make(correction=0.0), batches) == 0.0

    @pytest.mark.parametrize("correction", [0.001, 0.05])
    def test_correction(self, correction):
        batches = make_batches(19, n_batches=3)
        for y, logits in batches:
            y[y == 4] = 0
            logits[::9, 4] += 10.0  # class 4 only in predictions: recall 0
            logits[:, 3] -= 10.0  # class 3 never predicted: recall 0
        y, logits = concat(batches)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # imblearn: recall of class 4 is 0/0
            expected = geometric_mean_score(y, logits.argmax(-1), correction=correction)
        assert expected > 0.0
        result = accumulate(self.make(correction=correction), batches)
        assert result == pytest.approx(expected, abs=TOL)

    def test_docstring_numbers(self):
        metric = self.make(num_classes=2)
        metric.update_state(
            [0, 0, 0, 1], [[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]]
        )
        assert float(metric.result()) == pytest.approx(np.sqrt(2 / 3))

    @pytest.mark.parametrize("correction", [-0.1, 1.5, float("nan"), "0.1"])
    def test_bad_correction(self, correction):
        with pytest.raises(ValueError, match="argument `correction`"):
            GeometricMeanRecall(num_classes=3, correction=correction)

    @pytest.mark.parametrize("num_classes", [1, 0, -2, None, 2.0, True])
    def test_num_classes_below_two(self, num_classes):
        with pytest.raises(ValueError, match="argument `num_classes`"):
            GeometricMeanRecall(num_classes=num_classes)


class TestGeometricMeanRecallWithCorrection(TestGeometricMeanRecall):
    """The shared checks again, with imblearn's `correction` in use."""

    correction = 0.01

    def test_default_name(self):
        assert self.make().name == "g_mean"

    # The compiled model holds GeometricMeanRecall(correction=0) only.
    test_in_compiled_model = None
    test_weighted_in_compiled_model = None


class TestGroupAccuracy(ConfusionMetricChecks):
    name = "few_shot_accuracy"
    group = "few"

    @staticmethod
    def train_counts(num_classes):
        if num_classes == NUM_CLASSES:
            return TRAIN_COUNTS
        return [300] + [10] * (num_classes - 1)  # many {0}, few the rest

    def make(self, num_classes=NUM_CLASSES, **kwargs):
        kwargs.setdefault("group", self.group)
        return GroupAccuracy(self.train_counts(num_classes), **kwargs)

    def reference(self, y, pred, sample_weight=None, num_classes=NUM_CLASSES):
        members = group_of_classes(self.train_counts(num_classes), self.group)
        return group_accuracy_reference(y, pred, members, sample_weight)

    def test_default_group_is_few(self):
        assert GroupAccuracy(TRAIN_COUNTS).group == "few"

    @pytest.mark.parametrize(
        "group, members",
        [("many", [0]), ("medium", [1, 2]), ("few", [3, 4])],
    )
    def test_groups(self, group, members):
        np.testing.assert_array_equal(group_of_classes(TRAIN_COUNTS, group), members)
        batches = make_batches(20)
        y, logits = concat(batches)
        pred = logits.argmax(-1)
        expected = group_accuracy_reference(y, pred, members)
        metric = GroupAccuracy(TRAIN_COUNTS, group=group)
        assert metric.name == f"{group}_shot_accuracy"
        assert accumulate(metric, batches) == pytest.approx(expected, abs=TOL)

    def test_groups_partition_the_classes(self):
        counts = [500, 101, 100, 20, 19, 3, 0]
        groups = {g: group_of_classes(counts, g) for g in ("many", "medium", "few")}
        np.testing.assert_array_equal(groups["many"], [0, 1])
        np.testing.assert_array_equal(groups["medium"], [2, 3])
        np.testing.assert_array_equal(groups["few"], [4, 5, 6])

    def test_mean_of_recalls_not_pooled_accuracy(self):
        # Class 3: 1 of 1 right; class 4: 0 of 3 right. OLTR averages the
        # per-class recalls (0.5), not the pooled accuracy (0.25).
        y = np.array([3, 4, 4, 4, 0])
        logits = one_hot([3, 0, 0, 0, 0])
        metric = GroupAccuracy(TRAIN_COUNTS, group="few")
        metric.update_state(y, logits)
        assert float(metric.result()) == pytest.approx(0.5)

    def test_group_classes_absent_from_labels_are_left_out(self):
        y = np.array([0, 1, 3, 3, 3])  # class 4 (few-shot) absent
        logits = one_hot([0, 1, 3, 3, 4])
        metric = GroupAccuracy(TRAIN_COUNTS, group="few")
        metric.update_state(y, logits)
        assert float(metric.result()) == pytest.approx(2 / 3)

    def test_custom_thresholds(self):
        counts = [80, 60, 40, 9, 4]
        batches = make_batches(21)
        y, logits = concat(batches)
        for group, members in [("many", [0, 1]), ("medium", [2]), ("few", [3, 4])]:
            metric = GroupAccuracy(
                counts, group=group, many_threshold=50, few_threshold=10
            )
            expected = group_accuracy_reference(y, logits.argmax(-1), members)
            assert accumulate(metric, batches) == pytest.approx(expected, abs=TOL)

    def test_docstring_numbers(self):
        metric = GroupAccuracy([500, 200, 10], group="few")
        metric.update_state(
            [0, 1, 2, 2],
            [[0.9, 0.1, 0], [0.2, 0.8, 0], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]],
        )
        assert float(metric.result()) == pytest.approx(0.5)

    @pytest.mark.parametrize(
        "counts, group, message",
        [
            ([500, 200], "few", "No class is few-shot"),
            ([5, 10, 19], "many", "No class is many-shot"),
            ([500, 5], "medium", "No class is medium-shot"),
        ],
    )
    def test_empty_group(self, counts, group, message):
        with pytest.raises(ValueError, match=message):
            GroupAccuracy(counts, group=group)

    @pytest.mark.parametrize("group", ["tail", "Few", None])
    def test_unknown_group(self, group):
        with pytest.raises(ValueError, match="argument `group`"):
            GroupAccuracy(TRAIN_COUNTS, group=group)
        with pytest.raises(ValueError, match="argument `group`"):
            group_of_classes(TRAIN_COUNTS, group)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"class_counts": [10]}, "argument `num_classes`"),
            ({"class_counts": []}, "argument `class_counts`"),
            ({"class_counts": [10, -1]}, "argument `class_counts`"),
            ({"class_counts": [0, 0]}, "argument `class_counts`"),
            ({"class_counts": TRAIN_COUNTS, "many_threshold": -1}, "many_threshold"),
            (
                {"class_counts": TRAIN_COUNTS, "few_threshold": 200},
                "argument `few_threshold`",
            ),
        ],
    )
    def test_bad_class_counts_and_thresholds(self, kwargs, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            GroupAccuracy(**kwargs)

    def test_config_stores_class_counts(self):
        config = GroupAccuracy(np.array(TRAIN_COUNTS), group="medium").get_config()
        assert config["class_counts"] == TRAIN_COUNTS
        assert config["group"] == "medium"
        assert "num_classes" not in config


# --- a compiled, trained, saved and reloaded model --------------------------

METRIC_NAMES = ["balanced_accuracy", "macro_f1", "g_mean", "few_shot_accuracy"]


def _all_metrics(prefix=""):
    return [
        BalancedAccuracy(NUM_CLASSES, name=prefix + "balanced_accuracy"),
        MacroF1(NUM_CLASSES, name=prefix + "macro_f1"),
        GeometricMeanRecall(NUM_CLASSES, name=prefix + "g_mean"),
        GroupAccuracy(TRAIN_COUNTS, group="few", name=prefix + "few_shot_accuracy"),
    ]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """A 1-layer classifier compiled with every metric, fit, saved, reloaded."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.choice(NUM_CLASSES, size=120, p=PRIORS)
    signal = 2.5 * np.pad(one_hot(y), ((0, 0), (0, 3)))
    x = (rng.normal(size=(120, 8)) + signal).astype("float32")
    sample_weight = rng.uniform(0.2, 2.0, size=120).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(NUM_CLASSES)])
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=_all_metrics(),
        weighted_metrics=_all_metrics(prefix="weighted_"),
    )
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("metrics") / "m.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)

    def evaluate(m, weights=None):
        return m.evaluate(
            x, y, sample_weight=weights, batch_size=32, verbose=0, return_dict=True
        )

    return {
        "original": evaluate(model),
        "reloaded": evaluate(reloaded),
        "weighted": evaluate(model, sample_weight),
        "reloaded_weighted": evaluate(reloaded, sample_weight),
        "y": y,
        "pred": model.predict(x, batch_size=32, verbose=0).argmax(-1),
        "sample_weight": sample_weight,
    }


@pytest.mark.slow
def test_compiled_model_reports_every_metric(trained_model):
    for results in (trained_model["original"], trained_model["reloaded"]):
        for name in METRIC_NAMES:
            assert name in results
            assert "weighted_" + name in results
            assert np.isfinite(results[name])


ALL_METRICS = [
    lambda: metrics.BalancedAccuracy(4),
    lambda: metrics.MacroF1(4),
    lambda: metrics.GeometricMeanRecall(4, correction=0.01),
    lambda: metrics.GroupAccuracy([300, 60, 10, 5], group="few"),
]


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="a metric's state in a tf.function of a tf.Module, saved as a "
    "SavedModel: TensorFlow variables only (`.keras` files: trained_model)",
)
@pytest.mark.parametrize("factory", ALL_METRICS)
def test_saved_model_round_trip(factory, tmp_path):
    import tensorflow as tf

    metric = factory()
    module = tf.Module()
    # Keras variables are tracked through their backing tf.Variable.
    module.metric_variables = [v.value for v in metric.variables]
    spec = [tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None, 4), tf.float32)]

    @tf.function(input_signature=spec)
    def update(y_true, y_pred):
        metric.update_state(y_true, y_pred)
        return metric.result()

    module.update = update
    module.reset = tf.function(metric.reset_state, input_signature=[])
    tf.saved_model.save(module, str(tmp_path / "metric"))
    loaded = tf.saved_model.load(str(tmp_path / "metric"))
    reference = factory()
    rng = np.random.default_rng(11)
    for _ in range(3):
        y = rng.integers(0, 4, size=16).astype("int32")
        p = rng.random(size=(16, 4)).astype("float32")
        reference.update_state(y, p)
        np.testing.assert_allclose(loaded.update(y, p), reference.result(), rtol=1e-6)
    loaded.reset()
    reference.reset_state()
    np.testing.assert_allclose(
        loaded.update(y, p), (reference.update_state(y, p), reference.result())[1]
    )


@pytest.mark.slow
@pytest.mark.parametrize("factory", ALL_METRICS)
def test_jit_compiled_evaluation(factory):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.integers(0, 4, size=64)
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
        model.compile(
            loss="sparse_categorical_crossentropy", metrics=[factory()], jit_compile=jit
        )
        results.append(model.evaluate(x, y, batch_size=16, verbose=0))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
