"""keras_imbalance: deep learning on class-imbalanced and long-tailed data.

Losses, metrics, class statistics, attention layers, model builders and
callbacks that plug into the ordinary Keras 3 workflow (`compile`, `fit`,
`save`, `export`); named training strategies and the `keras-imbalance`
command that compares them.

Importing the package is cheap: each subpackage loads on first use, so Keras
and TensorFlow load only when something needs them. The serializable losses,
metrics, layers and models are still registered before
`keras.saving.load_model` can need them: as soon as `keras` is imported,
before or after this package.
"""

import importlib
import importlib.abc
import sys
import threading

__version__ = "0.1.0"
"""The version of the package."""

# Public submodules, imported on first attribute access. A name here whose
# module does not exist (yet) behaves like any missing attribute.
_SUBMODULES = (
    "callbacks",
    "comparison",
    "data",
    "datasets",
    "evaluation",
    "export",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "strategies",
)

# Public functions re-exported from a submodule: name -> module.
_FUNCTIONS = {
    "class_counts": "class_weights",
    "class_priors": "class_weights",
    "compute_class_weights": "class_weights",
    "imbalance_ratio": "class_weights",
}

# The submodules that register serializable objects with Keras, in dependency
# order: all of them are imported as soon as Keras is. Only modules that need
# no TensorFlow on the JAX, PyTorch and NumPy backends belong here (`data` and
# `export` import TensorFlow, and so do `strategies` and `comparison` through
# `data`).
_REGISTERING = ("losses", "metrics", "layers", "models", "callbacks", "optimizers")

__all__ = ["__version__", *sorted((*_SUBMODULES, *_FUNCTIONS))]


def _import_submodule(name):
    """The submodule `name`, or None if it does not exist.

    A module that exists but fails to import (a bug, a missing dependency)
    raises as usual.
    """
    full_name = f"{__name__}.{name}"
    try:
        return importlib.import_module(full_name)
    except ModuleNotFoundError as exc:
        if exc.name != full_name:
            raise
        return None


def __getattr__(name):
    if name in _SUBMODULES:
        module = _import_submodule(name)
        if module is not None:
            return module  # the import system also set it as an attribute
    elif name in _FUNCTIONS:
        module = importlib.import_module(f"{__name__}.{_FUNCTIONS[name]}")
        value = getattr(module, name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})


# Raised by the import system when two threads would wait for each other's
# module locks (a private class of CPython's importlib).
_DeadlockError = getattr(importlib._bootstrap, "_DeadlockError", ())


def _register_serializables(names=_REGISTERING):
    for i, name in enumerate(names):
        try:
            _import_submodule(name)
        except _DeadlockError:
            # Another thread is importing this module and waits for the
            # `keras` import lock, which this thread holds until its own
            # `import keras` returns: finish the registration in a thread that
            # can wait for the other one instead of failing `import keras`.
            threading.Thread(
                target=_register_serializables, args=(names[i:],), daemon=True
            ).start()
            return


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Imports the registering submodules right after `keras` has executed.

    Sits first on `sys.meta_path` and only answers for `keras` itself: it
    takes the spec that the finders after it would return and wraps the
    loader. It leaves `sys.meta_path` once registration has succeeded; if
    `keras` (or the registration) fails, the error propagates and the finder
    stays, so that the next `import keras` tries again.
    """

    _keras_imbalance_hook = True  # recognised again after importlib.reload

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras" or getattr(_finding, "active", False):
            return None
        finders = list(sys.meta_path)
        if self in finders:
            finders = finders[finders.index(self) + 1 :]
        # A finder below may look `keras` up again itself: answer None then.
        _finding.active = True
        try:
            for finder in finders:
                find_spec = getattr(finder, "find_spec", None)
                spec = find_spec(fullname, path, target) if find_spec else None
                if spec is not None:
                    break
            else:
                return None
        finally:
            _finding.active = False
        if hasattr(spec.loader, "exec_module"):
            spec.loader = _RegisteringLoader(spec.loader, self)
        return spec

    def remove(self):
        with _hook_lock:
            if self in sys.meta_path:
                sys.meta_path.remove(self)


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader, finder):
        self._loader = loader
        self._finder = finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        # Hand the module its real loader back (for importlib.reload,
        # importlib.resources, ...): this wrapper is needed only once.
        module.__loader__ = self._loader
        module.__spec__.loader = self._loader
        # `keras` is in sys.modules and fully executed, but this thread holds
        # its import lock until `import keras` returns. Marking it initialized
        # lets the registering modules' own `import keras`, and that of any
        # other thread, take it at once, instead of waiting for that lock
        # (which, in a thread that is importing one of the registering
        # modules, would deadlock with the imports below).
        module.__spec__._initializing = False
        try:
            _register_serializables()
        except BaseException as exc:
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(
                    "(raised by keras_imbalance while registering its "
                    "serializable objects right after `import keras`)"
                )
            raise
        self._finder.remove()


_hook_lock = threading.Lock()
_finding = threading.local()


def _install():
    with _hook_lock:
        # A reload of this package must not leave the previous finder behind.
        sys.meta_path[:] = [
            finder
            for finder in sys.meta_path
            if not getattr(finder, "_keras_imbalance_hook", False)
        ]
        if sys.modules.get("keras") is None:
            sys.meta_path.insert(0, _RegisterWhenKerasLoads())
            return
    _register_serializables()


_install()
