"""Two-class reports: PR-AUC, ROC-AUC and the positive class's P / R / F1.

Checked against scikit-learn on random and tied scores, at the argmax and
at given thresholds, with NaN (never a plausible number) where a score is
undefined.
"""

import json
import math

import numpy as np
import pytest
from sklearn import metrics as sk

from keras_imbalance._names import BINARY_METRICS, SUMMARY_METRICS
from keras_imbalance.evaluation import ImbalanceReport, evaluate_imbalanced


def scores_of(rng, n, *, ties=False, positive_rate=0.2):
    """Labels and both classes' probabilities; `ties` rounds them to 0.1."""
    y = (rng.random(n) < positive_rate).astype("int64")
    y[:2] = [0, 1]  # both classes present
    p = np.clip(0.35 * y + rng.random(n) * 0.65, 0.0, 1.0)
    if ties:
        p = np.round(p, 1)
    return y, np.stack([1.0 - p, p], axis=1)


CASES = [
    pytest.param(seed, n, ties, id=f"seed{seed}-n{n}-{'ties' if ties else 'random'}")
    for seed, n, ties in [(0, 50, False), (1, 200, False), (2, 80, True), (3, 17, True)]
]


@pytest.mark.parametrize("seed,n,ties", CASES)
def test_areas_match_scikit_learn(seed, n, ties):
    y, probabilities = scores_of(np.random.default_rng(seed), n, ties=ties)
    report = evaluate_imbalanced(probabilities, y=y)
    assert report.is_binary and report.positive_class == 1
    assert report.pr_auc == pytest.approx(
        sk.average_precision_score(y, probabilities[:, 1]), abs=1e-12
    )
    assert report.roc_auc == pytest.approx(
        sk.roc_auc_score(y, probabilities[:, 1]), abs=1e-12
    )


def sklearn_positive(y, predicted, pos_label=1):
    kwargs = {"pos_label": pos_label, "zero_division": np.nan}
    return (
        sk.precision_score(y, predicted, **kwargs),
        sk.recall_score(y, predicted, **kwargs),
        sk.f1_score(y, predicted, **kwargs),
    )


def ours(report):
    return (report.positive_precision, report.positive_recall, report.positive_f1)


@pytest.mark.parametrize("seed,n,ties", CASES)
@pytest.mark.parametrize("threshold", [None, 0.0, 0.3, 0.5, 0.7, 1.0])
def test_positive_scores_at_the_threshold_match_scikit_learn(seed, n, ties, threshold):
    y, probabilities = scores_of(np.random.default_rng(seed), n, ties=ties)
    report = evaluate_imbalanced(probabilities, y=y, threshold=threshold)
    if threshold is None:
        predicted = np.argmax(probabilities, axis=1)
    else:
        predicted = (probabilities[:, 1] >= threshold).astype("int64")
    np.testing.assert_allclose(ours(report), sklearn_positive(y, predicted))
    assert report.threshold == threshold
    # The whole report is at the threshold: the confusion matrix agrees.
    np.testing.assert_array_equal(
        report.confusion_matrix, sk.confusion_matrix(y, predicted, labels=[0, 1])
    )


def test_positive_class_zero_matches_scikit_learn_pos_label_zero():
    y, probabilities = scores_of(np.random.default_rng(5), 60, ties=True)
    report = evaluate_imbalanced(probabilities, y=y, positive_class=0, threshold=0.6)
    predicted = np.where(probabilities[:, 0] >= 0.6, 0, 1)
    np.testing.assert_allclose(ours(report), sklearn_positive(y, predicted, 0))
    assert report.pr_auc == pytest.approx(
        sk.average_precision_score(y == 0, probabilities[:, 0])
    )
    assert report.roc_auc == pytest.approx(
        sk.roc_auc_score(y == 0, probabilities[:, 0])
    )


def test_logits_rank_as_their_probabilities():
    rng = np.random.default_rng(7)
    y = np.array([0, 1] * 10 + [0] * 20)
    logits = rng.normal(size=(40, 2)) + np.outer(y, [0.0, 1.5])
    report = evaluate_imbalanced(logits, y=y, threshold=0.4)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = shifted[:, 1] / shifted.sum(axis=1)
    assert report.output_kind == "logits"
    assert report.roc_auc == pytest.approx(sk.roc_auc_score(y, p))
    assert report.pr_auc == pytest.approx(sk.average_precision_score(y, p))
    np.testing.assert_allclose(ours(report), sklearn_positive(y, (p >= 0.4) * 1))


def test_no_positive_sample_gives_nan_not_a_plausible_number():
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
    report = evaluate_imbalanced(probabilities, y=[0, 0, 0])
    # scikit-learn: average precision 0.0 (with a warning), ROC-AUC raises.
    assert math.isnan(report.pr_auc) and math.isnan(report.roc_auc)
    assert math.isnan(report.positive_recall)
    assert report.positive_precision == 0.0  # one false positive: defined
    assert report.positive_f1 == 0.0  # 2 TP / (2 TP + FP + FN) = 0 / 1
    assert report.recall[1] == 0.0  # per-class lists keep zero_division=0


def test_nothing_predicted_positive_gives_nan_precision():
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    report = evaluate_imbalanced(probabilities, y=[0, 1, 0])
    assert math.isnan(report.positive_precision)
    assert report.positive_recall == 0.0 and report.positive_f1 == 0.0
    assert report.pr_auc == pytest.approx(
        sk.average_precision_score([0, 1, 0], [0.1, 0.2, 0.3])
    )


def test_only_positives_has_an_average_precision_but_no_roc_auc():
    probabilities = np.array([[0.9, 0.1], [0.4, 0.6]])
    report = evaluate_imbalanced(probabilities, y=[1, 1])
    assert report.pr_auc == sk.average_precision_score([1, 1], [0.1, 0.6]) == 1.0
    assert math.isnan(report.roc_auc)


def test_no_positive_label_and_no_positive_prediction_gives_nan_f1():
    report = evaluate_imbalanced(np.array([[0.9, 0.1], [0.8, 0.2]]), y=[0, 0])
    assert all(math.isnan(v) for v in ours(report))


def test_all_tied_scores_give_chance_areas():
    y = np.array([0, 0, 0, 1])
    report = evaluate_imbalanced(np.full((4, 2), 0.5), y=y)
    assert report.roc_auc == 0.5 == sk.roc_auc_score(y, np.full(4, 0.5))
    assert report.pr_auc == 0.25 == sk.average_precision_score(y, np.full(4, 0.5))


def test_class_ids_have_positive_scores_but_no_areas():
    report = evaluate_imbalanced(np.array([0, 1, 1, 0]), y=[0, 1, 0, 0])
    assert report.is_binary and report.pr_auc is None and report.roc_auc is None
    assert ours(report) == (0.5, 1.0, pytest.approx(2 / 3))
    assert ImbalanceReport.from_dict(report.to_dict()) == report
    assert ImbalanceReport.from_dict(report.to_dict()).pr_auc is None


def test_binary_entries_survive_json_with_nan_as_null():
    report = evaluate_imbalanced(np.array([[0.9, 0.1], [0.3, 0.7]]), y=[0, 0])
    record = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert record["pr_auc"] is None and record["positive_recall"] is None
    assert record["positive_class"] == 1 and record["threshold"] is None
    again = ImbalanceReport.from_dict(record)
    assert math.isnan(again.pr_auc) and math.isnan(again.positive_recall)
    assert again == report
    assert list(report.summary()) == [*SUMMARY_METRICS, *BINARY_METRICS]


def test_threshold_is_recorded_and_shown():
    y, probabilities = scores_of(np.random.default_rng(1), 30)
    report = evaluate_imbalanced(probabilities, y=y, threshold=0.25)
    again = ImbalanceReport.from_dict(report.to_dict())
    assert again == report and again.threshold == 0.25
    text = report.to_markdown()
    assert "| PR-AUC (1) |" in text and "F1 (1, p >= 0.25)" in text
    assert "ROC-AUC (1)" in str(report)
    names = evaluate_imbalanced(probabilities, y=y, class_names=["ok", "fraud"])
    assert "PR-AUC (fraud)" in names.to_markdown()
    assert "F1 (fraud, argmax)" in str(names)


def test_argmax_and_threshold_half_differ_only_at_ties():
    probabilities = np.array([[0.5, 0.5], [0.6, 0.4], [0.2, 0.8]])
    argmax = evaluate_imbalanced(probabilities, y=[1, 0, 1])
    half = evaluate_imbalanced(probabilities, y=[1, 0, 1], threshold=0.5)
    assert argmax.confusion_matrix == [[1, 0], [1, 1]]
    assert half.confusion_matrix == [[1, 0], [0, 2]]


def test_multi_class_reports_are_unchanged():
    report = evaluate_imbalanced(np.array([0, 1, 2, 2]), y=[0, 1, 2, 1])
    assert not report.is_binary
    assert all(getattr(report, k) is None for k in BINARY_METRICS)
    assert list(report.summary()) == list(SUMMARY_METRICS)
    record = report.to_dict()
    assert not {"positive_class", "threshold", *BINARY_METRICS} & set(record)
    assert "PR-AUC" not in report.to_markdown()


@pytest.mark.parametrize(
    "predictions,y,kwargs,match",
    [
        (np.eye(3), [0, 1, 2], {"threshold": 0.5}, "`threshold` is for two-class"),
        (np.eye(3), [0, 1, 2], {"positive_class": 0}, "`positive_class` is for two"),
        (np.array([0, 1]), [0, 1], {"threshold": 0.5}, "class-id predictions"),
        (np.eye(2), [0, 1], {"threshold": 1.5}, "argument `threshold`"),
        (np.eye(2), [0, 1], {"threshold": math.nan}, "argument `threshold`"),
        (np.eye(2), [0, 1], {"positive_class": 2}, "argument `positive_class`"),
        (np.eye(2), [0, 1], {"positive_class": True}, "argument `positive_class`"),
    ],
)
def test_bad_binary_arguments(predictions, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate_imbalanced(predictions, y=y, **kwargs)
