"""Image folders streamed from disk: peak memory of `compare`, decode speed.

Writes long-tailed PNG folders once (`--work-dir`); runs `compare` on each
folder and on its images loaded first, in fresh processes (memory); times
`balanced_dataset` over the files against `image_dataset_from_directory`.

    python benchmarks/image_folder.py        # ~1.5 min, prints the section
    python benchmarks/image_folder.py --output docs/benchmarks.md
    python benchmarks/image_folder.py --sizes 2000,50000 --only memory
"""

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _timing
from _data_common import long_tail_counts, quiet
from _timing import comma_choices, loadavg, machine_info, machine_lines, write_section

__all__ = ["main", "parse_args"]

SCRIPT = Path(__file__).resolve()
SECTION = "image_folder"  # its part of docs/benchmarks.md, between marker comments
PARTS = ("memory", "throughput")
CLASSES, RATIO, SIDE = 10, 10, 32
STRATEGIES = ["balanced_sampling", "ce"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000", help="images per folder")
    parser.add_argument("--only", default=",".join(PARTS))
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--work-dir", default="/tmp/keras_imbalance_image_folders")
    parser.add_argument("--output", help="markdown file whose section to update")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    args = parser.parse_args(argv)
    args.only = comma_choices(parser, args.only, PARTS, "part(s)")
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    return args


def make_folder(work_dir, n, seed=0):
    """`work_dir/lt{n}`: n PNGs in class subfolders, written once."""
    import numpy as np
    from PIL import Image

    counts = [int(c) for c in long_tail_counts(n, CLASSES, RATIO)]
    folder = Path(work_dir) / f"lt{n}"
    spec = {"counts": counts, "side": SIDE, "seed": seed, "version": 1}
    done = folder / ".complete.json"
    if done.exists() and json.loads(done.read_text()) == spec:
        return folder, counts
    print(f"[data] writing {n} PNGs into {folder}", file=sys.stderr, flush=True)
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (CLASSES, 3))
    for label, count in enumerate(counts):
        sub = folder / f"class_{label}"
        sub.mkdir(parents=True, exist_ok=True)
        noise = rng.integers(0, 256, (count, SIDE, SIDE, 3))
        for i, image in enumerate(((colours[label] + noise) // 2).astype("uint8")):
            Image.fromarray(image).save(sub / f"{i:05d}.png")
    done.write_text(json.dumps(spec))
    return folder, counts


def child(mode, folder, batch_size):
    """One `compare` in this process; prints a JSON line of its memory."""
    from keras_imbalance.comparison import compare
    from keras_imbalance.datasets import load_image_folder
    from keras_imbalance.models import model_factory

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    row = {"after_imports": _timing.process_memory("VmRSS") / 2**20, "load_s": 0.0}
    start, data, size = time.perf_counter(), folder, (SIDE, SIDE)
    if mode == "arrays":
        loaded = load_image_folder(folder, image_size=size)
        (files, y), (files_test, y_test) = loaded["train"], loaded["test"]
        data, size = ((files.load(), y), (files_test.load(), y_test)), None
        row["load_s"] = time.perf_counter() - start
    row["peak_before"] = peak()
    model = model_factory("small_cnn", width=8, depth=2)
    kw = {"epochs": 1, "batch_size": batch_size, "seeds": (0,)}
    compare(STRATEGIES, data=data, image_size=size, model=model, **kw)
    row.update(peak=peak(), compare_s=time.perf_counter() - start - row["load_s"])
    print(json.dumps(row))


def memory_part(args, folders):
    rows = []
    for n, (folder, _) in folders.items():
        for mode in ("files", "arrays"):
            command = [sys.executable, SCRIPT, "--child", mode, folder]
            command += ["--batch-size", str(args.batch_size)]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"child {mode} {n} failed:\n{done.stderr[-3000:]}")
            rows.append({"n": n, "mode": mode, "wall": time.perf_counter() - start})
            rows[-1].update(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"[memory] {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def pipelines(folder, batch_size):
    """Name -> a function building the dataset (one epoch per pass)."""
    import tensorflow as tf
    from keras.utils import image_dataset_from_directory

    from keras_imbalance.data import ImageFiles, balanced_dataset
    from keras_imbalance.datasets import list_image_folder

    listing, size, auto = list_image_folder(folder), (SIDE, SIDE), tf.data.AUTOTUNE
    files, labels = ImageFiles(listing["paths"], image_size=size), listing["labels"]

    def per_element():  # the same draws, as paths, each decoded in its own map
        drawn = balanced_dataset(files.paths, labels, batch_size=batch_size, seed=0)
        ds = drawn.unbatch().map(lambda p, y: (files.decode(p), y), auto)
        ds = ds.batch(batch_size).prefetch(auto)
        return ds.apply(tf.data.experimental.assert_cardinality(len(drawn)))

    return {
        "ours": lambda: balanced_dataset(files, labels, batch_size=batch_size, seed=0),
        "peer": lambda: image_dataset_from_directory(
            folder, image_size=size, batch_size=batch_size, shuffle=True, seed=0,
            verbose=False,
        ).prefetch(auto),
        "per-element": per_element,
    }  # fmt: skip


def one_epoch(dataset):
    start, images = time.perf_counter(), 0
    for x, _ in dataset:
        images += int(x.shape[0])
    return images / (time.perf_counter() - start)


def throughput_part(args, folder):
    made, rows, datasets = pipelines(folder, args.batch_size), {}, {}
    for name, build in made.items():
        start = time.perf_counter()
        datasets[name] = build()
        rows[name] = {"setup": time.perf_counter() - start, "rates": []}
        rows[name]["cold"] = one_epoch(datasets[name])
    for r in range(args.rounds):
        for name in list(made) if r % 2 == 0 else list(made)[::-1]:
            rows[name]["rates"].append(one_epoch(datasets[name]))
    for name, row in rows.items():
        ratios = [a / b for a, b in zip(row["rates"], rows["peer"]["rates"])]
        row.update(rate=statistics.median(row["rates"]), lo=min(ratios))
        row.update(ratio=statistics.median(ratios), hi=max(ratios))
        print(f"[throughput] {name} {row}", file=sys.stderr, flush=True)
    return rows


LABELS = {
    "ours": "`balanced_dataset(files, labels, batch_size=64, seed=0)`",
    "peer": "peer: `image_dataset_from_directory(folder, image_size=(32, 32), "
    "batch_size=64, shuffle=True, seed=0).prefetch(AUTOTUNE)`",
    "per-element": "prototype (not library code): `balanced_dataset(paths, ...)`"
    ", then `.unbatch().map(decode, AUTOTUNE).batch(64)`",
}
HEAD = """# Image folders streamed from disk

Generated by `{command}`; do not edit by hand, rerun the script.

## Data

Synthetic PNGs written by the script: 10 class subfolders, exponential long-tail
profile at imbalance ratio 10, 32x32 RGB (a colour per class plus uniform noise,
about 3 KiB a file). Class counts: {counts}. `compare` splits a folder 80/20
(stratified, seed 0) and holds 10% of the train split out for validation.
"""
MEMORY = """## 1. Peak memory of `compare`

Each row is a fresh process running `compare({strategies}, data=...,
model=model_factory("small_cnn", width=8, depth=2), epochs=1, batch_size={batch},
seeds=(0,))`. On disk: `data=FOLDER, image_size=(32, 32)` (paths; batches
decoded in `tf.data`). In memory: `ImageFiles.load()` of the train and test
splits (float32, 12 KiB an image) as `((x, y), (x_test, y_test))`. Peak: the
process's `ru_maxrss` before `compare` (after loading) and at the end.

| images | input | RSS after imports MiB | peak before `compare` MiB | peak MiB \
| peak - after imports MiB | loading s | `compare` s | wall s |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
"""
SPEED = """## 2. The input pipelines alone ({n:,} images, no model)

One epoch ({steps} batches of {batch}) per pass, consumed by a Python loop, in
one process. Cold: the first pass of each; then {rounds} interleaved rounds in
alternating order: images/s is the median over rounds, the ratio the median of
the per-round ratios to the peer (range: min-max). All decode with
`tf.io.decode_image` and resize bilinearly to 32x32; the peer yields [0, 255],
ours [0, 1]. The peer shuffles with a buffer of {buffer} paths and yields {n:,}
images an epoch; `balanced_dataset` draws class-balanced batches with
replacement ({drawn:,} images), decoding each batch of paths with `tf.map_fn`
in one `map` call.

| pipeline | set-up s | cold images/s | images/s | ratio to the peer | range |
| --- | ---: | ---: | ---: | ---: | :---: |
"""
PER_ELEMENT = """
Ratio of the medians: `balanced_dataset` / peer {:.2f}; `balanced_dataset` /
prototype (same draws, one `map` call per image instead of per batch) {:.2f}.
"""
CAVEATS = """## What this does not show

* Synthetic 3 KiB PNGs already 32x32: decoding is cheap, so per-element
  `tf.data` overhead weighs more than with real photos (larger JPEGs resized
  down), where decoding dominates both pipelines. The files were in the page
  cache: no row reads from a disk.
* Part 2 is the input pipeline alone; in training the model step comes on top.
* Peak RSS includes the TensorFlow runtime and also moves with the number of
  batches and models a run goes through, which the table does not separate
  from the number of images. One process per row, one run.
* Wall-clock times on 2 shared CPU cores; a few rounds give a median and a
  range, not a confidence interval.
"""


def memory_text(args, memory):
    text = MEMORY.format(strategies=STRATEGIES, batch=args.batch_size)
    for r in memory:
        cells = [f"{r['n']:,}", "on disk" if r["mode"] == "files" else "in memory"]
        cells += [f"{r[k]:.0f}" for k in ("after_imports", "peak_before", "peak")]
        cells.append(f"{r['peak'] - r['after_imports']:.0f}")
        cells += [f"{r[k]:.1f}" for k in ("load_s", "compare_s", "wall")]
        text += "| " + " | ".join(cells) + " |\n"
    lo, hi = min(r["n"] for r in memory), max(r["n"] for r in memory)
    for mode, what in (("files", "On disk"), ("arrays", "In memory")) * (hi > lo):
        peak = {r["n"]: r["peak"] for r in memory if r["mode"] == mode}
        grew, per = peak[hi] - peak[lo], (peak[hi] - peak[lo]) * 1024 / (hi - lo)
        text += f"\n{what}, the peak grew by {grew:.0f} MiB from {lo:,} to {hi:,}"
        text += f" images ({per:.1f} KiB per added image).\n"
    return text


def speed_text(args, n, speed):
    steps = math.ceil(n / args.batch_size)
    text = SPEED.format(
        n=n, steps=steps, batch=args.batch_size, rounds=args.rounds,
        buffer=8 * args.batch_size, drawn=steps * args.batch_size,
    )  # fmt: skip
    for name, r in speed.items():
        ratio = [f"{r['ratio']:.2f}", f"{r['lo']:.2f}-{r['hi']:.2f}"]
        cells = [LABELS[name], f"{r['setup']:.2f}", f"{r['cold']:,.0f}"]
        cells += [f"{r['rate']:,.0f}", *(["-", "-"] if name == "peer" else ratio)]
        text += "| " + " | ".join(cells) + " |\n"
    ours, per = speed["ours"]["rate"], speed["per-element"]["rate"]
    return text + PER_ELEMENT.format(ours / speed["peer"]["rate"], ours / per)


def render(args, folders, memory, speed, machine):
    command = "python benchmarks/image_folder.py --sizes "
    command += ",".join(map(str, args.sizes)) + " --output docs/benchmarks.md"
    if args.only != list(PARTS):
        command += f" --only {','.join(args.only)}"
    counts = "; ".join(f"{n:,} images: {c}" for n, (_, c) in folders.items())
    parts = [HEAD.format(command=command, counts=counts), "\n".join(machine) + "\n"]
    if memory:
        parts.append(memory_text(args, memory))
    if speed:
        parts.append(speed_text(args, max(folders), speed))
    return "\n".join([*parts, CAVEATS])


def main(argv=None):
    args = parse_args(argv)
    quiet()
    if args.child:
        return child(*args.child, args.batch_size)
    started, load_start = time.perf_counter(), loadavg()
    folders = {n: make_folder(args.work_dir, n) for n in args.sizes}
    memory = memory_part(args, folders) if "memory" in args.only else None
    largest = str(folders[max(folders)][0])
    speed = throughput_part(args, largest) if "throughput" in args.only else None
    runtime = time.perf_counter() - started
    machine = machine_lines(machine_info(), load_start, loadavg(), runtime)
    machine.insert(4, f"* `nproc`: {len(os.sched_getaffinity(0))}, shared with others")
    text = render(args, folders, memory, speed, machine)
    if args.output:
        write_section(args.output, SECTION, text)
    print(f"wrote {args.output}" if args.output else text)
    print(f"total {runtime:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
