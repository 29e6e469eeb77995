"""Tests for `keras_imbalance.data.augmentation`.

The augmentation probability of class `c` is
`p_c = max_probability * (1 - n_c / n_max) ** power` (class-aware
augmentation, Shorten & Khoshgoftaar 2019); empirical frequencies are checked
against it with a binomial tolerance of 4 standard deviations.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.data.augmentation import (
    augment_minority,
    default_image_augmenter,
)


def labels_for(counts):
    """Class ids with the given counts, interleaved (not sorted by class)."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(0).permutation(labels)


def vector_dataset(counts):
    """Unbatched `(x, y)`: `x = [index, index]`, `y` the class id."""
    labels = labels_for(counts)
    index = np.arange(labels.size, dtype="float32")
    x = np.stack([index, index], axis=1)
    return tf.data.Dataset.from_tensor_slices((x, labels)), x, labels


def plus_quarter(x):
    """An augmenter that always changes its input, by a known amount."""
    return x + 0.25


def collect(dataset, batched=False):
    """Stack every element of a dataset (concatenate batches), per component."""
    parts = list(zip(*dataset.as_numpy_iterator()))
    join = np.concatenate if batched else np.stack
    return [join(p) for p in parts]


def expected_probabilities(counts, power, max_probability):
    counts = np.asarray(counts, dtype="float64")
    return max_probability * (1.0 - counts / counts.max()) ** power


def assert_binomial(frequency, p, n):
    tolerance = 4.0 * np.sqrt(p * (1.0 - p) / n) + 1e-9
    assert abs(frequency - p) <= tolerance, (frequency, p, n)


class TestDefaultImageAugmenter:
    def test_layers(self):
        names = [type(layer).__name__ for layer in default_image_augmenter().layers]
        assert names == ["RandomRotation", "RandomZoom", "RandomFlip"]
        only = default_image_augmenter(zoom=0.0, flip=None)
        assert [type(layer).__name__ for layer in only.layers] == ["RandomRotation"]

    @pytest.mark.parametrize(
        "flip", ["horizontal", "vertical", "horizontal_and_vertical"]
    )
    def test_flip_modes(self, flip):
        augmenter = default_image_augmenter(rotation=0.0, zoom=0.0, flip=flip)
        assert augmenter.layers[0].mode == flip

    def test_shape_and_seed(self):
        images = np.random.default_rng(1).random((4, 8, 8, 3)).astype("float32")
        first = default_image_augmenter(seed=3)(images)
        second = default_image_augmenter(seed=3)(images)
        assert tuple(first.shape) == (4, 8, 8, 3)
        np.testing.assert_array_equal(np.asarray(first), np.asarray(second))
        assert not np.array_equal(np.asarray(first), images)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"rotation": -0.1}, "rotation"),
            ({"rotation": 1.5}, "rotation"),
            ({"zoom": 1.0}, "zoom"),
            ({"flip": "diagonal"}, "flip"),
            ({"seed": "a"}, "seed"),
        ],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=f"Invalid value for argument `{match}`"):
            default_image_augmenter(**kwargs)


class TestAugmentMinority:
    @pytest.mark.slow
    def test_head_bit_identical_tail_changed_images(self):
        counts = [300, 60, 10]
        labels = labels_for(counts)
        rng = np.random.default_rng(2)
        images = rng.integers(0, 256, (labels.size, 6, 6, 3)).astype("uint8")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        # 255 - x changes every uint8 pixel: a sample changes iff augmented.
        flip_values = keras.layers.Rescaling(-1.0, offset=255.0)
        out = augment_minority(dataset, flip_values, class_counts=counts, seed=0)
        assert out.element_spec[0] == tf.TensorSpec((6, 6, 3), tf.uint8)
        x, y = collect(out)
        np.testing.assert_array_equal(y, labels)
        head = labels == 0
        np.testing.assert_array_equal(x[head], images[head])
        changed = np.any(x != images, axis=(1, 2, 3))
        augmented = np.all(x == 255 - images, axis=(1, 2, 3))
        np.testing.assert_array_equal(changed, augmented)
        # p = [0, 0.8, 0.967]: the rarest class is augmented almost always.
        assert changed[labels == 2].mean() >= 0.8
        assert 0.5 <= changed[labels == 1].mean() < 1.0

    def test_default_augmenter_keeps_head_and_dtype(self):
        counts = [40, 8]
        labels = labels_for(counts)
        images = np.random.default_rng(3).integers(0, 256, (48, 8, 8, 3))
        images = images.astype("uint8")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        out = augment_minority(
            dataset, default_image_augmenter(seed=1), class_counts=counts, seed=1
        )
        x, _ = collect(out)
        assert x.dtype == np.uint8 and x.shape == images.shape
        np.testing.assert_array_equal(x[labels == 0], images[labels == 0])
        assert np.any(x[labels == 1] != images[labels == 1])

    @pytest.mark.parametrize(
        "power, max_probability",
        [(1.0, 1.0), (2.0, 0.8), (0.5, 0.5), (0.0, 0.6)],
    )
    def test_frequency_matches_probability(self, power, max_probability):
        counts = [1000, 500, 250, 100]
        dataset, x, labels = vector_dataset(counts)
        out = augment_minority(
            dataset,
            plus_quarter,
            class_counts=counts,
            power=power,
            max_probability=max_probability,
            seed=5,
        )
        augmented = collect(out)[0][:, 0] != x[:, 0]
        expected = expected_probabilities(counts, power, max_probability)
        for c, n in enumerate(counts):
            assert_binomial(augmented[labels == c].mean(), expected[c], n)
        if power > 0:
            assert not augmented[labels == 0].any()

    def test_order_kept_and_only_augmenter_applied(self):
        counts = [30, 10, 5]
        dataset, x, labels = vector_dataset(counts)
        out = augment_minority(dataset, plus_quarter, class_counts=counts, seed=0)
        # The length survives the internal batching, so `fit` knows its epoch.
        assert int(out.cardinality()) == labels.size
        x_out, y_out = collect(out)
        np.testing.assert_array_equal(y_out, labels)
        np.testing.assert_array_equal(np.floor(x_out), x)
        assert set(np.unique(x_out - x)) <= {0.0, 0.25}

    def test_batched_input(self):
        counts = [200, 50, 20]
        dataset, x, labels = vector_dataset(counts)
        batched = dataset.batch(16)
        out = augment_minority(batched, plus_quarter, class_counts=counts, seed=0)
        assert out.element_spec == batched.element_spec
        sizes = [int(b[1].shape[0]) for b in out]
        assert sizes == [int(b[1].shape[0]) for b in batched]
        x_out, y_out = collect(out, batched=True)
        np.testing.assert_array_equal(y_out, labels)
        augmented = x_out[:, 0] != x[:, 0]
        assert not augmented[labels == 0].any()
        expected = expected_probabilities(counts, 1.0, 1.0)
        for c in (1, 2):
            assert_binomial(augmented[labels == c].mean(), expected[c], counts[c])

    @pytest.mark.parametrize("batched", [False, True])
    def test_one_hot_labels_and_sample_weight(self, batched):
        counts = [40, 10]
        labels = labels_for(counts)
        one_hot = np.eye(2, dtype="float32")[labels]
        weights = np.linspace(0.5, 1.5, labels.size).astype("float32")
        x = np.zeros((labels.size, 3), "float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, one_hot, weights))
        if batched:
            dataset = dataset.batch(8)
        out = augment_minority(dataset, plus_quarter, class_counts=counts, seed=0)
        assert out.element_spec == dataset.element_spec
        x_out, y_out, w_out = collect(out, batched)
        np.testing.assert_array_equal(y_out, one_hot)
        np.testing.assert_array_equal(w_out, weights)
        np.testing.assert_array_equal(x_out[labels == 0], 0.0)
        assert np.any(x_out[labels == 1] != 0.0)

    def test_labels_of_shape_one(self):
        counts = [20, 4]
        labels = labels_for(counts)[:, None]
        x = np.zeros((24, 2), "float32")
        dataset = tf.data.Dataset.from_tensor_slices((x, labels))
        x_out, y_out = collect(
            augment_minority(dataset, plus_quarter, class_counts=counts, seed=0)
        )
        assert y_out.shape == (24, 1)
        np.testing.assert_array_equal(x_out[labels[:, 0] == 0], 0.0)

    @pytest.mark.slow
    def test_same_seed_same_output(self):
        counts = [100, 30, 10]
        dataset, _, _ = vector_dataset(counts)

        def run(seed):
            out = augment_minority(
                dataset, plus_quarter, class_counts=counts, seed=seed
            )
            return collect(out)[0]

        np.testing.assert_array_equal(run(7), run(7))
        assert not np.array_equal(run(7), run(8))

    def test_epochs_draw_anew(self):
        counts = [100, 30, 10]
        dataset, _, _ = vector_dataset(counts)
        out = augment_minority(dataset, plus_quarter, class_counts=counts, seed=7)
        assert not np.array_equal(collect(out)[0], collect(out)[0])

    def test_infinite_dataset(self):
        dataset, _, labels = vector_dataset([10, 2])
        out = augment_minority(
            dataset.repeat(), plus_quarter, class_counts=[10, 2], seed=0
        )
        assert out.cardinality() == tf.data.INFINITE_CARDINALITY
        assert len(list(out.take(3 * labels.size))) == 3 * labels.size

    def test_variable_shapes(self):
        dataset = tf.data.Dataset.range(12).map(
            lambda i: (tf.zeros(tf.stack([i % 3 + 1, 2])), i % 2)
        )
        out = augment_minority(dataset, plus_quarter, class_counts=[6, 1], seed=0)
        elements = list(out.as_numpy_iterator())
        assert [e[0].shape[0] for e in elements] == [i % 3 + 1 for i in range(12)]
        assert all(np.all(e[0] == 0.0) for e in elements if e[1] == 0)
        assert any(np.any(e[0] != 0.0) for e in elements if e[1] == 1)

    def test_dict_inputs_dict_augmenter(self):
        counts = [30, 6]
        labels = labels_for(counts)
        rng = np.random.default_rng(4)
        image = rng.integers(0, 256, (36, 6, 6, 1)).astype("uint8")
        meta = rng.random((36, 3)).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices(
            ({"image": image, "meta": meta}, labels)
        )
        invert = keras.layers.Rescaling(-1.0, offset=255.0)
        out = augment_minority(dataset, {"image": invert}, class_counts=counts, seed=0)
        elements = list(out.as_numpy_iterator())
        image_out = np.stack([e[0]["image"] for e in elements])
        meta_out = np.stack([e[0]["meta"] for e in elements])
        np.testing.assert_array_equal(meta_out, meta)
        np.testing.assert_array_equal(image_out[labels == 0], image[labels == 0])
        assert np.any(image_out[labels == 1] != image[labels == 1])

    @pytest.mark.slow
    def test_fit_images(self):
        counts = [24, 8]
        labels = labels_for(counts)
        images = np.random.default_rng(5).random((32, 8, 8, 3)).astype("float32")
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        train = augment_minority(
            dataset, default_image_augmenter(seed=0), class_counts=counts, seed=0
        ).batch(8)
        model = keras.Sequential(
            [
                keras.Input((8, 8, 3)),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(2),
            ]
        )
        model.compile(
            "sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        history = model.fit(train, epochs=2, verbose=0, shuffle=False)
        assert np.all(np.isfinite(history.history["loss"]))

    def test_fit_dict_inputs(self):
        counts = [24, 8]
        labels = labels_for(counts)
        rng = np.random.default_rng(6)
        x = {
            "image": rng.random((32, 8, 8, 3)).astype("float32"),
            "meta": rng.random((32, 3)).astype("float32"),
        }
        dataset = tf.data.Dataset.from_tensor_slices((x, labels)).batch(8)
        train = augment_minority(
            dataset,
            {"image": default_image_augmenter(seed=0)},
            class_counts=counts,
            seed=0,
        )
        image = keras.Input((8, 8, 3), name="image")
        meta = keras.Input((3,), name="meta")
        features = keras.layers.Concatenate()(
            [keras.layers.GlobalAveragePooling2D()(image), meta]
        )
        model = keras.Model(
            {"image": image, "meta": meta}, keras.layers.Dense(2)(features)
        )
        model.compile(
            "sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
        history = model.fit(train, epochs=1, verbose=0, shuffle=False)
        assert np.isfinite(history.history["loss"][0])

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"power": -1.0}, "Invalid value for argument `power`"),
            ({"max_probability": 1.5}, "Invalid value for argument `max_probability`"),
            ({"max_probability": -0.1}, "Invalid value for argument `max_probability`"),
            ({"seed": 1.5}, "Invalid value for argument `seed`"),
            ({"class_counts": [-1, 3]}, "Invalid value for argument `class_counts`"),
            ({"class_counts": []}, "Invalid value for argument `class_counts`"),
        ],
    )
    def test_argument_errors(self, kwargs, match):
        dataset, _, _ = vector_dataset([4, 2])
        kwargs = {"class_counts": [4, 2], **kwargs}
        with pytest.raises(ValueError, match=match):
            augment_minority(dataset, plus_quarter, **kwargs)

    def test_class_counts_length_mismatch(self):
        one_hot = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
        dataset = tf.data.Dataset.from_tensor_slices((np.zeros((4, 2)), one_hot))
        with pytest.raises(ValueError, match="`class_counts` has 2 entries"):
            augment_minority(dataset.batch(2), plus_quarter, class_counts=[3, 1])
        with pytest.raises(ValueError, match="`class_counts` has 2 entries"):
            augment_minority(dataset, plus_quarter, class_counts=[3, 1])

    def test_label_out_of_range(self):
        dataset = tf.data.Dataset.from_tensor_slices((np.zeros((3, 2)), [0, 1, 5]))
        out = augment_minority(dataset, plus_quarter, class_counts=[2, 1])
        with pytest.raises(tf.errors.InvalidArgumentError, match="class ids"):
            list(out)

    def test_bad_dataset_and_augmenter(self):
        dataset, _, _ = vector_dataset([4, 2])
        with pytest.raises(TypeError, match="tf.data.Dataset"):
            augment_minority(np.zeros(3), plus_quarter, class_counts=[4, 2])
        with pytest.raises(TypeError, match="callable"):
            augment_minority(dataset, "flip", class_counts=[4, 2])
        with pytest.raises(ValueError, match="dict"):
            augment_minority(dataset, {"image": plus_quarter}, class_counts=[4, 2])
        x_only = tf.data.Dataset.from_tensor_slices(np.zeros((3, 2)))
        with pytest.raises(ValueError, match=r"\(x, y\)"):
            augment_minority(x_only, plus_quarter, class_counts=[4, 2])
        with pytest.raises(ValueError, match="keep the shape"):
            augment_minority(dataset, lambda t: t[:, :1], class_counts=[4, 2])

    def test_unknown_dict_augmenter_key(self):
        x = {"image": np.zeros((4, 2, 2, 1)), "meta": np.zeros((4, 2))}
        dataset = tf.data.Dataset.from_tensor_slices((x, [0, 0, 0, 1]))
        with pytest.raises(ValueError, match="`augmenter`"):
            augment_minority(dataset, {"img": plus_quarter}, class_counts=[3, 1])
