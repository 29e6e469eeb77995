"""Tests for `keras_imbalance.data.smote`.

The reference is imbalanced-learn itself: with the same `random_state`, every
named sampler must give exactly the arrays of `fit_resample` on the flattened
data. Small data throughout (3 classes of 60/20/10 samples, 8 features).

`feature_space_oversample` is tested in `test_feature_space_oversample.py`, and
the errors of `resample_arrays` and `smote_dataset` in `test_smote_errors.py`.
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

from keras_imbalance.data.smote import resample_arrays, smote_dataset
from tests.data.smote_fixtures import NUM_CLASSES, epoch, make_data, one_hot, rows

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
