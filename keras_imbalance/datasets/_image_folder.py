"""A folder of images, one subfolder per class: `load_image_folder`."""

import os
import warnings

import numpy as np

from keras_imbalance._validation import check_float, check_optional_int
from keras_imbalance.datasets._long_tail import stratified_split

__all__ = ["is_image_folder", "list_image_folder", "load_image_folder"]

# The first bytes of each image format `tf.io.decode_image` reads.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".bmp": (b"BM",),
}


def is_image_folder(path):
    """True for the path of an existing folder (what `load_dataset` reads as
    an image folder).

    >>> is_image_folder("digits-lt")
    False
    """
    return isinstance(path, (str, os.PathLike)) and os.path.isdir(path)


def _readable_image(path, extension):
    try:
        with open(path, "rb") as file:
            head = file.read(8)
    except OSError:
        return False
    return any(head.startswith(s) for s in _SIGNATURES[extension])


def _class_folders(root):
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as error:
        raise ValueError(f"Cannot read the image folder {root!r}: {error}") from None
    return [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]


def list_image_folder(root, class_names=None):
    """The image files of `root`, one subfolder per class.

    Subfolders are searched recursively (links followed), in sorted order,
    as `keras.utils.image_dataset_from_directory` does. Files whose name
    ends in another extension are not images and are counted as `ignored`;
    an image file whose first bytes are not of its format (damaged,
    mislabelled, unreadable) is skipped and counted as `unreadable` (its
    path is listed in `unreadable_files`).

    Args:
        root: The folder.
        class_names: The class subfolders to read, in class-id order.
            Defaults to `None`: every subfolder, sorted by name.

    Returns:
        A dict: `paths` (list of str), `labels` (int64 array),
        `class_names`, `counts` (images per class), `ignored`,
        `unreadable` (counts) and `unreadable_files` (up to 10 paths).

    Raises:
        ValueError: no class subfolder, or a class folder without any
            readable image.

    Example:

    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "cat"))
    >>> png = _SIGNATURES[".png"][0]  # the first bytes of every PNG file
    >>> for name, head in [("a.png", png), ("b.png", b"oops"), ("notes.txt", b"")]:
    ...     with open(os.path.join(root, "cat", name), "wb") as f:
    ...         _ = f.write(head)
    >>> listing = list_image_folder(root)
    >>> listing["counts"], listing["ignored"], listing["unreadable"]
    ([1], 1, 1)
    """
    from keras_imbalance.data.files import IMAGE_EXTENSIONS

    root = os.fspath(root)
    if class_names is None:
        class_names = _class_folders(root)
        if not class_names:
            raise ValueError(
                f"The image folder {root!r} has no class subfolder. Put the "
                "images of each class in a subfolder named after it, e.g. "
                f"{os.path.join(root, 'cat', '001.png')!r}, "
                f"{os.path.join(root, 'dog', '001.png')!r}."
            )
    paths, labels, counts = [], [], []
    ignored = unreadable = 0
    unreadable_files = []
    for label, name in enumerate(class_names):
        folder = os.path.join(root, name)
        found, skipped = 0, unreadable + ignored
        for directory, subfolders, files in os.walk(folder, followlinks=True):
            subfolders.sort()
            for file in sorted(files):
                extension = os.path.splitext(file)[1].lower()
                path = os.path.join(directory, file)
                if extension not in IMAGE_EXTENSIONS:
                    ignored += 1
                elif not _readable_image(path, extension):
                    unreadable += 1
                    if len(unreadable_files) < 10:
                        unreadable_files.append(path)
                else:
                    paths.append(path)
                    labels.append(label)
                    found += 1
        if not found:
            skipped = unreadable + ignored - skipped
            raise ValueError(
                f"Class folder {name!r} of {root!r} holds no readable image "
                f"({', '.join(IMAGE_EXTENSIONS)}; {skipped} other or damaged "
                "file(s) in it). Add images to it, or remove the folder."
            )
        counts.append(found)
    return {
        "paths": paths,
        "labels": np.asarray(labels, dtype="int64"),
        "class_names": list(class_names),
        "counts": counts,
        "ignored": ignored,
        "unreadable": unreadable,
        "unreadable_files": unreadable_files,
    }


def _warn_skipped(listing, root):
    if listing["unreadable"]:
        warnings.warn(
            f"{listing['unreadable']} image file(s) of {root!r} are damaged or "
            "not of the format their extension says and were skipped, e.g. "
            f"{listing['unreadable_files'][0]!r}.",
            stacklevel=3,
        )


def load_image_folder(
    path, *, image_size=(64, 64), color_mode="rgb", test_split=0.2, seed=0
):
    """A folder of images with one subfolder per class, kept on disk.

    The layout of `keras.utils.image_dataset_from_directory`: class names
    are the subfolder names, sorted, and class ids follow that order. When
    the folder holds `train/` and `test/` subfolders (each with the class
    subfolders), those splits are used; otherwise a stratified test split
    (`stratified_split`: `test_split` of each class, drawn with `seed`) is
    made, and recorded in the returned `test_split`.

    The images are not loaded: `train` and `test` hold
    `keras_imbalance.data.ImageFiles` (paths, decoded and resized to
    `image_size` inside the `tf.data` pipelines, values in `[0, 1]`) with
    integer labels; `compare`, `Strategy.fit` and `evaluate_imbalanced`
    take them like arrays, and memory stays flat however many images there
    are. Images of mixed sizes are resized; files that are not images are
    ignored, and damaged image files skipped, both counted (`skipped`) with
    a warning for the damaged ones. A class folder without a readable image
    and a class with a single image are errors.

    Args:
        path: The folder.
        image_size: `(height, width)` the images are resized to. Defaults to
            `(64, 64)`.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`. Defaults to `"rgb"`.
        test_split: Fraction of each class held out for testing when the
            folder has no `train/` + `test/` split, in `(0, 0.5]`. Defaults
            to `0.2`.
        seed: Seed of that split. Defaults to `0`.

    Returns:
        A dict like `load_dataset`'s: `train` and `test` (`(ImageFiles,
        labels)`), `class_names`, `num_classes`, `imbalance_ratio` (the
        measured one), `name`, plus `test_split` (how the test split was
        made) and `skipped` (`ignored` / `unreadable` file counts).

    Example:

    >>> import tempfile
    >>> import tensorflow as tf
    >>> root = tempfile.mkdtemp()
    >>> for name, n in [("common", 8), ("rare", 3)]:
    ...     os.makedirs(os.path.join(root, name))
    ...     for i in range(n):
    ...         png = tf.io.encode_png(tf.zeros([6, 6, 3], "uint8"))
    ...         tf.io.write_file(os.path.join(root, name, f"{i}.png"), png)
    >>> data = load_image_folder(root, image_size=(8, 8), test_split=0.25)
    >>> data["class_names"], data["train"][0].shape, data["test"][0].shape
    (['common', 'rare'], (8, 8, 8, 3), (3, 8, 8, 3))
    >>> data["test_split"]["source"]
    'stratified'
    """
    from keras_imbalance.data.files import ImageFiles

    root = os.fspath(path)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"No such image folder: {root!r}")
    seed = check_optional_int("seed", seed, low=0)
    ImageFiles([], image_size=image_size, color_mode=color_mode)  # checks them

    def files(listing):
        return ImageFiles(listing["paths"], image_size, color_mode)

    subfolders = set(_class_folders(root))
    if {"train", "test"} <= subfolders:
        train = list_image_folder(os.path.join(root, "train"))
        names = train["class_names"]
        test_names = _class_folders(os.path.join(root, "test"))
        unknown = sorted(set(test_names) - set(names))
        if unknown:
            raise ValueError(
                f"test/ of {root!r} has class folders that train/ lacks: "
                f"{unknown}. Every test class needs training images."
            )
        test = list_image_folder(os.path.join(root, "test"), names)
        listings = [train, test]
        split = {"source": "folders", "train": "train/", "test": "test/"}
        x_train, y_train = files(train), train["labels"]
        x_test, y_test = files(test), test["labels"]
    else:
        test_split = check_float(
            "test_split", test_split, low=0, high=0.5, low_open=True
        )
        listing = list_image_folder(root)
        names, listings = listing["class_names"], [listing]
        single = [n for n, c in zip(names, listing["counts"]) if c < 2]
        if single:
            raise ValueError(
                f"Class folder {single[0]!r} of {root!r} has 1 image: it cannot "
                "be split into training and test images (and a validation "
                "split needs one more). Add images of it, remove the folder, "
                "or give the folder train/ and test/ subfolders."
            )
        split = {"source": "stratified", "fraction": test_split, "seed": seed}
        (x_train, y_train), (x_test, y_test) = stratified_split(
            files(listing), listing["labels"], test_split, seed=seed
        )
    for listing in listings:
        _warn_skipped(listing, root)
    counts = np.bincount(y_train, minlength=len(names))
    present = counts[counts > 0]
    return {
        "name": root,
        "train": (x_train, y_train),
        "test": (x_test, y_test),
        "class_names": list(names),
        "num_classes": len(names),
        "imbalance_ratio": float(present.max() / present.min()),
        "test_split": split,
        "skipped": {
            "ignored": sum(lst["ignored"] for lst in listings),
            "unreadable": sum(lst["unreadable"] for lst in listings),
        },
    }
