"""Conformance checks shared by the test files (imbalanced-learn's idea).

imbalanced-learn runs the same battery of checks over every estimator
(`imblearn/utils/estimator_checks.py`); this module does it for every public
Keras object of `keras_imbalance`. It is a plain module, imported by the
test files, not collected itself. It has three parts:

* **Enumeration.** `public_modules()` walks the package (underscore modules
  left out), `public_names()` lists every name of their `__all__`, and
  `classify(obj)` sorts each one into a kind: `"loss"`, `"metric"`,
  `"layer"`, `"model"`, `"callback"`, `"optimizer"` (the Keras classes that
  the checks below run on), `"keras_other"` (another serializable Keras
  class: a regularizer, a schedule ...), `"class"`, `"function"`,
  `"module"` or `"constant"`. `public_keras_classes(kind)` gives the
  package's own classes of a kind, by class name.

* **Cases.** `table(kind)[class name]` lists the ways each class is built
  for the checks (constructor arguments and the inputs a tiny model feeds
  it), from the `_<kind>_cases()` functions below. Every public class needs
  an entry: `missing_cases(kind)` names the classes without one (the
  completeness tests fail on them, asking for the entry) and the entries
  whose class is gone. `cases(kind)` gives the `pytest.param`s, and
  `check_params(kinds)` the `(check, case)` params of the generic checks,
  the slow ones marked `slow`.

* **Checks.** Functions that raise `AssertionError` on a non-conforming
  object: `check_config_round_trip`, `check_registered`,
  `check_serialization_round_trip`, `check_keras_file_round_trip`,
  `check_saved_model_round_trip` (`model.export` + `tf.saved_model.load`),
  `check_saved_function_round_trip` (a `tf.function` in a `tf.Module`, for
  what a model does not export: a loss, a metric's state),
  `check_dtype_policies` and `check_jit_matches_eager`, and `run_check(name,
  case, path)`, which runs one of them on any case through its kind's probe
  (the tiny model that uses the object, `probe(case)`).

The per-kind files (`tests/losses`, `tests/layers`, `tests/models`
`test_conformance.py`) run the checks on their kind and add their own;
`tests/test_public_api.py` runs them on the other kinds and checks the
completeness of `CASES`.
"""

import contextlib
import copy
import dataclasses
import functools
import importlib
import inspect
import json
import pkgutil
import types

import keras
import numpy as np
import tensorflow as tf

import keras_imbalance

PACKAGE = "keras_imbalance"
C = 4  # classes of the multi-class probes
COUNTS = [400, 90, 20, 4]  # class counts for the objects that take them
BATCH = 8

# ------------------------------------------------------------- enumeration

# Kind -> Keras base class, most specific first (a Model is also a Layer).
KERAS_KINDS = {
    "loss": keras.losses.Loss,
    "metric": keras.metrics.Metric,
    "model": keras.Model,
    "layer": keras.layers.Layer,
    "callback": keras.callbacks.Callback,
    "optimizer": keras.optimizers.Optimizer,
}
# Other Keras classes that are serializable and so must be registered.
OTHER_KERAS_BASES = (
    keras.regularizers.Regularizer,
    keras.initializers.Initializer,
    keras.constraints.Constraint,
    keras.optimizers.schedules.LearningRateSchedule,
)


@functools.cache
def public_modules():
    """`keras_imbalance` and its public submodules, imported (walked once)."""
    modules = [keras_imbalance]
    for info in pkgutil.walk_packages(keras_imbalance.__path__, f"{PACKAGE}."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts):
            continue  # private modules, and `__main__` (it runs the CLI)
        modules.append(importlib.import_module(info.name))
    return tuple(modules)


@dataclasses.dataclass(frozen=True)
class PublicName:
    module: str  # the module whose `__all__` lists the name
    name: str
    obj: object

    @property
    def qualname(self):
        return f"{self.module}.{self.name}"


@functools.cache
def public_names():
    """Every `(module, name, object)` of every public module's `__all__`.

    A name listed but missing gives `obj=MISSING` (the API test fails on it).
    """
    names = []
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, MISSING)
            names.append(PublicName(module.__name__, name, obj))
    return tuple(names)


class _Missing:
    def __repr__(self):
        return "<missing>"


MISSING = _Missing()


def classify(obj):
    """The kind of a public object (see the module docstring)."""
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        for kind, base in KERAS_KINDS.items():
            if issubclass(obj, base):
                return kind
        if issubclass(obj, OTHER_KERAS_BASES):
            return "keras_other"
        return "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.ismethod(obj):
        return "function"
    return "constant"


def is_keras_class(obj):
    return classify(obj) in (*KERAS_KINDS, "keras_other")


def is_own(obj):
    """Whether `obj` is defined in this package (not re-exported from elsewhere)."""
    return (getattr(obj, "__module__", None) or "").split(".")[0] == PACKAGE


def public_keras_classes(kind=None):
    """The package's own public Keras classes (of `kind`), by class name."""
    found = {}
    for entry in public_names():
        obj = entry.obj
        if not inspect.isclass(obj) or not is_own(obj):
            continue
        if classify(obj) not in KERAS_KINDS and classify(obj) != "keras_other":
            continue
        if kind is not None and classify(obj) != kind:
            continue
        other = found.setdefault(obj.__name__, obj)
        assert other is obj, (
            f"two public classes are named {obj.__name__}: {other} and {obj}; "
            "the conformance table is keyed by class name"
        )
    return found


# ------------------------------------------------------------------- cases


class Case:
    """One way to build a public class for the checks.

    `args` is a dict of constructor keyword arguments, or a callable that
    builds the object: with no argument, or for callbacks with the probe's
    `Setup` (the model, its loss and data). `spec` holds what the kind's
    probe needs to feed the object (its input kind, label kind ...).
    """

    def __init__(self, id, args=None, **spec):
        self.id = id
        self.args = {} if args is None else args
        self.spec = spec
        self.cls_name = None  # set by `_table`
        self.kind = None

    @property
    def cls(self):
        classes = public_keras_classes(self.kind)
        assert self.cls_name in classes, (
            f"conformance case {self.id!r}: {self.cls_name} is no longer a public "
            f"{self.kind} class: remove its entry from CASES in tests/conformance.py"
        )
        return classes[self.cls_name]

    def make(self, *context):
        if callable(self.args):
            obj = self.args(*context)
        else:
            obj = self.cls(**self.args)
        assert type(obj).__name__ == self.cls_name, (self.id, type(obj))
        return obj

    def __getattr__(self, name):
        try:
            return self.__dict__["spec"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self):
        return f"Case({self.id!r}, {self.cls_name})"


def _loss_cases():
    return {
        "FocalLoss": [
            Case("focal", dict(from_logits=True), labels="multiclass"),
            Case(
                "focal_probs",
                dict(gamma=[1, 2, 2, 3], alpha=[0.1, 0.3, 1.0, 2.0]),
                labels="multiclass",
            ),
        ],
        "BinaryFocalLoss": [
            Case(
                "binary_focal", dict(alpha=0.25, from_logits=True), labels="multilabel"
            )
        ],
        "SigmoidFocalCrossEntropy": [
            Case(
                "sigmoid_focal_tfa",
                dict(from_logits=True, reduction="sum_over_batch_size"),
                labels="multilabel",
            )
        ],
        "WeightedCrossEntropy": [
            Case(
                "weighted_ce",
                dict(class_weight=[0.5, 1.0, 2.0, 4.0], from_logits=True),
                labels="multiclass",
            ),
            Case(
                "weighted_ce_probs",
                dict(class_weight={3: 5.0}, label_smoothing=0.1),
                labels="multiclass",
                json_exact=False,  # integer keys: strings in JSON
            ),
        ],
        "ClassBalancedLoss": [
            Case(
                "cb_focal",
                dict(class_counts=COUNTS, beta=0.999, from_logits=True),
                labels="multiclass",
            ),
            Case(
                "cb_softmax",
                dict(class_counts=COUNTS, loss_type="softmax", from_logits=True),
                labels="multiclass",
            ),
            Case(
                "cb_sigmoid_probs",
                dict(class_counts=COUNTS, loss_type="sigmoid"),
                labels="multiclass",
            ),
        ],
        "LDAMLoss": [
            Case(
                "ldam",
                dict(class_counts=COUNTS, class_weight=[0.2, 0.6, 1.2, 2.0]),
                labels="multiclass",
            )
        ],
        "BalancedSoftmaxLoss": [
            Case("balanced_softmax", dict(class_counts=COUNTS), labels="multiclass"),
            Case(
                "balanced_softmax_probs",
                dict(class_counts=COUNTS, from_logits=False),
                labels="multiclass",
            ),
        ],
        "LogitAdjustedLoss": [
            Case(
                "logit_adjusted",
                dict(class_counts=COUNTS, tau=1.5),
                labels="multiclass",
            )
        ],
        "AsymmetricLoss": [
            Case("asymmetric", dict(from_logits=True), labels="multilabel"),
            Case("asymmetric_probs", dict(), labels="multilabel"),
        ],
        "DiceLoss": [Case("dice", dict(from_logits=True), labels="segmentation")],
        "TverskyLoss": [
            Case(
                "tversky",
                dict(gamma=4 / 3, from_logits=True),
                labels="segmentation",
            )
        ],
    }


def _layer_cases():
    ki_layers = keras_imbalance.layers
    return {
        "SqueezeExcitation": [
            Case("se", dict(reduction=4), inputs="image"),
            Case("se_1d", dict(reduction=2), inputs="sequence"),
            Case("se_3d", dict(reduction=4), inputs="volume"),
            Case(
                "se_channels_first",
                dict(reduction=4, gate="hard_sigmoid", data_format="channels_first"),
                inputs="image_cf",
            ),
        ],
        "ChannelAttention": [
            Case("channel_attention", dict(reduction=2), inputs="image")
        ],
        "SpatialAttention": [
            Case("spatial_attention", dict(kernel_size=3), inputs="image")
        ],
        "CBAM": [
            Case("cbam", dict(reduction=4, kernel_size=3), inputs="image"),
            Case(
                "cbam_channels_first",
                dict(reduction=4, kernel_size=3, data_format="channels_first"),
                inputs="image_cf",
            ),
            Case("cbam_1d", dict(reduction=2, kernel_size=3), inputs="sequence"),
        ],
        "EfficientChannelAttention": [
            Case("eca", dict(), inputs="image"),
            Case("eca_3d_k5", dict(kernel_size=5), inputs="volume"),
        ],
        "AttentionPooling": [
            Case(
                "attention_pooling_masked",
                dict(num_heads=2, return_attention_scores=True),
                inputs="tokens",
            ),
            Case("attention_pooling_image", dict(num_heads=4), inputs="image"),
        ],
        "FeatureAttention": [
            Case(
                "feature_attention",
                dict(hidden_units=6, return_attention=True),
                inputs="tabular",
            )
        ],
        "CosineClassifier": [
            Case(
                "cosine_classifier",
                lambda: ki_layers.CosineClassifier(LAYER_CLASSES, scale=10.0),
                inputs="tabular",
                head=True,
            ),
            Case(
                "cosine_classifier_learned_scale",
                lambda: ki_layers.CosineClassifier(LAYER_CLASSES, learn_scale=True),
                inputs="tabular",
                head=True,
            ),
        ],
        "BranchFusion": [
            Case(
                "fusion_concat",
                dict(mode="concat"),
                inputs="features",
                widths=(8, 5, 3),
            ),
            Case("fusion_sum", dict(mode="sum"), inputs="features", widths=(6, 6)),
            Case("fusion_mean", dict(mode="mean"), inputs="features", widths=(6, 6)),
            Case(
                "fusion_gated", dict(mode="gated"), inputs="features", widths=(6, 6, 6)
            ),
            Case(
                "fusion_attention",
                dict(mode="attention"),
                inputs="features",
                widths=(6, 6, 6),
            ),
        ],
        "LearnableWeightScaling": [
            Case("learnable_weight_scaling", dict(), inputs="tabular")
        ],
        "MeanImputation": [
            Case(
                "mean_imputation",
                dict(mean=np.linspace(-1.0, 1.0, 10).tolist()),
                inputs="tabular",
            )
        ],
        "LogitAdjustment": [
            Case(
                "logit_adjustment",
                lambda: ki_layers.LogitAdjustment(
                    np.linspace(10, 1, 10).tolist(), tau=0.5
                ),
                inputs="tabular",
            )
        ],
        "BilateralMixing": [
            Case(
                "bilateral_mixing",
                lambda: ki_layers.BilateralMixing(0.7),
                inputs="features",
                widths=(6, 6),
            )
        ],
        # `models.transfer` exports it: the "caffe" preprocessing (RGB -> BGR).
        "ReverseChannels": [Case("reverse_channels", dict(), inputs="image")],
    }


def _metric_cases():
    return {
        "BalancedAccuracy": [
            Case("balanced_accuracy", dict(num_classes=C)),
            Case(
                "balanced_accuracy_logits_ignore",
                dict(num_classes=C, from_logits=True, ignore_class=-1),
            ),
        ],
        "MacroF1": [Case("macro_f1", dict(num_classes=C))],
        "GeometricMeanRecall": [
            Case("g_mean_corrected", dict(num_classes=C, correction=0.001))
        ],
        "GroupAccuracy": [
            Case("few_shot_accuracy", dict(class_counts=COUNTS, group="few")),
            Case(
                "many_shot_accuracy",
                dict(class_counts=COUNTS, group="many", many_threshold=100),
            ),
        ],
    }


def _optimizer_cases():
    return {
        "CoupledWeightDecaySGD": [
            Case(
                "coupled_sgd_nesterov",
                dict(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
            ),
        ],
    }


def _callback_cases():
    cb = keras_imbalance.callbacks
    return {
        "CumulativeLearning": [
            # Needs the BilateralMixing layer of a bilateral-branch network.
            Case("cumulative_learning", lambda s: cb.CumulativeLearning(2), model="bbn")
        ],
        "DeferredReweighting": [
            Case(
                "drw_ldam",
                lambda s: cb.DeferredReweighting(
                    s.loss, class_counts=COUNTS, start_epoch=1
                ),
                loss=lambda: keras_imbalance.losses.LDAMLoss(COUNTS, scale=5.0),
            )
        ],
        "ImbalanceMonitor": [
            Case(
                "imbalance_monitor",
                lambda s: cb.ImbalanceMonitor(
                    (s.x, s.y), class_counts=COUNTS, batch_size=8
                ),
            )
        ],
        "ProgressiveSampling": [
            # `data.sampling`'s schedule of a progressive `balanced_dataset`.
            Case(
                "progressive_sampling",
                lambda s: keras_imbalance.data.ProgressiveSampling(s.dataset, 2),
                dataset="progressive",
            )
        ],
        "PreciseBatchNorm": [
            Case(
                "precise_batch_norm",
                lambda s: cb.PreciseBatchNorm(s.x, batch_size=8),
                model="batch_norm",
            )
        ],
    }


def _model_cases():
    return {
        # The training half of a bilateral-branch network: two inputs.
        "BilateralBranchTrainer": [
            Case(
                "bbn_train",
                lambda: keras_imbalance.models.build_bilateral_branch_network(
                    (6,), C, width=4, depth=2
                )[0],
                inputs=[(6,), (6,)],
                targets=2,
                json_exact=False,  # Keras' own build configs hold tuples
            )
        ],
    }


_TABLES = {
    "loss": _loss_cases,
    "metric": _metric_cases,
    "layer": _layer_cases,
    "model": _model_cases,
    "callback": _callback_cases,
    "optimizer": _optimizer_cases,
}
_CASES = {}


def table(kind):
    """`{class name: [Case, ...]}` of a kind (built once)."""
    if kind not in _CASES:
        entries = _TABLES[kind]() if kind in _TABLES else {}
        for cls_name, kind_cases in entries.items():
            for case in kind_cases:
                case.cls_name, case.kind = cls_name, kind
        _CASES[kind] = entries
    return _CASES[kind]


def cases(kind, where=None):
    """`pytest.param(case, id=case.id)` for every case of `kind`."""
    import pytest

    found = [c for kind_cases in table(kind).values() for c in kind_cases]
    if where is not None:
        found = [c for c in found if where(c)]
    ids = [c.id for c in found]
    assert len(set(ids)) == len(ids), f"duplicate case ids in {kind}: {ids}"
    return [pytest.param(c, id=c.id) for c in found]


def missing_cases(kind):
    """Problems of `CASES[kind]`: public classes without an entry, stale entries."""
    public = public_keras_classes(kind)
    entries = table(kind)
    problems = [
        f"{name} ({public[name].__module__}) is a public {kind} class without "
        f"a conformance case: add an entry `{name!r}: [Case(...)]` to "
        f"`_{kind}_cases()` in tests/conformance.py"
        for name in sorted(set(public) - set(entries))
    ]
    problems += [
        f"{name} has conformance cases but is not a public {kind} class (any "
        f"more): remove it from `_{kind}_cases()` in tests/conformance.py"
        for name in sorted(set(entries) - set(public))
    ]
    problems += [
        f"{name} has an empty list of cases in `_{kind}_cases()`"
        for name, kind_cases in entries.items()
        if not kind_cases
    ]
    return problems


def unknown_kinds():
    """Public Keras classes of a kind no probe knows (the checks cannot run)."""
    return sorted(
        f"{name} ({cls.__module__}): a {classify(cls)} class; give its kind a "
        "probe and a table in tests/conformance.py"
        for name, cls in public_keras_classes().items()
        if classify(cls) not in _TABLES
    )


# ------------------------------------------------------------------ checks


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


# Eager execution is the reference; XLA (`jit_compile=True`) must agree with
# it. (A plain `tf.function` graph adds nothing to that: XLA traces the same
# graph, and the graph's kernels are the eager ones.)
MODES = ("eager", "jit")


def check_jit_matches_eager(run, rtol=1e-4, atol=1e-6):
    """`run(mode)` for each of `MODES`: finite results, all equal.

    `run` builds, compiles with `compile_mode(mode)` (`run_eagerly=True`, or
    XLA: `jit_compile=True`) and steps a model, returning numbers or arrays.
    """
    results = {}
    for mode in MODES:
        keras.utils.set_random_seed(0)
        results[mode] = [np.asarray(r) for r in keras.tree.flatten(run(mode))]
        check_finite(results[mode])
    for mode in MODES[1:]:
        assert len(results[mode]) == len(results["eager"])
        for e, j in zip(results["eager"], results[mode]):
            np.testing.assert_allclose(j, e, rtol=rtol, atol=atol, err_msg=mode)


def compile_mode(mode):
    """`model.compile` keywords for a mode of `check_jit_matches_eager`."""
    return {
        "eager": dict(run_eagerly=True),
        "graph": dict(jit_compile=False),
        "jit": dict(jit_compile=True),
    }[mode]


# ------------------------------------------------ the current backend's steps
#
# The checks run on every Keras backend (`KERAS_BACKEND`). What differs is how
# a function is compiled and differentiated outside `fit`: these helpers do it
# the way the current backend's own train step does.

EAGER_STEPS = (
    "PyTorch runs Keras steps eagerly (nothing is traced), so a bad input "
    "raises the eager error there instead of giving NaN"
)


def backend():
    return keras.backend.backend()


def traced(fn, jit_compile=False):
    """`fn` compiled as the current backend compiles a step, or None.

    TensorFlow: a `tf.function` (XLA with `jit_compile`); JAX: `jax.jit`
    (always XLA); PyTorch: None, its Keras steps run eagerly (`EAGER_STEPS`).
    """
    if backend() == "tensorflow":
        return tf.function(fn, jit_compile=jit_compile)
    if backend() == "jax":
        import jax

        return jax.jit(fn)
    return None


def traced_update(metric):
    """`update(y_true, y_pred)`: `metric.update_state` in a compiled step, or
    None on PyTorch (see `traced`). On JAX the step is `jax.jit` of Keras'
    `stateless_update_state`, its new values assigned back, as `fit` does."""
    if backend() == "tensorflow":
        return tf.function(metric.update_state)
    if backend() != "jax":
        return None
    import jax

    step = jax.jit(metric.stateless_update_state)

    def update(y_true, y_pred):
        values = step([v.value for v in metric.variables], y_true, y_pred)
        for variable, value in zip(metric.variables, values):
            variable.assign(value)

    return update


def value_and_gradient(fn, x, dtype="float32", jit_compile=False):
    """`(fn(x), d fn(x) / dx)` as NumPy arrays, by the backend's autodiff.

    `fn` maps a tensor of `x`'s values (of `dtype`) to a scalar;
    `tf.GradientTape`, `jax.value_and_grad` or `torch.autograd.grad`
    differentiates it, compiled with `jit_compile` (XLA) on TensorFlow and
    JAX. The gradient comes back as float32 (NumPy has no bfloat16).
    """
    x = np.asarray(x)
    if backend() == "tensorflow":

        def run(t):
            with tf.GradientTape() as tape:
                tape.watch(t)
                value = fn(t)
            return value, tape.gradient(value, t)

        if jit_compile:
            run = tf.function(run, jit_compile=True)
        value, gradient = run(tf.constant(x, dtype))
    elif backend() == "jax":
        import jax
        import jax.numpy as jnp

        run = jax.value_and_grad(fn)
        if jit_compile:
            run = jax.jit(run)
        value, gradient = run(jnp.asarray(x, dtype))
    elif backend() == "torch":
        import torch

        t = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
        value = fn(t)
        (gradient,) = torch.autograd.grad(value, t)
    else:
        raise NotImplementedError(f"no gradient helper for {backend()}")
    gradient = keras.ops.cast(gradient, "float32")
    return keras.ops.convert_to_numpy(value), keras.ops.convert_to_numpy(gradient)


# ------------------------------------------------------------------ probes
#
# A probe builds the tiny model through which the generic checks see an
# object of its kind. `probe(case)` returns a `Setup`; its data depend on the
# case alone (the checks compare two probes of a case).

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


def _outputs_and_evaluation(setup):
    def outputs(model, x):
        values = evaluate(setup, model)
        return [*predict(model, x), *values.values()]

    return outputs


# --------------------------------------------------------- generic checks


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
