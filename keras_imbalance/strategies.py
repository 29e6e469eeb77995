"""Named training recipes for long-tailed data.

A *strategy* bundles one remedy from the literature (a loss, a sampler, a
callback, a change of head or a second training stage) behind one name, so
that several remedies can be trained on the same data with the same model and
budget and compared side by side (`keras-imbalance compare` does exactly
that):

>>> from keras_imbalance import strategies
>>> strategies.available()[:5]
['ce', 'weighted_ce', 'focal', 'cb_focal', 'ldam_drw']
>>> strategies.get("ldam_drw").description
'LDAM margin loss on a cosine head, deferred re-weighting for the last 20% of epochs'

Every strategy trains through `Strategy.fit(model_fn, x, y, epochs=...,
batch_size=...)` and returns the trained *inference* model (logits, one
input) and its `History`. `model_fn(input_shape, num_classes)` builds a fresh
model with logits outputs and a head layer named `"classifier"` (or any last
layer with a `kernel`), like every `keras_imbalance.models` builder; the
factories of `model_factory` also take `head=` (LDAM asks for a cosine head)
and build the matching bilateral-branch network for `"bbn"`.

Every strategy uses the same optimizer (Adam, learning rate 1e-3, unless
`optimizer=` is given), the same number of epochs and the same batch size;
the two-stage recipes split the epochs between their stages, so the budget
stays the same. Register your own with `register`:

>>> import keras
>>> @strategies.register("label_smoothing")
... class LabelSmoothing(strategies.Strategy):
...     description = "cross-entropy with label smoothing 0.1"
...     def loss(self, context):
...         return keras.losses.CategoricalCrossentropy(
...             from_logits=True, label_smoothing=0.1)
...     def training_data(self, context):
...         return context.balanced_dataset("instance", one_hot=True)
>>> strategies.get("label_smoothing").name
'label_smoothing'
>>> strategies.unregister("label_smoothing")
"""

import dataclasses
import inspect
import math
import numbers

import keras
import numpy as np

from keras_imbalance import _catalog, data, losses, models, protocols
from keras_imbalance import callbacks as imbalance_callbacks
from keras_imbalance._validation import check_float, check_positive_int, invalid
from keras_imbalance.class_weights import class_counts as count_classes
from keras_imbalance.class_weights import compute_class_weights
from keras_imbalance.layers import CosineClassifier
from keras_imbalance.metrics import BalancedAccuracy

TAU_GRID = tuple(round(0.1 * i, 1) for i in range(21))
"""Values of `tau` tried by `tau="auto"` (0 to 2 in steps of 0.1)."""

__all__ = [
    "DEFAULT_COMPARE",
    "MODELS",
    "TAU_GRID",
    "FitContext",
    "ModelFactory",
    "Strategy",
    "available",
    "get",
    "model_factory",
    "register",
    "unregister",
]


DRW_FRACTION = 0.8
"""Deferred re-weighting starts after this fraction of the epochs (160/200)."""

# --- models ------------------------------------------------------------------

MODELS = _catalog.MODELS
"""Model names of `model_factory` (and `keras-imbalance compare --model`)."""

_MODEL_ARGS = {
    "small_cnn": ("small_cnn", None),
    "attention_cnn": ("small_cnn", "se"),
    "cbam_cnn": ("small_cnn", "cbam"),
    "eca_cnn": ("small_cnn", "eca"),
    "small_resnet": ("small_resnet", None),
    "attention_resnet": ("small_resnet", "se"),
}


class ModelFactory:
    """Builds fresh models of one named architecture.

    `factory(input_shape, num_classes, head="dense")` calls
    `keras_imbalance.models.build_attention_classifier` and
    `factory.bilateral(...)` the matching
    `models.build_bilateral_branch_network` (same trunk, same width), which
    the `"bbn"` strategy trains. Images `(H, W, C)` get 2-D convolutions,
    sequences `(T, C)` 1-D ones, feature vectors `(F,)` Dense blocks.

    Args:
        name: A key of `MODELS`.
        width: Filters of the first stage, doubled at each stage. Defaults
            to `32`.
        depth: Number of stages. Defaults to `3`.
        dropout: Dropout rate before the head. Defaults to `0.0`.
    """

    def __init__(self, name="small_cnn", *, width=32, depth=3, dropout=0.0):
        if name not in _MODEL_ARGS:
            raise ValueError(
                f"Unknown model {name!r}. Available models: {', '.join(MODELS)}."
            )
        self.name = name
        self.backbone, self.attention = _MODEL_ARGS[name]
        self.width = width
        self.depth = depth
        self.dropout = dropout

    def _args(self, head):
        return dict(
            backbone=self.backbone,
            attention=self.attention,
            width=self.width,
            depth=self.depth,
            head=head,
            dropout=self.dropout,
        )

    def __call__(self, input_shape, num_classes, *, head="dense"):
        return models.build_attention_classifier(
            input_shape, num_classes, name=self.name, **self._args(head)
        )

    def bilateral(self, input_shape, num_classes, *, head="dense"):
        """`(train_model, inference_model)` of the bilateral-branch network."""
        return models.build_bilateral_branch_network(
            input_shape, num_classes, name=f"{self.name}_bbn", **self._args(head)
        )

    def __repr__(self):
        return (
            f"ModelFactory({self.name!r}, width={self.width}, depth={self.depth}, "
            f"dropout={self.dropout})"
        )


def model_factory(name="small_cnn", **kwargs):
    """A `ModelFactory` for a name of `MODELS` (keyword arguments: width, depth,
    dropout).

    Example:

    >>> build = model_factory("attention_cnn", width=8, depth=2)
    >>> tuple(build((8, 8, 1), 10).output.shape)
    (None, 10)
    """
    return ModelFactory(name, **kwargs)


def _accepts_head(model_fn):
    try:
        parameters = inspect.signature(model_fn).parameters
    except (TypeError, ValueError):
        return False
    return "head" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _generic_bilateral(model_fn, input_shape, num_classes):
    """A BBN from any `model_fn`: two copies of its feature extractor.

    Used when `model_fn` has no `bilateral` method. Unlike the builders'
    BBN (shared early stages), the two branches share nothing but the
    classifier.
    """
    from keras_imbalance.layers import BilateralMixing

    branches = []
    for branch in ("conventional", "rebalancing"):
        model = model_fn(input_shape, num_classes)
        head = models.find_head(model)
        features = keras.Model(model.inputs, head.input, name=f"{branch}_branch")
        if len(features.output.shape) != 2:
            raise ValueError(
                "The bilateral-branch network needs the head's input to be "
                "pooled features (batch, units). Received a head input of shape "
                f"{tuple(features.output.shape)}."
            )
        branches.append(features)
    width = branches[0].output.shape[-1] + branches[1].output.shape[-1]
    features = keras.Input((width,))
    head_model = keras.Model(
        features, keras.layers.Dense(num_classes, name="classifier")(features)
    )
    x_c = keras.Input(input_shape, name="conventional")
    x_r = keras.Input(input_shape, name="rebalancing")
    mixed = BilateralMixing(alpha=1.0, name="bilateral_mixing")(
        [branches[0](x_c), branches[1](x_r)]
    )
    train_model = models.BilateralBranchTrainer(
        [x_c, x_r], head_model(mixed), name="bbn_train"
    )
    x = keras.Input(input_shape, name="inputs")
    mixed = BilateralMixing(alpha=0.5, name="bilateral_mixing")(
        [branches[0](x), branches[1](x)]
    )
    return train_model, keras.Model(x, head_model(mixed), name="bbn")


# --- the fit context -----------------------------------------------------------


def _int_labels(y, num_classes):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            "Labels must be integer class ids (N,) or (N, 1), or one-hot rows "
            f"(N, C). Received: y with shape {y.shape}."
        )
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("Labels must be integer class ids.")
    y = y.astype("int64")
    if y.size and y.min() < 0:
        raise ValueError(f"Labels must be >= 0. Received a label {y.min()}.")
    if num_classes is not None and y.size and y.max() >= num_classes:
        raise ValueError(
            f"Labels must lie in [0, {num_classes - 1}] for num_classes="
            f"{num_classes}. Received a label {y.max()}."
        )
    return y


def _optimizer_factory(optimizer):
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


@dataclasses.dataclass
class FitContext:
    """What a strategy's steps see during `Strategy.fit`.

    Recipes read it in their steps (`loss(context)`, `training_data(context)`
    ...); `Strategy.fit` builds it.

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
        return models.recompute_batch_norm_statistics(
            model, self.x, batch_size=self.batch_size
        )

    def drw_weights(self, start_epoch, beta=0.9999):
        """A `DeferredReweighting` factory argument set for the protocol."""
        normalization = "batch_size"
        if self.protocol is not None:
            normalization = self.protocol.drw_normalization
        return dict(
            class_counts=self.class_counts,
            start_epoch=start_epoch,
            beta=beta,
            normalization=normalization,
        )


def _merge_histories(first, second):
    """One `History` for two training stages (epochs numbered on)."""
    merged = keras.callbacks.History()
    keys = list(first.history) + [k for k in second.history if k not in first.history]
    n_first, n_second = len(first.epoch), len(second.epoch)
    merged.history = {
        key: list(first.history.get(key, [None] * n_first))
        + list(second.history.get(key, [None] * n_second))
        for key in keys
    }
    merged.epoch = list(range(n_first + n_second))
    merged.params = dict(second.params or {}, epochs=n_first + n_second)
    merged.set_model(second.model)
    return merged


# --- the base class ----------------------------------------------------------


class Strategy:
    """A named training recipe: loss + training data + callbacks (+ a last step).

    `fit` builds a model with `model_fn`, compiles it with `loss(context)`
    and the optimizer, trains it on `training_data(context)` (`None`: the
    arrays, shuffled every epoch) with `callbacks(context, loss)`, then
    returns `finish(model, context)`: the inference model. Subclasses
    override those steps; `head` is the head they ask of a `model_fn` that
    takes `head=`.

    Attributes:
        name: The registered name (set by `register`).
        description: One line for tables and `--help`.
        reference: The paper.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    >>> y = np.repeat([0, 1, 2], [40, 15, 5])
    >>> model, history = get("balanced_softmax").fit(
    ...     model_factory("small_cnn", width=4, depth=2), x, y,
    ...     epochs=2, batch_size=16)
    >>> tuple(model.output.shape), len(history.epoch)
    ((None, 3), 2)
    """

    name = None
    description = ""
    reference = ""
    head = "dense"

    # Steps a recipe overrides.
    def loss(self, context):
        """The training loss. Defaults to sparse cross-entropy on logits."""
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def training_data(self, context):
        """A `tf.data.Dataset`, or `None` to fit the arrays (shuffled)."""
        return None

    def callbacks(self, context, loss):
        """The recipe's own callbacks. Defaults to none."""
        return []

    def finish(self, model, context):
        """The inference model from the trained one. Defaults to `model`."""
        return model

    def head_for(self, context):
        """The head to ask of `model_fn`: the caller's `head=`, else the recipe's."""
        return self.head if context.head is None else context.head

    def build_model(self, model_fn, context):
        if _accepts_head(model_fn):
            return model_fn(
                context.input_shape, context.num_classes, head=self.head_for(context)
            )
        if context.head is not None:
            raise ValueError(
                f"head={context.head!r} needs a model_fn that takes `head=` "
                "(e.g. strategies.model_factory(...)); this one does not."
            )
        return model_fn(context.input_shape, context.num_classes)

    def get_config(self):
        """The recipe's parameters (its `__init__` arguments) as a dict."""
        parameters = inspect.signature(type(self).__init__).parameters
        return {
            name: getattr(self, name)
            for name in parameters
            if name != "self" and hasattr(self, name)
        }

    def describe(self):
        """`description` plus the parameters that differ from the defaults."""
        parameters = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_config().items()
            if name in parameters and parameters[name].default != value
        ]
        return self.description + (f" ({', '.join(changed)})" if changed else "")

    def train(self, model_fn, context):
        """Build, compile and fit: `(trained model, history)`."""
        model = self.build_model(model_fn, context)
        loss = self.loss(context)
        context.compile(model, loss)
        history = context.fit(
            model,
            self.training_data(context),
            context.epochs,
            callbacks=self.callbacks(context, loss),
        )
        return model, history

    def fit(
        self,
        model_fn,
        x,
        y,
        *,
        epochs,
        batch_size,
        validation_data=None,
        seed=0,
        num_classes=None,
        callbacks=None,
        verbose=0,
        optimizer=None,
        protocol="default",
        head=None,
    ):
        """Train a fresh model with this recipe.

        Seeds Python, NumPy and the backend with `seed`
        (`keras.utils.set_random_seed`), so the same seed gives the same
        initial weights, batches and result on the same machine.

        Training follows `protocol` (`keras_imbalance.protocols`): its
        optimizer and learning-rate schedule (restarted for each stage of a
        two-stage recipe), and, after each stage, BatchNorm statistics
        re-estimated over `x` with the final weights
        (`models.recompute_batch_norm_statistics`), so that the returned
        model's inference-mode statistics describe its weights.
        `tuned_params_` holds what the recipe chose on `validation_data`
        (e.g. `{"tau": 0.8}`), `{}` when nothing was tuned.

        Args:
            model_fn: `model_fn(input_shape, num_classes)` returning a new
                `keras.Model` with logits outputs (e.g. `model_factory(...)`
                or a `keras_imbalance.models` builder in a `functools.partial`).
            x: Training inputs, an array `(N, ...)`.
            y: Integer class ids `(N,)` / `(N, 1)` or one-hot rows `(N, C)`.
            epochs: Training epochs (all stages together), >= 1.
            batch_size: Samples per batch, >= 1.
            validation_data: `(x_val, y_val)` for `model.fit`. Defaults to
                `None`.
            seed: Integer seed. Defaults to `0`.
            num_classes: Number of classes. Defaults to the largest label + 1.
            callbacks: Extra Keras callbacks for every `model.fit` call
                (two-stage recipes call it twice).
            verbose: Verbosity of `model.fit`. Defaults to `0`.
            optimizer: `None` (the protocol's), or an optimizer name,
                config or instance (copied for each stage), or a callable
                returning a new optimizer: used as given, with no schedule
                and no BatchNorm re-estimation.
            protocol: A name of `protocols.PROTOCOLS` (`"default"`,
                `"ldam"`), a `protocols.TrainingProtocol` or its config.
                Defaults to `"default"`.
            head: `"dense"` or `"cosine"` to give every recipe the same
                head (the `model_fn` must take `head=`), or `None` for the
                recipe's own (LDAM-DRW asks for a cosine head). Defaults to
                `None`.

        Returns:
            `(model, history)`: the trained inference model (one input,
            logits) and a `keras.callbacks.History` of all stages.
        """
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        if isinstance(seed, bool) or not isinstance(
            seed, (numbers.Integral, np.integer)
        ):
            raise invalid("seed", "an integer", seed)
        if num_classes is not None:
            num_classes = check_positive_int("num_classes", num_classes)
        protocol = protocols.get(protocol)
        if head is not None and head not in ("dense", "cosine"):
            raise invalid("head", "None, 'dense' or 'cosine'", head)
        if not callable(model_fn):
            raise invalid("model_fn", "a callable returning a keras.Model", model_fn)
        if isinstance(x, dict) or isinstance(x, (list, tuple)):
            raise TypeError(
                "Strategies train single-input models: `x` must be one array "
                f"(N, ...). Received: x of type {type(x).__name__}."
            )
        x = np.asarray(x)
        y = _int_labels(y, num_classes)
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"`x` has {x.shape[0]} samples but `y` has {y.shape[0]}; they "
                "must match."
            )
        if y.size == 0:
            raise ValueError("There is nothing to train on: `y` has 0 samples.")
        if num_classes is None:
            num_classes = int(y.max()) + 1
            if validation_data is not None:
                val_y = _int_labels(validation_data[1], None)
                if val_y.size:
                    num_classes = max(num_classes, int(val_y.max()) + 1)
        if num_classes < 2:
            raise ValueError(
                "Training needs at least 2 classes. Received: "
                f"num_classes={num_classes}."
            )
        keras.utils.set_random_seed(int(seed))
        context = FitContext(
            x=x,
            y=y,
            class_counts=count_classes(y, num_classes).tolist(),
            num_classes=num_classes,
            epochs=epochs,
            batch_size=batch_size,
            seed=int(seed),
            validation_data=validation_data,
            callbacks=list(callbacks or []),
            verbose=verbose,
            protocol=protocol,
            user_optimizer=_optimizer_factory(optimizer),
            head=head,
        )
        if context.user_optimizer is not None:
            context.protocol = None
        self.tuned_params_ = {}
        model, history = self.train(model_fn, context)
        context.recompute_batch_norm(model)
        return self.finish(model, context), history

    def __repr__(self):
        return f"<Strategy {self.name!r}: {self.description}>"


# --- registry ------------------------------------------------------------------

_REGISTRY = {}


def register(name, strategy=None, *, overwrite=False):
    """Register a `Strategy` subclass under `name` (usable as a decorator).

    Args:
        name: The name for `get` and `keras-imbalance compare --strategies`.
        strategy: A `Strategy` subclass. Omitted: returns a decorator.
        overwrite: Whether to replace a registered name. Defaults to `False`.

    Returns:
        The class (so the decorator leaves it usable).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise invalid("name", "an identifier string such as 'my_recipe'", name)

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(
                "register() takes a subclass of keras_imbalance.strategies.Strategy. "
                f"Received: {cls!r}"
            )
        if name in _REGISTRY and not overwrite:
            raise ValueError(
                f"A strategy named {name!r} is already registered; pass "
                "overwrite=True to replace it."
            )
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator if strategy is None else decorator(strategy)


def unregister(name):
    """Remove a registered strategy (`KeyError` if there is none)."""
    del _REGISTRY[name]


def available():
    """Registered strategy names, in registration order."""
    return list(_REGISTRY)


def get(name, **params):
    """A new instance of the strategy registered as `name`.

    Args:
        name: A registered name, or a `Strategy` instance (returned as is).
        **params: Arguments of that strategy (e.g. `gamma=1.0` for
            `"focal"`, `tau=0.5` for `"tau_norm"`).
    """
    if isinstance(name, Strategy):
        return name
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown strategy {name!r}. Available strategies: {', '.join(_REGISTRY)}."
        )
    return _REGISTRY[name](**params)


# --- the recipes ---------------------------------------------------------------


@register("ce")
class CrossEntropy(Strategy):
    description = "plain cross-entropy, instance sampling (the baseline)"
    reference = "-"


@register("weighted_ce")
class WeightedCE(Strategy):
    description = "cross-entropy weighted by inverse class frequency N / (K n_c)"
    reference = "King & Zeng 2001; sklearn class_weight='balanced'"

    def loss(self, context):
        return losses.WeightedCrossEntropy(
            compute_class_weights(context.class_counts).tolist(), from_logits=True
        )


@register("focal")
class Focal(Strategy):
    description = "focal loss, gamma=2 (no class weights)"
    reference = "Lin et al., Focal Loss for Dense Object Detection, ICCV 2017"

    def __init__(self, gamma=2.0):
        self.gamma = check_float("gamma", gamma, low=0)

    def loss(self, context):
        return losses.FocalLoss(gamma=self.gamma, from_logits=True)


@register("cb_focal")
class ClassBalancedFocal(Strategy):
    description = "class-balanced sigmoid focal loss, beta=0.9999, gamma=1"
    reference = "Cui et al., Class-Balanced Loss Based on Effective Number, CVPR 2019"

    def __init__(self, beta=0.9999, gamma=1.0):
        self.beta = check_float("beta", beta, low=0, high=1, high_open=True)
        self.gamma = check_float("gamma", gamma, low=0)

    def loss(self, context):
        return losses.ClassBalancedLoss(
            context.class_counts,
            beta=self.beta,
            loss_type="focal",
            gamma=self.gamma,
            from_logits=True,
        )


def _drw_start(epochs, fraction):
    return min(epochs - 1, int(math.floor(fraction * epochs)))


@register("ldam_drw")
class LDAMDRW(Strategy):
    description = (
        "LDAM margin loss on a cosine head, deferred re-weighting for the last "
        "20% of epochs"
    )
    reference = "Cao et al., Learning Imbalanced Datasets with LDAM Loss, NeurIPS 2019"
    head = "cosine"

    def __init__(self, max_margin=0.5, scale=30.0, drw_fraction=DRW_FRACTION):
        self.max_margin = check_float("max_margin", max_margin, low=0)
        self.scale = check_float("scale", scale, low=0, low_open=True)
        self.drw_fraction = check_float("drw_fraction", drw_fraction, low=0, high=1)

    def train(self, model_fn, context):
        model = self.build_model(model_fn, context)
        head = models.find_head(model)
        if isinstance(head, CosineClassifier):
            # The head already multiplies cosines by its scale s_h: the
            # paper's s * (cos - m) is (s / s_h) * (s_h cos - s_h m).
            loss = losses.LDAMLoss(
                context.class_counts,
                max_margin=self.max_margin * head.scale,
                scale=self.scale / head.scale,
            )
        else:
            # Raw logits: margins in logit units, no extra scale.
            loss = losses.LDAMLoss(
                context.class_counts, max_margin=self.max_margin, scale=1.0
            )
        context.compile(model, loss)
        drw = imbalance_callbacks.DeferredReweighting(
            loss, **context.drw_weights(_drw_start(context.epochs, self.drw_fraction))
        )
        history = context.fit(model, None, context.epochs, callbacks=[drw])
        return model, history


@register("balanced_softmax")
class BalancedSoftmax(Strategy):
    description = "balanced softmax: log n_c added to the logits in the loss"
    reference = "Ren et al., Balanced Meta-Softmax, NeurIPS 2020"

    def loss(self, context):
        return losses.BalancedSoftmaxLoss(context.class_counts)


@register("logit_adjusted")
class LogitAdjusted(Strategy):
    description = "logit-adjusted loss, tau * log(prior) added in the loss (tau=1)"
    reference = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021"

    def __init__(self, tau=1.0):
        self.tau = check_float("tau", tau, low=0)

    def loss(self, context):
        return losses.LogitAdjustedLoss(class_counts=context.class_counts, tau=self.tau)


def _check_tau(tau):
    if isinstance(tau, str):
        if tau != "auto":
            raise invalid("tau", "'auto' or a non-negative float", tau)
        return tau
    return check_float("tau", tau, low=0)


def _tune_tau(strategy, context, candidate_model):
    """The tau of `TAU_GRID` with the best validation balanced accuracy.

    `candidate_model(tau)` returns the inference model for a tau. Ties go to
    the smallest tau. Records `strategy.tuned_params_["tau"]`.
    """
    if strategy.tau != "auto":
        return strategy.tau
    if context.validation_data is None:
        raise ValueError(
            f"{strategy.name}: tau='auto' tunes tau on validation data "
            "(Kang et al. 2020, Menon et al. 2021); pass `validation_data` to "
            "fit, or a number, e.g. tau=1.0."
        )
    x_val, y_val = context.validation_data[0], context.validation_data[1]
    y_val = _int_labels(y_val, context.num_classes)
    best_tau, best_score = None, -1.0
    for tau in TAU_GRID:
        scores = candidate_model(tau).predict(x_val, batch_size=256, verbose=0)
        score = _balanced_accuracy(y_val, np.argmax(scores, axis=-1))
        if score > best_score + 1e-12:
            best_tau, best_score = tau, score
    strategy.tuned_params_["tau"] = best_tau
    return best_tau


def _balanced_accuracy(y, predicted):
    present = np.unique(y)
    return float(np.mean([np.mean(predicted[y == c] == c) for c in present]))


@register("posthoc_logit_adjustment")
class PosthocLogitAdjustment(Strategy):
    description = (
        "cross-entropy, then logits - tau * log(prior) at inference "
        "(tau tuned on validation data)"
    )
    reference = "Menon et al., Long-tail learning via logit adjustment, ICLR 2021"

    def __init__(self, tau="auto"):
        self.tau = _check_tau(tau)

    def finish(self, model, context):
        # An empty class has prior 0 (log -inf); count it as one sample.
        priors = np.maximum(np.asarray(context.class_counts, "float64"), 1.0)
        priors = priors / priors.sum()

        def adjusted(tau):
            return models.with_logit_adjustment(model, priors, tau=tau)

        return adjusted(_tune_tau(self, context, adjusted))


@register("balanced_sampling")
class BalancedSampling(Strategy):
    description = "cross-entropy on class-balanced batches (class, then sample)"
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def training_data(self, context):
        return context.balanced_dataset("balanced")


@register("minority_augmentation")
class MinorityAugmentation(Strategy):
    description = "cross-entropy, rarer classes augmented more (rotation, zoom)"
    reference = "Shorten & Khoshgoftaar, Image Data Augmentation survey, 2019"

    def __init__(self, rotation=0.05, zoom=0.1, flip=None, power=1.0):
        self.rotation = rotation
        self.zoom = zoom
        self.flip = flip
        self.power = check_float("power", power, low=0)

    def training_data(self, context):
        if len(context.input_shape) != 3:
            raise ValueError(
                "minority_augmentation augments images (H, W, C). Received "
                f"inputs of shape {context.input_shape}."
            )
        augmenter = data.default_image_augmenter(
            rotation=self.rotation, zoom=self.zoom, flip=self.flip, seed=context.seed
        )
        return data.augment_minority(
            context.balanced_dataset("instance"),
            augmenter,
            class_counts=context.class_counts,
            power=self.power,
            seed=context.seed,
        )


@register("remix_drw")
class RemixDRW(Strategy):
    description = "Remix (labels favour the rare class) + deferred re-weighting"
    reference = "Chou et al., Remix: Rebalanced Mixup, ECCV Workshops 2020"

    def __init__(self, alpha=1.0, kappa=3.0, tau=0.5, drw_fraction=DRW_FRACTION):
        self.alpha = alpha
        self.kappa = kappa
        self.tau = tau
        self.drw_fraction = check_float("drw_fraction", drw_fraction, low=0, high=1)

    def loss(self, context):
        return losses.WeightedCrossEntropy(
            [1.0] * context.num_classes, from_logits=True
        )

    def training_data(self, context):
        return data.remix(
            context.balanced_dataset("instance"),
            class_counts=context.class_counts,
            alpha=self.alpha,
            kappa=self.kappa,
            tau=self.tau,
            seed=context.seed,
        )

    def callbacks(self, context, loss):
        return [
            imbalance_callbacks.DeferredReweighting(
                loss,
                **context.drw_weights(_drw_start(context.epochs, self.drw_fraction)),
            )
        ]


@register("smote")
class SMOTE(Strategy):
    description = (
        "cross-entropy on SMOTE-oversampled inputs (imbalanced-learn), N/B steps"
    )
    reference = "Chawla et al., SMOTE, JAIR 2002"

    def __init__(self, k_neighbors=5):
        self.k_neighbors = check_positive_int("k_neighbors", k_neighbors)

    def training_data(self, context):
        present = [n for n in context.class_counts if n > 0]
        k = min(self.k_neighbors, min(present) - 1)
        if k < 1:
            raise ValueError(
                f"The rarest class has {min(present)} sample(s) but SMOTE needs "
                "at least 2 per class (k_neighbors + 1 with k_neighbors >= 1)."
            )
        dataset = data.smote_dataset(
            context.x,
            context.y,
            batch_size=context.batch_size,
            seed=context.seed,
            num_classes=context.num_classes,
            k_neighbors=k,
        )
        # The same budget as the other recipes: ceil(N / B) steps an epoch,
        # from the over-sampled set reshuffled every epoch (a full pass over
        # it would be up to C times more steps).
        return dataset.take(math.ceil(len(context.y) / context.batch_size))


@register("bbn")
class BBN(Strategy):
    description = "bilateral-branch network, instance + reversed sampling, cumulative"
    reference = "Zhou et al., BBN: Bilateral-Branch Network, CVPR 2020"

    def train(self, model_fn, context):
        if hasattr(model_fn, "bilateral"):
            train_model, inference_model = model_fn.bilateral(
                context.input_shape, context.num_classes
            )
        else:
            train_model, inference_model = _generic_bilateral(
                model_fn, context.input_shape, context.num_classes
            )
        context.compile(train_model, self.loss(context))
        validation = context.validation_data
        if validation is not None:
            # The training model takes pairs; metrics are computed on y_c.
            x_val, y_val = validation[0], validation[1]
            validation = ((x_val, x_val), (y_val, y_val))
        history = context.fit(
            train_model,
            data.bilateral_dataset(
                context.x, context.y, batch_size=context.batch_size, seed=context.seed
            ),
            context.epochs,
            callbacks=[imbalance_callbacks.CumulativeLearning(context.epochs)],
            validation_data=validation,
        )
        return inference_model, history


@register("crt")
class ClassifierRetraining(Strategy):
    description = (
        "two stages: cross-entropy, then the re-initialised head alone on "
        "class-balanced batches (last 10% of epochs, schedule restarted)"
    )
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def __init__(self, retrain_fraction=0.1, head_learning_rate_multiplier=None):
        self.retrain_fraction = check_float(
            "retrain_fraction", retrain_fraction, low=0, high=1, low_open=True
        )
        if head_learning_rate_multiplier is not None:
            head_learning_rate_multiplier = check_float(
                "head_learning_rate_multiplier",
                head_learning_rate_multiplier,
                low=0,
                low_open=True,
            )
        self.head_learning_rate_multiplier = head_learning_rate_multiplier

    def stage_epochs(self, epochs):
        """`(first, second)`: the epochs of each stage (`epochs=1`: one each)."""
        second = max(1, int(round(self.retrain_fraction * epochs)))
        return max(1, epochs - second), second

    def multiplier(self, context):
        """The second stage's peak learning rate over the first's.

        `None` (the default) means 1 under SGD, as Kang et al., who restart
        the schedule at its peak, and 10 under Adam, whose 1e-3 leaves a
        head trained from scratch in a few epochs under-fit (balanced
        accuracy 0.52 instead of 0.96 on digits-lt after 2 epochs).
        """
        if self.head_learning_rate_multiplier is not None:
            return self.head_learning_rate_multiplier
        sgd = context.protocol is not None and context.protocol.optimizer == "sgd"
        return 1.0 if sgd else 10.0

    def train(self, model_fn, context):
        first, second = self.stage_epochs(context.epochs)
        model = self.build_model(model_fn, context)
        context.compile(model, self.loss(context))
        history = context.fit(model, None, first)
        # The second stage trains the head on frozen features: they must be
        # normalised with statistics of the final first-stage weights.
        context.recompute_batch_norm(model)
        models.retrain_classifier(model)
        multiplier = self.multiplier(context)
        context.compile(model, self.loss(context), learning_rate_multiplier=multiplier)
        retrain = context.fit(
            model,
            context.balanced_dataset("balanced"),
            second,
            learning_rate_multiplier=multiplier,
            warmup=False,
        )
        return model, _merge_histories(history, retrain)


@register("tau_norm")
class TauNormalization(Strategy):
    description = (
        "cross-entropy, then head columns scaled to w / ||w||^tau "
        "(tau tuned on validation data)"
    )
    reference = "Kang et al., Decoupling Representation and Classifier, ICLR 2020"

    def __init__(self, tau="auto"):
        self.tau = _check_tau(tau)

    def finish(self, model, context):
        def normalized(tau):
            return models.tau_normalize(model, tau=tau)

        return normalized(_tune_tau(self, context, normalized))


DEFAULT_COMPARE = list(_REGISTRY)
"""The strategies `keras-imbalance compare` runs by default: all fifteen."""
