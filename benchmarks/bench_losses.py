"""Training-step speed of each `keras_imbalance` loss against the Keras loss it extends.

A fixed, seeded small CNN (32x32x3 -> Conv2D(32, 3) -> MaxPool -> Conv2D(64, 3)
-> MaxPool -> Dense(10), logits out) is trained with `model.train_on_batch` on
one fixed random batch (128 images, 10 classes). Every loss gets its own model
(same architecture and initial weights) compiled twice:

* ``graph``: ``model.compile(..., jit_compile=False)`` (a `tf.function`);
* ``xla``: ``model.compile(..., jit_compile=True)``.

Each candidate is timed against its peer after a warm-up in interleaved
rounds of one step each (A B, B A, A B, ...), so drifts of a shared machine
hit both sides alike. The table reports the median per-step time of each side
and the median of the per-round ratios ours / peer (paired, so it cancels any
slowdown that lasts longer than a round) with a ~95% confidence interval; the
target is a ratio of at most 1.05.
A Keras-vs-Keras row (`CategoricalCrossentropy` against a second instance of
itself) shows the noise floor of the run.

Peers: `FocalLoss` against `keras.losses.CategoricalFocalCrossentropy`; the
multi-label losses (`BinaryFocalLoss`, `SigmoidFocalCrossEntropy`,
`AsymmetricLoss`) against `keras.losses.BinaryCrossentropy` (and
`BinaryFocalLoss` also against `keras.losses.BinaryFocalCrossentropy`); every
other loss, Dice and Tversky included (Keras has no overlap loss), against
`keras.losses.CategoricalCrossentropy`. All losses take logits
(`from_logits=True`) and one-hot (multi-class) or multi-hot (multi-label)
float labels, so both sides see identical inputs.

Usage (from the repository root)::

    python benchmarks/bench_losses.py           # ~6 min, updates docs/benchmarks.md
    python benchmarks/bench_losses.py --quick   # ~1 min smoke run, prints only
    python benchmarks/bench_losses.py --output docs/benchmarks.md
    python benchmarks/bench_losses.py --modes xla --only focal,ldam
"""

import argparse
import os
import sys
import time
from pathlib import Path

from _losses_report import NUM_CLASSES, render
from _timing import (
    MODES,
    add_pair_args,
    check_pair_args,
    fill_defaults,
    loadavg,
    machine_info,
    paired_rounds,
    write_section,
)

ROOT = Path(__file__).resolve().parents[1]
IMAGE_SHAPE = (32, 32, 3)
SECTION = "bench_losses"  # its part of docs/benchmarks.md, between marker comments


def long_tail_counts(num_classes=NUM_CLASSES, head=5000, tail=50):
    """Exponential long-tail profile: `head` samples down to `tail` samples."""
    ratio = (tail / head) ** (1.0 / (num_classes - 1))
    return [round(head * ratio**i) for i in range(num_classes)]


def loss_specs(counts):
    """`(key, label kind, factory)` for every loss timed; factories build fresh objects.

    Label kind is "onehot" (multi-class) or "multihot" (multi-label).
    """
    import keras

    from keras_imbalance import class_weights, losses

    weights = class_weights.compute_class_weights(counts, "balanced").tolist()
    return {
        # Keras peers.
        "keras_ce": (
            "CategoricalCrossentropy",
            "onehot",
            lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
        ),
        "keras_focal": (
            "CategoricalFocalCrossentropy",
            "onehot",
            lambda: keras.losses.CategoricalFocalCrossentropy(
                alpha=0.25, gamma=2.0, from_logits=True
            ),
        ),
        "keras_bce": (
            "BinaryCrossentropy",
            "multihot",
            lambda: keras.losses.BinaryCrossentropy(from_logits=True),
        ),
        "keras_binary_focal": (
            "BinaryFocalCrossentropy",
            "multihot",
            lambda: keras.losses.BinaryFocalCrossentropy(
                apply_class_balancing=True, alpha=0.25, gamma=2.0, from_logits=True
            ),
        ),
        # Ours.
        "focal": (
            "FocalLoss",
            "onehot",
            lambda: losses.FocalLoss(gamma=2.0, alpha=0.25, from_logits=True),
        ),
        "weighted": (
            "WeightedCrossEntropy",
            "onehot",
            lambda: losses.WeightedCrossEntropy(weights, from_logits=True),
        ),
        "cb_softmax": (
            'ClassBalancedLoss(loss_type="softmax")',
            "onehot",
            lambda: losses.ClassBalancedLoss(
                counts, loss_type="softmax", from_logits=True
            ),
        ),
        "cb_focal": (
            'ClassBalancedLoss(loss_type="focal")',
            "onehot",
            lambda: losses.ClassBalancedLoss(
                counts, loss_type="focal", from_logits=True
            ),
        ),
        "ldam": ("LDAMLoss", "onehot", lambda: losses.LDAMLoss(counts)),
        "balanced_softmax": (
            "BalancedSoftmaxLoss",
            "onehot",
            lambda: losses.BalancedSoftmaxLoss(counts),
        ),
        "logit_adjusted": (
            "LogitAdjustedLoss",
            "onehot",
            lambda: losses.LogitAdjustedLoss(class_counts=counts),
        ),
        "dice": ("DiceLoss", "onehot", lambda: losses.DiceLoss(from_logits=True)),
        "tversky": (
            "TverskyLoss",
            "onehot",
            lambda: losses.TverskyLoss(from_logits=True),
        ),
        "binary_focal": (
            "BinaryFocalLoss",
            "multihot",
            lambda: losses.BinaryFocalLoss(gamma=2.0, alpha=0.25, from_logits=True),
        ),
        "sigmoid_focal": (
            'SigmoidFocalCrossEntropy(reduction="sum_over_batch_size")',
            "multihot",
            # TF-Addons' default reduction is "none"; reduce like the peer does.
            lambda: losses.SigmoidFocalCrossEntropy(
                from_logits=True, reduction="sum_over_batch_size"
            ),
        ),
        "asymmetric": (
            "AsymmetricLoss",
            "multihot",
            lambda: losses.AsymmetricLoss(from_logits=True),
        ),
    }


# (candidate, peer). The first row is the noise control: Keras CE against a
# second, independently compiled Keras CE model.
PAIRS = [
    ("keras_ce", "keras_ce"),
    ("focal", "keras_focal"),
    ("weighted", "keras_ce"),
    ("cb_softmax", "keras_ce"),
    ("cb_focal", "keras_ce"),
    ("ldam", "keras_ce"),
    ("balanced_softmax", "keras_ce"),
    ("logit_adjusted", "keras_ce"),
    ("dice", "keras_ce"),
    ("tversky", "keras_ce"),
    ("binary_focal", "keras_bce"),
    ("binary_focal", "keras_binary_focal"),
    ("sigmoid_focal", "keras_bce"),
    ("asymmetric", "keras_bce"),
]


def build_model(seed):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(NUM_CLASSES),
        ]
    )


class Runner:
    """One compiled model per (loss, mode, instance), built on first use."""

    def __init__(self, specs, data, seed):
        self.specs = specs
        self.data = data
        self.seed = seed
        self.models = {}

    def get(self, key, mode, instance=0):
        cache_key = (key, mode, instance)
        if cache_key not in self.models:
            import keras

            _, kind, factory = self.specs[key]
            model = build_model(self.seed)
            model.compile(
                optimizer=keras.optimizers.SGD(learning_rate=1e-4),
                loss=factory(),
                jit_compile=MODES[mode],
            )
            x, y = self.data[kind]
            model.train_on_batch(x, y)  # trace (and XLA-compile)
            self.models[cache_key] = (model, x, y)
        return self.models[cache_key]

    def forget(self, mode):
        """Drop a finished mode's models (and their compiled functions)."""
        self.models = {k: v for k, v in self.models.items() if k[1] != mode}


def measure_pair(runner, cand, peer, mode, args):
    """Interleaved A B / B A rounds of one step each; paired per-round ratios."""
    a = runner.get(cand, mode)
    b = runner.get(peer, mode, instance=1 if cand == peer else 0)
    res = paired_rounds(
        a,
        b,
        warmup_steps=args.warmup_steps,
        seconds=args.seconds_per_pair,
        min_rounds=args.min_rounds,
    )
    return {
        "ours_ms": res["a_ms"],
        "peer_ms": res["b_ms"],
        "ratio": res["ratio"],
        "ci": res["ci"],
        "rounds": res["rounds"],
    }


def make_data(batch_size, seed):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((batch_size, *IMAGE_SHAPE), dtype="float32"))
    labels = rng.integers(0, NUM_CLASSES, batch_size)
    onehot = tf.constant(np.eye(NUM_CLASSES, dtype="float32")[labels])
    multihot = tf.constant(
        (rng.random((batch_size, NUM_CLASSES)) < 0.2).astype("float32")
    )
    return {"onehot": (x, onehot), "multihot": (x, multihot)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~1 minute smoke run (prints only)"
    )
    parser.add_argument(
        "--output",
        default=None,
        help="markdown file to write (default: docs/benchmarks.md for a full "
        "run, none for --quick)",
    )
    add_pair_args(parser, "(loss, peer)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated candidate keys to time (e.g. focal,ldam)",
    )
    args = parser.parse_args(argv)
    fill_defaults(
        args,
        quick={"seconds_per_pair": 0.5, "min_rounds": 3, "warmup_steps": 1},
        full={"seconds_per_pair": 8.0, "min_rounds": 25, "warmup_steps": 5},
    )
    check_pair_args(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    load_start = loadavg()

    counts = long_tail_counts()
    specs = loss_specs(counts)
    pairs = PAIRS
    if args.only:
        wanted = {k.strip() for k in args.only.split(",")}
        unknown = wanted - set(specs)
        if unknown:
            raise SystemExit(f"unknown loss key(s) {sorted(unknown)}; see PAIRS")
        pairs = [p for p in PAIRS if p[0] in wanted]
    runner = Runner(specs, make_data(args.batch_size, args.seed), args.seed)

    results = {}
    for mode in args.modes:
        rows = results.setdefault(mode, [])
        for cand, peer in pairs:
            t0 = time.perf_counter()
            try:
                res = measure_pair(runner, cand, peer, mode, args)
            except Exception as exc:  # noqa: BLE001 - report, keep going
                msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
                res = {"error": msg.replace("|", "/")}
            rows.append((cand, peer, res))
            if "error" in res:
                summary = res["error"]
            else:
                summary = (
                    f"{res['ours_ms']:7.1f} vs {res['peer_ms']:7.1f} ms/step  "
                    f"ratio {res['ratio']:.3f} "
                    f"[{res['ci'][0]:.3f}, {res['ci'][1]:.3f}]  "
                    f"{res['rounds']} rounds"
                )
            print(
                f"[{mode:5s}] {cand:>16s} vs {peer:<18s} {summary}  "
                f"[{time.perf_counter() - t0:.0f}s]",
                file=sys.stderr,
                flush=True,
            )
        runner.forget(mode)

    runtime = time.perf_counter() - started
    text = render(
        results, specs, machine_info(), args, counts, runtime, load_start, loadavg()
    )
    if args.output:
        # Only this script's section; bench_layers.py owns another one.
        write_section(args.output, SECTION, text)
        print(f"wrote {args.output} (total {runtime:.0f} s)", file=sys.stderr)
    else:
        print(text)
        print(f"total {runtime:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
