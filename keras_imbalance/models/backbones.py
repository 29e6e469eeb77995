"""The `keras.applications` backbones of `build_transfer_classifier`.

`BACKBONES` maps each backbone name to its constructor, its
`preprocess_input`, its minimum input size and its preprocessing mode;
`preprocessing_layers` gives that preprocessing as Keras layers, so that the
classifier takes raw pixels and an exported SavedModel needs no
preprocessing code beside it.
"""

from collections.abc import Callable
from typing import NamedTuple

import keras
from keras import ops

# The table (`models.TRANSFER_BACKBONES`) and the layer saved inside transfer
# models are public; the rest serves
# `models.build_transfer_classifier`.
__all__ = ["BACKBONES", "ReverseChannels"]


def _preprocessing_included(x, data_format=None):
    """The `preprocess_input` of backbones that preprocess inside the model.

    Like `keras.applications.efficientnet.preprocess_input`: the identity,
    because the model itself rescales (and normalises) raw `[0, 255]` pixels.
    """
    return x


class BackboneSpec(NamedTuple):
    """How to build one `keras.applications` backbone.

    Attributes:
        constructor: The `keras.applications` function, e.g.
            `keras.applications.ResNet50`.
        preprocess_input: The application's `preprocess_input` (the identity
            for models that preprocess inside, such as EfficientNet).
        min_size: The smallest height and width the constructor accepts.
        preprocessing: How raw pixels are prepared, as in
            `keras.applications.imagenet_utils.preprocess_input`: `"caffe"`
            (RGB to BGR, minus the ImageNet mean), `"tf"` (to `[-1, 1]`),
            `"torch"` (to `[0, 1]`, then ImageNet mean and standard
            deviation), or `"included"` (done by the model itself).

    Example:

    >>> spec = BACKBONES["Xception"]
    >>> spec.constructor.__name__, spec.min_size, spec.preprocessing
    ('Xception', 71, 'tf')
    """

    constructor: Callable
    preprocess_input: Callable
    min_size: int
    preprocessing: str


def _registry():
    apps = keras.applications
    specs = {
        "MobileNet": (apps.MobileNet, apps.mobilenet.preprocess_input, 32, "tf"),
        "MobileNetV2": (
            apps.MobileNetV2,
            apps.mobilenet_v2.preprocess_input,
            32,
            "tf",
        ),
        "MobileNetV3Small": (
            apps.MobileNetV3Small,
            _preprocessing_included,
            32,
            "included",
        ),
        "MobileNetV3Large": (
            apps.MobileNetV3Large,
            _preprocessing_included,
            32,
            "included",
        ),
        "ResNet50": (apps.ResNet50, apps.resnet.preprocess_input, 32, "caffe"),
        "ResNet101": (apps.ResNet101, apps.resnet.preprocess_input, 32, "caffe"),
        "ResNet152": (apps.ResNet152, apps.resnet.preprocess_input, 32, "caffe"),
        "ResNet50V2": (apps.ResNet50V2, apps.resnet_v2.preprocess_input, 32, "tf"),
        "ResNet101V2": (
            apps.ResNet101V2,
            apps.resnet_v2.preprocess_input,
            32,
            "tf",
        ),
        "ResNet152V2": (
            apps.ResNet152V2,
            apps.resnet_v2.preprocess_input,
            32,
            "tf",
        ),
        "DenseNet121": (
            apps.DenseNet121,
            apps.densenet.preprocess_input,
            32,
            "torch",
        ),
        "DenseNet169": (
            apps.DenseNet169,
            apps.densenet.preprocess_input,
            32,
            "torch",
        ),
        "DenseNet201": (
            apps.DenseNet201,
            apps.densenet.preprocess_input,
            32,
            "torch",
        ),
        "Xception": (apps.Xception, apps.xception.preprocess_input, 71, "tf"),
        "InceptionV3": (
            apps.InceptionV3,
            apps.inception_v3.preprocess_input,
            75,
            "tf",
        ),
        "InceptionResNetV2": (
            apps.InceptionResNetV2,
            apps.inception_resnet_v2.preprocess_input,
            75,
            "tf",
        ),
        "VGG16": (apps.VGG16, apps.vgg16.preprocess_input, 32, "caffe"),
        "VGG19": (apps.VGG19, apps.vgg19.preprocess_input, 32, "caffe"),
    }
    for suffix in ("B0", "B1", "B2", "B3", "B4", "B5", "B6", "B7"):
        specs[f"EfficientNet{suffix}"] = (
            getattr(apps, f"EfficientNet{suffix}"),
            apps.efficientnet.preprocess_input,
            32,
            "included",
        )
    for suffix in ("B0", "B1", "B2", "B3", "S", "M", "L"):
        specs[f"EfficientNetV2{suffix}"] = (
            getattr(apps, f"EfficientNetV2{suffix}"),
            apps.efficientnet_v2.preprocess_input,
            32,
            "included",
        )
    for size in ("Tiny", "Small", "Base", "Large", "XLarge"):
        specs[f"ConvNeXt{size}"] = (
            getattr(apps, f"ConvNeXt{size}"),
            apps.convnext.preprocess_input,
            32,
            "included",
        )
    return {name: BackboneSpec(*spec) for name, spec in sorted(specs.items())}


BACKBONES = _registry()
"""Backbone name -> `BackboneSpec`: the names `build_transfer_classifier` accepts, each
with its `keras.applications` constructor, its `preprocess_input`, its minimum input
size and its preprocessing mode."""

# ImageNet statistics used by `keras.applications.imagenet_utils`.
_CAFFE_MEAN_BGR = [103.939, 116.779, 123.68]
_TORCH_MEAN = [0.485, 0.456, 0.406]
_TORCH_STD = [0.229, 0.224, 0.225]


@keras.saving.register_keras_serializable(package="keras_imbalance")
class ReverseChannels(keras.layers.Layer):
    """Reverses the order of the last axis: RGB images become BGR.

    The `"caffe"` preprocessing of `keras.applications` (ResNet50, VGG16)
    expects BGR images; `build_transfer_classifier` uses this layer so that
    the model itself takes RGB pixels.

    Example:

    >>> import keras, numpy as np
    >>> x = np.array([[1.0, 2.0, 3.0]])
    >>> keras.ops.convert_to_numpy(ReverseChannels()(x)).tolist()
    [[3.0, 2.0, 1.0]]
    """

    def call(self, inputs):
        return ops.flip(inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def preprocessing_layers(mode):
    """Keras layers equal to `preprocess_input` of `mode`, for RGB pixels.

    Returns a list of layers to apply in order (empty for `"included"`); the
    last one is named `"preprocessing"`.

    Example:

    >>> [type(layer).__name__ for layer in preprocessing_layers("caffe")]
    ['ReverseChannels', 'Normalization']
    >>> preprocessing_layers("included")
    []
    """
    if mode == "tf":
        return [keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocessing")]
    if mode == "torch":
        mean = [255.0 * m for m in _TORCH_MEAN]
        variance = [(255.0 * s) ** 2 for s in _TORCH_STD]
        return [
            keras.layers.Normalization(
                mean=mean, variance=variance, name="preprocessing"
            )
        ]
    if mode == "caffe":
        return [
            ReverseChannels(name="rgb_to_bgr"),
            keras.layers.Normalization(
                mean=_CAFFE_MEAN_BGR, variance=[1.0, 1.0, 1.0], name="preprocessing"
            ),
        ]
    return []
