"""Every public builder and model class: the shared conformance checks.

Builders: a new `build_*` function of `keras_imbalance.models` is added to
`BUILDERS` (`test_every_public_builder_has_a_case` fails until it is) and
inherits build, one fit step, `.keras` and SavedModel round trips. Model
classes (`keras.Model` subclasses) have their cases in
`tests/conformance/case_tables.py` (`_model_cases`) and get the generic
checks of the harness.
"""

import inspect

import keras
import numpy as np
import pytest

from keras_imbalance import models
from tests import conformance
from tests.backend_marks import skip_unless_saved_model

C = 3


def _bbn_inference(**kwargs):
    return models.build_bilateral_branch_network(**kwargs)[1]


def _small():
    return models.build_attention_classifier((12, 12, 3), C, width=4, depth=2)


def _tiny(input_shape, num_classes):
    return models.build_attention_classifier(input_shape, num_classes, width=4, depth=2)


# name -> (public function it covers, builder, input shape or dict of shapes)
BUILDERS = {
    "attention_se": (
        "build_attention_classifier",
        lambda: models.build_attention_classifier(
            (12, 12, 3), C, attention="se", width=4, depth=2
        ),
        (12, 12, 3),
    ),
    "attention_cbam_resnet_cosine": (
        "build_attention_classifier",
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
        "build_attention_classifier",
        lambda: models.build_attention_classifier(
            (16, 4), C, attention="eca", width=4, depth=2
        ),
        (16, 4),
    ),
    "attention_tabular": (
        "build_attention_classifier",
        lambda: models.build_attention_classifier((7,), C, width=4, depth=2),
        (7,),
    ),
    "multi_branch_gated": (
        "build_multi_branch_classifier",
        lambda: models.build_multi_branch_classifier(
            (12, 12, 1), C, fusion="gated", width=4, embedding=8
        ),
        (12, 12, 1),
    ),
    "multi_branch_attention_fusion": (
        "build_multi_branch_classifier",
        lambda: models.build_multi_branch_classifier(
            (12, 12, 1), C, fusion="attention", width=4, embedding=8
        ),
        (12, 12, 1),
    ),
    "multi_input_auxiliary": (
        "build_multi_branch_classifier",
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
        "build_bilateral_branch_network",
        lambda: _bbn_inference(
            input_shape=(12, 12, 1), num_classes=C, width=4, depth=2, attention="se"
        ),
        (12, 12, 1),
    ),
    "generic_bbn_inference": (
        "build_generic_bilateral",
        lambda: models.build_generic_bilateral(_tiny, (7,), C)[1],
        (7,),
    ),
    "expert_ensemble": (
        "build_expert_ensemble",
        lambda: models.build_expert_ensemble(
            (12, 12, 3), C, num_experts=2, width=4, depth=2
        ),
        (12, 12, 3),
    ),
    "expert_ensemble_outputs": (
        "build_expert_ensemble",
        lambda: models.build_expert_ensemble(
            (6,), C, num_experts=2, width=4, depth=2, return_expert_logits=True
        ),
        (6,),
    ),
    "transfer_mobilenet_v3_small": (
        "build_transfer_classifier",
        lambda: models.build_transfer_classifier(
            C,
            backbone="MobileNetV3Small",
            input_shape=(28, 28, 1),
            attention="eca",
            head="cosine",
        ),
        (28, 28, 1),
    ),
    "tau_normalize": (
        "tau_normalize",
        lambda: models.tau_normalize(_small(), tau=1.0),
        (12, 12, 3),
    ),
    "learnable_weight_scaling": (
        "learnable_weight_scaling",
        lambda: models.learnable_weight_scaling(_small()),
        (12, 12, 3),
    ),
    "with_logit_adjustment": (
        "with_logit_adjustment",
        lambda: models.with_logit_adjustment(_small(), [0.7, 0.2, 0.1], tau=1.0),
        (12, 12, 3),
    ),
}


def public_builders():
    """The `build_*` functions that `keras_imbalance.models` exports."""
    return {
        entry.name
        for entry in conformance.public_names()
        if entry.module.startswith("keras_imbalance.models")
        and entry.name.startswith("build_")
        and inspect.isfunction(entry.obj)
    }


def test_every_public_builder_has_a_case():
    covered = {function for function, _, _ in BUILDERS.values()}
    missing = sorted(public_builders() - covered)
    assert not missing, (
        f"public builders without a case: {missing}; add an entry to BUILDERS in "
        "tests/models/test_conformance.py"
    )


def test_every_public_model_class_has_a_case():
    assert not conformance.missing_cases("model"), conformance.missing_cases("model")


@pytest.mark.parametrize("check,case", conformance.check_params(["model"]))
def test_model_class_conformance(check, case, tmp_path):
    conformance.run_check(check, case, tmp_path)


def _inputs(shape, n=8, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(shape, dict):
        return {k: _inputs(s, n, seed) for k, s in shape.items()}
    return rng.normal(size=(n,) + tuple(shape)).astype("float32")


def _as_dict(outputs):
    if isinstance(outputs, dict):
        return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}
    return {"output": keras.ops.convert_to_numpy(outputs)}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_conformance(name, tmp_path):
    _, build, shape = BUILDERS[name]
    keras.utils.set_random_seed(0)
    model = build()
    x = _inputs(shape)
    y = np.random.default_rng(1).integers(0, C, size=8)
    targets = {k: y for k in model.output} if isinstance(model.output, dict) else y

    # One training step, logits out. Eager: tracing the train step of each
    # builder costs seconds (test_builders trains them in compiled steps).
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,
    )
    logs = model.train_on_batch(x, targets, return_dict=True)
    assert np.isfinite(logs["loss"])
    expected = _as_dict(model(x, training=False))
    assert all(v.shape == (8, C) for v in expected.values())

    # .keras round trip without custom_objects; SavedModel export (its
    # `serve` gives the same outputs).
    conformance.check_keras_file_round_trip(model, x, tmp_path, rtol=1e-5, atol=1e-5)
    skip_unless_saved_model()
    conformance.check_saved_model_round_trip(model, x, tmp_path)
