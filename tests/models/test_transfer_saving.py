"""Weights files, `.keras` files and SavedModel exports of transfer classifiers."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_imbalance.models import transfer
from keras_imbalance.models.transfer import build_transfer_classifier, unfreeze_backbone
from tests.backend_marks import skip_unless_saved_model
from tests.models.transfer_fixtures import C, images, logits_loss, outputs_of


class TestWeightsFile:
    ARGS = dict(backbone="MobileNetV3Small", input_shape=(28, 28, 1), dropout=0.0)

    @pytest.fixture(scope="class")
    def pretrained(self, tmp_path_factory):
        """A classifier trained here (backbone too), and its two weights files.

        One step is enough for its weights, BatchNormalization statistics
        included, to differ from any fresh build's.
        """
        keras.utils.set_random_seed(2)
        model = build_transfer_classifier(C, trainable_backbone=True, **self.ARGS)
        model.compile(
            optimizer=keras.optimizers.SGD(0.01), loss=logits_loss(), run_eagerly=True
        )
        x = images((28, 28, 1), batch=8)
        model.fit(x, np.arange(8) % C, batch_size=8, epochs=1, verbose=0)
        folder = tmp_path_factory.mktemp("weights")
        classifier_file = str(folder / "classifier.weights.h5")
        backbone_file = str(folder / "backbone.weights.h5")
        model.save_weights(classifier_file)
        model.get_layer("backbone").save_weights(backbone_file)
        return model, classifier_file, backbone_file

    def test_classifier_file(self, pretrained):
        source, classifier_file, _ = pretrained
        keras.utils.set_random_seed(3)
        model = build_transfer_classifier(C, weights=classifier_file, **self.ARGS)
        x = images((28, 28, 1), seed=5)
        np.testing.assert_allclose(
            outputs_of(model, x), outputs_of(source, x), atol=1e-6
        )

    def test_backbone_file(self, pretrained):
        source, _, backbone_file = pretrained
        keras.utils.set_random_seed(3)
        model = build_transfer_classifier(C, weights=backbone_file, **self.ARGS)
        for a, b in zip(
            model.get_layer("backbone").get_weights(),
            source.get_layer("backbone").get_weights(),
        ):
            np.testing.assert_array_equal(a, b)
        # The head is new; with the source's head the predictions agree.
        model.get_layer("classifier").set_weights(
            source.get_layer("classifier").get_weights()
        )
        x = images((28, 28, 1), seed=5)
        np.testing.assert_allclose(
            outputs_of(model, x), outputs_of(source, x), atol=1e-6
        )

    def test_backbone_file_under_another_head(self, pretrained):
        source, _, backbone_file = pretrained
        model = build_transfer_classifier(
            7, weights=backbone_file, head="cosine", attention="se", **self.ARGS
        )
        for a, b in zip(
            model.get_layer("backbone").get_weights(),
            source.get_layer("backbone").get_weights(),
        ):
            np.testing.assert_array_equal(a, b)

    def test_mismatched_file(self, pretrained):
        _, classifier_file, _ = pretrained
        match = "(?s)fits neither.*As a classifier: .*As a backbone: "
        with pytest.raises(ValueError, match=match):
            build_transfer_classifier(C + 2, weights=classifier_file, **self.ARGS)

    def test_unrelated_file(self, tmp_path):
        path = str(tmp_path / "other.weights.h5")
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save_weights(path)
        with pytest.raises(ValueError, match="fits neither"):
            build_transfer_classifier(C, weights=path, **self.ARGS)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ValueError, match="Invalid value for argument `weights`"):
            build_transfer_classifier(C, weights=str(tmp_path / "none.weights.h5"))


def check_keras_round_trip(model, x, path):
    """`model` and its `.keras` copy: the same outputs, the same flags."""
    expected = outputs_of(model, x)
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(outputs_of(restored, x), expected, atol=1e-6)
    assert [lay.trainable for lay in restored.get_layer("backbone").layers] == [
        lay.trainable for lay in model.get_layer("backbone").layers
    ]
    return expected


class TestSerialization:
    def test_keras_and_saved_model(self, tmp_path):
        # One model and one export (tracing the backbone is the cost) with
        # every layer to serialize: channel repetition and resizing of a
        # gray-scale input, SE attention, the cosine head, and a partly
        # unfrozen backbone.
        model = build_transfer_classifier(
            C, input_shape=(28, 28, 1), head="cosine", attention="se"
        )
        unfreeze_backbone(model, layers=10)
        x = images((28, 28, 1), seed=4)
        expected = check_keras_round_trip(model, x, str(tmp_path / "model.keras"))

        skip_unless_saved_model()
        export_path = str(tmp_path / "exported")
        model.export(export_path, verbose=False)
        loaded = tf.saved_model.load(export_path)
        np.testing.assert_allclose(
            loaded.serve(tf.constant(x)).numpy(), expected, atol=1e-5
        )

    def test_keras_round_trip_with_the_dense_head(self, tmp_path):
        # The SavedModel of a Dense head adds nothing to the export above.
        model = build_transfer_classifier(C, input_shape=(28, 28, 1))
        unfreeze_backbone(model, layers=10)
        x = images((28, 28, 1), seed=4)
        check_keras_round_trip(model, x, str(tmp_path / "model.keras"))

    def test_caffe_preprocessing_round_trip(self, tmp_path):
        # ReverseChannels + Normalization as in a ResNet50 classifier, without
        # saving a 100 MB backbone.
        inputs = keras.Input((8, 8, 3))
        x = inputs
        for layer in transfer.preprocessing_layers("caffe"):
            x = layer(x)
        model = keras.Model(inputs, x)
        data = images((8, 8, 3))
        expected = keras.applications.resnet50.preprocess_input(data.copy())
        path = str(tmp_path / "caffe.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        np.testing.assert_allclose(
            ops.convert_to_numpy(restored(data)), expected, atol=1e-4
        )
        skip_unless_saved_model()
        export_path = str(tmp_path / "caffe_export")
        model.export(export_path, verbose=False)
        loaded = tf.saved_model.load(export_path)
        np.testing.assert_allclose(
            loaded.serve(tf.constant(data)).numpy(), expected, atol=1e-4
        )
