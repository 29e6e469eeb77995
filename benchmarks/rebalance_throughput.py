"""Throughput of `rebalance` on streams: build time, elements/s, peak memory.

    python benchmarks/rebalance_throughput.py --quick   # ~1 min smoke run, prints
    python benchmarks/rebalance_throughput.py           # full run, writes the doc
    python benchmarks/rebalance_throughput.py --baseline REV --baseline-seconds 300

Each case runs in a fresh subprocess, so that its peak memory is its own. A
case builds a generated long-tailed stream of `N` elements `(x, y)`, `x` 16
float32 features, labels shuffled, with class counts of the exponential
profile `n_c ∝ ratio ** (-c / (C - 1))` scaled to about `N`, then times:

* **build**: the `rebalance(...)` call itself (`class_counts` given, so no
  counting pass);
* **first batch**: from `iter(...)` to the first batch of 256 (the iterator's
  set-up, the epoch's draws and the shuffle buffer's first fill);
* **elements/s**: full epochs of `.batch(256)` batches, iterated from
  Python (a batch costs one Python step, not an element); the median over
  the epochs after the first;
* **peak RSS**: the process's peak resident memory (`VmHWM`), and how far it
  rose above the resident memory just before the build (data and
  TensorFlow already loaded).

Sources: `from_tensor_slices` of in-memory arrays (known length) and
`from_generator` (unknown length, one Python call per element, which caps
the rate by itself); each stream read as it is (`.batch(256)`, no
`rebalance`) is a reference row. `--baseline REV` also runs the
`rebalance` of the git revision `REV` (its `keras_imbalance/data/
sampling.py`) on the same streams, read an element at a time and stopped
`--baseline-seconds` after its first element.
"""

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import (
    loadavg,
    machine_info,
    machine_lines,
    process_memory,
    reset_peak_memory,
    write_section,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "resampling_throughput.md"
SECTION = "rebalance_throughput"
FEATURES = 16
BATCH = 256
# (name, classes, imbalance ratio, source)
CASES = [
    ("C10", 10, 100, "slices"),
    ("C100", 100, 100, "slices"),
    ("C1000", 1000, 1000, "slices"),
    ("C1000-generator", 1000, 1000, "generator"),
]


def quiet():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def long_tail_counts(num_classes, ratio, total):
    import numpy as np

    if num_classes == 1:
        return np.array([total])
    profile = float(ratio) ** (-np.arange(num_classes) / (num_classes - 1))
    return np.maximum(1, np.round(profile / profile.sum() * total)).astype("int64")


def make_stream(num_classes, ratio, total, source, seed=0):
    import numpy as np
    import tensorflow as tf

    counts = long_tail_counts(num_classes, ratio, total)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(num_classes), counts))
    x = rng.standard_normal((y.size, FEATURES)).astype("float32")
    if source == "slices":
        return tf.data.Dataset.from_tensor_slices((x, y)), counts

    def generate():
        yield from zip(x, y)

    signature = (
        tf.TensorSpec((FEATURES,), tf.float32),
        tf.TensorSpec((), tf.int64),
    )
    return tf.data.Dataset.from_generator(generate, output_signature=signature), counts


def _peak():
    peak = process_memory("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return peak


def load_baseline(rev):
    """The `rebalance` of `keras_imbalance/data/sampling.py` at git `rev`."""
    source = subprocess.run(
        ["git", "show", f"{rev}:keras_imbalance/data/sampling.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "baseline_sampling.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("baseline_sampling", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module.rebalance


def child(case, impl, total, epochs, seconds, buffer, rev):
    """Runs in a subprocess; prints one JSON line."""
    quiet()
    from keras_imbalance.data import rebalance

    name, num_classes, ratio, source = case
    function = load_baseline(rev) if impl == "baseline" else rebalance
    # One-off allocations of TensorFlow and of the function, on a tiny stream.
    small, small_counts = make_stream(4, 4, 64, "slices")
    kwargs = {"shuffle_buffer": buffer} if impl == "new" else {}
    for _ in function(small, num_classes=4, class_counts=small_counts, seed=0):
        pass
    stream, counts = make_stream(num_classes, ratio, total, source)
    n = int(counts.sum())
    reset = reset_peak_memory()
    before = process_memory("VmRSS")
    result = {"case": name, "impl": impl, "classes": num_classes, "ratio": ratio}
    result.update(source=source, n=n, peak_method="VmHWM" if reset else "ru_maxrss")
    start = time.perf_counter()
    if impl == "stream":
        out = stream
    else:
        out = function(
            stream, num_classes=num_classes, class_counts=counts, seed=0, **kwargs
        )
    result["build_s"] = time.perf_counter() - start
    # The baseline is read an element at a time: at its rates (under a
    # thousand a second) Python costs nothing, and the time limit can stop
    # it between elements.
    batches = out.batch(1 if impl == "baseline" else BATCH)
    rates, first, seen = [], None, 0
    deadline, stopped = None, False
    for epoch in range(epochs):
        start = time.perf_counter()
        count = 0
        for _, yb in batches:
            count += int(yb.shape[0])
            seen += int(yb.shape[0])
            now = time.perf_counter()
            if first is None:
                first = now - start
                if seconds:
                    # A partial epoch is timed from its first element on.
                    deadline, start, count = now + seconds, now, 0
            if deadline and now > deadline:
                stopped = True
                break
        elapsed = time.perf_counter() - start
        rates.append(count / elapsed)
        if stopped:
            break
        if count != n and not seconds:
            raise SystemExit(f"epoch {epoch} had {count} elements, expected {n}")
    result["first_batch_s"] = first
    result["epoch_rates"] = rates
    later = rates[1:] if len(rates) > 1 and not stopped else rates
    result["elements_per_s"] = statistics.median(later)
    result["partial_epoch"] = stopped
    result["elements_read"] = seen
    result["peak_rss_mb"] = _peak() / 2**20
    result["rise_mb"] = (_peak() - before) / 2**20 if reset else None
    print(json.dumps(result))


def run_child(case, impl, args):
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        json.dumps([list(case), impl]),
        "--total",
        str(args.total),
        "--epochs",
        str(args.epochs),
        "--shuffle-buffer",
        str(args.shuffle_buffer),
    ]
    if impl == "baseline":
        command += [
            "--baseline",
            args.baseline,
            "--seconds",
            str(args.baseline_seconds),
        ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    timeout = args.baseline_seconds * 3 + 900 if impl == "baseline" else 1800
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"case": case[0], "impl": impl, "error": f"timed out after {timeout} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"case": case[0], "impl": impl, "error": tail}
    return json.loads(lines[-1])


def _fmt(value, digits=2):
    if value is None:
        return "n/a"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def render(results, info, args, runtime, load_start, load_end):
    words = {
        "new": "`rebalance` (this version)",
        "baseline": f"`rebalance` at `{args.baseline}` (per-class filters)",
        "stream": "the stream alone (reference)",
    }
    lines = [
        "# `rebalance` throughput: build time, elements/s, memory",
        "",
        "Generated by `python benchmarks/rebalance_throughput.py`; do not edit "
        "by hand, rerun the script.",
        "",
        "## What is measured",
        "",
        f"A generated long-tailed stream of about {args.total:,} elements `(x, y)` "
        f"({FEATURES} float32 features, labels shuffled; class counts "
        '`n_c ∝ ratio ** (-c / (C - 1))`), re-sampled to `sampling="balanced"` '
        f"with `class_counts` given and `shuffle_buffer={args.shuffle_buffer}`, "
        f"read in batches of {BATCH} from Python. Each row runs in its own "
        "process. **build**: the `rebalance(...)` call. **first batch**: from "
        "`iter(...)` to the first batch (iterator set-up, the epoch's draws, "
        "the buffer's first fill). **elements/s**: one full epoch at a time, "
        f"median over epochs 2-{args.epochs}. **peak RSS**: the process's peak "
        "resident memory, and its rise above the resident memory just before "
        "the build (TensorFlow and the data already loaded). `slices` is "
        "`from_tensor_slices` (known length); `generator` is `from_generator` "
        "(unknown length, one Python call per element). The reference rows read "
        "the stream alone, without `rebalance`.",
        "",
        *machine_lines(info, load_start, load_end, runtime),
        "",
        "## Results",
        "",
        "| what | classes | imbalance ratio | source | N | build s | first batch s "
        "| elements/s | peak RSS MiB | RSS rise MiB |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if "error" in r:
            lines.append(
                f"| {words[r['impl']]} | {r['case']} | | | | error: "
                f"{r['error']} | | | | |"
            )
            continue
        rate = _fmt(r["elements_per_s"])
        if r["partial_epoch"]:
            rate += f" ({r['elements_read']:,} elements read)"
        lines.append(
            f"| {words[r['impl']]} | {r['classes']} | {r['ratio']} | {r['source']} "
            f"| {r['n']:,} | {_fmt(r['build_s'])} | {_fmt(r['first_batch_s'])} "
            f"| {rate} | {_fmt(r['peak_rss_mb'], 0)} | {_fmt(r['rise_mb'], 0)} |"
        )
    lines += [
        "",
        "Wall-clock times on a small shared CPU machine: other jobs add noise "
        "(see the load average), so read the figures as orders of magnitude. "
        "The generator rows are capped by the Python generator itself; the "
        "reference rows show what reading each stream alone costs.",
    ]
    if args.baseline:
        lines += [
            "",
            "The baseline rows read batches of 1 (their first batch is their "
            "first element) and stop reading "
            f"{args.baseline_seconds:g} s after their first element; their "
            "elements/s is the rate after the first element (at these rates a "
            "full epoch would take hours). Same streams, same `seed`; for a "
            "given seed both versions draw the same per-class totals `D_c` in "
            "every epoch.",
        ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--output", help="markdown file to update")
    parser.add_argument("--total", type=int, help="elements per stream")
    parser.add_argument("--epochs", type=int, help="epochs per case")
    parser.add_argument("--shuffle-buffer", type=int, default=10_000)
    parser.add_argument("--baseline", help="git revision of an older rebalance")
    parser.add_argument("--baseline-seconds", type=float, default=120.0)
    parser.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.total is None:
        args.total = 20_000 if args.quick else 100_000
    if args.epochs is None:
        args.epochs = 2 if args.quick else 4
    if args.output is None and not args.quick and not args.child:
        args.output = str(DOC)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        case, impl = json.loads(args.child)
        child(
            tuple(case),
            impl,
            args.total,
            args.epochs,
            args.seconds,
            args.shuffle_buffer,
            args.baseline,
        )
        return
    quiet()
    load_start, start = loadavg(), time.perf_counter()
    plan = [(case, "new") for case in CASES]
    plan += [(CASES[2], "stream"), (CASES[3], "stream")]
    if args.baseline:
        plan += [(case, "baseline") for case in CASES if case[3] == "slices"]
        args.baseline = subprocess.run(
            ["git", "rev-parse", "--short", args.baseline],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    results = []
    for case, impl in plan:
        results.append(run_child(case, impl, args))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    text = render(
        results,
        machine_info(),
        args,
        time.perf_counter() - start,
        load_start,
        loadavg(),
    )
    print(text)
    if args.output:
        write_section(args.output, SECTION, text)
        print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
