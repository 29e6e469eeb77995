import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(4)
COUNTS = [900, 250, 60, 12]
LOGITS = RNG.normal(size=(25, 4)).astype("float32") * 2
LABELS = RNG.integers(0, 4, size=25)
ONE_HOT = ref.one_hot(LABELS, 4)


class TestBalancedSoftmaxLoss:
    def test_config(self):
        loss = losses.BalancedSoftmaxLoss(COUNTS)
        config = loss.get_config()
        assert losses.BalancedSoftmaxLoss.from_config(config).get_config() == config

    def test_reference(self):
        got = losses.balanced_softmax_loss(LABELS, LOGITS, COUNTS)
        z = LOGITS.astype("float64") + np.log(COUNTS)
        want = -(ONE_HOT * ref.log_softmax(z)).sum(-1)
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_probabilities_use_their_log(self):
        probs = ref.softmax(LOGITS.astype("float64")).astype("float32")
        a = losses.balanced_softmax_loss(LABELS, probs, COUNTS, from_logits=False)
        b = losses.balanced_softmax_loss(LABELS, LOGITS, COUNTS)
        np.testing.assert_allclose(a, b, rtol=1e-4)

    def test_equal_counts_is_cross_entropy(self):
        got = losses.BalancedSoftmaxLoss([7, 7, 7, 7])(LABELS, LOGITS)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        np.testing.assert_allclose(got, ce(LABELS, LOGITS), rtol=1e-5)


class TestLogitAdjustedLoss:
    def test_config(self):
        loss = losses.LogitAdjustedLoss(class_priors=[0.5, 0.3, 0.2], tau=1.5)
        config = loss.get_config()
        assert config["class_counts"] is None
        np.testing.assert_allclose(config["class_priors"], [0.5, 0.3, 0.2])
        assert losses.LogitAdjustedLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize("tau", [0.0, 0.5, 1.0, 2.0])
    def test_reference(self, tau):
        got = losses.logit_adjusted_loss(LABELS, LOGITS, class_counts=COUNTS, tau=tau)
        want = ref.logit_adjusted(ONE_HOT, LOGITS.astype("float64"), COUNTS, tau)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    def test_tau_one_is_balanced_softmax(self):
        a = losses.LogitAdjustedLoss(class_counts=COUNTS, tau=1.0)(LABELS, LOGITS)
        b = losses.BalancedSoftmaxLoss(COUNTS)(LABELS, LOGITS)
        np.testing.assert_allclose(a, b, rtol=1e-6)

    def test_priors_and_counts_agree(self):
        priors = np.asarray(COUNTS) / np.sum(COUNTS)
        a = losses.LogitAdjustedLoss(class_priors=priors)(LABELS, LOGITS)
        b = losses.LogitAdjustedLoss(class_counts=COUNTS)(LABELS, LOGITS)
        np.testing.assert_allclose(a, b, rtol=1e-6)

    def test_needs_exactly_one_of_counts_and_priors(self):
        with pytest.raises(ValueError, match="exactly one of `class_counts`"):
            losses.LogitAdjustedLoss()
        with pytest.raises(ValueError, match="exactly one of `class_counts`"):
            losses.LogitAdjustedLoss(class_counts=COUNTS, class_priors=[0.5, 0.5])
