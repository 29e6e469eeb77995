"""The small base every loss class of the package stands on.

A loss is a pure function over `keras.ops` returning one value per sample (or
per position, for dense prediction) plus a thin `keras.losses.Loss` subclass
that stores its configuration and calls it, as in Keras itself. This base adds
what Keras' `Loss.__call__` cannot know about:

* `ignore_class`: positions whose label is ignored get zero weight and are left
  out of the mean, as in `keras.losses.SparseCategoricalCrossentropy`;
* per-sample `sample_weight` of shape `(B,)` on dense predictions
  `(B, H, W, C)` is broadcast over the positions of each sample;
* `y_pred` is checked against `from_logits` (`_common.check_predictions`):
  logits given to a probability loss raise in an eager call and make the loss
  NaN in a compiled step; softmax / sigmoid outputs given to a logits loss
  warn;
* labels that are not class ids (or targets outside `[0, 1]`) raise in an
  eager call and make the loss NaN in a compiled step (`_labels`).
"""

import keras
from keras import ops

from keras_imbalance import _labels
from keras_imbalance._arrays import plain
from keras_imbalance.losses._common import (
    apply_guard,
    check_predictions,
    predictions_checked,
)


class ImbalanceLoss(keras.losses.Loss):
    """Base class: subclasses set `fn` and list their arguments in `_config_keys`.

    Args:
        reduction: Type of reduction to apply to the loss, as in
            `keras.losses.Loss`. Defaults to `"sum_over_batch_size"`.
        name: Optional name for the loss instance.
        dtype: The dtype of the loss's computations. Defaults to `None`, which
            means `keras.backend.floatx()`.
    """

    #: The functional twin called by `call`.
    fn = None
    #: The `__init__` arguments passed to `fn` and stored in `get_config`.
    _config_keys = ()
    #: True when `fn` returns one value per position (`y_pred.shape[:-1]`);
    #: False when it reduces the positions itself (one value per sample).
    _per_position = True
    #: True for losses without `from_logits`, which always take logits.
    _logits_only = False

    def __init__(self, *, name, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_arg = (
            dtype if dtype is None or isinstance(dtype, str) else dtype.name
        )

    def __call__(self, y_true, y_pred, sample_weight=None):
        _labels.check_label_type(y_true)
        # Checked here, before Keras casts `y_pred` to the loss dtype: the
        # check sees the model's own dtype and Keras' `_keras_logits` mark.
        guard = check_predictions(
            y_pred,
            from_logits=getattr(self, "from_logits", True),
            name=type(self).__name__,
            logits_only=self._logits_only,
        )
        with predictions_checked():
            loss = self._weighted_call(y_true, y_pred, sample_weight)
        # Keras' reduction on PyTorch (`divide_no_nan`) returns float32 for a
        # float64 loss: the loss's own dtype, on every backend.
        return ops.cast(apply_guard(loss, guard), self.dtype)

    def _weighted_call(self, y_true, y_pred, sample_weight):
        ignore_class = getattr(self, "ignore_class", None)
        if not self._per_position or (ignore_class is None and sample_weight is None):
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        # Shapes and the ignore mask only: `y_pred` itself goes to Keras
        # untouched, so a Keras mask it carries is still honoured there.
        pred = ops.convert_to_tensor(y_pred)
        positions = ops.shape(pred)[:-1]
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight, dtype=self.dtype)
            rank = len(pred.shape) - 1
            if len(sample_weight.shape) == rank + 1 and sample_weight.shape[-1] == 1:
                sample_weight = ops.squeeze(sample_weight, -1)
            while len(sample_weight.shape) < rank:
                sample_weight = ops.expand_dims(sample_weight, -1)
            sample_weight = ops.broadcast_to(sample_weight, positions)
        mask = _labels.valid_mask(ops.convert_to_tensor(y_true), pred, ignore_class)
        if mask is not None:
            weight = ops.cast(mask, self.dtype)
            if self.reduction in ("sum_over_batch_size", "mean"):
                # Keras' own masking rule: valid positions weigh total/valid,
                # so the mean is taken over the valid positions only.
                total = ops.cast(ops.size(weight), self.dtype)
                weight = weight * ops.divide_no_nan(total, ops.sum(weight))
            sample_weight = weight if sample_weight is None else sample_weight * weight
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        kwargs = {key: getattr(self, key) for key in self._config_keys}
        return type(self).fn(y_true, y_pred, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["dtype"] = self._dtype_arg
        config.update({key: plain(getattr(self, key)) for key in self._config_keys})
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config_keys)
        return f"<{type(self).__name__}({args})>"
