"""Enumeration: the public names of `keras_imbalance`, and their kinds.

`public_modules()` walks the package (underscore modules left out),
`public_names()` lists every name of their `__all__`, and `classify(obj)`
sorts each one into a kind (see the package docstring);
`public_keras_classes(kind)` gives the package's own classes of a kind, by
class name.
"""

import dataclasses
import functools
import importlib
import inspect
import pkgutil
import types

import keras

import keras_imbalance

PACKAGE = "keras_imbalance"

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
