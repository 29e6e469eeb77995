"""Fashion-MNIST (Xiao et al., 2017) from local IDX files, long-tailed.

The files are looked for in `path`, `$KERAS_IMBALANCE_DATA`, the Keras cache
and the folder of the Debian package `dataset-fashion-mnist`; the Keras
download is the last resort.
"""

import gzip
import os

import numpy as np

from keras_imbalance._validation import check_optional_int
from keras_imbalance.datasets._long_tail import check_ratio, make_long_tailed

__all__ = [
    "FASHION_MNIST_CLASS_NAMES",
    "FASHION_MNIST_FILES",
    "load_fashion_mnist",
    "load_fashion_mnist_lt",
]

FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
"""The four IDX files of Fashion-MNIST, as named by the original release, the Keras
cache and the Debian package `dataset-fashion-mnist`."""

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
"""Class names of Fashion-MNIST (Xiao et al., 2017), by class id."""

# Searched after `path` and `$KERAS_IMBALANCE_DATA` (module-level so that tests
# can point them elsewhere).
SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
ENV_VAR = "KERAS_IMBALANCE_DATA"


def read_idx(path):
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


def find_files(directory):
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


def keras_cache_dir():
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(home, "datasets", "fashion-mnist")


def read_fashion_mnist(files):
    arrays = {key: read_idx(path) for key, path in files.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"The Fashion-MNIST {split} files do not match: images of shape "
                f"{x.shape} and labels of shape {y.shape} ({files[f'x_{split}']})."
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_fashion_mnist(path):
    if path is not None:
        files = find_files(os.fspath(path))
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
        return read_fashion_mnist(files)
    searched = []
    env = os.environ.get(ENV_VAR)
    directories = ([env] if env else []) + [keras_cache_dir(), SYSTEM_DIR]
    for directory in directories:
        searched.append(directory)
        files = find_files(directory)
        if files is not None:
            return read_fashion_mnist(files)
    try:
        import keras

        return keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # noqa: BLE001 - any download failure
        reason = f"{type(error).__name__}: {error}".strip()
    raise FileNotFoundError(
        "Fashion-MNIST was not found and could not be downloaded "
        f"({reason}). Searched: {searched}. To get the files, either install "
        "the Debian package (`apt-get install dataset-fashion-mnist`, into "
        f"{SYSTEM_DIR}), or download {sorted(FASHION_MNIST_FILES.values())} "
        "from https://github.com/zalandoresearch/fashion-mnist into a folder "
        f"and pass it as `path=` or set ${ENV_VAR}."
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
            (at least 1). Defaults to 100 (counts 6000, 3596, ..., 100, 60).
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

    Example:

    >>> import numpy as np
    >>> (x, y), (x_test, y_test) = load_fashion_mnist_lt(imbalance_ratio=10)
    >>> np.bincount(y).tolist()
    [6000, 4645, 3596, 2784, 2156, 1669, 1292, 1000, 774, 600]
    >>> x.shape, x.dtype.name, x_test.shape, np.bincount(y_test).tolist()[:3]
    ((24516, 28, 28, 1), 'float32', (10000, 28, 28, 1), [1000, 1000, 1000])
    """
    ratio = check_ratio(imbalance_ratio)
    seed = check_optional_int("seed", seed, low=0)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(path)
    (x_train, y_train), _ = make_long_tailed(
        x_train, np.asarray(y_train, dtype="int64"), imbalance_ratio=ratio, seed=seed
    )
    return (as_images(x_train), y_train), (
        as_images(x_test),
        np.asarray(y_test, dtype="int64"),
    )


def as_images(x):
    return (np.asarray(x, dtype="float32") / 255.0)[..., None]
