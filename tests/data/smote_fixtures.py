"""Small overlapping classes and dataset readers shared by the SMOTE tests."""

import numpy as np

COUNTS = (60, 20, 10)
NUM_CLASSES = 3


def make_data(counts=COUNTS, shape=(8,), seed=0, dtype="float32"):
    """Overlapping Gaussian classes, so the borderline samplers find danger."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    x = rng.normal(size=(y.size,) + shape) + 0.75 * y.reshape((-1,) + (1,) * len(shape))
    return x.astype(dtype), y


def one_hot(y, num_classes=NUM_CLASSES, dtype="float32"):
    return np.eye(num_classes, dtype=dtype)[y]


def epoch(dataset):
    """One pass over a dataset of (x, y) batches, concatenated."""
    xs, ys = zip(*dataset.as_numpy_iterator())
    if isinstance(xs[0], dict):
        x = {k: np.concatenate([b[k] for b in xs]) for k in xs[0]}
    else:
        x = np.concatenate(xs)
    return x, np.concatenate(ys)


def rows(array):
    """The rows of a 2-D array as a set of bytes, to compare up to order."""
    array = np.ascontiguousarray(array)
    return {row.tobytes() for row in array.reshape(array.shape[0], -1)}
