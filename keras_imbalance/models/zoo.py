"""The model zoo: named architectures, and a BBN from any model function.

`model_factory(name)` gives a `ModelFactory`, a callable
`factory(input_shape, num_classes, head="dense")` that builds a fresh model
of one named architecture (the names of `MODELS`); the strategies of
`keras_imbalance.strategies` and `keras-imbalance compare --model` train
these (`"mlp"` and `"attention_mlp"` for tables). `build_generic_bilateral`
turns any model function into a bilateral-branch network, for model
functions without a `bilateral` method.
"""

import inspect

import keras

from keras_imbalance import _catalog
from keras_imbalance.layers.bilateral import BilateralMixing
from keras_imbalance.models._common import (
    apply_layers,
    check_dropout,
    check_size,
    head_layers,
)
from keras_imbalance.models.attention_classifier import build_attention_classifier
from keras_imbalance.models.bilateral import (
    MIXING_LAYER,
    BilateralBranchTrainer,
    build_bilateral_branch_network,
)
from keras_imbalance.models.decoupling import find_head

__all__ = [
    "MODELS",
    "ModelFactory",
    "accepts_head",
    "build_generic_bilateral",
    "model_factory",
]

MODELS = _catalog.MODELS
"""Model names of `model_factory` (and `keras-imbalance compare --model`),
each with a one-line description."""

# Model name -> (backbone, attention) of `build_attention_classifier`.
_ARCHITECTURES = {
    "small_cnn": ("small_cnn", None),
    "attention_cnn": ("small_cnn", "se"),
    "cbam_cnn": ("small_cnn", "cbam"),
    "eca_cnn": ("small_cnn", "eca"),
    "small_resnet": ("small_resnet", None),
    "attention_resnet": ("small_resnet", "se"),
    "mlp": ("small_cnn", None),  # the backbone is unused for (F,) inputs
    "attention_mlp": ("small_cnn", "feature"),
}


class ModelFactory:
    """Builds fresh models of one named architecture.

    `factory(input_shape, num_classes, head="dense")` calls
    `keras_imbalance.models.build_attention_classifier` and
    `factory.bilateral(...)` the matching
    `models.build_bilateral_branch_network` (same trunk, same width), which
    the `"bbn"` strategy trains. Images `(H, W, C)` get 2-D convolutions,
    sequences `(T, C)` 1-D ones, feature vectors `(F,)` Dense blocks (any
    model with an attention name starts them with `layers.FeatureAttention`).
    `"mlp"` and `"attention_mlp"` (that attention) are for tables: they take
    feature vectors only. The head layer is named `"classifier"`.

    Args:
        name: A key of `MODELS`. Defaults to `"small_cnn"`.
        width: Filters of the first stage, doubled at each stage, a positive
            integer. Defaults to `32`.
        depth: Number of stages, a positive integer (at least 2 for
            `bilateral`). Defaults to `3`.
        dropout: Dropout rate before the head, in `[0, 1)`. Defaults to
            `0.0`.

    Raises:
        ValueError: For an unknown `name` (the message lists `MODELS`), or a
            bad `width`, `depth` or `dropout`; when called, a table model
            given an input that is not a feature vector.

    Example:

    >>> factory = ModelFactory("cbam_cnn", width=4, depth=2)
    >>> factory.get_config()
    {'name': 'cbam_cnn', 'width': 4, 'depth': 2, 'dropout': 0.0}
    >>> model = factory((8, 8, 1), 3, head="cosine")
    >>> type(model.get_layer("classifier")).__name__
    'CosineClassifier'
    """

    def __init__(self, name="small_cnn", *, width=32, depth=3, dropout=0.0):
        if not isinstance(name, str) or name not in MODELS:
            raise ValueError(
                f"Unknown model {name!r}. Available models: {', '.join(MODELS)}."
            )
        self.name = name
        self.backbone, self.attention = _ARCHITECTURES[name]
        self.width = check_size("width", width)
        self.depth = check_size("depth", depth)
        self.dropout = check_dropout(dropout)

    def get_config(self):
        """The constructor arguments: `ModelFactory(**factory.get_config())`.

        Example:

        >>> ModelFactory("small_resnet", depth=2).get_config()["depth"]
        2
        """
        return {
            "name": self.name,
            "width": self.width,
            "depth": self.depth,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        """A factory from `get_config()`'s dict.

        Example:

        >>> factory = ModelFactory("eca_cnn", width=8)
        >>> ModelFactory.from_config(factory.get_config())
        ModelFactory('eca_cnn', width=8, depth=3, dropout=0.0)
        """
        return cls(**config)

    def _args(self, head, input_shape):
        try:
            rank = len(tuple(input_shape))
        except TypeError:
            rank = 1  # not a shape: the builder says so
        if self.name in _catalog.TABLE_MODELS and rank != 1:
            raise ValueError(
                f"The model {self.name!r} is for tables: inputs of shape "
                f"(features,). Received: input_shape={tuple(input_shape)}. For "
                "images or sequences use small_cnn, small_resnet or their "
                "attention variants."
            )
        # For (F,) inputs every attention name gives `FeatureAttention`
        # (`_common.mlp_trunk`); "feature" names it, "se" is a registered name.
        attention = "se" if self.attention == "feature" else self.attention
        return dict(
            backbone=self.backbone,
            attention=attention,
            width=self.width,
            depth=self.depth,
            head=head,
            dropout=self.dropout,
        )

    def __call__(self, input_shape, num_classes, *, head="dense"):
        return build_attention_classifier(
            input_shape, num_classes, name=self.name, **self._args(head, input_shape)
        )

    def bilateral(self, input_shape, num_classes, *, head="dense"):
        """`(train_model, inference_model)` of the bilateral-branch network.

        Example:

        >>> train_model, inference_model = ModelFactory(width=4, depth=2).bilateral(
        ...     (8, 8, 1), 3)
        >>> inference_model.name
        'small_cnn_bbn'
        """
        return build_bilateral_branch_network(
            input_shape,
            num_classes,
            name=f"{self.name}_bbn",
            **self._args(head, input_shape),
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
    >>> mlp = model_factory("attention_mlp", width=8, depth=2)((12,), 3)
    >>> type(mlp.layers[1]).__name__, tuple(mlp.output.shape)
    ('FeatureAttention', (None, 3))
    """
    return ModelFactory(name, **kwargs)


def accepts_head(model_fn):
    """Whether `model_fn` takes a `head=` keyword (or any `**kwargs`).

    A `ModelFactory` and every `keras_imbalance` builder do; the strategies
    that want a cosine head need one that does. A callable whose signature
    cannot be read counts as not taking it.

    Example:

    >>> accepts_head(model_factory("small_cnn"))
    True
    >>> accepts_head(lambda input_shape, num_classes: None)
    False
    """
    try:
        parameters = inspect.signature(model_fn).parameters
    except (TypeError, ValueError):
        return False
    return "head" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def build_generic_bilateral(
    model_fn, input_shape, num_classes, *, head="dense", head_name="classifier"
):
    """A bilateral-branch network from any `model_fn`: `(train, inference)`.

    For model functions without a `bilateral` method (a `ModelFactory` has
    one, which shares the early stages). Two models are built with
    `model_fn(input_shape, num_classes)`; each, cut at the input of its head
    (the layer named `head_name`, see `find_head`), is one branch. Unlike the
    builders' BBN the two branches share nothing but the classifier, a new
    head on the `BilateralMixing` of both branches' features, named
    `"classifier"` and shared by the two returned models:

    * the training model (a `BilateralBranchTrainer`) takes `[x_c, x_r]` and
      mixes with the weight `alpha` set by `callbacks.CumulativeLearning`;
    * the inference model takes `x` and mixes both branches on it with
      `alpha = 0.5`.

    Reference: Zhou, Cui, Wei, Chen. "BBN: Bilateral-Branch Network with
    Cumulative Learning for Long-Tailed Visual Recognition". CVPR 2020.

    Args:
        model_fn: A callable `model_fn(input_shape, num_classes)` returning a
            functional `keras.Model` whose head's input is pooled features
            `(batch, units)`.
        input_shape: Shape of one input, without the batch axis.
        num_classes: Number of classes.
        head: Name of the new shared head (`"dense"`, `"cosine"` or one added
            with `layers.register_head`). Defaults to `"dense"`.
        head_name: Name of the head layer of `model_fn`'s models. Defaults
            to `"classifier"`.

    Returns:
        `(train_model, inference_model)`, sharing every weight.

    Raises:
        TypeError: If `model_fn` is not callable.
        ValueError: If a model has no layer named `head_name`, or its head's
            input is not `(batch, units)`.

    Example:

    >>> import keras
    >>> def mlp(input_shape, num_classes):
    ...     inputs = keras.Input(input_shape)
    ...     x = keras.layers.Dense(8, activation="relu")(inputs)
    ...     return keras.Model(inputs, keras.layers.Dense(
    ...         num_classes, name="classifier")(x))
    >>> train_model, inference_model = build_generic_bilateral(mlp, (5,), 3)
    >>> len(train_model.inputs), tuple(inference_model.output.shape)
    (2, (None, 3))
    """
    if not callable(model_fn):
        raise TypeError(
            "Invalid value for argument `model_fn`. Expected a callable "
            "`model_fn(input_shape, num_classes)` returning a keras.Model. "
            f"Received: model_fn={model_fn!r}"
        )
    branches = []
    for branch in ("conventional", "rebalancing"):
        model = model_fn(input_shape, num_classes)
        if not isinstance(model, keras.Model):
            raise TypeError(
                "`model_fn(input_shape, num_classes)` must return a keras.Model. "
                f"Received: {type(model).__name__} from model_fn={model_fn!r}"
            )
        features = keras.Model(
            model.inputs, find_head(model, head_name).input, name=f"{branch}_branch"
        )
        if len(features.output.shape) != 2:
            raise ValueError(
                "The bilateral-branch network needs the head's input to be "
                "pooled features (batch, units). Received a head input of shape "
                f"{tuple(features.output.shape)}."
            )
        branches.append(features)
    classifier = head_layers(num_classes, head)

    x_c = keras.Input(input_shape, name="conventional")
    x_r = keras.Input(input_shape, name="rebalancing")
    mixed = BilateralMixing(alpha=1.0, name=MIXING_LAYER)(
        [branches[0](x_c), branches[1](x_r)]
    )
    train_model = BilateralBranchTrainer(
        [x_c, x_r], apply_layers(mixed, classifier), name="bbn_train"
    )
    x = keras.Input(input_shape, name="inputs")
    mixed = BilateralMixing(alpha=0.5, name=MIXING_LAYER)(
        [branches[0](x), branches[1](x)]
    )
    return train_model, keras.Model(x, apply_layers(mixed, classifier), name="bbn")
