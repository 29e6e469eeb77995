"""Channel and spatial attention blocks: SE, CBAM (and its parts), ECA.

Each returns its input scaled by gates in (0, 1), in every layout and rank,
and matches a NumPy reference written from its paper.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import layers

RNG = np.random.default_rng(11)

BLOCKS = {
    "se": lambda **kw: layers.SqueezeExcitation(reduction=4, **kw),
    "channel_attention": lambda **kw: layers.ChannelAttention(reduction=4, **kw),
    "spatial_attention": lambda **kw: layers.SpatialAttention(kernel_size=3, **kw),
    "cbam": lambda **kw: layers.CBAM(reduction=4, kernel_size=3, **kw),
    "eca": lambda **kw: layers.EfficientChannelAttention(**kw),
}
CHANNEL_GATED = ["se", "channel_attention", "eca"]
SHAPES = {1: (2, 9, 16), 2: (2, 5, 6, 16), 3: (2, 3, 4, 5, 16)}


def positive(shape):
    return RNG.uniform(0.1, 3.0, size=shape).astype("float32")


def to_channels_first(x):
    return np.moveaxis(x, -1, 1)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.mark.parametrize("name", sorted(BLOCKS))
class TestGating:
    @pytest.mark.parametrize("dims", [1, 2, 3])
    def test_shape_and_gates_in_open_unit_interval(self, name, dims):
        x = positive(SHAPES[dims])
        y = ops.convert_to_numpy(BLOCKS[name]()(x))
        assert y.shape == x.shape
        ratio = y / x
        assert np.all(ratio > 0) and np.all(ratio < 1)

    @pytest.mark.parametrize("dims", [1, 2, 3])
    def test_channels_first_equals_channels_last(self, name, dims):
        x = positive(SHAPES[dims])
        last = BLOCKS[name](data_format="channels_last")
        first = BLOCKS[name](data_format="channels_first")
        want = ops.convert_to_numpy(last(x))
        first.build(to_channels_first(x).shape)
        first.set_weights(last.get_weights())
        got = ops.convert_to_numpy(first(to_channels_first(x)))
        np.testing.assert_allclose(got, to_channels_first(want), rtol=1e-5, atol=1e-6)

    def test_default_data_format_follows_keras_config(self, name):
        previous = keras.config.image_data_format()
        keras.config.set_image_data_format("channels_first")
        try:
            layer = BLOCKS[name]()
        finally:
            keras.config.set_image_data_format(previous)
        assert layer.data_format == "channels_first"
        assert layer.get_config()["data_format"] == "channels_first"
        x = positive((2, 16, 5, 6))
        assert ops.convert_to_numpy(layer(x)).shape == x.shape

    def test_wrong_rank_and_unknown_channels(self, name):
        with pytest.raises(ValueError, match="rank 3, 4 or 5"):
            BLOCKS[name]()(positive((2, 16)))
        if name == "spatial_attention":  # needs no channel count
            BLOCKS[name]().build((None, 5, 5, None))
        else:
            with pytest.raises(ValueError, match="known number of channels"):
                BLOCKS[name]().build((None, 5, 5, None))

    def test_bad_data_format(self, name):
        with pytest.raises(
            ValueError, match="Invalid value for argument `data_format`"
        ):
            BLOCKS[name](data_format="NHWC")


@pytest.mark.parametrize("name", CHANNEL_GATED + ["cbam"])
def test_masked_steps_do_not_change_the_valid_ones(name):
    """On a masked 1-D map, the valid steps see only the valid steps."""
    x = positive((2, 9, 16))
    mask = np.ones((2, 9), bool)
    mask[0, 5:] = False
    layer = BLOCKS[name]()
    # CBAM's spatial convolution sees the padding; its channel part must not.
    block = layer.channel_attention if name == "cbam" else layer
    full = ops.convert_to_numpy(block(x, mask=mask))
    np.testing.assert_allclose(
        full[0, :5], ops.convert_to_numpy(block(x[:1, :5]))[0], rtol=1e-5
    )
    np.testing.assert_allclose(
        full[1], ops.convert_to_numpy(block(x[1:]))[0], rtol=1e-5
    )
    if name == "cbam":
        np.testing.assert_allclose(
            ops.convert_to_numpy(layer(x, mask=mask)),
            ops.convert_to_numpy(layer.spatial_attention(full)),
            rtol=1e-6,
        )


def test_mask_passes_through_a_functional_model():
    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking()(inputs)
    outputs = layers.SqueezeExcitation(reduction=2)(masked)
    x = positive((2, 6, 4))
    x[0, 3:] = 0.0
    y = keras.Model(inputs, outputs)(x)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(y._keras_mask)[0], [1, 1, 1, 0, 0, 0]
    )


class TestSqueezeExcitation:
    def test_matches_numpy_reference(self):
        x = positive((2, 5, 6, 16))
        layer = layers.SqueezeExcitation(reduction=4)
        y = ops.convert_to_numpy(layer(x))
        w1, b1, w2, b2 = layer.get_weights()
        z = x.mean(axis=(1, 2))
        s = sigmoid(np.maximum(z @ w1 + b1, 0) @ w2 + b2)
        np.testing.assert_allclose(y, x * s[:, None, None, :], rtol=1e-5)

    @pytest.mark.parametrize(
        "channels, reduction, width", [(16, 16, 1), (64, 16, 4), (8, 16, 1), (5, 2, 2)]
    )
    def test_bottleneck_width(self, channels, reduction, width):
        layer = layers.SqueezeExcitation(reduction=reduction)
        layer.build((None, 4, 4, channels))
        assert layer.squeeze_dense.units == width
        assert layer.excite_dense.units == channels

    def test_activations(self):
        layer = layers.SqueezeExcitation(activation="swish", gate="hard_sigmoid")
        assert layer.get_config()["activation"] == "silu"  # Keras' name of swish
        assert layer.get_config()["gate"] == "hard_sigmoid"

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"reduction": 0}, "`reduction`. Expected a positive integer"),
            ({"reduction": -2}, "`reduction`. Expected a positive integer"),
            ({"reduction": 2.5}, "`reduction`. Expected a positive integer"),
            ({"reduction": True}, "`reduction`. Expected a positive integer"),
            ({"activation": "nope"}, "`activation`. Expected a Keras activation"),
            ({"gate": "nope"}, "`gate`. Expected a Keras activation"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            layers.SqueezeExcitation(**kwargs)


class TestCBAM:
    def test_channel_attention_matches_numpy_reference(self):
        x = positive((2, 5, 6, 16))
        layer = layers.ChannelAttention(reduction=4)
        y = ops.convert_to_numpy(layer(x))
        w1, b1, w2, b2 = layer.get_weights()

        def mlp(z):
            return np.maximum(z @ w1 + b1, 0) @ w2 + b2

        s = sigmoid(mlp(x.mean(axis=(1, 2))) + mlp(x.max(axis=(1, 2))))
        np.testing.assert_allclose(y, x * s[:, None, None, :], rtol=1e-5)

    def test_spatial_attention_matches_numpy_reference(self):
        x = positive((2, 9, 16))
        layer = layers.SpatialAttention(kernel_size=3)
        y = ops.convert_to_numpy(layer(x))
        kernel, bias = layer.get_weights()  # (3, 2, 1), (1,)
        maps = np.stack([x.mean(-1), x.max(-1)], axis=-1)  # (B, T, 2)
        padded = np.pad(maps, ((0, 0), (1, 1), (0, 0)))
        logits = sum(padded[:, i : i + 9] @ kernel[i] for i in range(3)) + bias
        np.testing.assert_allclose(y, x * sigmoid(logits), rtol=1e-5)

    def test_chains_channel_then_spatial(self):
        x = positive((2, 5, 6, 16))
        layer = layers.CBAM(reduction=4, kernel_size=3)
        y = ops.convert_to_numpy(layer(x))
        want = ops.convert_to_numpy(layer.spatial_attention(layer.channel_attention(x)))
        np.testing.assert_allclose(y, want, rtol=1e-6)
        assert layer.channel_attention.hidden_dense.units == 4
        assert layer.spatial_attention.conv.kernel_size == (3, 3)

    @pytest.mark.parametrize(
        "cls, kwargs, match",
        [
            (layers.CBAM, {"reduction": 0}, "`reduction`. Expected a positive"),
            (layers.CBAM, {"kernel_size": 0}, "`kernel_size`. Expected a positive"),
            (layers.ChannelAttention, {"reduction": -1}, "`reduction`"),
            (layers.SpatialAttention, {"kernel_size": 2.0}, "`kernel_size`"),
        ],
    )
    def test_bad_arguments(self, cls, kwargs, match):
        with pytest.raises(ValueError, match=match):
            cls(**kwargs)


class TestEfficientChannelAttention:
    @pytest.mark.parametrize(
        "channels, k", [(1, 1), (8, 3), (16, 3), (64, 3), (128, 5), (512, 5), (2048, 7)]
    )
    def test_adaptive_kernel_size(self, channels, k):
        # The authors' rule: t = int(|(log2 C + b) / gamma|), k = t if odd else t + 1.
        assert layers.eca_kernel_size(channels) == k
        layer = layers.EfficientChannelAttention()
        layer.build((None, 2, 2, channels))
        assert layer.conv.kernel_size == (k,)
        assert layer.get_config()["kernel_size"] is None

    def test_gamma_and_b(self):
        assert layers.eca_kernel_size(256, gamma=1, b=0) == 9
        layer = layers.EfficientChannelAttention(gamma=1, b=0)
        layer.build((None, 2, 2, 256))
        assert layer.conv.kernel_size == (9,)

    def test_matches_numpy_reference(self):
        x = positive((2, 5, 6, 16))
        layer = layers.EfficientChannelAttention(kernel_size=5)
        y = ops.convert_to_numpy(layer(x))
        (kernel,) = layer.get_weights()  # (5, 1, 1), no bias
        assert kernel.shape == (5, 1, 1)
        z = np.pad(x.mean(axis=(1, 2)), ((0, 0), (2, 2)))
        logits = sum(z[:, i : i + 16] * kernel[i, 0, 0] for i in range(5))
        np.testing.assert_allclose(y, x * sigmoid(logits)[:, None, None], rtol=1e-5)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"kernel_size": 4}, "`kernel_size`. Expected a positive odd integer"),
            ({"kernel_size": 0}, "`kernel_size`. Expected a positive odd integer"),
            ({"kernel_size": 3.0}, "`kernel_size`. Expected a positive odd integer"),
            ({"gamma": 0}, "`gamma`. Expected a positive float"),
            ({"b": float("nan")}, "`b`. Expected a finite float"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            layers.EfficientChannelAttention(**kwargs)


class TestGetAttention:
    @pytest.mark.parametrize(
        "identifier, cls",
        [
            ("se", layers.SqueezeExcitation),
            ("cbam", layers.CBAM),
            ("eca", layers.EfficientChannelAttention),
            ("SE", layers.SqueezeExcitation),
        ],
    )
    def test_names(self, identifier, cls):
        layer = layers.get_attention(identifier)
        assert type(layer) is cls
        assert layers.get_attention(identifier) is not layer  # a new one each time

    def test_kwargs_and_name_pass_through(self):
        layer = layers.get_attention("cbam", reduction=2, kernel_size=5, name="att")
        assert (layer.reduction, layer.kernel_size, layer.name) == (2, 5, "att")
        eca = layers.get_attention("eca", kernel_size=5, data_format="channels_first")
        assert eca.kernel_size == 5 and eca.data_format == "channels_first"

    def test_none_and_instances(self):
        assert layers.get_attention(None) is None
        layer = layers.SqueezeExcitation()
        assert layers.get_attention(layer) is layer

    @pytest.mark.parametrize("identifier", ["sk", "squeeze", "", 3, "bam"])
    def test_unknown_names_list_the_valid_ones(self, identifier):
        with pytest.raises(ValueError, match=r"\['cbam', 'eca', 'se'\]"):
            layers.get_attention(identifier)

    def test_kwargs_with_an_instance(self):
        with pytest.raises(ValueError, match="only when `identifier` is a name"):
            layers.get_attention(layers.SqueezeExcitation(), reduction=2)

    def test_bad_kwargs_are_the_layers_errors(self):
        with pytest.raises(ValueError, match="`reduction`"):
            layers.get_attention("se", reduction=0)


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_unknown_spatial_size(name):
    inputs = keras.Input((None, None, 16))
    outputs = BLOCKS[name]()(inputs)
    assert tuple(outputs.shape) == (None, None, None, 16)
    model = keras.Model(inputs, outputs)
    for shape in ((2, 5, 7, 16), (1, 9, 4, 16)):
        assert ops.convert_to_numpy(model(positive(shape))).shape == shape
