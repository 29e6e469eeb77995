"""`_labels.integer_class_ids`: the one parser of NumPy-side labels."""

import re
import subprocess
import sys

import numpy as np
import pytest

from keras_imbalance._labels import integer_class_ids
from keras_imbalance.class_weights import class_counts


@pytest.mark.parametrize(
    "y, expected",
    [
        ([0, 2, 1], [0, 2, 1]),
        (np.array([[0], [2], [1]]), [0, 2, 1]),
        (np.array([0.0, 2.0, 1.0]), [0, 2, 1]),
        (np.array([1, 0], dtype="uint8"), [1, 0]),
        (np.eye(3)[[2, 0, 1]], [2, 0, 1]),
        (np.eye(3, dtype="int32")[[1, 1]], [1, 1]),
        (np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]), [1, 0]),
        (np.zeros((0,), "int64"), []),
    ],
)
def test_accepted_forms(y, expected):
    ids = integer_class_ids(y)
    assert ids.dtype == np.int64 and ids.ndim == 1
    assert ids.tolist() == expected


def test_num_classes_bounds_the_ids():
    assert integer_class_ids([0, 2], num_classes=3).tolist() == [0, 2]
    assert integer_class_ids(np.eye(4)[[3]], num_classes=4).tolist() == [3]


def test_tensors():
    import tensorflow as tf

    assert integer_class_ids(tf.constant([[1], [0]])).tolist() == [1, 0]
    assert integer_class_ids(tf.one_hot([2, 0], 3)).tolist() == [2, 0]


@pytest.mark.parametrize(
    "y, kwargs, message",
    [
        (
            np.zeros((2, 2, 2)),
            {},
            "`y` must hold one label per sample: integer class ids of shape (N,) "
            "or (N, 1), or one-hot / probability rows of shape (N, C). Received: "
            "y.shape=(2, 2, 2)",
        ),
        (5, {"name": "labels"}, "Received: labels.shape=()"),
        (
            np.array([[0, 3], [1, 2]]),
            {},
            "(non-negative, summing to 1); row 0 of y.shape=(2, 2) is [0, 3].",
        ),
        (np.array([[0.5, np.nan]]), {}, "row 0 of y.shape=(1, 2)"),
        (
            np.eye(3),
            {"num_classes": 4, "name": "y_test"},
            "`y_test` holds one-hot rows of width 3, but num_classes=4",
        ),
        (
            [0.0, 1.5, 2.5],
            {"name": "y_train"},
            "`y_train` must hold integer class ids; sample 1 has the label 1.5 "
            "(2 non-integer label(s) in all).",
        ),
        ([0.0, np.nan], {}, "sample 1 has the label nan (1 non-integer label(s)"),
        ([np.inf, 0.0], {}, "sample 0 has the label inf"),
        (
            [0, -1, -3, 2],
            {"name": "y_val"},
            "`y_val` must hold non-negative class ids; sample 2 has the label -3.",
        ),
        (
            [0, 4, 3, 4],
            {"num_classes": 3},
            "Found the label 4, but num_classes=3. Labels must lie in [0, 2]: "
            "sample 1 of `y` is out of range.",
        ),
        ([0, 1], {"num_classes": 0}, "Invalid value for argument `num_classes`"),
    ],
)
def test_value_errors(y, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        integer_class_ids(y, **kwargs)


@pytest.mark.parametrize(
    "y, message",
    [
        (np.array(["cat", "dog"]), "`y` must hold integer class ids. Received: "),
        (np.array([True, False]), "Received: y.dtype=bool"),
        (np.array([1 + 0j]), "Received: y.dtype=complex128"),
        (np.array([None, 1], dtype=object), "Received: y.dtype=object"),
    ],
)
def test_type_errors(y, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        integer_class_ids(y)


def test_class_counts_reads_dense_rows_by_their_argmax():
    assert class_counts(np.eye(3)[[0, 2, 2]]).tolist() == [1, 0, 2]
    assert class_counts(np.array([[0.25, 0.75]])).tolist() == [0, 1]
    # Integer rows that are not one-hot are class ids of a mask, flattened.
    assert class_counts(np.array([[0, 2], [1, 1]])).tolist() == [1, 2, 1]
    assert class_counts(np.eye(3), num_classes=4).tolist() == [6, 3, 0, 0]


def test_importing_the_parser_does_not_load_keras():
    code = (
        "import sys\n"
        "from keras_imbalance._labels import integer_class_ids\n"
        "integer_class_ids([0, 1])\n"
        "print('keras' in sys.modules, 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False"]
