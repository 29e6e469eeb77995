"""`feature_space_oversample`: SMOTE on the features of an encoder, for a new head."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from imblearn.over_sampling import SMOTE

from keras_imbalance.data.smote import feature_space_oversample
from tests.data.smote_fixtures import NUM_CLASSES, epoch, make_data, one_hot, rows


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
