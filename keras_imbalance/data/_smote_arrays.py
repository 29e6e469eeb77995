"""Inputs and labels of the SMOTE family: arrays <-> one 2-D feature matrix.

imbalanced-learn works on a 2-D float matrix and integer labels. `Inputs`
flattens N-D inputs (images, sequences, a dict of several inputs) into that
matrix and restores shapes and dtypes afterwards (synthetic integer pixels
are rounded and clipped, not truncated); `Labels` reads integer or one-hot
labels into class ids and restores their form.
"""

import numpy as np

from keras_imbalance._arrays import is_dataset, is_file_source, to_numpy
from keras_imbalance._labels import integer_class_ids

__all__ = ["Inputs", "Labels", "check_inputs"]


def _check_input(value, name, numeric=True):
    """One input array: at least one sample, finite; numeric unless told.

    `numeric=False` lets an encoder's own inputs through (e.g. strings for a
    text model); only floating arrays are then checked for NaN.
    """
    try:
        array = to_numpy(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"`{name}` must be a numeric array with samples on its first axis. "
            f"Received: {name} of type {type(value).__name__}"
        ) from None
    real = np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    real = real and not np.issubdtype(array.dtype, np.complexfloating)
    if numeric and not real:
        raise ValueError(
            f"`{name}` must hold real numbers (floats, integers or booleans). "
            f"Received: {name}.dtype={array.dtype}"
        )
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(
            f"`{name}` must have at least one sample on its first axis. "
            f"Received: {name}.shape={array.shape}"
        )
    if np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array.reshape(array.shape[0], -1)).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise ValueError(
                f"`{name}` contains NaN or infinite values in {bad.size} "
                f"sample(s), the first is sample {int(bad[0])}. SMOTE "
                "interpolates between samples and would spread them: remove "
                "or impute them first."
            )
    return array


def check_inputs(x, numeric=True):
    """`(keys or None, arrays)` from an array or a dict of arrays of one length."""
    if is_dataset(x):
        raise TypeError(
            "SMOTE needs every sample in memory to find neighbours: pass "
            "NumPy arrays (or a dict of them), not a tf.data.Dataset."
        )
    if is_file_source(x):
        raise TypeError(
            "SMOTE on image files is refused: it would read every image into "
            "memory and interpolate raw pixels, which gives blurred, "
            "unrealistic images (Chawla et al. designed it for feature "
            "vectors). Use re-sampling or augmentation on the files "
            "('balanced_sampling', 'minority_augmentation', 'remix'), or "
            "SMOTE in feature space: `data.feature_space_oversample` on "
            "the embeddings of a trained backbone."
        )
    if isinstance(x, dict):
        if not x:
            raise ValueError("`x` must not be an empty dict.")
        keys = list(x)
        arrays = [_check_input(x[k], f"x[{k!r}]", numeric) for k in keys]
        for key, array in zip(keys, arrays):
            if array.shape[0] != arrays[0].shape[0]:
                raise ValueError(
                    "Every input of `x` must have the same number of samples. "
                    f"Received: x[{keys[0]!r}] with {arrays[0].shape[0]} "
                    f"samples, x[{key!r}] with {array.shape[0]}."
                )
        return keys, arrays
    return None, [_check_input(x, "x", numeric)]


class Inputs:
    """Flattens `x` (an array or a dict of arrays) into a feature matrix.

    A dict is resampled jointly: its inputs are concatenated into one vector
    per sample, so a synthetic sample interpolates every input with the same
    neighbour and the same step.
    """

    def __init__(self, x):
        self.keys, arrays = check_inputs(x)
        self.num_samples = arrays[0].shape[0]
        self.shapes = [a.shape[1:] for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        flats = [a.reshape(self.num_samples, -1) for a in arrays]
        self.widths = [f.shape[1] for f in flats]
        # Float inputs go to the sampler untouched, so that the result is
        # exactly imbalanced-learn's; integers (pixels) are interpolated in
        # floats and rounded back, instead of imbalanced-learn's truncation:
        # float32 holds 8- and 16-bit integers exactly at half float64's memory.
        kinds = {np.dtype(d) for d in self.dtypes}
        if len(kinds) == 1 and kinds <= {np.dtype("float32"), np.dtype("float64")}:
            work = self.dtypes[0]
        elif all(k.itemsize <= 2 or k == np.dtype("float32") for k in kinds):
            work = np.dtype("float32")
        else:
            work = np.dtype("float64")
        if len(flats) == 1:
            self.matrix = flats[0].astype(work, copy=False)
        else:
            self.matrix = np.hstack([f.astype(work, copy=False) for f in flats])

    def restore(self, matrix):
        """Split a resampled matrix back into the original shapes and dtypes."""
        bounds = np.cumsum(self.widths)[:-1]
        parts = np.split(matrix, bounds, axis=1) if len(self.widths) > 1 else [matrix]
        arrays = [
            _cast_back(part, dtype).reshape((-1,) + shape)
            for part, dtype, shape in zip(parts, self.dtypes, self.shapes)
        ]
        if self.keys is None:
            return arrays[0]
        return dict(zip(self.keys, arrays))


def _cast_back(values, dtype):
    if values.dtype == dtype:
        return values
    if dtype == np.bool_:
        return values >= 0.5
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


# ---------------------------------------------------------------------------
# Labels: integer `(N,)` / `(N, 1)` or one-hot `(N, C)` <-> class ids `(N,)`.


class Labels:
    """Class ids `labels` of `y` (integer or one-hot), and `restore` to that form."""

    def __init__(self, y, num_samples, num_classes):
        if is_dataset(y):
            raise TypeError("`y` must be an array of labels, not a tf.data.Dataset.")
        y = to_numpy(y)
        if y.ndim == 0 or y.shape[0] != num_samples:
            received = "a scalar" if y.ndim == 0 else f"{y.shape[0]} in y"
            raise ValueError(
                "`x` and `y` must have the same number of samples. Received: "
                f"{num_samples} samples in x and {received}."
            )
        if y.ndim > 2:
            raise ValueError(
                "`y` must hold integer labels of shape (N,) or (N, 1), or "
                f"one-hot labels of shape (N, num_classes). Received: y.shape={y.shape}"
            )
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
            raise ValueError(
                "`y` must hold integer class ids or one-hot rows. Received: "
                f"y.dtype={y.dtype}"
            )
        self.dtype = y.dtype
        self.shape = y.shape[1:]
        self.one_hot = y.ndim == 2 and y.shape[1] > 1
        if self.one_hot:
            self.labels = self._from_one_hot(y, num_classes)
            self.num_classes = y.shape[1]
        else:
            self.labels = self._from_ids(y.reshape(-1), num_classes)
            self.num_classes = num_classes

    @staticmethod
    def _from_one_hot(y, num_classes):
        if num_classes is not None and y.shape[1] != num_classes:
            raise ValueError(
                f"One-hot `y` has {y.shape[1]} columns, but num_classes="
                f"{num_classes}. Received: y.shape={y.shape}"
            )
        values = y.astype("float64")
        binary = np.all((values == 0) | (values == 1), axis=1)
        rows_ok = binary & (values.sum(axis=1) == 1)
        if not rows_ok.all():
            row = int(np.flatnonzero(~rows_ok)[0])
            raise ValueError(
                "One-hot `y` must have exactly one 1 per row (soft labels "
                f"cannot be over-sampled); row {row} is {y[row].tolist()}."
            )
        return integer_class_ids(values)

    @staticmethod
    def _from_ids(y, num_classes):
        if y.dtype == np.bool_:
            y = y.astype("int64")
        return integer_class_ids(y, num_classes)

    def restore(self, labels):
        labels = np.asarray(labels, dtype="int64")
        if self.one_hot:
            return np.eye(self.num_classes, dtype=self.dtype)[labels]
        return labels.astype(self.dtype).reshape((-1,) + self.shape)
