"""`CoupledWeightDecaySGD`: PyTorch's SGD update rule in Keras."""

import json

import keras
import numpy as np
import pytest

from keras_imbalance.optimizers import CoupledWeightDecaySGD

RNG = np.random.default_rng(0)
W0 = [
    RNG.normal(size=(3, 2)).astype("float32"),
    RNG.normal(size=(2,)).astype("float32"),
]
STEPS = 6
GRADIENTS = [
    [RNG.normal(size=w.shape).astype("float32") for w in W0] for _ in range(STEPS)
]


def torch_sgd(weights, gradients, learning_rates, *, momentum, nesterov, decay):
    """NumPy transcription of `torch.optim.SGD.step` (dampening 0), in float32.

    for each step t and parameter p:
        g = p.grad + weight_decay * p
        if momentum != 0:
            buf = g if t == 1 else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr_t * g
    """
    f32 = np.float32
    weights = [w.copy() for w in weights]
    buffers = [None] * len(weights)
    for step_gradients, lr in zip(gradients, learning_rates):
        for i, (w, g) in enumerate(zip(weights, step_gradients)):
            g = g + f32(decay[i]) * w
            if momentum != 0:
                buffers[i] = (
                    g.copy() if buffers[i] is None else f32(momentum) * buffers[i] + g
                )
                g = g + f32(momentum) * buffers[i] if nesterov else buffers[i]
            weights[i] = w - f32(lr) * g
    return weights


def run_keras(optimizer, learning_rates=None):
    """Apply GRADIENTS with `optimizer`; assign each step's rate if given."""
    variables = [keras.Variable(w) for w in W0]
    for step, gradients in enumerate(GRADIENTS):
        if learning_rates is not None:
            optimizer.learning_rate = learning_rates[step]
        optimizer.apply_gradients(
            [(keras.ops.convert_to_tensor(g), v) for g, v in zip(gradients, variables)]
        )
    return [keras.ops.convert_to_numpy(v) for v in variables]


SETTINGS = [
    # momentum, nesterov, weight_decay
    (0.0, False, 0.0),
    (0.0, False, 0.05),
    (0.9, False, 0.0),
    (0.9, False, 0.05),
    (0.9, True, 0.0),
    (0.9, True, 0.05),
    (0.5, True, 2e-4),
]


class TestCoupledWeightDecaySGD:
    @pytest.mark.parametrize("momentum, nesterov, weight_decay", SETTINGS)
    def test_matches_pytorch_with_schedule(self, momentum, nesterov, weight_decay):
        schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
            boundaries=[1, 3], values=[0.1, 0.03, 0.005]
        )
        optimizer = CoupledWeightDecaySGD(
            schedule, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
        # Keras evaluates the schedule at the step index before incrementing it.
        rates = [float(keras.ops.convert_to_numpy(schedule(t))) for t in range(STEPS)]
        assert len(set(rates)) == 3
        got = run_keras(optimizer)
        expected = torch_sgd(
            W0,
            GRADIENTS,
            rates,
            momentum=momentum,
            nesterov=nesterov,
            decay=[weight_decay] * 2,
        )
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("momentum, nesterov, weight_decay", SETTINGS)
    def test_matches_pytorch_with_assigned_rate(self, momentum, nesterov, weight_decay):
        rates = [0.2, 0.2, 0.05, 0.3, 0.01, 0.1]
        optimizer = CoupledWeightDecaySGD(
            0.5, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
        got = run_keras(optimizer, rates)
        expected = torch_sgd(
            W0,
            GRADIENTS,
            rates,
            momentum=momentum,
            nesterov=nesterov,
            decay=[weight_decay] * 2,
        )
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize(
        "momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)]
    )
    def test_equals_keras_sgd_without_decay_at_constant_rate(self, momentum, nesterov):
        ours = run_keras(
            CoupledWeightDecaySGD(0.1, momentum=momentum, nesterov=nesterov)
        )
        keras_sgd = run_keras(
            keras.optimizers.SGD(0.1, momentum=momentum, nesterov=nesterov)
        )
        for a, b in zip(ours, keras_sgd):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

    def test_differs_from_keras_sgd_when_rate_changes_or_decay(self):
        rates = [0.2, 0.2, 0.05, 0.3, 0.01, 0.1]
        ours = run_keras(CoupledWeightDecaySGD(0.1, momentum=0.9), rates)
        keras_sgd = run_keras(keras.optimizers.SGD(0.1, momentum=0.9), rates)
        assert not np.allclose(ours[0], keras_sgd[0], rtol=1e-3)
        # Keras' decay is decoupled: the same number is a different update.
        ours = run_keras(CoupledWeightDecaySGD(0.1, momentum=0.9, weight_decay=0.05))
        keras_sgd = run_keras(
            keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.05)
        )
        assert not np.allclose(ours[0], keras_sgd[0], rtol=1e-3)

    def test_exclude_from_weight_decay(self):
        optimizer = CoupledWeightDecaySGD(0.1, momentum=0.9, weight_decay=0.05)
        variables = [
            keras.Variable(W0[0], name="kernel"),
            keras.Variable(W0[1], name="bias"),
        ]
        optimizer.exclude_from_weight_decay(var_names=["bias"])
        for gradients in GRADIENTS:
            optimizer.apply_gradients(
                [
                    (keras.ops.convert_to_tensor(g), v)
                    for g, v in zip(gradients, variables)
                ]
            )
        expected = torch_sgd(
            W0,
            GRADIENTS,
            [0.1] * STEPS,
            momentum=0.9,
            nesterov=False,
            decay=[0.05, 0.0],
        )
        for v, e in zip(variables, expected):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(v), e, rtol=1e-6)
        with pytest.raises(ValueError, match="before the optimizer is built"):
            optimizer.exclude_from_weight_decay(var_list=variables)

    def test_exclude_by_variable(self):
        optimizer = CoupledWeightDecaySGD(0.1, weight_decay=0.5)
        kept, decayed = keras.Variable([1.0]), keras.Variable([1.0])
        optimizer.exclude_from_weight_decay(var_list=[kept])
        zero = keras.ops.zeros((1,))
        optimizer.apply_gradients([(zero, kept), (zero, decayed)])
        np.testing.assert_allclose(keras.ops.convert_to_numpy(kept), [1.0])
        np.testing.assert_allclose(keras.ops.convert_to_numpy(decayed), [0.95])

    def test_keras_weight_decay_stays_off(self):
        optimizer = CoupledWeightDecaySGD(weight_decay=2e-4)
        assert optimizer.weight_decay is None
        assert optimizer.coupled_weight_decay == 2e-4
        assert CoupledWeightDecaySGD(weight_decay=None).coupled_weight_decay == 0.0

    def test_config(self):
        schedule = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=100)
        optimizer = CoupledWeightDecaySGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=2e-4, clipnorm=1.0
        )
        config = optimizer.get_config()
        json.dumps(config)
        assert config["weight_decay"] == 2e-4
        assert config["momentum"] == 0.9 and config["nesterov"] is True
        # (Keras' `from_config` deserializes the schedule in place: pass a copy.)
        restored = CoupledWeightDecaySGD.from_config(dict(config))
        assert restored.get_config() == config
        assert restored.weight_decay is None
        assert restored.coupled_weight_decay == 2e-4
        assert isinstance(
            restored._learning_rate, keras.optimizers.schedules.CosineDecay
        )
        serialized = keras.optimizers.serialize(optimizer)
        assert serialized["registered_name"] == "keras_imbalance>CoupledWeightDecaySGD"
        assert keras.optimizers.deserialize(serialized).get_config() == config

    def test_keras_file_round_trip(self, tmp_path):
        keras.utils.set_random_seed(0)
        x = RNG.normal(size=(32, 3)).astype("float32")
        y = (x[:, 0] > 0).astype("int32")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(
            optimizer=CoupledWeightDecaySGD(0.1, momentum=0.9, weight_decay=2e-4),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded.optimizer) is CoupledWeightDecaySGD
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
            )
        # Training resumes with the same momentum buffers.
        for m in (model, loaded):
            m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    @pytest.mark.slow
    def test_fit_under_jit_compile(self):
        x = RNG.normal(size=(64, 4)).astype("float32")
        y = (x[:, 0] + x[:, 1] > 0).astype("int32")
        results = {}
        for jit_compile in (False, True):
            keras.utils.set_random_seed(1)
            model = keras.Sequential(
                [
                    keras.Input((4,)),
                    keras.layers.Dense(8, activation="relu"),
                    keras.layers.Dense(2),
                ]
            )
            model.compile(
                optimizer=CoupledWeightDecaySGD(
                    0.1, momentum=0.9, nesterov=True, weight_decay=2e-4
                ),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=jit_compile,
            )
            history = model.fit(x, y, batch_size=16, epochs=5, verbose=0, shuffle=False)
            results[jit_compile] = (history.history["loss"], model.get_weights())
        losses = results[True][0]
        assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]
        for a, b in zip(results[True][1], results[False][1]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (
                {"learning_rate": -0.1},
                "Invalid value for argument `learning_rate`. Expected a "
                "non-negative float. Received: learning_rate=-0.1",
            ),
            ({"momentum": -0.5}, "Expected a float in \\[0, 1\\]"),
            ({"momentum": 1.5}, "Received: momentum=1.5"),
            ({"momentum": "0.9"}, "Received: momentum='0.9'"),
            ({"nesterov": "yes"}, "Expected a boolean"),
            ({"nesterov": True}, "Nesterov momentum needs momentum > 0"),
            ({"weight_decay": -1e-4}, "Received: weight_decay=-0.0001"),
            ({"weight_decay": float("nan")}, "Received: weight_decay=nan"),
            ({"momentumm": 0.9}, "not recognized"),
        ],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            CoupledWeightDecaySGD(**kwargs)
