"""Training protocols: optimizer, learning-rate schedule and BatchNorm handling.

A protocol is everything about training that is *not* the imbalance remedy:
the optimizer, its learning rate and weight decay, the schedule, the batch
size and what is done to the BatchNorm statistics after training. Every
strategy of a comparison trains under one protocol, so the remedies are
compared on the same budget.

Two named protocols:

- `"default"`: Adam, learning rate 1e-3, cosine decay to 0 over the epochs
  (one value per epoch), batch size 32, BatchNorm statistics re-estimated over
  the training data after each training stage ("precise BN", Wu & Johnson
  2021). Under a constant learning rate the moving statistics trail the
  weights at the last step and act like a random per-class bias on a dense
  head; the decay and the re-estimation remove that source of seed-to-seed
  noise.
- `"ldam"`: the CIFAR-LT recipe of Cao et al. (2019), also used by Menon et
  al. (2021) and Ren et al. (2020): SGD with momentum 0.9 and weight decay
  2e-4 in PyTorch's form (`optimizers.CoupledWeightDecaySGD`: the decay is an
  L2 term added to the gradient before momentum; Keras' `SGD(weight_decay=)`
  is decoupled and about 10x weaker at the same number), learning rate 0.1
  with a linear warm-up over the first 5 epochs, then multiplied by 0.01
  after 80% and by 0.0001 after 90% of the epochs (the reference code's
  `adjust_learning_rate`: epochs 160 and 180 of 200), batch size 128, and
  the deferred re-weighting phase normalised like the reference code's
  `F.cross_entropy(weight=...)` (see `drw_normalization`).

>>> from keras_imbalance import protocols
>>> ldam = protocols.get("ldam")
>>> [round(ldam.learning_rate_at(e, 200), 4) for e in (0, 4, 100, 160, 180)]
[0.02, 0.1, 0.1, 0.001, 1e-05]
>>> protocols.get("default").schedule
'cosine'
"""

import dataclasses
import math

from keras_imbalance._validation import (
    check_bool,
    check_float,
    check_one_of,
    check_optional_int,
    check_positive_int,
    invalid,
)

__all__ = ["PROTOCOLS", "EpochSchedule", "TrainingProtocol", "get"]

_OPTIMIZERS = ("adam", "sgd")
_SCHEDULES = ("constant", "cosine", "step")
_DRW_NORMALIZATIONS = ("batch_size", "weights")


@dataclasses.dataclass(frozen=True)
class TrainingProtocol:
    """The training setup shared by every strategy of a comparison.

    Args:
        name: A label for reports. Defaults to `"custom"`.
        optimizer: `"adam"` (Keras `Adam`) or `"sgd"`
            (`optimizers.CoupledWeightDecaySGD`, PyTorch's SGD). Defaults to
            `"adam"`.
        learning_rate: Peak learning rate. Defaults to `1e-3`.
        momentum: SGD momentum (ignored by Adam). Defaults to `0.9`.
        weight_decay: With `"sgd"`, PyTorch's coupled L2 term; with
            `"adam"`, Keras' decoupled weight decay. Defaults to `0.0`.
        schedule: `"constant"`, `"cosine"` (from the peak to 0 over the
            epochs) or `"step"` (multiplied by `step_factor` after
            `step_fractions[0]` of the epochs and by `step_factor**2` after
            `step_fractions[1]`). Defaults to `"cosine"`.
        warmup_epochs: Epochs of linear warm-up (`lr * (e + 1) / warmup` in
            0-based epoch `e`, as the LDAM-DRW code). Defaults to `0`.
        step_fractions: Epoch fractions of the two decays of `"step"`.
            Defaults to `(0.8, 0.9)`.
        step_factor: Decay factor of `"step"`. Defaults to `0.01`.
        batch_size: Batch size used when the caller gives none. Defaults to
            `32`.
        precise_bn: Re-estimate BatchNorm statistics over the training data
            after each training stage. Defaults to `True`.
        drw_normalization: How the deferred re-weighting phase is
            normalised: `"batch_size"` (the Keras convention: the weighted
            sum over the batch divided by the batch size) or `"weights"`
            (as PyTorch's `F.cross_entropy(weight=...)` of the reference
            code, divided by the sum of the weights; here the class weights
            are divided by their mean over the training distribution, the
            expected value of that per-batch sum over the batch size).
            Defaults to `"batch_size"`.

    Example:

    >>> fast = PROTOCOLS["default"].replace(learning_rate=0.01, batch_size=64)
    >>> fast.name, fast.optimizer, fast.learning_rate, fast.batch_size
    ('default (modified)', 'adam', 0.01, 64)
    >>> TrainingProtocol.from_config(fast.get_config()) == fast
    True
    """

    name: str = "custom"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_epochs: int = 0
    step_fractions: tuple = (0.8, 0.9)
    step_factor: float = 0.01
    batch_size: int = 32
    precise_bn: bool = True
    drw_normalization: str = "batch_size"

    def __post_init__(self):
        check_one_of("optimizer", self.optimizer, _OPTIMIZERS)
        check_float("learning_rate", self.learning_rate, low=0, low_open=True)
        check_float("momentum", self.momentum, low=0, high=1, high_open=True)
        check_float("weight_decay", self.weight_decay, low=0)
        check_one_of("schedule", self.schedule, _SCHEDULES)
        if check_optional_int("warmup_epochs", self.warmup_epochs) is None:
            raise invalid("warmup_epochs", "a non-negative integer", None)
        fractions = tuple(self.step_fractions)
        if (
            len(fractions) != 2
            or not all(isinstance(f, (int, float)) for f in fractions)
            or not 0 < fractions[0] <= fractions[1] <= 1
        ):
            raise invalid(
                "step_fractions", "two fractions 0 < a <= b <= 1", self.step_fractions
            )
        object.__setattr__(self, "step_fractions", tuple(float(f) for f in fractions))
        check_float("step_factor", self.step_factor, low=0, high=1, low_open=True)
        check_positive_int("batch_size", self.batch_size)
        check_bool("precise_bn", self.precise_bn)
        check_one_of("drw_normalization", self.drw_normalization, _DRW_NORMALIZATIONS)

    def replace(self, **changes):
        """A copy with some fields changed (`None` values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        changes.setdefault("name", f"{self.name} (modified)")
        return dataclasses.replace(self, **changes)

    def learning_rate_at(self, epoch, epochs, *, peak=None):
        """The learning rate of 0-based `epoch` in a stage of `epochs` epochs."""
        peak = self.learning_rate if peak is None else peak
        return EpochSchedule(self, epochs, peak=peak)(epoch)

    def new_optimizer(self, learning_rate=None):
        """A new optimizer of this protocol (the schedule sets its rate)."""
        import keras

        rate = self.learning_rate if learning_rate is None else learning_rate
        if self.optimizer == "sgd":
            from keras_imbalance.optimizers import CoupledWeightDecaySGD

            return CoupledWeightDecaySGD(
                learning_rate=rate,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
            )
        return keras.optimizers.Adam(
            learning_rate=rate, weight_decay=self.weight_decay or None
        )

    def get_config(self):
        """A JSON-plain dict; `TrainingProtocol(**config)` rebuilds it."""
        config = dataclasses.asdict(self)
        config["step_fractions"] = list(self.step_fractions)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config, step_fractions=tuple(config["step_fractions"])))


class EpochSchedule:
    """The learning rate of each epoch of a stage, for `LearningRateScheduler`.

    `keras.callbacks.LearningRateScheduler(EpochSchedule(protocol, epochs))`
    sets the optimizer's rate at the start of each 0-based epoch: linear
    warm-up over `protocol.warmup_epochs`, then constant, cosine
    (`peak * (1 + cos(pi * t / T)) / 2` over the epochs after warm-up) or
    step decay.

    Args:
        protocol: A `TrainingProtocol`.
        epochs: Epochs of the stage.
        peak: Peak learning rate. Defaults to `protocol.learning_rate`.
        warmup: Whether the stage warms up (a second stage restarting the
            schedule does not). Defaults to `True`.

    Example:

    >>> schedule = EpochSchedule(get("default"), 10)  # cosine decay from 1e-3
    >>> [round(schedule(epoch), 6) for epoch in (0, 5, 9)]
    [0.001, 0.0005, 2.4e-05]
    >>> second_stage = EpochSchedule(get("ldam"), 200, warmup=False)
    >>> [second_stage(epoch) for epoch in (0, 160, 180)]
    [0.1, 0.001, 1e-05]
    """

    def __init__(self, protocol, epochs, *, peak=None, warmup=True):
        self.protocol = protocol
        self.epochs = int(epochs)
        self.peak = protocol.learning_rate if peak is None else float(peak)
        self.warmup = protocol.warmup_epochs if warmup else 0

    def __call__(self, epoch, lr=None):
        p, peak = self.protocol, self.peak
        if epoch < self.warmup:
            return peak * (epoch + 1) / self.warmup
        if p.schedule == "cosine":
            span = max(self.epochs - self.warmup, 1)
            t = min(epoch - self.warmup, span)
            return peak * 0.5 * (1.0 + math.cos(math.pi * t / span))
        if p.schedule == "step":
            # The reference code: `epoch + 1 > 160` of 200, i.e. 0-based 160.
            first, second = (math.floor(f * self.epochs) for f in p.step_fractions)
            if epoch >= second:
                return peak * p.step_factor**2
            if epoch >= first:
                return peak * p.step_factor
        return peak


PROTOCOLS = {
    "default": TrainingProtocol(name="default"),
    "ldam": TrainingProtocol(
        name="ldam",
        optimizer="sgd",
        learning_rate=0.1,
        momentum=0.9,
        weight_decay=2e-4,
        schedule="step",
        warmup_epochs=5,
        step_fractions=(0.8, 0.9),
        step_factor=0.01,
        batch_size=128,
        drw_normalization="weights",
    ),
}
"""The named protocols of `get` (and `keras-imbalance compare --protocol`)."""


def get(protocol):
    """A `TrainingProtocol` from a name of `PROTOCOLS`, a config dict or itself.

    Example:

    >>> get("ldam").optimizer, get("ldam").batch_size
    ('sgd', 128)
    >>> get(get("default").get_config()) == get("default")
    True
    """
    if isinstance(protocol, TrainingProtocol):
        return protocol
    if isinstance(protocol, dict):
        return TrainingProtocol.from_config(protocol)
    if protocol not in PROTOCOLS:
        raise invalid("protocol", f"one of {sorted(PROTOCOLS)}", protocol)
    return PROTOCOLS[protocol]
