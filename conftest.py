"""Test-session settings shared by the test suite and the doctests."""

import os
import sys

import pytest

# Shared check helpers imported by several test files: rewrite their asserts
# too, so a failure inside them shows the values compared.
pytest.register_assert_rewrite(
    "tests.conformance",
    "tests.metrics_checks",
    "tests.data.sampling_fixtures",
    "tests.models.decoupling_fixtures",
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("PYTHONHASHSEED", "0")
# Notebooks (run with `--nbmake`) read this: each runs its smoke setting in the
# tests (fewer epochs and samples; its closing assertions still hold), the full
# setting for a reader. The kernel subprocess inherits this environment.
os.environ.setdefault("KERAS_IMBALANCE_NOTEBOOK_SMOKE", "1")
# ... and imports this checkout's `keras_imbalance`, installed or not (the
# kernel starts in notebooks/, where the package is not on sys.path).
_ROOT = os.path.dirname(os.path.abspath(__file__))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p
)


# --------------------------------------------------------------- test tiers
#
# `python -m pytest -n 2 -m "not slow"` is the quick tier (a few minutes on two
# cores); `python -m pytest -n 2` runs everything. A test is marked `slow` when it
# takes about a second or more on such a machine: it trains or compiles models
# beyond a step, runs a subprocess, or builds a keras.applications backbone.
# Test files mark their own slow tests (`@pytest.mark.slow`, or
# `pytestmark = pytest.mark.slow` for a file that is nearly all slow); the
# notebooks, and the test files listed below, are marked here.

# File -> its slow tests (`Class`, `Class::test` or `test`), or "*" for all:
# the model test files, whose slow tests are whole classes, are marked here
# (one table to read when the tiers are re-balanced).
SLOW_TESTS = {
    "tests/models/test_transfer.py": (
        "TestBuild",
        "TestUnfreeze",
        "TestErrors::test_unknown_sizes_allowed_when_large_enough",
    ),
    "tests/models/test_transfer_saving.py": (
        "TestWeightsFile",
        "TestSerialization::test_keras_and_saved_model",
    ),
    "tests/models/test_builders.py": (
        "TestAttentionClassifier::test_input_ranks_and_attention",
        "TestAttentionClassifier::test_cosine_head_and_residual_backbone",
        "TestMultiBranch::test_fusion_modes",
        "TestMultiBranch::test_named_inputs_with_auxiliary_heads",
        "TestBilateralBranchNetwork::test_bbn_loss_and_cumulative_schedule",
        "TestBilateralBranchNetwork::test_train_model_keras_round_trip",
    ),
    "tests/models/test_decoupling.py": "*",
    "tests/models/test_decoupling_layers.py": "*",
}


def _is_slow(item):
    if item.path.suffix == ".ipynb":
        return True  # a notebook trains every model it shows
    try:
        relative = item.path.relative_to(_ROOT).as_posix()
    except ValueError:  # a test outside this checkout
        return False
    slow = SLOW_TESTS.get(relative)
    if slow is None:
        return False
    if slow == "*":
        return True
    parts = [part.split("[")[0] for part in item.nodeid.split("::")[1:]]
    prefixes = {"::".join(parts[: i + 1]) for i in range(len(parts))}
    return not prefixes.isdisjoint(slow)


def _missing_notebook_data(path):
    """Why the notebook at `path` cannot run on this machine, or None.

    Notebook 05 reads Fashion-MNIST offline, as `load_fashion_mnist_lt` finds
    it (`.ci/run` installs the Debian package); elsewhere it is skipped, as
    the real-data tests are, rather than trying a download."""
    if path.name != "05_transfer_learning.ipynb":
        return None
    from keras_imbalance.datasets import _fashion_mnist as fashion

    folders = [os.environ.get(fashion.ENV_VAR), fashion.keras_cache_dir()]
    folders.append(fashion.SYSTEM_DIR)
    if any(folder and fashion.find_files(folder) for folder in folders):
        return None
    return (
        "needs the Fashion-MNIST files: apt-get install dataset-fashion-mnist "
        f"(into {fashion.SYSTEM_DIR}) or set ${fashion.ENV_VAR}"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
        if item.path.suffix == ".ipynb":
            reason = _missing_notebook_data(item.path)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True, scope="module")
def _fresh_keras_state_per_module():
    """Each test module leaves Keras' global state (layer name counters, graph
    caches, the dtype policy) behind it: later modules start clean, and the
    session does not slow down as the models of earlier modules pile up."""
    yield
    keras = sys.modules.get("keras")  # never import Keras for a module that did not
    if keras is not None and hasattr(keras, "backend"):
        keras.backend.clear_session()
