"""A small classifier with attention blocks, for images, sequences or tables."""

import keras

from keras_imbalance.models._common import (
    BACKBONES,
    check_attention,
    check_choice,
    check_dropout,
    check_head,
    check_input_shape,
    check_num_classes,
    check_size,
    classifier_head,
    conv_trunk,
    global_pool,
    mlp_trunk,
)

__all__ = ["build_attention_classifier"]


def build_attention_classifier(
    input_shape,
    num_classes,
    *,
    attention="se",
    backbone="small_cnn",
    width=32,
    depth=3,
    head="dense",
    dropout=0.0,
    name="attention_classifier",
):
    """A small classifier whose stages are followed by an attention block.

    The input rank picks the trunk: `(H, W, C)` images get 2-D convolution
    stages, `(T, C)` sequences 1-D convolution stages, each followed by the
    `attention` block (squeeze-excitation, CBAM or ECA) that re-weights its
    channels; `(F,)` tabular inputs get a `FeatureAttention` layer (for any
    non-None `attention`) and Dense blocks. Attention lets the network weigh
    the features that separate rare classes (Hu et al. 2018; Woo et al. 2018;
    Wang et al. 2020).

    Args:
        input_shape: Shape without the batch axis: `(F,)`, `(T, C)` or
            `(H, W, C)`.
        num_classes: Number of classes (>= 2).
        attention: `"se"`, `"cbam"`, `"eca"`, a name added with
            `layers.register_attention`, or `None`. Defaults to `"se"`.
        backbone: `"small_cnn"` (plain stages) or `"small_resnet"` (residual
            stages); ignored for tabular inputs. Defaults to `"small_cnn"`.
        width: Filters (units) of the first stage, doubled at each stage.
            Defaults to `32`.
        depth: Number of stages. Defaults to `3`.
        head: `"dense"`, `"cosine"` (`CosineClassifier`) or a name added
            with `layers.register_head`. The head layer is named
            `"classifier"`. Defaults to `"dense"`.
        dropout: Dropout rate before the head. Defaults to `0.0`.
        name: Model name. Defaults to `"attention_classifier"`.

    Returns:
        A functional `keras.Model` mapping inputs to logits `(B, num_classes)`.

    Example:

    >>> model = build_attention_classifier((16, 16, 3), 5, attention="eca", depth=2)
    >>> tuple(model.output.shape)
    (None, 5)
    """
    # Validate.
    input_shape = check_input_shape(input_shape)
    num_classes = check_num_classes(num_classes)
    check_attention(attention)
    check_choice("backbone", backbone, BACKBONES)
    check_head(head)
    width = check_size("width", width)
    depth = check_size("depth", depth)
    dropout = check_dropout(dropout)

    # Trunk.
    inputs = keras.Input(input_shape, name="inputs")
    if len(input_shape) == 1:
        features = mlp_trunk(inputs, width=width, depth=depth, attention=attention)
    else:
        x = conv_trunk(
            inputs, backbone=backbone, width=width, depth=depth, attention=attention
        )
        features = global_pool(x, name="features")

    # Head and model.
    logits = classifier_head(features, num_classes, head, dropout=dropout)
    return keras.Model(inputs, logits, name=name)
