"""The four measurements of `bench_data.py` (see its docstring)."""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

from _data_common import (
    FIT_EPOCHS,
    NUM_CLASSES,
    NUM_FEATURES,
    ROOT,
    SCRIPT,
    imblearn_generator,
    make_data,
    quiet,
)
from _timing import median_ci, process_memory, reset_peak_memory

__all__ = ["augment_part", "fit_part", "iterate_part", "memory_child", "memory_part"]


# ---------------------------------------------------------------------------
# 1. Iteration alone.


def iterate_part(x, y, args):
    import tensorflow as tf

    from keras_imbalance.data.sampling import balanced_dataset

    b = args.batch_size

    t = time.perf_counter()
    ours = balanced_dataset(x, y, batch_size=b, seed=args.seed)
    setup = {"ours": time.perf_counter() - t}
    t = time.perf_counter()
    plain = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(y), seed=args.seed)
        .batch(b)
        .prefetch(tf.data.AUTOTUNE)
    )
    setup["plain"] = time.perf_counter() - t
    t = time.perf_counter()
    generator = imblearn_generator(x, y, b, args.seed)
    setup["imblearn"] = time.perf_counter() - t

    def run_dataset(ds):
        n = 0
        for _, yb in ds:
            n += int(yb.shape[0])
        return n

    def run_generator():
        n = 0
        for i in range(len(generator)):
            n += len(generator[i][1])
        return n

    runs = {
        "ours": lambda: run_dataset(ours),
        "plain": lambda: run_dataset(plain),
        "imblearn": run_generator,
    }
    for run in runs.values():  # warm-up: tracing, first shuffle buffer
        run()
    rates = {k: [] for k in runs}
    keys = list(runs)
    for r in range(args.rounds):
        order = keys[r % 3 :] + keys[: r % 3]
        for key in order:
            t = time.perf_counter()
            n = runs[key]()
            rates[key].append(n / (time.perf_counter() - t))
    ratios = [a / b for a, b in zip(rates["ours"], rates["plain"])]
    ratios_imb = [a / b for a, b in zip(rates["ours"], rates["imblearn"])]
    return {
        "setup": setup,
        "rate": {k: statistics.median(v) for k, v in rates.items()},
        "ratio": median_ci(ratios),
        "ratio_imblearn": median_ci(ratios_imb),
        "rounds": args.rounds,
        "batches": {
            "ours": int(ours.cardinality()),
            "plain": int(plain.cardinality()),
            "imblearn": len(generator),
        },
    }


# ---------------------------------------------------------------------------
# 2. End to end.


def mlp(seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((NUM_FEATURES,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(NUM_CLASSES),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def fit_once(kind, x, y, args, steps):
    from keras_imbalance.data.sampling import balanced_dataset

    start = time.perf_counter()
    if kind == "imblearn":
        data = imblearn_generator(x, y, args.batch_size, args.seed)
        steps = len(data)
    else:
        data = balanced_dataset(
            x, y, batch_size=args.batch_size, seed=args.seed, steps_per_epoch=steps
        )
        steps = int(data.cardinality())
    model = mlp(args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(data, epochs=FIT_EPOCHS, verbose=0)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "steps": steps,
        "samples_per_s": FIT_EPOCHS * steps * args.batch_size / seconds,
        "loss": history.history["loss"][-1],
    }


def fit_part(x, y, args):
    steps = len(imblearn_generator(x, y, args.batch_size, args.seed))
    runs = {"ours": [], "imblearn": []}
    ratios = []
    for r in range(args.fit_rounds):
        order = ("ours", "imblearn") if r % 2 == 0 else ("imblearn", "ours")
        result = {k: fit_once(k, x, y, args, steps) for k in order}
        for k in order:
            runs[k].append(result[k])
        ratios.append(result["imblearn"]["seconds"] / result["ours"]["seconds"])
    native = fit_once("ours", x, y, args, None)
    return {"runs": runs, "ratio": median_ci(ratios), "native": native}


# ---------------------------------------------------------------------------
# 3. Peak memory, in subprocesses.


def memory_child(method, ratio, batch_size, seed):
    """Runs in a subprocess; prints one JSON line."""
    quiet()
    import numpy as np
    from imblearn.over_sampling import RandomOverSampler

    from keras_imbalance.data.sampling import balanced_dataset

    x, y, counts = make_data(ratio, seed)
    # Warm up both libraries so their one-off allocations are not counted.
    small_x, small_y = x[:2000], y[:2000]
    for _ in balanced_dataset(small_x, small_y, batch_size=64, seed=0):
        pass
    RandomOverSampler(random_state=0).fit_resample(small_x, small_y)
    imblearn_generator(small_x, small_y, 64, 0)

    reset = reset_peak_memory()
    before = process_memory("VmRSS")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    checksum = 0.0
    if method == "balanced_dataset":
        ds = balanced_dataset(x, y, batch_size=batch_size, seed=seed)
        for xb, _ in ds:
            checksum += float(xb[0, 0])
    elif method == "fit_resample":
        xr, yr = RandomOverSampler(random_state=seed).fit_resample(x, y)
        # Shuffled batches sliced from the copy (by index: no second copy).
        order = np.random.default_rng(seed).permutation(len(yr))
        for i in range(0, len(yr), batch_size):
            batch = order[i : i + batch_size]
            checksum += float(xr[batch][0, 0]) + float(yr[batch][0])
    else:
        generator = imblearn_generator(x, y, batch_size, seed)
        for i in range(len(generator)):
            checksum += float(generator[i][0][0, 0])
    peak = (
        process_memory("VmHWM")
        if reset
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    if not reset:
        before = max(before, peak_before)
    resampled = NUM_CLASSES * int(counts.max())
    print(
        json.dumps(
            {
                "method": method,
                "ratio": ratio,
                "peak_mb": (peak - before) / 2**20,
                "method_of_measure": "clear_refs" if reset else "ru_maxrss",
                "data_mb": x.nbytes / 2**20,
                "oversampling_factor": resampled / len(y),
                "resampled_mb": resampled * NUM_FEATURES * 4 / 2**20,
                "checksum": checksum,
            }
        )
    )


def memory_part(args):
    methods = ("balanced_dataset", "fit_resample", "BalancedBatchGenerator")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    results = []
    for ratio in args.memory_ratios:
        for method in methods:
            command = [
                sys.executable,
                str(SCRIPT),
                "--memory-child",
                method,
                str(ratio),
                "--batch-size",
                str(args.batch_size),
                "--seed",
                str(args.seed),
            ]
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, cwd=ROOT
            )
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode or not lines:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                results.append({"method": method, "ratio": ratio, "error": tail})
            else:
                results.append(json.loads(lines[-1]))
            print(f"  memory {results[-1]}", file=sys.stderr, flush=True)
    return results


# ---------------------------------------------------------------------------
# 4. Class-aware augmentation.


def augment_part(x, y, counts, args):
    import tensorflow as tf

    try:
        from keras_imbalance.data.augmentation import (
            augment_minority,
            default_image_augmenter,
        )
    except ImportError as error:
        return {"error": f"keras_imbalance.data.augmentation: {error}"}

    images = x.reshape(-1, 8, 8, 1)
    base = tf.data.Dataset.from_tensor_slices((images, y)).batch(args.batch_size)
    minority = augment_minority(
        base,
        default_image_augmenter(seed=args.seed),
        class_counts=counts,
        seed=args.seed,
    ).prefetch(tf.data.AUTOTUNE)
    everyone = default_image_augmenter(seed=args.seed)
    every = base.map(lambda a, b: (everyone(a, training=True), b)).prefetch(
        tf.data.AUTOTUNE
    )

    def run(ds):
        n = 0
        for _, yb in ds:
            n += int(yb.shape[0])
        return n

    runs = {"augment_minority": lambda: run(minority), "every": lambda: run(every)}
    for fn in runs.values():
        fn()
    rates = {k: [] for k in runs}
    for r in range(args.augment_rounds):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for key in order:
            t = time.perf_counter()
            n = runs[key]()
            rates[key].append(n / (time.perf_counter() - t))
    ratios = [a / b for a, b in zip(rates["augment_minority"], rates["every"])]
    largest = counts.max()
    augmented = float((counts * (1 - counts / largest)).sum() / counts.sum())
    return {
        "rate": {k: statistics.median(v) for k, v in rates.items()},
        "ratio": median_ci(ratios),
        "rounds": args.augment_rounds,
        "augmented_fraction": augmented,
    }
