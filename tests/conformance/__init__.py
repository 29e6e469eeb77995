"""Conformance checks shared by the test files (imbalanced-learn's idea).

imbalanced-learn runs the same battery of checks over every estimator
(`imblearn/utils/estimator_checks.py`); this package does it for every public
Keras object of `keras_imbalance`. It is a plain package, imported by the
test files (`from tests import conformance`), not collected itself; every
name below is re-exported here, as `conformance.<name>`. It has three parts:

* **Enumeration** (`names.py`). `public_modules()` walks the package
  (underscore modules left out), `public_names()` lists every name of their
  `__all__`, and `classify(obj)` sorts each one into a kind: `"loss"`,
  `"metric"`, `"layer"`, `"model"`, `"callback"`, `"optimizer"` (the Keras
  classes that the checks below run on), `"keras_other"` (another
  serializable Keras class: a regularizer, a schedule ...), `"class"`,
  `"function"`, `"module"` or `"constant"`. `public_keras_classes(kind)`
  gives the package's own classes of a kind, by class name.

* **Cases** (`case_tables.py`). `table(kind)[class name]` lists the ways each
  class is built for the checks (constructor arguments and the inputs a tiny
  model feeds it), from the `_<kind>_cases()` functions there. Every public
  class needs an entry: `missing_cases(kind)` names the classes without one
  (the completeness tests fail on them, asking for the entry) and the
  entries whose class is gone. `cases(kind)` gives the `pytest.param`s, and
  `check_params(kinds)` (`generic.py`) the `(check, case)` params of the
  generic checks, the slow ones marked `slow`.

* **Checks.** Functions that raise `AssertionError` on a non-conforming
  object: `check_config_round_trip`, `check_registered`,
  `check_serialization_round_trip`, `check_keras_file_round_trip`,
  `check_saved_model_round_trip` (`model.export` + `tf.saved_model.load`),
  `check_saved_function_round_trip` (a `tf.function` in a `tf.Module`, for
  what a model does not export: a loss, a metric's state) and
  `check_finite` (`checks.py`); `check_jit_matches_eager` (`backends.py`);
  `check_dtype_policies` and `run_check(name, case, path)` (`generic.py`),
  which runs one of them on any case through its kind's probe (the tiny
  model that uses the object, `probe(case)`).

Around them: `backends.py` compiles and differentiates a function as the
current Keras backend's train step does (`traced`, `traced_update`,
`value_and_gradient`), and `probes.py` builds the probes (`Setup`,
`probe`, `fit`, `evaluate`, and the data and models of each kind).
`names` and `probes` import no other submodule; `case_tables` imports both,
`checks` imports `names`, `backends` imports `checks`, and `generic` the rest.

The per-kind files (`tests/losses`, `tests/layers`, `tests/models`
`test_conformance.py`) run the checks on their kind and add their own;
`tests/test_public_api.py` runs them on the other kinds and checks the
completeness of `CASES`.
"""

from tests.conformance.backends import (
    EAGER_STEPS,
    MODES,
    backend,
    check_jit_matches_eager,
    compile_mode,
    traced,
    traced_update,
    value_and_gradient,
)
from tests.conformance.case_tables import (
    COUNTS,
    Case,
    cases,
    missing_cases,
    table,
    unknown_kinds,
)
from tests.conformance.checks import (
    as_json,
    check_config_round_trip,
    check_finite,
    check_keras_file_round_trip,
    check_registered,
    check_saved_function_round_trip,
    check_saved_model_round_trip,
    check_serialization_round_trip,
    dtype_policy,
    predict,
    registered_name,
)
from tests.conformance.generic import (
    GENERIC_CHECKS,
    SERIALIZATION_CHECKS,
    SERIALIZED_KINDS,
    SLOW_CHECKS,
    check_dtype_policies,
    check_params,
    generic_checks,
    run_check,
)
from tests.conformance.names import (
    KERAS_KINDS,
    MISSING,
    OTHER_KERAS_BASES,
    PACKAGE,
    PublicName,
    classify,
    is_keras_class,
    is_own,
    public_keras_classes,
    public_modules,
    public_names,
)
from tests.conformance.probes import (
    BATCH,
    LAYER_CLASSES,
    LAYER_INPUTS,
    PROBES,
    RNG,
    C,
    Setup,
    dense_data,
    dense_model,
    evaluate,
    fit,
    from_logits,
    layer_compile_args,
    layer_input,
    layer_input_shape,
    layer_inputs,
    layer_model,
    loss_data,
    loss_model,
    loss_model_data,
    probe,
)

__all__ = [
    # names.py: enumeration
    "PACKAGE",
    "KERAS_KINDS",
    "OTHER_KERAS_BASES",
    "PublicName",
    "MISSING",
    "public_modules",
    "public_names",
    "classify",
    "is_keras_class",
    "is_own",
    "public_keras_classes",
    # case_tables.py
    "COUNTS",
    "Case",
    "table",
    "cases",
    "missing_cases",
    "unknown_kinds",
    # checks.py
    "dtype_policy",
    "as_json",
    "check_config_round_trip",
    "registered_name",
    "check_registered",
    "check_serialization_round_trip",
    "predict",
    "check_keras_file_round_trip",
    "check_saved_model_round_trip",
    "check_saved_function_round_trip",
    "check_finite",
    # backends.py
    "EAGER_STEPS",
    "backend",
    "traced",
    "traced_update",
    "value_and_gradient",
    "MODES",
    "check_jit_matches_eager",
    "compile_mode",
    # probes.py
    "C",
    "BATCH",
    "RNG",
    "Setup",
    "loss_data",
    "loss_model",
    "loss_model_data",
    "from_logits",
    "LAYER_CLASSES",
    "LAYER_INPUTS",
    "layer_input",
    "layer_inputs",
    "layer_input_shape",
    "layer_model",
    "layer_compile_args",
    "dense_data",
    "dense_model",
    "PROBES",
    "probe",
    "fit",
    "evaluate",
    # generic.py
    "run_check",
    "check_dtype_policies",
    "SERIALIZED_KINDS",
    "SERIALIZATION_CHECKS",
    "SLOW_CHECKS",
    "generic_checks",
    "check_params",
    "GENERIC_CHECKS",
]
