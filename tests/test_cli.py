"""Tests for the `keras-imbalance` command (keras_imbalance.cli)."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_imbalance import cli
from keras_imbalance.cli import auto_shot_thresholds, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV_HEADER = [
    "strategy",
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "g_mean",
    "many_shot_accuracy",
    "medium_shot_accuracy",
    "few_shot_accuracy",
    "ece",
    "train_seconds",
]
STRATEGIES = ["ce", "balanced_softmax"]


def is_png(path):
    with open(path, "rb") as f:
        return os.path.getsize(path) > 100 and f.read(4) == b"\x89PNG"


def assert_one_line_error(capsys, code):
    assert code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("keras-imbalance: error: "), err
    assert len(lines[0]) > len("keras-imbalance: error: ")
    return lines[0]


# --- compare, end to end -------------------------------------------------------


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("compare")
    patch = pytest.MonkeyPatch()
    argv = [
        "compare",
        "--strategies",
        ",".join(STRATEGIES),
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--export-best",
        "--output",
        str(output),
    ]
    from io import StringIO

    out, err = StringIO(), StringIO()
    patch.setattr(sys, "stdout", out)
    patch.setattr(sys, "stderr", err)
    try:
        code = main(argv)
    finally:
        patch.undo()
    return {"code": code, "output": output, "stdout": out.getvalue()}


def test_compare_exit_code_and_output(compare_run):
    assert compare_run["code"] == 0
    stdout = compare_run["stdout"]
    for name in STRATEGIES:
        assert name in stdout
        assert f"strategy {STRATEGIES.index(name) + 1}/2 {name}" in stdout
    assert "epoch 1/1" in stdout
    assert "ETA" in stdout
    assert "digits-lt" in stdout
    assert "[122, 94, 73, 56, 43, 33, 26, 20, 15, 12]" in stdout
    assert "results.json" in stdout


def test_compare_results_json(compare_run):
    with open(compare_run["output"] / "results.json") as f:
        record = json.load(f)
    assert record["dataset"] == "digits-lt"
    assert record["imbalance_ratio"] == 10
    assert record["epochs"] == 1 and record["batch_size"] == 64
    assert record["model"] == cli.DEFAULT_MODEL
    assert record["seed"] == 0
    assert record["class_counts"] == [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    assert record["shot_thresholds"] == [100, 20]
    assert set(record["machine"]) >= {
        "platform",
        "python",
        "tensorflow",
        "keras",
        "cpu_count",
    }
    assert [r["strategy"] for r in record["results"]] == STRATEGIES
    for result in record["results"]:
        value = result["balanced_accuracy"]
        assert math.isfinite(value) and 0.0 <= value <= 1.0
        assert result["train_seconds"] > 0
        assert result["report"]["balanced_accuracy"] == value
        assert result["report"]["many_threshold"] == 100
    best = max(record["results"], key=lambda r: r["balanced_accuracy"])
    assert record["best"] == best["strategy"]


def test_compare_results_csv(compare_run):
    with open(compare_run["output"] / "results.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == CSV_HEADER
    assert [row["strategy"] for row in rows] == STRATEGIES
    for row in rows:
        assert 0.0 <= float(row["balanced_accuracy"]) <= 1.0


def test_compare_plots(compare_run):
    output = compare_run["output"]
    with open(output / "results.json") as f:
        best = json.load(f)["best"]
    assert is_png(output / "per_class_recall.png")
    assert is_png(output / f"confusion_matrix_{best}.png")


def test_compare_exported_model(compare_run):
    from keras_imbalance.datasets import load_digits_lt
    from keras_imbalance.export import load_exported

    _, (x_test, _) = load_digits_lt()
    predict = load_exported(compare_run["output"] / "best_model")
    out = predict(x_test[:5])
    assert out["logits"].shape == (5, 10)
    assert out["probabilities"].shape == (5, 10)
    assert out["class_id"].shape == (5,)
    assert np.all((out["class_id"] >= 0) & (out["class_id"] < 10))
    np.testing.assert_array_equal(out["class_id"], out["logits"].argmax(-1))
    assert set(out["class_name"]) <= {str(c) for c in range(10)}


# --- inspect -------------------------------------------------------------------


def test_inspect_digits(tmp_path, capsys):
    code = main(["inspect", "--output", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    for count in (122, 94, 73, 56, 43, 33, 26, 20, 15, 12):
        assert str(count) in out
    assert "many" in out and "medium" in out and "few" in out
    assert "0.4049" in out  # balanced weight of class 0: 494 / (10 * 122)
    assert is_png(tmp_path / "class_counts.png")


def test_inspect_npz_as_given(tmp_path, capsys):
    file = tmp_path / "mine.npz"
    rng = np.random.default_rng(0)
    np.savez(
        file,
        x_train=rng.random((30, 4, 4, 1)).astype("float32"),
        y_train=np.repeat([0, 1, 2], [20, 7, 3]),
        x_test=rng.random((6, 4, 4, 1)).astype("float32"),
        y_test=[0, 1, 2, 0, 1, 2],
    )
    assert main(["inspect", "--dataset", str(file), "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "6.667" in out  # 20 / 3, the measured ratio


# --- errors --------------------------------------------------------------------


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
        ["--seed", "-1"],
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


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--dataset",
        "--imbalance-ratio",
        "--strategies",
        "--model",
        "--epochs",
        "--batch-size",
        "--seed",
        "--output",
        "--export-best",
        "--shot-thresholds",
        "--data-dir",
        "--quiet",
    ):
        assert option in out


def test_python_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "keras_imbalance", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "compare" in result.stdout and "inspect" in result.stdout


# --- shot thresholds and progress ------------------------------------------------


def test_auto_shot_thresholds_fashion():
    counts = [6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60]
    assert auto_shot_thresholds(counts) == (1292, 279)
    many, few = auto_shot_thresholds(counts)
    counts = np.asarray(counts)
    assert (np.sum(counts > many), np.sum(counts < few)) == (3, 4)


def test_auto_shot_thresholds_digits():
    counts = [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    assert auto_shot_thresholds(counts) == (100, 20)


@pytest.mark.parametrize(
    "counts", [[5, 5, 5], [2, 1], [1000, 10, 1, 0], np.array([300, 200, 100])]
)
def test_auto_shot_thresholds_edge_cases(counts):
    many, few = auto_shot_thresholds(counts)
    assert isinstance(many, int) and isinstance(few, int)
    assert many >= few >= 0


@pytest.mark.parametrize("counts", [[], [0, 0], [-1, 5], [[1, 2]], "abc"])
def test_auto_shot_thresholds_invalid(counts):
    with pytest.raises(ValueError, match="class_counts"):
        auto_shot_thresholds(counts)


def test_shot_thresholds_option(tmp_path, capsys):
    code = main(["inspect", "--shot-thresholds", "50,25", "--output", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "many > 50, few < 25 (given)" in out


def test_progress_eta():
    now = [0.0]
    tracker = cli._ProgressTracker(["a", "b"], 4, clock=lambda: now[0])
    tracker.start_strategy(0)
    assert tracker.eta_seconds() is None
    for _ in range(2):
        now[0] += 1.5
        tracker.epoch_end()
    # 1.5 s per epoch, 2 epochs left in "a" and 4 in "b".
    assert tracker.eta_seconds() == pytest.approx(9.0)
    assert tracker.line() == "strategy 1/2 a: epoch 2/4, ETA 00:09"
    # A two-stage recipe may call fit twice: only finished epochs count.
    for _ in range(3):
        now[0] += 1.5
        tracker.epoch_end()
    assert tracker.epoch_text() == "epoch 5/5"
    assert tracker.eta_seconds() == pytest.approx(6.0)
    tracker.end_strategy()
    tracker.start_strategy(1)
    assert tracker.label() == "strategy 2/2 b"
    assert tracker.remaining_epochs == 4


class _FakeReport:
    balanced_accuracy = 0.75


def test_display_on_a_terminal():
    from io import StringIO

    from rich.console import Console

    file = StringIO()
    console = Console(file=file, force_terminal=True, width=100)
    now = [0.0]
    tracker = cli._ProgressTracker(["ce", "focal"], 2, clock=lambda: now[0])
    with cli._Display(console, tracker, quiet=False) as display:
        assert display.live
        display.strategy_started(0)
        for _ in range(2):
            now[0] += 1.0
            display.epoch_ended()
        display.strategy_ended(2.0, _FakeReport())
    text = file.getvalue()
    assert "strategy 1/2 ce" in text
    assert "epoch 2/2" in text
    assert "ETA 00:02" in text
    assert "done in 2.0 s, balanced accuracy 0.7500" in text


def test_display_quiet_prints_one_line_per_strategy(capsys):
    from rich.console import Console

    tracker = cli._ProgressTracker(["ce"], 3)
    with cli._Display(Console(), tracker, quiet=True) as display:
        display.strategy_started(0)
        for _ in range(3):
            display.epoch_ended()
        display.strategy_ended(1.0, _FakeReport())
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["strategy 1/1 ce: done in 1.0 s, balanced accuracy 0.7500"]


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
