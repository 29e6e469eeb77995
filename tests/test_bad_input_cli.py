"""Bad data and seeds: one `keras-imbalance: error:` line, exit 2, before training.

Every case runs the real command (`keras_imbalance.cli.main`) for `inspect`
and `compare`; the data checks come before Keras is imported, so each
answers in a fraction of a second.
"""

import os
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

from keras_imbalance.cli import main
from tests.test_cli import ROOT, assert_one_line_error

COMMANDS = ["inspect", "compare"]


def _arrays(rng=None):
    rng = rng or np.random.default_rng(0)
    return {
        "x_train": rng.random((40, 4, 4, 1)).astype("float32"),
        "y_train": np.repeat(np.arange(4), 10),
        "x_test": rng.random((8, 4, 4, 1)).astype("float32"),
        "y_test": np.repeat(np.arange(4), 2),
    }


def _npz(tmp_path, name="data", compressed=False, **changes):
    arrays = dict(_arrays(), **changes)
    path = tmp_path / f"{name}.npz"
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return str(path)


def _error(tmp_path, capsys, command, dataset, *extra):
    output = tmp_path / "out"
    code = main([command, "--dataset", dataset, *extra, "--output", str(output)])
    line = assert_one_line_error(capsys, code)
    assert not output.exists() or os.listdir(output) == []  # nothing written
    return line


def _with(array, index, value):
    array = array.copy()
    array[index] = value
    return array


# --- inputs ------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("x_train", np.nan, "`x_train` holds 1 non-finite value(s) (NaN or inf), "),
        ("x_test", np.inf, "`x_test` holds 1 non-finite value(s) (NaN or inf), "),
    ],
)
def test_non_finite_inputs(tmp_path, capsys, command, key, value, expected):
    x = _with(_arrays()[key], (3, 1, 2, 0), value)
    line = _error(tmp_path, capsys, command, _npz(tmp_path, **{key: x}))
    assert line == (
        f"keras-imbalance: error: {expected}the first in sample 3; replace or "
        "drop them before training."
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_test_split_of_another_sample_shape(tmp_path, capsys, command):
    file = _npz(tmp_path, x_test=np.zeros((8, 4, 5, 1), "float32"))
    line = _error(tmp_path, capsys, command, file)
    assert line == (
        "keras-imbalance: error: `x_test` must have the per-sample shape of "
        "`x_train`, (4, 4, 1). Received: x_train.shape=(40, 4, 4, 1), "
        "x_test.shape=(8, 4, 5, 1)"
    )


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "shape, expected",
    [
        ((), "shape {} has no per-sample axis"),
        ((2, 2, 2, 1), "Received: x_train.shape={} (4 per-sample axes)"),
    ],
)
def test_inputs_of_rank_1_or_5(tmp_path, capsys, command, shape, expected):
    x_train, x_test = np.zeros((40, *shape)), np.zeros((8, *shape))
    line = _error(
        tmp_path, capsys, command, _npz(tmp_path, x_train=x_train, x_test=x_test)
    )
    assert "`x_train` must have a sample axis and 1 to 3 per-sample axes" in line
    assert expected.format(x_train.shape) in line


@pytest.mark.parametrize("command", COMMANDS)
def test_non_numeric_inputs(tmp_path, capsys, command):
    text = np.array([["a"]] * 40)
    line = _error(tmp_path, capsys, command, _npz(tmp_path, x_train=text))
    assert line.endswith(
        "`x_train` must be a numeric array (booleans, integers or real floats). "
        "Received: x_train.dtype=<U1"
    )


# --- labels -------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_stray_huge_label(tmp_path, capsys, command):
    y = _with(np.repeat(np.arange(4), 10), 5, 100000)
    file = _npz(tmp_path, y_train=y)
    line = _error(tmp_path, capsys, command, file)
    assert line == (
        "keras-imbalance: error: `y_train` uses 5 of the 100001 class ids "
        "0..100000: 99996 classes would have no training sample (the largest "
        "label, 100000, has 1 sample(s)). Class ids must be 0..C-1; if there "
        "really are 100001 classes, pass --num-classes=100001."
    )
    line = _error(tmp_path, capsys, command, file, "--num-classes", "50")
    assert line == (
        "keras-imbalance: error: `y_train` holds the label 100000, but "
        "--num-classes=50: class ids must be in 0..49."
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_test_label_at_or_above_num_classes(tmp_path, capsys, command):
    file = _npz(tmp_path, y_test=_with(np.repeat(np.arange(4), 2), 0, 4))
    line = _error(tmp_path, capsys, command, file, "--num-classes", "4")
    assert "`y_test` holds the label 4, but --num-classes=4" in line


def test_mostly_empty_rule_boundary(tmp_path, capsys):
    # Ids 0..3 with 2 of them empty: exactly half, accepted; 0..5 with 4: refused.
    y = np.repeat([0, 3], 20)
    ok = _npz(tmp_path, "half", y_train=y, y_test=np.repeat([0, 3], 4))
    assert main(["inspect", "--dataset", ok, "--output", str(tmp_path / "o")]) == 0
    # Joined: a long temporary path can wrap the line before "classes".
    assert "4 classes" in " ".join(capsys.readouterr().out.split())
    bad = _npz(tmp_path, "most", y_train=np.repeat([0, 5], 20), y_test=[0, 5] * 4)
    line = _error(tmp_path, capsys, "inspect", bad)
    assert "uses 2 of the 6 class ids 0..5: 4 classes would have no" in line


@pytest.mark.slow
def test_num_classes_allows_empty_classes(tmp_path, capsys):
    file = _npz(tmp_path, y_train=np.repeat([0, 9], 20), y_test=[0, 9, 0, 9] * 2)
    args = ["inspect", "--dataset", file, "--num-classes", "12"]
    assert main([*args, "--output", str(tmp_path / "o")]) == 0
    out = " ".join(capsys.readouterr().out.split())  # unwrap long lines
    assert "12 classes" in out
    assert "[20, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0]" in out


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"y_train": _with(np.repeat(np.arange(4), 10), 7, -1)},
            "`y_train` must hold non-negative class ids; sample 7 has the label -1.",
        ),
        (
            {"y_train": _with(np.repeat(np.arange(4.0), 10), 2, 1.5)},
            "`y_train` must hold integer class ids; sample 2 has the label 1.5 "
            "(1 non-integer label(s) in all).",
        ),
        (
            {"y_test": _with(np.repeat(np.arange(4.0), 2), 6, np.nan)},
            "`y_test` must hold integer class ids; sample 6 has the label nan "
            "(1 non-integer label(s) in all).",
        ),
        (
            {"y_test": _with(np.repeat(np.arange(4), 2), 6, 4)},
            "`y_test` holds 1 label(s) that no training sample has: 4. A model "
            "cannot learn a class it never sees: drop those test samples (or "
            "pass `--num-classes` to keep classes without training samples).",
        ),
        (
            {"y_train": np.array(["cat"] * 40)},
            "`y_train` must hold integer class ids. Received: y_train.dtype=<U3",
        ),
    ],
    ids=["negative", "fraction", "nan", "unseen-test-class", "strings"],
)
def test_bad_labels(tmp_path, capsys, command, changes, expected):
    line = _error(tmp_path, capsys, command, _npz(tmp_path, **changes))
    assert line == f"keras-imbalance: error: {expected}"


# --- damaged files --------------------------------------------------------------


def _damaged(tmp_path):
    """A compressed .npz whose first array's deflate stream is broken."""
    file = _npz(tmp_path, "damaged", compressed=True)
    with zipfile.ZipFile(file) as archive:
        info = archive.infolist()[0]
    data = bytearray(open(file, "rb").read())
    # The compressed data starts after the 30-byte local header and the name.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    for i in range(start, start + 40):
        data[i] ^= 0xFF
    with open(file, "wb") as f:
        f.write(data)
    return file


def test_damaged_file_raises_zlib_error_without_the_check(tmp_path):
    file = _damaged(tmp_path)
    with pytest.raises((zlib.error, zipfile.BadZipFile)):
        with np.load(file) as data:
            data["x_train"]


@pytest.mark.parametrize("command", COMMANDS)
def test_damaged_compressed_npz(tmp_path, capsys, command):
    file = _damaged(tmp_path)
    line = _error(tmp_path, capsys, command, file)
    assert line.startswith(
        f"keras-imbalance: error: Could not read the array 'x_train' of the .npz "
        f"file {file!r} (damaged or truncated data): "
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_truncated_npz(tmp_path, capsys, command):
    file = _npz(tmp_path, compressed=True)
    data = open(file, "rb").read()
    with open(file, "wb") as f:
        f.write(data[: len(data) // 2])
    line = _error(tmp_path, capsys, command, file)
    assert line == (
        f"keras-imbalance: error: Could not read the .npz file {file!r}: File is "
        "not a zip file"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_key(tmp_path, capsys, command):
    file = tmp_path / "partial.npz"
    arrays = _arrays()
    del arrays["y_test"]
    np.savez(file, **arrays)
    line = _error(tmp_path, capsys, command, str(file))
    assert line == (
        f"keras-imbalance: error: The file {str(file)!r} lacks the arrays "
        "['y_test']; an .npz dataset needs ['x_train', 'y_train', 'x_test', "
        "'y_test'] (found ['x_test', 'x_train', 'y_train'])."
    )


# --- seeds and options -----------------------------------------------------------


@pytest.mark.parametrize(
    "command, args, expected",
    [
        (
            "compare",
            ["--seeds", "4294967296"],
            "Invalid value for argument `--seeds`. Expected distinct integers in "
            "[0, 2**32), comma-separated. Received: --seeds='4294967296'",
        ),
        (
            "compare",
            ["--seeds", "0,1,4294967296"],
            "Invalid value for argument `--seeds`. Expected distinct integers in "
            "[0, 2**32), comma-separated. Received: --seeds='0,1,4294967296'",
        ),
        (
            "compare",
            ["--data-seed", "4294967296"],
            "Invalid value for argument `--data-seed`. Expected an integer in "
            "[0, 2**32). Received: --data-seed=4294967296",
        ),
        (
            "inspect",
            ["--data-seed", "4294967296"],
            "Invalid value for argument `--data-seed`. Expected an integer in "
            "[0, 2**32). Received: --data-seed=4294967296",
        ),
        (
            "compare",
            ["--repeats", "4294967297"],
            "Invalid value for argument `--repeats`. Expected an integer in "
            "[1, 1000]. Received: --repeats=4294967297",
        ),
        (
            "inspect",
            ["--num-classes", "1"],
            "Invalid value for argument `--num-classes`. Expected an integer >= 2. "
            "Received: --num-classes=1",
        ),
    ],
)
def test_out_of_range_seeds_and_options(tmp_path, capsys, command, args, expected):
    code = main([command, *args, "--output", str(tmp_path / "out")])
    assert assert_one_line_error(capsys, code) == f"keras-imbalance: error: {expected}"
    assert not (tmp_path / "out").exists()


def test_data_errors_come_before_tensorflow(tmp_path):
    """A fresh process: the data checks answer without importing TensorFlow."""
    nan = _npz(tmp_path, "nan", x_train=np.full((40, 4, 4, 1), np.nan))
    huge = _npz(tmp_path, "huge", y_train=_with(np.repeat(np.arange(4), 10), 0, 10**5))
    out = str(tmp_path / "out")
    script = (
        "import sys\n"
        "from keras_imbalance.cli import main\n"
        f"for command in {COMMANDS!r}:\n"
        f"    for file in {[nan, huge]!r}:\n"
        f"        assert main([command, '--dataset', file, '--output', {out!r}]) == 2\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and all(
        line.startswith("keras-imbalance: error: `") for line in lines
    ), result.stderr
