import keras
import numpy as np
import pytest
from keras import ops

from keras_imbalance import layers

RNG = np.random.default_rng(17)


def branches(n=3, width=4, batch=5):
    return [RNG.normal(size=(batch, width)).astype("float32") for _ in range(n)]


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_concat_sum_mean():
    xs = branches()
    np.testing.assert_allclose(
        ops.convert_to_numpy(layers.BranchFusion("concat")(xs)),
        np.concatenate(xs, -1),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(layers.BranchFusion("sum")(xs)), sum(xs), rtol=1e-6
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(layers.BranchFusion("mean")(xs)), sum(xs) / 3, rtol=1e-6
    )


def test_concat_takes_different_widths():
    xs = [np.ones((2, 3), "float32"), np.ones((2, 5), "float32")]
    fusion = layers.BranchFusion()
    assert tuple(fusion(xs).shape) == (2, 8)
    assert fusion.compute_output_shape([(None, 3), (None, 5)]) == (None, 8)
    assert fusion.compute_output_shape([(None, 3), (None, None)]) == (None, None)


def test_gated_is_a_softmax_mixture_from_all_branches():
    xs = branches()
    fusion = layers.BranchFusion("gated")
    y = ops.convert_to_numpy(fusion(xs))
    kernel, bias = fusion.gate_dense.get_weights()
    assert kernel.shape == (12, 3)
    gates = softmax(np.concatenate(xs, -1) @ kernel + bias)
    np.testing.assert_allclose(
        y, sum(g[:, None] * x for g, x in zip(gates.T, xs)), rtol=1e-5, atol=1e-6
    )


def test_attention_scores_each_branch_with_a_learned_query():
    xs = branches()
    fusion = layers.BranchFusion("attention")
    y = ops.convert_to_numpy(fusion(xs))
    kernel, bias = fusion.score_dense.get_weights()
    query = ops.convert_to_numpy(fusion.query)
    assert kernel.shape == (4, 4) and query.shape == (4,)
    logits = np.stack([np.tanh(x @ kernel + bias) @ query for x in xs], -1)
    weights = softmax(logits)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        y, sum(w[:, None] * x for w, x in zip(weights.T, xs)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("mode", ["gated", "attention"])
def test_weighted_modes_stay_within_the_branches(mode):
    xs = branches()
    y = ops.convert_to_numpy(layers.BranchFusion(mode)(xs))
    stacked = np.stack(xs)
    assert np.all(y >= stacked.min(0) - 1e-5) and np.all(y <= stacked.max(0) + 1e-5)


@pytest.mark.parametrize("mode", ["concat", "sum", "mean", "gated", "attention"])
def test_shapes_in_a_functional_model(mode):
    inputs = keras.Input((6,))
    xs = [keras.layers.Dense(4)(inputs) for _ in range(2)]
    fused = layers.BranchFusion(mode)(xs)
    assert tuple(fused.shape) == ((None, 8) if mode == "concat" else (None, 4))
    model = keras.Model(inputs, fused)
    assert model(np.ones((3, 6), "float32")).shape[1:] == fused.shape[1:]


def test_mode_is_case_insensitive():
    assert layers.BranchFusion("Gated").mode == "gated"


@pytest.mark.parametrize("mode", ["max", "add", None, 2])
def test_unknown_mode_lists_the_valid_ones(mode):
    with pytest.raises(
        ValueError,
        match=r"`mode`. Expected one of \['attention', 'concat', 'gated', 'mean', "
        r"'sum'\]",
    ):
        layers.BranchFusion(mode)


@pytest.mark.parametrize("mode", ["sum", "mean", "gated", "attention"])
def test_unequal_widths(mode):
    xs = [np.ones((2, 3), "float32"), np.ones((2, 5), "float32")]
    with pytest.raises(ValueError, match=r"equal, known width.*\[3, 5\]"):
        layers.BranchFusion(mode)(xs)


@pytest.mark.parametrize(
    "inputs",
    [
        np.ones((2, 3), "float32"),
        [np.ones((2, 3), "float32")],
    ],
)
def test_needs_two_branches(inputs):
    with pytest.raises(ValueError, match="a list of at least 2 tensors"):
        layers.BranchFusion("sum")(inputs)


def test_needs_equal_ranks():
    with pytest.raises(ValueError, match="same rank"):
        layers.BranchFusion().build([(None, 3), (None, 2, 3)])
