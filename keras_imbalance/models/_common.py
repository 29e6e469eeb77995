"""Pieces shared by the builders: validation, trunks and heads."""

import numbers

import keras

from keras_imbalance._validation import check_float, invalid
from keras_imbalance.layers.factory import (
    ATTENTION_LAYERS,
    HEAD_LAYERS,
    get_attention,
    get_head,
)
from keras_imbalance.layers.feature_attention import FeatureAttention

__all__ = [
    "BACKBONES",
    "BN_MOMENTUM",
    "apply_layers",
    "check_attention",
    "check_choice",
    "check_dropout",
    "check_head",
    "check_input_shape",
    "check_num_classes",
    "check_size",
    "classifier_head",
    "conv_stage",
    "conv_trunk",
    "global_pool",
    "head_layers",
    "mlp_trunk",
    "pooled",
    "trunk",
]

BN_MOMENTUM = 0.9
"""Momentum of the builders' BatchNormalization moving statistics.

PyTorch's default (its `momentum=0.1` is Keras' 0.9), used by the reference
code of LDAM, BBN and decoupling. Keras' own 0.99 needs several hundred steps
before the moving variance forgets its initial 1; on small long-tailed sets
(a few dozen steps per epoch) inference then ran with a variance 5-50x too
large and predicted one class."""
BACKBONES = ("small_cnn", "small_resnet")


def check_num_classes(num_classes):
    """An integer >= 2, as a Python int."""
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, numbers.Integral)
        or num_classes < 2
    ):
        raise invalid("num_classes", "an integer >= 2", num_classes)
    return int(num_classes)


def check_input_shape(input_shape, *, ranks=(1, 2, 3), name="input_shape"):
    """A tuple of positive ints (None allowed for sizes) of one of `ranks`."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise invalid(
            name, f"a shape tuple of rank in {list(ranks)}", input_shape
        ) from None
    if len(shape) not in ranks or not all(
        d is None or (isinstance(d, int) and d > 0) for d in shape
    ):
        raise invalid(
            name,
            f"a shape tuple without the batch axis, of rank in {list(ranks)} "
            "((features,), (steps, channels) or (height, width, channels))",
            input_shape,
        )
    if shape[-1] is None:
        raise invalid(name, "a known last (channel/feature) dimension", input_shape)
    return shape


def check_choice(name, value, choices, *, expected=None):
    """`value` if it is one of `choices` (names or None), else a Keras-form error."""
    if (value is None or isinstance(value, str)) and value in choices:
        return value
    raise invalid(name, expected or f"one of {list(choices)}", value)


def check_size(name, value, *, low=1):
    """An integer >= `low` (a builder's `width`, `depth`, ...), as a Python int."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
    ):
        words = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise invalid(name, words, value)
    return int(value)


def check_dropout(dropout):
    """A dropout rate in `[0, 1)`, as a Python float."""
    return check_float("dropout", dropout, low=0, high=1, high_open=True)


def check_attention(attention):
    """Builders take an attention *name*: each stage gets its own layer.

    `None` or a name of `layers.ATTENTION_LAYERS` (built-in or added with
    `layers.register_attention`), looked up at call time.
    """
    choices = [*ATTENTION_LAYERS, None]
    return check_choice(
        "attention",
        attention,
        choices,
        expected=f"one of {choices} (the registered attention names: add one "
        "with `keras_imbalance.layers.register_attention`)",
    )


def check_head(head):
    """A name of `layers.HEAD_LAYERS` (built-in or added with `register_head`)."""
    choices = list(HEAD_LAYERS)
    return check_choice(
        "head",
        head,
        choices,
        expected=f"one of {choices} (the registered head names: add one with "
        "`keras_imbalance.layers.register_head`)",
    )


def head_layers(num_classes, head, *, dropout=0.0, name="classifier"):
    """The layers of a classification head, to apply in order.

    `Dropout` (named `"<name>_dropout"`, only for `dropout > 0`), then the
    head `layers.get_head(head, num_classes, name=name)`. Returned as layers
    rather than applied so that two models can share one head.
    """
    check_head(head)
    dropout = check_dropout(dropout)
    layers = [keras.layers.Dropout(dropout, name=f"{name}_dropout")] if dropout else []
    return [*layers, get_head(head, num_classes, name=name)]


def apply_layers(x, layers):
    """`x` through `layers`, in order."""
    for layer in layers:
        x = layer(x)
    return x


def classifier_head(features, num_classes, head, *, dropout=0.0, name="classifier"):
    """Logits from pooled features through the head of `head_layers`."""
    return apply_layers(
        features, head_layers(num_classes, head, dropout=dropout, name=name)
    )


def _conv(rank):
    return keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D


def _pool(rank):
    return keras.layers.MaxPooling1D if rank == 1 else keras.layers.MaxPooling2D


def global_pool(x, name):
    rank = len(x.shape) - 2
    layer = (
        keras.layers.GlobalAveragePooling1D
        if rank == 1
        else keras.layers.GlobalAveragePooling2D
    )
    return layer(name=name)(x)


def conv_stage(
    x, filters, *, kernel_size=3, attention=None, residual=False, downsample=True, name
):
    """Conv -> BN -> ReLU (x2 when residual) -> attention -> max-pool.

    One stage of the `"small_cnn"` (plain) and `"small_resnet"` (residual)
    trunks, for 1-D (sequences) and 2-D (images) channels-last maps.
    """
    rank = len(x.shape) - 2
    conv = _conv(rank)
    shortcut = x
    y = conv(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(
        x
    )
    y = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(y)
    y = keras.layers.ReLU(name=f"{name}_relu")(y)
    if residual:
        y = conv(
            filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv2"
        )(y)
        y = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn2")(y)
    if attention is not None:
        y = get_attention(attention, name=f"{name}_attention")(y)
    if residual:
        if shortcut.shape[-1] != filters:
            shortcut = conv(filters, 1, use_bias=False, name=f"{name}_proj")(shortcut)
        y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
        y = keras.layers.ReLU(name=f"{name}_out")(y)
    if downsample:
        y = _pool(rank)(2, padding="same", name=f"{name}_pool")(y)
    return y


def conv_trunk(
    x,
    *,
    backbone,
    width,
    depth,
    attention,
    kernel_size=3,
    start=0,
    stop=None,
    prefix="stage",
):
    """Stages `start .. stop - 1` of a `depth`-stage small CNN.

    Filters double per stage; every stage but the last of the full `depth`
    halves the resolution. Splitting `[0, k)` and `[k, depth)` gives a shared
    trunk and per-branch (or per-expert) late stages.
    """
    check_choice("backbone", backbone, BACKBONES)
    for i in range(start, depth if stop is None else stop):
        x = conv_stage(
            x,
            width * 2**i,
            kernel_size=kernel_size,
            attention=attention,
            residual=backbone == "small_resnet",
            downsample=i < depth - 1,
            name=f"{prefix}{i}",
        )
    return x


def mlp_trunk(x, *, width, depth, attention, start=0, stop=None, prefix="mlp"):
    """Tabular trunk: optional `FeatureAttention`, then Dense-BN-ReLU blocks."""
    if attention is not None and start == 0:
        x = FeatureAttention(name=f"{prefix}_feature_attention")(x)
    for i in range(start, depth if stop is None else stop):
        x = keras.layers.Dense(
            width * 2 ** min(i, 2), use_bias=False, name=f"{prefix}{i}_dense"
        )(x)
        x = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, name=f"{prefix}{i}_bn"
        )(x)
        x = keras.layers.ReLU(name=f"{prefix}{i}_relu")(x)
    return x


def trunk(x, *, backbone, width, depth, attention, start=0, stop=None, prefix):
    """The trunk for the input's rank: convolutional, or MLP for tables."""
    if len(x.shape) == 2:
        return mlp_trunk(
            x,
            width=width,
            depth=depth,
            attention=attention,
            start=start,
            stop=stop,
            prefix=prefix,
        )
    return conv_trunk(
        x,
        backbone=backbone,
        width=width,
        depth=depth,
        attention=attention,
        start=start,
        stop=stop,
        prefix=prefix,
    )


def pooled(x, name):
    """Global average pooling of feature maps; tabular features pass through."""
    return x if len(x.shape) == 2 else global_pool(x, name=name)
