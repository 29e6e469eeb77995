"""Probes: the tiny models through which the generic checks see an object.

A probe builds the tiny model through which the generic checks see an
object of its kind. `probe(case)` returns a `Setup`; its data depend on the
case alone (the checks compare two probes of a case). `fit` and `evaluate`
train and evaluate a probe's model.
"""

import dataclasses

import keras
import numpy as np

import keras_imbalance

C = 4  # classes of the multi-class probes
BATCH = 8

RNG = np.random.default_rng(3)


@dataclasses.dataclass
class Setup:
    """A compiled tiny model using the object under test, and its data."""

    model: object
    x: object
    y: object
    obj: object = None
    loss: object = None  # the compiled loss
    dataset: object = None  # trained on this `tf.data.Dataset` if not None
    fit: dict = dataclasses.field(default_factory=dict)  # fit keywords
    compile_args: dict = dataclasses.field(default_factory=dict)

    def recompile(self, **kwargs):
        self.model.compile(**{**self.compile_args, **kwargs})


def _sparse_ce():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


# Losses: the data and model of each label kind.


def loss_data(labels, from_logits, batch=BATCH, rng=RNG):
    """`(y_true, y_pred)` for a loss of a label kind."""
    if labels == "segmentation":
        y = rng.integers(0, C, size=(batch, 5, 5))
        z = rng.normal(size=(batch, 5, 5, C)).astype("float32")
        return y, z if from_logits else _softmax(z)
    z = rng.normal(size=(batch, C)).astype("float32") * 2
    if labels == "multilabel":
        y = (rng.random(size=(batch, C)) > 0.6).astype("float32")
        return y, z if from_logits else (1 / (1 + np.exp(-z))).astype("float32")
    y = rng.integers(0, C, size=(batch,))
    return y, z if from_logits else _softmax(z)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype("float32")


def loss_model(labels, from_logits):
    """A one-layer model whose output a loss of this label kind takes."""
    if labels == "segmentation":
        inputs = keras.Input((5, 5, 2))
        outputs = keras.layers.Conv2D(C, 1, name="head")(inputs)
    else:
        inputs = keras.Input((6,))
        outputs = keras.layers.Dense(C, name="head")(inputs)
    if not from_logits:
        activation = "sigmoid" if labels == "multilabel" else "softmax"
        outputs = keras.layers.Activation(activation, dtype="float32")(outputs)
    return keras.Model(inputs, outputs)


def loss_model_data(labels, batch=16, rng=RNG):
    y, _ = loss_data(labels, True, batch=batch, rng=rng)
    shape = (batch, 5, 5, 2) if labels == "segmentation" else (batch, 6)
    return rng.normal(size=shape).astype("float32"), y


def from_logits(loss):
    return getattr(loss, "from_logits", True)


def _loss_probe(case, **compile_args):
    loss = case.make()
    model = loss_model(case.labels, from_logits(loss))
    x, y = loss_model_data(case.labels, rng=np.random.default_rng(0))
    compile_args = dict(optimizer="adam", loss=loss, **compile_args)
    model.compile(**compile_args)
    return Setup(model, x, y, obj=loss, loss=loss, compile_args=compile_args)


# Layers: inputs of each kind; the layer inside `inputs -> layer -> logits`.

LAYER_CLASSES = 3
LAYER_INPUTS = {  # kind -> (shape without batch, dtype)
    "image": ((6, 6, 8), "float32"),
    "image_cf": ((8, 6, 6), "float32"),
    "sequence": ((7, 8), "float32"),
    "volume": ((3, 4, 4, 8), "float32"),
    "tokens": ((7,), "int32"),
    "tabular": ((10,), "float32"),
    "features": ((12,), "float32"),
}


def layer_input(kind, batch=4, rng=RNG):
    shape, dtype = LAYER_INPUTS[kind]
    if dtype == "int32":
        x = rng.integers(1, 20, size=(batch, *shape)).astype("int32")
        x[0, 4:] = 0  # padding: masked by the embedding
        x[1, 2:] = 0
        return x
    # Positive, as images after a ReLU.
    return rng.uniform(0.1, 2.0, size=(batch, *shape)).astype(dtype)


def layer_inputs(case, inputs):
    """The tensor(s) the layer under test is called on."""
    if case.inputs == "tokens":
        return keras.layers.Embedding(20, 8, mask_zero=True, name="embed")(inputs)
    widths = case.spec.get("widths")
    if widths is not None:
        return [
            keras.layers.Dense(w, activation="relu", name=f"branch_{i}")(inputs)
            for i, w in enumerate(widths)
        ]
    return inputs


def layer_input_shape(case, batch):
    """The input shape(s) of the layer under test, with batch size `batch`."""
    widths = case.spec.get("widths")
    if widths is not None:
        return [(batch, w) for w in widths]
    shape = LAYER_INPUTS[case.inputs][0]
    if case.inputs == "tokens":
        return (batch, *shape, 8)
    return (batch, *shape)


def layer_model(case):
    """`(model, layer)`: `inputs -> ... -> layer -> [logits, *layer outputs]`."""
    shape, dtype = LAYER_INPUTS[case.inputs]
    inputs = keras.Input(shape, dtype=dtype, name="x")
    layer = case.make()
    outputs = layer(layer_inputs(case, inputs))
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    if case.spec.get("head"):
        logits = outputs[0]  # the layer is the classifier
    else:
        flat = keras.layers.Flatten(name="flatten")(outputs[0])
        logits = keras.layers.Dense(LAYER_CLASSES, name="logits")(flat)
    model = keras.Model(inputs, [logits, *outputs])
    return model, layer


def layer_compile_args(model, **kwargs):
    return dict(
        optimizer=keras.optimizers.SGD(0.5),
        loss=[_sparse_ce()] + [None] * (len(model.outputs) - 1),
        **kwargs,
    )


def _layer_probe(case, **compile_args):
    model, layer = layer_model(case)
    x = layer_input(case.inputs, rng=np.random.default_rng(0))
    y = np.arange(len(x)) % LAYER_CLASSES
    compile_args = layer_compile_args(model, **compile_args)
    model.compile(**compile_args)
    return Setup(model, x, y, obj=layer, compile_args=compile_args)


# Metrics, optimizers and callbacks: a small dense classifier.


def dense_data(batch=16, features=5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    x = rng.normal(size=(batch, features)).astype("float32")
    y = np.arange(batch) % C
    return x, y


def dense_model(features=5, batch_norm=False):
    layers = [keras.Input((features,)), keras.layers.Dense(8, activation="relu")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers.append(keras.layers.Dense(C, name="classifier"))
    return keras.Sequential(layers)


def _metric_probe(case, **compile_args):
    metric = case.make()
    model = dense_model()
    x, y = dense_data()
    if getattr(metric, "ignore_class", None) is not None:
        y = y.copy()
        y[:2] = metric.ignore_class
        loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=metric.ignore_class
        )
    else:
        loss = _sparse_ce()
    compile_args = dict(optimizer="sgd", loss=loss, metrics=[metric], **compile_args)
    model.compile(**compile_args)
    return Setup(model, x, y, obj=metric, loss=loss, compile_args=compile_args)


def _optimizer_probe(case, **compile_args):
    optimizer = case.make()
    model = dense_model()
    x, y = dense_data()
    compile_args = dict(optimizer=optimizer, loss=_sparse_ce(), **compile_args)
    model.compile(**compile_args)
    return Setup(model, x, y, obj=optimizer, compile_args=compile_args)


def _callback_probe(case, **compile_args):
    loss = case.spec["loss"]() if "loss" in case.spec else _sparse_ce()
    model_kind = case.spec.get("model", "dense")
    if model_kind == "bbn":
        model = keras_imbalance.models.build_bilateral_branch_network(
            (6,), C, width=4, depth=2
        )[0]
        x1, y1 = dense_data(features=6)
        x2, y2 = dense_data(features=6, rng=np.random.default_rng(1))
        x, y = [x1, x2], (y1, y2[::-1])
    else:
        model = dense_model(batch_norm=model_kind == "batch_norm")
        x, y = dense_data()
    compile_args = dict(optimizer=keras.optimizers.SGD(0.1), loss=loss, **compile_args)
    model.compile(**compile_args)
    setup = Setup(model, x, y, loss=loss, compile_args=compile_args)
    if "dataset" in case.spec:
        setup.dataset = keras_imbalance.data.balanced_dataset(
            x, y, batch_size=BATCH, sampling=case.dataset, seed=0
        )
    setup.obj = case.make(setup)
    setup.fit = dict(epochs=2, callbacks=[setup.obj])
    return setup


def _model_probe(case, **compile_args):
    model = case.make()
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(BATCH, *s)).astype("float32") for s in case.inputs]
    y = tuple(np.arange(BATCH) % C for _ in range(case.targets))
    compile_args = dict(optimizer="adam", loss=_sparse_ce(), **compile_args)
    model.compile(**compile_args)
    return Setup(model, x, y, obj=model, compile_args=compile_args)


PROBES = {
    "loss": _loss_probe,
    "metric": _metric_probe,
    "layer": _layer_probe,
    "model": _model_probe,
    "callback": _callback_probe,
    "optimizer": _optimizer_probe,
}


def probe(case, **compile_args):
    """The `Setup` of a case, compiled with `compile_args` added."""
    return PROBES[case.kind](case, **compile_args)


def fit(setup, epochs=1):
    """Train the probe's model; its history dict (`{"loss": [...], ...}`).

    `train_on_batch` over batches of `BATCH` (a `fit` builds a `tf.data`
    pipeline and traces a loop over it: seconds, for nothing the checks
    need); a callback's probe calls `fit` itself, for `setup.fit`'s epochs.
    """
    if setup.dataset is not None or setup.fit:
        kwargs = {"epochs": epochs, "shuffle": False, **setup.fit}
        if setup.dataset is not None:
            return setup.model.fit(setup.dataset, verbose=0, **kwargs).history
        return setup.model.fit(
            setup.x, setup.y, batch_size=BATCH, verbose=0, **kwargs
        ).history
    history = {}
    size = len(keras.tree.flatten(setup.x)[0])
    for _ in range(epochs):
        for start in range(0, size, BATCH):
            part = keras.tree.map_structure(
                lambda a, start=start: a[start : start + BATCH], (setup.x, setup.y)
            )
            logs = setup.model.train_on_batch(*part, return_dict=True)
            for key, value in logs.items():
                history.setdefault(key, []).append(float(value))
    return history


def evaluate(setup, model=None):
    """The compiled loss and metrics of the probe's model (or `model`) on all
    its data, in one `test_on_batch`."""
    model = setup.model if model is None else model
    values = model.test_on_batch(setup.x, setup.y, return_dict=True)
    return {k: float(v) for k, v in sorted(values.items())}
