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

import numpy as np
import tensorflow as tf

from keras_imbalance._arrays import to_numpy
from keras_imbalance._validation import check_optional_int, check_positive_int
from keras_imbalance.data._random import EpochCounter, base_key, fold
from keras_imbalance.data._smote_arrays import Inputs, Labels, check_inputs
from keras_imbalance.data._smote_samplers import resample

__all__ = ["feature_space_oversample", "resample_arrays", "smote_dataset"]

# Salt of the shuffling keys (see `_random.base_key`).
_SHUFFLE_SALT = 5


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
    inputs = Inputs(x)
    labels = Labels(y, inputs.num_samples, num_classes)
    return resample(inputs, labels, sampler, seed, kwargs)


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
    batch_size = check_positive_int("batch_size", batch_size)
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
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_optional_int("seed", seed, low=0)
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    if not hasattr(encoder, "predict"):
        raise TypeError(
            "`encoder` must be a keras.Model (or have `predict`) mapping x to "
            f"(N, D) features. Received: encoder of type {type(encoder).__name__}"
        )
    _, arrays = check_inputs(x, numeric=False)  # before the costly encoding
    labels = Labels(y, arrays[0].shape[0], num_classes)
    features = encoder.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(features, (list, tuple, dict)):
        raise ValueError(
            "`encoder` must have a single output of (N, D) features. "
            f"Received: {len(features)} outputs"
        )
    features = to_numpy(features)
    if features.ndim != 2:
        raise ValueError(
            "`encoder` must output (N, D) features; end it with a pooling or "
            "Flatten layer (e.g. the classifier's GlobalAveragePooling2D). "
            f"Received: features of shape {features.shape}"
        )
    features = features.astype("float32", copy=False)
    if not np.all(np.isfinite(features)):
        raise ValueError("`encoder` produced NaN or infinite features.")
    x_res, y_res = resample(Inputs(features), labels, sampler, seed, kwargs)
    return _dataset(x_res, y_res, batch_size, seed)
