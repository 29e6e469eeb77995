"""SMOTE and its family on deep-learning data, via imbalanced-learn.

imbalanced-learn's over-samplers work on 2-D NumPy arrays of floats: they
refuse images, know nothing of one-hot labels and return arrays, not an input
pipeline. This module puts a Keras-shaped edge around them:

* `resample_arrays` flattens N-D inputs (images `(N, H, W, C)`, sequences, a
  dict of several inputs) into one feature vector per sample, runs the
  sampler, and restores shapes, dtypes (synthetic `uint8` pixels are rounded
  and clipped, not truncated) and the label form (integer or one-hot).
* `smote_dataset` returns the result as a shuffled, batched
  `tf.data.Dataset` for `model.fit`.
* `feature_space_oversample` runs the sampler in the embedding space of a
  trained feature extractor, where interpolation between two samples is far
  more meaningful than between two images' pixels, for re-training a
  classifier head on synthetic tail features.

Samplers are named as in this table or passed as any imbalanced-learn sampler
instance (an object with `fit_resample`):

| name | imbalanced-learn class | reference |
| --- | --- | --- |
| `"smote"` | `SMOTE` | Chawla et al. 2002 |
| `"borderline_smote"` | `BorderlineSMOTE` | Han et al. 2005 |
| `"svm_smote"` | `SVMSMOTE` | Nguyen et al. 2011 |
| `"adasyn"` | `ADASYN` | He et al. 2008 |
| `"kmeans_smote"` | `KMeansSMOTE` | Last et al. 2017 |
| `"random_over"` | `RandomOverSampler` | (duplicates samples) |
| `"smote_tomek"` | `SMOTETomek` | Batista et al. 2004 |
| `"smote_enn"` | `SMOTEENN` | Batista et al. 2004 |

Keyword arguments are imbalanced-learn's own (`sampling_strategy`,
`k_neighbors`, `m_neighbors`, `n_neighbors`, ...), so its users feel at home.

References:

* N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer. "SMOTE:
  Synthetic Minority Over-sampling Technique." JAIR 16, 2002.
* H. Han, W.-Y. Wang, B.-H. Mao. "Borderline-SMOTE: A New Over-Sampling
  Method in Imbalanced Data Sets Learning." ICIC 2005.
* H. He, Y. Bai, E. A. Garcia, S. Li. "ADASYN: Adaptive Synthetic Sampling
  Approach for Imbalanced Learning." IJCNN 2008.
* H. M. Nguyen, E. W. Cooper, K. Kamei. "Borderline Over-sampling for
  Imbalanced Data Classification." IJKESDP 3(1), 2011.
* F. Last, G. Douzas, F. Bacao. "Oversampling for Imbalanced Learning Based
  on K-Means and SMOTE." arXiv:1711.00837, 2017.
* G. E. A. P. A. Batista, R. C. Prati, M. C. Monard. "A Study of the
  Behavior of Several Methods for Balancing Machine Learning Training Data."
  SIGKDD Explorations 6(1), 2004.
* D. Dablain, B. Krawczyk, N. V. Chawla. "DeepSMOTE: Fusing Deep Learning
  and SMOTE for Imbalanced Data." IEEE TNNLS, 2022.
* B. Kang et al. "Decoupling Representation and Classifier for Long-Tailed
  Recognition." ICLR 2020.
"""

import math
import numbers

import numpy as np
import tensorflow as tf
from imblearn.combine import SMOTEENN, SMOTETomek
from imblearn.over_sampling import (
    ADASYN,
    SMOTE,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
    RandomOverSampler,
)
from imblearn.utils import check_sampling_strategy

from keras_imbalance._validation import check_optional_int, invalid
from keras_imbalance.data._random import EpochCounter, base_key, fold

__all__ = ["feature_space_oversample", "resample_arrays", "smote_dataset"]

_SAMPLERS = {
    "smote": SMOTE,
    "borderline_smote": BorderlineSMOTE,
    "svm_smote": SVMSMOTE,
    "adasyn": ADASYN,
    "kmeans_smote": KMeansSMOTE,
    "random_over": RandomOverSampler,
    "smote_tomek": SMOTETomek,
    "smote_enn": SMOTEENN,
}
# Salt of the shuffling keys (see `_random.base_key`).
_SHUFFLE_SALT = 5


# ---------------------------------------------------------------------------
# Inputs: N-D arrays or a dict of them <-> one 2-D feature matrix.


def _to_numpy(value):
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value)


def _is_dataset(value):
    return hasattr(value, "element_spec") and hasattr(value, "as_numpy_iterator")


def _check_input(value, name, numeric=True):
    """One input array: at least one sample, finite; numeric unless told.

    `numeric=False` lets an encoder's own inputs through (e.g. strings for a
    text model); only floating arrays are then checked for NaN.
    """
    try:
        array = _to_numpy(value)
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


def _check_inputs(x, numeric=True):
    """`(keys or None, arrays)` from an array or a dict of arrays of one length."""
    if _is_dataset(x):
        raise TypeError(
            "SMOTE needs every sample in memory to find neighbours: pass "
            "NumPy arrays (or a dict of them), not a tf.data.Dataset."
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


class _Inputs:
    """Flattens `x` (an array or a dict of arrays) into a feature matrix.

    A dict is resampled jointly: its inputs are concatenated into one vector
    per sample, so a synthetic sample interpolates every input with the same
    neighbour and the same step.
    """

    def __init__(self, x):
        self.keys, arrays = _check_inputs(x)
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


class _Labels:
    def __init__(self, y, num_samples, num_classes):
        if _is_dataset(y):
            raise TypeError("`y` must be an array of labels, not a tf.data.Dataset.")
        y = _to_numpy(y)
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
        return values.argmax(axis=1)

    @staticmethod
    def _from_ids(y, num_classes):
        if np.issubdtype(y.dtype, np.floating):
            bad = ~np.isfinite(y) | (y != np.round(y))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    "Labels must be integer class ids or one-hot rows; found "
                    f"{float(y[i])!r} in sample {i}."
                )
        labels = y.astype("int64")
        upper = None if num_classes is None else num_classes - 1
        words = "[0, num_classes - 1]" if upper is None else f"[0, {upper}]"
        out = labels < 0
        if upper is not None:
            out |= labels > upper
        if out.any():
            i = int(np.flatnonzero(out)[0])
            given = "" if upper is None else f" (num_classes={num_classes})"
            raise ValueError(
                f"Labels must be class ids in {words}{given}; found the label "
                f"{int(labels[i])} in sample {i}."
            )
        return labels

    def restore(self, labels):
        labels = np.asarray(labels, dtype="int64")
        if self.one_hot:
            return np.eye(self.num_classes, dtype=self.dtype)[labels]
        return labels.astype(self.dtype).reshape((-1,) + self.shape)


# ---------------------------------------------------------------------------
# Samplers.


def _make_sampler(sampler, seed, sampler_kwargs):
    if isinstance(sampler, str):
        if sampler not in _SAMPLERS:
            raise invalid(
                "sampler",
                f"one of {list(_SAMPLERS)} or an imbalanced-learn sampler "
                "instance (an object with `fit_resample`)",
                sampler,
            )
        cls = _SAMPLERS[sampler]
        if "random_state" in sampler_kwargs:
            raise ValueError(
                "Pass `seed`, not `random_state`: it seeds the sampler "
                f"(random_state=seed) and the shuffling. Received: "
                f"random_state={sampler_kwargs['random_state']!r}"
            )
        valid = set(cls().get_params(deep=False)) - {"random_state"}
        unknown = sorted(set(sampler_kwargs) - valid)
        if unknown:
            raise TypeError(
                f"Unknown keyword argument(s) {unknown} for sampler={sampler!r} "
                f"(imblearn {cls.__name__}). Valid ones: {sorted(valid)}."
            )
        return cls(random_state=seed, **sampler_kwargs)
    if hasattr(sampler, "fit_resample"):
        if sampler_kwargs:
            raise ValueError(
                "Sampler keyword arguments are only taken with a sampler name; "
                f"set them on the {type(sampler).__name__} instance instead. "
                f"Received: {sorted(sampler_kwargs)}"
            )
        return sampler
    raise invalid(
        "sampler",
        f"one of {list(_SAMPLERS)} or an imbalanced-learn sampler instance "
        "(an object with `fit_resample`)",
        sampler,
    )


def _neighbourhood_rules(sampler):
    """The neighbourhood parameters a sampler fits, and on which samples.

    `"class"`: fitted on the samples of each over-sampled class, so each of
    those classes needs `k + 1` samples (the sample itself and `k`
    neighbours); `"all"`: fitted on the whole data.
    """
    if isinstance(sampler, ADASYN):
        return [("n_neighbors", "class")]
    if isinstance(sampler, BorderlineSMOTE):
        k_scope = "all" if sampler.kind == "borderline-2" else "class"
        return [("k_neighbors", k_scope), ("m_neighbors", "all")]
    if isinstance(sampler, SVMSMOTE):
        return [("k_neighbors", "class"), ("m_neighbors", "all")]
    if isinstance(sampler, (SMOTE, KMeansSMOTE)):
        return [("k_neighbors", "class")]
    return []


def _samples_needed(value, param):
    """`(samples needed, words)` for an int or a NearestNeighbors-like value."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            return None  # imbalanced-learn rejects it with its own message
        return int(value) + 1, f"{param} + 1 = {int(value) + 1}"
    n_neighbors = getattr(value, "n_neighbors", None)
    if isinstance(n_neighbors, numbers.Integral) and n_neighbors >= 1:
        return int(n_neighbors), f"the n_neighbors={n_neighbors} of its {param}"
    return None


def _samples(count):
    return f"{int(count)} sample" + ("" if count == 1 else "s")


def _check_neighbourhoods(sampler, labels):
    """Raise, in data terms, where a class is too small for its neighbourhood.

    Checked before imbalanced-learn runs (whose own error speaks of
    `n_neighbors` and `n_samples_fit` without naming the class), and only for
    the classes that will be over-sampled.
    """
    combined = None
    if isinstance(sampler, (SMOTEENN, SMOTETomek)):
        combined = type(sampler).__name__
        inner = sampler.smote
        if inner is None:
            inner = SMOTE(sampling_strategy=sampler.sampling_strategy)
        sampler = inner
    rules = _neighbourhood_rules(sampler)
    if not rules:
        return
    try:
        targets = check_sampling_strategy(
            sampler.sampling_strategy, labels, "over-sampling"
        )
    except (ValueError, TypeError):
        return  # an invalid sampling_strategy: imbalanced-learn says so itself
    over_sampled = sorted(c for c, n in targets.items() if n > 0)
    if not over_sampled:
        return
    counts = np.bincount(labels)
    name = type(sampler).__name__
    who = name if combined is None else f"{combined}'s {name}"

    def fix(param, value, available):
        if available < 1:
            return "use sampler='random_over' or gather more samples"
        if isinstance(value, numbers.Integral):
            setting = f"{param}={available}"
            limit = f"{param} <= {available}"
        else:
            setting = f"{param}=<an estimator with n_neighbors <= {available + 1}>"
            limit = f"{param} to an estimator with n_neighbors <= {available + 1}"
        if combined is not None:
            return f"pass smote={name}({setting}) or use sampler='random_over'"
        return f"set {limit} or use sampler='random_over'"

    for param, scope in rules:
        value = getattr(sampler, param)
        needed = _samples_needed(value, param)
        if needed is None:
            continue
        need, words = needed
        if scope == "all":
            total = labels.size
            if total < need:
                raise ValueError(
                    f"x has {_samples(total)} in all but {who} needs {words}; "
                    f"{fix(param, value, total - 1)}."
                )
            continue
        for c in over_sampled:
            if counts[c] < need:
                raise ValueError(
                    f"class {c} has {_samples(counts[c])} but {who} needs "
                    f"{words}; {fix(param, value, int(counts[c]) - 1)}."
                )


# ---------------------------------------------------------------------------
# Public functions.


def _check_batch_size(batch_size):
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (numbers.Integral, np.integer))
        or batch_size < 1
    ):
        raise invalid("batch_size", "a positive integer", batch_size)
    return int(batch_size)


def _resample(inputs, labels, sampler, seed, sampler_kwargs):
    seed = check_optional_int("seed", seed, low=0)
    sampler = _make_sampler(sampler, seed, sampler_kwargs)
    _check_neighbourhoods(sampler, labels.labels)
    matrix, ids = sampler.fit_resample(inputs.matrix, labels.labels)
    return inputs.restore(np.asarray(matrix)), labels.restore(ids)


def resample_arrays(x, y, *, sampler="smote", seed=None, num_classes=None, **kwargs):
    """Over-sample arrays of any shape with an imbalanced-learn sampler.

    Each sample of `x` is flattened into one feature vector (a dict of
    inputs is concatenated into one), the sampler runs on the vectors, and
    the result is restored to the input's shapes, dtypes and label form.
    Synthetic values of integer inputs (e.g. `uint8` pixels) are computed in
    floats (float32 for 8- and 16-bit integers, float64 otherwise), then
    rounded and clipped to the dtype's range. The order is imbalanced-learn's: for the
    SMOTE family, the original samples first, then the synthetic ones.

    Args:
        x: Inputs of shape `(N, ...)` (e.g. images `(N, H, W, C)`, feature
            vectors `(N, D)`), or a dict of such arrays (multi-input), which
            is resampled jointly. Must be finite.
        y: Integer class ids of shape `(N,)` or `(N, 1)`, or one-hot labels
            of shape `(N, C)`. Returned in the same form and dtype.
        sampler: A name, one of `"smote"`, `"borderline_smote"`,
            `"svm_smote"`, `"adasyn"`, `"kmeans_smote"`, `"random_over"`,
            `"smote_tomek"`, `"smote_enn"`, or an imbalanced-learn sampler
            instance (used as it is; its own `random_state` applies).
            Defaults to `"smote"`.
        seed: Integer seed, passed as `random_state` to a named sampler.
            Defaults to `None` (not reproducible).
        num_classes: Number of classes, to check that integer labels are in
            `[0, num_classes - 1]`. Defaults to `None` (the width of one-hot
            labels; integer labels are only checked to be non-negative).
        **kwargs: Arguments of the named sampler, in imbalanced-learn's
            words: `sampling_strategy` (`"auto"`, `"minority"`,
            `"not majority"`, `"all"`, a float, a dict `{class: count}` or a
            callable), `k_neighbors`, `m_neighbors` (`"borderline_smote"`,
            `"svm_smote"`), `n_neighbors` (`"adasyn"`), `smote`, `tomek`,
            `enn` (the combined samplers) ...

    Returns:
        `(x_resampled, y_resampled)`, NumPy arrays (or a dict for `x`).

    Raises:
        ValueError: for `x` and `y` of different lengths, NaN or infinite
            values in `x`, negative labels or labels `>= num_classes`, soft
            labels, an unknown sampler name, or an over-sampled class with
            too few samples for the sampler's neighbourhood (e.g. "class 2
            has 3 samples but SMOTE needs k_neighbors + 1 = 6; set
            k_neighbors <= 2 or use sampler='random_over'").
        TypeError: for keyword arguments the named sampler does not take.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(90, 8, 8, 1), dtype="uint8")
    >>> labels = np.repeat([0, 1, 2], [60, 20, 10])
    >>> x_res, y_res = resample_arrays(images, labels, seed=0)
    >>> x_res.shape, x_res.dtype
    ((180, 8, 8, 1), dtype('uint8'))
    >>> np.bincount(y_res).tolist()
    [60, 60, 60]
    >>> _, y_res = resample_arrays(
    ...     images, labels, sampler="random_over", seed=0,
    ...     sampling_strategy={2: 30})
    >>> np.bincount(y_res).tolist()
    [60, 20, 30]
    """
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    inputs = _Inputs(x)
    labels = _Labels(y, inputs.num_samples, num_classes)
    return _resample(inputs, labels, sampler, seed, kwargs)


def _dataset(x, y, batch_size, seed):
    """Shuffled (seeded, reshuffled each epoch), batched `(x, y)` dataset.

    Shuffles indices and gathers whole batches, rather than shuffling
    elements one by one, so an epoch costs one gather per batch. The order of
    epoch `e` is a stateless permutation keyed by `seed` and `e`, so it does
    not depend on TensorFlow's global seed (`Dataset.shuffle(seed=...)`
    would).
    """
    x = tf.nest.map_structure(tf.convert_to_tensor, x)
    y = tf.convert_to_tensor(y)
    n = int(y.shape[0])
    base = base_key(seed, _SHUFFLE_SALT)
    counter = EpochCounter()

    def epoch_batches(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n, dtype=tf.int64), seed=fold(base, epoch)
        )
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather(indices):
        take = lambda t: tf.gather(t, indices)  # noqa: E731
        return tf.nest.map_structure(take, x), take(y)

    dataset = counter.epochs().flat_map(epoch_batches)
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(math.ceil(n / batch_size))
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def smote_dataset(
    x, y, *, sampler="smote", batch_size, seed=None, num_classes=None, **kwargs
):
    """Over-sample with the SMOTE family and return a `tf.data.Dataset`.

    Runs `resample_arrays` once (SMOTE needs every sample to find
    neighbours), then serves the resampled data as a finite dataset of
    `ceil(n_resampled / batch_size)` batches of `(x, y)`, reshuffled every
    epoch, so `model.fit` needs no `steps_per_epoch`. The same `seed` gives
    the same synthetic samples and the same sequence of epochs, whatever
    TensorFlow's global seed (the shuffle is a stateless permutation of each
    epoch, keyed by `seed` and the epoch number).

    Interpolating raw pixels makes blurry, ghosted images; for deep models
    SMOTE in a learned feature space usually works better (see
    `feature_space_oversample`, and Dablain et al. 2022, DeepSMOTE).

    Args:
        x: Inputs of shape `(N, ...)` or a dict of such arrays (see
            `resample_arrays`).
        y: Integer labels `(N,)` / `(N, 1)` or one-hot labels `(N, C)`;
            the dataset yields them in the same form.
        sampler: A sampler name or an imbalanced-learn sampler instance
            (see `resample_arrays`). Defaults to `"smote"`.
        batch_size: Number of samples per batch (the last one may be
            smaller).
        seed: Integer seed for the sampler (`random_state`) and the
            shuffling. Defaults to `None` (not reproducible).
        num_classes: Number of classes, to check the labels. Defaults to
            `None`.
        **kwargs: Arguments of the named sampler in imbalanced-learn's words
            (`sampling_strategy`, `k_neighbors`, ...).

    Returns:
        A batched `tf.data.Dataset` of `(x, y)` with the inputs' shapes and
        dtypes.

    Raises:
        ValueError: as `resample_arrays`, and for `batch_size < 1`.

    Example:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(90, 8, 8, 1)).astype("float32")
    >>> y = np.repeat([0, 1, 2], [60, 20, 10])
    >>> ds = smote_dataset(x, y, batch_size=32, seed=0, k_neighbors=3)
    >>> ds.element_spec[0].shape
    TensorShape([None, 8, 8, 1])
    >>> int(ds.cardinality())
    6
    >>> np.bincount(np.concatenate([b for _, b in ds.as_numpy_iterator()])).tolist()
    [60, 60, 60]
    """
    batch_size = _check_batch_size(batch_size)
    seed = check_optional_int("seed", seed, low=0)
    x_res, y_res = resample_arrays(
        x, y, sampler=sampler, seed=seed, num_classes=num_classes, **kwargs
    )
    return _dataset(x_res, y_res, batch_size, seed)


def feature_space_oversample(
    encoder,
    x,
    y,
    *,
    sampler="smote",
    batch_size,
    seed=None,
    num_classes=None,
    **kwargs,
):
    """SMOTE in the embedding space of a trained feature extractor.

    Encodes `x` with `encoder` (e.g. a classifier's backbone, up to its
    pooled features), over-samples the features, and returns a dataset of
    `(features, y)` for re-training a classifier head on synthetic tail
    features. This is the classifier re-training (cRT) step of decoupled
    long-tailed learning (Kang et al. 2020) with SMOTE for the class-balanced
    sampling; interpolating in a learned feature space rather than in pixel
    space is the idea behind DeepSMOTE (Dablain et al. 2022).

    The recipe: train the whole model on the data as it is; take the
    encoder; over-sample its features; train a fresh head on them; stitch
    the head back onto the encoder (see the example).

    Args:
        encoder: A `keras.Model` (or any object with `predict`) mapping `x`
            to `(N, D)` features, e.g.
            `keras.Model(model.input, model.get_layer("features").output)`.
        x: The inputs `encoder` takes: an array or a dict of arrays.
        y: Integer labels `(N,)` / `(N, 1)` or one-hot labels `(N, C)`;
            the dataset yields them in the same form.
        sampler: A sampler name or an imbalanced-learn sampler instance
            (see `resample_arrays`). Defaults to `"smote"`.
        batch_size: Batch size of the returned dataset (also used to encode
            `x`).
        seed: Integer seed for the sampler and the shuffling. Defaults to
            `None` (not reproducible).
        num_classes: Number of classes, to check the labels. Defaults to
            `None`.
        **kwargs: Arguments of the named sampler in imbalanced-learn's words
            (`sampling_strategy`, `k_neighbors`, ...).

    Returns:
        A batched `tf.data.Dataset` of `(features, y)`, features float32 of
        shape `(batch, D)`.

    Raises:
        ValueError: as `smote_dataset`, and when the encoder's output is not
            one finite `(N, D)` array.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], [60, 20, 10])
    >>> x = (rng.normal(size=(90, 8)) + y[:, None]).astype("float32")
    >>> inputs = keras.Input((8,))
    >>> features = keras.layers.Dense(16, activation="relu", name="features")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(3)(features))
    >>> model.compile(
    ...     optimizer="adam",
    ...     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> _ = model.fit(x, y, epochs=2, verbose=0)  # stage 1: the whole model
    >>> encoder = keras.Model(model.input, model.get_layer("features").output)
    >>> ds = feature_space_oversample(encoder, x, y, batch_size=32, seed=0)
    >>> ds.element_spec[0].shape
    TensorShape([None, 16])
    >>> head = keras.layers.Dense(3)  # stage 2: a fresh head, balanced features
    >>> head_model = keras.Sequential([keras.Input((16,)), head])
    >>> head_model.compile(
    ...     optimizer="adam",
    ...     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> _ = head_model.fit(ds, epochs=2, verbose=0)
    >>> balanced = keras.Model(model.input, head(encoder.output))  # stitch
    >>> balanced.predict(x[:4], verbose=0).shape
    (4, 3)
    """
    batch_size = _check_batch_size(batch_size)
    seed = check_optional_int("seed", seed, low=0)
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    if not hasattr(encoder, "predict"):
        raise TypeError(
            "`encoder` must be a keras.Model (or have `predict`) mapping x to "
            f"(N, D) features. Received: encoder of type {type(encoder).__name__}"
        )
    _, arrays = _check_inputs(x, numeric=False)  # before the costly encoding
    labels = _Labels(y, arrays[0].shape[0], num_classes)
    features = encoder.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(features, (list, tuple, dict)):
        raise ValueError(
            "`encoder` must have a single output of (N, D) features. "
            f"Received: {len(features)} outputs"
        )
    features = _to_numpy(features)
    if features.ndim != 2:
        raise ValueError(
            "`encoder` must output (N, D) features; end it with a pooling or "
            "Flatten layer (e.g. the classifier's GlobalAveragePooling2D). "
            f"Received: features of shape {features.shape}"
        )
    features = features.astype("float32", copy=False)
    if not np.all(np.isfinite(features)):
        raise ValueError("`encoder` produced NaN or infinite features.")
    x_res, y_res = _resample(_Inputs(features), labels, sampler, seed, kwargs)
    return _dataset(x_res, y_res, batch_size, seed)
