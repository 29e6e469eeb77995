"""`evaluation.tune_threshold` and thresholded SavedModel exports.

The tuned threshold is checked against a brute-force reference written from
the definition (candidates: the distinct scores; positive when p >= t; ties
of F1 go to the highest threshold) and against
`sklearn.metrics.precision_recall_curve`.
"""

import math
import os

import keras
import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from keras_imbalance.evaluation import evaluate_imbalanced, tune_threshold
from keras_imbalance.export import export_saved_model, load_exported
from tests.backend_marks import needs_saved_model


def brute_force(y, p, objective):
    """The definition, one candidate at a time."""
    positives = int(np.sum(y == 1))
    best_t, best_value = None, None
    for t in np.unique(p):  # ascending: ">=" keeps the highest of equal values
        predicted = p >= t
        tp = int(np.sum(predicted & (y == 1)))
        fp = int(np.sum(predicted & (y == 0)))
        if objective == "f1":
            value = 2 * tp / (2 * tp + fp + (positives - tp))
            if best_value is None or value >= best_value:
                best_t, best_value = t, value
        elif tp / positives >= objective["recall"]:
            value = tp / (tp + fp)  # the best precision, then the highest t
            if best_value is None or value >= best_value:
                best_t, best_value = t, value
    return float(best_t)


def with_sklearn(y, p, objective):
    precision, recall, thresholds = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # one per threshold
    if objective == "f1":
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        # Compare F1 values computed one way, so that ties are exact.
        best = np.flatnonzero(np.isclose(f1, f1.max(), rtol=0, atol=1e-12))
        return float(thresholds[best[-1]])  # thresholds ascend: the highest
    reaching = np.flatnonzero(recall >= objective["recall"])
    best = reaching[
        np.isclose(precision[reaching], precision[reaching].max(), 0, 1e-12)
    ]
    return float(thresholds[best[-1]])  # thresholds ascend: the highest


def data(seed, n, *, ties):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype("int64")
    y[:2] = [0, 1]
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0.0, 1.0)
    return y, (np.round(p, 1) if ties else p)


OBJECTIVES = ["f1", {"recall": 0.5}, {"recall": 0.8}, {"recall": 1.0}, ("recall", 0.3)]
CASES = [(seed, n, ties) for seed in range(4) for n, ties in [(60, False), (45, True)]]


@pytest.mark.parametrize("objective", OBJECTIVES, ids=str)
@pytest.mark.parametrize("seed,n,ties", CASES)
def test_against_brute_force_and_scikit_learn(seed, n, ties, objective):
    y, p = data(seed, n, ties=ties)
    tuned = tune_threshold(y, p, objective=objective)
    goal = objective if not isinstance(objective, tuple) else {"recall": 0.3}
    assert tuned == brute_force(y, p, goal)
    assert tuned == with_sklearn(y, p, goal)
    assert tuned in set(p.tolist())


def test_ties_of_f1_go_to_the_highest_threshold():
    # P = 2. p >= 0.8: TP 1, FP 0 -> F1 2/3; p >= 0.4: TP 2, FP 2 -> 4/6.
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.8, 0.4, 0.4, 0.4, 0.1])
    assert tune_threshold(y, p) == 0.8


def test_recall_target_takes_the_best_precision_reaching_it():
    # Recall >= 0.5 first at 0.6 (precision 2/3), but 0.2 reaches recall 1
    # with precision 4/5: the best precision at that recall is chosen.
    y = np.array([1, 0, 1, 1, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.1, 0.05])
    assert tune_threshold(y, p, objective={"recall": 0.5}) == 0.2
    assert tune_threshold(y, p, objective={"recall": 1.0}) == 0.2
    # Equal precision: the highest threshold (fewer positive predictions).
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert tune_threshold(y, p, objective={"recall": 0.5}) == 0.9


def test_two_column_scores_are_read_as_evaluate_imbalanced_reads_them():
    rng = np.random.default_rng(3)
    y = np.array([0] * 30 + [1] * 6)
    logits = rng.normal(size=(36, 2)) + np.outer(y, [0.0, 2.0])
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = shifted[:, 1] / shifted.sum(axis=1)
    tuned = tune_threshold(y, logits)
    assert tuned == tune_threshold(y, p)
    probabilities = np.stack([1 - p, p], axis=1)
    assert tune_threshold(y, probabilities, objective=("recall", 0.9)) == (
        tune_threshold(y, p, objective=("recall", 0.9))
    )
    # The threshold applies to the same probabilities in the report: the
    # sample scored exactly `tuned` is predicted positive.
    report = evaluate_imbalanced(logits, y=y, threshold=tuned)
    assert np.sum(report.confusion_matrix, axis=0)[1] == np.sum(p >= tuned)


def test_positive_class_zero_and_one_hot_labels():
    y = np.array([0, 0, 1, 1, 1, 0])
    p0 = np.array([0.9, 0.7, 0.6, 0.2, 0.1, 0.3])
    assert tune_threshold(np.eye(2)[y], p0, positive_class=0) == tune_threshold(
        1 - y, p0
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"objective": {"recall": 0.0}}, "target recall r in \\(0, 1\\]"),
        ({"objective": {"recall": 1.5}}, "target recall r in \\(0, 1\\]"),
        ({"objective": ("recall", math.nan)}, "target recall"),
        ({"objective": "precision"}, "argument `objective`"),
        ({"objective": {"recall": 0.5, "f1": 1}}, "argument `objective`"),
        ({"objective": None}, "argument `objective`"),
        ({"positive_class": 2}, "argument `positive_class`"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tune_threshold([0, 1], [0.2, 0.8], **kwargs)


@pytest.mark.parametrize(
    "y,scores,match",
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "holds no samples of the positive class 1"),
        ([1, 1], [0.1, 0.2], "holds only samples of the positive class 1"),
        ([0, 1], [0.1, math.nan], "NaN or infinite"),
        ([0, 1], [[0.0, math.inf], [1.0, 0.0]], "NaN or infinite"),
        ([0, 1], [0.1, 1.2], "probabilities in \\[0, 1\\]"),
        ([0, 1, 1], [0.1, 0.2], "must match"),
        ([0, 2], [0.1, 0.2], "y_true"),
        ([0, 1], np.zeros((2, 3)), "shape \\(N, 2\\)"),
        ([0, 1], ["a", "b"], "must be numbers"),
    ],
)
def test_bad_data(y, scores, match):
    with pytest.raises(ValueError, match=match):
        tune_threshold(y, scores)


# --- export -------------------------------------------------------------------


def two_logit_model():
    """logits = [0, x]: class 1's probability is sigmoid(x)."""
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(
        2,
        kernel_initializer=keras.initializers.Constant([[0.0, 1.0]]),
        bias_initializer="zeros",
    )
    return keras.Model(inputs, dense(inputs))


# sigmoid(x) = 0.047, 0.5, 0.731, 0.953
X = np.array([[-3.0], [0.0], [1.0], [3.0]], "float32")


@pytest.mark.slow
@needs_saved_model
def test_export_with_a_threshold_moves_class_ids_and_round_trips(tmp_path):
    model = two_logit_model()
    names = ["negative", "positive"]
    plain = os.path.join(tmp_path, "plain")
    export_saved_model(model, plain, class_names=names)
    argmax = load_exported(plain)
    assert argmax.threshold is None
    assert argmax(X)["class_id"].tolist() == [0, 0, 1, 1]  # a tie goes to 0
    expected = {0.9: [0, 0, 0, 1], 0.1: [0, 1, 1, 1], 0.5: [0, 1, 1, 1]}
    for threshold, ids in expected.items():
        path = os.path.join(tmp_path, f"t{threshold}")
        export_saved_model(model, path, class_names=names, threshold=threshold)
        loaded = load_exported(path)
        assert loaded.threshold == threshold
        out = loaded(X)
        assert out["class_id"].tolist() == ids
        assert out["class_name"].tolist() == [names[i] for i in ids]
        np.testing.assert_allclose(out["probabilities"], argmax(X)["probabilities"])
        np.testing.assert_allclose(out["logits"], argmax(X)["logits"])
        # TF-Serving's signature decides the same way.
        serving = loaded.loaded.signatures["serving_default"]
        assert serving(inputs=X)["class_id"].numpy().tolist() == ids


@needs_saved_model
def test_export_threshold_on_a_sigmoid_column(tmp_path):
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    model = keras.Model(inputs, dense(inputs))
    path = os.path.join(tmp_path, "sigmoid")
    export_saved_model(model, path, class_names=["no", "yes"], threshold=0.9)
    out = load_exported(path)(X)
    assert out["class_id"].tolist() == [0, 0, 0, 1]
    assert out["probabilities"].shape == (4, 1)


@needs_saved_model
@pytest.mark.parametrize(
    "threshold,outputs,match",
    [
        (0.5, 3, "two-class models"),
        (1.5, 2, "argument `threshold`"),
        (-0.1, 2, "argument `threshold`"),
        ("0.5", 2, "argument `threshold`"),
    ],
)
def test_export_refuses_bad_thresholds(tmp_path, threshold, outputs, match):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(outputs)])
    path = os.path.join(tmp_path, "model")
    with pytest.raises(ValueError, match=match):
        export_saved_model(model, path, threshold=threshold)
    assert not os.path.exists(path)
