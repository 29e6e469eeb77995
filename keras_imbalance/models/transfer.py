"""Transfer learning from `keras.applications` backbones, for small datasets.

`build_transfer_classifier` puts any `keras.applications` model (by name) under
a classification head, with everything a small, imbalanced image dataset needs
inside the model: resizing of inputs smaller than the backbone accepts,
channel repetition of gray-scale images, and the backbone's own input
preprocessing. The model takes raw pixels in `[0, 255]`, so an exported
SavedModel needs no preprocessing code beside it. `unfreeze_backbone` opens
the top of the backbone for the second stage of two-stage fine-tuning.

Yosinski, Clune, Bengio, Lipson. "How transferable are features in deep
neural networks?" NeurIPS 2014. https://arxiv.org/abs/1411.1792
"""

import math
import numbers
import os
import warnings

import keras

from keras_imbalance._validation import check_bool, check_float, invalid
from keras_imbalance.layers.factory import get_attention
from keras_imbalance.models._common import (
    check_attention,
    check_choice,
    check_dropout,
    check_head,
    check_num_classes,
    classifier_head,
)
from keras_imbalance.models.backbones import (
    BACKBONES,
    preprocessing_layers,
)

__all__ = [
    "BACKBONES",
    "build_transfer_classifier",
    "unfreeze_backbone",
]

POOLINGS = ("avg", "max")

# ---------------------------------------------------------------- validation


def _check_input_shape(input_shape, min_size):
    expected = (
        "an image shape (height, width, channels) without the batch axis, "
        "with 1 or 3 channels (height and width may be None)"
    )
    if isinstance(input_shape, str):
        raise invalid("input_shape", expected, input_shape)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise invalid("input_shape", expected, input_shape) from None
    if len(shape) != 3 or not all(
        d is None
        or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0)
        for d in shape
    ):
        raise invalid("input_shape", expected, input_shape)
    shape = tuple(None if d is None else int(d) for d in shape)
    if shape[-1] not in (1, 3):
        raise invalid("input_shape", expected, input_shape)
    if None in shape[:2] and any(d is not None and d < min_size for d in shape[:2]):
        # Resizing needs both sizes; with one unknown the other must fit.
        raise invalid(
            "input_shape",
            f"known height and width (to resize up to {min_size}x{min_size}), "
            f"or sizes of at least {min_size} when one of them is None",
            input_shape,
        )
    return shape


def _check_weights(weights):
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        return weights
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if os.path.isfile(path):
            return path
    raise invalid(
        "weights",
        'None, "imagenet", or the path to an existing weights file '
        "(`.weights.h5`) of the backbone or of a classifier built with the "
        "same arguments",
        weights,
    )


# ------------------------------------------------------------------ builder


def build_transfer_classifier(
    num_classes,
    *,
    backbone="MobileNetV3Small",
    input_shape=(224, 224, 3),
    weights=None,
    head="dense",
    attention=None,
    pooling="avg",
    dropout=0.2,
    trainable_backbone=False,
):
    """A `keras.applications` backbone under a classification head.

    The model takes raw RGB (or gray-scale) pixels in `[0, 255]` and returns
    logits. Inside it, in order:

    1. gray-scale inputs (1 channel) are repeated to 3 channels (layer
       `"channel_repeat"`);
    2. inputs smaller than the backbone's minimum (e.g. 28x28 for a 32x32
       minimum) are resized up to it (layer `"resize"`);
    3. the backbone's `preprocess_input` is applied as Keras layers (the last
       one named `"preprocessing"`), unless the backbone preprocesses by
       itself (MobileNetV3, EfficientNet, EfficientNetV2, ConvNeXt);
    4. the backbone (a nested model named `"backbone"`, frozen unless
       `trainable_backbone=True`), an optional attention block on its last
       feature map (`"attention"`), global pooling (`"pool"`), dropout and
       the head (`"classifier"`).

    A frozen backbone's BatchNormalization layers run in inference mode
    (Keras 3 semantics of `trainable=False`). For the second stage of
    two-stage fine-tuning, call `unfreeze_backbone` and compile again.

    Reference: Kornblith, Shlens, Le. "Do Better ImageNet Models Transfer
    Better?" CVPR 2019 (fine-tuning pretrained ImageNet backbones).

    Args:
        num_classes: Number of classes (>= 2).
        backbone: A name in `BACKBONES`, e.g. `"MobileNetV3Small"`,
            `"EfficientNetB0"`, `"ResNet50"`, `"ConvNeXtTiny"`. Defaults to
            `"MobileNetV3Small"`.
        input_shape: `(height, width, channels)` of the raw images, with 1 or
            3 channels. Defaults to `(224, 224, 3)`.
        weights: `None` (random initialisation), `"imagenet"` (passed to the
            `keras.applications` constructor, which downloads them; an
            `OSError` that says so when the download fails), or the
            path to a weights file saved with `save_weights` either from a
            classifier built with the same arguments or from the backbone
            alone (`model.get_layer("backbone").save_weights(path)`, or an
            ImageNet "notop" file as `keras.applications` takes it). The file
            is loaded into the classifier if it fits, else into the
            backbone. Defaults to `None`.
        head: `"dense"` (a `Dense` layer), `"cosine"` (a
            `keras_imbalance.layers.CosineClassifier` with `scale=16.0`) or a
            name added with `keras_imbalance.layers.register_head`. Defaults
            to `"dense"`.
        attention: `None`, `"se"`, `"cbam"`, `"eca"` or a name added with
            `keras_imbalance.layers.register_attention`: a block from
            `keras_imbalance.layers.get_attention` on the backbone's last
            feature map. Defaults to `None`.
        pooling: `"avg"` or `"max"` global pooling. Defaults to `"avg"`.
        dropout: Dropout rate before the head, in `[0, 1)`. Defaults to
            `0.2`.
        trainable_backbone: Whether the backbone is trained. Defaults to
            `False`.

    Returns:
        A functional `keras.Model` from images `(B, H, W, C)` to logits
        `(B, num_classes)`.

    Example:

    >>> import numpy as np
    >>> model = build_transfer_classifier(
    ...     3, backbone="MobileNetV3Small", input_shape=(28, 28, 1)
    ... )
    >>> model.get_layer("resize").get_config()["height"]
    32
    >>> model.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape
    (2, 3)
    """
    # Validate.
    num_classes = check_num_classes(num_classes)
    if not isinstance(backbone, str) or backbone not in BACKBONES:
        raise invalid("backbone", f"one of {list(BACKBONES)}", backbone)
    spec = BACKBONES[backbone]
    shape = _check_input_shape(input_shape, spec.min_size)
    weights = _check_weights(weights)
    head = check_head(head)
    attention = check_attention(attention)
    pooling = check_choice("pooling", pooling, POOLINGS)
    dropout = check_dropout(dropout)
    trainable_backbone = check_bool("trainable_backbone", trainable_backbone)
    if keras.config.image_data_format() != "channels_last":
        raise ValueError(
            "build_transfer_classifier needs "
            '`keras.config.image_data_format() == "channels_last"`. '
            f"Received: {keras.config.image_data_format()!r}"
        )

    # Input adaptation: gray-scale to RGB, small images up to the minimum.
    inputs = keras.Input(shape, name="images")
    x = inputs
    if shape[-1] == 1:
        x = keras.layers.Concatenate(axis=-1, name="channel_repeat")([x, x, x])
    target = tuple(None if d is None else max(d, spec.min_size) for d in shape[:2])
    if target != shape[:2]:
        x = keras.layers.Resizing(*target, interpolation="bilinear", name="resize")(x)
    for layer in preprocessing_layers(spec.preprocessing):
        x = layer(x)

    # Backbone.
    model_input = (target[0], target[1], 3)
    try:
        base = spec.constructor(
            include_top=False,
            weights="imagenet" if weights == "imagenet" else None,
            input_shape=model_input,
            name="backbone",
        )
    except Exception as error:
        # `keras.utils.get_file` raises a bare Exception when it cannot fetch.
        if weights == "imagenet" and _is_download_failure(error):
            raise OSError(
                f"Could not download the ImageNet weights of {backbone}: "
                f"{error}. Without internet access, pass `weights=None`, or "
                "the path of a weights file saved on a machine that has it "
                "(`model.get_layer('backbone').save_weights(path)`)."
            ) from error
        raise
    base.trainable = trainable_backbone
    x = base(x)

    # Head.
    if attention is not None:
        x = get_attention(attention, name="attention")(x)
    pool = (
        keras.layers.GlobalAveragePooling2D
        if pooling == "avg"
        else keras.layers.GlobalMaxPooling2D
    )
    x = pool(name="pool")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = classifier_head(x, num_classes, head)

    # Functional model.
    model = keras.Model(inputs, outputs, name=f"transfer_{backbone.lower()}")
    if weights not in (None, "imagenet"):
        _load_weights(model, base, weights, backbone)
    return model


def _short(error, limit=300):
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _try_load(target, path):
    """Load `path` into `target`; return the error, or None once loaded.

    Keras warns while it fails; those warnings are dropped with the error
    (reported together by the caller) and replayed only after a success.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            target.load_weights(path)
        except Exception as error:
            return error
    for warning in caught:
        warnings.warn_explicit(
            warning.message, warning.category, warning.filename, warning.lineno
        )
    return None


def _is_download_failure(error):
    return isinstance(error, OSError) or str(error).startswith("URL fetch failure")


def _load_weights(model, base, path, backbone):
    """Load `path` into the classifier if it fits, else into the backbone."""
    initial = model.get_weights()
    as_classifier = _try_load(model, path)
    if as_classifier is None:
        return
    # A failed load may have assigned part of the file: start again clean.
    model.set_weights(initial)
    as_backbone = _try_load(base, path)
    if as_backbone is None:
        return
    model.set_weights(initial)
    raise ValueError(
        f"Invalid value for argument `weights`: the file {path!r} fits neither "
        "a classifier built with the same arguments nor the "
        f"{backbone} backbone at input shape {tuple(base.input.shape[1:])}. "
        "Save it with `model.save_weights(path)` from a classifier built with "
        "the same `num_classes`, `backbone`, `input_shape`, `head` and "
        "`attention`, or with `model.get_layer('backbone').save_weights(path)`."
        f"\nAs a classifier: {_short(as_classifier)}"
        f"\nAs a backbone: {_short(as_backbone)}"
    )


# ---------------------------------------------------------------- fine-tune


def unfreeze_backbone(model, *, layers=None, fraction=None, keep_batchnorm_frozen=True):
    """Unfreeze the top of the backbone for the second stage of fine-tuning.

    Sets the backbone (the layer named `"backbone"`, as made by
    `build_transfer_classifier`) trainable, then freezes its lower layers
    again so that only the top `layers` layers, or the top `fraction` of its
    layers, train. Layers count in `backbone.layers` order, without the
    input layer. BatchNormalization layers stay frozen (and so keep running
    in inference mode with their ImageNet statistics) unless
    `keep_batchnorm_frozen=False`. Layers outside the backbone keep their
    flags.

    The change takes effect at the next `compile`: **compile the model
    again**, usually with a learning rate ten to a hundred times lower.

    Args:
        model: A model from `build_transfer_classifier` (any model with a
            nested model layer named `"backbone"`).
        layers: Number of top backbone layers to unfreeze, an integer from 1
            to the number of backbone layers. Defaults to `None`.
        fraction: Fraction of the backbone's layers to unfreeze, from the
            top, in `(0, 1]` (rounded up to whole layers). Defaults to
            `None`. Pass exactly one of `layers` and `fraction`.
        keep_batchnorm_frozen: Whether BatchNormalization layers stay
            frozen. Defaults to `True`.

    Returns:
        `model`, changed in place.

    Example:

    >>> model = build_transfer_classifier(3, input_shape=(32, 32, 3))
    >>> model = unfreeze_backbone(model, fraction=0.1)
    >>> model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
    >>> len(model.trainable_weights) > 2
    True
    """
    if (layers is None) == (fraction is None):
        raise ValueError(
            "Pass exactly one of `layers` and `fraction`. "
            f"Received: layers={layers!r}, fraction={fraction!r}"
        )
    keep_batchnorm_frozen = check_bool("keep_batchnorm_frozen", keep_batchnorm_frozen)
    base = _get_backbone(model)
    candidates = [
        layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    total = len(candidates)
    if layers is not None:
        if (
            isinstance(layers, bool)
            or not isinstance(layers, numbers.Integral)
            or not 1 <= layers <= total
        ):
            raise invalid(
                "layers",
                f"an integer in [1, {total}] (the backbone has {total} layers)",
                layers,
            )
        count = int(layers)
    else:
        fraction = check_float("fraction", fraction, low=0, high=1, low_open=True)
        count = max(1, math.ceil(fraction * total - 1e-9))

    # A frozen parent hides its children's weights: open the whole backbone,
    # then close the bottom again.
    base.trainable = True
    for index, layer in enumerate(candidates):
        on_top = index >= total - count
        if keep_batchnorm_frozen and isinstance(layer, keras.layers.BatchNormalization):
            on_top = False
        layer.trainable = on_top
    return model


def _get_backbone(model):
    try:
        base = model.get_layer("backbone")
    except (ValueError, AttributeError):
        base = None
    if base is None or not hasattr(base, "layers"):
        raise ValueError(
            "Invalid value for argument `model`. Expected a model from "
            "`build_transfer_classifier`, with a nested model layer named "
            f"'backbone'. Received: model={getattr(model, 'name', model)!r}"
        )
    return base
