"""The public API: every name of every public module's `__all__`.

The modules are found by walking the package (`tests/conformance/names.py`,
`public_modules`: underscore modules are private). For each name:

* it exists;
* a Keras class (loss, metric, layer, model, callback, optimizer ...) is
  registered serializable under `keras_imbalance>ClassName`;
* a class or function has a docstring with a `>>>` example; only constants
  and re-exported third-party objects may go without, each listed in
  `NO_EXAMPLE` with the reason;
* a class or function appears in the API table of README.md (as
  `module.name`, e.g. `losses.FocalLoss`, or bare for the top level);
* a class with `_config_keys` lists exactly its own `__init__` arguments
  there (`get_config` stores them and `call` passes them on).

It also runs the shared conformance checks on the public Keras classes of
the kinds that have no test file of their own (metrics, callbacks,
optimizers), and checks that every public Keras class has a conformance case.
"""

import inspect
import re
from pathlib import Path

import keras
import pytest

from tests import conformance

README = Path(__file__).resolve().parents[1] / "README.md"
PUBLIC = conformance.public_names()

# Constants and re-exported third-party objects without a `>>>` example of
# their own, by name: name -> reason. Classes and functions of the package
# cannot be listed here.
NO_EXAMPLE = {
    "__version__": "a version string",
    "ATTENTION_LAYERS": "a constant: the names `get_attention` takes",
    "BACKBONES": "a constant: the table of keras.applications backbones",
    "COLOR_MODES": "a constant: the colour modes of ImageFiles and their channels",
    "IMAGE_EXTENSIONS": "a constant: the image file types a folder is read for",
    "TRANSFER_BACKBONES": "a constant: models.transfer.BACKBONES re-exported",
    "DATASETS": "a constant: the dataset names `load_dataset` takes",
    "DEFAULT_COMPARE": "a constant: the strategies `compare` runs by default",
    "DRW_FRACTION": "a constant: the fraction of the epochs before DRW starts",
    "FASHION_MNIST_CLASS_NAMES": "a constant: the ten class names",
    "FASHION_MNIST_FILES": "a constant: the file names of the download",
    "HEAD_LAYERS": "a constant: the head names `get_head` takes",
    "MODEL_KINDS": "a constant: what a strategy stage trains",
    "MODELS": "a constant: model names and their descriptions",
    "OLTR_SHOT_THRESHOLDS": "a constant: the many/few-shot thresholds (100, 20)",
    "PROTOCOLS": "a constant: the names `protocols.get` takes",
    "SUMMARY_METRICS": "a constant: the metric names of a comparison summary",
    "TAU_GRID": "a constant: the tau values tried on validation",
}


def _short(qualname):
    return qualname.removeprefix(f"{conformance.PACKAGE}.")


def _unique(kinds):
    """One entry per object of `kinds`, from the shortest module path."""
    chosen = {}
    for entry in sorted(PUBLIC, key=lambda e: (e.module.count("."), e.module)):
        if conformance.classify(entry.obj) in kinds:
            chosen.setdefault(id(entry.obj), entry)
    return sorted(chosen.values(), key=lambda e: e.qualname)


def _params(entries):
    return [pytest.param(e, id=_short(e.qualname)) for e in entries]


CLASSES_AND_FUNCTIONS = _unique(
    ("class", "function", "keras_other", *conformance.KERAS_KINDS)
)
OWN = [e for e in CLASSES_AND_FUNCTIONS if conformance.is_own(e.obj)]
KERAS_CLASSES = [e for e in OWN if conformance.is_keras_class(e.obj)]
# Keras serializes losses, metrics, layers, models and optimizers, never
# callbacks (`keras.callbacks.Callback` has no `get_config`, and
# `register_keras_serializable` refuses a class without one): callbacks are
# checked by their own tests and the conformance cases below.
SERIALIZABLE_CLASSES = [
    e for e in KERAS_CLASSES if conformance.classify(e.obj) != "callback"
]
OTHERS = [  # constants, and classes or functions from other packages
    e
    for e in PUBLIC
    if conformance.classify(e.obj) == "constant"
    or (
        conformance.classify(e.obj) not in ("module", "constant")
        and not conformance.is_own(e.obj)
    )
]


def test_the_walk_finds_the_public_modules():
    names = {m.__name__ for m in conformance.public_modules()}
    for expected in ("losses", "metrics", "layers", "models", "callbacks", "data"):
        assert f"keras_imbalance.{expected}" in names
    assert not any("._" in name for name in names), names
    assert len(KERAS_CLASSES) >= 30, [e.name for e in KERAS_CLASSES]


@pytest.mark.parametrize(
    "entry", [pytest.param(e, id=_short(e.qualname)) for e in PUBLIC]
)
def test_name_exists(entry):
    assert entry.obj is not conformance.MISSING, (
        f"{entry.qualname} is in `{entry.module}.__all__` but the module has no "
        "such attribute"
    )


def test_all_lists_have_no_duplicates():
    for module in conformance.public_modules():
        names = list(getattr(module, "__all__", ()))
        assert len(names) == len(set(names)), module.__name__


@pytest.mark.parametrize("entry", _params(SERIALIZABLE_CLASSES))
def test_keras_class_is_registered_serializable(entry):
    conformance.check_registered(entry.obj)


@pytest.mark.parametrize("entry", _params(OWN))
def test_docstring_has_an_example(entry):
    assert entry.name not in NO_EXAMPLE, (
        f"{entry.qualname} is a class or function of the package: NO_EXAMPLE "
        "is for constants and third-party objects only; give it an example"
    )
    doc = inspect.getdoc(entry.obj) or ""
    assert doc.strip(), f"{entry.qualname} has no docstring"
    assert ">>>" in doc, f"the docstring of {entry.qualname} has no `>>>` example"


@pytest.mark.parametrize(
    "entry", [pytest.param(e, id=_short(e.qualname)) for e in OTHERS]
)
def test_constants_and_re_exports_are_allow_listed(entry):
    assert entry.name in NO_EXAMPLE, (
        f"{entry.qualname} ({type(entry.obj).__name__}) is a constant or comes "
        "from another package: add it to NO_EXAMPLE in tests/test_public_api.py "
        "with the reason it has no example of its own"
    )


def test_no_example_has_no_stale_entries():
    listed = {e.name for e in OTHERS}
    assert set(NO_EXAMPLE) <= listed, set(NO_EXAMPLE) - listed


def _api_table():
    """The rows of README's API table (the "What is in it" section)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## What is in it", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 10, "README's API table was not found"
    return "\n".join(rows)


def spellings(obj):
    """How README may name `obj`: `module.name` for each module exporting it."""
    found = set()
    for entry in PUBLIC:
        if entry.obj is obj:
            module = _short(entry.module)
            found.add(
                entry.name
                if module == conformance.PACKAGE
                else module + "." + entry.name
            )
    return found


@pytest.mark.parametrize("entry", _params(OWN))
def test_readme_api_table_names_it(entry):
    table = _api_table()
    names = sorted(spellings(entry.obj))
    assert any(
        re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", table) for name in names
    ), f"README.md's API table names none of {names}: add a row or a mention"


CONFIG_KEY_CLASSES = [
    e for e in OWN if inspect.isclass(e.obj) and hasattr(e.obj, "_config_keys")
]


def _init_arguments(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {
        p.name
        for p in parameters
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        and p.name not in ("self", "name", "dtype")
    }


def test_config_key_classes_are_found():
    assert len(CONFIG_KEY_CLASSES) >= 10, [e.name for e in CONFIG_KEY_CLASSES]


@pytest.mark.parametrize("entry", _params(CONFIG_KEY_CLASSES))
def test_config_keys_are_the_init_arguments(entry):
    cls = entry.obj
    # The base class that introduced `_config_keys` handles its own
    # arguments (`reduction` for the losses: Keras' `Loss.get_config` has it).
    root = next(k for k in reversed(cls.__mro__) if "_config_keys" in vars(k))
    base_arguments = _init_arguments(root)
    keys = list(cls._config_keys)
    assert len(keys) == len(set(keys)), f"{cls.__name__}._config_keys repeats a key"
    want = _init_arguments(cls) - base_arguments
    assert set(keys) == want, (
        f"{cls.__name__}._config_keys: missing {sorted(want - set(keys))}, "
        f"not arguments of __init__ {sorted(set(keys) - want)}"
    )


# ---------------------------------------------------- conformance checks

# Kinds whose generic checks run here; the others have their own files:
# tests/losses, tests/layers and tests/models test_conformance.py.
KINDS_HERE = ("metric", "callback", "optimizer")


def test_every_public_keras_class_has_a_conformance_case():
    problems = [
        p for kind in conformance.KERAS_KINDS for p in conformance.missing_cases(kind)
    ]
    problems += conformance.unknown_kinds()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("check,case", conformance.check_params(KINDS_HERE))
def test_conformance(check, case, tmp_path):
    conformance.run_check(check, case, tmp_path)


# ------------------------------------------- the harness catches failures


class _Unregistered(keras.layers.Layer):
    """Not registered, and `from_config(get_config())` is another layer."""

    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units + 1  # stored shifted: the round trip drifts

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def call(self, x):
        return x * self.units


def test_harness_rejects_an_unregistered_class_and_a_drifting_config():
    with pytest.raises(AssertionError, match="not registered"):
        conformance.check_registered(_Unregistered)
    with pytest.raises(AssertionError):
        conformance.check_config_round_trip(_Unregistered(units=3))


def test_harness_names_a_public_class_without_a_case(monkeypatch):
    classes = dict(conformance.public_keras_classes("layer"))
    classes["BrandNewLayer"] = _Unregistered
    monkeypatch.setattr(  # where `missing_cases` looks it up
        "tests.conformance.case_tables.public_keras_classes",
        lambda kind=None: classes,
    )
    problems = conformance.missing_cases("layer")
    assert any("BrandNewLayer" in p and "add an entry" in p for p in problems), problems
