"""What a recipe's steps see during `Strategy.fit`: the `FitContext`."""

import contextlib
import dataclasses
import sys

import keras
import numpy as np

from keras_imbalance import data, models, protocols
from keras_imbalance._arrays import is_file_source, model_input
from keras_imbalance._validation import invalid
from keras_imbalance.metrics import BalancedAccuracy

__all__ = ["FitContext"]


def optimizer_factory(optimizer):
    """A callable returning a new copy of the caller's optimizer, or `None`."""
    if optimizer is None:
        return None
    if isinstance(optimizer, keras.optimizers.Optimizer):
        config = keras.optimizers.serialize(optimizer)
        return lambda: keras.optimizers.deserialize(config)
    if isinstance(optimizer, (str, dict)):
        return lambda: keras.optimizers.get(optimizer)
    if callable(optimizer):
        return optimizer
    raise invalid(
        "optimizer",
        "None, an optimizer name, config, instance, or a callable returning one",
        optimizer,
    )


DISTRIBUTIONS = ("data_parallel",)
_HOST_DEVICES = "XLA_FLAGS=--xla_force_host_platform_device_count=2"


def _tf_strategy(value):
    """Whether `value` is a `tf.distribute.Strategy` (without importing TF)."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.distribute.Strategy)


def distribution_scope(distribution):
    """`(scope, record)`: the context to train under, and its JSON-plain record.

    `distribution` is `None` (one device), `"data_parallel"`
    (`keras.distribution.DataParallel` over every device), a
    `keras.distribution.DataParallel` or `ModelParallel` (JAX backend), or a
    `tf.distribute.Strategy` (TensorFlow backend). The scope makes it the
    current one (`keras.distribution.set_distribution`, or
    `strategy.scope()`) and restores the previous one on exit.
    """
    if distribution is None:
        return contextlib.nullcontext(), None
    backend = keras.config.backend()
    if _tf_strategy(distribution):
        if backend != "tensorflow":
            raise ValueError(
                "A tf.distribute.Strategy needs the TensorFlow backend; Keras "
                f"runs on {backend!r}. Use keras.distribution.DataParallel "
                "(JAX) instead."
            )
        return distribution.scope(), {
            "class_name": type(distribution).__name__,
            "devices": list(distribution.extended.worker_devices),
            "replicas": int(distribution.num_replicas_in_sync),
        }
    named = isinstance(distribution, str)
    # Keras exports no base class of its distributions: these are the two.
    kinds = (keras.distribution.DataParallel, keras.distribution.ModelParallel)
    if not named and not isinstance(distribution, kinds):
        raise invalid(
            "distribution",
            "None, 'data_parallel', a keras.distribution.DataParallel or "
            "ModelParallel, or a tf.distribute.Strategy",
            distribution,
        )
    if named and distribution not in DISTRIBUTIONS:
        raise invalid("distribution", f"one of {DISTRIBUTIONS}", distribution)
    if backend != "jax":
        raise ValueError(
            "keras.distribution (distribution='data_parallel', DataParallel "
            f"or ModelParallel) needs the JAX backend; Keras runs on {backend!r}. "
            "Set KERAS_BACKEND=jax, or on TensorFlow pass a "
            "tf.distribute.Strategy (e.g. MirroredStrategy)."
        )
    if named:
        devices = keras.distribution.list_devices()
        if len(devices) < 2:
            raise ValueError(
                "distribution='data_parallel' needs at least 2 devices; JAX "
                f"sees {len(devices)} ({', '.join(devices)}). On CPU, start "
                f"Python with {_HOST_DEVICES} (or more) to split the host."
            )
        distribution = keras.distribution.DataParallel(devices=devices)
    mesh = distribution.device_mesh
    return distribution.scope(), {
        "class_name": type(distribution).__name__,
        "devices": [str(d) for d in np.ravel(mesh.devices)],
        "mesh_shape": [int(n) for n in mesh.shape],
        "axis_names": list(mesh.axis_names),
    }


def replayed_distribution(record):
    """The distribution that `record` (`setup["distribution"]`) describes, again.

    `rerun` trains under it, so a comparison run on several devices is
    replayed on the same ones: a `DataParallel` record gives a
    `keras.distribution.DataParallel` over its devices (JAX backend), a
    `MirroredStrategy` record a `tf.distribute.MirroredStrategy` over its
    devices (TensorFlow backend); `None` stays `None` (one device). Any
    other record, or devices this process does not have, raise `ValueError`
    asking for `distribution=`.
    """
    if record is None:
        return None
    kind, devices = record.get("class_name"), list(record.get("devices") or [])
    backend = keras.config.backend()
    if kind == "DataParallel" and backend == "jax":
        if set(devices) <= set(keras.distribution.list_devices()):
            return keras.distribution.DataParallel(devices=devices)
    elif kind == "MirroredStrategy" and backend == "tensorflow":
        import tensorflow as tf

        def place(name):
            spec = tf.DeviceSpec.from_string(name)
            return spec.device_type, spec.device_index

        here = {place(d.name) for d in tf.config.list_logical_devices()}
        if {place(d) for d in devices} <= here:
            return tf.distribute.MirroredStrategy(devices)
    raise ValueError(
        f"These results ran under {kind} over {devices}, which this process "
        f"(Keras backend {backend!r}) cannot build again. Pass "
        "`distribution=` to `rerun`: a distribution over this machine's "
        "devices, or None to train on one device."
    )


def check_batches(record, batch_size, splits):
    """Raise `ValueError` unless the batch axis of `record` divides every batch.

    JAX shards a batch over a `keras.distribution` mesh only when the
    devices divide its size, and Keras lays out every batch of an epoch as
    the first: the last batch of a split (`N mod batch_size` samples) must
    divide too. `splits` maps a split's name to its number of samples.
    `tf.distribute` strategies split ragged batches themselves.
    """
    if record is None or "mesh_shape" not in record:
        return
    devices = record["mesh_shape"][0]
    sizes = {"batch_size": batch_size, **splits}
    ragged = {name: n for name, n in sizes.items() if n % devices}
    if ragged:
        raise ValueError(
            f"{record['class_name']} over {devices} devices shards every batch "
            f"{devices} ways, so the batch size and the size of each split "
            f"must be multiples of {devices}; these are not: {ragged}. Change "
            "batch_size, or the data (e.g. drop a few training samples)."
        )


@dataclasses.dataclass
class FitContext:
    """What a strategy's steps see during `Strategy.fit`.

    Recipes read it in their steps (a `Stage`'s `loss(context, model)`,
    `data(context)` ...); `Strategy.fit` builds it.

    Attributes:
        x, y: The training inputs and integer labels `(N,)`.
        class_counts: Training samples per class (list of ints).
        num_classes: Number of classes.
        epochs, batch_size, seed: The budget and the seed of `fit`.
        validation_data: As given to `fit`, or `None`.
        callbacks: The caller's extra callbacks (added to every `model.fit`).
        verbose: Verbosity of `model.fit`.
        protocol: The `protocols.TrainingProtocol` (optimizer, schedule,
            precise BatchNorm), or `None` when the caller gave an optimizer
            of their own (used as given, no schedule).
        user_optimizer: A callable returning the caller's optimizer, or
            `None`.
        head: The head every strategy must use (`"dense"` / `"cosine"`),
            or `None` (each recipe's own).

    Example:

    >>> import numpy as np
    >>> context = FitContext(
    ...     x=np.zeros((6, 4), "float32"), y=np.array([0, 0, 0, 0, 1, 1]),
    ...     class_counts=[4, 2], num_classes=2, epochs=2, batch_size=2, seed=0,
    ...     validation_data=None, callbacks=[], verbose=0,
    ...     protocol=protocols.get("default"))
    >>> context.input_shape
    (4,)
    >>> context.drw_weights(1)["normalization"]
    'batch_size'
    """

    x: object
    y: np.ndarray
    class_counts: list
    num_classes: int
    epochs: int
    batch_size: int
    seed: int
    validation_data: object
    callbacks: list
    verbose: object
    protocol: object = None
    user_optimizer: object = None
    head: object = None

    @property
    def input_shape(self):
        return tuple(np.shape(self.x)[1:])

    def balanced_dataset(self, sampling="balanced", *, one_hot=False):
        """`data.balanced_dataset` over the training data, `ceil(N / B)` steps."""
        y = self.y
        if one_hot:
            y = np.eye(self.num_classes, dtype="float32")[self.y]
        return data.balanced_dataset(
            self.x,
            y,
            batch_size=self.batch_size,
            sampling=sampling,
            num_classes=self.num_classes,
            seed=self.seed,
        )

    def metrics(self):
        return [BalancedAccuracy(self.num_classes)]

    def new_optimizer(self, learning_rate_multiplier=1.0):
        """A new optimizer for a training stage.

        The protocol's (its schedule sets the rate each epoch), or the
        caller's; a multiplier other than 1 scales the caller's learning
        rate, which must then be a number (a schedule cannot be scaled).
        """
        if self.user_optimizer is None:
            return self.protocol.new_optimizer(
                self.protocol.learning_rate * learning_rate_multiplier
            )
        optimizer = self.user_optimizer()
        if learning_rate_multiplier != 1.0:
            rate = optimizer.get_config().get("learning_rate")
            if not isinstance(rate, (int, float)):
                raise ValueError(
                    "A learning-rate multiplier cannot scale the learning-rate "
                    f"schedule of the optimizer given ({rate!r}). Pass an "
                    "optimizer with a constant learning rate, or set the "
                    "strategy's multiplier to 1."
                )
            optimizer.learning_rate = float(rate) * learning_rate_multiplier
        return optimizer

    def compile(self, model, loss, *, learning_rate_multiplier=1.0):
        model.compile(
            optimizer=self.new_optimizer(learning_rate_multiplier),
            loss=loss,
            metrics=self.metrics(),
        )
        return model

    def fit(
        self,
        model,
        training_data,
        epochs,
        *,
        callbacks=(),
        validation_data=None,
        learning_rate_multiplier=1.0,
        warmup=True,
    ):
        """`model.fit` on arrays (shuffled) or a dataset, with every callback.

        Under a protocol, its learning-rate schedule runs over these
        `epochs` (peak scaled by `learning_rate_multiplier`; `warmup=False`
        for a stage that restarts the schedule).
        """
        if validation_data is None:
            validation_data = self.validation_data
        if isinstance(validation_data, tuple) and is_file_source(validation_data[0]):
            validation_data = model_input(
                *validation_data[:2], batch_size=self.batch_size
            )
        schedule = []
        if self.user_optimizer is None:
            peak = self.protocol.learning_rate * learning_rate_multiplier
            schedule = [
                keras.callbacks.LearningRateScheduler(
                    protocols.EpochSchedule(
                        self.protocol, epochs, peak=peak, warmup=warmup
                    )
                )
            ]
        kwargs = dict(
            epochs=epochs,
            validation_data=validation_data,
            callbacks=[*schedule, *callbacks, *self.callbacks],
            verbose=self.verbose,
        )
        if training_data is None and is_file_source(self.x):
            training_data = model_input(
                self.x, self.y, batch_size=self.batch_size, shuffle=True, seed=self.seed
            )
        if training_data is None:
            return model.fit(
                self.x, self.y, batch_size=self.batch_size, shuffle=True, **kwargs
            )
        # The pipelines draw (and reshuffle) their own batches.
        return model.fit(training_data, shuffle=False, **kwargs)

    def recompute_batch_norm(self, model):
        """Re-estimate `model`'s BatchNorm statistics over the training data.

        With the protocol's `precise_bn` (the default); a no-op without it,
        with a caller's optimizer, or for a model without BatchNorm.
        """
        if self.protocol is None or not self.protocol.precise_bn:
            return 0
        x = self.x
        if is_file_source(x):  # the batches arrays give: in order
            x = model_input(x, batch_size=self.batch_size)
        return models.recompute_batch_norm_statistics(
            model, x, batch_size=self.batch_size
        )

    def drw_weights(self, start_epoch, beta=0.9999):
        """The `DeferredReweighting` arguments for the protocol."""
        normalization = "batch_size"
        if self.protocol is not None:
            normalization = self.protocol.drw_normalization
        return dict(
            class_counts=self.class_counts,
            start_epoch=start_epoch,
            beta=beta,
            normalization=normalization,
        )


def merge_histories(histories):
    """One `History` for the stages of a recipe (epochs numbered on)."""
    if len(histories) == 1:
        return histories[0]
    merged = keras.callbacks.History()
    keys = []
    for history in histories:
        keys += [k for k in history.history if k not in keys]
    merged.history = {
        key: [
            value
            for history in histories
            for value in history.history.get(key, [None] * len(history.epoch))
        ]
        for key in keys
    }
    total = sum(len(history.epoch) for history in histories)
    merged.epoch = list(range(total))
    merged.params = dict(histories[-1].params or {}, epochs=total)
    merged.set_model(histories[-1].model)
    return merged
