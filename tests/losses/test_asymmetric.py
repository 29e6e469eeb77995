import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(5)
Y = (RNG.random(size=(16, 6)) > 0.8).astype("float32")
Z = RNG.normal(size=(16, 6)).astype("float32") * 2
P = ref.sigmoid(Z.astype("float64")).astype("float32")


class TestAsymmetricLoss:
    def test_config(self):
        loss = losses.AsymmetricLoss(gamma_neg=2.0, clip=0.1)
        config = loss.get_config()
        assert losses.AsymmetricLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize(
        "gamma_neg,gamma_pos,clip",
        [(4.0, 1.0, 0.05), (4.0, 0.0, 0.0), (2.0, 1.0, 0.2), (0.0, 0.0, 0.0)],
    )
    @pytest.mark.parametrize("from_logits", [False, True])
    def test_reference(self, gamma_neg, gamma_pos, clip, from_logits):
        got = losses.asymmetric_loss(
            Y,
            Z if from_logits else P,
            gamma_neg=gamma_neg,
            gamma_pos=gamma_pos,
            clip=clip,
            from_logits=from_logits,
        )
        want = ref.asymmetric(Y, P.astype("float64"), gamma_neg, gamma_pos, clip)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)

    def test_no_focusing_no_clip_is_summed_binary_cross_entropy(self):
        got = losses.AsymmetricLoss(gamma_neg=0, gamma_pos=0, clip=0, from_logits=True)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        np.testing.assert_allclose(got(Y, Z), bce(Y, Z) * Y.shape[-1], rtol=1e-5)

    def test_easy_negatives_below_clip_are_discarded(self):
        values = losses.asymmetric_loss([[0.0, 0.0]], [[0.04, 0.3]], clip=0.05)
        single = losses.asymmetric_loss([[0.0]], [[0.3]], clip=0.05)
        np.testing.assert_allclose(values, single, rtol=1e-6)
