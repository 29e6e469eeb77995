"""Look up a loss of this package, or of Keras, by name."""

import inspect

import keras

from keras_imbalance.losses._base import ImbalanceLoss

__all__ = ["get"]

_PACKAGE = "keras_imbalance"


def _registered_class(name):
    """A loss class of ours from `"keras_imbalance>FocalLoss"` or `"FocalLoss"`."""
    if ">" not in name:
        name = f"{_PACKAGE}>{name}"
    obj = keras.saving.get_registered_object(name)
    if inspect.isclass(obj) and issubclass(obj, ImbalanceLoss):
        return obj
    return None


def get(identifier):
    """Return a loss instance from a name, a config dict, or a loss.

    Keras 3 resolves only its built-in names in `model.compile(loss="...")`
    (registered names such as `"keras_imbalance>FocalLoss"` are not looked up:
    keras-team/keras#20112), so pass the result of this function instead:

        model.compile(loss=keras_imbalance.losses.get("keras_imbalance>FocalLoss"))

    Args:
        identifier: A `keras.losses.Loss` instance (returned as is); the
            registered name `"keras_imbalance>ClassName"` or the bare class
            name (an instance with default arguments); a serialized loss dict
            (`keras.losses.serialize(loss)`); or any identifier
            `keras.losses.get` accepts (`"categorical_crossentropy"` ...).

    Returns:
        A loss instance (or a Keras loss function, for Keras' own function names).

    Raises:
        ValueError: for an unknown name, or a loss whose required arguments
            (such as `class_counts`) a bare name cannot supply.

    Example:

    >>> get("keras_imbalance>FocalLoss")
    <FocalLoss(gamma=2.0, alpha=None, from_logits=False, label_smoothing=0.0,
    ignore_class=None)>
    """
    if identifier is None or isinstance(identifier, keras.losses.Loss):
        return identifier
    if isinstance(identifier, dict):
        return keras.losses.deserialize(identifier)
    if isinstance(identifier, str):
        cls = _registered_class(identifier)
        if cls is not None:
            required = [
                p.name
                for p in inspect.signature(cls.__init__).parameters.values()
                if p.default is inspect.Parameter.empty and p.name != "self"
            ]
            if required:
                raise ValueError(
                    f"`{cls.__name__}` needs {', '.join(f'`{r}`' for r in required)}, "
                    f"which a name cannot give: build it as "
                    f"`{cls.__name__}({required[0]}=...)` instead."
                )
            return cls()
    try:
        return keras.losses.get(identifier)
    except ValueError:
        raise ValueError(
            f"Could not interpret loss identifier: {identifier!r}. Expected a loss "
            "instance, a name such as 'keras_imbalance>FocalLoss' or "
            "'categorical_crossentropy', or a serialized loss dict."
        ) from None
