"""The `keras-imbalance` command: a thin shell over `comparison.compare`.

Here `compare` end to end, help and version; argument and dataset errors are
tested in `test_cli_arguments.py`, the progress display in `test_cli_display.py`.
"""

import json
import os
import subprocess
import sys
from io import StringIO

import pytest

from keras_imbalance import comparison
from keras_imbalance.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATEGIES = ["ce", "posthoc_logit_adjustment"]
ARGS = dict(epochs=2, batch_size=64, seeds=[0, 1])


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


def run_main(argv):
    patch = pytest.MonkeyPatch()
    out, err = StringIO(), StringIO()
    patch.setattr(sys, "stdout", out)
    patch.setattr(sys, "stderr", err)
    try:
        code = main(argv)
    finally:
        patch.undo()
    return code, out.getvalue(), err.getvalue()


# --- compare, end to end -------------------------------------------------------


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("compare")
    argv = [
        "compare",
        "--strategies",
        ",".join(STRATEGIES),
        "--epochs",
        str(ARGS["epochs"]),
        "--batch-size",
        str(ARGS["batch_size"]),
        "--seeds",
        "0,1",
        "--export-best",
        "--output",
        str(output),
    ]
    code, stdout, stderr = run_main(argv)
    return {"code": code, "output": output, "stdout": stdout, "stderr": stderr}


@pytest.mark.slow
def test_compare_exit_code_and_output(compare_run):
    assert compare_run["code"] == 0, compare_run["stderr"]
    out = compare_run["stdout"]
    assert "strategies compared (test split, mean ± std over 2 seeds" in out
    assert "best on validation:" in out
    for name in STRATEGIES:
        assert name in out


@pytest.mark.slow
def test_cli_and_library_give_the_same_numbers(compare_run):
    """The CLI holds no training logic: `compare` from Python, same arguments."""
    path = compare_run["output"] / "results.json"
    from_cli = comparison.Comparison.from_json(str(path))
    from_python = comparison.compare(STRATEGIES, "digits-lt", **ARGS)
    for a, b in zip(from_cli.runs, from_python.runs):
        assert (a.strategy, a.seed, a.tuned_params) == (
            b.strategy,
            b.seed,
            b.tuned_params,
        )
        assert a.test.to_dict() == b.test.to_dict()
        assert a.validation.to_dict() == b.validation.to_dict()
    assert from_cli.best == from_python.best


@pytest.mark.slow
def test_results_json_records_seeds_splits_and_tuned_taus(compare_run):
    record = json.loads((compare_run["output"] / "results.json").read_text())
    assert record["chosen_on"] == "validation"
    assert record["setup"]["seeds"] == [0, 1]
    assert record["setup"]["command"].startswith("keras-imbalance compare")
    assert record["setup"]["protocol"]["name"] == "default"
    runs = record["runs"]
    assert [(r["strategy"], r["seed"]) for r in runs] == [
        ("ce", 0),
        ("posthoc_logit_adjustment", 0),
        ("ce", 1),
        ("posthoc_logit_adjustment", 1),
    ]
    for run in runs:
        assert set(run) >= {"validation", "test", "tuned_params", "tuned_on"}
        if run["strategy"] == "posthoc_logit_adjustment":
            assert run["tuned_on"] == "validation"
            assert 0.0 <= run["tuned_params"]["tau"] <= 2.0
        else:
            assert run["tuned_params"] == {} and run["tuned_on"] is None
    # Digits, 2 epochs: BatchNorm statistics re-estimated, never chance level.
    for run in runs:
        assert run["test"]["balanced_accuracy"] > 0.5, run["strategy"]
        assert run["warnings"] == []


@pytest.mark.slow
def test_results_csv_has_one_row_per_run_and_split(compare_run):
    lines = (compare_run["output"] / "results.csv").read_text().splitlines()
    assert lines[0].startswith("strategy,seed,split,accuracy,balanced_accuracy")
    assert len(lines) == 1 + 4 * 2


@pytest.mark.slow
def test_report_and_plots(compare_run):
    output = compare_run["output"]
    report = (output / "report.md").read_text()
    assert "keras-imbalance compare --strategies" in report
    assert "| strategy | val. bal. acc." in report
    assert "per_class_recall.png" in report
    assert is_png(output / "per_class_recall.png")
    best = json.loads((output / "results.json").read_text())["best"]
    assert is_png(output / f"confusion_matrix_{best}.png")


@pytest.mark.slow
def test_compare_exported_model(compare_run):
    import tensorflow as tf

    path = compare_run["output"] / "best_model"
    loaded = tf.saved_model.load(str(path))
    outputs = loaded.serve(tf.zeros((2, 8, 8, 1)))
    assert outputs["logits"].shape == (2, 10)


@pytest.mark.slow
def test_export_refused_for_a_chance_level_model(tmp_path):
    # A learning rate this small leaves the initial, untrained weights.
    argv = [
        "compare",
        "--strategies",
        "ce",
        "--epochs",
        "1",
        "--learning-rate",
        "1e-12",
        "--export-best",
        "--output",
        str(tmp_path),
    ]
    code, stdout, _ = run_main(argv)
    assert code == 1
    assert "not exported" in stdout and "--force-export" in stdout
    assert not (tmp_path / "best_model").exists()
    record = json.loads((tmp_path / "results.json").read_text())
    assert record["runs"][0]["warnings"]
    code, stdout, _ = run_main([*argv, "--force-export"])
    assert code == 0 and (tmp_path / "best_model").exists()


@pytest.mark.slow
def test_balanced_reference_option(tmp_path):
    argv = [
        "compare",
        "--strategies",
        "ce",
        "--epochs",
        "1",
        "--balanced-reference",
        "--quiet",
        "--output",
        str(tmp_path),
    ]
    code, stdout, stderr = run_main(argv)
    assert code == 0, stderr
    assert "class-balanced sample of 49 images per class" in stdout
    record = json.loads((tmp_path / "results.json").read_text())
    # 49 a class, 5 of them held out for validation.
    assert record["setup"]["class_counts"] == [44] * 10


# --- help, version, and what the command imports --------------------------------


def test_inspect_and_compare_default_outputs_differ():
    from keras_imbalance.cli.parser import DEFAULT_OUTPUT

    assert DEFAULT_OUTPUT["compare"] != DEFAULT_OUTPUT["inspect"]


def test_help_and_errors_do_not_import_tensorflow():
    script = (
        "import sys, contextlib, io\n"
        "from keras_imbalance.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['compare', '--help']) == 0\n"
        "    assert main(['--version']) == 0\n"
        "assert main(['compare', '--strategies', 'nope']) == 2\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().startswith("keras-imbalance: error: Unknown strategy")


def test_help_lists_strategies_models_and_version(capsys):
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("ldam_drw", "tau_norm", "small_resnet", "cbam_cnn"):
        assert name in out
    assert main(["--version"]) == 0
    from keras_imbalance import __version__

    assert __version__ in capsys.readouterr().out


@pytest.mark.slow
def test_real_command_prints_no_tensorflow_log_lines(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_imbalance", "inspect", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "class counts" in result.stdout


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
        "--seeds",
        "--repeats",
        "--protocol",
        "--validation-split",
        "--head",
        "--schedule",
        "--force-export",
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
