"""Datasets by name: `load_dataset`, `load_balanced_reference`, `DATASETS`."""

import os

import numpy as np

from keras_imbalance._dataset_checks import check_label_set, checked_arrays
from keras_imbalance.datasets._cifar import CIFAR_LT, long_tailed_cifar
from keras_imbalance.datasets._digits import load_digits_lt
from keras_imbalance.datasets._fashion_mnist import (
    FASHION_MNIST_CLASS_NAMES,
    load_fashion_mnist_lt,
)
from keras_imbalance.datasets._image_folder import is_image_folder, load_image_folder
from keras_imbalance.datasets._long_tail import check_ratio, make_long_tailed
from keras_imbalance.datasets._npz import is_npz_path, load_npz
from keras_imbalance.datasets._table import is_table_path, load_table

__all__ = ["DATASETS", "dataset_kind", "load_balanced_reference", "load_dataset"]

DATASETS = {
    "digits-lt": 10.0,
    "fashion-mnist-lt": 100.0,
    "cifar10-lt": 100.0,
    "cifar100-lt": 100.0,
}
"""Built-in long-tailed datasets of `load_dataset` and their default imbalance ratio."""


def dataset_kind(name):
    """What `load_dataset` reads `name` as, or `None` for nothing it reads.

    `"builtin"` (a key of `DATASETS`, even where a folder of that name
    exists), `"image_folder"` (an existing folder), `"table"` (a `.csv`
    path) or `"npz"` (an `.npz` path), in that order of precedence.

    >>> dataset_kind("digits-lt"), dataset_kind("patients.csv"), dataset_kind("x")
    ('builtin', 'table', None)
    """
    if isinstance(name, str) and name in DATASETS:
        return "builtin"
    if is_image_folder(name):
        return "image_folder"
    if is_table_path(name):
        return "table"
    if is_npz_path(name):
        return "npz"
    return None


def load_dataset(
    name,
    *,
    imbalance_ratio=None,
    seed=0,
    data_dir=None,
    num_classes=None,
    image_size=None,
    color_mode=None,
    target=None,
):
    """A long-tailed dataset by name (a key of `DATASETS`), or a file or folder.

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
            (`load_fashion_mnist_lt`), `"cifar10-lt"` or `"cifar100-lt"`
            (`load_cifar_lt`, the protocol of Cao et al. 2019) or the path
            of an `.npz` file
            (`load_npz`: `x_train`, `y_train`, `x_test`, `y_test`; used as
            stored unless `imbalance_ratio` is given, which then cuts the
            training split with `make_long_tailed`), or the path of a
            folder of images with one subfolder per class
            (`load_image_folder`: kept on disk as `data.ImageFiles`; its
            own `train/` + `test/` split, else a stratified 20% test split
            drawn with `seed`; used as found unless `imbalance_ratio` is
            given), or the path of a `.csv` table (`load_table` with
            `target`: numeric and categorical columns preprocessed by a
            Keras model fitted on the training split, returned as
            `preprocessing`; a stratified 20% test split drawn with
            `seed`; used as found unless `imbalance_ratio` is given).
        imbalance_ratio: Head over tail count of the training split. Defaults
            to `DATASETS[name]` for the built-in ones.
        seed: Seed of the random choices. Defaults to `0`.
        data_dir: Folder of the Fashion-MNIST or CIFAR files (for CIFAR,
            the release folder or a folder containing it); nothing is
            downloaded when it is given. Defaults to `None` (searched, see
            `load_fashion_mnist_lt` and `load_cifar_lt`).
        num_classes: The number of classes `C`, for class sets with empty
            classes. Defaults to `None`: the largest training label + 1.
        image_size: `(height, width)` images of a folder are resized to.
            Defaults to `None`: `(64, 64)`. Only for image folders.
        color_mode: `"rgb"`, `"grayscale"` or `"rgba"` for an image folder.
            Defaults to `None`: `"rgb"`. Only for image folders.
        target: The column to predict. Required for a `.csv` table, and
            only for one.

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
        FileNotFoundError: a missing `.npz`, Fashion-MNIST or CIFAR file.

    Example:

    >>> data = load_dataset("digits-lt")
    >>> data["num_classes"], data["imbalance_ratio"], data["train"][0].shape
    (10, 10.0, (494, 8, 8, 1))
    """
    if imbalance_ratio is not None:
        imbalance_ratio = check_ratio(imbalance_ratio)
    kind = dataset_kind(name)
    table = kind == "table"
    if table and target is None:
        raise ValueError(
            f"The table {os.fspath(name)!r} needs `target=`: the name of the "
            "column to predict."
        )
    if target is not None and not table:
        raise ValueError(
            f"`target` is for .csv tables; {name!r} is not the path of a .csv file."
        )
    if kind == "image_folder":
        return _image_folder(name, imbalance_ratio, seed, image_size, color_mode)
    for option, value in (("image_size", image_size), ("color_mode", color_mode)):
        if value is not None:
            raise ValueError(
                f"`{option}` is for image folders; {os.fspath(name)!r} is not a folder."
            )
    if table:
        return _cut(load_table(name, target=target, seed=seed), imbalance_ratio, seed)
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
    elif name in CIFAR_LT:
        ratio = DATASETS[name] if imbalance_ratio is None else imbalance_ratio
        (train, test), names = long_tailed_cifar(
            name, imbalance_ratio=ratio, seed=seed, data_dir=data_dir
        )
    elif kind == "npz":
        if not os.path.isfile(name):
            raise FileNotFoundError(f"No such .npz file: {os.fspath(name)!r}")
        ratio = imbalance_ratio
        train, test = checked_npz(name, imbalance_ratio, seed, num_classes)
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


def _image_folder(path, imbalance_ratio, seed, image_size, color_mode):
    folder = load_image_folder(
        path,
        image_size=(64, 64) if image_size is None else image_size,
        color_mode="rgb" if color_mode is None else color_mode,
        seed=seed,
    )
    return _cut(folder, imbalance_ratio, seed)


def _cut(data, imbalance_ratio, seed):
    """The training split of a folder or table cut to `imbalance_ratio`."""
    if imbalance_ratio is not None:
        data["train"], _ = make_long_tailed(
            *data["train"], imbalance_ratio=imbalance_ratio, seed=seed
        )
        data["imbalance_ratio"] = float(imbalance_ratio)
    return data


def load_balanced_reference(
    name, *, imbalance_ratio=None, seed=0, data_dir=None, num_classes=None, target=None
):
    """The upper reference of a long-tailed dataset: balanced, same size.

    A class-balanced sample of the full training set with as many images as
    the long-tailed training split of `load_dataset(name, ...)` (the same
    number `N // C` for every class), and the same test split. Training
    `ce` on it with the same model and budget shows how much of the gap to
    balanced data each strategy closes.

    Args:
        name: As in `load_dataset`.
        imbalance_ratio: As in `load_dataset`.
        seed: As in `load_dataset`.
        data_dir: As in `load_dataset`.
        num_classes: As in `load_dataset`.
        target: As in `load_dataset`.

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
    if target is not None:  # a table
        options["target"] = target
    long_tailed = load_dataset(name, imbalance_ratio=imbalance_ratio, **options)
    full = load_dataset(name, imbalance_ratio=1.0, **options)
    size = len(long_tailed["train"][1])
    per_class = size // long_tailed["num_classes"]
    smallest = int(np.bincount(full["train"][1], minlength=full["num_classes"]).min())
    if smallest < per_class:  # a table or folder that is imbalanced as found
        raise ValueError(
            f"No class-balanced reference of {per_class} samples per class (the "
            f"size of the long-tailed training split) can be drawn from {name!r}: "
            f"its rarest class has {smallest}. The reference is for data cut from "
            "a balanced set (a built-in dataset, or a file or folder given an "
            "imbalance ratio)."
        )
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


def checked_npz(path, imbalance_ratio, seed, num_classes):
    train, test, num_classes = checked_arrays(*load_npz(path), num_classes)
    if imbalance_ratio is not None:
        train, _ = make_long_tailed(
            *train, imbalance_ratio=imbalance_ratio, num_classes=num_classes, seed=seed
        )
    return train, test
