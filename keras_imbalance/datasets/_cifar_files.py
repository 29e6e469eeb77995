"""The CIFAR release files ("python version"): where they are, and reading them.

`read_cifar` looks for the release folder in `data_dir`, else in
`$KERAS_IMBALANCE_DATA` and the Keras cache, and lets
`keras.datasets.cifar10.load_data()` (or `cifar100`) download it as the last
resort. The pickles are read with an unpickler that builds NumPy arrays and
nothing else.
"""

import os
import pickle
import tempfile
from typing import NamedTuple

import numpy as np

__all__ = ["CIFAR_FILES", "CifarSource", "read_cifar"]

ENV_VAR = "KERAS_IMBALANCE_DATA"

CIFAR10_CLASS_NAMES = tuple(
    "airplane automobile bird cat deer dog frog horse ship truck".split()
)
"""Class names of CIFAR-10 by class id, for a folder without `batches.meta`."""


class CifarSource(NamedTuple):
    """One release: its folder, files, label keys and Keras loader."""

    title: str
    folder: str  # the folder of the release archive
    keras_module: str  # keras.datasets.<module>.load_data
    num_classes: int
    train: tuple  # file names, concatenated in this order
    test: tuple
    label_key: str
    meta: str
    names_key: str


CIFAR_FILES = {
    "cifar10": CifarSource(
        "CIFAR-10",
        "cifar-10-batches-py",
        "cifar10",
        10,
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        ("test_batch",),
        "labels",
        "batches.meta",
        "label_names",
    ),
    "cifar100": CifarSource(
        "CIFAR-100",
        "cifar-100-python",
        "cifar100",
        100,
        ("train",),
        ("test",),
        "fine_labels",
        "meta",
        "fine_label_names",
    ),
}
"""The two releases by Keras module name."""

# What a CIFAR pickle may build: NumPy arrays, nothing else (as
# `keras.datasets` reads them), so a tampered file cannot run code.
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")


def read_pickle(path):
    """A CIFAR pickle as a dict with `str` keys (`ValueError` if damaged)."""
    try:
        with open(path, "rb") as f:
            content = _ArraysOnlyUnpickler(f, encoding="bytes").load()
    except Exception as error:  # noqa: BLE001 - a damaged pickle raises anything
        reason = f"{type(error).__name__}: {error}"
        raise ValueError(f"Could not read the CIFAR file {path}: {reason}") from None
    if not isinstance(content, dict):
        raise ValueError(
            f"{path} is not a CIFAR file: it holds a {type(content).__name__}, "
            "not a dict."
        )
    return {
        key.decode("latin1") if isinstance(key, bytes) else str(key): value
        for key, value in content.items()
    }


def read_batch(path, label_key, num_classes):
    """`(images (n, 32, 32, 3) uint8, labels (n,) int64)` of one CIFAR file."""
    batch = read_pickle(path)
    missing = [key for key in ("data", label_key) if key not in batch]
    if missing:
        raise ValueError(
            f"{path} is not a CIFAR file of this kind: it lacks {missing} "
            f"(keys found: {sorted(batch)})."
        )
    data = np.asarray(batch["data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"{path} is damaged: its `data` must be uint8 rows of 3072 pixels; "
            f"received dtype={data.dtype}, shape={data.shape}."
        )
    try:
        labels = np.asarray(batch[label_key], dtype="int64")
    except (TypeError, ValueError, OverflowError):
        labels = np.asarray([], dtype="int64")
    if labels.shape != (len(data),):
        raise ValueError(
            f"{path} is damaged: {len(data)} images but `{label_key}` is not "
            f"{len(data)} integer labels."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{path} is damaged: `{label_key}` must be class ids in "
            f"0..{num_classes - 1}; found {int(labels.min())}..{int(labels.max())}."
        )
    # The files store each image channel-major (1024 R, 1024 G, 1024 B).
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_split(folder, files, source):
    parts = [
        read_batch(os.path.join(folder, name), source.label_key, source.num_classes)
        for name in files
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def default_class_names(source):
    if source.num_classes == 10:
        return list(CIFAR10_CLASS_NAMES)
    return [str(c) for c in range(source.num_classes)]


def read_class_names(folder, source):
    path = os.path.join(folder, source.meta)
    if not os.path.isfile(path):
        return default_class_names(source)
    names = read_pickle(path).get(source.names_key)
    if not isinstance(names, (list, tuple)) or len(names) != source.num_classes:
        raise ValueError(
            f"{path} is damaged: `{source.names_key}` must list "
            f"{source.num_classes} class names."
        )
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]


def candidate_folders(directory, source):
    """Where the release folder may be: `directory` itself, its subfolder, or
    the `<folder>-target/<folder>` Keras 3 extracts into."""
    return [
        directory,
        os.path.join(directory, source.folder),
        os.path.join(directory, source.folder + "-target", source.folder),
    ]


def has_files(folder, source):
    return all(
        os.path.isfile(os.path.join(folder, name))
        for name in source.train + source.test
    )


def keras_cache_dirs():
    """The `datasets` folders of the Keras cache: `$KERAS_HOME` (else
    `~/.keras`), and `/tmp/.keras` where Keras falls back to it (home not
    writable)."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    homes = [os.path.expanduser(home)]
    if not os.access(homes[0], os.W_OK):
        tmp = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        homes.append(os.path.join(tmp, ".keras"))
    return [os.path.join(h, "datasets") for h in dict.fromkeys(homes)]


def search_cache(source):
    """`(folder or None, the folders looked in)` without `data_dir`."""
    env = os.environ.get(ENV_VAR)
    searched = candidate_folders(env, source) if env else []
    for cache in keras_cache_dirs():
        searched += candidate_folders(cache, source)[1:][::-1]
    for folder in searched:
        if has_files(folder, source):
            return folder, searched
    return None, searched


def find_in_data_dir(data_dir, source):
    data_dir = os.fspath(data_dir)
    folders = candidate_folders(data_dir, source)
    for folder in folders:
        if has_files(folder, source):
            return folder
    names = source.train + source.test
    present = [f for f in folders if os.path.isdir(f)]
    partial = [
        f for f in present if any(os.path.isfile(os.path.join(f, n)) for n in names)
    ]
    folder = (partial or present or [data_dir])[0]
    missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    raise FileNotFoundError(
        f"The {source.title} files were not found in data_dir={data_dir!r}: "
        f"expected the folder {source.folder!r} (holding {list(names)}) or a "
        f"folder containing it; {folder!r} lacks {missing}. Nothing is "
        "downloaded when `data_dir` is given."
    )


def download_with_keras(source, searched):
    """Let Keras download and extract the archive; the folder, or arrays."""
    try:
        import keras

        module = getattr(keras.datasets, source.keras_module)
        kwargs = {"label_mode": "fine"} if source.num_classes == 100 else {}
        arrays = module.load_data(**kwargs)
    except Exception as error:  # noqa: BLE001 - any download failure
        reason = f"{type(error).__name__}: {error}".strip()
        raise FileNotFoundError(
            f"{source.title} was not found and could not be downloaded "
            f"({reason}); this machine seems to be offline. Searched: "
            f"{searched}. To get the data, run "
            f"`keras.datasets.{source.keras_module}.load_data()` on a machine "
            "online (it fills the Keras cache, which can be copied here), or "
            f"download the folder {source.folder!r} of "
            f"https://www.cs.toronto.edu/~kriz/cifar.html and pass it (or its "
            "parent) as `data_dir`."
        ) from None
    folder, _ = search_cache(source)
    if folder is not None:
        return folder, None
    # Keras extracted elsewhere (its home is read once, at import): its arrays
    # are the same images in the same order.
    (x_train, y_train), (x_test, y_test) = arrays
    channels_first = np.shape(x_train)[1:] == (3, 32, 32)
    x_train, x_test = (
        np.asarray(x).transpose(0, 2, 3, 1) if channels_first else np.asarray(x)
        for x in (x_train, x_test)
    )
    y_train, y_test = (
        np.asarray(y, dtype="int64").reshape(-1) for y in (y_train, y_test)
    )
    return None, ((x_train, y_train), (x_test, y_test))


def read_cifar(source, data_dir=None, download=True):
    """`(x_train, y_train), (x_test, y_test), class_names, folder`, uint8
    images; `folder` is where they were read (or "the Keras download")."""
    if data_dir is not None:
        folder = find_in_data_dir(data_dir, source)
    else:
        folder, searched = search_cache(source)
        if folder is None and not download:
            raise FileNotFoundError(
                f"{source.title} was not found and download=False. Searched: "
                f"{searched}. To get the data, call the loader with "
                f"download=True, or run `keras.datasets.{source.keras_module}"
                ".load_data()` on a machine online, or pass the folder "
                f"{source.folder!r} (or its parent) as `data_dir`."
            )
        if folder is None:
            folder, arrays = download_with_keras(source, searched)
            if folder is None:
                return (*arrays, default_class_names(source), "the Keras download")
    train = read_split(folder, source.train, source)
    test = read_split(folder, source.test, source)
    return train, test, read_class_names(folder, source), folder
