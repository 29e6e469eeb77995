"""Callbacks that schedule imbalance remedies during `fit`."""

import keras

from keras_imbalance._validation import check_optional_int, invalid

__all__ = ["CumulativeLearning"]


class CumulativeLearning(keras.callbacks.Callback):
    """BBN's cumulative learning schedule: `alpha = 1 - (epoch / total)^2`.

    At the start of each (0-based) epoch, sets the `alpha` weight of the
    model's `BilateralMixing` layer, moving the bilateral-branch network from
    the conventional branch (`alpha = 1` at epoch 0) to the re-balancing one.
    `alpha` is a model weight, so the schedule works on every backend and is
    saved with the model; it is also written to the epoch logs as `bbn_alpha`.

    Reference: Zhou et al., "BBN: Bilateral-Branch Network with Cumulative
    Learning for Long-Tailed Visual Recognition", CVPR 2020.

    Args:
        total_epochs: The `T_max` of the schedule, normally the `epochs` of
            `fit`.
        layer_name: Name of the mixing layer. Defaults to `"bilateral_mixing"`.

    Example:

    >>> [round(CumulativeLearning(4).alpha_at(e), 4) for e in range(4)]
    [1.0, 0.9375, 0.75, 0.4375]
    """

    def __init__(self, total_epochs, layer_name="bilateral_mixing"):
        super().__init__()
        total_epochs = check_optional_int("total_epochs", total_epochs, low=1)
        if total_epochs is None:
            raise invalid("total_epochs", "a positive integer", total_epochs)
        self.total_epochs = total_epochs
        self.layer_name = layer_name

    def alpha_at(self, epoch):
        """The schedule's value at a 0-based epoch."""
        return 1.0 - min(epoch / self.total_epochs, 1.0) ** 2

    def _layer(self):
        try:
            return self.model.get_layer(self.layer_name)
        except ValueError:
            raise ValueError(
                f"CumulativeLearning needs a `{self.layer_name}` layer (a "
                "`BilateralMixing`): fit the train model of "
                "`build_bilateral_branch_network`."
            ) from None

    def on_epoch_begin(self, epoch, logs=None):
        self._layer().alpha.assign(self.alpha_at(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["bbn_alpha"] = float(keras.ops.convert_to_numpy(self._layer().alpha))
