import re

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(16, 5)).astype("float32") * 3
LABELS = RNG.integers(0, 5, size=16)
ONE_HOT = np.eye(5, dtype="float32")[LABELS]
PROBS = ref.softmax(LOGITS.astype("float64")).astype("float32")


class TestFocalLoss:
    def test_config(self):
        loss = losses.FocalLoss(gamma=[1.0, 2.0], alpha=[0.5, 2.0], name="f")
        config = loss.get_config()
        assert config["gamma"] == [1.0, 2.0] and config["alpha"] == [0.5, 2.0]
        assert losses.FocalLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
    @pytest.mark.parametrize("alpha", [None, 0.25, [0.1, 0.2, 0.3, 0.4, 2.0]])
    def test_reference(self, gamma, alpha):
        got = losses.focal_loss(LABELS, PROBS, gamma=gamma, alpha=alpha)
        want = ref.focal(ONE_HOT, PROBS.astype("float64"), gamma, alpha)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    def test_per_class_gamma(self):
        gamma = [0.0, 1.0, 2.0, 3.0, 4.0]
        got = losses.focal_loss(LABELS, LOGITS, gamma=gamma, from_logits=True)
        want = ref.focal(ONE_HOT, ref.softmax(LOGITS.astype("float64")), gamma)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("from_logits", [False, True])
    @pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
    @pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.0, 1.0), (3.5, 0.6)])
    def test_equals_keras_categorical_focal(
        self, from_logits, label_smoothing, gamma, alpha
    ):
        y_pred = LOGITS if from_logits else PROBS
        ours = losses.FocalLoss(
            gamma=gamma,
            alpha=alpha,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        keras_loss = keras.losses.CategoricalFocalCrossentropy(
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        np.testing.assert_allclose(
            ours(ONE_HOT, y_pred), keras_loss(ONE_HOT, y_pred), rtol=1e-5
        )
        # ... and, unlike Keras, integer labels give the same number.
        np.testing.assert_allclose(
            ours(LABELS, y_pred), keras_loss(ONE_HOT, y_pred), rtol=1e-5
        )

    @pytest.mark.parametrize("from_logits", [False, True])
    def test_gamma_zero_is_cross_entropy(self, from_logits):
        y_pred = LOGITS if from_logits else PROBS
        ours = losses.FocalLoss(gamma=0.0, from_logits=from_logits)(LABELS, y_pred)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        np.testing.assert_allclose(ours, ce(LABELS, y_pred), rtol=1e-5)

    def test_ignore_class_matches_sparse_cross_entropy(self):
        labels = LABELS.copy()
        labels[:5] = 255
        ours = losses.FocalLoss(gamma=0.0, from_logits=True, ignore_class=255)
        ce = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=255
        )
        np.testing.assert_allclose(ours(labels, LOGITS), ce(labels, LOGITS), rtol=1e-5)
        values = losses.focal_loss(labels, LOGITS, from_logits=True, ignore_class=255)
        assert np.all(np.asarray(values)[:5] == 0)

    @settings(max_examples=25, deadline=None)
    @given(
        gamma=st.floats(0.0, 5.0),
        seed=st.integers(0, 2**16),
        scale=st.floats(0.01, 50.0),
    )
    def test_property_non_negative_and_below_cross_entropy(self, gamma, seed, scale):
        rng = np.random.default_rng(seed)
        logits = (rng.normal(size=(8, 4)) * scale).astype("float32")
        labels = rng.integers(0, 4, size=8)
        fl = np.asarray(
            losses.focal_loss(labels, logits, gamma=gamma, from_logits=True)
        )
        ce = np.asarray(losses.focal_loss(labels, logits, gamma=0.0, from_logits=True))
        assert np.all(np.isfinite(fl)) and np.all(fl >= 0)
        assert np.all(fl <= ce * (1 + 1e-5) + 1e-6)


class TestBinaryFocalLoss:
    Y = (RNG.random(size=(12, 3)) > 0.7).astype("float32")
    Z = RNG.normal(size=(12, 3)).astype("float32") * 2
    P = ref.sigmoid(Z.astype("float64")).astype("float32")

    def test_config(self):
        loss = losses.BinaryFocalLoss(gamma=1.0, alpha=[0.2, 0.5, 0.9])
        assert losses.BinaryFocalLoss.from_config(loss.get_config()).get_config() == (
            loss.get_config()
        )

    @pytest.mark.parametrize("alpha", [None, 0.25, [0.2, 0.5, 0.9]])
    @pytest.mark.parametrize("gamma", [0.0, 2.0])
    def test_reference(self, alpha, gamma):
        got = losses.binary_focal_loss(self.Y, self.P, gamma=gamma, alpha=alpha)
        want = ref.binary_focal(self.Y, self.P.astype("float64"), gamma, alpha)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)

    @pytest.mark.parametrize("from_logits", [False, True])
    @pytest.mark.parametrize("alpha", [None, 0.25, 0.8])
    @pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
    def test_equals_keras_binary_focal(self, from_logits, alpha, label_smoothing):
        y_pred = self.Z if from_logits else self.P
        ours = losses.BinaryFocalLoss(
            gamma=2.0,
            alpha=alpha,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        keras_loss = keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=alpha is not None,
            alpha=0.25 if alpha is None else alpha,
            gamma=2.0,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        np.testing.assert_allclose(
            ours(self.Y, y_pred), keras_loss(self.Y, y_pred), rtol=1e-5
        )

    def test_gamma_zero_is_binary_cross_entropy(self):
        ours = losses.BinaryFocalLoss(gamma=0.0, from_logits=True)(self.Y, self.Z)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)(self.Y, self.Z)
        np.testing.assert_allclose(ours, bce, rtol=1e-5)

    def test_binary_labels_without_last_axis(self):
        y = self.Y[:, :1]
        a = losses.binary_focal_loss(y[:, 0], self.P[:, :1])
        b = losses.binary_focal_loss(y, self.P[:, :1])
        np.testing.assert_allclose(a, b)


class TestSigmoidFocalCrossEntropy:
    def test_tfa_documentation_example(self):
        fl = losses.SigmoidFocalCrossEntropy(reduction="none")
        got = fl([[1.0], [1.0], [0.0]], [[0.97], [0.91], [0.03]])
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(got),
            [6.8532745e-06, 1.9097870e-04, 2.0559824e-05],
            rtol=1e-6,
        )

    def test_tfa_defaults(self):
        fl = losses.SigmoidFocalCrossEntropy(reduction="none")
        assert (fl.alpha, fl.gamma, fl.from_logits) == (0.25, 2.0, False)
        assert fl.name == "sigmoid_focal_crossentropy"

    def test_default_reduction_is_tfa_on_tensorflow_and_an_error_elsewhere(self):
        backend = keras.backend.backend()
        if backend == "tensorflow":
            fl = losses.SigmoidFocalCrossEntropy()
            assert fl.reduction == "none"
            assert fl.get_config()["reduction"] == "none"
            return
        message = (
            "SigmoidFocalCrossEntropy keeps TF-Addons' per-sample default "
            "(reduction=None, one loss per sample) on the TensorFlow backend "
            f"only: model.fit on the {backend} backend needs a scalar loss. Pass "
            'reduction="sum_over_batch_size" to train with it'
        )
        with pytest.raises(ValueError, match="^" + re.escape(message)):
            losses.SigmoidFocalCrossEntropy(from_logits=True)
        # Explicit reductions, and configs saved with one, work everywhere.
        for reduction in ("none", "sum_over_batch_size"):
            fl = losses.SigmoidFocalCrossEntropy(reduction=reduction)
            clone = losses.SigmoidFocalCrossEntropy.from_config(fl.get_config())
            assert clone.reduction == reduction

    def test_sums_over_last_axis_and_logits(self):
        y = TestBinaryFocalLoss.Y
        z = TestBinaryFocalLoss.Z
        got = losses.sigmoid_focal_crossentropy(y, z, from_logits=True)
        want = ref.binary_focal(y, ref.sigmoid(z.astype("float64")), 2.0, 0.25) * 3
        np.testing.assert_allclose(got, want, rtol=1e-4)

    def test_falsy_alpha_and_gamma_turn_factors_off(self):
        y = TestBinaryFocalLoss.Y
        z = TestBinaryFocalLoss.Z
        got = losses.SigmoidFocalCrossEntropy(
            from_logits=True, alpha=None, gamma=0.0, reduction="sum_over_batch_size"
        )(y, z)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)(y, z) * 3
        np.testing.assert_allclose(got, bce, rtol=1e-5)
