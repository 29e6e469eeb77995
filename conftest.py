"""Test-session settings shared by the test suite and the doctests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("PYTHONHASHSEED", "0")
# Notebooks (run with `--nbmake`) read this: 2 epochs per model in the tests,
# 30 for a reader. The kernel subprocess inherits this process's environment.
os.environ.setdefault("KERAS_IMBALANCE_NOTEBOOK_EPOCHS", "2")
# ... and imports this checkout's `keras_imbalance`, installed or not (the
# kernel starts in notebooks/, where the package is not on sys.path).
_ROOT = os.path.dirname(os.path.abspath(__file__))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p
)
