"""Tests for keras_imbalance.datasets (long-tailed builders and loaders)."""

import gzip
import os
import struct

import numpy as np
import pytest

from keras_imbalance import datasets
from keras_imbalance.datasets import (
    _fashion_mnist,
    load_digits_lt,
    load_fashion_mnist_lt,
    load_npz,
    long_tailed_counts,
    make_long_tailed,
)

SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


def ldam_get_img_num_per_cls(img_max, cls_num, imb_type, imb_factor):
    """Transcription of `IMBALANCECIFAR10.get_img_num_per_cls` (LDAM-DRW code,
    github.com/kaidic/LDAM-DRW, imbalance_cifar.py), with `img_max` given."""
    img_num_per_cls = []
    if imb_type == "exp":
        for cls_idx in range(cls_num):
            num = img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))
            img_num_per_cls.append(int(num))
    elif imb_type == "step":
        for _cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max))
        for _cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max * imb_factor))
    else:
        img_num_per_cls.extend([int(img_max)] * cls_num)
    return img_num_per_cls


def balanced_data(num_classes, per_class):
    """x holds each sample's own index, so subsets can be compared."""
    y = np.repeat(np.arange(num_classes), per_class)
    x = np.arange(len(y)).reshape(-1, 1)
    return x, y


# --- counts of the formula ---------------------------------------------------


@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("num_classes", [10, 3])
@pytest.mark.parametrize("n_max", [5000, 500, 6000, 120])
def test_exponential_counts_match_ldam(ratio, num_classes, n_max):
    expected = ldam_get_img_num_per_cls(n_max, num_classes, "exp", 1.0 / ratio)
    assert long_tailed_counts(num_classes, n_max, ratio).tolist() == expected


@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("n_max", [5000, 500, 120])
def test_step_counts_match_ldam(ratio, n_max):
    expected = ldam_get_img_num_per_cls(n_max, 10, "step", 1.0 / ratio)
    assert long_tailed_counts(10, n_max, ratio, profile="step").tolist() == expected


@pytest.mark.parametrize("ratio", [1, 10, 100])
def test_step_counts_odd_number_of_classes(ratio):
    # The LDAM code lists one class too few for odd C; the last class is tail.
    ldam = ldam_get_img_num_per_cls(500, 3, "step", 1.0 / ratio)
    counts = long_tailed_counts(3, 500, ratio, profile="step").tolist()
    assert counts == ldam + [int(500 * (1.0 / ratio))]


def test_cifar10_lt_published_counts():
    # CIFAR-10-LT at ratio 100 (Cao et al. 2019): 12406 training images.
    counts = long_tailed_counts(10, 5000, 100)
    assert counts.tolist() == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert counts.sum() == 12406
    assert long_tailed_counts(10, 5000, 10).sum() == 20431


def test_one_class():
    assert long_tailed_counts(1, 7, 100).tolist() == [7]


@pytest.mark.parametrize("profile", ["exponential", "step"])
@pytest.mark.parametrize("ratio", [1, 10, 100])
@pytest.mark.parametrize("num_classes", [10, 3])
def test_make_long_tailed_exact_counts(profile, ratio, num_classes):
    x, y = balanced_data(num_classes, 300)
    (x_lt, y_lt), counts = make_long_tailed(
        x, y, imbalance_ratio=ratio, profile=profile
    )
    expected = long_tailed_counts(num_classes, 300, ratio, profile)
    assert counts.dtype == np.int64
    assert counts.tolist() == expected.tolist()
    assert np.bincount(y_lt, minlength=num_classes).tolist() == expected.tolist()
    assert len(x_lt) == len(y_lt) == expected.sum()
    # Each sample keeps its own label, and no sample is drawn twice.
    np.testing.assert_array_equal(y[x_lt[:, 0]], y_lt)
    assert len(np.unique(x_lt)) == len(x_lt)


def test_n_max_defaults_to_smallest_class():
    y = np.concatenate([np.zeros(50), np.ones(40), np.full(30, 2)]).astype(int)
    x = np.arange(len(y))
    _, counts = make_long_tailed(x, y, imbalance_ratio=10)
    assert counts.tolist() == ldam_get_img_num_per_cls(30, 3, "exp", 0.1)
    _, counts = make_long_tailed(x, y, imbalance_ratio=10, max_per_class=50)
    assert counts.tolist() == ldam_get_img_num_per_cls(50, 3, "exp", 0.1)


def test_seed_determines_subset():
    x, y = balanced_data(10, 100)
    (a, ya), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=3)
    (b, yb), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=3)
    (c, _), _ = make_long_tailed(x, y, imbalance_ratio=10, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert set(a[:, 0]) != set(c[:, 0])


def test_output_is_shuffled():
    x, y = balanced_data(4, 50)
    (_, y_lt), _ = make_long_tailed(x, y, imbalance_ratio=2)
    assert not np.all(np.diff(y_lt) >= 0)


def test_one_hot_and_column_labels_keep_their_form():
    x, y = balanced_data(4, 30)
    one_hot = np.eye(4, dtype="float32")[y]
    (x1, y1), counts1 = make_long_tailed(x, one_hot, imbalance_ratio=10, seed=1)
    (x2, y2), counts2 = make_long_tailed(x, y, imbalance_ratio=10, seed=1)
    (x3, y3), _ = make_long_tailed(x, y[:, None], imbalance_ratio=10, seed=1)
    assert y1.shape == (counts1.sum(), 4) and y1.dtype == np.float32
    assert counts1.tolist() == counts2.tolist()
    np.testing.assert_array_equal(y1.argmax(-1), y2)
    np.testing.assert_array_equal(x1, x2)
    assert y3.shape == (len(y2), 1)
    np.testing.assert_array_equal(y3[:, 0], y2)


def test_num_classes_with_a_missing_class():
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match=r"classes \[3\] have none"):
        make_long_tailed(x, y, num_classes=4)
    _, counts = make_long_tailed(x, y, num_classes=3, imbalance_ratio=2)
    assert counts.tolist() == [20, 14, 10]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"imbalance_ratio": 0.5}, "Invalid value for argument `imbalance_ratio`"),
        ({"imbalance_ratio": float("nan")}, "imbalance_ratio"),
        ({"imbalance_ratio": "10"}, "imbalance_ratio"),
        ({"profile": "linear"}, "Invalid value for argument `profile`"),
        ({"max_per_class": 0}, "Invalid value for argument `max_per_class`"),
        ({"num_classes": 0}, "Invalid value for argument `num_classes`"),
        ({"seed": -1}, "Invalid value for argument `seed`"),
        ({"seed": 1.5}, "Invalid value for argument `seed`"),
        (
            {"max_per_class": 30, "imbalance_ratio": 2},
            "Class 0 has 20 samples but needs 30",
        ),
        ({"imbalance_ratio": 100}, "get 0 samples"),
    ],
)
def test_make_long_tailed_validation(kwargs, match):
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match=match):
        make_long_tailed(x, y, **kwargs)


def test_make_long_tailed_shape_mismatch():
    x, y = balanced_data(3, 20)
    with pytest.raises(ValueError, match="same number of samples"):
        make_long_tailed(x[:-1], y)
    with pytest.raises(ValueError, match="one label per sample"):
        make_long_tailed(x, y.reshape(6, 10))


# --- digits ------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [1, 10, 50])
def test_digits_lt(ratio):
    (x_train, y_train), (x_test, y_test) = load_digits_lt(imbalance_ratio=ratio)
    assert x_train.dtype == x_test.dtype == np.float32
    assert x_train.shape[1:] == x_test.shape[1:] == (8, 8, 1)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    test_counts = np.bincount(y_test, minlength=10)
    assert len(set(test_counts.tolist())) == 1  # balanced
    assert test_counts[0] == round(0.3 * 174)
    train_counts = np.bincount(y_train, minlength=10)
    n_max = 174 - test_counts[0]  # the smallest digit class has 174 images
    assert train_counts.tolist() == long_tailed_counts(10, n_max, ratio).tolist()


def test_digits_splits_are_disjoint_and_seeded():
    (a, ya), (t, yt) = load_digits_lt(seed=1)
    (b, yb), (u, yu) = load_digits_lt(seed=1)
    (c, _), (v, _) = load_digits_lt(seed=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(t, u)
    assert not np.array_equal(t, v) and not np.array_equal(a, c)
    # No training image is also a test image (digits has few duplicates, so
    # compare with the indices of the original images).
    from sklearn.datasets import load_digits

    images = load_digits().images.reshape(len(load_digits().images), -1) / 16.0
    lookup = {row.tobytes(): i for i, row in enumerate(images.astype("float32"))}
    train_ids = {lookup[r.tobytes()] for r in a.reshape(len(a), -1)}
    test_ids = {lookup[r.tobytes()] for r in t.reshape(len(t), -1)}
    assert not train_ids & test_ids


@pytest.mark.parametrize("test_size", [0, 1, -0.1, "0.3"])
def test_digits_validation(test_size):
    with pytest.raises(ValueError, match="Invalid value for argument `test_size`"):
        load_digits_lt(test_size=test_size)
    with pytest.raises(ValueError, match="`imbalance_ratio`"):
        load_digits_lt(imbalance_ratio=0)


# --- Fashion-MNIST -----------------------------------------------------------


def write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def write_fake_fashion_mnist(directory, per_class=20, test_per_class=3):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    y_train = np.repeat(np.arange(10), per_class)
    y_test = np.repeat(np.arange(10), test_per_class)
    x_train = rng.integers(0, 256, (len(y_train), 28, 28))
    x_test = rng.integers(0, 256, (len(y_test), 28, 28))
    x_train[:, 0, 0] = 255  # so that the maximum is known
    names = datasets.FASHION_MNIST_FILES
    write_idx(os.path.join(directory, names["x_train"]), x_train)
    write_idx(os.path.join(directory, names["y_train"]), y_train)
    write_idx(os.path.join(directory, names["x_test"]), x_test)
    write_idx(os.path.join(directory, names["y_test"]), y_test)
    return (x_train, y_train), (x_test, y_test)


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No Fashion-MNIST in any default place, and no download."""
    import keras

    monkeypatch.delenv("KERAS_IMBALANCE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(_fashion_mnist, "SYSTEM_DIR", str(tmp_path / "no_system"))

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    return tmp_path


def check_fake(loaded, original, ratio):
    (x_train, y_train), (x_test, y_test) = loaded
    (_, _), (x_test0, y_test0) = original
    assert x_train.dtype == np.float32 and x_train.shape[1:] == (28, 28, 1)
    assert y_train.dtype == np.int64
    assert np.bincount(y_train).tolist() == long_tailed_counts(10, 20, ratio).tolist()
    np.testing.assert_array_equal(y_test, y_test0)
    np.testing.assert_allclose(x_test[..., 0], x_test0 / 255.0, rtol=1e-6)
    assert x_train.max() == 1.0


def test_fashion_mnist_from_path(nowhere):
    original = write_fake_fashion_mnist(nowhere / "fm")
    loaded = load_fashion_mnist_lt(imbalance_ratio=10, path=nowhere / "fm")
    check_fake(loaded, original, 10)
    again = load_fashion_mnist_lt(imbalance_ratio=10, path=str(nowhere / "fm"))
    np.testing.assert_array_equal(loaded[0][0], again[0][0])


def test_fashion_mnist_from_env_var(nowhere, monkeypatch):
    original = write_fake_fashion_mnist(nowhere / "data" / "fashion-mnist")
    monkeypatch.setenv("KERAS_IMBALANCE_DATA", str(nowhere / "data"))
    check_fake(load_fashion_mnist_lt(imbalance_ratio=4), original, 4)
    monkeypatch.setenv("KERAS_IMBALANCE_DATA", str(nowhere / "data" / "fashion-mnist"))
    check_fake(load_fashion_mnist_lt(imbalance_ratio=4), original, 4)


def test_fashion_mnist_from_keras_cache(nowhere):
    cache = nowhere / "keras_home" / "datasets" / "fashion-mnist"
    original = write_fake_fashion_mnist(cache)
    check_fake(load_fashion_mnist_lt(imbalance_ratio=2), original, 2)


def test_fashion_mnist_from_keras_download(nowhere, monkeypatch):
    import keras

    (x_train, y_train), (x_test, y_test) = write_fake_fashion_mnist(nowhere / "x")
    monkeypatch.setattr(
        keras.datasets.fashion_mnist,
        "load_data",
        lambda: ((x_train.astype("uint8"), y_train.astype("uint8")), (x_test, y_test)),
    )
    (_, y_lt), (_, y_t) = load_fashion_mnist_lt(imbalance_ratio=2)
    assert np.bincount(y_lt).tolist() == long_tailed_counts(10, 20, 2).tolist()
    assert y_lt.dtype == np.int64 and len(y_t) == 30


def test_fashion_mnist_nowhere(nowhere):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist_lt()
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "KERAS_IMBALANCE_DATA" in message and "path=" in message
    assert "no network" in message
    assert "train-images-idx3-ubyte.gz" in message


def test_fashion_mnist_path_without_files(nowhere):
    (nowhere / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="missing"):
        load_fashion_mnist_lt(path=nowhere / "empty")


def test_fashion_mnist_corrupt_file(nowhere):
    directory = nowhere / "fm"
    write_fake_fashion_mnist(directory)
    name = directory / datasets.FASHION_MNIST_FILES["x_train"]
    with gzip.open(name, "rb") as f:
        data = f.read()
    with gzip.open(name, "wb") as f:
        f.write(data[:-100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_fashion_mnist_lt(path=directory)
    name.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="Could not read the IDX file"):
        load_fashion_mnist_lt(path=directory)


def test_fashion_mnist_validation(nowhere):
    write_fake_fashion_mnist(nowhere / "fm")
    with pytest.raises(
        ValueError, match="Invalid value for argument `imbalance_ratio`"
    ):
        load_fashion_mnist_lt(imbalance_ratio=0.9, path=nowhere / "fm")


@pytest.mark.skipif(
    not os.path.isdir(SYSTEM_DIR),
    reason="Debian package dataset-fashion-mnist is not installed",
)
@pytest.mark.slow
def test_real_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_IMBALANCE_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no Keras cache
    raw = _fashion_mnist.load_fashion_mnist(None)
    (x_all, y_all), (_, y_test0) = raw
    assert x_all.shape == (60000, 28, 28) and y_all.shape == (60000,)
    assert np.bincount(y_all).tolist() == [6000] * 10
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist_lt(imbalance_ratio=100)
    assert x_test.shape == (10000, 28, 28, 1) and x_test.dtype == np.float32
    assert np.bincount(y_test).tolist() == [1000] * 10
    np.testing.assert_array_equal(y_test, y_test0)
    expected = ldam_get_img_num_per_cls(6000, 10, "exp", 0.01)
    assert np.bincount(y_train).tolist() == expected
    assert x_train.shape == (sum(expected), 28, 28, 1)
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0


# --- npz ---------------------------------------------------------------------


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
