"""Checks every public layer gets for free (imbalanced-learn's conformance idea).

Every public layer class has cases in `tests/conformance/case_tables.py`
(`_layer_cases`; a new layer without one fails
`test_every_public_layer_has_a_case`) and inherits: training inside a
functional model, `.keras` and SavedModel round trips, config and
serialization round trips, output shapes (`compute_output_shape` and the
symbolic ones), finiteness under mixed precision and float64, XLA agreeing
with eager, and frozen layers staying frozen after loading.
"""

import keras
import numpy as np
import pytest
from keras import ops

from tests import conformance
from tests.backend_marks import needs_saved_model

CASES = conformance.cases("layer")
RNG = np.random.default_rng(3)


def test_every_public_layer_has_a_case():
    assert not conformance.missing_cases("layer"), conformance.missing_cases("layer")


@pytest.fixture(scope="module", params=CASES)
def trained(request):
    """`(case, model, layer, x, weights before fit, fit loss)`, built once per case."""
    case = request.param
    keras.utils.set_random_seed(0)
    model, layer = conformance.layer_model(case)
    x = conformance.layer_input(case.inputs, rng=RNG)
    y = RNG.integers(0, conformance.LAYER_CLASSES, size=len(x))
    # Eager: a compiled step per case costs more than the checks; the graph
    # and XLA steps are test_jit_compile_matches_eager's.
    model.compile(**conformance.layer_compile_args(model, run_eagerly=True))
    before = [ops.convert_to_numpy(w) for w in layer.trainable_weights]
    logs = model.train_on_batch(x, y, return_dict=True)
    return case, model, layer, x, before, float(logs["loss"])


@pytest.mark.slow
def test_one_fit_step_trains_the_layer(trained):
    case, _, layer, _, before, loss = trained
    assert np.isfinite(loss), case.id
    after = [ops.convert_to_numpy(w) for w in layer.trainable_weights]
    assert all(np.all(np.isfinite(a)) for a in after), case.id
    if before:
        assert any(not np.allclose(b, a) for b, a in zip(before, after)), case.id


@pytest.mark.slow
def test_keras_file_round_trip(trained, tmp_path):
    _, model, layer, x, _, _ = trained
    loaded = conformance.check_keras_file_round_trip(model, x, tmp_path)
    assert type(loaded.get_layer(layer.name)) is type(layer)
    assert loaded.get_layer(layer.name).get_config() == layer.get_config()
    # The config of the built, trained layer round-trips too.
    conformance.check_config_round_trip(layer, json_exact=True)


@pytest.mark.slow
@needs_saved_model
def test_saved_model_export_round_trip(trained, tmp_path):
    _, model, _, x, _, _ = trained
    conformance.check_saved_model_round_trip(model, x, tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_output_shapes(case):
    model, layer = conformance.layer_model(case)
    x = conformance.layer_input(case.inputs, rng=RNG)
    real = conformance.predict(model, x)[1:]
    # The symbolic shapes of the functional model match the real ones.
    for tensor, value in zip(model.outputs[1:], real):
        assert tensor.shape[1:] == value.shape[1:], case.id
    # compute_output_shape, with and without a known batch size.
    for batch in (None, len(x)):
        shape = layer.compute_output_shape(conformance.layer_input_shape(case, batch))
        shape = list(shape) if isinstance(shape[0], tuple) else [shape]
        assert [tuple(s[1:]) for s in shape] == [v.shape[1:] for v in real], case.id
        assert all(s[0] == batch for s in shape), case.id


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case):
    layer = case.make()
    conformance.check_config_round_trip(layer, json_exact=True)
    conformance.check_serialization_round_trip(layer)


@pytest.mark.parametrize("case", CASES)
def test_mixed_precision_outputs_are_finite(case):
    with conformance.dtype_policy("mixed_float16"):
        model, layer = conformance.layer_model(case)
        assert layer.compute_dtype == "float16"
        x = conformance.layer_input(case.inputs, rng=RNG)
        # Large activations push half-precision intermediates to their limits.
        outputs = model(x if x.dtype.kind == "i" else x * 100)
    for value in outputs:
        value = ops.convert_to_numpy(ops.cast(value, "float32"))
        assert np.all(np.isfinite(value)), case.id


def _without_float64():
    """JAX gives float32 for float64 unless x64 is enabled (off by default)."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return not jax.config.jax_enable_x64


@pytest.mark.slow
@pytest.mark.skipif(
    _without_float64(),
    reason="JAX computes in float64 only with `jax_enable_x64` (JAX_ENABLE_X64=1), "
    "off by default: a float64 policy gives float32 there",
)
@pytest.mark.parametrize("case", CASES)
def test_float64_policy(case):
    # Training under mixed_float16 is in the harness too; the stronger
    # half-precision check is the one above (outputs at large activations).
    conformance.check_dtype_policies(case, policies=("float64",))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_jit_compile_matches_eager(case):
    conformance.run_check("jit_matches_eager", case, None)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_frozen_layer_stays_frozen_after_loading(case, tmp_path):
    # Sublayers built lazily must inherit `trainable=False` when a frozen
    # layer is rebuilt from its config, or fine-tuning code that freezes
    # parts of a model would train them again after `load_model`.
    model, layer = conformance.layer_model(case)
    layer.trainable = False
    want = sorted(v.path for v in model.trainable_variables)
    path = tmp_path / "frozen.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert sorted(v.path for v in loaded.trainable_variables) == want, case.id
    assert not loaded.get_layer(layer.name).trainable_weights, case.id
