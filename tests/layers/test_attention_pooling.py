import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import layers

RNG = np.random.default_rng(5)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def reference(layer, x, mask=None):
    """Pooling by multi-head attention with learned queries, in NumPy."""
    (w_k,) = layer.key_dense.get_weights()
    query = ops.convert_to_numpy(layer.query)
    heads, d = query.shape
    b, t, _ = x.shape
    keys = (x @ w_k).reshape(b, t, heads, d)
    logits = np.einsum("bthd,hd->bht", keys, query) / np.sqrt(d)
    if mask is not None:
        logits = np.where(mask[:, None, :], logits, -np.inf)
    scores = softmax(logits)
    pooled = np.einsum("bht,bthd->bhd", scores, x.reshape(b, t, heads, d))
    return pooled.reshape(b, heads * d), scores


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_matches_reference_and_scores_sum_to_one(num_heads):
    x = RNG.normal(size=(3, 6, 8)).astype("float32")
    layer = layers.AttentionPooling(num_heads, return_attention_scores=True)
    pooled, scores = (ops.convert_to_numpy(v) for v in layer(x))
    want_pooled, want_scores = reference(layer, x)
    assert pooled.shape == (3, 8) and scores.shape == (3, num_heads, 6)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-6)
    assert np.all(scores > 0)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pooled, want_pooled, rtol=1e-5, atol=1e-6)


def test_pooled_vector_is_a_convex_combination():
    x = RNG.uniform(0, 1, size=(2, 5, 4)).astype("float32")
    pooled = ops.convert_to_numpy(layers.AttentionPooling()(x))
    assert np.all(pooled >= x.min(axis=1) - 1e-6)
    assert np.all(pooled <= x.max(axis=1) + 1e-6)


def test_zero_query_is_global_average_pooling():
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    layer = layers.AttentionPooling(num_heads=2)
    layer.build(x.shape)
    layer.query.assign(np.zeros((2, 2), "float32"))
    np.testing.assert_allclose(
        ops.convert_to_numpy(layer(x)), x.mean(axis=1), rtol=1e-5, atol=1e-6
    )


def test_masked_steps_get_zero_weight():
    x = RNG.normal(size=(3, 6, 8)).astype("float32")
    mask = np.ones((3, 6), bool)
    mask[0, 4:] = False
    mask[1, 1:] = False
    mask[2, :] = False  # nothing valid: pools to zeros
    layer = layers.AttentionPooling(2, return_attention_scores=True)
    pooled, scores = (ops.convert_to_numpy(v) for v in layer(x, mask=mask))
    assert np.all(scores[0, :, 4:] == 0) and np.all(scores[1, :, 1:] == 0)
    np.testing.assert_allclose(scores[:2].sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(scores[1, :, 0], 1.0)
    np.testing.assert_array_equal(scores[2], 0.0)
    np.testing.assert_array_equal(pooled[2], 0.0)
    want_pooled, want_scores = reference(layer, x[:2], mask[:2])
    np.testing.assert_allclose(scores[:2], want_scores, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pooled[:2], want_pooled, rtol=1e-5, atol=1e-6)
    # The padded steps' values do not matter.
    noisy = x.copy()
    noisy[0, 4:] = 1e3
    noisy_pooled = ops.convert_to_numpy(layer(noisy, mask=mask)[0])
    np.testing.assert_allclose(noisy_pooled[0], pooled[0], rtol=1e-6)


def test_keras_mask_from_embedding():
    tokens = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    pooled, scores = layers.AttentionPooling(return_attention_scores=True)(embedded)
    model = keras.Model(tokens, [pooled, scores])
    x = np.array([[3, 4, 0, 0, 0], [1, 2, 3, 4, 5]], "int32")
    _, s = model(x)
    s = ops.convert_to_numpy(s)
    assert np.all(s[0, 0, 2:] == 0)
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-6)


def test_feature_maps_are_pooled_over_positions():
    x = RNG.normal(size=(2, 3, 4, 8)).astype("float32")
    layer = layers.AttentionPooling(2, return_attention_scores=True)
    pooled, scores = (ops.convert_to_numpy(v) for v in layer(x))
    assert pooled.shape == (2, 8) and scores.shape == (2, 2, 3, 4)
    np.testing.assert_allclose(scores.sum(axis=(2, 3)), 1.0, rtol=1e-6)
    want_pooled, want_scores = reference(layer, x.reshape(2, 12, 8))
    np.testing.assert_allclose(pooled, want_pooled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.reshape(2, 2, 12), want_scores, rtol=1e-5)


def test_output_is_not_masked():
    tokens = keras.Input((5,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    pooled = layers.AttentionPooling()(embedded)
    assert getattr(pooled, "_keras_mask", None) is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_heads": 0}, "`num_heads`. Expected a positive integer"),
        ({"num_heads": 1.5}, "`num_heads`. Expected a positive integer"),
        ({"return_attention_scores": "yes"}, "`return_attention_scores`"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.AttentionPooling(**kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="`num_heads=3` divides"):
        layers.AttentionPooling(3).build((None, 5, 8))
    with pytest.raises(ValueError, match="expects inputs of shape"):
        layers.AttentionPooling().build((None, 8))


@pytest.mark.parametrize("shape", [(None, 8), (None, None, 8)])
def test_unknown_number_of_positions(shape):
    inputs = keras.Input(shape)
    pooled, scores = layers.AttentionPooling(2, return_attention_scores=True)(inputs)
    assert tuple(pooled.shape) == (None, 8)
    assert tuple(scores.shape) == (None, 2, *shape[:-1])
    model = keras.Model(inputs, [pooled, scores])
    x = RNG.normal(size=(3, *[4 + i for i in range(len(shape) - 1)], 8))
    p, s = model(x.astype("float32"))
    assert p.shape == (3, 8) and s.shape == (3, 2, *x.shape[1:-1])
