"""The user's own data from an `.npz` file (`x_train`, `y_train`, ...)."""

import os
import zipfile
import zlib

import numpy as np

__all__ = ["NPZ_KEYS", "is_npz_path", "load_npz"]

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# What a damaged archive raises while it is opened or an array decompressed.
NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def is_npz_path(name):
    """Whether a dataset name is the path of an `.npz` file.

    Example:

    >>> is_npz_path("my_data.NPZ"), is_npz_path("digits-lt")
    (True, False)
    """
    return isinstance(name, (str, os.PathLike)) and os.fspath(name).lower().endswith(
        ".npz"
    )


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
    except NPZ_ERRORS as error:
        raise ValueError(f"Could not read the .npz file {name!r}: {error}") from None
    if not hasattr(data, "files"):
        raise ValueError(
            f"{name!r} is a single .npy array, not an .npz archive holding "
            f"{list(NPZ_KEYS)}."
        )
    with data:
        missing = [key for key in NPZ_KEYS if key not in data.files]
        if missing:
            raise ValueError(
                f"The file {name!r} lacks the arrays {missing}; an .npz dataset "
                f"needs {list(NPZ_KEYS)} (found {sorted(data.files)})."
            )
        arrays = {}
        try:
            for key in NPZ_KEYS:
                arrays[key] = data[key]
        except NPZ_ERRORS as error:
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
