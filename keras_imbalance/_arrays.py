"""Array plumbing shared by the NumPy-side modules (no Keras import).

- `unwrap_tensor` / `to_numpy`: NumPy values of tensors of any backend
  (converted with `keras.ops.convert_to_numpy` when Keras is loaded, else
  with the tensor's own `.numpy()`).
- `is_dataset`: whether a value is a `tf.data.Dataset` (asked of its
  methods, so that TensorFlow is not imported to ask).
- `is_file_source` / `model_input`: inputs read from files
  (`keras_imbalance.data.ImageFiles`) and what Keras' `fit` / `predict`
  take in their place (a dataset of decoded batches).
- `predict` / `model_scores`: a model's predictions in batches, and the
  scores `(N, C)` in its output (a tensor, or a dict's `"logits"` entry,
  else its `"probabilities"` entry).
- `plain` / `json_plain`: NumPy scalars and arrays (also nested in dicts,
  lists and tuples) as plain Python numbers and lists, for configs, error
  messages and JSON files.
"""

import math
import sys

import numpy as np

from keras_imbalance._logs import without_retracing_notices

__all__ = [
    "is_dataset",
    "is_file_source",
    "json_plain",
    "model_input",
    "model_scores",
    "plain",
    "predict",
    "to_numpy",
    "unwrap_tensor",
]


def unwrap_tensor(value):
    """A tensor's NumPy value; anything else (lists, dicts, arrays) unchanged.

    Example:

    >>> unwrap_tensor([1, 2])
    [1, 2]
    """
    if isinstance(value, np.ndarray):
        return value
    keras = sys.modules.get("keras")  # a backend tensor implies a loaded Keras
    if keras is not None and keras.ops.is_tensor(value):
        return np.asarray(keras.ops.convert_to_numpy(value))
    if callable(getattr(value, "numpy", None)):
        return np.asarray(value.numpy())
    return value


def to_numpy(value):
    """`value` as a NumPy array; tensors of any backend are converted.

    Example:

    >>> to_numpy([1, 2]).tolist()
    [1, 2]
    """
    return np.asarray(unwrap_tensor(value))


def is_dataset(value):
    """True for a `tf.data.Dataset` (anything with its two defining methods).

    Example:

    >>> is_dataset([0, 1])
    False
    """
    return hasattr(value, "element_spec") and hasattr(value, "as_numpy_iterator")


def is_file_source(value):
    """True for inputs read from files on demand (`data.ImageFiles`).

    Example:

    >>> is_file_source(np.zeros(3))
    False
    """
    return getattr(type(value), "is_file_source", False) is True


def model_input(x, y=None, *, batch_size=32, shuffle=False, seed=None):
    """What Keras' `fit` / `predict` take for `x`: a dataset of decoded
    batches for a file source, `x` itself (or `(x, y)`) otherwise.

    Example:

    >>> x = np.zeros((4, 2), "float32")
    >>> model_input(x) is x
    True
    """
    if is_file_source(x):
        return x.dataset(y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    return x if y is None else (x, y)


def predict(model, x, *, batch_size=32):
    """`model.predict(x)` in batches of `batch_size`, for arrays or files.

    Example:

    >>> class Doubler:
    ...     def predict(self, x, batch_size=None, verbose=0):
    ...         return 2 * x
    >>> predict(Doubler(), np.ones(2)).tolist()
    [2.0, 2.0]
    """
    # A new model traces its own predict function: several in a row (a
    # notebook, a sweep) make TensorFlow warn about retracing, wrongly here.
    with without_retracing_notices():
        if is_file_source(x):
            return model.predict(model_input(x, batch_size=batch_size), verbose=0)
        return model.predict(x, batch_size=batch_size, verbose=0)


def model_scores(outputs):
    """The scores in a model's outputs, as a NumPy array.

    A dict gives its `"logits"` entry, else its `"probabilities"` entry;
    several outputs in a list are refused.

    Example:

    >>> model_scores({"logits": [[0.0, 1.0]], "features": [[5.0]]}).tolist()
    [[0.0, 1.0]]
    """
    if isinstance(outputs, dict):
        for key in ("logits", "probabilities"):
            if key in outputs:
                return to_numpy(outputs[key])
        raise ValueError(
            "A model with dict outputs needs a `logits` (or `probabilities`) "
            f"output. Received outputs: {sorted(outputs)}"
        )
    if isinstance(outputs, (list, tuple)):
        raise ValueError(
            "The model has several outputs; evaluate a model with one output "
            f"(or dict outputs with a `logits` key). Received {len(outputs)} outputs."
        )
    return to_numpy(outputs)


def _converted(value, strict):
    if isinstance(value, dict):
        key = str if strict else plain
        return {key(k): _converted(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_converted(v, strict) for v in value]
    if isinstance(value, np.ndarray):
        return _converted(value.tolist(), strict) if strict else value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if strict and isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plain(value):
    """`value` with NumPy scalars and arrays made Python numbers and lists.

    Dicts, lists and tuples are converted recursively (tuples become lists).

    Example:

    >>> plain({"counts": np.array([3, 1]), "score": np.float32(0.5)})
    {'counts': [3, 1], 'score': 0.5}
    """
    return _converted(value, strict=False)


def json_plain(value):
    """`plain`, also with string dict keys and non-finite floats as `None`.

    What `json.dumps(..., allow_nan=False)` writes as strict JSON.

    Example:

    >>> json_plain({1: [np.float64("nan"), np.int64(2)], "ok": np.bool_(True)})
    {'1': [None, 2], 'ok': True}
    """
    return _converted(value, strict=True)
