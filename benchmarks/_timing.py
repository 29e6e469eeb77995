"""Timing and reporting helpers shared by the benchmark scripts.

* `paired_rounds`: interleaved A B / B A rounds of one training step each and
  the median of the per-round ratios with a distribution-free confidence
  interval (a drift of a shared machine that lasts longer than a round hits
  both sides alike);
* `machine_info`, `loadavg`: the machine a run was on;
* `write_section`: each script owns one section of `docs/benchmarks.md`,
  between `<!-- KEY:start -->` and `<!-- KEY:end -->`, and rewrites only that;
* `add_pair_args`, `check_pair_args`, `fill_defaults`, `comma_choices`: the
  command-line options the scripts share.
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


def machine_lines(info, load_start, load_end, runtime):
    """The "## Machine" section of a benchmark's report, as markdown lines."""
    return [
        "## Machine",
        "",
        f"* Date: {info['date']}",
        f"* CPU: {info['cpu']}; {info['device']}",
        f"* {info['versions']}",
        f"* OS: {info['os']}",
        f"* Load average (1/5/15 min) at start: {load_start}; at end: {load_end}",
        f"* Total runtime of the run: {runtime / 60:.1f} min",
    ]


def process_memory(field):
    """A size field of /proc/self/status (`"VmRSS"`, `"VmHWM"`) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def reset_peak_memory():
    """Reset the process's peak RSS (VmHWM); False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


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


# --- command-line options shared by the scripts ---------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
MODES = {"graph": False, "xla": True}


def add_pair_args(parser, what):
    """`--seconds-per-pair`, `--min-rounds`, `--warmup-steps` and `--modes`."""
    parser.add_argument(
        "--seconds-per-pair", type=float, help=f"timed seconds per {what} pair"
    )
    parser.add_argument("--min-rounds", type=int, help="fewest rounds per pair")
    parser.add_argument("--warmup-steps", type=int, help="untimed steps per model")
    parser.add_argument(
        "--modes", default="graph,xla", help="comma-separated subset of graph,xla"
    )


def fill_defaults(args, quick, full):
    """Options left unset take the `quick` or `full` value; a full run writes
    `docs/benchmarks.md` unless `--output` says otherwise."""
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.output is None and not args.quick:
        args.output = str(DOC)


def comma_choices(parser, value, allowed, what):
    """The names of a comma-separated option, each one of `allowed`."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in allowed]
    if unknown:
        parser.error(f"unknown {what} {unknown}; choose from {list(allowed)}")
    return names


def check_pair_args(parser, args):
    """Validate the options of `add_pair_args` (after `fill_defaults`)."""
    args.modes = comma_choices(parser, args.modes, MODES, "mode(s)")
    if args.min_rounds < 1 or args.seconds_per_pair <= 0 or args.warmup_steps < 0:
        parser.error(
            "need --min-rounds >= 1, --seconds-per-pair > 0, --warmup-steps >= 0"
        )
