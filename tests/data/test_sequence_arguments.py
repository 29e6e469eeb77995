"""Arguments documented as sequences take lists, tuples and NumPy arrays alike.

`balanced_dataset(..., sampling=np.array([...]))` used to fail with "The
truth value of an array ... is ambiguous"; lists worked.
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.data import (
    ProgressiveSampling,
    augment_minority,
    balanced_dataset,
    rebalance,
    remix,
    remix_labels,
    resample_arrays,
    sampling_weights,
)

FORMS = {
    "list": list,
    "tuple": tuple,
    "float array": lambda v: np.asarray(v, dtype="float64"),
    "int array": lambda v: np.asarray(v, dtype="int32"),
    "tensor": tf.constant,
}
COUNTS = [12, 4, 2]
WEIGHTS = [1, 2, 5]
Y = np.repeat(np.arange(3), COUNTS)
X = np.stack([np.arange(Y.size), Y], axis=1).astype("float32")


def stream():
    return tf.data.Dataset.from_tensor_slices((X, Y))


@pytest.fixture(params=sorted(FORMS))
def form(request):
    return FORMS[request.param]


def test_sampling_weights(form):
    expected = np.array(WEIGHTS) / sum(WEIGHTS)
    np.testing.assert_allclose(sampling_weights(form(COUNTS), form(WEIGHTS)), expected)


def test_balanced_dataset_sampling(form):
    ds = balanced_dataset(
        X, Y, batch_size=64, sampling=form(WEIGHTS), steps_per_epoch=40, seed=0
    )
    labels = np.concatenate([yb for _, yb in ds.as_numpy_iterator()])
    share = np.bincount(labels, minlength=3) / labels.size
    np.testing.assert_allclose(share, np.array(WEIGHTS) / sum(WEIGHTS), atol=0.03)
    with pytest.raises(ValueError, match=r"Received a dataset built with sampling=\["):
        ProgressiveSampling(ds, 3)


@pytest.mark.slow
def test_rebalance_sampling_and_counts(form):
    out = rebalance(
        stream(),
        num_classes=3,
        sampling=form(WEIGHTS),
        class_counts=form(COUNTS),
        seed=0,
    )
    labels = np.concatenate([yb for _, yb in out.batch(18).repeat(40)])
    share = np.bincount(labels, minlength=3) / labels.size
    np.testing.assert_allclose(share, np.array(WEIGHTS) / sum(WEIGHTS), atol=0.04)


def test_augment_minority_counts(form):
    out = augment_minority(
        stream(), lambda t: t + 100.0, class_counts=form(COUNTS), seed=0
    )
    augmented = np.array([float(xe[0]) >= 100 for xe, _ in out])
    assert not augmented[Y == 0].any()  # the head class is never augmented
    assert augmented[Y > 0].any()


def test_remix_counts(form):
    out = remix(stream().batch(6), class_counts=form(COUNTS), seed=0)
    for _, yb in out:
        np.testing.assert_allclose(np.asarray(yb).sum(axis=1), 1.0, rtol=1e-6)


def test_remix_labels(form):
    mixed = remix_labels(form([1.0, 0.0]), form([0.0, 1.0]), 100, 10, 0.3)
    np.testing.assert_allclose(mixed, [0.0, 1.0])


@pytest.mark.parametrize("container", [list, tuple])
def test_balanced_dataset_inputs_as_a_sequence_of_arrays(container):
    x = container([X, X[:, :1] * 2])
    xb, yb = next(iter(balanced_dataset(x, list(Y), batch_size=8, seed=0)))
    assert isinstance(xb, tuple) and len(xb) == 2
    ids = np.asarray(xb[0])[:, 0].astype(int)
    np.testing.assert_array_equal(np.asarray(xb[1])[:, 0], 2 * ids)
    np.testing.assert_array_equal(yb, Y[ids])


def test_resample_arrays_labels_as_a_list():
    x_res, y_res = resample_arrays(X, list(Y), sampler="random_over", seed=0)
    assert np.bincount(y_res).tolist() == [12, 12, 12]
    assert x_res.shape == (36, 2)


def test_dict_weights_with_numpy_keys_and_values():
    weights = {np.int64(1): np.float32(2.0), np.int32(2): 5}
    np.testing.assert_allclose(sampling_weights(COUNTS, weights), [1 / 8, 2 / 8, 5 / 8])


@pytest.mark.parametrize(
    "sampling", [np.ones((3, 1)), [[1, 2], [3]], np.array(["a", "b", "c"])]
)
def test_sequences_that_are_not_weights(sampling):
    with pytest.raises(ValueError, match="Invalid value for argument `sampling`"):
        balanced_dataset(X, Y, batch_size=8, sampling=sampling)
