"""String factory for the attention layers, used by the model builders."""

import keras

from keras_imbalance.layers.cbam import CBAM
from keras_imbalance.layers.eca import EfficientChannelAttention
from keras_imbalance.layers.squeeze_excitation import SqueezeExcitation

__all__ = ["ATTENTION_LAYERS", "get_attention"]

ATTENTION_LAYERS = {
    "se": SqueezeExcitation,
    "cbam": CBAM,
    "eca": EfficientChannelAttention,
}


def get_attention(identifier, /, **kwargs):
    """A new attention layer from a name, like timm's `get_attn`.

    Args:
        identifier: `"se"` (`SqueezeExcitation`), `"cbam"` (`CBAM`), `"eca"`
            (`EfficientChannelAttention`), case-insensitive; `None` (no
            attention: returns `None`); or a layer instance, returned as is.
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
    key = identifier.lower() if isinstance(identifier, str) else identifier
    if key not in ATTENTION_LAYERS:
        raise ValueError(
            "Invalid value for argument `identifier`. Expected one of "
            f"{sorted(ATTENTION_LAYERS)}, None or a Keras layer instance. "
            f"Received: identifier={identifier!r}"
        )
    return ATTENTION_LAYERS[key](**kwargs)
