"""Every public builder: build, one fit step, `.keras` and SavedModel round trips.

A new builder is added to `BUILDERS` and inherits the checks.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance import models

C = 3


def _bbn_inference(**kwargs):
    return models.build_bilateral_branch_network(**kwargs)[1]


def _small():
    return models.build_attention_classifier((12, 12, 3), C, width=4, depth=2)


# name -> (builder, input shape or dict of shapes)
BUILDERS = {
    "attention_se": (
        lambda: models.build_attention_classifier(
            (12, 12, 3), C, attention="se", width=4, depth=2
        ),
        (12, 12, 3),
    ),
    "attention_cbam_resnet_cosine": (
        lambda: models.build_attention_classifier(
            (12, 12, 3),
            C,
            attention="cbam",
            backbone="small_resnet",
            head="cosine",
            width=4,
            depth=2,
            dropout=0.1,
        ),
        (12, 12, 3),
    ),
    "attention_eca_sequence": (
        lambda: models.build_attention_classifier(
            (16, 4), C, attention="eca", width=4, depth=2
        ),
        (16, 4),
    ),
    "attention_tabular": (
        lambda: models.build_attention_classifier((7,), C, width=4, depth=2),
        (7,),
    ),
    "multi_branch_gated": (
        lambda: models.build_multi_branch_classifier(
            (12, 12, 1), C, fusion="gated", width=4, embedding=8
        ),
        (12, 12, 1),
    ),
    "multi_branch_attention_fusion": (
        lambda: models.build_multi_branch_classifier(
            (12, 12, 1), C, fusion="attention", width=4, embedding=8
        ),
        (12, 12, 1),
    ),
    "multi_input_auxiliary": (
        lambda: models.build_multi_branch_classifier(
            {"image": (12, 12, 1), "tabular": (5,)},
            C,
            auxiliary_outputs=True,
            width=4,
            embedding=8,
        ),
        {"image": (12, 12, 1), "tabular": (5,)},
    ),
    "bbn_inference": (
        lambda: _bbn_inference(
            input_shape=(12, 12, 1), num_classes=C, width=4, depth=2, attention="se"
        ),
        (12, 12, 1),
    ),
    "expert_ensemble": (
        lambda: models.build_expert_ensemble(
            (12, 12, 3), C, num_experts=2, width=4, depth=2
        ),
        (12, 12, 3),
    ),
    "expert_ensemble_outputs": (
        lambda: models.build_expert_ensemble(
            (6,), C, num_experts=2, width=4, depth=2, return_expert_logits=True
        ),
        (6,),
    ),
    "transfer_mobilenet_v3_small": (
        lambda: models.build_transfer_classifier(
            C,
            backbone="MobileNetV3Small",
            input_shape=(28, 28, 1),
            attention="eca",
            head="cosine",
        ),
        (28, 28, 1),
    ),
    "tau_normalize": (lambda: models.tau_normalize(_small(), tau=1.0), (12, 12, 3)),
    "learnable_weight_scaling": (
        lambda: models.learnable_weight_scaling(_small()),
        (12, 12, 3),
    ),
    "with_logit_adjustment": (
        lambda: models.with_logit_adjustment(_small(), [0.7, 0.2, 0.1], tau=1.0),
        (12, 12, 3),
    ),
}


def _inputs(shape, n=8, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(shape, dict):
        return {k: _inputs(s, n, seed) for k, s in shape.items()}
    return rng.normal(size=(n,) + tuple(shape)).astype("float32")


def _as_dict(outputs):
    if isinstance(outputs, dict):
        return {k: np.asarray(v) for k, v in outputs.items()}
    return {"output": np.asarray(outputs)}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_conformance(name, tmp_path):
    build, shape = BUILDERS[name]
    keras.utils.set_random_seed(0)
    model = build()
    x = _inputs(shape)
    y = np.random.default_rng(1).integers(0, C, size=8)
    targets = {k: y for k in model.output} if isinstance(model.output, dict) else y

    # One fit step, logits out.
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x, targets, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    expected = _as_dict(model.predict(x, verbose=0))
    assert all(v.shape == (8, C) for v in expected.values())

    # .keras round trip without custom_objects.
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for key, value in _as_dict(loaded.predict(x, verbose=0)).items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-5, atol=1e-5)

    # SavedModel export; keep the loaded object alive while serving.
    export_path = str(tmp_path / f"{name}_export")
    model.export(export_path)
    served_model = tf.saved_model.load(export_path)
    served = served_model.serve(x)
    for key, value in _as_dict(served).items():
        key = key if key in expected else "output"
        np.testing.assert_allclose(value, expected[key], rtol=1e-5, atol=1e-5)
