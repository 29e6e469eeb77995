"""Tests for `keras_imbalance.evaluation`.

The report's numbers must equal scikit-learn's and imbalanced-learn's on the
same predictions; the group accuracies and the ECE are checked against NumPy
references written from the papers (Liu et al. 2019, Guo et al. 2017).
"""

import json
import warnings

import keras
import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from matplotlib.figure import Figure
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from keras_imbalance.evaluation import (
    ImbalanceReport,
    evaluate_imbalanced,
    expected_calibration_error,
    plot_per_class_recall,
)
from keras_imbalance.metrics import (
    BalancedAccuracy,
    GeometricMeanRecall,
    GroupAccuracy,
    MacroF1,
)

NUM_CLASSES = 5
PRIORS = np.array([0.5, 0.25, 0.13, 0.08, 0.04])
# many {0}, medium {1, 2}, few {3, 4}
TRAIN_COUNTS = [600, 100, 20, 12, 3]
NEVER_PREDICTED = 3
TOL = 1e-9


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def make_data(seed=0, n=300):
    """Imbalanced labels and logits favouring the true class; class 3 is
    never the argmax."""
    rng = np.random.default_rng(seed)
    y = rng.choice(NUM_CLASSES, size=n, p=PRIORS)
    logits = rng.normal(size=(n, NUM_CLASSES)) + 1.5 * np.eye(NUM_CLASSES)[y]
    logits[:, NEVER_PREDICTED] = logits.min(axis=-1) - 1.0
    return y, logits


def sklearn_scores(y, predicted):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(
            y, predicted, labels=list(range(NUM_CLASSES)), zero_division=0
        )
        return {
            "precision": p,
            "recall": r,
            "f1": f,
            "support": s,
            "accuracy": accuracy_score(y, predicted),
            "balanced_accuracy": balanced_accuracy_score(y, predicted),
            "macro_f1": f1_score(y, predicted, average="macro"),
            "g_mean": geometric_mean_score(y, predicted),
            "confusion": confusion_matrix(
                y, predicted, labels=list(range(NUM_CLASSES))
            ),
        }


def ece_reference(probabilities, y, n_bins=15):
    """Guo et al. 2017, as in their code: bins (lower, upper]."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lower, upper in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lower) & (confidence <= upper)
        if in_bin.any():
            ece += in_bin.mean() * abs(
                correct[in_bin].mean() - confidence[in_bin].mean()
            )
    return ece


def group_reference(y, predicted, counts, group, many=100, few=20):
    counts = np.asarray(counts)
    members = {
        "many": counts > many,
        "medium": (counts >= few) & (counts <= many),
        "few": counts < few,
    }[group]
    recalls = [
        np.mean(predicted[y == c] == c)
        for c in range(len(counts))
        if members[c] and np.any(y == c)
    ]
    return float(np.mean(recalls)) if recalls else None


def assert_matches_sklearn(report, y, predicted):
    ref = sklearn_scores(y, predicted)
    for key in ("precision", "recall", "f1"):
        np.testing.assert_allclose(report.__dict__[key], ref[key], atol=TOL)
    assert report.support == ref["support"].tolist()
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "g_mean"):
        assert getattr(report, key) == pytest.approx(ref[key], abs=TOL), key
    assert report.confusion_matrix == ref["confusion"].tolist()


# --- numbers -----------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scores", ["logits", "probabilities"])
@pytest.mark.parametrize("labels", ["integer", "one_hot", "column"])
def test_matches_sklearn_and_imblearn(seed, scores, labels):
    y, logits = make_data(seed)
    predictions = logits if scores == "logits" else softmax(logits)
    y_in = {
        "integer": y,
        "one_hot": np.eye(NUM_CLASSES)[y],
        "column": y[:, None],
    }[labels]
    report = evaluate_imbalanced(predictions, y=y_in, class_counts=TRAIN_COUNTS)
    predicted = logits.argmax(axis=1)
    assert NEVER_PREDICTED not in predicted
    assert report.output_kind == scores
    assert_matches_sklearn(report, y, predicted)
    assert report.g_mean == 0.0  # a class never predicted
    assert report.precision[NEVER_PREDICTED] == 0.0


def test_class_id_predictions_and_a_class_only_predicted():
    rng = np.random.default_rng(3)
    y = rng.choice(4, size=200)  # class 4 never in the labels
    predicted = np.where(rng.random(200) < 0.7, y, rng.choice(NUM_CLASSES, size=200))
    assert 4 in predicted and 4 not in y
    report = evaluate_imbalanced(predicted, y=y, class_counts=TRAIN_COUNTS)
    assert report.output_kind == "class_ids" and report.ece is None
    assert_matches_sklearn(report, y, predicted)


def test_all_recalls_positive_gives_imblearn_gmean():
    y, logits = make_data(4)
    logits[:, NEVER_PREDICTED] = 0.0
    logits += 4.0 * np.eye(NUM_CLASSES)[y]
    report = evaluate_imbalanced(logits, y=y)
    predicted = logits.argmax(axis=1)
    assert report.g_mean > 0
    assert_matches_sklearn(report, y, predicted)


def test_agrees_with_keras_metrics():
    y, logits = make_data(5)
    report = evaluate_imbalanced(logits, y=y, class_counts=TRAIN_COUNTS)
    for metric, value in [
        (BalancedAccuracy(NUM_CLASSES), report.balanced_accuracy),
        (MacroF1(NUM_CLASSES), report.macro_f1),
        (GeometricMeanRecall(NUM_CLASSES), report.g_mean),
        (GroupAccuracy(TRAIN_COUNTS, "few"), report.few_shot_accuracy),
        (GroupAccuracy(TRAIN_COUNTS, "many"), report.many_shot_accuracy),
    ]:
        metric.update_state(y, logits.astype("float32"))
        assert float(metric.result()) == pytest.approx(value, abs=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_group_accuracy_matches_reference(seed):
    y, logits = make_data(seed)
    predicted = logits.argmax(axis=1)
    report = evaluate_imbalanced(logits, y=y, class_counts=TRAIN_COUNTS)
    for group in ("many", "medium", "few"):
        expected = group_reference(y, predicted, TRAIN_COUNTS, group)
        assert getattr(report, f"{group}_shot_accuracy") == pytest.approx(expected)


def test_groups_without_classes_are_none():
    y, logits = make_data(0)
    report = evaluate_imbalanced(logits, y=y, class_counts=[500, 400, 300, 200, 150])
    assert report.many_shot_accuracy is not None
    assert report.medium_shot_accuracy is None
    assert report.few_shot_accuracy is None
    # A group whose classes are all absent from the labels is None too.
    report = evaluate_imbalanced(logits[y < 3], y=y[y < 3], class_counts=TRAIN_COUNTS)
    assert report.few_shot_accuracy is None
    no_counts = evaluate_imbalanced(logits, y=y)
    assert no_counts.many_shot_accuracy is None and no_counts.class_counts is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ece_matches_reference(seed):
    y, logits = make_data(seed)
    report = evaluate_imbalanced(logits, y=y)
    assert report.ece == pytest.approx(ece_reference(softmax(logits), y), abs=1e-12)
    probs = evaluate_imbalanced(softmax(logits), y=y)
    assert probs.ece == pytest.approx(report.ece, abs=1e-12)


def test_ece_zero_when_perfectly_calibrated():
    # 10 samples at confidence 0.8 of which 8 right, 5 at 0.6 with 3 right,
    # 4 at 1.0 all right.
    probabilities = np.array(
        [[0.8, 0.2, 0.0]] * 10 + [[0.0, 0.6, 0.4]] * 5 + [[0.0, 0.0, 1.0]] * 4
    )
    y = np.array([0] * 8 + [1] * 2 + [1] * 3 + [2] * 2 + [2] * 4)
    report = evaluate_imbalanced(probabilities, y=y)
    assert report.output_kind == "probabilities"
    assert report.ece == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0


def test_logit_detection():
    # Rows in [0, 1] but not summing to 1: logits.
    y = np.array([0, 1])
    report = evaluate_imbalanced(np.array([[0.5, 0.1], [0.2, 0.3]]), y=y)
    assert report.output_kind == "logits"
    # Rows summing to 1 within 1e-3: probabilities.
    report = evaluate_imbalanced(np.array([[0.7, 0.3005], [0.2, 0.8]]), y=y)
    assert report.output_kind == "probabilities"


# --- Keras models --------------------------------------------------------------


def tiny_model(kind):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    logits = keras.layers.Dense(NUM_CLASSES, name="head")(inputs)
    if kind == "logits":
        return keras.Model(inputs, logits)
    probabilities = keras.layers.Softmax()(logits)
    if kind == "probabilities":
        return keras.Model(inputs, probabilities)
    return keras.Model(inputs, {"probabilities": probabilities, "logits": logits})


@pytest.mark.parametrize("kind", ["logits", "probabilities", "dict"])
def test_keras_model_input(kind):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.choice(NUM_CLASSES, size=64)
    model = tiny_model(kind)
    report = evaluate_imbalanced(model, x, y, class_counts=TRAIN_COUNTS, batch_size=16)
    logits = tiny_model("logits").predict(x, verbose=0)
    assert report.output_kind == (
        "probabilities" if kind == "probabilities" else "logits"
    )
    assert_matches_sklearn(report, y, logits.argmax(axis=1))
    assert report.ece == pytest.approx(ece_reference(softmax(logits), y), abs=1e-5)


# --- serialisation and text ------------------------------------------------------


def test_shot_thresholds():
    y, logits = make_data(0)
    predicted = logits.argmax(axis=1)
    counts = [500, 400, 300, 200, 150]  # all many-shot with OLTR's (100, 20)
    report = evaluate_imbalanced(
        logits, y=y, class_counts=counts, shot_thresholds=(350, 180)
    )
    assert (report.many_threshold, report.few_threshold) == (350, 180)
    assert [report.shot_group(c) for c in range(5)] == [
        "many",
        "many",
        "medium",
        "medium",
        "few",
    ]
    for group in ("many", "medium", "few"):
        expected = group_reference(y, predicted, counts, group, 350, 180)
        assert getattr(report, f"{group}_shot_accuracy") == pytest.approx(expected)
    data = json.loads(json.dumps(report.to_dict()))
    assert ImbalanceReport.from_dict(data) == report
    for bad in [(20, 100), (100,), "auto", (100.0, 20), (100, -1)]:
        with pytest.raises(ValueError, match="shot_thresholds"):
            evaluate_imbalanced(logits, y=y, shot_thresholds=bad)


def test_to_dict_json_round_trip():
    y, logits = make_data(0)
    report = evaluate_imbalanced(
        logits,
        y=y,
        class_counts=TRAIN_COUNTS,
        class_names=["cat", "dog", "fox", "owl", "yak"],
    )
    data = report.to_dict()
    text = json.dumps(data)
    assert json.loads(text) == data
    assert data["num_classes"] == NUM_CLASSES
    assert data["per_class"][4]["group"] == "few"
    assert data["per_class"][1]["name"] == "dog"
    rebuilt = ImbalanceReport.from_dict(json.loads(text))
    assert rebuilt == report
    assert rebuilt.to_dict() == data


def test_markdown_and_str():
    y, logits = make_data(0)
    names = ["cat", "dog", "fox", "owl", "yak"]
    report = evaluate_imbalanced(
        logits, y=y, class_counts=TRAIN_COUNTS, class_names=names
    )
    markdown = report.to_markdown()
    lines = markdown.splitlines()
    assert f"| balanced accuracy | {report.balanced_accuracy:.4f} |" in lines
    assert f"| few-shot accuracy | {report.few_shot_accuracy:.4f} |" in lines
    for c, name in enumerate(names):
        row = (
            f"| {name} | {TRAIN_COUNTS[c]} | {report.shot_group(c)} | "
            f"{report.precision[c]:.4f} | {report.recall[c]:.4f} | "
            f"{report.f1[c]:.4f} | {report.support[c]} |"
        )
        assert row in lines
    text = str(report)
    assert "G-mean" in text and "ECE (15 bins)" in text
    assert all(name in text for name in names)
    # Without counts, no shot rows.
    plain = evaluate_imbalanced(logits, y=y)
    assert "shot" not in plain.to_markdown()


# --- plots ------------------------------------------------------------------------


@pytest.mark.parametrize("with_counts", [True, False])
def test_plot_saves_png(tmp_path, with_counts):
    y, logits = make_data(0)
    counts = TRAIN_COUNTS if with_counts else None
    report = evaluate_imbalanced(logits, y=y, class_counts=counts)
    fig = report.plot()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_xscale() == ("log" if with_counts else "linear")
    path = tmp_path / "report.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_with_a_zero_count_uses_symlog(tmp_path):
    y, logits = make_data(0)
    report = evaluate_imbalanced(logits, y=y, class_counts=[600, 100, 20, 0, 3])
    fig = report.plot()
    assert fig.axes[1].get_xscale() == "symlog"
    fig.savefig(tmp_path / "zero.png")


def test_plot_per_class_recall(tmp_path):
    y, logits = make_data(0)
    reports = {
        "ce": evaluate_imbalanced(logits, y=y),
        "other": evaluate_imbalanced(make_data(1)[1], y=make_data(1)[0]),
    }
    counts = [3, 600, 20, 100, 12]
    fig = plot_per_class_recall(reports, class_counts=counts)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["1\n(600)", "3\n(100)", "2\n(20)", "4\n(12)", "0\n(3)"]
    assert len(ax.get_lines()) == 2
    np.testing.assert_allclose(
        ax.get_lines()[0].get_ydata(), np.asarray(reports["ce"].recall)[[1, 3, 2, 4, 0]]
    )
    fig.savefig(tmp_path / "compare.png")
    assert (tmp_path / "compare.png").stat().st_size > 0
    # Without counts: index order.
    fig = plot_per_class_recall(reports)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["0", "1", "2", "3", "4"]


# --- errors -----------------------------------------------------------------------


def test_errors():
    y, logits = make_data(0, n=20)
    with pytest.raises(ValueError, match="`y` has 19 samples but there are 20"):
        evaluate_imbalanced(logits, y=y[:-1])
    with pytest.raises(ValueError, match="`class_names` has 4 entries"):
        evaluate_imbalanced(logits, y=y, class_names=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="4 classes on their last axis but `class_c"):
        evaluate_imbalanced(
            logits[:, :4], y=np.minimum(y, 3), class_counts=TRAIN_COUNTS
        )
    with pytest.raises(ValueError, match="Invalid value for argument `class_names`"):
        evaluate_imbalanced(y, y=y, class_counts=TRAIN_COUNTS, class_names=["a", "b"])
    with pytest.raises(ValueError, match="Invalid value for argument `class_names`"):
        evaluate_imbalanced(logits, y=y, class_names="abcde")
    with pytest.raises(ValueError, match=r"Labels must lie in \[0, 3\]"):
        evaluate_imbalanced(logits[:, :4], y=y + 4)
    with pytest.raises(ValueError, match=r"Predicted class ids must lie in \[0, 4\]"):
        evaluate_imbalanced(np.full(20, 5), y=y, class_counts=TRAIN_COUNTS)
    with pytest.raises(ValueError, match="1-D predictions must be integer class ids"):
        evaluate_imbalanced(np.full(20, 0.5), y=y)
    with pytest.raises(ValueError, match="shape=.20, 1."):
        evaluate_imbalanced(logits[:, :1], y=y)
    with pytest.raises(ValueError, match="`y` .the true labels. is required"):
        evaluate_imbalanced(logits)
    with pytest.raises(ValueError, match="`x` is only used with a model"):
        evaluate_imbalanced(logits, y)
    with pytest.raises(ValueError, match="A model needs its inputs `x`"):
        evaluate_imbalanced(tiny_model("logits"), y=y)
    with pytest.raises(ValueError, match="Invalid value for argument `batch_size`"):
        evaluate_imbalanced(logits, y=y, batch_size=0)
    with pytest.raises(ValueError, match="Invalid value for argument `class_counts`"):
        evaluate_imbalanced(logits, y=y, class_counts=[-1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="NaN or infinite"):
        evaluate_imbalanced(np.full((20, 5), np.nan), y=y)
    report = evaluate_imbalanced(logits, y=y)
    with pytest.raises(ValueError, match="Invalid value for argument `reports`"):
        plot_per_class_recall({})
    with pytest.raises(ValueError, match="Invalid value for argument `class_counts`"):
        plot_per_class_recall({"ce": report}, class_counts=[1, 2])
    other = evaluate_imbalanced(logits[:, :4], y=np.minimum(y, 3))
    with pytest.raises(ValueError, match="must cover the same classes"):
        plot_per_class_recall({"a": report, "b": other})
