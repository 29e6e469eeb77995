"""`load_fashion_mnist_lt`: where it finds the files, what it makes of them, errors."""

import gzip
import os
import struct

import numpy as np
import pytest

from keras_imbalance import datasets
from keras_imbalance.datasets import (
    _fashion_mnist,
    load_fashion_mnist_lt,
    long_tailed_counts,
)
from tests.ldam_counts import ldam_get_img_num_per_cls

SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


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
