"""Registries of attention layers and classification heads, looked up by name.

Every model builder of `keras_imbalance.models` takes `attention=` and
`head=` as names from these registries and checks them against the names
registered at the time of the call, so a layer registered here with
`register_attention` or `register_head` works in every builder.
"""

import keras

from keras_imbalance.layers.cbam import CBAM
from keras_imbalance.layers.cosine_classifier import CosineClassifier
from keras_imbalance.layers.eca import EfficientChannelAttention
from keras_imbalance.layers.squeeze_excitation import SqueezeExcitation

__all__ = [
    "ATTENTION_LAYERS",
    "HEAD_LAYERS",
    "get_attention",
    "get_head",
    "register_attention",
    "register_head",
]

ATTENTION_LAYERS = {
    "se": SqueezeExcitation,
    "cbam": CBAM,
    "eca": EfficientChannelAttention,
}
"""Attention name (lower case) -> layer class; extended by `register_attention`."""

HEAD_LAYERS = {
    "dense": keras.layers.Dense,
    "cosine": CosineClassifier,
}
"""Head name (lower case) -> factory `(num_classes, **kwargs) -> layer`; extended by
`register_head`."""


def _register(registry, what, name, value, overwrite):
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"Invalid value for argument `name`. Expected a non-empty string "
            f"(the {what} name). Received: name={name!r}"
        )
    if not isinstance(overwrite, bool):
        raise ValueError(
            "Invalid value for argument `overwrite`. Expected a boolean. "
            f"Received: overwrite={overwrite!r}"
        )
    key = name.lower()
    if key in registry and not overwrite:
        raise ValueError(
            f"The {what} name {key!r} is already registered (to "
            f"{getattr(registry[key], '__name__', registry[key])!r}). Pass "
            "`overwrite=True` to replace it."
        )
    registry[key] = value
    return key


def register_attention(name, layer_class, *, overwrite=False):
    """Register an attention layer class under a name, for every builder.

    Afterwards `get_attention(name)` returns a new `layer_class(**kwargs)` and
    every builder of `keras_imbalance.models` accepts `attention=name` (each
    stage gets its own instance, named like the built-in ones). The layer
    must return a tensor of its input's shape. To save the models with
    `model.save("m.keras")` and load them without `custom_objects`, also
    decorate the class with `keras.saving.register_keras_serializable`.

    Args:
        name: The attention name, a non-empty string; stored in lower case
            (`get_attention` looks names up case-insensitively).
        layer_class: A subclass of `keras.layers.Layer` whose constructor
            takes the base layer keyword arguments (`name=` at least).
        overwrite: Whether to replace a layer already registered under
            `name` (built-in ones included). Defaults to `False`.

    Returns:
        `layer_class`.

    Raises:
        TypeError: If `layer_class` is not a `keras.layers.Layer` subclass.
        ValueError: For a bad `name`, or a name already taken without
            `overwrite=True`.

    Example:

    >>> import keras
    >>> class Gate(keras.layers.Layer):
    ...     def call(self, inputs):
    ...         return inputs * keras.ops.sigmoid(inputs)
    >>> _ = register_attention("gate", Gate)
    >>> type(get_attention("gate", name="stage0_attention")).__name__
    'Gate'
    >>> del ATTENTION_LAYERS["gate"]  # unregister
    """
    if not (
        isinstance(layer_class, type) and issubclass(layer_class, keras.layers.Layer)
    ):
        raise TypeError(
            "Invalid value for argument `layer_class`. Expected a subclass of "
            f"`keras.layers.Layer`. Received: layer_class={layer_class!r}"
        )
    _register(ATTENTION_LAYERS, "attention", name, layer_class, overwrite)
    return layer_class


def register_head(name, factory, *, overwrite=False):
    """Register a classification head under a name, for every builder.

    Afterwards `get_head(name, num_classes)` returns
    `factory(num_classes, name=...)` and every builder of
    `keras_imbalance.models` accepts `head=name`. The head maps pooled
    features `(B, F)` to logits `(B, num_classes)`; builders name it
    `"classifier"` (so `models.find_head` and the decoupling functions find
    it).

    Args:
        name: The head name, a non-empty string; stored in lower case.
        factory: A callable `factory(num_classes, **kwargs)` returning a new
            `keras.layers.Layer` (a layer class such as `keras.layers.Dense`
            qualifies); `kwargs` holds `name=` at least.
        overwrite: Whether to replace a head already registered under `name`.
            Defaults to `False`.

    Returns:
        `factory`.

    Raises:
        TypeError: If `factory` is not callable.
        ValueError: For a bad `name`, or a name already taken without
            `overwrite=True`.

    Example:

    >>> import keras
    >>> def bias_free(num_classes, **kwargs):
    ...     return keras.layers.Dense(num_classes, use_bias=False, **kwargs)
    >>> _ = register_head("bias_free", bias_free)
    >>> get_head("bias_free", 5, name="classifier").use_bias
    False
    >>> del HEAD_LAYERS["bias_free"]  # unregister
    """
    if not callable(factory):
        raise TypeError(
            "Invalid value for argument `factory`. Expected a callable "
            "`factory(num_classes, **kwargs)` returning a Keras layer. "
            f"Received: factory={factory!r}"
        )
    _register(HEAD_LAYERS, "head", name, factory, overwrite)
    return factory


def _lookup(registry, what, identifier, also=""):
    key = identifier.lower() if isinstance(identifier, str) else identifier
    try:
        return registry[key]
    except (KeyError, TypeError):
        raise ValueError(
            "Invalid value for argument `identifier`. Expected one of "
            f"{sorted(registry)} (the registered {what} names; add one with "
            f"`register_{what}`){also}. Received: identifier={identifier!r}"
        ) from None


def get_attention(identifier, /, **kwargs):
    """A new attention layer from a name, like timm's `get_attn`.

    Args:
        identifier: A name of `ATTENTION_LAYERS`, case-insensitive: `"se"`
            (`SqueezeExcitation`), `"cbam"` (`CBAM`), `"eca"`
            (`EfficientChannelAttention`) or one added with
            `register_attention`; `None` (no attention: returns `None`); or a
            layer instance, returned as is.
        **kwargs: Passed to the layer's constructor, `name=` included (the
            identifier is positional-only so a layer argument cannot clash
            with it).

    Returns:
        A new layer, the given layer, or `None`.

    Raises:
        ValueError: For an unknown name (the message lists the valid ones),
            or keyword arguments given with a layer instance or `None`.

    Example:

    >>> layer = get_attention("se", reduction=8, name="block1_se")
    >>> type(layer).__name__, layer.reduction, layer.name
    ('SqueezeExcitation', 8, 'block1_se')
    >>> get_attention(None) is None
    True
    """
    if identifier is None or isinstance(identifier, keras.layers.Layer):
        if kwargs:
            raise ValueError(
                "Keyword arguments apply only when `identifier` is a name. "
                f"Received: identifier={identifier!r}, kwargs={sorted(kwargs)}"
            )
        return identifier
    layer_class = _lookup(
        ATTENTION_LAYERS, "attention", identifier, ", None or a Keras layer instance"
    )
    return layer_class(**kwargs)


def get_head(identifier, /, num_classes, **kwargs):
    """A new classification head layer from a name.

    Args:
        identifier: A name of `HEAD_LAYERS`, case-insensitive: `"dense"`
            (`keras.layers.Dense`), `"cosine"` (`CosineClassifier`, scale
            16) or one added with `register_head`.
        num_classes: Number of logits, passed first to the head's factory.
        **kwargs: Passed to the factory, `name=` included.

    Returns:
        A new `keras.layers.Layer`.

    Raises:
        ValueError: For an unknown name (the message lists the valid ones).
        TypeError: If a registered factory returns something else than a
            Keras layer.

    Example:

    >>> head = get_head("cosine", 10, name="classifier")
    >>> type(head).__name__, head.units, head.name
    ('CosineClassifier', 10, 'classifier')
    >>> type(get_head("dense", 3)).__name__
    'Dense'
    """
    layer = _lookup(HEAD_LAYERS, "head", identifier)(num_classes, **kwargs)
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(
            f"The head factory registered as {identifier!r} returned "
            f"{type(layer).__name__}, not a Keras layer."
        )
    return layer
