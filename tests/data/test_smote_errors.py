"""The errors of `smote_dataset` and `resample_arrays`, raised before imblearn runs."""

import numpy as np
import pytest
import tensorflow as tf
from imblearn.over_sampling import SMOTE, BorderlineSMOTE
from sklearn.neighbors import NearestNeighbors

from keras_imbalance.data.smote import resample_arrays, smote_dataset
from tests.data.smote_fixtures import make_data, one_hot

# ---------------------------------------------------------------------------
# Errors: (arguments changed from a valid call, message).

X, Y = make_data()
X_SMALL, Y_SMALL = make_data(counts=(60, 20, 3))
X_ONE, Y_ONE = make_data(counts=(60, 20, 1))


def with_nan(x, index):
    x = x.copy()
    x[index] = np.nan
    return x


def labels_with(index, value, y=Y):
    y = y.astype("float64")
    y[index] = value
    return y


def soft_labels():
    y = one_hot(Y)
    y[4] = [0.5, 0.5, 0.0]
    return y


ERRORS = {
    "smote_small_class": (
        {"x": X_SMALL, "y": Y_SMALL},
        r"class 2 has 3 samples but SMOTE needs k_neighbors \+ 1 = 6; set "
        r"k_neighbors <= 2 or use sampler='random_over'",
    ),
    "smote_k_neighbors": (
        {"x": X_SMALL, "y": Y_SMALL, "k_neighbors": 3},
        r"class 2 has 3 samples but SMOTE needs k_neighbors \+ 1 = 4; set "
        r"k_neighbors <= 2",
    ),
    "single_sample": (
        {"x": X_ONE, "y": Y_ONE},
        r"class 2 has 1 sample but SMOTE needs k_neighbors \+ 1 = 6; use "
        r"sampler='random_over' or gather more samples",
    ),
    "only_oversampled_classes": (
        {"x": X_SMALL, "y": Y_SMALL, "sampling_strategy": {2: 20, 1: 60}},
        r"class 2 has 3 samples",
    ),
    "borderline_k": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": "borderline_smote"},
        r"class 2 has 3 samples but BorderlineSMOTE needs k_neighbors \+ 1 = 6",
    ),
    "borderline_m": (
        {"sampler": "borderline_smote", "m_neighbors": 100},
        r"x has 90 samples in all but BorderlineSMOTE needs m_neighbors \+ 1 = "
        r"101; set m_neighbors <= 89",
    ),
    "svm_smote_k": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": "svm_smote"},
        r"class 2 has 3 samples but SVMSMOTE needs k_neighbors \+ 1 = 6",
    ),
    "svm_smote_m": (
        {"sampler": "svm_smote", "m_neighbors": 90},
        r"x has 90 samples in all but SVMSMOTE needs m_neighbors \+ 1 = 91",
    ),
    "adasyn": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": "adasyn"},
        r"class 2 has 3 samples but ADASYN needs n_neighbors \+ 1 = 6; set "
        r"n_neighbors <= 2",
    ),
    "kmeans_smote": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": "kmeans_smote", "k_neighbors": 4},
        r"class 2 has 3 samples but KMeansSMOTE needs k_neighbors \+ 1 = 5",
    ),
    "smote_tomek": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": "smote_tomek"},
        r"class 2 has 3 samples but SMOTETomek's SMOTE needs k_neighbors \+ 1 = "
        r"6; pass smote=SMOTE\(k_neighbors=2\) or use sampler='random_over'",
    ),
    "smote_enn_inner": (
        {
            "x": X_SMALL,
            "y": Y_SMALL,
            "sampler": "smote_enn",
            "smote": BorderlineSMOTE(k_neighbors=4),
        },
        r"class 2 has 3 samples but SMOTEENN's BorderlineSMOTE needs "
        r"k_neighbors \+ 1 = 5; pass smote=BorderlineSMOTE\(k_neighbors=2\)",
    ),
    "instance": (
        {"x": X_SMALL, "y": Y_SMALL, "sampler": SMOTE(k_neighbors=4)},
        r"class 2 has 3 samples but SMOTE needs k_neighbors \+ 1 = 5",
    ),
    "neighbors_estimator": (
        {"x": X_SMALL, "y": Y_SMALL, "k_neighbors": NearestNeighbors(n_neighbors=6)},
        r"class 2 has 3 samples but SMOTE needs the n_neighbors=6 of its "
        r"k_neighbors; set k_neighbors to an estimator with n_neighbors <= 3",
    ),
    "lengths": (
        {"y": Y[:-1]},
        r"`x` and `y` must have the same number of samples. Received: 90 "
        r"samples in x and 89 in y",
    ),
    "negative_label": (
        {"y": labels_with(3, -1)},
        r"`y` must hold non-negative class ids; sample 3 has the label -1\.",
    ),
    "label_out_of_range": (
        {"y": labels_with(7, 3), "num_classes": 3},
        r"Found the label 3, but num_classes=3\. Labels must lie in \[0, 2\]: "
        r"sample 7 of `y` is out of range\.",
    ),
    "non_integer_label": (
        {"y": labels_with(2, 0.5)},
        r"`y` must hold integer class ids; sample 2 has the label 0\.5",
    ),
    "soft_labels": (
        {"y": soft_labels()},
        r"One-hot `y` must have exactly one 1 per row .*; row 4 is \[0.5, 0.5, 0.0\]",
    ),
    "one_hot_width": (
        {"y": one_hot(Y), "num_classes": 4},
        r"One-hot `y` has 3 columns, but num_classes=4",
    ),
    "nan": (
        {"x": with_nan(X, (4, 2))},
        r"`x` contains NaN or infinite values in 1 sample\(s\), the first is "
        r"sample 4",
    ),
    "inf": (
        {"x": np.where(np.arange(90)[:, None] == 9, np.inf, X)},
        r"`x` contains NaN or infinite values .* the first is sample 9",
    ),
    "nan_in_dict": (
        {"x": {"a": X, "b": with_nan(X, (1, 1))}},
        r"`x\['b'\]` contains NaN or infinite values",
    ),
    "dict_lengths": (
        {"x": {"a": X, "b": X[:80]}},
        r"Every input of `x` must have the same number of samples. Received: "
        r"x\['a'\] with 90 samples, x\['b'\] with 80",
    ),
    "empty_x": ({"x": X[:0], "y": Y[:0]}, r"`x` must have at least one sample"),
    "string_x": ({"x": X.astype(str)}, r"`x` must hold real numbers"),
    "unknown_sampler": (
        {"sampler": "smoteish"},
        r"Invalid value for argument `sampler`. Expected one of \['smote', "
        r"'borderline_smote', 'svm_smote', 'adasyn', 'kmeans_smote', "
        r"'random_over', 'smote_tomek', 'smote_enn'\] or an imbalanced-learn "
        r"sampler instance .* Received: sampler='smoteish'",
    ),
    "sampler_not_a_sampler": (
        {"sampler": 42},
        r"Invalid value for argument `sampler`.* Received: sampler=42",
    ),
    "kwargs_with_instance": (
        {"sampler": SMOTE(), "k_neighbors": 3},
        r"Sampler keyword arguments are only taken with a sampler name; set "
        r"them on the SMOTE instance instead",
    ),
    "random_state": (
        {"random_state": 0},
        r"Pass `seed`, not `random_state`",
    ),
    "batch_size_zero": (
        {"batch_size": 0},
        r"Invalid value for argument `batch_size`. Expected a positive integer. "
        r"Received: batch_size=0",
    ),
    "batch_size_float": ({"batch_size": 2.5}, r"batch_size=2.5"),
    "batch_size_bool": ({"batch_size": True}, r"batch_size=True"),
    "seed": ({"seed": -1}, r"Invalid value for argument `seed`"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors(case):
    changes, message = ERRORS[case]
    arguments = {"x": X, "y": Y, "batch_size": 16, "seed": 0, **changes}
    with pytest.raises(ValueError, match=message):
        smote_dataset(**arguments)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"k_neighbours": 3}, r"Unknown keyword argument\(s\) \['k_neighbours'\]"),
        ({"sampler": "adasyn", "k_neighbors": 3}, r"Valid ones: \[.*'n_neighbors'"),
        (
            {"x": tf.data.Dataset.from_tensor_slices(X)},
            r"pass NumPy arrays \(or a dict of them\), not a tf.data.Dataset",
        ),
    ],
)
def test_type_errors(arguments, message):
    with pytest.raises(TypeError, match=message):
        smote_dataset(**{"x": X, "y": Y, "batch_size": 16, **arguments})


def test_errors_raised_before_imblearn_runs():
    class Spy(SMOTE):
        calls = 0

        def fit_resample(self, x, y, **params):
            Spy.calls += 1
            return super().fit_resample(x, y, **params)

    with pytest.raises(ValueError, match="class 2 has 3 samples"):
        resample_arrays(X_SMALL, Y_SMALL, sampler=Spy(k_neighbors=5))
    assert Spy.calls == 0
