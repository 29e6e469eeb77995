"""Run code, or the quick tests, in a child Python process on another backend.

Some checks need a process of their own: another Keras backend
(`KERAS_BACKEND` is read once, at import), logical devices configured before
TensorFlow initialises, or host devices set by `XLA_FLAGS` before JAX starts.
The child prints one line `REPORT{json}` (the last one counts); the test
asserts on the parsed object. A child that fails shows the end of its stderr.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["MARK", "PACKAGES", "ROOT", "child_pytest", "child_report"]

ROOT = Path(__file__).resolve().parents[1]
MARK = "REPORT"
# The other Keras backends a child runs on, and the package each needs.
PACKAGES = {"jax": "jax", "torch": "torch"}


def child_report(code, *, args=(), cwd=None, timeout=600, **env):
    """The report of `code` run by a new interpreter (`sys.argv[1:]` = `args`),
    with `env` set.

    The child imports this checkout's `keras_imbalance` (its root leads
    `PYTHONPATH`) and runs in `cwd` (the checkout by default), with
    TensorFlow's C++ log quiet.
    """
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **env)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [s for s in done.stdout.splitlines() if s.startswith(MARK)]
    assert lines, f"the child printed no {MARK} line: {done.stdout[-2000:]}"
    return json.loads(lines[-1][len(MARK) :])


def child_pytest(backend, paths, timeout=1800):
    """Run the quick tests (`-m "not slow"`) of `paths` on a Keras backend.

    One child `pytest` with `KERAS_BACKEND=backend`, without xdist and
    without the doctests and notebooks of the parent's `addopts`; fails,
    with the end of the child's output, unless every collected test passed
    or was skipped with its reason.
    """
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:xdist"]
    command += ["-o", "addopts=-p no:cacheprovider --strict-markers", *paths]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    summary = done.stdout.strip().splitlines()[-1:] or [""]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in summary[0] and "failed" not in summary[0], summary
