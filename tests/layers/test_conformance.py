"""Checks every public layer gets for free (imbalanced-learn's conformance idea).

A new layer is added to `CASES` and inherits: training inside a functional
model, `.keras` and SavedModel round trips, config round trip, output shapes
(`compute_output_shape` and the symbolic ones) and finiteness under mixed
precision.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance import layers

RNG = np.random.default_rng(3)
BATCH = 4
NUM_CLASSES = 3

# Input kinds: (shape without batch, dtype).
INPUTS = {
    "image": ((6, 6, 8), "float32"),
    "image_cf": ((8, 6, 6), "float32"),
    "sequence": ((7, 8), "float32"),
    "volume": ((3, 4, 4, 8), "float32"),
    "tokens": ((7,), "int32"),
    "tabular": ((10,), "float32"),
    "features": ((12,), "float32"),
}

# name -> (factory, input kind, branch widths for BranchFusion or None).
CASES = {
    "se": (lambda: layers.SqueezeExcitation(reduction=4), "image", None),
    "se_1d": (lambda: layers.SqueezeExcitation(reduction=2), "sequence", None),
    "se_3d": (lambda: layers.SqueezeExcitation(reduction=4), "volume", None),
    "se_channels_first": (
        lambda: layers.SqueezeExcitation(
            reduction=4, gate="hard_sigmoid", data_format="channels_first"
        ),
        "image_cf",
        None,
    ),
    "channel_attention": (
        lambda: layers.ChannelAttention(reduction=2),
        "image",
        None,
    ),
    "spatial_attention": (
        lambda: layers.SpatialAttention(kernel_size=3),
        "image",
        None,
    ),
    "cbam": (lambda: layers.CBAM(reduction=4, kernel_size=3), "image", None),
    "cbam_channels_first": (
        lambda: layers.CBAM(reduction=4, kernel_size=3, data_format="channels_first"),
        "image_cf",
        None,
    ),
    "cbam_1d": (lambda: layers.CBAM(reduction=2, kernel_size=3), "sequence", None),
    "eca": (lambda: layers.EfficientChannelAttention(), "image", None),
    "eca_3d_k5": (
        lambda: layers.EfficientChannelAttention(kernel_size=5),
        "volume",
        None,
    ),
    "attention_pooling_masked": (
        lambda: layers.AttentionPooling(num_heads=2, return_attention_scores=True),
        "tokens",
        None,
    ),
    "attention_pooling_image": (
        lambda: layers.AttentionPooling(num_heads=4),
        "image",
        None,
    ),
    "feature_attention": (
        lambda: layers.FeatureAttention(hidden_units=6, return_attention=True),
        "tabular",
        None,
    ),
    "cosine_classifier": (
        lambda: layers.CosineClassifier(NUM_CLASSES, scale=10.0),
        "tabular",
        None,
    ),
    "cosine_classifier_learned_scale": (
        lambda: layers.CosineClassifier(NUM_CLASSES, learn_scale=True),
        "tabular",
        None,
    ),
    "fusion_concat": (lambda: layers.BranchFusion("concat"), "features", (8, 5, 3)),
    "fusion_sum": (lambda: layers.BranchFusion("sum"), "features", (6, 6)),
    "fusion_mean": (lambda: layers.BranchFusion("mean"), "features", (6, 6)),
    "fusion_gated": (lambda: layers.BranchFusion("gated"), "features", (6, 6, 6)),
    "fusion_attention": (
        lambda: layers.BranchFusion("attention"),
        "features",
        (6, 6, 6),
    ),
    "learnable_weight_scaling": (
        lambda: layers.LearnableWeightScaling(),
        "tabular",
        None,
    ),
    "logit_adjustment": (
        lambda: layers.LogitAdjustment(np.linspace(10, 1, 10).tolist(), tau=0.5),
        "tabular",
        None,
    ),
    "bilateral_mixing": (lambda: layers.BilateralMixing(0.7), "features", (6, 6)),
}
NAMES = sorted(CASES)


def test_every_public_layer_has_a_case():
    covered = {type(CASES[name][0]()).__name__ for name in NAMES}
    public = {
        name
        for name in layers.__all__
        if isinstance(getattr(layers, name), type)
        and issubclass(getattr(layers, name), keras.layers.Layer)
    }
    assert public <= covered, public - covered


def make_input(kind, batch=BATCH, rng=RNG):
    shape, dtype = INPUTS[kind]
    if dtype == "int32":
        x = rng.integers(1, 20, size=(batch, *shape)).astype("int32")
        x[0, 4:] = 0  # padding: masked by the embedding
        x[1, 2:] = 0
        return x
    # Positive, as images after a ReLU.
    return rng.uniform(0.1, 2.0, size=(batch, *shape)).astype(dtype)


def layer_inputs(kind, widths, inputs):
    """The tensor(s) the layer under test is called on."""
    if kind == "tokens":
        return keras.layers.Embedding(20, 8, mask_zero=True, name="embed")(inputs)
    if widths is not None:
        return [
            keras.layers.Dense(w, activation="relu", name=f"branch_{i}")(inputs)
            for i, w in enumerate(widths)
        ]
    return inputs


def build_model(name):
    """A functional model `inputs -> ... -> layer -> [logits, *layer outputs]`."""
    factory, kind, widths = CASES[name]
    shape, dtype = INPUTS[kind]
    inputs = keras.Input(shape, dtype=dtype, name="x")
    layer = factory()
    outputs = layer(layer_inputs(kind, widths, inputs))
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if isinstance(layer, layers.CosineClassifier):
        logits = outputs[0]
    else:
        flat = keras.layers.Flatten(name="flatten")(outputs[0])
        logits = keras.layers.Dense(NUM_CLASSES, name="logits")(flat)
    model = keras.Model(inputs, [logits, *outputs])
    return model, layer


@pytest.fixture(scope="module", params=NAMES)
def trained(request):
    """`(name, model, layer, x, weights before fit, fit loss)`, built once per case."""
    name = request.param
    keras.utils.set_random_seed(0)
    model, layer = build_model(name)
    x = make_input(CASES[name][1])
    y = RNG.integers(0, NUM_CLASSES, size=len(x))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=[loss] + [None] * (len(model.outputs) - 1),
    )
    before = [np.array(w) for w in layer.trainable_weights]
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    return name, model, layer, x, before, history.history["loss"][0]


def predict(model, x):
    return [np.asarray(o) for o in model(x, training=False)]


def test_one_fit_step_trains_the_layer(trained):
    name, _, layer, _, before, loss = trained
    assert np.isfinite(loss), name
    after = [np.array(w) for w in layer.trainable_weights]
    assert all(np.all(np.isfinite(a)) for a in after), name
    if before:
        assert any(not np.allclose(b, a) for b, a in zip(before, after)), name


def test_keras_file_round_trip(trained, tmp_path):
    name, model, layer, x, _, _ = trained
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.get_layer(layer.name)) is type(layer)
    assert loaded.get_layer(layer.name).get_config() == layer.get_config()
    for want, got in zip(predict(model, x), predict(loaded, x)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=name)


def test_saved_model_export_round_trip(trained, tmp_path):
    name, model, _, x, _, _ = trained
    path = str(tmp_path / "exported")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)  # keep alive: .serve needs its variables
    served = loaded.serve(tf.constant(x))
    for want, got in zip(predict(model, x), served):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5, err_msg=name)


def test_output_shapes(trained):
    name, model, layer, x, _, _ = trained
    real = predict(model, x)[1:]
    # The symbolic shapes of the functional model match the real ones.
    for tensor, value in zip(model.outputs[1:], real):
        assert tensor.shape[1:] == value.shape[1:], name
    # compute_output_shape, with and without a known batch size.
    for batch in (None, len(x)):
        shape = layer.compute_output_shape(layer_input_shape(name, batch))
        shape = list(shape) if isinstance(shape[0], tuple) else [shape]
        assert [tuple(s[1:]) for s in shape] == [v.shape[1:] for v in real], name
        assert all(s[0] == batch for s in shape), name


def layer_input_shape(name, batch):
    _, kind, widths = CASES[name]
    if widths is not None:
        return [(batch, w) for w in widths]
    if kind == "tokens":
        return (batch, *INPUTS[kind][0], 8)
    return (batch, *INPUTS[kind][0])


def test_config_round_trip(trained):
    _, _, layer, _, _, _ = trained
    config = layer.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is type(layer) and restored.get_config() == config
    registered = keras.saving.get_registered_name(type(layer))
    assert registered == f"keras_imbalance>{type(layer).__name__}"


@pytest.mark.parametrize("name", NAMES)
def test_mixed_precision_outputs_are_finite(name):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model, layer = build_model(name)
        assert layer.compute_dtype == "float16"
        x = make_input(CASES[name][1])
        # Large activations push half-precision intermediates to their limits.
        outputs = model(x if x.dtype.kind == "i" else x * 100)
    finally:
        keras.config.set_dtype_policy(previous)
    for value in outputs:
        assert np.all(np.isfinite(np.asarray(value, dtype="float32"))), name


@pytest.mark.parametrize("name", NAMES)
def test_jit_compile_matches_graph_mode(name):
    x = make_input(CASES[name][1])
    y = np.arange(len(x)) % NUM_CLASSES
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        model, _ = build_model(name)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(
            optimizer="sgd",
            loss=[loss] + [None] * (len(model.outputs) - 1),
            jit_compile=jit,
        )
        results.append(model.train_on_batch(x, y))
        results.append(model.test_on_batch(x, y))
    assert np.all(np.isfinite(results)), name
    np.testing.assert_allclose(results[:2], results[2:], rtol=1e-4, err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_frozen_layer_stays_frozen_after_loading(name, tmp_path):
    # Sublayers built lazily must inherit `trainable=False` when a frozen
    # layer is rebuilt from its config, or fine-tuning code that freezes
    # parts of a model would train them again after `load_model`.
    model, layer = build_model(name)
    layer.trainable = False
    want = sorted(v.path for v in model.trainable_variables)
    path = tmp_path / "frozen.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert sorted(v.path for v in loaded.trainable_variables) == want, name
    assert not loaded.get_layer(layer.name).trainable_weights, name
