"""Callbacks that schedule imbalance remedies during `fit`."""

import keras
import numpy as np

from keras_imbalance import metrics as imbalance_metrics
from keras_imbalance._names import SHOT_GROUPS, shot_accuracy_name
from keras_imbalance._validation import (
    check_float,
    check_optional_int,
    check_positive_int,
    invalid,
    plain_counts,
)
from keras_imbalance.class_weights import class_counts as count_classes
from keras_imbalance.class_weights import compute_class_weights
from keras_imbalance.models.batch_norm import recompute_batch_norm_statistics

__all__ = [
    "CumulativeLearning",
    "DeferredReweighting",
    "ImbalanceMonitor",
    "PreciseBatchNorm",
]


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
        self.total_epochs = check_positive_int("total_epochs", total_epochs)
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


class DeferredReweighting(keras.callbacks.Callback):
    """Deferred re-weighting (DRW): class weights switched on at `start_epoch`.

    Training first learns the representation with the loss as configured,
    then, from the 0-based epoch `start_epoch` on, weights each class by its
    effective number, `w_c = (1 - beta) / (1 - beta^n_c)` normalised to sum to
    the number of classes (Cui et al. 2019). With `LDAMLoss` this is the
    paper's LDAM-DRW (`start_epoch=160` of 200 on CIFAR).

    The weights are a configuration of the loss, the attribute the loss
    names in its `class_weight_attribute` (`class_weight` of `LDAMLoss` and
    `WeightedCrossEntropy`, per-class `alpha` of `FocalLoss`; subclasses
    inherit it, and a loss of your own can declare one). When they
    change, the callback rebuilds the model's compiled train and test
    functions, so the new weights take effect in the compiled (graph or XLA)
    step on every backend. The switch depends on the epoch alone, so
    resuming with `keras.callbacks.BackupAndRestore` (or `initial_epoch`)
    restores the right weights.

    Reference: Cao, Wei, Gaidon, Arechiga, Ma. "Learning Imbalanced Datasets
    with Label-Distribution-Aware Margin Loss". NeurIPS 2019.
    https://arxiv.org/abs/1906.07413

    Args:
        loss: The loss instance passed to `model.compile` (`LDAMLoss`,
            `WeightedCrossEntropy` or `FocalLoss`).
        class_counts: Training samples per class.
        start_epoch: First (0-based) epoch with the re-weighting.
        beta: Effective-number hyperparameter in `[0, 1)`. Defaults to
            `0.9999`.
        normalization: `"batch_size"` (the default): the weights sum to
            the number of classes and the loss divides the weighted sum by
            the batch size (the Keras convention); the re-weighted phase
            then trains at a lower effective learning rate (about 5.8x on
            Fashion-MNIST-LT at ratio 100, where the frequent classes get
            small weights). `"weights"`: the weights are further divided by
            their mean over the training samples, `sum_c n_c w_c / N`, the
            expected value of the per-batch division by the sum of the
            weights that PyTorch's `F.cross_entropy(weight=...)` makes in the
            reference code (exact in expectation over instance-sampled
            batches, not batch by batch).

    Example:

    >>> from keras_imbalance import losses
    >>> loss = losses.LDAMLoss([500, 50, 5])
    >>> drw = DeferredReweighting(loss, class_counts=[500, 50, 5], start_epoch=2)
    >>> [round(w, 3) for w in drw.weights_at(2)]
    [0.028, 0.271, 2.702]
    >>> drw.weights_at(1) is None
    True
    """

    def __init__(
        self,
        loss,
        *,
        class_counts,
        start_epoch,
        beta=0.9999,
        normalization="batch_size",
    ):
        super().__init__()
        attribute = getattr(type(loss), "class_weight_attribute", None)
        if not isinstance(attribute, str) or not hasattr(loss, attribute):
            raise TypeError(
                "DeferredReweighting switches the per-class weights a loss "
                "declares in its `class_weight_attribute` (LDAMLoss, "
                "WeightedCrossEntropy, FocalLoss and their subclasses; a loss "
                "of your own declares the name of its attribute holding one "
                f"weight per class or None). Received: loss={loss!r}"
            )
        self.loss = loss
        self.attribute = attribute
        self.class_counts = plain_counts("class_counts", class_counts)
        start_epoch = check_optional_int("start_epoch", start_epoch, low=0)
        if start_epoch is None:
            raise invalid("start_epoch", "a non-negative integer", start_epoch)
        self.start_epoch = start_epoch
        self.beta = check_float("beta", beta, low=0, high=1, high_open=True)
        if normalization not in ("batch_size", "weights"):
            raise invalid("normalization", "'batch_size' or 'weights'", normalization)
        self.normalization = normalization
        weights = compute_class_weights(
            self.class_counts, "effective_number", beta=self.beta
        )
        if normalization == "weights":
            counts = np.asarray(self.class_counts, dtype="float64")
            weights = weights / (np.sum(counts * weights) / np.sum(counts))
        self.deferred_weights = weights.tolist()
        self.initial_weights = getattr(loss, attribute)

    def weights_at(self, epoch):
        """The loss's per-class weights during a 0-based epoch."""
        return (
            self.deferred_weights
            if epoch >= self.start_epoch
            else (self.initial_weights)
        )

    def on_epoch_begin(self, epoch, logs=None):
        weights = self.weights_at(epoch)
        if getattr(self.loss, self.attribute) == weights:
            return
        setattr(self.loss, self.attribute, weights)
        # The compiled steps captured the old weights as constants: rebuild.
        self.model.make_train_function(force=True)
        self.model.make_test_function(force=True)


class ImbalanceMonitor(keras.callbacks.Callback):
    """Adds imbalance metrics on validation data to the logs of each epoch.

    At the end of every epoch it predicts `validation_data` and writes
    `val_balanced_accuracy`, `val_macro_f1`, `val_g_mean`, the many-, medium-
    and few-shot accuracies (`val_many_shot_accuracy` ..., when
    `class_counts` is given; groups with no class are left out) and each
    class's recall (`val_recall/<class name>`) into the epoch logs, where
    `History`, `CSVLogger`, `TensorBoard` and
    `EarlyStopping(monitor="val_balanced_accuracy", mode="max")` read them.
    Put it *before* those callbacks in the `callbacks` list. The numbers are
    those of `keras_imbalance.metrics` (scikit-learn's and imbalanced-learn's
    definitions).

    Args:
        validation_data: `(x, y)` arrays (or a dict of arrays for `x`), or a
            `tf.data.Dataset` yielding `(x, y)` batches. Labels are integer
            or one-hot.
        class_counts: Training samples per class, for the shot groups.
            Defaults to `None`.
        class_names: One name per class for the per-class recall keys.
            Defaults to `None` (the class indices).
        batch_size: Prediction batch size for arrays. Defaults to `256`.
        output: For models with several (dict) outputs, the key of the logits
            to evaluate. Defaults to `None` (the single output, or `"logits"`).

    Example:

    >>> import keras, numpy as np
    >>> x, y = np.random.rand(40, 4).astype("float32"), np.arange(40) % 2
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    >>> history = model.fit(x, y, epochs=1, verbose=0,
    ...                     callbacks=[ImbalanceMonitor((x, y))])
    >>> sorted(k for k in history.history if k.startswith("val_"))
    ['val_balanced_accuracy', 'val_g_mean', 'val_macro_f1', 'val_recall/0',
     'val_recall/1']
    """

    def __init__(
        self,
        validation_data,
        *,
        class_counts=None,
        class_names=None,
        batch_size=256,
        output=None,
    ):
        super().__init__()
        self.validation_data = validation_data
        self.class_counts = (
            None if class_counts is None else plain_counts("class_counts", class_counts)
        )
        if class_names is not None:
            class_names = [str(n) for n in class_names]
            if self.class_counts is not None and len(class_names) != len(
                self.class_counts
            ):
                raise invalid(
                    "class_names",
                    f"one name per class ({len(self.class_counts)} names)",
                    class_names,
                )
        self.class_names = class_names
        batch_size = check_optional_int("batch_size", batch_size, low=1)
        self.batch_size = batch_size or 256
        self.output = output

    def _predict(self):
        data = self.validation_data
        if hasattr(data, "as_numpy_iterator"):
            ys, preds = [], []
            # NumPy batches: JAX and PyTorch models cannot take tf tensors.
            for batch in data.as_numpy_iterator():
                x, y = batch[0], batch[1]
                ys.append(np.asarray(y))
                preds.append(self._logits(self.model.predict_on_batch(x)))
            return np.concatenate(ys), np.concatenate(preds)
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "`validation_data` must be (x, y) or a tf.data.Dataset of (x, y). "
                f"Received: {type(data).__name__}"
            )
        x, y = data[0], data[1]
        predictions = self.model.predict(x, batch_size=self.batch_size, verbose=0)
        return np.asarray(y), self._logits(predictions)

    def _logits(self, predictions):
        if isinstance(predictions, dict):
            key = self.output or ("logits" if "logits" in predictions else None)
            if key is None or key not in predictions:
                raise ValueError(
                    "The model has several outputs: pass `output=` naming the "
                    f"logits among {sorted(predictions)}."
                )
            predictions = predictions[key]
        return np.asarray(predictions)

    def _num_classes(self):
        try:
            width = self.model.outputs[0].shape[-1]
        except (AttributeError, IndexError, TypeError, ValueError):
            return None
        if width is None:
            return None
        return 2 if width == 1 else int(width)

    def on_train_begin(self, logs=None):
        # The labels are checked before the first epoch trains, not after it
        # (a `tf.data` validation set costs one extra pass over its labels).
        data = self.validation_data
        if hasattr(data, "as_numpy_iterator"):
            y = np.concatenate([batch[1] for batch in data.as_numpy_iterator()])
        elif isinstance(data, (tuple, list)) and len(data) >= 2:
            y = np.asarray(data[1])
        else:
            return
        num_classes = self._num_classes()
        if num_classes is not None and y.ndim >= 2 and y.shape[-1] == num_classes:
            return  # one-hot rows
        try:
            count_classes(y, num_classes)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"ImbalanceMonitor: the labels of `validation_data` are not class "
                f"ids of the model's {num_classes} outputs: {error}"
            ) from None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        y, predictions = self._predict()
        num_classes = predictions.shape[-1]
        if num_classes == 1:
            num_classes = 2
        names = self.class_names or [str(i) for i in range(num_classes)]
        found = {
            "val_balanced_accuracy": imbalance_metrics.BalancedAccuracy(num_classes),
            "val_macro_f1": imbalance_metrics.MacroF1(num_classes),
            "val_g_mean": imbalance_metrics.GeometricMeanRecall(num_classes),
        }
        if self.class_counts is not None:
            for group in SHOT_GROUPS:
                members = imbalance_metrics.group_of_classes(self.class_counts, group)
                if members.size:
                    found[f"val_{shot_accuracy_name(group)}"] = (
                        imbalance_metrics.GroupAccuracy(self.class_counts, group)
                    )
        for key, metric in found.items():
            try:
                metric.update_state(y, predictions)
            except (TypeError, ValueError) as error:
                raise type(error)(
                    f"ImbalanceMonitor, validation data at epoch {epoch}: {error}"
                ) from None
            logs[key] = float(keras.ops.convert_to_numpy(metric.result()))
        metric = found["val_balanced_accuracy"]
        confusion = keras.ops.convert_to_numpy(metric.confusion)
        support = confusion.sum(axis=1)
        recall = np.divide(
            np.diag(confusion), support, out=np.zeros(num_classes), where=support > 0
        )
        for name, value in zip(names, recall):
            logs[f"val_recall/{name}"] = float(value)


class PreciseBatchNorm(keras.callbacks.Callback):
    """Re-estimates the BatchNorm statistics with the final weights after `fit`.

    At the end of training, calls
    `keras_imbalance.models.recompute_batch_norm_statistics(model, x, ...)`:
    the moving mean and variance of every trainable BatchNormalization become
    the average of its batch statistics over `x` with the final weights,
    instead of a moving average that trails them (Wu & Johnson 2021,
    "Rethinking 'Batch' in BatchNorm"). Callbacks run in list order: put this
    one *after* those that change the weights at the end of training
    (`EarlyStopping(restore_best_weights=True)`, weight averaging), so it sees
    the weights that are kept. Checkpoints written during training, and the
    validation of each epoch, still use the moving statistics.

    Args:
        x: Training inputs, as `recompute_batch_norm_statistics` takes them:
            an array (or list/dict of arrays) or an iterable of batches such
            as a `tf.data.Dataset` of `(x, y)`. Use the training batch size
            (and augmentation) to get the statistics training normalised by.
        batch_size: Batch size for array inputs. Defaults to `32`.
        steps: Use at most this many batches. Defaults to `None` (all).

    Attributes:
        updated_layers: Number of BatchNormalization layers updated at the end
            of the last `fit` (`None` before).

    Example:

    >>> import keras, numpy as np
    >>> x, y = np.random.rand(64, 4).astype("float32"), np.arange(64) % 2
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
    ...                           keras.layers.BatchNormalization(),
    ...                           keras.layers.Dense(2)])
    >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    >>> precise_bn = PreciseBatchNorm(x, batch_size=16)
    >>> _ = model.fit(x, y, batch_size=16, epochs=1, verbose=0,
    ...               callbacks=[precise_bn])
    >>> precise_bn.updated_layers
    1
    """

    def __init__(self, x, *, batch_size=32, steps=None):
        super().__init__()
        self.x = x
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.steps = check_optional_int("steps", steps, low=1)
        self.updated_layers = None

    def on_train_end(self, logs=None):
        self.updated_layers = recompute_batch_norm_statistics(
            self.model, self.x, batch_size=self.batch_size, steps=self.steps
        )
