"""TensorFlow SavedModel export of classifiers, and loading for inference.

`export_saved_model` writes a SavedModel whose `serve` endpoint (also the
`serving_default` signature, for TF-Serving) maps the model's inputs to a
dict of tensors:

* `logits`: the model's logits, `float32`, `(B, C)`;
* `probabilities`: `softmax(logits)`, `(B, C)`, each row sums to 1. A model
  with a single logit column (`C == 1`, a binary sigmoid classifier) gets
  `sigmoid(logits)` instead, `(B, 1)`: the probability of the positive
  class;
* `class_id`: the predicted class, `int64`, `(B,)`: `argmax(logits)`, or
  `logits > 0` for a single sigmoid column; for a two-class model exported
  with a `threshold`, `p_positive >= threshold` (class 1's probability);
* `class_name`: the predicted class's name, a string tensor `(B,)`, only when
  `class_names` are given (`C` names, or 2 names `(negative, positive)` for a
  single sigmoid column).

Only the inference graph is exported (`model(x, training=False)`): dropout is
off, BatchNormalization uses its moving statistics, and no loss or optimizer
state is saved. `load_exported` reloads the SavedModel as a callable over
NumPy inputs.

Example:

>>> import os, tempfile
>>> import numpy as np
>>> from keras_imbalance.models import build_attention_classifier
>>> model = build_attention_classifier((6,), 3, width=4, depth=2)
>>> path = os.path.join(tempfile.mkdtemp(), "model")
>>> export_saved_model(model, path, class_names=["cat", "dog", "owl"])
>>> predict = load_exported(path)
>>> out = predict(np.zeros((2, 6), "float32"))
>>> sorted(out)
['class_id', 'class_name', 'logits', 'probabilities']
>>> out["probabilities"].shape, out["class_name"].shape
((2, 3), (2,))
"""

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_imbalance._export_checks import (
    check_backend,
    check_class_names,
    check_model,
    check_threshold,
    logits_of,
)
from keras_imbalance._files import recover_directory, replace_directory
from keras_imbalance._logs import tensorflow_log_level
from keras_imbalance._validation import invalid

__all__ = ["ExportedModel", "export_saved_model", "load_exported"]

ENDPOINT = "serve"
THRESHOLD = "decision_threshold"
"""The variable collection holding the decision threshold of a binary export."""
# TensorFlow's op names, which the signature's input names must be.
_TF_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-/>]*")
_TF_BAD = re.compile(r"[^A-Za-z0-9_.\-/>]")


def _spec_names(keys):
    """A valid, unique TensorFlow name per dict key (a CSV column such as
    "length (cm)" is not one); the keys themselves stay the inputs' names."""
    names, used = {}, set()
    for key in keys:
        name = key if _TF_NAME.fullmatch(key) else re.sub(_TF_BAD, "_", key)
        name = name.lstrip("_-/>") or "input"
        base, i = name, 1
        while name in used:
            i += 1
            name = f"{base}_{i}"
        names[key] = name
        used.add(name)
    return names


def _input_signature(inputs):
    """A `tf.TensorSpec` structure matching `model.input` (strings included)."""

    def spec(tensor, name):
        return tf.TensorSpec(tuple(tensor.shape), tensor.dtype, name=name)

    if isinstance(inputs, dict):
        names = _spec_names(inputs)
        return {k: spec(v, names[k]) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return [spec(v, f"inputs_{i}") for i, v in enumerate(inputs)]
    return spec(inputs, "inputs")


def _serving_fn(model_logits, class_names, threshold):
    """The `serve` endpoint: the logits of `model_logits(inputs)`, then the
    probabilities, class ids and names, in TensorFlow ops."""
    names = None if class_names is None else tf.constant(class_names)

    def serve(inputs):
        logits = tf.cast(model_logits(inputs), tf.float32)
        if logits.shape[-1] == 1:
            probabilities = tf.sigmoid(logits)
            class_id = tf.cast(logits[..., 0] > 0.0, tf.int64)
        else:
            probabilities = tf.nn.softmax(logits, axis=-1)
            class_id = tf.argmax(logits, axis=-1, output_type=tf.int64)
        if threshold is not None:
            # Decided in float64, as `evaluate_imbalanced` does.
            wide = tf.cast(logits, tf.float64)
            if logits.shape[-1] == 1:
                positive = tf.sigmoid(wide)[..., 0]
            else:
                positive = tf.nn.softmax(wide, axis=-1)[..., 1]
            class_id = tf.cast(positive >= threshold, tf.int64)
        result = {
            "logits": logits,
            "probabilities": probabilities,
            "class_id": class_id,
        }
        if names is not None:
            result["class_name"] = tf.gather(names, class_id)
        return result

    return serve


def _model_logits(model):
    return lambda inputs: logits_of(model(inputs, training=False))


def _write_tensorflow(path, model, signature, class_names, cut):
    """On TensorFlow: one Keras `ExportArchive`, the model traced in `serve`."""
    archive = keras.export.ExportArchive()
    archive.track(model)  # with its lookup tables (`StringLookup` inputs)
    if cut is not None:
        archive.add_variable_collection(THRESHOLD, [cut])
    serve = _serving_fn(_model_logits(model), class_names, cut)
    archive.add_endpoint(ENDPOINT, serve, input_signature=signature)
    archive.write_out(path, verbose=False)


def _write_converted(path, model, signature, class_names, cut):
    """On JAX: Keras converts the model's call (`jax2tf`, as in
    `model.export(format="tf_saved_model")`); `serve` post-processes its
    logits in TensorFlow, outside the converted function, where strings and
    a float64 threshold variable can be."""
    converter = keras.export.ExportArchive()
    converter.track(model)
    logits = converter.add_endpoint(
        "logits", _model_logits(model), input_signature=signature
    )
    serve = tf.function(
        _serving_fn(logits, class_names, cut), input_signature=signature
    )
    root = tf.Module()
    root.serve = serve
    root.variables_of_model = list(converter.variables)
    if cut is not None:
        setattr(root, THRESHOLD, [cut])
    concrete = serve.get_concrete_function()
    tf.saved_model.save(
        root, path, signatures={ENDPOINT: concrete, "serving_default": concrete}
    )


def export_saved_model(
    model, path, *, class_names=None, threshold=None, overwrite=False
):
    """Export a classifier as a TF SavedModel with a `serve` endpoint.

    The endpoint takes the model's inputs (one tensor, or a dict of named
    tensors for a multi-input model, with the model's input shapes and
    dtypes and any batch size) and returns a dict `logits`, `probabilities`,
    `class_id` and, when `class_names` are given, `class_name` (see the
    module docstring; a single sigmoid logit column gets sigmoid
    probabilities and `class_id = logits > 0`). It is also the
    `serving_default` signature, whose arguments are named `inputs` (one
    input), after the dict keys (dict inputs) or `inputs_<i>` (a list of
    inputs). A model with dict outputs (auxiliary heads,
    expert logits) is exported through its `"logits"` output.

    With a `threshold` (two-class models only: two logits, or one sigmoid
    logit column), `class_id` and `class_name` are class 1 where its
    probability `p_positive >= threshold` (computed in float64) and class 0
    elsewhere; `logits` and `probabilities` are unchanged. The threshold
    is stored in the SavedModel (a float64 variable in the
    `decision_threshold` collection): `load_exported(path).threshold`
    reads it back.

    Training-only parts are left out: the graph is `model(x, training=False)`.
    For a bilateral-branch network export the *inference* model returned by
    `build_bilateral_branch_network`; a `BilateralBranchTrainer` is refused.

    The export is atomic: it is written to a temporary sibling directory
    (`.<name>.tmp-*` next to `path`) and renamed to `path` only once
    complete. On any failure the temporary directory is removed and nothing
    is left at `path` (with `overwrite=True`, the previous content of `path`
    is kept). An existing `path` is refused unless `overwrite=True`; then it
    is replaced only after the new export has succeeded, in three steps:
    the old `path` is renamed aside (into `.<name>.old-*/`), the new export
    renamed to `path`, and the aside copy deleted. A process killed between
    the two renames leaves no `path` but the aside copy; the next
    `export_saved_model` or `load_exported` of `path` puts it back first
    (the previous model, as if the overwrite had not started). Stale
    `.<name>.tmp-*` and `.<name>.old-*` siblings of killed exports are
    removed by the next export to `path`.

    Args:
        model: A built functional or Sequential `keras.Model` returning logits
            (or a dict with a `"logits"` entry).
        path: Directory to write (a `str` or `os.PathLike`); its parent is
            created if needed.
        class_names: Optional sequence of strings, one per class (2 for a
            single sigmoid column). Defaults to `None`.
        threshold: The decision threshold on class 1's probability, in
            [0, 1] (e.g. from `evaluation.tune_threshold`), for a two-class
            model. Defaults to `None`: the argmax (`logits > 0` for one
            sigmoid column).
        overwrite: Replace an existing `path`. Defaults to `False`.

    Raises:
        FileExistsError: `path` exists and `overwrite` is `False`.
        OSError: the export could not be written (`errno.ENOSPC` for a full
            disk, also when TensorFlow reports it); `path` is left as it was.
        ValueError: A `BilateralBranchTrainer`, a model without a logits
            output, `class_names` of the wrong length, or a `threshold`
            outside [0, 1] or for a model with more than two classes.
        TypeError: `model` is not a `keras.Model`.

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model")
    >>> export_saved_model(model, path, class_names=["no", "yes"])
    >>> sorted(os.listdir(path))[:2]
    ['assets', 'fingerprint.pb']
    >>> export_saved_model(model, path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: ...
    >>> export_saved_model(model, path, overwrite=True, threshold=0.9)
    >>> load_exported(path).threshold
    0.9
    """
    backend = check_backend()
    inputs, outputs = check_model(model)
    num_classes = logits_of(outputs).shape[-1]
    class_names = check_class_names(class_names, num_classes)
    threshold = check_threshold(threshold, num_classes)
    if not isinstance(overwrite, bool):
        raise invalid("overwrite", "a boolean", overwrite)
    path = os.path.abspath(os.fspath(path))
    recover_directory(path)
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(
            f"`{path}` already exists. Pass `overwrite=True` to replace it, "
            "or choose another path."
        )

    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=parent)
    try:
        # mkdtemp makes a private (0o700) directory: give the export the
        # permissions of an ordinary new directory instead.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        signature = [_input_signature(inputs)]
        cut = None
        if threshold is not None:
            cut = tf.Variable(threshold, dtype=tf.float64, trainable=False)
        try:
            with tensorflow_log_level(logging.WARNING):
                if backend == "tensorflow":
                    _write_tensorflow(tmp, model, signature, class_names, cut)
                else:
                    _write_converted(tmp, model, signature, class_names, cut)
        except tf.errors.OpError as error:
            if "No space left on device" not in str(error):
                raise
            # TensorFlow reports a full disk as ResourceExhaustedError.
            raise OSError(
                errno.ENOSPC,
                f"No space left on device while writing the SavedModel {path}",
            ) from error
        replace_directory(tmp, path, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class ExportedModel:
    """A SavedModel written by `export_saved_model`, callable on NumPy inputs.

    Calling it with the model's inputs (a NumPy array, or a dict of arrays
    for a multi-input model; converted to the exported dtypes) returns a dict
    of NumPy arrays `logits`, `probabilities`, `class_id` and, if the model
    was exported with class names, `class_name` (an array of `str`).

    Attributes:
        loaded: The object returned by `tf.saved_model.load`. It is kept
            here because the restored functions need it alive (its variables
            are freed with it).
        input_signature: The `tf.TensorSpec` structure of the inputs.
        threshold: The decision threshold it was exported with (a float),
            or `None` (argmax).

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import keras
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    >>> path = os.path.join(tempfile.mkdtemp(), "model")
    >>> export_saved_model(model, path, class_names=["a", "b"])
    >>> predict = load_exported(path)
    >>> isinstance(predict, ExportedModel), tuple(predict.input_signature.shape)
    (True, (None, 3))
    >>> out = predict(np.zeros((2, 3)))  # zero inputs: logits 0, a tie
    >>> out["class_name"].tolist(), out["probabilities"].tolist()
    (['a', 'a'], [[0.5, 0.5], [0.5, 0.5]])
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.lexists(self.path):
            # A kill in the middle of an overwrite: put the previous model back.
            with contextlib.suppress(OSError):
                recover_directory(os.path.abspath(self.path), clean=False)
        self.loaded = tf.saved_model.load(self.path)
        serve = getattr(self.loaded, ENDPOINT, None)
        if serve is None:
            raise ValueError(
                f"The SavedModel at `{self.path}` has no `{ENDPOINT}` endpoint; "
                "was it written by `keras_imbalance.export.export_saved_model`?"
            )
        self._serve = serve
        stored = getattr(self.loaded, THRESHOLD, None)
        self.threshold = None if not stored else float(stored[0].numpy())
        args, _ = serve.concrete_functions[0].structured_input_signature
        self.input_signature = args[0]

    def _convert(self, inputs):
        spec = self.input_signature
        if isinstance(spec, dict):
            if not isinstance(inputs, dict) or set(inputs) != set(spec):
                got = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
                raise ValueError(
                    f"Expected a dict of inputs with keys {sorted(spec)}. "
                    f"Received: {got}"
                )
            return {
                k: tf.cast(tf.convert_to_tensor(inputs[k]), s.dtype)
                for k, s in spec.items()
            }
        if isinstance(spec, (list, tuple)):
            if not isinstance(inputs, (list, tuple)) or len(inputs) != len(spec):
                raise ValueError(f"Expected a list of {len(spec)} input arrays.")
            return [
                tf.cast(tf.convert_to_tensor(v), s.dtype) for v, s in zip(inputs, spec)
            ]
        return tf.cast(tf.convert_to_tensor(inputs), spec.dtype)

    def __call__(self, inputs):
        outputs = self._serve(self._convert(inputs))
        result = {k: v.numpy() for k, v in outputs.items()}
        if "class_name" in result:
            result["class_name"] = np.array(
                [n.decode("utf-8") for n in result["class_name"]], dtype=str
            )
        return result

    def __repr__(self):
        return f"ExportedModel({self.path!r})"


def load_exported(path):
    """Load a SavedModel written by `export_saved_model` for NumPy inference.

    If `path` is missing because a process was killed while overwriting it,
    the previous model (kept aside by `export_saved_model`) is put back and
    loaded.

    Args:
        path: The exported directory.

    Returns:
        An `ExportedModel`: call it on NumPy inputs to get a dict of NumPy
        arrays `logits`, `probabilities`, `class_id` (and `class_name`). It
        keeps the loaded SavedModel alive as its `loaded` attribute.

    Example:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import keras
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model")
    >>> export_saved_model(model, path, class_names=["a", "b"])
    >>> predict = load_exported(path)
    >>> out = predict(np.ones((4, 3)))
    >>> sorted(out)
    ['class_id', 'class_name', 'logits', 'probabilities']
    >>> out["logits"].shape, out["class_id"].dtype
    ((4, 2), dtype('int64'))
    >>> bool(np.allclose(out["probabilities"].sum(axis=1), 1.0))
    True
    """
    return ExportedModel(path)
