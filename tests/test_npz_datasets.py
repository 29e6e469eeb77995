""".npz datasets: `load_npz`, and the checks of `load_dataset` before training."""

import numpy as np
import pytest

from keras_imbalance import datasets
from keras_imbalance.datasets import load_npz


def test_load_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((7, 4, 4, 3)).astype("float32"),
        "y_train": rng.integers(0, 3, 7),
        "x_test": rng.random((5, 4, 4, 3)).astype("float32"),
        "y_test": np.eye(3)[rng.integers(0, 3, 5)],
    }
    np.savez_compressed(tmp_path / "d.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = load_npz(tmp_path / "d.npz")
    for key, value in zip(arrays, (x_train, y_train, x_test, y_test)):
        np.testing.assert_array_equal(value, arrays[key])
        assert value.dtype == arrays[key].dtype


def test_load_npz_missing_keys(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros(3), y_train=np.zeros(3))
    with pytest.raises(ValueError, match=r"\['x_test', 'y_test'\]"):
        load_npz(tmp_path / "d.npz")


def test_load_npz_unreadable(tmp_path):
    with pytest.raises(ValueError, match="Could not read"):
        load_npz(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(ValueError, match="Could not read"):
        load_npz(tmp_path / "junk.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="Could not read"):
        load_npz(tmp_path / "text.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_npz(tmp_path / "single.npy")


def test_load_npz_mismatched_lengths(tmp_path):
    np.savez(
        tmp_path / "d.npz",
        x_train=np.zeros((3, 2)),
        y_train=np.zeros(2),
        x_test=np.zeros((1, 2)),
        y_test=np.zeros(1),
    )
    with pytest.raises(ValueError, match="x_train and y_train"):
        load_npz(tmp_path / "d.npz")


# --- checks of an .npz dataset before training ------------------------------


def _npz_dataset(tmp_path, **changes):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((40, 3)).astype("float32"),
        "y_train": np.repeat(np.arange(4), 10),
        "x_test": rng.random((8, 3)).astype("float32"),
        "y_test": np.repeat(np.arange(4), 2),
    }
    arrays.update(changes)
    np.savez(tmp_path / "d.npz", **arrays)
    return str(tmp_path / "d.npz")


def _set(array, index, value):
    array = np.array(array, copy=True)
    array[index] = value
    return array


@pytest.mark.parametrize(
    "changes, match",
    [
        (
            {"x_train": _set(np.zeros((40, 3)), (9, 2), np.nan)},
            r"`x_train` holds 1 non-finite value\(s\) \(NaN or inf\), the first "
            "in sample 9",
        ),
        (
            {"x_test": _set(np.zeros((8, 3)), (1, 0), -np.inf)},
            r"`x_test` holds 1 non-finite value\(s\)",
        ),
        (
            {"x_test": np.zeros((8, 4))},
            r"`x_test` must have the per-sample shape of `x_train`, \(3,\)",
        ),
        ({"x_train": np.zeros(40), "x_test": np.zeros(8)}, "no per-sample axis"),
        (
            {
                "x_train": np.zeros((40, 1, 1, 1, 1)),
                "x_test": np.zeros((8, 1, 1, 1, 1)),
            },
            r"x_train.shape=\(40, 1, 1, 1, 1\) \(4 per-sample axes\)",
        ),
        ({"x_train": np.zeros((40, 2), complex)}, "must be a numeric array"),
        (
            {"y_train": _set(np.repeat(np.arange(4), 10), 0, 100000)},
            "uses 5 of the 100001 class ids 0..100000: 99996 classes would have "
            "no training sample",
        ),
        (
            {"y_train": _set(np.repeat(np.arange(4), 10), 3, -2)},
            "non-negative class ids; sample 3 has the label -2",
        ),
        (
            {"y_train": _set(np.repeat(np.arange(4.0), 10), 1, 0.25)},
            "integer class ids; sample 1 has the label 0.25",
        ),
        (
            {"y_test": _set(np.repeat(np.arange(4), 2), 1, 7)},
            "`y_test` holds 1 label.s. that no training sample has: 7",
        ),
    ],
)
def test_load_dataset_refuses_bad_npz_arrays(tmp_path, changes, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_dataset(_npz_dataset(tmp_path, **changes))


def test_load_dataset_num_classes(tmp_path):
    y = np.repeat([0, 6], 20)
    file = _npz_dataset(tmp_path, y_train=y, y_test=[0, 6] * 4)
    with pytest.raises(ValueError, match="pass num_classes=7"):
        datasets.load_dataset(file)
    data = datasets.load_dataset(file, num_classes=9)
    assert data["num_classes"] == 9 and len(data["class_names"]) == 9
    with pytest.raises(ValueError, match="the label 6, but num_classes=5"):
        datasets.load_dataset(file, num_classes=5)
    with pytest.raises(ValueError, match="Expected None or an integer >= 2"):
        datasets.load_dataset(file, num_classes=1)
    digits = datasets.load_dataset("digits-lt", num_classes=12)
    assert digits["num_classes"] == 12 and digits["class_names"][-1] == "11"
    with pytest.raises(ValueError, match="the label 9, but num_classes=8"):
        datasets.load_dataset("digits-lt", num_classes=8)


def test_load_npz_damaged_compressed_data(tmp_path):
    import zipfile
    import zlib

    rng = np.random.default_rng(0)
    file = tmp_path / "c.npz"
    np.savez_compressed(
        file,
        x_train=rng.random((50, 20)),
        y_train=np.zeros(50),
        x_test=[[0]],
        y_test=[0],
    )
    data = bytearray(file.read_bytes())
    with zipfile.ZipFile(file) as archive:
        info = archive.getinfo("x_train.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data[start : start + 40] = bytes(b ^ 0xFF for b in data[start : start + 40])
    file.write_bytes(bytes(data))
    with pytest.raises(zlib.error):  # what escaped before
        with np.load(file) as raw:
            raw["x_train"]
    with pytest.raises(
        ValueError,
        match=r"Could not read the array 'x_train' of the .npz file .*c.npz' "
        r"\(damaged or truncated data\): Error -3 while decompressing",
    ):
        load_npz(file)
