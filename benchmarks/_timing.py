"""Timing and reporting helpers shared by the benchmark scripts.

* `paired_rounds`: interleaved A B / B A rounds of one training step each and
  the median of the per-round ratios with a distribution-free confidence
  interval (a drift of a shared machine that lasts longer than a round hits
  both sides alike);
* `machine_info`, `loadavg`: the machine a run was on;
* `write_section`: each script owns one section of `docs/benchmarks.md`,
  between `<!-- KEY:start -->` and `<!-- KEY:end -->`, and rewrites only that.
"""

import datetime
import os
import platform
import statistics
import time
from pathlib import Path


def time_steps(entry, steps):
    """Mean seconds per step over `steps` consecutive training steps.

    `entry` is `(model, x, y)`; `model.train_on_batch` returns NumPy logs, so
    each step is finished before the next starts.
    """
    model, x, y = entry
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / max(steps, 1)


def median_ci(values, z=1.96):
    """Median and a distribution-free ~95% confidence interval for it.

    The interval is the pair of order statistics at ranks
    `n/2 -+ z*sqrt(n)/2` (normal approximation to the binomial).
    """
    ordered = sorted(values)
    n = len(ordered)
    half = z * n**0.5 / 2
    lo = max(0, int(n / 2 - half))
    hi = min(n - 1, int(n / 2 + half + 0.5))
    return statistics.median(ordered), ordered[lo], ordered[hi]


def paired_rounds(a, b, *, warmup_steps, seconds, min_rounds):
    """Time entries `a` and `b` in interleaved rounds of one step each.

    Returns `{"a_ms", "b_ms", "ratio", "ci", "rounds"}`: the median step times
    of each side, the median of the per-round ratios a / b and its ~95%
    confidence interval, and the number of rounds (at least `min_rounds`,
    about `seconds` of timed steps).
    """
    time_steps(a, warmup_steps)
    time_steps(b, warmup_steps)
    per_step = min(time_steps(a, 1) + time_steps(b, 1) for _ in range(2))
    rounds = max(min_rounds, round(seconds / per_step))
    times_a, times_b, ratios = [], [], []
    for r in range(rounds):
        if r % 2 == 0:
            ta = time_steps(a, 1)
            tb = time_steps(b, 1)
        else:
            tb = time_steps(b, 1)
            ta = time_steps(a, 1)
        times_a.append(ta)
        times_b.append(tb)
        ratios.append(ta / tb)
    ratio, lo, hi = median_ci(ratios)
    return {
        "a_ms": statistics.median(times_a) * 1e3,
        "b_ms": statistics.median(times_b) * 1e3,
        "ratio": ratio,
        "ci": (lo, hi),
        "rounds": rounds,
    }


def machine_info():
    import keras
    import numpy as np
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "device": f"{len(gpus)} GPU(s)" if gpus else "CPU only (no GPU visible)",
        "versions": (
            f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__} (backend {keras.backend.backend()}), "
            f"NumPy {np.__version__}"
        ),
        "os": platform.platform(),
    }


def loadavg():
    try:
        return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except (AttributeError, OSError):
        return "n/a"


def markers(key):
    return f"<!-- {key}:start -->", f"<!-- {key}:end -->"


def write_section(path, key, text):
    """Replace the `key` section of the markdown file `path` with `text`.

    The section is the text between `<!-- key:start -->` and
    `<!-- key:end -->`; everything else in the file is kept byte for byte. A
    file without that section gets it appended (a missing file is created).
    """
    path = Path(path)
    start, end = markers(key)
    section = f"{start}\n{text.rstrip()}\n{end}\n"
    old = path.read_text() if path.exists() else ""
    i, j = old.find(start), old.find(end)
    if i >= 0 and j > i:
        tail = old[j + len(end) :].lstrip("\n")
        new = old[:i] + section + ("\n" + tail if tail else "")
    elif old.strip():
        new = old.rstrip("\n") + "\n\n" + section
    else:
        new = section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
