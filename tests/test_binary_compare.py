"""`compare` on two-class data: thresholds tuned on validation, binary tables,
`--threshold` and `--export-best` with the tuned threshold."""

import json
import os

import numpy as np
import pytest

from keras_imbalance import comparison, datasets, evaluation
from keras_imbalance.cli import main

MODEL = comparison.model_factory("small_cnn", width=4, depth=1)


def blobs(n_negative, n_positive, seed, dim=8):
    """Two Gaussian blobs (feature vectors), 1.5 standard deviations apart."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_negative + n_positive, dim)).astype("float32")
    y = np.r_[np.zeros(n_negative, "int64"), np.ones(n_positive, "int64")]
    x[y == 1] += 1.5 / np.sqrt(dim)
    return x, y


TRAIN = blobs(600, 30, seed=0)  # 1:20
TEST = blobs(200, 10, seed=1)


def run_compare(threshold="auto", test=TEST, **kwargs):
    return comparison.compare(
        ["ce"],
        (TRAIN, test),
        model=MODEL,
        epochs=2,
        keep_models=True,
        threshold=threshold,
        **kwargs,
    )


@pytest.fixture(scope="module")
def tuned():
    return run_compare()


def validation_split():
    return datasets.stratified_split(*TRAIN, 0.1, seed=0, num_classes=2)[1]


@pytest.mark.slow
def test_the_threshold_is_tune_threshold_on_the_validation_scores(tuned):
    run = tuned.runs[0]
    threshold = run.tuned_params["threshold"]
    x_val, y_val = validation_split()
    scores = tuned.models["ce"].predict(x_val, batch_size=256, verbose=0)
    assert threshold == evaluation.tune_threshold(y_val, scores, objective="f1")
    assert run.validation.threshold == run.test.threshold == threshold
    again = evaluation.evaluate_imbalanced(scores, y=y_val, threshold=threshold)
    assert again.positive_f1 == run.validation.positive_f1
    assert tuned.setup["threshold_objective"] == "f1"
    assert tuned.setup["call"]["threshold"] == "auto"


@pytest.mark.slow
def test_the_test_split_does_not_choose_the_threshold(tuned):
    # Other test data, same training and validation: the same threshold.
    other = run_compare(test=blobs(50, 40, seed=7))
    assert other.runs[0].tuned_params == tuned.runs[0].tuned_params
    assert other.runs[0].validation == tuned.runs[0].validation


@pytest.mark.slow
def test_binary_scores_in_tables_files_and_markdown(tuned, tmp_path):
    row = tuned.table("test")[0]
    assert row["pr_auc"] == tuned.runs[0].test.pr_auc
    assert row["positive_f1"] == tuned.runs[0].test.positive_f1
    assert list(row["tuned"]) == ["threshold"]
    assert "positive_f1" in tuned.metrics
    markdown = tuned.to_markdown()
    assert "PR-AUC" in markdown and "F1 (class 1)" in markdown
    assert "threshold=" in markdown
    record = json.loads(tuned.to_json(tmp_path / "results.json"))
    run = record["runs"][0]
    assert run["tuned_params"]["threshold"] == tuned.runs[0].tuned_params["threshold"]
    assert run["tuned_on"] == "validation"
    assert run["test"]["threshold"] == run["tuned_params"]["threshold"]
    assert "pr_auc" in run["test"] and "roc_auc" in run["validation"]
    assert record["setup"]["threshold_objective"] == "f1"
    again = comparison.Comparison.from_json(tmp_path / "results.json")
    assert again.runs == tuned.runs
    header = tuned.to_csv().splitlines()[0].split(",")
    assert {"pr_auc", "positive_f1"} <= set(header)
    from keras_imbalance.comparison.report import markdown_report

    assert "decision threshold: on p(class 1)" in markdown_report(tuned)


@pytest.mark.slow
def test_recall_objective_and_no_threshold():
    recall = run_compare(threshold={"recall": 0.9})
    run = recall.runs[0]
    assert recall.setup["threshold_objective"] == {"recall": 0.9}
    assert run.validation.positive_recall >= 0.9
    assert run.tuned_params["threshold"] == evaluation.tune_threshold(
        validation_split()[1],
        recall.models["ce"].predict(validation_split()[0], verbose=0),
        objective=("recall", 0.9),
    )
    again = comparison.rerun(recall.to_json(), data=(TRAIN, TEST), keep_models=False)
    assert again.setup["threshold_objective"] == {"recall": 0.9}
    assert again.runs[0].tuned_params == run.tuned_params
    argmax = run_compare(threshold=None)
    assert argmax.runs[0].tuned_params == {}
    assert argmax.runs[0].test.threshold is None
    assert argmax.setup["threshold_objective"] is None
    assert argmax.runs[0].test.is_binary  # the binary scores, at the argmax


def test_thresholds_are_refused_for_multi_class_data():
    x = np.random.default_rng(0).normal(size=(60, 4)).astype("float32")
    y = np.repeat([0, 1, 2], 20)
    for option in ("f1", {"recall": 0.5}):
        with pytest.raises(ValueError, match="for data with 3 classes"):
            comparison.compare(["ce"], ((x, y), (x, y)), model=MODEL, threshold=option)


@pytest.mark.parametrize(
    "option,match",
    [("F1", "argument `threshold`"), ({"recall": 0}, "target recall")],
)
def test_bad_threshold_options_fail_before_loading(option, match):
    with pytest.raises(ValueError, match=match):
        comparison.compare(["ce"], "no-such-data", threshold=option)


def test_combine_refuses_different_objectives():
    report = evaluation.evaluate_imbalanced([0, 1], y=[0, 1])
    runs = [comparison.Run(n, 0, {}, {}, report, report, 1.0) for n in "ab"]
    first = comparison.Comparison(runs[:1], {"threshold_objective": "f1"})
    second = comparison.Comparison(runs[1:], {"threshold_objective": None})
    with pytest.raises(ValueError, match="threshold_objective"):
        comparison.Comparison.combine([first, second])


# --- the command ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["recall=0", "recall=1.5", "recall=x", "max", ""])
def test_cli_threshold_syntax(tmp_path, capsys, value):
    code = main(["compare", "--threshold", value, "--output", str(tmp_path)])
    assert code == 2
    assert "--threshold" in capsys.readouterr().err


def test_cli_threshold_needs_two_classes(tmp_path, capsys):
    code = main(["compare", "--threshold", "f1", "--output", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--threshold is for two-class data; 'digits-lt' has 10 classes" in err


@pytest.mark.slow
def test_cli_exports_the_best_model_with_its_threshold(tmp_path, capsys):
    data = tmp_path / "blobs.npz"
    np.savez(data, x_train=TRAIN[0], y_train=TRAIN[1], x_test=TEST[0], y_test=TEST[1])
    output = tmp_path / "out"
    code = main(
        [
            "compare",
            "--dataset",
            str(data),
            "--strategies",
            "ce",
            "--epochs",
            "2",
            "--threshold",
            "recall=0.8",
            "--export-best",
            "--force-export",
            "--quiet",
            "--output",
            str(output),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "tuned per run on validation for recall >= 0.8" in text
    assert "PR-AUC" in text
    record = json.loads((output / "results.json").read_text())
    threshold = record["runs"][0]["tuned_params"]["threshold"]
    assert record["setup"]["call"]["threshold"] == {"recall": 0.8}
    from keras_imbalance.export import load_exported

    exported = load_exported(os.path.join(output, "best_model"))
    assert exported.threshold == threshold
    out = exported(TEST[0])
    logits = out["logits"].astype("float64")
    p = 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))  # softmax, class 1
    np.testing.assert_array_equal(out["class_id"], (p >= threshold) * 1)
