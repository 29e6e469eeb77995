"""The `Strategy` base class: a recipe is a list of `Stage`s run by one runner."""

import inspect
import secrets

import keras
import numpy as np

from keras_imbalance import protocols
from keras_imbalance._arrays import is_file_source, model_input
from keras_imbalance._labels import integer_class_ids
from keras_imbalance._validation import (
    check_positive_int,
    check_seed,
    invalid,
)
from keras_imbalance.class_weights import class_counts as count_classes
from keras_imbalance.models.zoo import accepts_head, build_generic_bilateral
from keras_imbalance.strategies.context import (
    FitContext,
    merge_histories,
    optimizer_factory,
)
from keras_imbalance.strategies.stages import Stage, seeded, split_epochs

__all__ = ["Strategy"]


class Strategy:
    """A named training recipe: a list of `Stage`s and a last step.

    `fit` builds the context (labels, class counts, budget, protocol), runs
    `stages()` in order (each one compiles its model with its loss and the
    protocol's optimizer and fits it on its data with its callbacks), then
    returns `finish(model, context)`: the inference model. A recipe declares
    its stages and parameters; it never overrides the runner.

    The one-stage default is built from three hooks a simple recipe
    overrides: `loss(context)`, `training_data(context)` and
    `callbacks(context, loss)`. Parameters are the `__init__` arguments,
    validated there, returned by `get_config()` (so
    `type(s).from_config(s.get_config())` is the same recipe) and shown in
    `description`, formatted from the class's `summary` template.

    Attributes:
        name: The registered name (set by `register`).
        summary: The description template, `str.format`-ted with
            `get_config()` (e.g. `"focal loss, gamma={gamma:g}"`).
        reference: The paper.
        head: The head the recipe asks of a `model_fn` that takes `head=`.

    Example: a two-stage recipe, cross-entropy then the whole network
    fine-tuned on class-balanced batches at a tenth of the rate.

    >>> import numpy as np
    >>> from keras_imbalance import strategies
    >>> @strategies.register("ce_then_balanced")
    ... class CEThenBalanced(strategies.Strategy):
    ...     summary = "cross-entropy, then balanced batches for {fraction:g}"
    ...     def __init__(self, fraction=0.2):
    ...         self.fraction = fraction
    ...     def stages(self):
    ...         return [
    ...             strategies.Stage(),
    ...             strategies.Stage(
    ...                 model="previous", share=self.fraction,
    ...                 data=lambda context: context.balanced_dataset("balanced"),
    ...                 learning_rate_multiplier=0.1, restart_schedule=True),
    ...         ]
    >>> x = np.random.default_rng(0).random((60, 8, 8, 1)).astype("float32")
    >>> y = np.repeat([0, 1, 2], [40, 15, 5])
    >>> recipe = strategies.get("ce_then_balanced", fraction=0.5)
    >>> model, history = recipe.fit(
    ...     strategies.model_factory("small_cnn", width=4, depth=2), x, y,
    ...     epochs=2, batch_size=16)
    >>> recipe.description, len(history.epoch)
    ('cross-entropy, then balanced batches for 0.5', 2)
    >>> strategies.unregister("ce_then_balanced")
    """

    name = None
    summary = ""
    reference = ""
    head = "dense"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for runner in ("train", "fit", "_run"):
            if runner in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides `{runner}`: a recipe declares "
                    "its training in `stages()` (a list of `Stage`s) and "
                    "`finish()`, and `Strategy.fit` runs them."
                )

    # --- declaration --------------------------------------------------------

    def loss(self, context):
        """The one-stage default's loss. Defaults to sparse cross-entropy on logits."""
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def training_data(self, context):
        """The one-stage default's data: a `tf.data.Dataset`, or `None` (the arrays)."""
        return None

    def callbacks(self, context, loss):
        """The one-stage default's callbacks. Defaults to none."""
        return []

    def default_stage(self, **changes):
        """A `Stage` whose loss, data and callbacks are the three hooks.

        `changes` replace any field (e.g. `model="previous", share=0.1`).
        """
        fields = dict(
            loss=lambda context, model: self.loss(context),
            data=self.training_data,
            callbacks=self.callbacks,
        )
        return Stage(**{**fields, **changes})

    def check_inputs(self, input_shape):
        """Raise `ValueError` if the recipe cannot train on such inputs.

        `input_shape` is the shape of one sample (`(H, W, C)` for images,
        `(F,)` for table rows). `compare` asks every recipe before it trains
        any, so that a recipe made for images does not fail on a table
        after the others have trained. The base accepts every shape.
        """

    def stages(self):
        """The recipe's `Stage`s. Defaults to `[self.default_stage()]`."""
        return [self.default_stage()]

    def finish(self, model, context):
        """The inference model from the last stage's. Defaults to `model`."""
        return model

    def head_for(self, context):
        """The head to ask of `model_fn`: the caller's `head=`, else the recipe's."""
        return self.head if context.head is None else context.head

    # --- parameters ----------------------------------------------------------

    def get_config(self):
        """The recipe's parameters (its `__init__` arguments) as a dict."""
        parameters = inspect.signature(type(self).__init__).parameters
        return {
            name: getattr(self, name)
            for name in parameters
            if name != "self" and hasattr(self, name)
        }

    @classmethod
    def from_config(cls, config):
        """A new recipe from `get_config()`'s dict."""
        return cls(**config)

    def description_fields(self):
        """The values `summary` is formatted with. Defaults to `get_config()`."""
        return self.get_config()

    @property
    def description(self):
        """One line for tables and `--help`, built from the parameters."""
        return self.summary.format(**self.description_fields())

    def describe(self):
        """`description`, plus the changed parameters when it is a fixed string.

        A recipe that sets `description = "..."` instead of a `summary`
        template gets the parameters that differ from their defaults
        appended, so every description names the parameters it ran with.
        """
        if isinstance(inspect.getattr_static(type(self), "description"), property):
            return self.description
        parameters = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_config().items()
            if name in parameters and parameters[name].default != value
        ]
        return self.description + (f" ({', '.join(changed)})" if changed else "")

    # --- the runner ----------------------------------------------------------

    def build_model(self, model_fn, context):
        """A fresh model from `model_fn`, with the head of `head_for`."""
        if accepts_head(model_fn):
            return model_fn(
                context.input_shape, context.num_classes, head=self.head_for(context)
            )
        if context.head is not None:
            raise ValueError(
                f"head={context.head!r} needs a model_fn that takes `head=` "
                "(e.g. strategies.model_factory(...)); this one does not."
            )
        return model_fn(context.input_shape, context.num_classes)

    def build_bilateral(self, model_fn, context):
        """`(train_model, inference_model)` of a bilateral-branch network."""
        shape, classes = context.input_shape, context.num_classes
        if hasattr(model_fn, "bilateral"):
            if accepts_head(model_fn.bilateral):
                return model_fn.bilateral(shape, classes, head=self.head_for(context))
            return model_fn.bilateral(shape, classes)
        return build_generic_bilateral(model_fn, shape, classes)

    def _run(self, model_fn, context):
        stages = list(self.stages())
        if not stages or not all(isinstance(s, Stage) for s in stages):
            raise TypeError(
                f"{type(self).__name__}.stages() must return a non-empty list "
                f"of Stage objects. Received: {stages!r}"
            )
        if stages[0].model == "previous":
            raise ValueError("The first stage cannot train the 'previous' model.")
        model, histories = None, []
        budget = split_epochs(context.epochs, [stage.share for stage in stages])
        for stage, epochs in zip(stages, budget):
            validation = context.validation_data
            if stage.model == "new":
                model = train_model = self.build_model(model_fn, context)
            elif stage.model == "bilateral":
                train_model, model = self.build_bilateral(model_fn, context)
                if validation is not None:
                    # The train model takes pairs; metrics are computed on y_c.
                    x_val, y_val = validation[0], validation[1]
                    if is_file_source(x_val):
                        validation = model_input(
                            x_val, y_val, batch_size=context.batch_size
                        ).map(lambda x, y: ((x, x), (y, y)))
                    else:
                        validation = ((x_val, x_val), (y_val, y_val))
            else:
                train_model = model
            if stage.prepare is not None:
                stage.prepare(model, context)
            if stage.loss is None:
                loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            else:
                loss = stage.loss(context, model)
            multiplier = stage.multiplier(context)
            context.compile(train_model, loss, learning_rate_multiplier=multiplier)
            callbacks = (
                [] if stage.callbacks is None else stage.callbacks(context, loss)
            )
            histories.append(
                context.fit(
                    train_model,
                    None if stage.data is None else stage.data(context),
                    epochs,
                    callbacks=callbacks,
                    validation_data=validation,
                    learning_rate_multiplier=multiplier,
                    warmup=not stage.restart_schedule,
                )
            )
            # The next stage, `finish` and the caller see inference-mode
            # statistics that describe the final weights.
            context.recompute_batch_norm(model)
        return self.finish(model, context), merge_histories(histories)

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

        Reproducibility: for an integer `seed`, `fit` seeds Python, NumPy and
        the backend (`keras.utils.set_random_seed`: initial weights, dropout,
        the shuffling of the arrays) and every data pipeline of the recipe,
        so the same seed gives the same model on the same machine; Python's
        `random` and NumPy's global state are restored on return (the
        backend's global seed stays set: Keras has no public way to read and
        restore it). `seed=None` seeds
        nothing (Keras draws from the global generators as it always does)
        and draws the pipelines' seed afresh: runs are not reproducible.

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
                `keras.Model` with logits outputs and a head layer named
                `"classifier"` (e.g. `model_factory(...)` or a
                `keras_imbalance.models` builder in a `functools.partial`).
            x: Training inputs, an array `(N, ...)`.
            y: Integer class ids `(N,)` / `(N, 1)` or one-hot rows `(N, C)`.
            epochs: Training epochs (all stages together), >= 1.
            batch_size: Samples per batch, >= 1.
            validation_data: `(x_val, y_val)` for `model.fit`. Defaults to
                `None`.
            seed: `None` or an integer in `[0, 2**32)`. Defaults to `0`.
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
        seed = check_seed("seed", seed)
        if num_classes is not None:
            num_classes = check_positive_int("num_classes", num_classes)
        protocol = protocols.get(protocol)
        if head is not None and head not in ("dense", "cosine"):
            raise invalid("head", "None, 'dense' or 'cosine'", head)
        if not callable(model_fn):
            raise invalid("model_fn", "a callable returning a keras.Model", model_fn)
        if isinstance(x, (dict, list, tuple)):
            raise TypeError(
                "Strategies train single-input models: `x` must be one array "
                f"(N, ...). Received: x of type {type(x).__name__}."
            )
        if not is_file_source(x):  # `data.ImageFiles` stay on disk
            x = np.asarray(x)
        y = integer_class_ids(y, num_classes)
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
                val_y = integer_class_ids(validation_data[1], name="validation y")
                if val_y.size:
                    num_classes = max(num_classes, int(val_y.max()) + 1)
        if num_classes < 2:
            raise ValueError(
                "Training needs at least 2 classes. Received: "
                f"num_classes={num_classes}."
            )
        user_optimizer = optimizer_factory(optimizer)
        context = FitContext(
            x=x,
            y=y,
            class_counts=count_classes(y, num_classes).tolist(),
            num_classes=num_classes,
            epochs=epochs,
            batch_size=batch_size,
            seed=secrets.randbits(31) if seed is None else seed,
            validation_data=validation_data,
            callbacks=list(callbacks or []),
            verbose=verbose,
            protocol=None if user_optimizer is not None else protocol,
            user_optimizer=user_optimizer,
            head=head,
        )
        self.tuned_params_ = {}
        with seeded(seed):
            return self._run(model_fn, context)

    def __repr__(self):
        return f"<Strategy {self.name!r}: {self.description}>"
