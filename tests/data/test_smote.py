"""Tests for `keras_imbalance.data.smote`.

The reference is imbalanced-learn itself: with the same `random_state`, every
named sampler must give exactly the arrays of `fit_resample` on the flattened
data. Small data throughout (3 classes of 60/20/10 samples, 8 features).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.combine import SMOTEENN, SMOTETomek
from imblearn.over_sampling import (
    ADASYN,
    SMOTE,
    SVMSMOTE,
    BorderlineSMOTE,
    KMeansSMOTE,
    RandomOverSampler,
)
from sklearn.neighbors import NearestNeighbors

from keras_imbalance.data.smote import (
    feature_space_oversample,
    resample_arrays,
    smote_dataset,
)

COUNTS = (60, 20, 10)
NUM_CLASSES = 3

# name -> (imblearn class, extra arguments). KMeansSMOTE's default of 8
# MiniBatchKMeans clusters on 90 samples leaves no cluster with enough of the
# 10-sample class ("No clusters found ..."), so it gets 2 clusters and a low
# cluster_balance_threshold.
SAMPLERS = {
    "smote": (SMOTE, {}),
    "borderline_smote": (BorderlineSMOTE, {}),
    "svm_smote": (SVMSMOTE, {}),
    "adasyn": (ADASYN, {}),
    "kmeans_smote": (
        KMeansSMOTE,
        {"kmeans_estimator": 2, "cluster_balance_threshold": 0.1},
    ),
    "random_over": (RandomOverSampler, {}),
    "smote_tomek": (SMOTETomek, {}),
    "smote_enn": (SMOTEENN, {}),
}


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


class TestResampleArrays:
    @pytest.mark.parametrize("name", list(SAMPLERS))
    def test_matches_imblearn(self, name):
        cls, extra = SAMPLERS[name]
        x, y = make_data()
        x_res, y_res = resample_arrays(x, y, sampler=name, seed=0, **extra)
        x_ref, y_ref = cls(random_state=0, **extra).fit_resample(x, y)
        np.testing.assert_array_equal(
            np.bincount(y_res, minlength=3), np.bincount(y_ref, minlength=3)
        )
        np.testing.assert_array_equal(x_res, x_ref)
        np.testing.assert_array_equal(y_res, y_ref)
        assert x_res.dtype == x.dtype and y_res.dtype == y.dtype

    def test_smote_seeded_arrays_identical_to_imblearn(self):
        x, y = make_data()
        x_res, y_res = resample_arrays(x, y, seed=7, k_neighbors=3)
        x_ref, y_ref = SMOTE(random_state=7, k_neighbors=3).fit_resample(x, y)
        np.testing.assert_array_equal(x_res, x_ref)
        np.testing.assert_array_equal(y_res, y_ref)
        np.testing.assert_array_equal(np.bincount(y_res), [60, 60, 60])
        # The originals come first, unchanged.
        np.testing.assert_array_equal(x_res[: y.size], x)
        # Same seed, same result; another seed, other synthetic samples.
        again, _ = resample_arrays(x, y, seed=7, k_neighbors=3)
        other, _ = resample_arrays(x, y, seed=8, k_neighbors=3)
        np.testing.assert_array_equal(again, x_res)
        assert not np.array_equal(other, x_res)

    def test_sampler_instance(self):
        x, y = make_data()
        sampler = BorderlineSMOTE(k_neighbors=3, kind="borderline-2", random_state=3)
        x_res, y_res = resample_arrays(x, y, sampler=sampler)
        reference = BorderlineSMOTE(k_neighbors=3, kind="borderline-2", random_state=3)
        x_ref, y_ref = reference.fit_resample(x, y)
        np.testing.assert_array_equal(x_res, x_ref)
        np.testing.assert_array_equal(y_res, y_ref)

    def test_sampling_strategy_words(self):
        x, y = make_data()
        _, y_res = resample_arrays(x, y, seed=0, sampling_strategy="minority")
        np.testing.assert_array_equal(np.bincount(y_res), [60, 20, 60])
        _, y_res = resample_arrays(x, y, seed=0, sampling_strategy={1: 30, 2: 40})
        np.testing.assert_array_equal(np.bincount(y_res), [60, 30, 40])

    @pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
    def test_float_images_keep_shape_and_dtype(self, dtype):
        x, y = make_data(shape=(8, 8, 1), dtype=dtype)
        x_res, y_res = resample_arrays(x, y, seed=0)
        assert x_res.shape == (180, 8, 8, 1)
        assert x_res.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(x_res[:90], x)
        work = "float32" if dtype == "float16" else dtype
        x_ref, _ = SMOTE(random_state=0).fit_resample(x.reshape(90, -1).astype(work), y)
        np.testing.assert_array_equal(x_res.reshape(180, -1), x_ref.astype(dtype))
        np.testing.assert_array_equal(np.bincount(y_res), [60, 60, 60])

    def test_uint8_images_are_rounded_and_clipped(self):
        rng = np.random.default_rng(1)
        _, y = make_data()
        x = rng.integers(0, 256, size=(90, 8, 8, 1), dtype="uint8")
        x[y == 2, 0, 0, 0] = 255  # interpolating between 255s stays 255
        x_res, y_res = resample_arrays(x, y, seed=0)
        assert x_res.shape == (180, 8, 8, 1)
        assert x_res.dtype == np.uint8
        np.testing.assert_array_equal(x_res[:90], x)
        # imblearn on the pixels as float32, rounded (it would truncate uint8).
        x_ref, _ = SMOTE(random_state=0).fit_resample(
            x.reshape(90, -1).astype("float32"), y
        )
        expected = np.clip(np.rint(x_ref), 0, 255).astype("uint8")
        np.testing.assert_array_equal(x_res.reshape(180, -1), expected)
        assert np.all(x_res[y_res == 2, 0, 0, 0] == 255)
        # Rounding, not truncation: some synthetic pixel differs from floor().
        assert np.any(expected[90:] != np.floor(x_ref[90:]).astype("uint8"))

    @pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "bool"])
    def test_integer_inputs_keep_dtype(self, dtype):
        x, y = make_data(shape=(6, 2))
        x = (x * 40).astype(dtype) if dtype != "bool" else x > 0.5
        x_res, y_res = resample_arrays(x, y, seed=0)
        assert x_res.shape == (180, 6, 2) and x_res.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(x_res[:90], x)
        # Interpolation stays between the class's own values.
        for c in range(NUM_CLASSES):
            own = x[y == c].astype("int64")
            new = x_res[y_res == c].astype("int64")
            assert own.min() <= new.min() and new.max() <= own.max()

    @pytest.mark.parametrize("dtype", ["float32", "int64", "uint8"])
    def test_one_hot_round_trip(self, dtype):
        x, y = make_data()
        y_hot = one_hot(y, dtype=dtype)
        x_res, y_res = resample_arrays(x, y_hot, seed=0)
        x_ref, y_ref = SMOTE(random_state=0).fit_resample(x, y)
        assert y_res.shape == (180, 3) and y_res.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(y_res, one_hot(y_ref, dtype=dtype))
        np.testing.assert_array_equal(x_res, x_ref)

    def test_integer_label_form_kept(self):
        x, y = make_data()
        _, y_res = resample_arrays(x, y.astype("int32").reshape(-1, 1), seed=0)
        assert y_res.shape == (180, 1) and y_res.dtype == np.int32
        _, y_res = resample_arrays(x, y.astype("float32"), seed=0)
        assert y_res.dtype == np.float32
        np.testing.assert_array_equal(np.bincount(y_res.astype(int)), [60, 60, 60])

    def test_tensor_inputs(self):
        x, y = make_data()
        x_res, y_res = resample_arrays(tf.constant(x), tf.constant(y), seed=0)
        x_ref, y_ref = SMOTE(random_state=0).fit_resample(x, y)
        np.testing.assert_array_equal(x_res, x_ref)
        np.testing.assert_array_equal(y_res, y_ref)

    def test_dict_inputs_resampled_jointly(self):
        x, y = make_data(shape=(4, 4, 1))
        meta, _ = make_data(shape=(3,), seed=1)
        inputs = {"image": x, "meta": meta.astype("float64")}
        x_res, y_res = resample_arrays(inputs, y, seed=0)
        assert set(x_res) == {"image", "meta"}
        assert x_res["image"].shape == (180, 4, 4, 1)
        assert x_res["image"].dtype == np.float32
        assert x_res["meta"].shape == (180, 3) and x_res["meta"].dtype == np.float64
        joint = np.hstack([x.reshape(90, -1).astype("float64"), meta])
        x_ref, y_ref = SMOTE(random_state=0).fit_resample(joint, y)
        np.testing.assert_array_equal(y_res, y_ref)
        np.testing.assert_array_equal(x_res["meta"], x_ref[:, 16:])
        np.testing.assert_array_equal(
            x_res["image"].reshape(180, -1), x_ref[:, :16].astype("float32")
        )

    def test_small_class_that_is_not_oversampled_is_fine(self):
        x, y = make_data(counts=(60, 3, 20))
        # Class 1 (3 samples) is left alone: no neighbourhood needed for it.
        _, y_res = resample_arrays(x, y, seed=0, sampling_strategy={2: 40})
        np.testing.assert_array_equal(np.bincount(y_res), [60, 3, 40])
        # Random over-sampling needs no neighbours at all.
        _, y_res = resample_arrays(x, y, sampler="random_over", seed=0)
        np.testing.assert_array_equal(np.bincount(y_res), [60, 60, 60])

    @settings(max_examples=20, deadline=None)
    @given(
        counts=st.lists(st.integers(2, 30), min_size=2, max_size=4),
        name=st.sampled_from(["smote", "random_over"]),
        seed=st.integers(0, 2**31 - 1),
    )
    def test_property_balanced_and_originals_kept(self, counts, name, seed):
        x, y = make_data(counts=tuple(counts), shape=(3,), seed=seed % 1000)
        kwargs = {"k_neighbors": min(counts) - 1} if name == "smote" else {}
        x_res, y_res = resample_arrays(x, y, sampler=name, seed=seed, **kwargs)
        assert np.all(np.bincount(y_res) == max(counts))
        np.testing.assert_array_equal(x_res[: y.size], x)
        np.testing.assert_array_equal(y_res[: y.size], y)
        assert np.all(np.isfinite(x_res))


class TestSmoteDataset:
    def test_batches_and_counts(self):
        x, y = make_data(shape=(8, 8, 1))
        dataset = smote_dataset(x, y, batch_size=32, seed=0)
        assert dataset.element_spec[0].shape.as_list() == [None, 8, 8, 1]
        assert dataset.element_spec[0].dtype == tf.float32
        assert int(dataset.cardinality()) == 6  # ceil(180 / 32)
        sizes = [int(b.shape[0]) for _, b in dataset]
        assert sizes == [32] * 5 + [20]
        x_all, y_all = epoch(dataset)
        np.testing.assert_array_equal(np.bincount(y_all), [60, 60, 60])
        x_ref, _ = resample_arrays(x, y, seed=0)
        assert rows(x_all) == rows(x_ref)

    @pytest.mark.parametrize("name", list(SAMPLERS))
    def test_counts_match_imblearn(self, name):
        cls, extra = SAMPLERS[name]
        x, y = make_data()
        _, y_all = epoch(
            smote_dataset(x, y, sampler=name, batch_size=64, seed=0, **extra)
        )
        _, y_ref = cls(random_state=0, **extra).fit_resample(x, y)
        np.testing.assert_array_equal(
            np.bincount(y_all, minlength=3), np.bincount(y_ref, minlength=3)
        )

    def test_uint8_images_and_one_hot(self):
        rng = np.random.default_rng(0)
        _, y = make_data()
        x = rng.integers(0, 256, size=(90, 8, 8, 1), dtype="uint8")
        dataset = smote_dataset(x, one_hot(y), batch_size=16, seed=0)
        assert dataset.element_spec[0].dtype == tf.uint8
        assert dataset.element_spec[1].shape.as_list() == [None, 3]
        x_all, y_all = epoch(dataset)
        assert x_all.shape == (180, 8, 8, 1) and x_all.dtype == np.uint8
        np.testing.assert_array_equal(y_all.sum(axis=0), [60, 60, 60])

    def test_shuffled_and_seeded(self):
        x, y = make_data()
        first = epoch(smote_dataset(x, y, batch_size=16, seed=1))
        same = epoch(smote_dataset(x, y, batch_size=16, seed=1))
        np.testing.assert_array_equal(first[0], same[0])
        np.testing.assert_array_equal(first[1], same[1])
        other = epoch(smote_dataset(x, y, batch_size=16, seed=2))
        assert not np.array_equal(first[1], other[1])
        # Shuffled: not imblearn's order (originals first, then synthetic).
        _, y_ref = resample_arrays(x, y, seed=1)
        assert not np.array_equal(first[1], y_ref)
        # Reshuffled every epoch.
        dataset = smote_dataset(x, y, batch_size=16, seed=1)
        epoch_1, epoch_2 = epoch(dataset), epoch(dataset)
        assert not np.array_equal(epoch_1[1], epoch_2[1])
        assert rows(epoch_1[0]) == rows(epoch_2[0])

    @pytest.mark.parametrize("labels", ["sparse", "one_hot"])
    def test_fit_without_steps_per_epoch(self, labels):
        x, y = make_data(shape=(8, 8, 1))
        if labels == "one_hot":
            y, loss = one_hot(y), keras.losses.CategoricalCrossentropy(from_logits=True)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        dataset = smote_dataset(x, y, batch_size=32, seed=0)
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(NUM_CLASSES),
            ]
        )
        model.compile(optimizer="adam", loss=loss)
        history = model.fit(dataset, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2
        assert np.all(np.isfinite(history.history["loss"]))

    def test_fit_multi_input_dict(self):
        x, y = make_data(shape=(4, 4, 1))
        meta, _ = make_data(shape=(3,), seed=1)
        dataset = smote_dataset({"image": x, "meta": meta}, y, batch_size=32, seed=0)
        image_in = keras.Input((4, 4, 1), name="image")
        meta_in = keras.Input((3,), name="meta")
        merged = keras.layers.Concatenate()([keras.layers.Flatten()(image_in), meta_in])
        model = keras.Model(
            {"image": image_in, "meta": meta_in}, keras.layers.Dense(3)(merged)
        )
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        history = model.fit(dataset, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def feature_model(width=16):
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(width, activation="relu", name="features")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(hidden))
    return model, keras.Model(model.input, model.get_layer("features").output)


class TestFeatureSpaceOversample:
    @pytest.mark.parametrize("width", [5, 16])
    def test_encoder_width_and_balanced_counts(self, width):
        x, y = make_data()
        _, encoder = feature_model(width)
        dataset = feature_space_oversample(encoder, x, y, batch_size=32, seed=0)
        assert dataset.element_spec[0].shape.as_list() == [None, width]
        assert dataset.element_spec[0].dtype == tf.float32
        features, labels = epoch(dataset)
        assert features.shape == (180, width)
        np.testing.assert_array_equal(np.bincount(labels), [60, 60, 60])
        # The encoded originals are all there, and the same as imblearn's.
        encoded = encoder.predict(x, batch_size=32, verbose=0)
        assert rows(encoded) <= rows(features)
        x_ref, _ = SMOTE(random_state=0).fit_resample(encoded, y)
        assert rows(features) == rows(x_ref)

    @pytest.mark.slow
    def test_decoupled_head_retraining(self):
        x, y = make_data()
        model, encoder = feature_model()
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        dataset = feature_space_oversample(
            encoder, x, y, sampler="borderline_smote", batch_size=32, seed=0
        )
        head = keras.layers.Dense(NUM_CLASSES)
        head_model = keras.Sequential([keras.Input((16,)), head])
        head_model.compile(optimizer="adam", loss=loss)
        head_model.fit(dataset, epochs=1, verbose=0)
        stitched = keras.Model(model.input, head(encoder.output))
        np.testing.assert_allclose(
            stitched.predict(x, verbose=0),
            head_model.predict(encoder.predict(x, verbose=0), verbose=0),
            rtol=1e-5,
            atol=1e-5,
        )

    def test_one_hot_labels_and_dict_inputs(self):
        x, y = make_data(shape=(4,))
        meta, _ = make_data(shape=(2,), seed=1)
        a, b = keras.Input((4,), name="a"), keras.Input((2,), name="b")
        features = keras.layers.Dense(6)(keras.layers.Concatenate()([a, b]))
        encoder = keras.Model({"a": a, "b": b}, features)
        dataset = feature_space_oversample(
            encoder, {"a": x, "b": meta}, one_hot(y), batch_size=32, seed=0
        )
        features, labels = epoch(dataset)
        assert features.shape == (180, 6)
        np.testing.assert_array_equal(labels.sum(axis=0), [60, 60, 60])

    def test_encoder_of_strings(self):
        # Only SMOTE's input must be numeric: here the encoder's are strings.
        words = np.array(["red", "green", "blue", "cyan"])
        _, y = make_data(counts=(30, 10, 6))
        rng = np.random.default_rng(0)
        text = np.array([" ".join(rng.choice(words, 3)) for _ in y], dtype=object)
        inputs = keras.Input((), dtype="string")
        counts = keras.layers.TextVectorization(
            output_mode="count", vocabulary=list(words)
        )(inputs)
        encoder = keras.Model(inputs, keras.layers.Dense(4)(counts))
        dataset = feature_space_oversample(
            encoder, text, y, batch_size=8, seed=0, k_neighbors=3
        )
        features, labels = epoch(dataset)
        assert features.shape == (90, 4)
        np.testing.assert_array_equal(np.bincount(labels), [30, 30, 30])

    def test_encoder_must_output_2d(self):
        x, y = make_data(shape=(4, 4, 1))
        inputs = keras.Input((4, 4, 1))
        encoder = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
        with pytest.raises(ValueError, match=r"must output \(N, D\) features"):
            feature_space_oversample(encoder, x, y, batch_size=32)

    def test_encoder_must_be_a_model(self):
        x, y = make_data()
        with pytest.raises(TypeError, match="`encoder` must be a keras.Model"):
            feature_space_oversample(lambda v: v, x, y, batch_size=32)

    def test_x_checked_before_encoding(self):
        x, y = make_data()
        x[5, 0] = np.nan
        _, encoder = feature_model()
        with pytest.raises(ValueError, match="NaN or infinite values"):
            feature_space_oversample(encoder, x, y, batch_size=32)


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
