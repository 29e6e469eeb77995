import numpy as np
import pytest

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(6)
MASKS = RNG.integers(0, 3, size=(4, 8, 8))
LOGITS = RNG.normal(size=(4, 8, 8, 3)).astype("float32")
PROBS = ref.softmax(LOGITS.astype("float64")).astype("float32")
ONE_HOT = ref.one_hot(MASKS, 3)


class TestDiceLoss:
    def test_config(self):
        loss = losses.DiceLoss(smooth=0.5, ignore_class=255)
        config = loss.get_config()
        assert losses.DiceLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize("smooth", [0.0, 1.0, 10.0])
    def test_reference(self, smooth):
        got = losses.dice_loss(MASKS, PROBS, smooth=smooth)
        want = ref.dice(ONE_HOT, PROBS.astype("float64"), smooth)
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_logits_one_hot_and_3d(self):
        a = losses.dice_loss(ONE_HOT, LOGITS, from_logits=True)
        b = losses.dice_loss(MASKS, PROBS)
        np.testing.assert_allclose(a, b, rtol=1e-5)
        volume = RNG.normal(size=(2, 4, 4, 4, 3)).astype("float32")
        labels = RNG.integers(0, 3, size=(2, 4, 4, 4))
        want = ref.dice(
            ref.one_hot(labels, 3), ref.softmax(volume.astype("float64")), 1.0
        )
        np.testing.assert_allclose(
            losses.dice_loss(labels, volume, from_logits=True), want, rtol=1e-5
        )

    def test_perfect_prediction_is_zero(self):
        assert float(losses.DiceLoss(smooth=0.0)(MASKS, ONE_HOT)) == pytest.approx(0.0)

    def test_binary_sigmoid_channel(self):
        y = (RNG.random(size=(3, 6, 6, 1)) > 0.7).astype("float32")
        z = RNG.normal(size=(3, 6, 6, 1)).astype("float32")
        got = losses.dice_loss(y, z, from_logits=True)
        want = ref.dice(y, ref.sigmoid(z.astype("float64")), 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_ignore_class_drops_positions_from_every_sum(self):
        masks = MASKS.copy()
        masks[:, :4] = 255
        got = losses.dice_loss(masks, PROBS, ignore_class=255)
        want = ref.dice(ONE_HOT[:, 4:], PROBS[:, 4:].astype("float64"), 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-5)


class TestTverskyLoss:
    def test_config(self):
        loss = losses.TverskyLoss(alpha=0.2, beta=0.8, gamma=4 / 3)
        config = loss.get_config()
        assert losses.TverskyLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize(
        "alpha,beta,gamma",
        [(0.3, 0.7, 1.0), (0.7, 0.3, 1.0), (0.3, 0.7, 4 / 3), (0.5, 0.5, 2.0)],
    )
    def test_reference(self, alpha, beta, gamma):
        got = losses.tversky_loss(MASKS, PROBS, alpha=alpha, beta=beta, gamma=gamma)
        want = ref.tversky(ONE_HOT, PROBS.astype("float64"), alpha, beta, gamma, 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_half_half_without_smoothing_is_dice(self):
        a = losses.tversky_loss(MASKS, PROBS, alpha=0.5, beta=0.5, smooth=0.0)
        b = losses.dice_loss(MASKS, PROBS, smooth=0.0)
        np.testing.assert_allclose(a, b, rtol=1e-5)

    def test_beta_penalises_false_negatives(self):
        # Under-segmentation (missed pixels) costs more when beta > alpha.
        y = np.zeros((1, 4, 4, 2), "float32")
        y[..., 1] = 1.0
        p = np.zeros_like(y)
        p[..., 1] = 0.3
        p[..., 0] = 0.7
        recall_heavy = float(losses.TverskyLoss(alpha=0.3, beta=0.7)(y, p))
        precision_heavy = float(losses.TverskyLoss(alpha=0.7, beta=0.3)(y, p))
        assert recall_heavy > precision_heavy
