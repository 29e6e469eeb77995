import keras
import numpy as np
import pytest

from keras_imbalance import losses
from tests.losses import references as ref

RNG = np.random.default_rng(1)
LOGITS = RNG.normal(size=(20, 4)).astype("float32")
LABELS = RNG.integers(0, 4, size=20)
WEIGHTS = [0.5, 1.0, 3.0, 8.0]


class TestWeightedCrossEntropy:
    def test_config_keeps_dict_form(self):
        loss = losses.WeightedCrossEntropy({0: 1.0, 3: 5.0}, from_logits=True)
        config = loss.get_config()
        assert config["class_weight"] == {0: 1.0, 3: 5.0}
        assert losses.WeightedCrossEntropy.from_config(config).get_config() == config

    def test_dict_leaves_missing_classes_at_one(self):
        a = losses.WeightedCrossEntropy({2: 3.0, 3: 8.0}, from_logits=True)
        b = losses.WeightedCrossEntropy([1.0, 1.0, 3.0, 8.0], from_logits=True)
        np.testing.assert_allclose(a(LABELS, LOGITS), b(LABELS, LOGITS))

    def test_reference(self):
        got = losses.weighted_cross_entropy(LABELS, LOGITS, WEIGHTS, from_logits=True)
        want = -(
            np.asarray(WEIGHTS)
            * ref.one_hot(LABELS, 4)
            * ref.log_softmax(LOGITS.astype("float64"))
        ).sum(-1)
        np.testing.assert_allclose(got, want, rtol=1e-5)

    def test_equals_cross_entropy_with_class_sample_weights(self):
        # What `fit(class_weight=...)` computes: CE weighted by w[y], / batch.
        ours = losses.WeightedCrossEntropy(WEIGHTS, from_logits=True)(LABELS, LOGITS)
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            LABELS, LOGITS, sample_weight=np.asarray(WEIGHTS)[LABELS]
        )
        np.testing.assert_allclose(ours, ce, rtol=1e-5)

    @pytest.mark.slow
    def test_matches_fit_class_weight(self):
        x = RNG.normal(size=(32, 6)).astype("float32")
        y = RNG.integers(0, 4, size=32)

        def trained(loss, **fit_kwargs):
            keras.utils.set_random_seed(3)
            model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
            model.fit(
                x, y, batch_size=32, epochs=3, verbose=0, shuffle=False, **fit_kwargs
            )
            return model.get_weights()

        ours = trained(losses.WeightedCrossEntropy(WEIGHTS, from_logits=True))
        peer = trained(
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            class_weight=dict(enumerate(WEIGHTS)),
        )
        for a, b in zip(ours, peer):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)

    def test_with_sample_weight(self):
        sw = RNG.random(size=20).astype("float32")
        ours = losses.WeightedCrossEntropy(WEIGHTS, from_logits=True)(
            LABELS, LOGITS, sample_weight=sw
        )
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
            LABELS, LOGITS, sample_weight=sw * np.asarray(WEIGHTS)[LABELS]
        )
        np.testing.assert_allclose(ours, ce, rtol=1e-5)

    @pytest.mark.parametrize("shape", [(2, 5, 4), (2, 3, 5, 4)])
    def test_dense_predictions(self, shape):
        logits = RNG.normal(size=shape).astype("float32")
        labels = RNG.integers(0, 4, size=shape[:-1])
        ours = losses.WeightedCrossEntropy(WEIGHTS, from_logits=True)(labels, logits)
        ce = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="none"
        )(labels, logits)
        want = np.mean(np.asarray(ce) * np.asarray(WEIGHTS)[labels])
        np.testing.assert_allclose(ours, want, rtol=1e-5)

    @pytest.mark.slow
    def test_multi_output_model(self):
        inputs = keras.Input((6,))
        a = keras.layers.Dense(4, name="a")(inputs)
        b = keras.layers.Dense(3, name="b")(inputs)
        model = keras.Model(inputs, {"a": a, "b": b})
        model.compile(
            optimizer="sgd",
            loss={
                "a": losses.WeightedCrossEntropy(WEIGHTS, from_logits=True),
                "b": losses.WeightedCrossEntropy([1.0, 2.0, 4.0], from_logits=True),
            },
        )
        x = RNG.normal(size=(16, 6)).astype("float32")
        y = {"a": RNG.integers(0, 4, size=16), "b": RNG.integers(0, 3, size=16)}
        history = model.fit(x, y, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])

    def test_label_smoothing_weights_each_class_share(self):
        got = losses.weighted_cross_entropy(
            LABELS, LOGITS, WEIGHTS, from_logits=True, label_smoothing=0.2
        )
        target = ref.one_hot(LABELS, 4) * 0.8 + 0.05
        want = -(
            np.asarray(WEIGHTS) * target * ref.log_softmax(LOGITS.astype("float64"))
        ).sum(-1)
        np.testing.assert_allclose(got, want, rtol=1e-5)
