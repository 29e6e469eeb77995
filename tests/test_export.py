"""Tests for keras_imbalance.export: SavedModel export round trips."""

import logging
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_imbalance.export import ExportedModel, export_saved_model, load_exported
from keras_imbalance.models import (
    build_attention_classifier,
    build_bilateral_branch_network,
    build_expert_ensemble,
    build_multi_branch_classifier,
    build_transfer_classifier,
    default_branches,
    tau_normalize,
    with_logit_adjustment,
)

NAMES3 = ["head", "medium", "tail"]


def _small():
    return build_attention_classifier((6,), 3, width=4, depth=2)


BUILDERS = {
    "attention_image": lambda: build_attention_classifier(
        (8, 8, 3), 3, width=4, depth=2
    ),
    "attention_sequence": lambda: build_attention_classifier(
        (10, 2), 3, attention="cbam", width=4, depth=2
    ),
    "attention_tabular": _small,
    "multi_branch_single": lambda: build_multi_branch_classifier(
        (8, 8, 1), 3, branches=default_branches(2), width=4, embedding=4
    ),
    "multi_branch_dict_aux": lambda: build_multi_branch_classifier(
        {"image": (8, 8, 1), "tabular": (5,)},
        3,
        fusion="gated",
        auxiliary_outputs=True,
        width=4,
        embedding=4,
    ),
    "bbn_inference": lambda: build_bilateral_branch_network(
        (8, 8, 3), 3, width=4, depth=2
    )[1],
    "expert_ensemble": lambda: build_expert_ensemble(
        (8, 8, 3), 3, num_experts=2, width=4, depth=2, return_expert_logits=True
    ),
    "transfer_mobilenetv3small": lambda: build_transfer_classifier(
        3, backbone="MobileNetV3Small", input_shape=(32, 32, 3), weights=None
    ),
    "tau_normalize": lambda: tau_normalize(_small(), tau=1.0),
    "with_logit_adjustment": lambda: with_logit_adjustment(
        _small(), [0.7, 0.2, 0.1], tau=1.0
    ),
}


def _inputs(model, batch=5, seed=0):
    rng = np.random.default_rng(seed)

    def one(tensor):
        shape = (batch,) + tuple(tensor.shape[1:])
        return rng.uniform(0.0, 255.0 if len(shape) == 4 else 1.0, shape).astype(
            "float32"
        )

    if isinstance(model.input, dict):
        return {k: one(v) for k, v in model.input.items()}
    return one(model.input)


def _keras_logits(model, x):
    out = model(x, training=False)
    if isinstance(out, dict):
        out = out["logits"]
    return keras.ops.convert_to_numpy(out)


@pytest.mark.slow
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_round_trip_every_builder(builder, tmp_path):
    model = BUILDERS[builder]()
    x = _inputs(model)
    expected = _keras_logits(model, x)
    path = tmp_path / "model"
    export_saved_model(model, path, class_names=NAMES3)

    predict = load_exported(path)
    assert isinstance(predict, ExportedModel)
    out = predict(x)
    assert sorted(out) == ["class_id", "class_name", "logits", "probabilities"]
    np.testing.assert_allclose(out["logits"], expected, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(out["probabilities"].sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        out["probabilities"], tf.nn.softmax(expected).numpy(), atol=1e-5
    )
    assert out["class_id"].dtype == np.int64
    np.testing.assert_array_equal(out["class_id"], np.argmax(out["logits"], -1))
    assert out["class_name"].tolist() == [NAMES3[i] for i in out["class_id"]]
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_serving_default_signature_and_dtype_conversion(tmp_path):
    model = _small()
    x = _inputs(model)
    export_saved_model(model, tmp_path / "m")
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    out = loaded.signatures["serving_default"](inputs=tf.constant(x))
    assert sorted(out) == ["class_id", "logits", "probabilities"]
    np.testing.assert_allclose(
        out["logits"].numpy(), _keras_logits(model, x), atol=1e-5
    )
    # float64 NumPy inputs are cast to the exported dtype; no class names.
    result = load_exported(tmp_path / "m")(x.astype("float64"))
    assert "class_name" not in result
    np.testing.assert_allclose(result["logits"], _keras_logits(model, x), atol=1e-5)


def test_export_directory_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        export_saved_model(_small(), tmp_path / "m")
    finally:
        os.umask(umask)
    assert (os.stat(tmp_path / "m").st_mode & 0o777) == 0o755


@pytest.mark.slow
def test_loaded_savedmodel_kept_alive(tmp_path):
    export_saved_model(_small(), tmp_path / "m")
    predict = load_exported(tmp_path / "m")
    assert predict.loaded is not None
    import gc

    gc.collect()
    assert predict(np.zeros((1, 6)))["logits"].shape == (1, 3)


def test_single_sigmoid_column(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    x = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0], [0.5, 0.0, -2.0]], "float32")
    logits = _keras_logits(model, x)
    export_saved_model(model, tmp_path / "m", class_names=["neg", "pos"])
    out = load_exported(tmp_path / "m")(x)
    np.testing.assert_allclose(out["logits"], logits, atol=1e-5)
    np.testing.assert_allclose(out["probabilities"], 1 / (1 + np.exp(-logits)), 1e-5)
    np.testing.assert_array_equal(out["class_id"], (logits[:, 0] > 0).astype(int))
    assert out["class_name"].tolist() == [["neg", "pos"][i] for i in out["class_id"]]
    with pytest.raises(ValueError, match="2 names"):
        export_saved_model(model, tmp_path / "m2", class_names=["a", "b", "c"])


def _failing_save(monkeypatch, calls):
    real_save = tf.saved_model.save

    def save(obj, export_dir, *args, **kwargs):
        calls.append(export_dir)
        real_save(obj, export_dir, *args, **kwargs)
        with open(os.path.join(export_dir, "partial.pb"), "wb") as f:
            f.write(b"half")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(tf.saved_model, "save", save)


def test_failure_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    _failing_save(monkeypatch, calls)
    path = tmp_path / "model"
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(_small(), path)
    assert calls, "the simulated failure was not reached"
    assert not os.path.lexists(path)
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_failure_keeps_previous_export(tmp_path, monkeypatch):
    old = _small()
    x = _inputs(old)
    path = tmp_path / "model"
    export_saved_model(old, path)
    calls = []
    _failing_save(monkeypatch, calls)
    with pytest.raises(OSError, match="disk full"):
        export_saved_model(_small(), path, overwrite=True)
    assert calls
    assert os.listdir(tmp_path) == ["model"]
    assert not os.path.exists(path / "partial.pb")
    out = load_exported(path)(x)
    np.testing.assert_allclose(out["logits"], _keras_logits(old, x), atol=1e-5)


def test_refuses_existing_path(tmp_path):
    path = tmp_path / "model"
    export_saved_model(_small(), path)
    with pytest.raises(FileExistsError, match="already exists.*overwrite=True"):
        export_saved_model(_small(), path)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(_small(), afile)
    assert afile.read_text() == "x"


@pytest.mark.slow
def test_overwrite_replaces(tmp_path):
    path = tmp_path / "model"
    first, second = _small(), _small()
    x = _inputs(first)
    export_saved_model(first, path, class_names=NAMES3)
    (path / "stale.txt").write_text("old")
    export_saved_model(second, path, overwrite=True)
    out = load_exported(path)(x)
    np.testing.assert_allclose(out["logits"], _keras_logits(second, x), atol=1e-5)
    assert "class_name" not in out
    assert not (path / "stale.txt").exists()
    assert sorted(os.listdir(tmp_path)) == ["model"]


def _failing_rename(monkeypatch, path, *, also_restore):
    """Make step 2 of an overwrite (the new export renamed to `path`) fail;
    with `also_restore`, the undo fails too, as when the process is killed."""
    real = os.rename
    path = os.fspath(path)

    def rename(src, dst):
        src, dst = os.fspath(src), os.fspath(dst)
        into_place = dst == path
        new_export = os.path.basename(src).startswith(".model.tmp-")
        if into_place and (new_export or also_restore):
            raise OSError("killed (simulated)")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.slow
def test_failed_second_rename_keeps_previous_export(tmp_path, monkeypatch):
    old = _small()
    x = _inputs(old)
    path = tmp_path / "model"
    export_saved_model(old, path)
    _failing_rename(monkeypatch, path, also_restore=False)
    with pytest.raises(OSError, match="killed"):
        export_saved_model(_small(), path, overwrite=True)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model"]
    out = load_exported(path)(x)
    np.testing.assert_allclose(out["logits"], _keras_logits(old, x), atol=1e-5)


def _killed_between_renames(tmp_path, monkeypatch):
    """The state a kill between the two renames leaves; the old model."""
    old = _small()
    path = tmp_path / "model"
    export_saved_model(old, path)
    _failing_rename(monkeypatch, path, also_restore=True)
    with pytest.raises(OSError, match="killed"):
        export_saved_model(_small(), path, overwrite=True)
    monkeypatch.undo()
    assert not os.path.lexists(path)
    (aside,) = os.listdir(tmp_path)
    assert aside.startswith(".model.old-")
    assert os.listdir(tmp_path / aside) == ["model"]
    (tmp_path / ".model.tmp-killed").mkdir()  # an export that never completed
    (tmp_path / ".model.tmp-killed" / "saved_model.pb").write_bytes(b"half")
    return old, path


@pytest.mark.slow
def test_load_exported_restores_the_model_of_a_killed_overwrite(tmp_path, monkeypatch):
    old, path = _killed_between_renames(tmp_path, monkeypatch)
    x = _inputs(old)
    out = load_exported(path)(x)
    np.testing.assert_allclose(out["logits"], _keras_logits(old, x), atol=1e-5)
    # Loading only restores; the stale temporary export is left to the next export.
    assert sorted(os.listdir(tmp_path)) == [".model.tmp-killed", "model"]


@pytest.mark.slow
def test_next_export_recovers_a_killed_overwrite(tmp_path, monkeypatch):
    old, path = _killed_between_renames(tmp_path, monkeypatch)
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(_small(), path)  # the previous model is back
    assert os.listdir(tmp_path) == ["model"]  # and the stale folders gone
    x = _inputs(old)
    np.testing.assert_allclose(
        load_exported(path)(x)["logits"], _keras_logits(old, x), atol=1e-5
    )
    new = _small()
    export_saved_model(new, path, overwrite=True)
    np.testing.assert_allclose(
        load_exported(path)(x)["logits"], _keras_logits(new, x), atol=1e-5
    )
    assert os.listdir(tmp_path) == ["model"]


def test_full_disk_reported_by_tensorflow_is_an_os_error(tmp_path, monkeypatch):
    import errno

    def save(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "/x/variables.data; No space left on device"
        )

    monkeypatch.setattr(tf.saved_model, "save", save)
    with pytest.raises(OSError, match="No space left on device") as info:
        export_saved_model(_small(), tmp_path / "model")
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


def test_bilateral_trainer_refused(tmp_path):
    train_model, _ = build_bilateral_branch_network((8, 8, 3), 3, width=4, depth=2)
    with pytest.raises(ValueError, match="Export the inference model"):
        export_saved_model(train_model, tmp_path / "m")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "names, match",
    [
        (["a", "b"], "one name per class \\(3 names\\)"),
        (["a", "b", "c", "d"], "Received 4 names"),
        ("abc", "sequence of strings"),
        (["a", 1, "c"], "sequence of strings"),
    ],
)
def test_bad_class_names(tmp_path, names, match):
    with pytest.raises(ValueError, match=match):
        export_saved_model(_small(), tmp_path / "m", class_names=names)
    assert os.listdir(tmp_path) == []


def test_bad_models(tmp_path):
    with pytest.raises(TypeError, match="must be a `keras.Model`"):
        export_saved_model(lambda x: x, tmp_path / "m")
    inputs = keras.Input((4,))
    no_logits = keras.Model(inputs, {"scores": keras.layers.Dense(2)(inputs)})
    with pytest.raises(ValueError, match="'logits'"):
        export_saved_model(no_logits, tmp_path / "m")
    with pytest.raises(ValueError, match="overwrite"):
        export_saved_model(_small(), tmp_path / "m", overwrite="yes")
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_wrong_input_keys(tmp_path):
    model = BUILDERS["multi_branch_dict_aux"]()
    export_saved_model(model, tmp_path / "m")
    predict = load_exported(tmp_path / "m")
    with pytest.raises(ValueError, match="keys \\['image', 'tabular'\\]"):
        predict({"image": np.zeros((1, 8, 8, 1))})


def test_writes_no_tensorflow_notices_and_keeps_the_log_level(tmp_path, caplog):
    # In a notebook TensorFlow's logger passes INFO: the SavedModel writer's
    # "Assets written to: ..." notice must not reach the reader.
    logger = logging.getLogger("tensorflow")
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="tensorflow"):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
            export_saved_model(model, str(tmp_path / "model"))
        assert not [r for r in caplog.records if "Assets written" in r.getMessage()]
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(previous)


@pytest.mark.parametrize(
    "backend, match",
    [
        (
            "torch",
            r'format="onnx"\)` \(ONNX\) or `model.export\("model.pt2", format="torch"',
        ),
        ("numpy", r"Received: backend 'numpy'"),
    ],
)
def test_backends_without_savedmodel_export_are_refused(
    tmp_path, monkeypatch, backend, match
):
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    with pytest.raises(NotImplementedError, match=match):
        export_saved_model(_small(), tmp_path / "m")
    assert not os.path.exists(tmp_path / "m")
