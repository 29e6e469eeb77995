"""Training protocols: schedules, optimizers, configs, errors."""

import keras
import pytest

from keras_imbalance import protocols
from keras_imbalance.optimizers import CoupledWeightDecaySGD


def test_ldam_protocol_is_the_reference_schedule():
    """`adjust_learning_rate` of the LDAM-DRW code, 200 epochs."""
    ldam = protocols.get("ldam")

    def reference(epoch):  # the reference code, transcribed (1-based inside)
        epoch = epoch + 1
        if epoch <= 5:
            return 0.1 * epoch / 5
        if epoch > 180:
            return 0.1 * 0.0001
        if epoch > 160:
            return 0.1 * 0.01
        return 0.1

    for epoch in range(200):
        assert ldam.learning_rate_at(epoch, 200) == pytest.approx(reference(epoch))
    assert (ldam.batch_size, ldam.weight_decay, ldam.momentum) == (128, 2e-4, 0.9)
    assert ldam.drw_normalization == "weights"
    optimizer = ldam.new_optimizer()
    assert isinstance(optimizer, CoupledWeightDecaySGD)


def test_default_protocol_cosine_decay():
    default = protocols.get("default")
    rates = [default.learning_rate_at(e, 20) for e in range(20)]
    assert rates[0] == pytest.approx(1e-3)
    assert rates[10] == pytest.approx(0.5e-3)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert isinstance(default.new_optimizer(), keras.optimizers.Adam)
    assert default.precise_bn and default.batch_size == 32


def test_restarted_stage_has_no_warm_up():
    ldam = protocols.get("ldam")
    schedule = protocols.EpochSchedule(ldam, 2, peak=0.5, warmup=False)
    assert schedule(0) == pytest.approx(0.5)


def test_config_round_trip_and_replace():
    ldam = protocols.get("ldam")
    assert protocols.get(ldam.get_config()) == ldam
    changed = ldam.replace(learning_rate=0.05, schedule=None)
    assert changed.learning_rate == 0.05 and changed.schedule == "step"
    assert changed.name == "ldam (modified)"
    assert ldam.replace() is ldam


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1}, "weight_decay"),
        ({"schedule": "linear"}, "schedule"),
        ({"warmup_epochs": -1}, "warmup_epochs"),
        ({"step_fractions": (0.9, 0.8)}, "step_fractions"),
        ({"step_factor": 0}, "step_factor"),
        ({"batch_size": 0}, "batch_size"),
        ({"precise_bn": 1}, "precise_bn"),
        ({"drw_normalization": "mean"}, "drw_normalization"),
    ],
)
def test_invalid_protocols(kwargs, match):
    with pytest.raises(ValueError, match=match):
        protocols.TrainingProtocol(**kwargs)


def test_unknown_protocol_name():
    with pytest.raises(ValueError, match="Expected one of \\['default', 'ldam'\\]"):
        protocols.get("cifar")
