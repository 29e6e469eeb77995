import keras
import numpy as np
import pytest

from keras_imbalance import compute_class_weights, losses
from tests.losses import references as ref

RNG = np.random.default_rng(2)
COUNTS = [500, 120, 30, 5]
LOGITS = RNG.normal(size=(24, 4)).astype("float32") * 2
LABELS = RNG.integers(0, 4, size=24)
ONE_HOT = ref.one_hot(LABELS, 4)


class TestClassBalancedLoss:
    def test_config(self):
        loss = losses.ClassBalancedLoss(COUNTS, beta=0.99, loss_type="softmax")
        config = loss.get_config()
        assert config["class_counts"] == COUNTS
        assert losses.ClassBalancedLoss.from_config(config).get_config() == config

    @pytest.mark.parametrize("loss_type", ["focal", "sigmoid", "softmax"])
    @pytest.mark.parametrize("beta", [0.0, 0.9, 0.999])
    def test_reference(self, loss_type, beta):
        got = losses.class_balanced_loss(
            LABELS,
            LOGITS,
            COUNTS,
            beta=beta,
            loss_type=loss_type,
            gamma=1.5,
            from_logits=True,
        )
        want = ref.class_balanced(
            ONE_HOT, LOGITS.astype("float64"), COUNTS, beta, loss_type, 1.5
        )
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_weights_come_from_effective_number(self):
        np.testing.assert_allclose(
            compute_class_weights(COUNTS, "effective_number", beta=0.99),
            ref.effective_number_weights(COUNTS, 0.99),
        )

    def test_beta_zero_softmax_is_cross_entropy(self):
        got = losses.ClassBalancedLoss(
            COUNTS, beta=0.0, loss_type="softmax", from_logits=True
        )(LABELS, LOGITS)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        np.testing.assert_allclose(got, ce(LABELS, LOGITS), rtol=1e-5)

    def test_probabilities_for_sigmoid_types(self):
        probs = ref.sigmoid(LOGITS.astype("float64")).astype("float32")
        a = losses.class_balanced_loss(LABELS, probs, COUNTS, loss_type="focal")
        b = losses.class_balanced_loss(
            LABELS, LOGITS, COUNTS, loss_type="focal", from_logits=True
        )
        np.testing.assert_allclose(a, b, rtol=1e-4)

    def test_tail_samples_weigh_more(self):
        logits = np.zeros((2, 4), "float32")
        values = np.asarray(
            losses.class_balanced_loss(
                [0, 3], logits, COUNTS, loss_type="softmax", from_logits=True
            )
        )
        assert values[1] > 10 * values[0]
