"""Arguments and datasets of `keras-imbalance`: bad ones exit 2 with one error line."""

import numpy as np
import pytest

from keras_imbalance.cli import main
from tests.test_cli import assert_one_line_error


def test_unknown_dataset(tmp_path, capsys):
    code = main(["compare", "--dataset", "nope", "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "nope" in line and "digits-lt" in line


def test_unknown_dataset_inspect(tmp_path, capsys):
    code = main(["inspect", "--dataset", "nope", "--output", str(tmp_path)])
    assert_one_line_error(capsys, code)


def test_unknown_strategy(tmp_path, capsys):
    code = main(["compare", "--strategies", "ce,nope", "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "'nope'" in line


def test_empty_strategy_name(tmp_path, capsys):
    code = main(["compare", "--strategies", "ce,,focal", "--output", str(tmp_path)])
    assert_one_line_error(capsys, code)


def test_unknown_model(tmp_path, capsys):
    code = main(["compare", "--model", "nope", "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "'nope'" in line and "small_cnn" in line


@pytest.mark.parametrize(
    "args",
    [
        ["--imbalance-ratio", "0.5"],
        ["--imbalance-ratio", "nan"],
        ["--epochs", "0"],
        ["--batch-size", "0"],
        ["--seeds", "-1"],
        ["--seeds", "0,0"],
        ["--repeats", "0"],
        ["--validation-split", "0.9"],
        ["--data-seed", "-1"],
        ["--learning-rate", "-1"],
        ["--shot-thresholds", "20,100"],
        ["--shot-thresholds", "many"],
    ],
)
def test_invalid_numbers(tmp_path, capsys, args):
    code = main(["compare", *args, "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert args[0] in line


def test_inspect_invalid_ratio(tmp_path, capsys):
    code = main(["inspect", "--imbalance-ratio", "0.5", "--output", str(tmp_path)])
    assert_one_line_error(capsys, code)


def test_missing_npz(tmp_path, capsys):
    missing = str(tmp_path / "missing.npz")
    code = main(["compare", "--dataset", missing, "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "missing.npz" in line


def test_npz_missing_key(tmp_path, capsys):
    file = tmp_path / "partial.npz"
    np.savez(file, x_train=np.zeros((4, 2)), y_train=[0, 1, 0, 1], x_test=np.ones(2))
    code = main(["compare", "--dataset", str(file), "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "y_test" in line


def test_npz_garbage(tmp_path, capsys):
    file = tmp_path / "x.npz"
    file.write_bytes(b"this is not a zip archive\nsecond line\n")
    code = main(["inspect", "--dataset", str(file), "--output", str(tmp_path)])
    assert_one_line_error(capsys, code)


def test_npz_bad_labels(tmp_path, capsys):
    file = tmp_path / "soft.npz"
    np.savez(
        file,
        x_train=np.zeros((3, 2)),
        y_train=[0.5, 1.0, 0.0],
        x_test=np.zeros((2, 2)),
        y_test=[0, 1],
    )
    code = main(["compare", "--dataset", str(file), "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "y_train" in line


def test_fashion_mnist_missing(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(
        [
            "compare",
            "--dataset",
            "fashion-mnist-lt",
            "--data-dir",
            str(empty),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    line = assert_one_line_error(capsys, code)
    assert "Fashion-MNIST" in line


def test_argparse_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["compare", "--epochs", "many"]) == 2
    assert main(["frobnicate"]) == 2
    capsys.readouterr()


def test_npz_single_class(tmp_path, capsys):
    file = tmp_path / "one.npz"
    np.savez(
        file,
        x_train=np.zeros((3, 2)),
        y_train=[0, 0, 0],
        x_test=np.zeros((1, 2)),
        y_test=[0],
    )
    code = main(["compare", "--dataset", str(file), "--output", str(tmp_path)])
    line = assert_one_line_error(capsys, code)
    assert "2" in line


def test_npz_with_imbalance_ratio(tmp_path, capsys):
    file = tmp_path / "balanced.npz"
    rng = np.random.default_rng(0)
    np.savez(
        file,
        x_train=rng.random((40, 4, 4, 1)).astype("float32"),
        y_train=np.repeat(np.arange(4), 10),
        x_test=rng.random((8, 4, 4, 1)).astype("float32"),
        y_test=np.repeat(np.arange(4), 2),
    )
    args = ["inspect", "--dataset", str(file), "--output", str(tmp_path)]
    assert main([*args, "--imbalance-ratio", "10"]) == 0
    out = capsys.readouterr().out
    assert "[10, 4, 2, 1]" in out


def test_distribution_needs_jax(tmp_path, capsys):
    # The tests run on TensorFlow: DataParallel is for JAX.
    code = main(
        ["compare", "--distribution", "data_parallel", "--output", str(tmp_path)]
    )
    line = assert_one_line_error(capsys, code)
    assert "error: --distribution: keras.distribution" in line
    assert "needs the JAX backend; Keras runs on 'tensorflow'" in line


def test_distribution_fewer_than_two_devices(tmp_path, capsys, monkeypatch):
    import keras

    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    monkeypatch.setattr(keras.distribution, "list_devices", lambda: ["cpu:0"])
    code = main(
        ["compare", "--distribution", "data_parallel", "--output", str(tmp_path)]
    )
    line = assert_one_line_error(capsys, code)
    assert "needs at least 2 devices; JAX sees 1 (cpu:0)" in line
    assert "--xla_force_host_platform_device_count" in line


def test_unknown_distribution_exits_2(capsys):
    assert main(["compare", "--distribution", "mirrored"]) == 2
    assert "invalid choice: 'mirrored'" in capsys.readouterr().err
