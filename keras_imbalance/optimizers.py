"""Optimizers that reproduce the update rules of the papers' reference code."""

import numbers
import re

import keras
from keras import ops

from keras_imbalance._validation import check_bool, check_float, invalid

__all__ = ["CoupledWeightDecaySGD"]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class CoupledWeightDecaySGD(keras.optimizers.Optimizer):
    """SGD with PyTorch's update rule: L2 weight decay inside the momentum.

    The update of `torch.optim.SGD(lr, momentum, weight_decay, nesterov)`
    with `dampening=0`, for gradient `g` and weights `w` at step `t`:

    ```python
    g = g + weight_decay * w          # coupled (L2) weight decay
    buf = momentum * buf + g          # buf = g at the first step
    d = g + momentum * buf if nesterov else buf
    w = w - learning_rate_t * d
    ```

    Two things differ from `keras.optimizers.SGD`: its `weight_decay` is
    *decoupled* (`w -= learning_rate * weight_decay * w`, applied outside the
    momentum), so the same number decays about `1 / (1 - momentum)` times
    less (10x at momentum 0.9); and its velocity is kept in units of the step
    (`v = momentum * v - learning_rate * g`), so a learning rate that changes
    between steps (warm-up, step decay) scales only the new gradient, where
    here it scales the whole buffer. With `weight_decay=0` and a constant
    learning rate the two give the same updates (up to rounding).

    The long-tailed papers' reference code trains with PyTorch's rule, e.g.
    LDAM-DRW (Cao et al. 2019): `momentum=0.9, weight_decay=2e-4`; use this
    optimizer to reproduce their protocols.

    Reference: PyTorch, `torch.optim.SGD` (the algorithm in its
    documentation). https://pytorch.org/docs/stable/generated/torch.optim.SGD.html

    Args:
        learning_rate: A float, a
            `keras.optimizers.schedules.LearningRateSchedule`, or a callable
            taking no argument. Defaults to `0.01`.
        momentum: Momentum factor in `[0, 1]`; 0 is plain gradient descent.
            Defaults to `0.0`.
        nesterov: Whether to use Nesterov momentum (needs `momentum > 0`).
            Defaults to `False`.
        weight_decay: Coefficient of the L2 term added to the gradient
            (PyTorch's `weight_decay`), stored in the config under this name
            and as the attribute `coupled_weight_decay`; Keras' decoupled
            `weight_decay` attribute stays `None`. Defaults to `0.0`.
        **kwargs: The other arguments of `keras.optimizers.Optimizer`
            (`clipnorm`, `global_clipnorm`, `use_ema`, `name` ...).

    Example:

    >>> import keras
    >>> w = keras.Variable([1.0, -2.0])
    >>> optimizer = CoupledWeightDecaySGD(0.1, momentum=0.9, weight_decay=0.5)
    >>> g = keras.ops.convert_to_tensor([0.5, 0.5])
    >>> _ = optimizer.apply_gradients([(g, w)])  # d = g + 0.5 w = [1, -0.5]
    >>> keras.ops.convert_to_numpy(w)
    array([ 0.9 , -1.95], dtype=float32)
    >>> _ = optimizer.apply_gradients([(g, w)])  # buf = 0.9 d + g + 0.5 w
    >>> keras.ops.convert_to_numpy(w)
    array([ 0.715 , -1.8575], dtype=float32)
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        weight_decay=0.0,
        **kwargs,
    ):
        if isinstance(learning_rate, numbers.Real) and not isinstance(
            learning_rate, bool
        ):
            learning_rate = check_float("learning_rate", learning_rate, low=0)
        momentum = check_float("momentum", momentum, low=0, high=1)
        nesterov = check_bool("nesterov", nesterov)
        if nesterov and momentum == 0:
            raise invalid(
                "nesterov",
                "False when `momentum` is 0 (Nesterov momentum needs momentum > 0)",
                nesterov,
            )
        weight_decay = check_float(
            "weight_decay", 0.0 if weight_decay is None else weight_decay, low=0
        )
        # Keras' own `weight_decay` is decoupled: keep it off.
        super().__init__(learning_rate=learning_rate, weight_decay=None, **kwargs)
        self.momentum = momentum
        self.nesterov = nesterov
        self.coupled_weight_decay = weight_decay
        self._decay_excluded_ids = set()
        self._decay_excluded_names = []

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # Which variables decay, by index (`update_step` may get the
        # backend's variable, not the Keras one).
        self._decays = [
            id(v) not in self._decay_excluded_ids
            and not any(re.search(n, v.name) for n in self._decay_excluded_names)
            for v in variables
        ]
        self.momentums = []
        if self.momentum != 0:
            for variable in variables:
                self.momentums.append(
                    self.add_variable_from_reference(
                        reference_variable=variable, name="momentum"
                    )
                )

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        if self.coupled_weight_decay and self._decays[index]:
            decay = ops.cast(self.coupled_weight_decay, variable.dtype)
            gradient = ops.add(gradient, ops.multiply(variable, decay))
        direction = gradient
        if self.momentum != 0:
            # The buffer starts at 0, so the first step gives buf = g exactly.
            buffer = self.momentums[index]
            momentum = ops.cast(self.momentum, variable.dtype)
            new_buffer = ops.add(ops.multiply(buffer, momentum), gradient)
            self.assign(buffer, new_buffer)
            if self.nesterov:
                direction = ops.add(gradient, ops.multiply(new_buffer, momentum))
            else:
                direction = new_buffer
        self.assign_sub(variable, ops.multiply(direction, learning_rate))

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables from the coupled weight decay.

        Call it before the optimizer is built (before the first step).

        Args:
            var_list: Variables to exclude.
            var_names: Regular expressions; a variable whose name contains a
                match is excluded (e.g. `["bias", "gamma", "beta"]`), as in
                Keras.
        """
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before "
                "the optimizer is built."
            )
        self._decay_excluded_ids = {id(v) for v in var_list or ()}
        self._decay_excluded_names = [str(name) for name in var_names or ()]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "momentum": self.momentum,
                "nesterov": self.nesterov,
                "weight_decay": self.coupled_weight_decay,
            }
        )
        return config
