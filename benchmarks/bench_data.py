"""Speed and memory of the re-sampling and augmentation pipelines.

All rows use the same data, built once per run (and rebuilt identically in
the memory subprocesses): 100,000 samples x 64 float32 features, 10 classes
with an exponential long-tail profile at imbalance ratio 100 (class `c` has
about `n_max * 100^(-c/9)` samples; 40,297 down to 402), shuffled; the
features are Gaussian around a random centre per class.

1. **Iteration alone** (samples/s, Python loop over the batches, batch 256):
   `balanced_dataset(x, y, batch_size=256)` against the plain pipeline
   `from_tensor_slices((x, y)).shuffle(n).batch(256).prefetch(AUTOTUNE)`
   (bar: at least 2x its samples/s), reported beside
   `imblearn.keras.BalancedBatchGenerator(x, y, sampler=RandomOverSampler(),
   batch_size=256)`. Each side iterates one full epoch per round, in
   interleaved rounds with a rotating order; set-up (building the dataset or
   the generator) is timed apart.
2. **End to end** (set-up included): build the input, build and compile a
   small MLP (64-64-10, Adam), `fit` 3 epochs; `balanced_dataset` against
   that imblearn generator (bar: ours at least as fast, ratio >= 1).
   Both sides train on the same number of batches: an imblearn epoch is
   `len(generator)` batches (the over-sampled set, ~4x the data), so
   `balanced_dataset` gets `steps_per_epoch=len(generator)`.
3. **Peak memory** of building and iterating one epoch, at imbalance ratios
   10, 100 and 1000 (same n, d and profile), each in a fresh subprocess:
   after the data exist and TensorFlow and imblearn have run once, the
   peak-RSS mark is reset (`/proc/self/clear_refs`, else `ru_maxrss` is
   used as is), and the row reports the peak RSS above the RSS at that
   point: `balanced_dataset` against `RandomOverSampler().fit_resample`
   (then slicing batches from the materialised copy) and against
   `BalancedBatchGenerator` (which keeps only the over-sampled indices,
   after a `fit_resample` that materialises the copy once).
4. **Class-aware augmentation** (images/s): the same data as 8x8x1 images,
   batched by 256; `augment_minority(ds, default_image_augmenter(seed=0),
   class_counts=...)` against `ds.map(lambda x, y: (augmenter(x,
   training=True), y))`, which augments every sample.

Usage (from the repository root)::

    python benchmarks/bench_data.py           # ~4-6 min, updates docs/benchmarks.md
    python benchmarks/bench_data.py --quick   # ~2 min smoke run, prints only
    python benchmarks/bench_data.py --only iterate,memory
"""

import argparse
import sys
import time

from _data_common import MEMORY_RATIOS, PARTS, RATIO, SECTION, make_data, quiet
from _data_parts import (
    augment_part,
    fit_part,
    iterate_part,
    memory_child,
    memory_part,
)
from _data_report import render
from _timing import comma_choices, fill_defaults, loadavg, machine_info, write_section

__all__ = ["main", "parse_args"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run, print only")
    parser.add_argument("--output", help="markdown file to update")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--rounds", type=int, help="rounds of part 1")
    parser.add_argument("--fit-rounds", type=int, help="runs per side, part 2")
    parser.add_argument("--augment-rounds", type=int, help="rounds of part 4")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-child", nargs=2, metavar=("METHOD", "RATIO"))
    args = parser.parse_args(argv)
    fill_defaults(
        args,
        quick={"rounds": 3, "fit_rounds": 1, "augment_rounds": 1},
        full={"rounds": 11, "fit_rounds": 3, "augment_rounds": 3},
    )
    args.only = comma_choices(parser, args.only, PARTS, "part(s)")
    args.memory_ratios = MEMORY_RATIOS
    return args


def main(argv=None):
    args = parse_args(argv)
    quiet()
    if args.memory_child:
        method, ratio = args.memory_child
        memory_child(method, int(ratio), args.batch_size, args.seed)
        return
    started = time.perf_counter()
    load_start = loadavg()
    x, y, counts = make_data(RATIO, args.seed)
    results = {}
    parts = {
        "iterate": lambda: iterate_part(x, y, args),
        "fit": lambda: fit_part(x, y, args),
        "memory": lambda: memory_part(args),
        # Last: its module is the newest.
        "augment": lambda: augment_part(x, y, counts, args),
    }
    for name, part in parts.items():
        if name not in args.only:
            continue
        t = time.perf_counter()
        results[name] = part()
        summary = results[name]
        if isinstance(summary, dict):
            keep = ("ratio", "rate", "error")
            summary = {k: v for k, v in summary.items() if k in keep}
        print(
            f"[{name}] {summary} [{time.perf_counter() - t:.0f}s]",
            file=sys.stderr,
            flush=True,
        )
    runtime = time.perf_counter() - started
    text = render(results, counts, machine_info(), args, runtime, load_start, loadavg())
    if args.output:
        write_section(args.output, SECTION, text)
        print(f"wrote {args.output} (total {runtime:.0f} s)", file=sys.stderr)
    else:
        print(text)
        print(f"total {runtime:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
