"""Decoupled classifier learning and post-hoc logit adjustment.

Kang et al. 2020 found that a long-tailed model's *features*, learned with
ordinary instance-balanced sampling, are good; its *classifier* is what
favours the head classes, mostly through the norms of the per-class weight
vectors. They fix the classifier after representation learning in three
ways, each one function here:

- `retrain_classifier` (cRT): freeze the features, re-initialise the head and
  train it again with class-balanced sampling;
- `tau_normalize` (tau-normalised classifier): divide each class's weight
  vector by its norm to the power `tau`, with no training;
- `learnable_weight_scaling` (LWS): learn one scale per class, with
  class-balanced sampling and everything else frozen.

`with_logit_adjustment` appends the post-hoc logit adjustment of Menon et al.
2021, which needs no training either.

Kang, Xie, Rohrbach, Yan, Gordo, Feng, Kalantidis. "Decoupling Representation
and Classifier for Long-Tailed Recognition". ICLR 2020.
https://arxiv.org/abs/1910.09217

Menon, Jayasumana, Rawat, Jain, Veit, Kumar. "Long-tail learning via logit
adjustment". ICLR 2021. https://arxiv.org/abs/2007.07314
"""

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import check_bool, check_float, invalid
from keras_imbalance.layers.decoupling import LearnableWeightScaling, LogitAdjustment

__all__ = [
    "find_head",
    "learnable_weight_scaling",
    "retrain_classifier",
    "tau_normalize",
    "with_logit_adjustment",
]


def find_head(model, name="classifier"):
    """The classification head of `model`: its top-level layer named `name`.

    Every `keras_imbalance` builder names its head `"classifier"`; for a
    model of your own, name the head layer so
    (`keras.layers.Dense(num_classes, name="classifier")`) or pass its name.
    There is no guessing: a model without a layer of that name is an error.

    Args:
        model: A `keras.Model`.
        name: The head layer's name. Defaults to `"classifier"`.

    Returns:
        The layer.

    Raises:
        TypeError: If `model` is not a `keras.Model`.
        ValueError: If `name` is not a non-empty string, or `model` has no
            top-level layer named `name` (the message lists its layers).

    Example:

    >>> import keras
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(8, name="features"),
    ...     keras.layers.Dense(3, name="logits"),
    ... ], name="tiny")
    >>> find_head(model, name="logits") is model.layers[-1]
    True
    >>> try:
    ...     find_head(model)
    ... except ValueError as error:
    ...     print(str(error).split(" to use")[0])
    Model 'tiny' has no layer named 'classifier'
    """
    layers = getattr(model, "layers", None)
    if not isinstance(model, keras.Model) or layers is None:
        raise TypeError(
            f"Expected a `keras.Model`. Received: model={model!r} "
            f"of type {type(model).__name__}"
        )
    if not isinstance(name, str) or not name:
        raise invalid("name", "the head layer's name, a non-empty string", name)
    for layer in layers:
        if layer.name == name:
            return layer
    raise ValueError(
        f"Model {model.name!r} has no layer named {name!r} to use as its "
        f"classification head (its top-level layers: "
        f"{[layer.name for layer in layers]}). Name the head layer "
        f'"classifier" when building the model (`keras.layers.Dense(num_classes, '
        f'name="classifier")`, as every keras_imbalance builder does), or pass '
        "its name: `find_head(model, name=...)`, `head_name=...` for "
        "retrain_classifier, tau_normalize, learnable_weight_scaling and "
        "with_logit_adjustment."
    )


def _variable(layer, name):
    """`layer.<name>` when it is a variable (unbuilt layers raise, hence try)."""
    try:
        value = getattr(layer, name, None)
    except (AttributeError, ValueError):
        return None
    return value if hasattr(value, "assign") else None


def retrain_classifier(model, *, reinitialize=True, head_name="classifier"):
    """Freeze everything but the head and re-initialise it (cRT).

    Classifier re-training (cRT) of Kang et al. 2020: after training the
    whole model with ordinary (instance-balanced) sampling, keep the
    features, re-draw the head's weights and train the head alone for a few
    epochs with class-balanced sampling (e.g.
    `keras_imbalance.data.balanced_dataset`).

    The head is the layer named `head_name` (see `find_head`). Every other
    top-level layer is frozen
    (BatchNormalization layers then run in inference mode). With
    `reinitialize=True` the head's `kernel` and `bias` are drawn again with a
    *fresh* instance of their initializers (calling the layer's own
    initializer again would reproduce its first draw).

    The change takes effect at the next `compile`: **compile the model
    again** before `fit`.

    Reference: Kang et al., "Decoupling Representation and Classifier for
    Long-Tailed Recognition", ICLR 2020, section 4 (cRT).

    Args:
        model: A trained `keras.Model`, changed in place.
        reinitialize: Whether to re-draw the head's weights. Defaults to
            `True`.
        head_name: Name of the head layer. Defaults to `"classifier"`.

    Returns:
        `model`.

    Example:

    >>> import keras
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(8, name="features"),
    ...     keras.layers.Dense(3, name="classifier"),
    ... ])
    >>> model = retrain_classifier(model)
    >>> [w.path.split("/", 1)[1] for w in model.trainable_weights]
    ['classifier/kernel', 'classifier/bias']
    >>> model.compile(optimizer="sgd", loss="mse")
    """
    reinitialize = check_bool("reinitialize", reinitialize)
    head = find_head(model, head_name)
    # A frozen parent hides its children's weights: open everything, then
    # close all but the head.
    model.trainable = True
    for layer in model.layers:
        layer.trainable = layer is head
    if reinitialize:
        _reinitialize(head)
    return model


def _reinitialize(head):
    defaults = {"kernel": "glorot_uniform", "bias": "zeros"}
    for name, default in defaults.items():
        variable = _variable(head, name)
        if variable is None:
            continue
        initializer = keras.initializers.get(
            getattr(head, f"{name}_initializer", None) or default
        )
        # A Keras 3 initializer instance is seeded: a new instance draws anew.
        fresh = type(initializer).from_config(initializer.get_config())
        variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))


def tau_normalize(model, tau=1.0, *, head_name="classifier"):
    """A copy of `model` whose head weight vectors are tau-normalised.

    `w_j <- w_j / ||w_j||^tau` for each class `j`, where `w_j` is the head
    kernel's column for class `j` (all kernel axes but the last); the bias is
    kept. `tau=0` is the identity and `tau=1` gives unit-norm columns, so
    that no class wins by the norm of its weights alone. No training is
    needed; tune `tau` on a balanced validation set.

    The returned model shares no layer or variable with `model` and is not
    compiled (compile it to `evaluate` it). A `CosineClassifier` head
    normalises its columns itself, so tau-normalising it changes nothing:
    use it with a `Dense` head.

    Reference: Kang et al., "Decoupling Representation and Classifier for
    Long-Tailed Recognition", ICLR 2020, section 4 (tau-normalised
    classifier).

    Args:
        model: A trained Sequential or functional `keras.Model`; its head is
            found by `find_head`.
        tau: The normalisation power, a non-negative float. Defaults to
            `1.0`.
        head_name: Name of the head layer. Defaults to `"classifier"`.

    Returns:
        A new `keras.Model`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="classifier")]
    ... )
    >>> normalized = tau_normalize(model, tau=1.0)
    >>> kernel = normalized.get_layer("classifier").kernel.numpy()
    >>> np.round(np.linalg.norm(kernel, axis=0), 4).tolist()
    [1.0, 1.0, 1.0]
    """
    tau = check_float("tau", tau, low=0)
    new = _copy_model(model, head_name=head_name)
    head = find_head(new, head_name)
    kernel = _variable(head, "kernel")
    if kernel is None:
        raise ValueError(
            f"The head {head.name!r} of model {model.name!r} has no `kernel` "
            "to normalise."
        )
    weights = ops.convert_to_numpy(kernel).astype("float64")
    columns = weights.reshape(-1, weights.shape[-1])
    norms = np.maximum(np.linalg.norm(columns, axis=0), keras.config.epsilon())
    kernel.assign((weights / norms**tau).astype(kernel.dtype))
    return new


def learnable_weight_scaling(model, *, head_name="classifier"):
    """A copy of `model` with learnable per-class scales after its head (LWS).

    Inserts a `keras_imbalance.layers.LearnableWeightScaling` layer right
    after the head: logit `j` is multiplied by a trainable `f_j`, initialised
    to 1, which for a linear head is `f_j * w_j` and `f_j * b_j` (Kang et al.
    2020). Every other layer is frozen, so only the `C` scales train; fit it
    for a few epochs with class-balanced sampling. At the start the new model
    gives the same outputs as `model`.

    The returned model shares no layer or variable with `model` and is not
    compiled: compile it before `fit`.

    Reference: Kang et al., "Decoupling Representation and Classifier for
    Long-Tailed Recognition", ICLR 2020, section 4 (LWS).

    Args:
        model: A trained Sequential or functional `keras.Model`; its head is
            found by `find_head`.
        head_name: Name of the head layer. Defaults to `"classifier"`.

    Returns:
        A new functional `keras.Model`.

    Example:

    >>> import keras
    >>> model = keras.Sequential(
    ...     [keras.Input((4,)), keras.layers.Dense(3, name="classifier")]
    ... )
    >>> lws = learnable_weight_scaling(model)
    >>> [w.path for w in lws.trainable_weights]
    ['weight_scaling/scale']
    """
    scaling = LearnableWeightScaling(name=_free_name(model, "weight_scaling"))
    new = _copy_model(model, insert=scaling, head_name=head_name)
    new.trainable = True
    for layer in new.layers:
        layer.trainable = layer is scaling
    return new


def with_logit_adjustment(model, class_priors, tau=1.0, *, head_name="classifier"):
    """A copy of `model` whose head logits are adjusted by the class priors.

    Inserts a `keras_imbalance.layers.LogitAdjustment` layer right after the
    head: `z_j - tau * log(pi_j)` (Menon et al. 2021, post-hoc correction).
    For a model trained with plain cross-entropy on long-tailed data, the
    arg-max of the adjusted logits targets the balanced error. Use it for
    inference and export; the layer has no weights.

    The returned model shares no layer or variable with `model` and is not
    compiled (compile it to `evaluate` it).

    Reference: Menon et al., "Long-tail learning via logit adjustment",
    ICLR 2021.

    Args:
        model: A trained Sequential or functional `keras.Model` with logits
            from its head (found by `find_head`).
        class_priors: The training class distribution, one positive value
            per class (priors or counts, e.g. from
            `keras_imbalance.class_priors`).
        tau: Scaling of the adjustment, non-negative. Defaults to `1.0`.
        head_name: Name of the head layer. Defaults to `"classifier"`.

    Returns:
        A new functional `keras.Model`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([
    ...     keras.Input((4,)),
    ...     keras.layers.Dense(2, name="classifier", kernel_initializer="zeros"),
    ... ])
    >>> adjusted = with_logit_adjustment(model, [0.8, 0.2])
    >>> np.round(adjusted.predict(np.ones((1, 4)), verbose=0), 4).tolist()
    [[0.2231, 1.6094]]
    """
    adjustment = LogitAdjustment(
        class_priors, tau=tau, name=_free_name(model, "logit_adjustment")
    )
    return _copy_model(model, insert=adjustment, head_name=head_name)


def _free_name(model, name):
    taken = {layer.name for layer in getattr(model, "layers", [])}
    candidate, index = name, 0
    while candidate in taken:
        index += 1
        candidate = f"{name}_{index}"
    return candidate


def _copy_model(model, insert=None, head_name="classifier"):
    """An uncompiled copy of `model` with its weights, `insert` after the head.

    Sequential and functional models only: a subclassed model has no graph
    to insert a layer into.
    """
    head = find_head(model, head_name)
    if isinstance(model, keras.Sequential):
        clone = keras.models.clone_model(model)
        clone.set_weights(model.get_weights())
        if not clone.inputs:
            raise invalid(
                "model",
                "a built Sequential model (one that starts with `keras.Input`)",
                model.name,
            )
        inputs = keras.Input(
            batch_shape=tuple(clone.inputs[0].shape), dtype=clone.inputs[0].dtype
        )
        x = inputs
        for layer in clone.layers:
            x = layer(x)
            if insert is not None and layer.name == head.name:
                x = insert(x)
        return keras.Model(inputs, x, name=model.name)

    def call_function(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        if insert is not None and layer.name == head.name:
            outputs = insert(outputs)
        return outputs

    try:
        clone = keras.models.clone_model(model, call_function=call_function)
    except ValueError as error:
        raise invalid(
            "model",
            "a Sequential or functional keras.Model (a subclassed model has "
            f"no layer graph to copy): {error}",
            model.name,
        ) from error
    # Input layers carry no weights, and `clone_model` may rename them
    # (`input_layer` -> `keras_tensor`); every other layer keeps its name.
    for layer in model.layers:
        if layer.weights:
            clone.get_layer(layer.name).set_weights(layer.get_weights())
    # `clone_model` also compiles the copy like the original; a new model
    # over the same graph is not compiled (and the copy is then discarded).
    return keras.Model(clone.input, clone.output, name=model.name)
