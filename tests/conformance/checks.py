"""Checks: functions that raise `AssertionError` on a non-conforming object.

The round trips (`check_config_round_trip`, `check_registered`,
`check_serialization_round_trip`, `check_keras_file_round_trip`,
`check_saved_model_round_trip`, `check_saved_function_round_trip`), their
helpers (`as_json`, `predict`, `dtype_policy`) and `check_finite`.
"""

import contextlib
import copy
import json

import keras
import numpy as np
import tensorflow as tf

from tests.conformance.names import PACKAGE, classify


@contextlib.contextmanager
def dtype_policy(policy):
    """A global dtype policy for the block, restored afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def as_json(config):
    """A config as a `.keras` file stores it (tuples as lists, string keys)."""
    return json.loads(json.dumps(config))


def check_config_round_trip(obj, json_exact=True):
    """`from_config(get_config())` gives the same config, before and after JSON.

    `json_exact`: the config is made of JSON types only. Without it (a dict
    with integer keys, Keras' tuples) the config must still survive JSON:
    `from_config` of its JSON form gives the same config, in JSON form.
    """
    config = obj.get_config()
    text = json.dumps(config)
    if json_exact:
        assert json.loads(text) == config, config
    # (Keras' `from_config` may change the dict it is given: pass a copy.)
    clone = type(obj).from_config(copy.deepcopy(config))
    assert type(clone) is type(obj)
    assert as_json(clone.get_config()) == as_json(config)
    if json_exact:
        assert clone.get_config() == config, (clone.get_config(), config)
    clone = type(obj).from_config(json.loads(text))
    assert type(clone) is type(obj)
    assert as_json(clone.get_config()) == json.loads(text)
    return config


def registered_name(cls):
    return f"{PACKAGE}>{cls.__name__}"


def check_registered(cls):
    """`cls` is registered serializable under `keras_imbalance>ClassName`."""
    name = keras.saving.get_registered_name(cls)
    assert name == registered_name(cls), (
        f"{cls.__name__} is not registered with the package name: "
        f"get_registered_name gives {name!r}; decorate it with "
        '`@keras.saving.register_keras_serializable(package="keras_imbalance")`'
    )
    assert keras.saving.get_registered_object(name) is cls


# Kind -> Keras' own per-kind (de)serializers, checked too.
_KIND_SERIALIZERS = {
    "loss": (keras.losses.serialize, keras.losses.deserialize),
    "metric": (keras.metrics.serialize, keras.metrics.deserialize),
    "layer": (keras.layers.serialize, keras.layers.deserialize),
    "model": (keras.layers.serialize, keras.layers.deserialize),
    "optimizer": (keras.optimizers.serialize, keras.optimizers.deserialize),
}


def check_serialization_round_trip(obj):
    """`serialize_keras_object`, JSON, `deserialize_keras_object`: no custom_objects."""
    check_registered(type(obj))
    config = obj.get_config()
    serialized = keras.saving.serialize_keras_object(obj)
    assert serialized["registered_name"] == registered_name(type(obj)), serialized
    serialized = json.loads(json.dumps(serialized))
    with keras.saving.custom_object_scope({}):
        restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(obj)
    assert as_json(restored.get_config()) == as_json(config)
    kind = classify(type(obj))
    if kind in _KIND_SERIALIZERS:
        serialize, deserialize = _KIND_SERIALIZERS[kind]
        restored = deserialize(serialize(obj))
        assert type(restored) is type(obj)
        assert as_json(restored.get_config()) == as_json(config)


def predict(model, x):
    """The model's outputs on `x` (inference mode) as a flat list of arrays."""
    outputs = model(x, training=False)
    return [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(outputs)]


def check_keras_file_round_trip(model, x, path, outputs=predict, rtol=1e-6, atol=1e-6):
    """`model.save` + `load_model(safe_mode=True)` with no custom_objects:
    the same `outputs(model, x)`. Returns the loaded model."""
    path = path / "model.keras"
    model.save(path)
    with keras.saving.custom_object_scope({}):
        loaded = keras.saving.load_model(path, safe_mode=True)
    want, got = outputs(model, x), outputs(loaded, x)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)
    return loaded


def check_saved_model_round_trip(model, x, path, rtol=1e-5, atol=1e-5):
    """`model.export` (SavedModel) + `tf.saved_model.load`: `serve(x)` = predict."""
    path = str(path / "exported")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)  # keep alive: `serve` needs its variables
    served = keras.tree.flatten(loaded.serve(keras.tree.map_structure(tf.constant, x)))
    want = predict(model, x)
    assert len(served) == len(want)
    for w, g in zip(want, served):
        np.testing.assert_allclose(np.asarray(g), w, rtol=rtol, atol=atol)


def check_saved_function_round_trip(obj, fn, signature, calls, path, rtol=1e-6):
    """`fn(obj, *args)` as a `tf.function` of a `tf.Module`, saved and loaded.

    For what `model.export` leaves out (a loss, a metric's state). The module
    holds `obj`'s variables; it is saved before any call, and each of `calls`
    (argument tuples, in order: stateful functions see the same sequence) gives
    the same result on the original and the loaded module.
    """
    module = tf.Module()
    module.tracked = [getattr(v, "value", v) for v in getattr(obj, "variables", [])]
    module.fn = tf.function(lambda *args: fn(obj, *args), input_signature=signature)
    tf.saved_model.save(module, str(path / "module"))
    loaded = tf.saved_model.load(str(path / "module"))
    for args in calls:
        want, got = module.fn(*args), loaded.fn(*args)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol)
    return loaded


def check_finite(values, dtype=None):
    for value in keras.tree.flatten(values):
        array = np.asarray(keras.ops.convert_to_numpy(value))
        if dtype is not None:
            assert keras.backend.standardize_dtype(array.dtype) == dtype, (
                array.dtype,
                dtype,
            )
        assert np.all(np.isfinite(array.astype("float64"))), array
