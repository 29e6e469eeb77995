"""Generic checks: each check on any case, through its kind's probe.

`run_check(name, case, path)` runs one of `GENERIC_CHECKS` on a case;
`generic_checks(kind)` names those of a kind, and `check_params(kinds)` gives
the `(check, case)` params of the tests, the slow ones marked `slow`.
"""

import keras
import numpy as np

from tests.conformance.backends import check_jit_matches_eager, compile_mode
from tests.conformance.case_tables import cases
from tests.conformance.checks import (
    check_config_round_trip,
    check_finite,
    check_keras_file_round_trip,
    check_saved_model_round_trip,
    check_serialization_round_trip,
    dtype_policy,
    predict,
)
from tests.conformance.probes import evaluate, fit, probe


def _outputs_and_evaluation(setup):
    def outputs(model, x):
        values = evaluate(setup, model)
        return [*predict(model, x), *values.values()]

    return outputs


def run_check(check, case, path):
    """Run the generic check `check` (a name of `GENERIC_CHECKS`) on `case`."""
    GENERIC_CHECKS[check](case, path)


def _generic_config(case, path):
    obj = case.make() if case.kind != "callback" else probe(case).obj
    check_config_round_trip(obj, json_exact=case.spec.get("json_exact", True))


def _generic_serialization(case, path):
    obj = case.make() if case.kind != "callback" else probe(case).obj
    check_serialization_round_trip(obj)


def _generic_keras_file(case, path):
    # Eager: tracing a train step costs more than the check (the compiled
    # steps are `jit_matches_eager`'s).
    setup = probe(case, run_eagerly=True)
    fit(setup)
    loaded = check_keras_file_round_trip(
        setup.model, setup.x, path, outputs=_outputs_and_evaluation(setup)
    )
    kind = case.kind
    if kind == "metric":
        restored = {type(m).__name__: m for m in _flat_metrics(loaded)}
        name = type(setup.obj).__name__
        assert name in restored, (name, list(restored))
        assert restored[name].get_config() == setup.obj.get_config()
    elif kind == "optimizer":
        assert type(loaded.optimizer) is type(setup.obj)
        assert loaded.optimizer.get_config() == setup.obj.get_config()
        # The optimizer's state (momentum buffers) is saved: one more step
        # from the loaded model gives the same weights.
        setup.model.train_on_batch(setup.x, setup.y)
        loaded.train_on_batch(setup.x, setup.y)
        for want, got in zip(setup.model.get_weights(), loaded.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    elif kind == "loss":
        assert type(loaded.loss) is type(setup.obj)
        assert loaded.loss.get_config() == setup.obj.get_config()


def _flat_metrics(model):
    found = []
    for metric in model.metrics:
        found.append(metric)
        found.extend(getattr(metric, "metrics", []))  # the compile metrics wrapper
    return found


def _generic_saved_model(case, path):
    from tests.backend_marks import skip_unless_saved_model

    skip_unless_saved_model()
    setup = probe(case, run_eagerly=True)
    fit(setup)
    check_saved_model_round_trip(setup.model, setup.x, path)


def _generic_dtype_policies(case, path):
    check_dtype_policies(case)


def check_dtype_policies(case, policies=("mixed_float16", "float64")):
    """Under each global dtype policy the probe trains to finite numbers and
    its outputs are finite, of the dtypes its symbolic outputs declare; the
    outputs of a layer under test are of the policy's compute dtype."""
    for policy in policies:
        with dtype_policy(policy):
            keras.utils.set_random_seed(0)
            setup = probe(case, run_eagerly=True)  # eager: no tracing to pay
            compute_dtype = keras.config.dtype_policy().compute_dtype
            history = fit(setup)
            outputs = predict(setup.model, setup.x)
        check_finite(list(history.values()))
        check_finite(setup.model.get_weights())
        declared = [
            keras.backend.standardize_dtype(t.dtype)
            for t in keras.tree.flatten(setup.model.outputs)
        ]
        for value, dtype in zip(outputs, declared):
            check_finite(value, dtype)
        if case.kind == "layer":
            assert setup.obj.compute_dtype == compute_dtype, (case.id, policy)
            for value in outputs[1:]:  # [logits, *the layer's outputs]
                check_finite(value, compute_dtype)


# Kinds whose inference path (`training=False`) can differ from training's:
# their XLA check compiles the test step too. (A loss, a metric, an optimizer
# or a callback runs the same code in both; the train step has them all.)
_TEST_STEP_KINDS = ("layer", "model")


def _generic_jit(case, path):
    def run(mode):
        setup = probe(case, **compile_mode(mode))
        history = fit(setup)
        if case.kind not in _TEST_STEP_KINDS:
            return list(history.values())
        return [list(history.values()), list(evaluate(setup).values())]

    check_jit_matches_eager(run)


# Kinds whose objects Keras serializes (a callback is no part of a model's
# config: Keras has no `get_config` for callbacks; `tests/test_public_api.py`
# still asks every public Keras class to be registered).
SERIALIZED_KINDS = ("loss", "metric", "layer", "model", "optimizer")


def generic_checks(kind):
    """The names of the generic checks that apply to a kind."""
    skip = () if kind in SERIALIZED_KINDS else SERIALIZATION_CHECKS
    return [name for name in GENERIC_CHECKS if name not in skip]


SERIALIZATION_CHECKS = ("config_round_trip", "serialization_round_trip")
# The checks that build, train and save models: `slow` (see conftest.py).
SLOW_CHECKS = (
    "keras_file_round_trip",
    "saved_model_round_trip",
    "dtype_policies",
    "jit_matches_eager",
)


def check_params(kinds):
    """`pytest.param(check, case)` for every generic check of every case of
    `kinds`, the slow checks marked `slow`."""
    import pytest

    params = []
    for kind in kinds:
        for param in cases(kind):
            for check in generic_checks(kind):
                marks = [pytest.mark.slow] if check in SLOW_CHECKS else []
                params.append(
                    pytest.param(
                        check, param.values[0], id=f"{check}-{param.id}", marks=marks
                    )
                )
    return params


GENERIC_CHECKS = {
    "config_round_trip": _generic_config,
    "serialization_round_trip": _generic_serialization,
    "keras_file_round_trip": _generic_keras_file,
    "saved_model_round_trip": _generic_saved_model,
    "dtype_policies": _generic_dtype_policies,
    "jit_matches_eager": _generic_jit,
}
