"""Keep TensorFlow's C++ start-up lines out of the command's output.

TensorFlow prints a few log lines from C++ while it loads (the absl
pre-initialisation notice, oneDNN and CUDA probes), before any Python code
can stop them and whatever `TF_CPP_MIN_LOG_LEVEL` says; on a terminal they
land inside the progress bar. The command imports Keras (and so TensorFlow)
with the process's standard error pointed at a temporary file, then puts
back whatever was not such a log line.
"""

import contextlib
import os
import re
import sys
import tempfile

# The command's implementation: no public API here (the entry point is
# `keras_imbalance.cli.main`); the names are imported by the other cli modules.
__all__ = []

_TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]"
    r"|To enable the following instructions:)"
)


@contextlib.contextmanager
def _stderr_to_file():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield capture
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in capture.read().decode("utf-8", "replace").splitlines()
                if not _TF_LOG_LINE.match(line)
            ]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def import_keras_quietly():
    """Import Keras, its backend and `keras_imbalance`'s core, quietly."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return
    with _stderr_to_file():
        import keras  # noqa: F401

        if keras.config.backend() == "tensorflow":
            import tensorflow as tf

            # The first op starts the CPU/GPU runtimes, which log too.
            tf.constant(0.0) + 1.0
    import logging

    # tf.function retracing notices etc. (expected: one model per run).
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
