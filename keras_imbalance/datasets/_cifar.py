"""CIFAR-10-LT and CIFAR-100-LT (Cao et al., 2019): `load_cifar_lt`.

The training images are chosen exactly as `IMBALANCECIFAR10` /
`IMBALANCECIFAR100` of the LDAM-DRW code do, with a local
`np.random.RandomState(seed)` in place of NumPy's global seed; the files are
found and read by `_cifar_files`.
"""

import numpy as np

from keras_imbalance._validation import check_bool, check_one_of, check_seed
from keras_imbalance.datasets._cifar_files import CIFAR_FILES, read_cifar
from keras_imbalance.datasets._long_tail import check_ratio, long_tailed_counts

__all__ = ["CIFAR_LT", "load_cifar_lt", "long_tailed_cifar"]

CIFAR_LT = {
    "cifar10-lt": CIFAR_FILES["cifar10"],
    "cifar100-lt": CIFAR_FILES["cifar100"],
}
"""The CIFAR-LT datasets by name, and their release."""


def cao_indices(labels, counts, seed):
    """The indices `IMBALANCECIFAR10.gen_imbalanced_data` keeps, in its order.

    `np.random.seed(seed)` once, then for each class of `np.unique(labels)`:
    its indices shuffled, the first `counts[c]` kept; drawn here from a local
    `RandomState(seed)`, which gives the same numbers as the global one.
    Returns the indices and the generator (for a later shuffle).
    """
    rng = np.random.RandomState(seed)
    chosen = []
    for c, n in zip(np.unique(labels), counts):
        idx = np.where(labels == c)[0]
        rng.shuffle(idx)
        chosen.append(idx[:n])
    return np.concatenate(chosen), rng


def long_tailed_cifar(
    name, *, imbalance_ratio=100.0, seed=0, data_dir=None, download=True, shuffle=True
):
    """`((x_train, y_train), (x_test, y_test)), class_names` of `load_cifar_lt`."""
    check_one_of("name", name, CIFAR_LT)
    ratio = check_ratio(imbalance_ratio)
    seed = check_seed("seed", seed)
    download = check_bool("download", download)
    shuffle = check_bool("shuffle", shuffle)
    source = CIFAR_LT[name]
    (x, y), (x_test, y_test), class_names, where = read_cifar(
        source, data_dir, download
    )
    num_classes = source.num_classes
    available = np.bincount(y, minlength=num_classes)
    if available.min() == 0:
        empty = np.flatnonzero(available == 0).tolist()
        raise ValueError(
            f"The {source.title} training files in {where} have no image of "
            f"classes {empty}: they are not the CIFAR training split."
        )
    # `img_max = len(data) / cls_num`, as in the LDAM-DRW code.
    counts = long_tailed_counts(num_classes, len(y) // num_classes, ratio)
    if counts.min() == 0:
        raise ValueError(
            f"With imbalance_ratio={ratio:g} the tail classes of {name} get 0 "
            f"images (counts {counts.tolist()}). Use a ratio of at most "
            f"{int(counts[0])}."
        )
    short = np.flatnonzero(available < counts)
    if short.size:
        c = int(short[0])
        raise ValueError(
            f"Class {c} of the {source.title} training files in {where} has "
            f"{int(available[c])} images but the protocol keeps {int(counts[c])} "
            "(`len(data) / num_classes` for the head class); the files are "
            "not the balanced CIFAR training split."
        )
    index, rng = cao_indices(y, counts, seed)
    if shuffle:
        index = index[rng.permutation(len(index))]
    return (
        (as_images(x[index]), y[index]),
        (as_images(x_test), np.asarray(y_test, dtype="int64")),
    ), class_names


def as_images(x):
    return np.asarray(x, dtype="float32") / 255.0


def load_cifar_lt(
    name="cifar10-lt",
    *,
    imbalance_ratio=100.0,
    seed=0,
    data_dir=None,
    download=True,
    shuffle=True,
):
    """CIFAR-10-LT or CIFAR-100-LT, exactly as in Cao et al. (2019).

    The protocol of the LDAM-DRW code (`IMBALANCECIFAR10` /
    `IMBALANCECIFAR100`): from the training split (50 000 images: 5 000 a
    class for CIFAR-10, 500 for CIFAR-100, in the files' order) class `i`
    keeps `int(n_max * (1 / imbalance_ratio) ** (i / (C - 1)))` images
    (`n_max = 50000 / C`, `long_tailed_counts`), chosen as their code does:
    a generator seeded once with `seed`, then for each class in turn its
    indices shuffled and the first ones kept. A local
    `np.random.RandomState(seed)` gives the same images as their
    `np.random.seed(seed)`; NumPy's global state is not touched. The test
    split is the full balanced test set (10 000 images).

    The folder of the release (`cifar-10-batches-py`: `data_batch_1` to
    `data_batch_5`, `test_batch`, `batches.meta`; `cifar-100-python`:
    `train`, `test`, `meta`, read with the fine labels) is looked for in
    `data_dir` (the folder itself or a folder containing it; only there
    when given, and nothing is downloaded); else in `$KERAS_IMBALANCE_DATA`
    and the Keras cache (`$KERAS_HOME/datasets`, by default
    `~/.keras/datasets`: `cifar-10-batches-py-target/cifar-10-batches-py`
    as Keras 3 extracts it, or the older `cifar-10-batches-py`). Without the
    files and with `download=True`, `keras.datasets.cifar10.load_data()`
    (or `cifar100`) downloads them into the Keras cache.

    Reference: K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma. "Learning
    Imbalanced Datasets with Label-Distribution-Aware Margin Loss." NeurIPS
    2019 (code: https://github.com/kaidic/LDAM-DRW, `imbalance_cifar.py`).

    Args:
        name: `"cifar10-lt"` or `"cifar100-lt"`. Defaults to `"cifar10-lt"`.
        imbalance_ratio: Head over tail count, a float >= 1 (their
            `imb_factor` is `1 / imbalance_ratio`). Defaults to 100.
        seed: Seed of the choice (their `rand_number`), an integer in
            `[0, 2**32)`, or `None` for a fresh one. Defaults to 0 (theirs).
        data_dir: The release folder, or a folder containing it. Defaults
            to `None` (search, see above).
        download: Whether to let Keras download the data when it is nowhere
            (never with `data_dir`). Defaults to `True`.
        shuffle: Whether to return the training images in a random order
            (drawn after the choice: the images are the same), like the
            other loaders, so that `validation_split` sees every class;
            `False` gives their order (class by class). Defaults to `True`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: float32 images
        `(N, 32, 32, 3)` scaled to `[0, 1]` and int64 labels `(N,)`; the
        test split in its file order.

    Raises:
        FileNotFoundError: when the files are not in `data_dir`, or nowhere
            and not downloaded (the message says where it looked and how to
            get them).
        ValueError: for invalid arguments, or damaged / wrong-format files
            (the message names the file).

    Example:

    A tiny folder in the CIFAR-10 format (20 images a class in each of the
    five training files, so `n_max = 100`):

    >>> import os, pickle, tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "cifar-10-batches-py")
    >>> os.mkdir(folder)
    >>> rng = np.random.default_rng(0)
    >>> for file in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    ...     data = rng.integers(0, 256, (200, 3072), dtype=np.uint8)
    ...     with open(os.path.join(folder, file), "wb") as f:
    ...         pickle.dump({b"data": data, b"labels": list(range(10)) * 20}, f)
    >>> (x, y), (x_test, y_test) = load_cifar_lt(imbalance_ratio=10, data_dir=folder)
    >>> np.bincount(y).tolist()
    [100, 77, 59, 46, 35, 27, 21, 16, 12, 10]
    >>> x.shape, x.dtype.name, x_test.shape
    ((403, 32, 32, 3), 'float32', (200, 32, 32, 3))

    The counts of the real CIFAR-10-LT at ratio 100 (12 406 images):

    >>> from keras_imbalance.datasets import long_tailed_counts
    >>> long_tailed_counts(10, 5000, 100).tolist()
    [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    """
    (train, test), _ = long_tailed_cifar(
        name,
        imbalance_ratio=imbalance_ratio,
        seed=seed,
        data_dir=data_dir,
        download=download,
        shuffle=shuffle,
    )
    return train, test
