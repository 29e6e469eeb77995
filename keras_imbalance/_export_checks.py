"""What `export_saved_model` checks before tracing: the model, its logits,
the class names and the decision threshold (no TensorFlow here)."""

import keras
import numpy as np

from keras_imbalance._validation import check_float, invalid

__all__ = [
    "check_backend",
    "check_class_names",
    "check_model",
    "check_threshold",
    "logits_of",
    "structure",
]


# The Keras backends whose models `export_saved_model` can trace to TensorFlow.
EXPORT_BACKENDS = ("tensorflow", "jax")


def check_backend():
    """The Keras backend, if `export_saved_model` can trace its models."""
    backend = keras.backend.backend()
    if backend not in EXPORT_BACKENDS:
        raise NotImplementedError(
            "`export_saved_model` writes a TensorFlow SavedModel, which needs "
            "the TensorFlow or JAX Keras backend (set `KERAS_BACKEND`). "
            f"Keras' {backend} backend cannot trace the model into it. On "
            "this backend, export with Keras instead: "
            '`model.export("model.onnx", format="onnx")` (ONNX) or '
            '`model.export("model.pt2", format="torch")` (`torch.export`).'
            if backend == "torch"
            else "`export_saved_model` writes a TensorFlow SavedModel, which "
            "needs the TensorFlow or JAX Keras backend (set `KERAS_BACKEND`). "
            f"Received: backend {backend!r}. Keras' own `model.export(...)` "
            "lists the formats this backend supports."
        )
    return backend


def check_model(model):
    from keras_imbalance.models import BilateralBranchTrainer

    if isinstance(model, BilateralBranchTrainer):
        raise ValueError(
            "Cannot export a `BilateralBranchTrainer`: it is the training half "
            "of a bilateral-branch network (two inputs, the BBN loss). Export "
            "the inference model instead: `train_model, inference_model = "
            "build_bilateral_branch_network(...)`, then "
            "`export_saved_model(inference_model, path)`."
        )
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`model` must be a `keras.Model`. Received: model={model!r} "
            f"of type {type(model).__name__}"
        )
    inputs = structure(model, "input")
    outputs = structure(model, "output")
    if inputs is None or outputs is None:
        raise ValueError(
            "`model` must be a built functional or Sequential `keras.Model` "
            "with known inputs and outputs (a subclassed model: wrap it in a "
            "functional model over `keras.Input`s). "
            f"Received: model={model.name!r}"
        )
    return inputs, outputs


def structure(model, what):
    """`model.input` / `model.output`, or the single one of `.inputs`/`.outputs`."""
    try:
        return getattr(model, what)
    except (AttributeError, ValueError):
        pass
    try:
        tensors = getattr(model, what + "s")
    except (AttributeError, ValueError):
        return None
    if not tensors:
        return None
    return tensors[0] if len(tensors) == 1 else tensors


def logits_of(outputs):
    """The logits in a model's output structure (a tensor, or dict "logits")."""
    if isinstance(outputs, dict):
        if "logits" not in outputs:
            raise ValueError(
                "A model with dict outputs is exported through its `'logits'` "
                f"output, but it has none. Received outputs: {sorted(outputs)}"
            )
        return outputs["logits"]
    if isinstance(outputs, (list, tuple)):
        if len(outputs) != 1:
            raise ValueError(
                "A model with several outputs must return a dict with a "
                f"`'logits'` key to be exported. Received {len(outputs)} "
                "outputs in a list."
            )
        return outputs[0]
    return outputs


def check_class_names(class_names, num_classes):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not hasattr(class_names, "__len__"):
        raise invalid("class_names", "None or a sequence of strings", class_names)
    names = list(class_names)
    if not all(isinstance(n, (str, np.str_)) for n in names):
        raise invalid("class_names", "None or a sequence of strings", class_names)
    expected = 2 if num_classes == 1 else num_classes
    if len(names) != expected:
        what = (
            "2 names (negative, positive) for a single sigmoid logit column"
            if num_classes == 1
            else f"one name per class ({num_classes} names)"
        )
        raise ValueError(
            f"Invalid value for argument `class_names`. Expected {what}. "
            f"Received {len(names)} names: class_names={names!r}"
        )
    return [str(n) for n in names]


def check_threshold(threshold, num_classes):
    """`None`, or a threshold in [0, 1] for a two-class model (2 logits or 1)."""
    if threshold is None:
        return None
    threshold = check_float("threshold", threshold, low=0, high=1)
    if num_classes not in (1, 2):
        raise ValueError(
            "`threshold` is for two-class models: two logits (softmax) or one "
            f"sigmoid logit column. This model has {num_classes} logits; its "
            "decision is the argmax."
        )
    return threshold
