"""Image folders end to end: `compare`, re-runs, the CLI, export and serving."""

import json
import os

import numpy as np
import pytest

from keras_imbalance import strategies
from keras_imbalance.comparison import compare, model_factory, rerun
from keras_imbalance.export import load_exported
from tests.test_cli import run_main
from tests.test_image_folder import make_folder

pytestmark = pytest.mark.slow  # every test trains

MODEL = model_factory("small_cnn", width=4, depth=2)
# Each strategy that reads its data its own way: plain batches, a sampler,
# two samplers (BBN), a re-trained head on balanced batches, Remix batches,
# minority augmentation, and a tau tuned on the validation files.
STRATEGIES = [
    "ce",
    "balanced_sampling",
    "bbn",
    "crt",
    "remix_drw",
    "minority_augmentation",
    "tau_norm",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(str(tmp_path_factory.mktemp("images")), (16, 8, 5))


@pytest.fixture(scope="module")
def result(folder):
    return compare(
        STRATEGIES, folder, image_size=(8, 8), epochs=2, batch_size=8, model=MODEL
    )


def test_every_strategy_runs_on_files(result):
    assert [run.strategy for run in result.runs] == STRATEGIES
    for run in result.runs:
        assert 0.0 <= run.test.balanced_accuracy <= 1.0
    assert "tau" in result.runs[-1].tuned_params


def test_the_folder_and_its_split_are_recorded(result, folder):
    setup = result.setup
    assert setup["dataset"] == folder
    assert setup["test_split"] == {"source": "stratified", "fraction": 0.2, "seed": 0}
    assert setup["skipped_files"] == {"ignored": 0, "unreadable": 0}
    assert setup["input_shape"] == [8, 8, 3]
    assert setup["call"]["image_size"] == [8, 8]
    assert setup["class_counts"] == [12, 5, 3]  # 16, 8, 5 less test and validation


def test_files_and_the_same_images_in_memory_train_alike(folder):
    # A sampler draws the same batches from files and arrays: same model.
    from keras_imbalance import datasets

    loaded = datasets.load_image_folder(folder, image_size=(8, 8))
    files, labels = loaded["train"]
    recipe = strategies.get("balanced_sampling")
    kwargs = dict(epochs=2, batch_size=8, seed=0, num_classes=3)
    on_files, _ = recipe.fit(MODEL, files, labels, **kwargs)
    on_arrays, _ = recipe.fit(MODEL, files.load(), labels, **kwargs)
    x_test = loaded["test"][0].load()
    np.testing.assert_allclose(
        on_files.predict(x_test, verbose=0),
        on_arrays.predict(x_test, verbose=0),
        rtol=1e-4,
        atol=1e-5,
    )


def test_a_folder_comparison_reruns_from_its_json(result, tmp_path):
    path = tmp_path / "results.json"
    result.to_json(str(path))
    again = rerun(str(path), strategies=["balanced_sampling"])
    first = [r for r in result.runs if r.strategy == "balanced_sampling"][0]
    assert again.runs[0].test.balanced_accuracy == first.test.balanced_accuracy


def test_smote_is_refused_on_files(folder):
    with pytest.raises(TypeError, match="SMOTE on image files"):
        compare("smote", folder, image_size=(8, 8), epochs=1, model=MODEL)


def test_cli_inspect_compare_export_and_serve(folder, tmp_path):
    code, out, _ = run_main(
        ["inspect", "--dataset", folder, "--image-size", "8", "--output", str(tmp_path)]
    )
    assert code == 0
    assert "stratified test split: 0.2 of each class (seed 0)" in out
    assert "[13, 6, 4]" in out  # 16, 8, 5 less 20% for testing
    output = tmp_path / "compare"
    argv = ["compare", "--dataset", folder, "--image-size", "8,8", "--epochs", "2"]
    argv += ["--strategies", "ce,balanced_sampling", "--output", str(output)]
    code, out, _ = run_main([*argv, "--export-best", "--force-export"])
    assert code == 0, out
    saved = json.loads((output / "results.json").read_text())
    assert saved["setup"]["test_split"]["source"] == "stratified"
    # The command's results re-run from their JSON, data and all.
    assert saved["setup"]["call"]["data"] == folder
    again = rerun(str(output / "results.json"), strategies=["ce"])
    first = [r for r in saved["runs"] if r["strategy"] == "ce"][0]
    assert again.runs[0].test.balanced_accuracy == pytest.approx(
        first["test"]["balanced_accuracy"], abs=1e-12
    )
    served = load_exported(str(output / "best_model"))
    from keras_imbalance import datasets

    test = datasets.load_image_folder(folder, image_size=(8, 8))["test"]
    scores = served(test[0].load())  # decoded pixels in [0, 1]
    assert scores["probabilities"].shape == (len(test[1]), 3)
    assert set(scores["class_name"].tolist()) <= {"class_0", "class_1", "class_2"}


def test_cli_refuses_image_options_for_other_datasets(tmp_path):
    code, _, err = run_main(["inspect", "--image-size", "8", "--output", str(tmp_path)])
    assert code == 2
    assert "--image-size and --color-mode are for image folders" in err
    code, _, err = run_main(
        ["inspect", "--dataset", str(tmp_path), "--image-size", "0,3"]
    )
    assert code == 2 and "--image-size" in err


def test_cli_reports_a_bad_folder_in_one_line(tmp_path):
    os.makedirs(tmp_path / "only")
    code, _, err = run_main(["inspect", "--dataset", str(tmp_path)])
    assert code == 2
    assert "'only'" in err and "holds no readable image" in err
