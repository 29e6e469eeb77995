import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(3)
COUNTS = [1000, 300, 50, 8, 1]
LOGITS = RNG.uniform(-1, 1, size=(30, 5)).astype("float32")
LABELS = RNG.integers(0, 5, size=30)


class TestLDAMLoss:
    def test_margins_follow_quarter_power(self):
        m = np.asarray(losses.ldam_margins(COUNTS, max_margin=0.5))
        np.testing.assert_allclose(m.max(), 0.5)
        np.testing.assert_allclose(m / m[-1], (np.asarray(COUNTS) ** -0.25) / 1.0)

    def test_empty_class_gets_max_margin(self):
        assert losses.ldam_margins([100, 0, 10], 0.3)[1] == pytest.approx(0.3)

    @pytest.mark.parametrize("scale", [1.0, 30.0])
    @pytest.mark.parametrize("class_weight", [None, [0.2, 0.5, 1.0, 2.0, 4.0]])
    def test_reference(self, scale, class_weight):
        got = losses.ldam_loss(
            LABELS,
            LOGITS,
            COUNTS,
            max_margin=0.5,
            scale=scale,
            class_weight=class_weight,
        )
        want = ref.ldam(
            ref.one_hot(LABELS, 5),
            LOGITS.astype("float64"),
            COUNTS,
            0.5,
            scale,
            class_weight,
        )
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    def test_zero_margin_is_scaled_cross_entropy(self):
        got = losses.LDAMLoss(COUNTS, max_margin=0.0, scale=2.0)(LABELS, LOGITS)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        np.testing.assert_allclose(got, ce(LABELS, 2.0 * LOGITS), rtol=1e-5)

    def test_class_weight_as_dict(self):
        a = losses.LDAMLoss(COUNTS, class_weight={4: 3.0})(LABELS, LOGITS)
        b = losses.LDAMLoss(COUNTS, class_weight=[1, 1, 1, 1, 3.0])(LABELS, LOGITS)
        np.testing.assert_allclose(a, b)

    def test_rare_class_needs_larger_margin(self):
        # The same logits cost more for a rare-class label than a head one.
        logits = np.array(
            [[0.2, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.2]], "float32"
        )
        values = np.asarray(losses.ldam_loss([0, 4], logits, COUNTS))
        assert values[1] > values[0]
