"""CIFAR-10-LT / CIFAR-100-LT (`datasets.load_cifar_lt`), the protocol of Cao et al.

The test machines are offline: the loader reads small synthetic files in the
real format (pickled dicts with bytes keys), and no test may download.
"""

import os
import pickle
import shutil

import keras
import numpy as np
import pytest

from keras_imbalance import comparison, datasets
from keras_imbalance.cli import main
from keras_imbalance.datasets import load_cifar_lt, long_tailed_counts
from keras_imbalance.models import model_factory

PER_CLASS = 60  # training images a class (the release: 5000, or 500)
TEST_PER_CLASS = 4
PER_CLASS_100 = 20


def dump(path, content):
    with open(path, "wb") as f:
        pickle.dump(content, f)


def images(rng, first_id, n):
    """uint8 rows of 3072 pixels (R, G, B planes of 32 x 32, row-major): R is
    constant in each image, G is the position `(32 r + c) % 256`, and the first
    two B pixels hold the image's id."""
    data = rng.integers(0, 256, (n, 3, 1024), dtype=np.uint8)
    data[:, 0] = rng.integers(0, 256, (n, 1), dtype=np.uint8)
    data[:, 1] = np.arange(1024) % 256
    ids = np.arange(first_id, first_id + n)
    data[:, 2, 0], data[:, 2, 1] = ids // 256, ids % 256
    return data.reshape(n, 3072)


def write_release(folder, rng, splits, label_key, meta, names_key, num_classes):
    """Pickled dicts with bytes keys, as in the release; `splits`: for the
    training and the test split, its file names and images a class."""
    os.makedirs(folder)
    arrays, first_id = [], 0
    for names, per_class in splits:
        labels = rng.permutation(np.repeat(np.arange(num_classes), per_class))
        data = images(rng, first_id, len(labels))
        first_id += len(labels)
        coarse = (num_classes - 1 - labels) // 5  # CIFAR-100: other than the fine
        parts = np.array_split(np.arange(len(labels)), len(names))
        for name, part in zip(names, parts):
            batch = {label_key: labels[part].tolist(), b"data": data[part]}
            if label_key == b"fine_labels":
                batch[b"coarse_labels"] = coarse[part].tolist()
            dump(os.path.join(folder, name), batch)
        arrays.append((data, labels))
    names = [f"name{c}".encode() for c in range(num_classes)]
    dump(os.path.join(folder, meta), {names_key: names})
    return tuple(arrays)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    rng = np.random.default_rng(7)
    train10 = [f"data_batch_{i}" for i in range(1, 6)]
    return {
        "root": root,
        "cifar10": root / "cifar-10-batches-py",
        "cifar100": root / "cifar-100-python",
        "c10": write_release(
            root / "cifar-10-batches-py", rng,
            [(train10, PER_CLASS), (["test_batch"], TEST_PER_CLASS)],
            b"labels", "batches.meta", b"label_names", 10,
        ),
        "c100": write_release(
            root / "cifar-100-python", rng,
            [(["train"], PER_CLASS_100), (["test"], 2)],
            b"fine_labels", "meta", b"fine_label_names", 100,
        ),
    }  # fmt: skip


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """An empty Keras cache, no data folder, and a Keras that never downloads."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("KERAS_IMBALANCE_DATA", raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("a test tried to download CIFAR")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", no_download)
    monkeypatch.setattr(keras.datasets.cifar100, "load_data", no_download)
    return tmp_path


def reference_indices(labels, ratio, num_classes, seed=0):
    """The LDAM-DRW procedure with NumPy's global generator (state restored)."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(seed)  # noqa: NPY002
        img_max, imb_factor = len(labels) / num_classes, 1.0 / ratio
        counts = [
            int(img_max * imb_factor ** (i / (num_classes - 1.0)))
            for i in range(num_classes)
        ]
        targets = np.asarray(labels, dtype=np.int64)
        kept = []
        for c, n in zip(np.unique(targets), counts):
            idx = np.where(targets == c)[0]
            np.random.shuffle(idx)  # noqa: NPY002
            kept.append(idx[:n])
        return np.concatenate(kept)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def as_float(data):
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float32") / 255


def image_ids(x):
    blue = np.rint(x[:, 0, :2, 2] * 255).astype("int64")
    return blue[:, 0] * 256 + blue[:, 1]


# --- counts ---------------------------------------------------------------------


def test_full_size_counts():
    ten = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    assert long_tailed_counts(10, 5000, 100).tolist() == ten
    ten = [5000, 3871, 2997, 2320, 1796, 1391, 1077, 834, 645, 500]
    assert long_tailed_counts(10, 5000, 10).tolist() == ten
    sizes = [
        long_tailed_counts(c, 50000 // c, r).sum() for c in (10, 100) for r in (100, 10)
    ]
    assert sizes == [12406, 20431, 10847, 19573]


@pytest.mark.parametrize("ratio", [1, 2.5, 10, 60])
def test_counts_are_the_int_formula(files, ratio):
    (_, y), _ = load_cifar_lt(imbalance_ratio=ratio, data_dir=files["cifar10"])
    expected = [int(PER_CLASS * (1 / ratio) ** (i / 9.0)) for i in range(10)]
    assert np.bincount(y).tolist() == expected


# --- the images chosen ------------------------------------------------------------


@pytest.mark.parametrize("ratio, seed", [(10, 0), (4, 0), (10, 3)])
def test_same_images_as_the_reference(files, ratio, seed):
    (data, labels), (test, test_labels) = files["c10"]
    expected = reference_indices(labels, ratio, 10, seed)
    options = dict(imbalance_ratio=ratio, seed=seed, data_dir=files["cifar10"])
    (x, y), (x_test, y_test) = load_cifar_lt(shuffle=False, **options)
    np.testing.assert_array_equal(x, as_float(data[expected]))
    np.testing.assert_array_equal(y, labels[expected])
    assert y.dtype == y_test.dtype == np.int64 and x.dtype == np.float32
    np.testing.assert_array_equal(x_test, as_float(test))  # all, in file order
    np.testing.assert_array_equal(y_test, test_labels)
    (x_shuffled, y_shuffled), _ = load_cifar_lt(**options)  # the same images
    assert sorted(image_ids(x_shuffled)) == sorted(expected)
    np.testing.assert_array_equal(y_shuffled, labels[image_ids(x_shuffled)])
    assert not np.array_equal(y_shuffled, y)


def test_cifar100_uses_fine_labels(files):
    (data, fine), (test, test_fine) = files["c100"]
    expected = reference_indices(fine, 10, 100)
    options = dict(imbalance_ratio=10, data_dir=files["cifar100"], shuffle=False)
    (x, y), (x_test, y_test) = load_cifar_lt("cifar100-lt", **options)
    np.testing.assert_array_equal(y, fine[expected])
    np.testing.assert_array_equal(x, as_float(data[expected]))
    np.testing.assert_array_equal(y_test, test_fine)
    assert x_test.shape == (200, 32, 32, 3)
    counts = [int(PER_CLASS_100 * 0.1 ** (i / 99.0)) for i in range(100)]
    assert np.bincount(y, minlength=100).tolist() == counts


def test_pixel_layout(files):
    (data, _), _ = files["c10"]
    (x, _), _ = load_cifar_lt(imbalance_ratio=1, data_dir=files["cifar10"])
    red = x[..., 0].reshape(len(x), -1)
    assert (red == red[:, :1]).all()  # the constant R plane is channel 0
    np.testing.assert_array_equal(red[:, 0], data[image_ids(x), 0] / np.float32(255))
    position = (np.arange(32)[:, None] * 32 + np.arange(32)) % 256
    np.testing.assert_array_equal(x[0, ..., 1], position.astype("float32") / 255)
    assert x.shape == (600, 32, 32, 3) and 0 <= x.min() and x.max() <= 1


def test_global_numpy_state_is_untouched(files):
    np.random.seed(1234)  # noqa: NPY002
    state = np.random.get_state()  # noqa: NPY002
    load_cifar_lt(imbalance_ratio=10, data_dir=files["cifar10"])
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == state[0] and after[2:] == state[2:]
    np.testing.assert_array_equal(after[1], state[1])


# --- where the files are ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, where, layout",
    [
        ("cifar10-lt", "data_dir", "cifar-10-batches-py"),  # the folder
        ("cifar10-lt", "data_dir", "."),  # its parent
        ("cifar100-lt", "data_dir", "."),
        ("cifar10-lt", "cache", "cifar-10-batches-py-target/cifar-10-batches-py"),
        ("cifar10-lt", "cache", "cifar-10-batches-py"),  # older Keras versions
        ("cifar100-lt", "cache", "cifar-100-python-target/cifar-100-python"),
        ("cifar10-lt", "env", "."),  # $KERAS_IMBALANCE_DATA
    ],
)
def test_where_the_files_are(files, offline, monkeypatch, name, where, layout):
    folder = files["cifar10" if name == "cifar10-lt" else "cifar100"]
    options = dict(imbalance_ratio=10, shuffle=False)
    expected, _ = load_cifar_lt(name, data_dir=folder, **options)
    if where == "data_dir":
        options["data_dir"] = folder if layout != "." else str(files["root"])
    elif where == "cache":
        shutil.copytree(folder, offline / "datasets" / layout)
    else:
        monkeypatch.setenv("KERAS_IMBALANCE_DATA", str(files["root"]))
    (x, y), _ = load_cifar_lt(name, download=where == "data_dir", **options)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(y, expected[1])


def test_missing_without_download(offline):
    with pytest.raises(FileNotFoundError, match="download=False") as info:
        load_cifar_lt(download=False)
    message = str(info.value)
    assert os.path.join(str(offline), "datasets", "cifar-10-batches-py") in message
    assert "keras.datasets.cifar10.load_data()" in message and "data_dir" in message


def test_missing_in_data_dir_never_downloads(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    dump(tmp_path / "cifar-10-batches-py" / "data_batch_1", {})
    with pytest.raises(FileNotFoundError, match="data_dir=") as info:
        load_cifar_lt(data_dir=tmp_path)  # download=True: still no download
    message = str(info.value)
    assert "cifar-10-batches-py" in message and "'data_batch_2'" in message
    assert "'data_batch_1'" not in message.split("lacks", 1)[1]
    with pytest.raises(FileNotFoundError, match="CIFAR-100"):
        load_cifar_lt("cifar100-lt", data_dir=tmp_path / "nowhere")


def test_failed_download_says_offline(monkeypatch):
    def offline_load_data(label_mode="fine"):
        raise Exception("URL fetch failure on https://www.cs.toronto.edu: None")

    monkeypatch.setattr(keras.datasets.cifar100, "load_data", offline_load_data)
    with pytest.raises(FileNotFoundError, match="offline") as info:
        load_cifar_lt("cifar100-lt")
    message = str(info.value)
    assert "URL fetch failure" in message
    assert "keras.datasets.cifar100.load_data()" in message and "data_dir" in message


@pytest.mark.parametrize("into_cache", [True, False])
def test_download_through_keras(files, offline, monkeypatch, into_cache):
    (data, labels), (test, test_labels) = files["c10"]
    # What `load_data` returns: uint8 images channels last, labels (N, 1).
    arrays = [(r.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y[:, None])
              for r, y in ((data, labels), (test, test_labels))]  # fmt: skip
    calls = []

    def fake_load_data():
        calls.append(1)
        if into_cache:  # where Keras 3 extracts; else where this process can't see
            target = offline / "datasets" / "cifar-10-batches-py-target"
            shutil.copytree(files["cifar10"], target / "cifar-10-batches-py")
        return arrays

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_load_data)
    names = datasets.load_dataset("cifar10-lt", imbalance_ratio=10)["class_names"]
    assert names[9] == ("name9" if into_cache else "truck")  # meta, or defaults
    (x, y), (x_test, y_test) = load_cifar_lt(imbalance_ratio=10, shuffle=False)
    assert calls == ([1] if into_cache else [1, 1])
    expected = reference_indices(labels, 10, 10)
    np.testing.assert_array_equal(x, as_float(data[expected]))
    np.testing.assert_array_equal(y, labels[expected])
    np.testing.assert_array_equal(x_test, as_float(test))
    assert y.dtype == y_test.dtype == np.int64 and y_test.shape == (40,)


def pickled(width=3072, **content):
    return pickle.dumps({b"data": np.zeros((2, width), "uint8"), **content})


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not a pickle at all", "Could not read the CIFAR file"),
        (pickle.dumps([1, 2, 3]), "not a CIFAR file: it holds a list"),
        (pickled(), r"lacks \['labels'\]"),
        (pickled(width=100, labels=[0, 1]), "rows of 3072 pixels"),
        (pickled(labels=[0]), "2 integer labels"),
        (pickled(labels=[0, 10]), r"class ids in 0\.\.9"),
        (pickle.dumps(os.system), "refusing to load the global"),
    ],
)
def test_damaged_file_is_named(files, tmp_path, content, match):
    folder = tmp_path / "cifar-10-batches-py"
    shutil.copytree(files["cifar10"], folder)
    (folder / "data_batch_3").write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        load_cifar_lt(imbalance_ratio=10, data_dir=folder)
    assert os.path.join(str(folder), "data_batch_3") in str(info.value)


def test_damaged_meta_and_missing_meta(files, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    shutil.copytree(files["cifar10"], folder)
    dump(folder / "batches.meta", {b"label_names": [b"a", b"b"]})
    with pytest.raises(ValueError, match="batches.meta is damaged"):
        datasets.load_dataset("cifar10-lt", imbalance_ratio=10, data_dir=folder)
    os.remove(folder / "batches.meta")
    data = datasets.load_dataset("cifar10-lt", imbalance_ratio=10, data_dir=folder)
    assert data["class_names"][:3] == ["airplane", "automobile", "bird"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="cifar10"), "Expected one of"),
        (dict(imbalance_ratio=0.5), "imbalance_ratio"),
        (dict(imbalance_ratio=100), "get 0 images"),  # 60 a class
        (dict(seed=-1), "seed"),
        (dict(download="yes"), "download"),
        (dict(shuffle=1), "shuffle"),
    ],
)
def test_invalid_arguments(files, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_cifar_lt(**{"data_dir": files["cifar10"], **kwargs})


# --- the registry, the command and compare --------------------------------------------


def test_load_dataset_and_balanced_reference(files):
    assert datasets.DATASETS["cifar10-lt"] == datasets.DATASETS["cifar100-lt"] == 100
    load = datasets.load_dataset
    data = load("cifar10-lt", imbalance_ratio=10, data_dir=files["cifar10"])
    assert data["num_classes"] == 10 and data["imbalance_ratio"] == 10.0
    assert data["class_names"] == [f"name{c}" for c in range(10)]
    assert data["train"][0].shape[1:] == (32, 32, 3)
    counts = np.bincount(data["train"][1])
    np.testing.assert_array_equal(counts, long_tailed_counts(10, 60, 10))
    data = load("cifar100-lt", imbalance_ratio=10, data_dir=files["root"])
    assert data["num_classes"] == 100 and data["class_names"][99] == "name99"
    options = dict(imbalance_ratio=10, data_dir=files["cifar10"])
    long_tailed = load("cifar10-lt", **options)
    reference = datasets.load_balanced_reference("cifar10-lt", **options)
    per_class = len(long_tailed["train"][1]) // 10
    assert np.bincount(reference["train"][1]).tolist() == [per_class] * 10
    np.testing.assert_array_equal(reference["test"][0], long_tailed["test"][0])
    assert reference["class_names"] == long_tailed["class_names"]


def test_cli_inspect(files, tmp_path, capsys):
    argv = ["inspect", "--dataset", "cifar10-lt", "--imbalance-ratio", "10"]
    code = main([*argv, "--data-dir", str(files["cifar10"]), "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "cifar10-lt" in out and "(240, 32, 32, 3)" in out
    assert str(long_tailed_counts(10, 60, 10).tolist()) in out and "name9" in out
    assert (tmp_path / "class_counts.png").is_file()


def test_cli_missing_data_dir(tmp_path, capsys):
    argv = ["inspect", "--dataset", "cifar100-lt", "--data-dir", str(tmp_path)]
    code = main([*argv, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "CIFAR-100 files were not found" in err


@pytest.mark.slow
def test_compare_on_cifar10_lt(files):
    model = model_factory("small_cnn", width=4, depth=1)
    options = dict(epochs=1, batch_size=64, imbalance_ratio=10)
    data_dir = str(files["cifar10"])
    result = comparison.compare(
        ["ce"], "cifar10-lt", model=model, data_dir=data_dir, **options
    )
    setup = result.setup
    assert setup["num_classes"] == 10
    assert sum(setup["class_counts"]) + sum(setup["validation_counts"]) == 240
    assert [r.strategy for r in result.runs] == ["ce"]
    assert result.runs[0].test.num_samples == 10 * TEST_PER_CLASS
