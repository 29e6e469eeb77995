"""Long-tailed datasets: builders and loaders for real data available offline.

Loaders return `(x_train, y_train), (x_test, y_test)` like `keras.datasets`,
with images as float32 arrays `(N, H, W, 1)` scaled to `[0, 1]` and labels as
int64 class ids `(N,)`. The training split is long-tailed, the test split
balanced, so that per-class and balanced metrics on the test split measure what
a model learned about the tail.

- `make_long_tailed`: the CIFAR-LT protocol of Cao et al. (2019) on any
  labelled arrays (exponential or step profile).
- `load_digits_lt`: the digits bundled with scikit-learn (no download).
- `load_fashion_mnist_lt`: Fashion-MNIST (Xiao et al., 2017) from local IDX
  files (e.g. the Debian package `dataset-fashion-mnist`) or the Keras cache.
- `load_npz`: the user's own data from an `.npz` file.

References:
    - K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma. "Learning Imbalanced
      Datasets with Label-Distribution-Aware Margin Loss." NeurIPS 2019.
      https://arxiv.org/abs/1906.07413 (code: https://github.com/kaidic/LDAM-DRW)
    - H. Xiao, K. Rasul, R. Vollgraf. "Fashion-MNIST: a Novel Image Dataset for
      Benchmarking Machine Learning Algorithms." 2017.
      https://arxiv.org/abs/1708.07747
"""

import gzip
import os
import zipfile
import zlib

import numpy as np

from keras_imbalance._dataset_checks import check_label_set, checked_arrays
from keras_imbalance._validation import (
    check_float,
    check_one_of,
    check_optional_int,
    check_positive_int,
    invalid,
)
from keras_imbalance.class_weights import _integer_labels

__all__ = [
    "DATASETS",
    "FASHION_MNIST_CLASS_NAMES",
    "FASHION_MNIST_FILES",
    "is_npz_path",
    "load_balanced_reference",
    "load_dataset",
    "load_digits_lt",
    "load_fashion_mnist_lt",
    "load_npz",
    "long_tailed_counts",
    "make_long_tailed",
    "stratified_split",
]

_PROFILES = ("exponential", "step")

#: The four IDX files of Fashion-MNIST, as named by the original release, the
#: Keras cache and the Debian package `dataset-fashion-mnist`.
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

# Searched after `path` and `$KERAS_IMBALANCE_DATA` (module-level so that tests
# can point them elsewhere).
_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
_ENV_VAR = "KERAS_IMBALANCE_DATA"
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# What a damaged archive raises while it is opened or an array decompressed.
_NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def _check_ratio(imbalance_ratio):
    if isinstance(imbalance_ratio, np.generic):
        imbalance_ratio = imbalance_ratio.item()
    try:
        return check_float("imbalance_ratio", imbalance_ratio, low=1)
    except ValueError:
        raise invalid(
            "imbalance_ratio", "a finite float >= 1", imbalance_ratio
        ) from None


def long_tailed_counts(
    num_classes, max_per_class, imbalance_ratio=100, profile="exponential"
):
    """Per-class sample counts of the CIFAR-LT protocol (Cao et al., 2019).

    Exponential profile: class `i` (0-based) gets
    `int(max_per_class * (1 / imbalance_ratio) ** (i / (num_classes - 1)))`,
    i.e. `n_max * ratio ** (-i / (C - 1))` truncated, computed exactly as
    `get_img_num_per_cls` in the LDAM-DRW code. Step profile: the first
    `num_classes // 2` classes get `max_per_class`, the others
    `int(max_per_class * (1 / imbalance_ratio))`. With one class, it gets
    `max_per_class`.

    Args:
        num_classes: Number of classes `C` (>= 1).
        max_per_class: Count of the head class (class 0), `n_max` (>= 1).
        imbalance_ratio: `n_max / n_min`, a float >= 1. Defaults to 100.
        profile: `"exponential"` (default) or `"step"`.

    Returns:
        An int64 NumPy array of length `num_classes`, non-increasing.

    Example:

    >>> long_tailed_counts(10, 5000, 100).tolist()
    [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    >>> long_tailed_counts(4, 100, 10, profile="step").tolist()
    [100, 100, 10, 10]
    """
    num_classes = check_positive_int("num_classes", num_classes)
    max_per_class = check_positive_int("max_per_class", max_per_class)
    ratio = _check_ratio(imbalance_ratio)
    check_one_of("profile", profile, _PROFILES)
    imb_factor = 1.0 / ratio
    img_max = float(max_per_class)
    if num_classes == 1:
        counts = [int(img_max)]
    elif profile == "exponential":
        counts = [
            int(img_max * (imb_factor ** (cls_idx / (num_classes - 1.0))))
            for cls_idx in range(num_classes)
        ]
    else:
        # The LDAM-DRW code lists `cls_num // 2` tail classes, one short for an
        # odd number of classes; here every class after the head half is tail.
        head = num_classes // 2
        counts = [int(img_max)] * head + [int(img_max * imb_factor)] * (
            num_classes - head
        )
    return np.asarray(counts, dtype="int64")


def _labels_of(y, num_classes, name="y"):
    """Integer class ids `(N,)` from integer `(N,)`, `(N, 1)` or one-hot labels."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(f"`{name}` must hold at least one label. Received: {y!r}")
    labels, _ = _integer_labels(y, num_classes, None)
    if labels.shape[0] != y.shape[0]:
        raise ValueError(
            f"`{name}` must hold one label per sample: integer labels of shape "
            "(N,) or (N, 1), or one-hot labels of shape (N, C). Received: "
            f"{name}.shape={y.shape}"
        )
    if num_classes is None:
        if y.ndim == 2 and y.shape[1] > 1:
            num_classes = y.shape[1]
        else:
            num_classes = int(labels.max()) + 1
    return labels, num_classes


def make_long_tailed(
    x,
    y,
    *,
    imbalance_ratio=100,
    profile="exponential",
    num_classes=None,
    max_per_class=None,
    seed=0,
):
    """Draw a long-tailed subset of a labelled dataset (CIFAR-LT protocol).

    Class `i` keeps `n_i` samples chosen at random, with the counts of
    `long_tailed_counts` as in Cao et al. (2019): `n_i = n_max * ratio **
    (-i / (C - 1))` truncated to an integer (`"exponential"`), or `n_max` for
    the first half of the classes and `n_max / ratio` for the rest
    (`"step"`). Class 0 is the head, class `C - 1` the tail.

    Args:
        x: Inputs, an array whose first axis is the sample axis.
        y: Labels: integer class ids `(N,)` or `(N, 1)`, or one-hot `(N, C)`.
            The subset's labels keep the same form.
        imbalance_ratio: `n_max / n_min`, a float >= 1. Defaults to 100.
        profile: `"exponential"` (default) or `"step"`.
        num_classes: Number of classes `C`. Defaults to `None`: the width of
            one-hot labels, else the largest label + 1.
        max_per_class: `n_max`, the head class count. Defaults to `None`: the
            size of the smallest class in `y`, so that every class can supply
            its count (for balanced data such as CIFAR-10, `N / C`, as in the
            LDAM-DRW code).
        seed: Integer seed of the random choice (or `None` for a fresh one).
            The same seed gives the same subset in the same order.

    Returns:
        `((x_subset, y_subset), class_counts)`: the subset, in a shuffled
        order (so that `validation_split` and batches see every class), and an
        int64 array of its per-class counts, of length `C`.

    Raises:
        ValueError: for invalid arguments, a class with fewer samples than
            its count, or a tail count of zero.

    Example:

    >>> x = np.arange(40).reshape(40, 1)
    >>> y = np.repeat(np.arange(4), 10)
    >>> (x_lt, y_lt), counts = make_long_tailed(x, y, imbalance_ratio=10)
    >>> counts.tolist()
    [10, 4, 2, 1]
    >>> x_lt.shape, np.bincount(y_lt).tolist()
    ((17, 1), [10, 4, 2, 1])
    """
    ratio = _check_ratio(imbalance_ratio)
    check_one_of("profile", profile, _PROFILES)
    if num_classes is not None:
        num_classes = check_positive_int("num_classes", num_classes)
    if max_per_class is not None:
        max_per_class = check_positive_int("max_per_class", max_per_class)
    seed = check_optional_int("seed", seed, low=0)
    x = np.asarray(x)
    y_array = np.asarray(y)
    labels, num_classes = _labels_of(y_array, num_classes)
    if x.ndim == 0 or len(x) != len(labels):
        raise ValueError(
            "`x` and `y` must have the same number of samples. Received: "
            f"x.shape={x.shape}, y.shape={y_array.shape}"
        )
    available = np.bincount(labels, minlength=num_classes)
    if max_per_class is None:
        if available.min() == 0:
            empty = np.flatnonzero(available == 0).tolist()
            raise ValueError(
                "Every class needs at least one sample to build a long-tailed "
                f"subset; classes {empty} have none (num_classes={num_classes})."
            )
        max_per_class = int(available.min())
    counts = long_tailed_counts(num_classes, max_per_class, ratio, profile)
    if counts.min() == 0:
        raise ValueError(
            f"With max_per_class={max_per_class} and imbalance_ratio={ratio:g} "
            f"the tail classes get 0 samples (counts {counts.tolist()}). Use a "
            "smaller `imbalance_ratio` or a larger `max_per_class`."
        )
    short = np.flatnonzero(available < counts)
    if short.size:
        c = int(short[0])
        raise ValueError(
            f"Class {c} has {int(available[c])} samples but needs {int(counts[c])} "
            f"(max_per_class={max_per_class}, imbalance_ratio={ratio:g}, "
            f"profile={profile!r}). Use a smaller `max_per_class`."
        )
    rng = np.random.default_rng(seed)
    chosen = [
        rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in enumerate(counts)
    ]
    index = rng.permutation(np.concatenate(chosen))
    return (x[index], y_array[index]), counts


def _balanced_split(labels, per_class, rng):
    """Indices of `per_class` random samples per class, and of the rest."""
    test, rest = [], []
    for c in range(int(labels.max()) + 1):
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:per_class])
        rest.append(idx[per_class:])
    return rng.permutation(np.concatenate(test)), np.sort(np.concatenate(rest))


def load_digits_lt(imbalance_ratio=10, test_size=0.3, seed=0):
    """Long-tailed digits: the 8x8 digits bundled with scikit-learn.

    No download and seconds to train: the embedded default dataset. From the
    1797 images (10 classes, 174 to 183 each), a balanced test split takes
    `round(test_size * n_min)` random images of every class (`n_min`: the
    smallest class); the training split is drawn from the rest with
    `make_long_tailed` (exponential profile, class 0 the head, `n_max` the
    smallest remaining class).

    Args:
        imbalance_ratio: Head over tail count of the training split, a float
            >= 1. Defaults to 10.
        test_size: Fraction of each class (of the smallest class) held out for
            the balanced test split, in (0, 1). Defaults to 0.3.
        seed: Integer seed of both random choices. Defaults to 0.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float32 images of shape
        `(N, 8, 8, 1)` scaled to `[0, 1]` (the raw values are 0 to 16) and
        int64 labels `(N,)`, both splits in a shuffled order.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_digits_lt()
    >>> x_train.shape, x_train.dtype.name, float(x_train.max())
    ((494, 8, 8, 1), 'float32', 1.0)
    >>> np.bincount(y_train).tolist()
    [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    >>> np.bincount(y_test).tolist()
    [52, 52, 52, 52, 52, 52, 52, 52, 52, 52]
    """
    ratio = _check_ratio(imbalance_ratio)
    if isinstance(test_size, np.generic):
        test_size = test_size.item()
    test_size = check_float(
        "test_size", test_size, low=0, high=1, low_open=True, high_open=True
    )
    seed = check_optional_int("seed", seed, low=0)
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images.astype("float32") / 16.0)[..., None]
    labels = digits.target.astype("int64")
    n_min = int(np.bincount(labels).min())
    per_class = min(max(1, int(round(test_size * n_min))), n_min - 1)
    rng = np.random.default_rng(seed)
    test, rest = _balanced_split(labels, per_class, rng)
    (x_train, y_train), _ = make_long_tailed(
        x[rest], labels[rest], imbalance_ratio=ratio, seed=seed
    )
    return (x_train, y_train), (x[test], labels[test])


def _read_idx(path):
    """An IDX file (gzip-compressed or not) as a NumPy array."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"Could not read the IDX file {path}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in dtypes:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(v) for v in np.frombuffer(data[4:header], dtype=">u4"))
    dtype = np.dtype(dtypes[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(shape) != ndim or len(data) != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header announces shape {shape} "
            f"({expected} bytes) but the file has {len(data)} bytes."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def _find_files(directory):
    """`{key: file}` for the Fashion-MNIST files in `directory` (or its
    `fashion-mnist` subfolder); compressed or not. None when any is missing."""
    for folder in (directory, os.path.join(directory, "fashion-mnist")):
        found = {}
        for key, name in FASHION_MNIST_FILES.items():
            for candidate in (name, name[: -len(".gz")]):
                full = os.path.join(folder, candidate)
                if os.path.isfile(full):
                    found[key] = full
                    break
        if len(found) == len(FASHION_MNIST_FILES):
            return found
    return None


def _keras_cache_dir():
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(home, "datasets", "fashion-mnist")


def _read_fashion_mnist(files):
    arrays = {key: _read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"The Fashion-MNIST {split} files do not match: images of shape "
                f"{x.shape} and labels of shape {y.shape} ({files[f'x_{split}']})."
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_fashion_mnist(path):
    if path is not None:
        files = _find_files(os.fspath(path))
        if files is None:
            missing = [
                name
                for name in FASHION_MNIST_FILES.values()
                if not os.path.isfile(os.path.join(path, name))
            ]
            raise FileNotFoundError(
                f"Fashion-MNIST files not found in path={os.fspath(path)!r}: "
                f"missing {missing}."
            )
        return _read_fashion_mnist(files)
    searched = []
    env = os.environ.get(_ENV_VAR)
    directories = ([env] if env else []) + [_keras_cache_dir(), _SYSTEM_DIR]
    for directory in directories:
        searched.append(directory)
        files = _find_files(directory)
        if files is not None:
            return _read_fashion_mnist(files)
    try:
        import keras

        return keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # noqa: BLE001 - any download failure
        reason = f"{type(error).__name__}: {error}".strip()
    raise FileNotFoundError(
        "Fashion-MNIST was not found and could not be downloaded "
        f"({reason}). Searched: {searched}. To get the files, either install "
        "the Debian package (`apt-get install dataset-fashion-mnist`, into "
        f"{_SYSTEM_DIR}), or download {sorted(FASHION_MNIST_FILES.values())} "
        "from https://github.com/zalandoresearch/fashion-mnist into a folder "
        f"and pass it as `path=` or set ${_ENV_VAR}."
    )


def load_fashion_mnist_lt(imbalance_ratio=100, seed=0, path=None):
    """Long-tailed Fashion-MNIST (Xiao et al., 2017), balanced test set.

    The training split (60 000 images, 6 000 per class) is made long-tailed
    with `make_long_tailed` (exponential profile, `n_max = 6000`, class 0
    the head); the 10 000 test images (1 000 per class) are kept as given.

    The four IDX files (`FASHION_MNIST_FILES`, gzip-compressed or not) are
    looked for in, in order: `path` (when given, only there), the folder
    `$KERAS_IMBALANCE_DATA`, the Keras cache
    (`$KERAS_HOME/datasets/fashion-mnist`, by default
    `~/.keras/datasets/fashion-mnist`) and `/usr/share/datasets/fashion-mnist`
    (Debian package `dataset-fashion-mnist`); a folder's `fashion-mnist`
    subfolder is also tried. Without them, `keras.datasets.fashion_mnist
    .load_data()` is tried (it downloads into the Keras cache).

    Args:
        imbalance_ratio: Head over tail count of the training split, a float
            >= 1. Defaults to 100 (counts 6000, 3596, ..., 100, 60).
        seed: Integer seed of the choice of training images. Defaults to 0.
        path: A folder holding the four files. Defaults to `None` (search).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float32 images of shape
        `(N, 28, 28, 1)` scaled to `[0, 1]` and int64 labels `(N,)`; the
        training split in a shuffled order, the test split in its file order.

    Raises:
        FileNotFoundError: when the files are nowhere and cannot be
            downloaded (the message says how to get them), or are not in
            the given `path`.
        ValueError: for invalid arguments or unreadable / corrupt files.
    """
    ratio = _check_ratio(imbalance_ratio)
    seed = check_optional_int("seed", seed, low=0)
    (x_train, y_train), (x_test, y_test) = _load_fashion_mnist(path)
    (x_train, y_train), _ = make_long_tailed(
        x_train, np.asarray(y_train, dtype="int64"), imbalance_ratio=ratio, seed=seed
    )
    return (_as_images(x_train), y_train), (
        _as_images(x_test),
        np.asarray(y_test, dtype="int64"),
    )


def _as_images(x):
    return (np.asarray(x, dtype="float32") / 255.0)[..., None]


def load_npz(path):
    """Load the user's own data from an `.npz` file.

    The file must hold the arrays `x_train`, `y_train`, `x_test` and `y_test`
    (e.g. written by `np.savez(path, x_train=..., y_train=..., x_test=...,
    y_test=...)`); they are returned as stored (no pickled objects).

    Args:
        path: Path of the `.npz` file.

    Returns:
        `(x_train, y_train), (x_test, y_test)`.

    Raises:
        ValueError: when the file cannot be read (not an archive, damaged
            or truncated compressed data), keys are missing (named in the
            message), or `x` and `y` of a split differ in length.

    Example:

    >>> import os, tempfile
    >>> file = os.path.join(tempfile.mkdtemp(), "mine.npz")
    >>> np.savez(file, x_train=np.zeros((3, 2)), y_train=[0, 1, 1],
    ...          x_test=np.ones((2, 2)), y_test=[1, 0])
    >>> (x_train, y_train), (x_test, y_test) = load_npz(file)
    >>> x_train.shape, y_test.tolist()
    ((3, 2), [1, 0])
    """
    name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    try:
        data = np.load(path, allow_pickle=False)
    except _NPZ_ERRORS as error:
        raise ValueError(f"Could not read the .npz file {name!r}: {error}") from None
    if not hasattr(data, "files"):
        raise ValueError(
            f"{name!r} is a single .npy array, not an .npz archive holding "
            f"{list(_NPZ_KEYS)}."
        )
    with data:
        missing = [key for key in _NPZ_KEYS if key not in data.files]
        if missing:
            raise ValueError(
                f"The file {name!r} lacks the arrays {missing}; an .npz dataset "
                f"needs {list(_NPZ_KEYS)} (found {sorted(data.files)})."
            )
        arrays = {}
        try:
            for key in _NPZ_KEYS:
                arrays[key] = data[key]
        except _NPZ_ERRORS as error:
            damaged = not isinstance(error, (OSError, ValueError))
            raise ValueError(
                f"Could not read the array {key!r} of the .npz file {name!r}"
                + (" (damaged or truncated data)" if damaged else "")
                + f": {error}"
            ) from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(
                f"In {name!r}, x_{split} and y_{split} must have the "
                f"same number of samples. Received: x_{split}.shape={x.shape}, "
                f"y_{split}.shape={y.shape}"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


# --- the dataset registry and the validation split --------------------------

#: Class names of Fashion-MNIST (Xiao et al., 2017), by class id.
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Built-in long-tailed datasets of `load_dataset` and their default
#: imbalance ratio.
DATASETS = {"digits-lt": 10.0, "fashion-mnist-lt": 100.0}


def is_npz_path(name):
    """Whether a dataset name is the path of an `.npz` file."""
    return isinstance(name, (str, os.PathLike)) and os.fspath(name).lower().endswith(
        ".npz"
    )


def load_dataset(
    name, *, imbalance_ratio=None, seed=0, data_dir=None, num_classes=None
):
    """A long-tailed dataset by name: `digits-lt`, `fashion-mnist-lt` or an `.npz`.

    The one registry behind `keras_imbalance.comparison.compare` and the
    `keras-imbalance` command.

    The arrays of an `.npz` file are checked before anything trains on them
    (`keras_imbalance._dataset_checks`): numeric, finite inputs with 1 to 3
    per-sample axes, the same in both splits; non-negative integer class
    ids; a class set `0..C-1` in which at most half of the training classes
    are empty and every test label has training samples, unless
    `num_classes` declares the classes (then every label must be below it).

    Args:
        name: `"digits-lt"` (`load_digits_lt`), `"fashion-mnist-lt"`
            (`load_fashion_mnist_lt`) or the path of an `.npz` file
            (`load_npz`: `x_train`, `y_train`, `x_test`, `y_test`; used as
            stored unless `imbalance_ratio` is given, which then cuts the
            training split with `make_long_tailed`).
        imbalance_ratio: Head over tail count of the training split. Defaults
            to `DATASETS[name]` for the built-in ones.
        seed: Seed of the random choices. Defaults to `0`.
        data_dir: Folder of the Fashion-MNIST files. Defaults to `None`
            (searched, see `load_fashion_mnist_lt`).
        num_classes: The number of classes `C`, for class sets with empty
            classes. Defaults to `None`: the largest training label + 1.

    Returns:
        A dict with `train` and `test` (`(x, y)` tuples, int64 labels),
        `class_names` (list of str), `num_classes`, `imbalance_ratio` (the
        ratio asked for, else the measured one) and `name`.

    Raises:
        ValueError: an unknown name, invalid arguments or unreadable data
            (damaged files, missing arrays, labels that are not non-negative
            integer class ids, non-numeric or non-finite inputs, splits of
            different per-sample shapes, a single class, mostly empty
            classes, test labels without training samples).
        FileNotFoundError: a missing `.npz` or Fashion-MNIST file.

    Example:

    >>> data = load_dataset("digits-lt")
    >>> data["num_classes"], data["imbalance_ratio"], data["train"][0].shape
    (10, 10.0, (494, 8, 8, 1))
    """
    if imbalance_ratio is not None:
        imbalance_ratio = _check_ratio(imbalance_ratio)
    names = None
    if name == "digits-lt":
        ratio = DATASETS[name] if imbalance_ratio is None else imbalance_ratio
        train, test = load_digits_lt(imbalance_ratio=ratio, seed=seed)
    elif name == "fashion-mnist-lt":
        ratio = DATASETS[name] if imbalance_ratio is None else imbalance_ratio
        train, test = load_fashion_mnist_lt(
            imbalance_ratio=ratio, seed=seed, path=data_dir
        )
        names = list(FASHION_MNIST_CLASS_NAMES)
    elif is_npz_path(name):
        if not os.path.isfile(name):
            raise FileNotFoundError(f"No such .npz file: {os.fspath(name)!r}")
        ratio = imbalance_ratio
        train, test = _checked_npz(name, imbalance_ratio, seed, num_classes)
    else:
        raise ValueError(
            f"Unknown dataset {name!r}. Expected one of {sorted(DATASETS)} or the "
            "path of an .npz file."
        )
    y_train = np.asarray(train[1], dtype="int64")
    y_test = np.asarray(test[1], dtype="int64")
    num_classes = check_label_set(y_train, y_test, num_classes)
    names = (names or [])[:num_classes]
    names += [str(c) for c in range(len(names), num_classes)]
    counts = np.bincount(y_train, minlength=num_classes)
    present = counts[counts > 0]
    measured = float(present.max() / present.min())
    return {
        "name": os.fspath(name),
        "train": (train[0], y_train),
        "test": (test[0], y_test),
        "class_names": names,
        "num_classes": num_classes,
        "imbalance_ratio": measured if ratio is None else float(ratio),
    }


def load_balanced_reference(
    name, *, imbalance_ratio=None, seed=0, data_dir=None, num_classes=None
):
    """The upper reference of a long-tailed dataset: balanced, same size.

    A class-balanced sample of the full training set with as many images as
    the long-tailed training split of `load_dataset(name, ...)` (the same
    number `N // C` for every class), and the same test split. Training
    `ce` on it with the same model and budget shows how much of the gap to
    balanced data each strategy closes.

    Args:
        name, imbalance_ratio, seed, data_dir, num_classes: As in
            `load_dataset`.

    Returns:
        The dict of `load_dataset`, with `reference` set to a description.

    Example:

    >>> data = load_balanced_reference("digits-lt")
    >>> np.bincount(data["train"][1]).tolist()
    [49, 49, 49, 49, 49, 49, 49, 49, 49, 49]
    >>> data["test"][0].shape
    (520, 8, 8, 1)
    """
    options = dict(seed=seed, data_dir=data_dir, num_classes=num_classes)
    long_tailed = load_dataset(name, imbalance_ratio=imbalance_ratio, **options)
    full = load_dataset(name, imbalance_ratio=1.0, **options)
    size = len(long_tailed["train"][1])
    per_class = size // long_tailed["num_classes"]
    (x, y), _ = make_long_tailed(
        *full["train"],
        imbalance_ratio=1.0,
        num_classes=full["num_classes"],
        max_per_class=per_class,
        seed=seed,
    )
    return dict(
        long_tailed,
        train=(x, y),
        reference=(
            f"class-balanced sample of {per_class} images per class "
            f"({len(y)} in all, the size of the ratio "
            f"{long_tailed['imbalance_ratio']:g} training split)"
        ),
    )


def _checked_npz(path, imbalance_ratio, seed, num_classes):
    train, test, num_classes = checked_arrays(*load_npz(path), num_classes)
    if imbalance_ratio is not None:
        train, _ = make_long_tailed(
            *train, imbalance_ratio=imbalance_ratio, num_classes=num_classes, seed=seed
        )
    return train, test


def stratified_split(x, y, fraction, *, seed=0, num_classes=None):
    """Hold out a stratified validation split of the training data.

    Each class `c` with `n_c` samples gives `max(1, round(fraction * n_c))`
    of them to the validation split and keeps the rest (at least one) for
    training, so that every class is both trained on and validated on; the
    rarest classes of a long-tailed set are over-represented in the
    validation split compared with `fraction`, which is what a balanced
    metric chosen on it needs. Classes with no sample are left out.

    Args:
        x: Inputs, an array `(N, ...)`.
        y: Integer class ids `(N,)`.
        fraction: Fraction of each class to hold out, in `(0, 0.5]`.
        seed: Seed of the random choice. Defaults to `0`.
        num_classes: Number of classes. Defaults to the largest label + 1.

    Returns:
        `(x_train, y_train), (x_val, y_val)`, both in a shuffled order.

    Raises:
        ValueError: for a class with a single sample (it cannot be both
            trained on and validated on), or invalid arguments.

    Example:

    >>> x = np.arange(20).reshape(20, 1)
    >>> y = np.array([0] * 14 + [1] * 4 + [2] * 2)
    >>> (x_tr, y_tr), (x_val, y_val) = stratified_split(x, y, 0.25)
    >>> np.bincount(y_tr).tolist(), np.bincount(y_val).tolist()
    ([10, 3, 1], [4, 1, 1])
    """
    if isinstance(fraction, np.generic):
        fraction = fraction.item()
    fraction = check_float("fraction", fraction, low=0, high=0.5, low_open=True)
    seed = check_optional_int("seed", seed, low=0)
    y, _ = _labels_of(y, num_classes)
    x = np.asarray(x)
    if len(x) != len(y):
        raise ValueError(
            f"`x` has {len(x)} samples but `y` has {len(y)}; they must match."
        )
    counts = np.bincount(y)
    single = np.flatnonzero(counts == 1)
    if single.size:
        raise ValueError(
            f"Class {int(single[0])} has 1 training sample: a validation split "
            "needs at least 2 per class (one to train on, one to validate on). "
            "Gather more samples of it, or drop the class."
        )
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.flatnonzero(counts):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = min(max(1, int(round(fraction * idx.size))), idx.size - 1)
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    train = rng.permutation(np.concatenate(train))
    val = rng.permutation(np.concatenate(val))
    return (x[train], y[train]), (x[val], y[val])
