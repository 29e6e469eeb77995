"""Batches, references, and the checks that every metric of test_metrics.py passes."""

import json
import re
import warnings

import keras
import numpy as np
import pytest

NUM_CLASSES = 5
PRIORS = np.array([0.5, 0.25, 0.13, 0.08, 0.04])
# Training counts for GroupAccuracy: many {0}, medium {1, 2}, few {3, 4}.
TRAIN_COUNTS = [600, 100, 20, 12, 3]
TOL = 1e-5


# --- data and references ----------------------------------------------------


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(labels, num_classes=NUM_CLASSES):
    return np.eye(num_classes, dtype="float32")[np.asarray(labels)]


def make_batches(seed, n_batches=4, batch_size=40, num_classes=NUM_CLASSES):
    """Imbalanced labels and logits that favour the true class, in batches."""
    rng = np.random.default_rng(seed)
    priors = PRIORS if num_classes == NUM_CLASSES else None
    batches = []
    for _ in range(n_batches):
        y = rng.choice(num_classes, size=batch_size, p=priors)
        logits = rng.normal(size=(batch_size, num_classes)) + 1.2 * one_hot(
            y, num_classes
        )
        batches.append((y, logits.astype("float32")))
    return batches


def concat(batches):
    y = np.concatenate([b[0] for b in batches])
    logits = np.concatenate([b[1] for b in batches])
    return y, logits


def accumulate(metric, batches, weights=None):
    for i, (y, y_pred) in enumerate(batches):
        sample_weight = None if weights is None else weights[i]
        metric.update_state(y, y_pred, sample_weight=sample_weight)
    return float(metric.result())


def group_accuracy_reference(y, pred, members, sample_weight=None):
    """OLTR: mean per-class recall over the group's classes present in y."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    recalls = [
        w[(y == c) & (pred == c)].sum() / w[y == c].sum()
        for c in members
        if w[y == c].sum() > 0
    ]
    return float(np.mean(recalls)) if recalls else 0.0


# --- checks shared by every metric ------------------------------------------


class ConfusionMetricChecks:
    """Checks every confusion-matrix metric passes (not collected itself).

    Subclasses define `make(num_classes, **kwargs)` and
    `reference(y_true, y_pred_classes, sample_weight, num_classes)`.

    `test_in_compiled_model` and `test_weighted_in_compiled_model` take the
    `trained_model` fixture of the test module.
    """

    name = None

    def make(self, num_classes=NUM_CLASSES, **kwargs):
        raise NotImplementedError

    def reference(self, y, pred, sample_weight=None, num_classes=NUM_CLASSES):
        raise NotImplementedError

    def checked_reference(self, y, pred, sample_weight=None, **kwargs):
        # sklearn warns about classes only in y_pred; that case is tested.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.reference(y, pred, sample_weight, **kwargs)

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_matches_reference_over_batches(self, seed):
        batches = make_batches(seed)
        y, logits = concat(batches)
        expected = self.checked_reference(y, logits.argmax(-1))
        assert 0.0 < expected < 1.0
        assert accumulate(self.make(), batches) == pytest.approx(expected, abs=TOL)

    def test_class_only_in_predictions(self):
        batches = make_batches(3, n_batches=3)
        for y, logits in batches:
            y[y == 4] = 0  # class 4 never in the labels ...
            logits[::7, 4] += 10.0  # ... but sometimes predicted
        y, logits = concat(batches)
        assert 4 not in y and 4 in logits.argmax(-1)
        expected = self.checked_reference(y, logits.argmax(-1))
        assert accumulate(self.make(), batches) == pytest.approx(expected, abs=TOL)

    def test_class_only_in_labels(self):
        batches = make_batches(4, n_batches=3)
        for _, logits in batches:
            logits[:, 3] -= 10.0  # class 3 is never predicted
        y, logits = concat(batches)
        assert 3 in y and 3 not in logits.argmax(-1)
        expected = self.checked_reference(y, logits.argmax(-1))
        assert accumulate(self.make(), batches) == pytest.approx(expected, abs=TOL)

    def test_class_never_seen(self):
        batches = make_batches(5, n_batches=2)
        for y, logits in batches:
            y[y == 2] = 1
            logits[:, 2] -= 10.0
        y, logits = concat(batches)
        expected = self.checked_reference(y, logits.argmax(-1))
        assert accumulate(self.make(), batches) == pytest.approx(expected, abs=TOL)

    @pytest.mark.parametrize("weight_shape", ["(B,)", "(B, 1)"])
    def test_sample_weight(self, weight_shape):
        batches = make_batches(6)
        rng = np.random.default_rng(60)
        weights = [rng.uniform(0.1, 3.0, size=len(y)) for y, _ in batches]
        y, logits = concat(batches)
        expected = self.checked_reference(
            y, logits.argmax(-1), sample_weight=np.concatenate(weights)
        )
        unweighted = self.checked_reference(y, logits.argmax(-1))
        assert expected != pytest.approx(unweighted, abs=1e-3)
        if weight_shape == "(B, 1)":
            weights = [w.reshape(-1, 1) for w in weights]
        result = accumulate(self.make(), batches, weights)
        assert result == pytest.approx(expected, abs=TOL)

    def test_integer_weights_repeat_samples(self):
        batches = make_batches(7, n_batches=2)
        weights = [np.arange(len(y)) % 3 + 1.0 for y, _ in batches]
        repeated = [
            (np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int), axis=0))
            for (y, p), w in zip(batches, weights)
        ]
        weighted = accumulate(self.make(), batches, weights)
        assert weighted == pytest.approx(accumulate(self.make(), repeated), abs=TOL)

    def test_zero_weight_leaves_samples_out(self):
        # The Keras convention (masking): a sample of weight 0 is as if never
        # seen, even when it is the only sample of its class.
        batches = make_batches(22, n_batches=3)
        weights, kept = [], []
        for y, p in batches:
            w = np.where((y == 4) | (np.arange(len(y)) % 5 == 0), 0.0, 1.0)
            weights.append(w)
            kept.append((y[w > 0], p[w > 0]))
        expected = accumulate(self.make(), kept)
        result = accumulate(self.make(), batches, weights)
        assert result == pytest.approx(expected, abs=TOL)

    def test_label_forms_agree(self):
        batches = make_batches(8)
        results = {}
        for form, convert in {
            "int (B,)": lambda y: y,
            "int32 (B,)": lambda y: y.astype("int32"),
            "int (B, 1)": lambda y: y.reshape(-1, 1),
            "float (B,)": lambda y: y.astype("float32"),
            "float (B, 1)": lambda y: y.astype("float32").reshape(-1, 1),
            "one-hot": one_hot,
        }.items():
            converted = [(convert(y), p) for y, p in batches]
            results[form] = accumulate(self.make(), converted)
        assert len(set(results.values())) == 1, results

    def test_logits_and_probabilities_agree(self):
        batches = make_batches(9)
        probabilities = [(y, softmax(p)) for y, p in batches]
        from_logits = accumulate(self.make(), batches)
        assert accumulate(self.make(), probabilities) == from_logits

    def test_dense_prediction(self):
        rng = np.random.default_rng(10)
        batches = []
        for _ in range(3):
            y = rng.choice(NUM_CLASSES, size=(2, 6, 7), p=PRIORS)
            logits = rng.normal(size=(2, 6, 7, NUM_CLASSES)) + 1.2 * one_hot(y)
            batches.append((y, logits.astype("float32")))
        y, logits = concat(batches)
        expected = self.checked_reference(y.ravel(), logits.argmax(-1).ravel())
        assert accumulate(self.make(), batches) == pytest.approx(expected, abs=TOL)
        dense_labels = [(one_hot(y), p) for y, p in batches]
        assert accumulate(self.make(), dense_labels) == pytest.approx(expected, abs=TOL)
        trailing_axis = [(y[..., None], p) for y, p in batches]
        assert accumulate(self.make(), trailing_axis) == pytest.approx(
            expected, abs=TOL
        )

    @pytest.mark.parametrize("weight_shape", ["per image", "per pixel"])
    def test_dense_prediction_sample_weight(self, weight_shape):
        rng = np.random.default_rng(11)
        batches, weights, pixel_weights = [], [], []
        for _ in range(3):
            y = rng.choice(NUM_CLASSES, size=(3, 4, 5), p=PRIORS)
            logits = rng.normal(size=(3, 4, 5, NUM_CLASSES)) + 1.2 * one_hot(y)
            batches.append((y, logits.astype("float32")))
            if weight_shape == "per image":
                w = rng.uniform(0.1, 3.0, size=3)
                weights.append(w)
                pixel_weights.append(np.broadcast_to(w[:, None, None], y.shape))
            else:
                w = rng.uniform(0.1, 3.0, size=y.shape)
                weights.append(w)
                pixel_weights.append(w)
        y, logits = concat(batches)
        expected = self.checked_reference(
            y.ravel(),
            logits.argmax(-1).ravel(),
            sample_weight=np.concatenate(pixel_weights).ravel(),
        )
        result = accumulate(self.make(), batches, weights)
        assert result == pytest.approx(expected, abs=TOL)

    def test_reset_state(self):
        first, second = make_batches(12, n_batches=2), make_batches(13, n_batches=2)
        fresh = accumulate(self.make(), second)
        metric = self.make()
        accumulate(metric, first)
        metric.reset_state()
        assert float(metric.result()) == 0.0
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(metric.variables[0]), 0.0
        )
        assert accumulate(metric, second) == pytest.approx(fresh, abs=1e-7)

    def test_result_before_update_is_zero(self):
        assert float(self.make().result()) == 0.0

    @pytest.mark.parametrize("from_logits", [False, True])
    def test_binary_sigmoid_column(self, from_logits):
        rng = np.random.default_rng(14)
        batches = []
        for _ in range(3):
            y = (rng.uniform(size=30) < 0.25).astype("int64")
            logits = rng.normal(size=(30, 1)) + 1.5 * (y[:, None] - 0.4)
            output = logits if from_logits else 1.0 / (1.0 + np.exp(-logits))
            batches.append((y, output.astype("float32")))
        y, output = concat(batches)
        threshold = 0.0 if from_logits else 0.5
        pred = (output[:, 0] > threshold).astype("int64")
        expected = self.checked_reference(y, pred, num_classes=2)
        metric = self.make(num_classes=2, from_logits=from_logits)
        assert accumulate(metric, batches) == pytest.approx(expected, abs=TOL)
        # (B, 1) labels and 1-D predictions read the same way.
        reshaped = [(y[:, None], p[:, 0]) for y, p in batches]
        metric = self.make(num_classes=2, from_logits=from_logits)
        assert accumulate(metric, reshaped) == pytest.approx(expected, abs=TOL)

    def test_sigmoid_threshold(self):
        y = np.array([1, 1, 0, 0])
        probabilities = np.array([[0.6], [0.4], [0.45], [0.55]], dtype="float32")
        # As probabilities: predicted [1, 0, 0, 1]; as logits: all positive.
        as_probabilities = self.make(num_classes=2)
        as_probabilities.update_state(y, probabilities)
        as_logits = self.make(num_classes=2, from_logits=True)
        as_logits.update_state(y, probabilities)
        assert float(as_probabilities.result()) == pytest.approx(
            self.checked_reference(y, np.array([1, 0, 0, 1]), num_classes=2)
        )
        assert float(as_logits.result()) == pytest.approx(
            self.checked_reference(y, np.array([1, 1, 1, 1]), num_classes=2)
        )

    def test_ignore_class(self):
        batches = make_batches(15, n_batches=2)
        void, kept = [], []
        for y, p in batches:
            dropped = np.arange(len(y)) % 4 == 0
            void.append((np.where(dropped, 255, y), p))
            kept.append((y[~dropped], p[~dropped]))
        expected = accumulate(self.make(), kept)
        assert accumulate(self.make(ignore_class=255), void) == pytest.approx(
            expected, abs=TOL
        )

    def test_config_round_trip(self):
        metric = self.make(from_logits=True, ignore_class=255, name="custom")
        config = metric.get_config()
        assert json.loads(json.dumps(config)) == config
        clone = type(metric).from_config(config)
        assert clone.get_config() == config
        assert clone.name == "custom"
        batches = make_batches(16, n_batches=2)
        assert accumulate(clone, batches) == accumulate(metric, batches)

    def test_default_name(self):
        assert self.make().name == self.name

    def test_serialize_deserialize(self):
        metric = self.make()
        restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
        assert type(restored) is type(metric)
        assert restored.get_config() == metric.get_config()

    @pytest.mark.parametrize("classes", [3, 4, 6])
    def test_wrong_number_of_classes_in_y_pred(self, classes):
        metric = self.make()
        message = f"`y_pred` has {classes} classes on its last axis but num_classes=5"
        with pytest.raises(ValueError, match=re.escape(message)):
            metric.update_state([0, 1], np.zeros((2, classes), dtype="float32"))

    def test_single_column_needs_two_classes(self):
        metric = self.make()
        with pytest.raises(ValueError, match="needs num_classes=2"):
            metric.update_state([0, 1], np.zeros((2, 1), dtype="float32"))

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"from_logits": "yes"}, "argument `from_logits`. Expected a boolean"),
            ({"ignore_class": 2.5}, "argument `ignore_class`"),
        ],
    )
    def test_bad_arguments(self, kwargs, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            self.make(**kwargs)

    @pytest.mark.slow
    def test_in_compiled_model(self, trained_model):
        """fit, evaluate, save to .keras and load without custom_objects."""
        result = trained_model["original"][self.name]
        assert 0.0 < result < 1.0
        assert result == pytest.approx(trained_model["reloaded"][self.name], abs=1e-7)
        y, pred = trained_model["y"], trained_model["pred"]
        assert result == pytest.approx(self.checked_reference(y, pred), abs=TOL)

    @pytest.mark.slow
    def test_weighted_in_compiled_model(self, trained_model):
        result = trained_model["weighted"]["weighted_" + self.name]
        expected = self.checked_reference(
            trained_model["y"],
            trained_model["pred"],
            sample_weight=trained_model["sample_weight"],
        )
        assert result == pytest.approx(expected, abs=TOL)
        reloaded = trained_model["reloaded_weighted"]["weighted_" + self.name]
        assert result == pytest.approx(reloaded, abs=1e-7)
