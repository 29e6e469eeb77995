"""Sample mixing for batched `tf.data` pipelines: mixup, CutMix and Remix.

Each function maps a batched dataset of `(x, y)` or `(x, y, sample_weight)`
to one of mixed samples. Every sample `i` of a batch draws its own mixing
factor `lam_i ~ Beta(alpha, alpha)` and is paired with the sample `j = perm(i)`
of a random permutation of the batch, so the output keeps the batch size and
order of the anchors `i`. The draws of a batch (factors, partners, boxes)
are stateless random ops keyed by `seed`, the epoch and the batch's
position, so the same seed gives the same batches whatever TensorFlow's
global seed (`tf.random.set_seed`), and every epoch draws afresh.

Why not Keras' `MixUp` and `CutMix` layers: they also draw one factor per
sample, but they handle images `(B, H, W, C)` only (not feature vectors
`(B, F)`), transform a single tensor (a dict of inputs cannot share one
factor and partner), draw from a stateful `SeedGenerator` (so a seed does not
pin an epoch), do not expose the factor that Remix's label rule needs, and
`CutMix` takes a `factor` range rather than the paper's `alpha` and weights
the labels by the continuous box area rather than the pixels actually pasted.
The few tensor ops below do all of that.
"""

import tensorflow as tf

from keras_imbalance._validation import (
    check_class_counts,
    check_float,
    check_optional_int,
)
from keras_imbalance.data._elements import (
    assert_ids_in_range,
    broadcast_to_rank,
    check_dataset,
    check_seed,
    class_ids,
    float_dtype,
    leading_dims_agree,
    stateless_seed,
    with_keys,
)

__all__ = ["cutmix", "mixup", "remix", "remix_labels"]


def mixup(dataset, *, alpha=0.2, num_classes=None, seed=None):
    """mixup: convex combinations of pairs of samples and of their labels.

    For each sample `i` of a batch, with its own `lam_i ~ Beta(alpha, alpha)`
    and a partner `j` drawn by permuting the batch:

        x~_i = lam_i * x_i + (1 - lam_i) * x_j
        y~_i = lam_i * y_i + (1 - lam_i) * y_j

    Zhang et al., "mixup: Beyond Empirical Risk Minimization" (ICLR 2018).
    Every input of a dict (multi-input) is mixed with the same `lam_i` and
    partner; sample weights, when given, are mixed like the labels. Inputs
    of any rank work: feature vectors `(B, F)`, images `(B, H, W, C)`.
    Integer inputs (e.g. `uint8` images) come out as floats (`floatx`).

    Args:
        dataset: A batched `tf.data.Dataset` of `(x, y)` or
            `(x, y, sample_weight)`; `x` a tensor or a dict of tensors, `y`
            one-hot (or soft) labels `(B, C)`.
        alpha: Parameter of the Beta distribution, `> 0`; small values mix
            little. Defaults to `0.2`.
        num_classes: Number of classes, needed only for integer labels
            `(B,)` or `(B, 1)`, which are then one-hot encoded; without it,
            integer labels raise a `ValueError`. Defaults to `None`.
        seed: Integer seed: the same seed gives the same batches, each epoch
            draws new ones. Defaults to `None` (not reproducible).

    Returns:
        A `tf.data.Dataset` of mixed batches with one-hot (soft) float labels
        `(B, C)`.

    Example:

    >>> import numpy as np
    >>> import tensorflow as tf
    >>> x = np.random.rand(8, 5).astype("float32")
    >>> y = np.eye(2, dtype="float32")[[0, 0, 0, 0, 0, 0, 1, 1]]
    >>> ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    >>> xb, yb = next(iter(mixup(ds, alpha=0.2, seed=0)))
    >>> tuple(xb.shape), tuple(yb.shape)
    ((4, 5), (4, 2))
    >>> np.allclose(yb.numpy().sum(axis=-1), 1.0)
    True
    """
    alpha = check_float("alpha", alpha, low=0, low_open=True)
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    seed = check_seed(seed)

    def mix(x, ids, perm, lam, key):
        return _mix_linear(x, perm, lam), lam

    return _mix_dataset(dataset, "mixup", alpha, num_classes, seed, mix)


def cutmix(dataset, *, alpha=1.0, num_classes=None, seed=None):
    """CutMix: paste a random region of a partner sample, mix labels by area.

    For each sample `i` of a batch, with its own `lam_i ~ Beta(alpha, alpha)`
    and a partner `j` drawn by permuting the batch, a box covering a fraction
    `1 - lam_i` of the sample is cut from `x_j` and pasted into `x_i`:

        x~_i = M_i * x_i + (1 - M_i) * x_j
        y~_i = k_i * y_i + (1 - k_i) * y_j

    with `M_i` the binary mask that is 0 inside the box and `k_i` the fraction
    of `x_i` actually kept. Yun et al., "CutMix: Regularization Strategy to
    Train Strong Classifiers with Localizable Features" (ICCV 2019). As in
    the paper, the box has sides `sqrt(1 - lam_i)` of the height and width, a
    uniformly drawn centre, and is clipped at the border (so `k_i >= lam_i`).

    Shapes: images `(B, H, W)` or `(B, H, W, C)` (channels last; any input of
    rank >= 3 is cut on axes 1 and 2, across all channels), and feature
    vectors `(B, F)` (or `(B,)`, read as `F = 1`), where the box is a
    contiguous span of `(1 - lam_i) F` features, so that the label weight
    `k_i` is the fraction of features kept. Every input of a dict is cut
    with the same partner, the same relative centre and the same area
    fraction `1 - lam_i` (a box for images, a span for vectors); the label
    weight is the kept fraction of the input of highest rank (the first in
    key order among equals), usually the image. Sample weights are mixed
    like the labels. Integer inputs come out as floats (`floatx`).

    Args:
        dataset: A batched `tf.data.Dataset` of `(x, y)` or
            `(x, y, sample_weight)`; `x` a tensor or a dict of tensors, `y`
            one-hot (or soft) labels `(B, C)`.
        alpha: Parameter of the Beta distribution, `> 0`. Defaults to `1.0`
            (box areas uniform, as in the paper).
        num_classes: Number of classes, needed only for integer labels,
            which are then one-hot encoded. Defaults to `None`.
        seed: Integer seed: the same seed gives the same batches, each epoch
            draws new ones. Defaults to `None` (not reproducible).

    Returns:
        A `tf.data.Dataset` of mixed batches with one-hot (soft) float labels
        `(B, C)`.

    Example:

    >>> import numpy as np
    >>> import tensorflow as tf
    >>> images = np.random.rand(8, 6, 6, 3).astype("float32")
    >>> labels = np.eye(4, dtype="float32")[[0, 1, 2, 3, 0, 0, 0, 0]]
    >>> ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    >>> xb, yb = next(iter(cutmix(ds, seed=0)))
    >>> tuple(xb.shape), tuple(yb.shape)
    ((4, 6, 6, 3), (4, 4))
    """
    alpha = check_float("alpha", alpha, low=0, low_open=True)
    num_classes = check_optional_int("num_classes", num_classes, low=1)
    seed = check_seed(seed)

    def mix(x, ids, perm, lam, key):
        return _mix_cut(x, perm, lam, key)

    return _mix_dataset(dataset, "cutmix", alpha, num_classes, seed, mix)


def check_remix_arguments(alpha, kappa, tau):
    """`(alpha, kappa, tau)` of Remix (Chou et al. 2020), checked (`alpha=None`:
    the labels alone, no mixing factor)."""
    if alpha is not None:
        alpha = check_float("alpha", alpha, low=0, low_open=True)
    kappa = check_float("kappa", kappa, low=1)
    tau = check_float("tau", tau, low=0, high=1)
    return alpha, kappa, tau


def remix(dataset, *, class_counts, alpha=1.0, kappa=3.0, tau=0.5, seed=None):
    """Remix: mixup whose labels favour the minority class of each pair.

    Inputs are mixed as in `mixup`, with one `lam_i ~ Beta(alpha, alpha)` per
    sample and a partner `j` from a permutation of the batch:
    `x~_i = lam_i * x_i + (1 - lam_i) * x_j`. The label is
    `lam_y * y_i + (1 - lam_y) * y_j` with (see `remix_labels`)

        lam_y = 0      if n_i / n_j >= kappa and lam_i < tau,
        lam_y = 1      if n_j / n_i >= kappa and 1 - lam_i < tau,
        lam_y = lam_i  otherwise,

    `n_i`, `n_j` the counts of the two samples' classes: when a head sample is
    mixed with a much rarer one and contributes less than `tau` of the
    input, the whole label goes to the rare class. Chou et al., "Remix:
    Rebalanced Mixup" (ECCV 2020 Workshops). Dict inputs share `lam_i` and the
    partner; sample weights are mixed with `lam_y`. A sample's class is the
    argmax of its (one-hot or soft) label.

    Args:
        dataset: A batched `tf.data.Dataset` of `(x, y)` or
            `(x, y, sample_weight)`; `y` integer class ids `(B,)` / `(B, 1)`
            or one-hot rows `(B, C)` with `C = len(class_counts)`.
        class_counts: One non-negative count per class (e.g. from
            `keras_imbalance.class_counts`).
        alpha: Parameter of the Beta distribution, `> 0`. Defaults to `1.0`.
        kappa: Imbalance ratio from which a pair counts as head-tail, `>= 1`.
            Defaults to `3.0` (the paper's choice).
        tau: Share of the input below which the head sample loses its label
            share, in `[0, 1]`. Defaults to `0.5` (the paper's choice).
        seed: Integer seed: the same seed gives the same batches, each epoch
            draws new ones. Defaults to `None` (not reproducible).

    Returns:
        A `tf.data.Dataset` of mixed batches with one-hot (soft) float labels
        `(B, C)`.

    Example:

    >>> import numpy as np
    >>> import tensorflow as tf
    >>> x = np.random.rand(8, 3).astype("float32")
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    >>> ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    >>> xb, yb = next(iter(remix(ds, class_counts=[6, 2], seed=0)))
    >>> tuple(xb.shape), tuple(yb.shape)
    ((4, 3), (4, 2))
    """
    counts = check_class_counts("class_counts", class_counts)
    alpha, kappa, tau = check_remix_arguments(alpha, kappa, tau)
    seed = check_seed(seed)
    counts_tensor = tf.constant(counts, tf.float32)

    def mix(x, ids, perm, lam, key):
        n = tf.gather(counts_tensor, ids)
        return _mix_linear(x, perm, lam), _remix_weight(
            n, tf.gather(n, perm), lam, kappa, tau
        )

    return _mix_dataset(
        dataset, "remix", alpha, counts.size, seed, mix, counts_given=True
    )


def remix_labels(y_i, y_j, n_i, n_j, lam, kappa=3.0, tau=0.5):
    """Remix's label for the pair `(i, j)` mixed as `lam * x_i + (1 - lam) * x_j`.

    Returns `lam_y * y_i + (1 - lam_y) * y_j` with

        lam_y = 0    if n_i / n_j >= kappa and lam < tau,
        lam_y = 1    if n_j / n_i >= kappa and 1 - lam < tau,
        lam_y = lam  otherwise

    (Chou et al., "Remix: Rebalanced Mixup", ECCV 2020 Workshops, eq. 6).
    The ratios are compared as `n_i >= kappa * n_j`, so an empty class counts
    as infinitely rare; two empty classes keep `lam`.

    Args:
        y_i: One-hot (or soft) labels of the anchors, shape `(..., C)`.
        y_j: Labels of the partners, same shape.
        n_i: Class counts of the anchors' classes, shape `(...)`.
        n_j: Class counts of the partners' classes, shape `(...)`.
        lam: Share of `x_i` in the mixed input, shape `(...)`.
        kappa: Imbalance ratio threshold, `>= 1`. Defaults to `3.0`.
        tau: Input share threshold, in `[0, 1]`. Defaults to `0.5`.

    Returns:
        A float tensor of the shape of `y_i`.

    Example:

    >>> remix_labels([1.0, 0.0], [0.0, 1.0], 100, 10, 0.3).numpy().tolist()
    [0.0, 1.0]
    >>> remix_labels([1.0, 0.0], [0.0, 1.0], 100, 10, 0.75).numpy().tolist()
    [0.75, 0.25]
    """
    _, kappa, tau = check_remix_arguments(None, kappa, tau)
    y_i = tf.convert_to_tensor(y_i)
    dtype = float_dtype(y_i.dtype)
    y_i = tf.cast(y_i, dtype)
    y_j = tf.cast(y_j, dtype)
    weight = _remix_weight(
        tf.cast(n_i, dtype), tf.cast(n_j, dtype), tf.cast(lam, dtype), kappa, tau
    )
    weight = weight[..., None]
    return weight * y_i + (1 - weight) * y_j


def _remix_weight(n_i, n_j, lam, kappa, tau):
    """Remix's label weight `lam_y` of the anchor (see `remix_labels`)."""
    to_j = (n_i >= kappa * n_j) & (n_i > 0) & (lam < tau)
    to_i = (n_j >= kappa * n_i) & (n_j > 0) & (1 - lam < tau)
    return tf.where(to_j, tf.zeros_like(lam), tf.where(to_i, tf.ones_like(lam), lam))


def _mix_dataset(dataset, function, alpha, num_classes, seed, mix, counts_given=False):
    """Map `mix(x, ids, perm, lam, key) -> (x~, lam_y)` over the batches."""
    spec = check_dataset("dataset", dataset, function)
    sparse = _label_layout(spec, num_classes, function, counts_given)

    def mix_batch(element, key):
        x, y = element[0], element[1]
        ids = class_ids(y, sparse)
        if sparse:
            ids = assert_ids_in_range(ids, num_classes)
            y = tf.one_hot(ids, num_classes, dtype=float_dtype(y.dtype))
        else:
            y = tf.cast(y, float_dtype(y.dtype))
        batch_size = tf.shape(ids)[0]
        perm = tf.argsort(
            tf.random.stateless_uniform([batch_size], seed=stateless_seed(key, 0))
        )
        lam = _beta([batch_size], alpha, key)
        x, weight = mix(x, ids, perm, lam, key)
        out = (x, _mix_values(y, perm, weight))
        if len(element) == 3:
            out += (_mix_values(element[2], perm, weight),)
        return out

    return with_keys(dataset, seed).map(mix_batch)


def _label_layout(spec, num_classes, function, counts_given):
    """True for integer labels `(B,)` / `(B, 1)`, False for `(B, C)`."""
    shape = spec[1].shape
    if shape.rank in (None, 0) or not leading_dims_agree(spec):
        raise ValueError(
            f"`{function}` mixes the samples of a batch: batch the dataset "
            "first (`dataset.batch(batch_size)`). Received: element_spec="
            f"{spec}"
        )
    if shape.rank == 1 or (shape.rank == 2 and shape[1] == 1):
        if num_classes is None:
            raise ValueError(
                f"`{function}` mixes one-hot labels of shape (B, C), and "
                f"received integer labels of shape {shape}. One-hot encode "
                "them or pass `num_classes`."
            )
        return True
    if shape.rank != 2:
        raise ValueError(
            f"`{function}` takes labels of shape (B,), (B, 1) or (B, C). "
            f"Received: labels of shape {shape}"
        )
    if num_classes is not None and shape[1] not in (None, num_classes):
        given = (
            f"`class_counts` has {num_classes} entries"
            if counts_given
            else f"num_classes={num_classes}"
        )
        raise ValueError(
            f"Labels of shape {shape} are one-hot rows of {shape[1]} classes, "
            f"but {given}."
        )
    return False


def _beta(shape, alpha, key):
    """`Beta(alpha, alpha)` draws as `g1 / (g1 + g2)` of two Gamma draws.

    For tiny `alpha` both Gamma draws can underflow to 0; Beta(alpha, alpha)
    then tends to a fair coin on {0, 1}, which is what is returned.
    """
    g1 = tf.random.stateless_gamma(shape, seed=stateless_seed(key, 1), alpha=alpha)
    g2 = tf.random.stateless_gamma(shape, seed=stateless_seed(key, 2), alpha=alpha)
    total = g1 + g2
    coin = tf.random.stateless_uniform(shape, seed=stateless_seed(key, 3)) < 0.5
    return tf.where(
        total > 0,
        g1 / tf.where(total > 0, total, tf.ones_like(total)),
        tf.cast(coin, g1.dtype),
    )


def _mix_values(values, perm, weight):
    """`w * v + (1 - w) * v[perm]`, `w` broadcast over the trailing axes."""
    dtype = float_dtype(values.dtype)
    values = tf.cast(values, dtype)
    weight = broadcast_to_rank(tf.cast(weight, dtype), values.shape.rank)
    return weight * values + (1 - weight) * tf.gather(values, perm)


def _mix_linear(x, perm, lam):
    return tf.nest.map_structure(lambda t: _mix_values(t, perm, lam), x)


def _mix_cut(x, perm, lam, key):
    """CutMix of every input with one relative box per sample."""
    centres = tf.random.stateless_uniform(
        [tf.shape(lam)[0], 2], seed=stateless_seed(key, 4)
    )
    leaves = tf.nest.flatten(x)
    ranks = [t.shape.rank for t in leaves]
    primary = ranks.index(max(ranks))
    mixed, kept = [], None
    for index, leaf in enumerate(leaves):
        value, fraction = _cut_one(leaf, perm, lam, centres)
        mixed.append(value)
        if index == primary:
            kept = fraction
    return tf.nest.pack_sequence_as(x, mixed), kept


def _cut_one(t, perm, lam, centres):
    """Paste a box of `t[perm]` into `t`; return it and the fraction kept."""
    t = tf.cast(t, float_dtype(t.dtype))
    vector = t.shape.rank == 1
    if vector:
        t = t[:, None]
    rank = t.shape.rank
    axes = [1] if rank == 2 else [1, 2]
    side = tf.pow(1.0 - lam, 1.0 / len(axes))
    mask = None
    cut = tf.ones_like(lam)
    for k, axis in enumerate(axes):
        length = tf.shape(t)[axis]
        size = tf.cast(length, lam.dtype)
        low = tf.clip_by_value(tf.round((centres[:, k] - side / 2) * size), 0, size)
        high = tf.clip_by_value(tf.round((centres[:, k] + side / 2) * size), 0, size)
        position = tf.cast(tf.range(length), lam.dtype)
        inside = (position[None, :] >= low[:, None]) & (
            position[None, :] < high[:, None]
        )
        shape = [-1] + [1] * (rank - 1)
        shape[axis] = length
        inside = tf.reshape(inside, tf.stack(shape))
        mask = inside if mask is None else mask & inside
        cut = cut * (high - low) / size
    mixed = tf.where(mask, tf.gather(t, perm), t)
    if vector:
        mixed = mixed[:, 0]
    return mixed, 1.0 - cut
