"""CIFAR-LT from the command line: compare, export and a served model."""

import pytest

from keras_imbalance.cli import main
from keras_imbalance.export import load_exported
from tests.test_cifar_lt import files, offline  # noqa: F401 (fixtures)


@pytest.mark.slow
def test_cli_compare_exports_a_model_serving_cifar_images(files, tmp_path, capsys):  # noqa: F811
    from keras_imbalance import datasets

    output = tmp_path / "compare"
    argv = ["compare", "--dataset", "cifar10-lt", "--imbalance-ratio", "10"]
    argv += ["--data-dir", str(files["cifar10"]), "--epochs", "1"]
    argv += ["--strategies", "ce", "--output", str(output)]
    code = main([*argv, "--export-best", "--force-export"])
    assert code == 0, capsys.readouterr().out
    served = load_exported(str(output / "best_model"))
    (_, _), (x_test, y_test) = datasets.load_cifar_lt(
        imbalance_ratio=10, data_dir=str(files["cifar10"])
    )
    scores = served(x_test[:5])  # images as the loader gives them, in [0, 1]
    assert scores["probabilities"].shape == (5, 10)
    assert set(scores["class_name"].tolist()) <= {f"name{i}" for i in range(10)}
