"""Cost of the attention layers: parameters and training-step time of a small ResNet.

A fixed, seeded small residual CNN is trained with `model.train_on_batch` on
one fixed random batch (64 images 32x32x3): a stem
``Conv2D(64, 3) -> BatchNormalization -> ReLU``, then three basic residual
blocks of 64 channels at 32x32, 16x16 and 8x8 (``MaxPooling2D`` between
them), each ``conv-BN-ReLU-conv-BN -> [attention] -> + shortcut -> ReLU``,
then global average pooling and ``Dense(10)`` logits. The attention sits on
the residual branch before the addition, where SE-, CBAM- and ECA-ResNets put
it. Every variant has the same network and initial convolution weights;
only the attention differs: none (the baseline), `SqueezeExcitation`,
`EfficientChannelAttention` or `CBAM` with their defaults (reduction 16,
ECA's adaptive kernel, CBAM's 7x7 spatial kernel), and, on request, CBAM's
two halves on their own.

Each variant is timed against the baseline in interleaved rounds of one
step each (A B, B A, A B, ...) after a warm-up, in graph mode
(``jit_compile=False``) and with XLA (``jit_compile=True``); the table
reports parameter counts, the median step time of each side and the median
of the per-round ratios variant / baseline with a ~95% confidence interval.
Targets: SE and ECA at most 1.10 (under 10% more step time), CBAM at most
1.25. A baseline-vs-baseline row shows the noise floor of the run.

Usage (from the repository root)::

    python benchmarks/bench_layers.py           # ~4 min, updates docs/benchmarks.md
    python benchmarks/bench_layers.py --quick   # ~2 min smoke run, prints only
    python benchmarks/bench_layers.py --only se,cbam,channel,spatial --modes graph
"""

import argparse
import os
import sys
import time
from pathlib import Path

from _timing import (
    MODES,
    add_pair_args,
    check_pair_args,
    comma_choices,
    fill_defaults,
    loadavg,
    machine_info,
    machine_lines,
    paired_rounds,
    write_section,
)

ROOT = Path(__file__).resolve().parents[1]
SECTION = "bench_layers"  # its part of docs/benchmarks.md, between marker comments
NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)
FILTERS = 64
BLOCKS = 3
NOISE_TARGET = 1.05

# key -> (label, factory of the attention layer or None, target ratio or None).
VARIANTS = {
    "none": ("no attention", None, None),
    "se": ("SqueezeExcitation()", "se", 1.10),
    "eca": ("EfficientChannelAttention()", "eca", 1.10),
    "cbam": ("CBAM()", "cbam", 1.25),
    "channel": ("ChannelAttention() (CBAM's channel half)", "channel", None),
    "spatial": ("SpatialAttention() (CBAM's spatial half)", "spatial", None),
}
DEFAULT_ONLY = ("none", "se", "eca", "cbam")


def make_attention(kind, name):
    from keras_imbalance import layers

    if kind == "channel":
        return layers.ChannelAttention(name=name)
    if kind == "spatial":
        return layers.SpatialAttention(name=name)
    return layers.get_attention(kind, name=name)


def build_model(kind, seed):
    """The benchmark network with `kind` attention in each residual block."""
    import keras
    from keras import layers

    def conv_bn(x, name):
        x = layers.Conv2D(
            FILTERS, 3, padding="same", use_bias=False, name=f"{name}_conv"
        )(x)
        return layers.BatchNormalization(name=f"{name}_bn")(x)

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(IMAGE_SHAPE)
    x = layers.ReLU(name="stem_relu")(conv_bn(inputs, "stem"))
    for i in range(BLOCKS):
        if i:
            x = layers.MaxPooling2D(name=f"pool{i}")(x)
        # A basic residual block with the attention on the residual branch,
        # before the addition, where SE-, CBAM- and ECA-ResNets put it.
        y = layers.ReLU(name=f"block{i}_relu_a")(conv_bn(x, f"block{i}_a"))
        y = conv_bn(y, f"block{i}_b")
        if kind is not None:
            y = make_attention(kind, f"attention{i}")(y)
        x = layers.ReLU(name=f"block{i}_relu")(layers.Add(name=f"block{i}_add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(NUM_CLASSES, name="logits")(x)
    return keras.Model(inputs, outputs, name=f"resnet_{kind or 'plain'}")


def attention_params(model):
    return sum(
        layer.count_params()
        for layer in model.layers
        if layer.name.startswith("attention")
    )


class Runner:
    """One compiled model per (variant, mode, instance), built on first use."""

    def __init__(self, data, seed):
        self.data = data
        self.seed = seed
        self.models = {}
        self.params = {}

    def get(self, key, mode, instance=0):
        cache_key = (key, mode, instance)
        if cache_key not in self.models:
            import keras

            model = build_model(VARIANTS[key][1], self.seed)
            model.compile(
                optimizer=keras.optimizers.SGD(learning_rate=1e-4),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                jit_compile=MODES[mode],
            )
            x, y = self.data
            model.train_on_batch(x, y)  # trace (and XLA-compile)
            self.models[cache_key] = (model, x, y)
            self.params[key] = (model.count_params(), attention_params(model))
        return self.models[cache_key]

    def forget(self, mode):
        """Drop a finished mode's models (and their compiled functions)."""
        self.models = {k: v for k, v in self.models.items() if k[1] != mode}


def make_data(batch_size, seed):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((batch_size, *IMAGE_SHAPE), dtype="float32"))
    y = tf.constant(rng.integers(0, NUM_CLASSES, batch_size))
    return x, y


def verdict(res, target):
    if target is None:
        return "-"
    if res["ratio"] <= target:
        return "yes"
    if res["ci"][0] > target:
        return "**no**"
    return "*no, within noise*"


def render(results, params, info, args, runtime, load_start, load_end):
    base_params = params.get("none", (None, 0))[0]
    lines = [
        "# Attention-layer benchmarks: parameters and training-step time",
        "",
        "Generated by `python benchmarks/bench_layers.py"
        + (" --quick" if args.quick else "")
        + "`; do not edit by hand, rerun the script.",
        "",
        "## What is measured",
        "",
        "One training step (`model.train_on_batch`: forward, loss, backward, SGD "
        "update) of a fixed, seeded small residual CNN: input 32x32x3, a stem "
        f"Conv2D({FILTERS}, 3)-BatchNormalization-ReLU, then {BLOCKS} basic "
        f"residual blocks of {FILTERS} channels on 32x32, 16x16 and 8x8 maps "
        "(MaxPooling2D between them), each conv-BN-ReLU-conv-BN, the "
        "attention layer under test, the shortcut addition and a ReLU; then "
        f"GlobalAveragePooling2D and Dense({NUM_CLASSES}) logits, sparse "
        f"categorical cross-entropy, batch {args.batch_size}, one fixed batch "
        "of random images. The attention sits on the residual branch before "
        "the addition, where SE-, CBAM- and ECA-ResNets put it (one per two "
        "convolutions). The baseline has no attention; every variant has the "
        "same network and initial convolution weights, with the layer's "
        "defaults: `SqueezeExcitation()` (reduction 16: a "
        f"{FILTERS}-{FILTERS // 16}-{FILTERS} bottleneck), "
        "`EfficientChannelAttention()` (adaptive kernel: 3 for "
        f"{FILTERS} channels) and `CBAM()` (reduction 16, 7x7 spatial "
        "kernel).",
        "",
        "* **graph**: `model.compile(..., jit_compile=False)` (`tf.function`).",
        "* **xla**: `model.compile(..., jit_compile=True)`.",
        "",
        f"Timing: after {args.warmup_steps} warm-up steps per model, each "
        "variant runs against the baseline in interleaved rounds of one "
        f"training step each (A B, B A, A B, ...) for about "
        f"{args.seconds_per_pair:g} s (`rounds`, at least {args.min_rounds}). "
        "`ms/step` and `baseline ms/step` are the median step times of each "
        "side; `ratio` is the median of the per-round ratios variant / "
        "baseline (the two steps of a round run back to back, so the pairing "
        "cancels slowdowns of the machine longer than a round); `95% CI` is "
        "a distribution-free confidence interval for it (order statistics). "
        "Bars: SE and ECA should add under 10% step time (ratio "
        "at most 1.10), CBAM under 25% (at most 1.25). Verdict: **yes** when "
        "the ratio meets its bar; **no** when even the lower end of the "
        "interval is above it; *no, within noise* when the ratio is above "
        "the target but the interval reaches below it. The first row of "
        "each table times the baseline against a second, separately compiled "
        "copy of itself (bar 1.05): how far noise alone moves a ratio.",
        "",
        *machine_lines(info, load_start, load_end, runtime),
        "",
        "## Parameters",
        "",
        "| attention | parameters | of which attention | added to the baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, (total, own) in params.items():
        added = (
            f"{100 * (total - base_params) / base_params:+.2f}%" if base_params else "-"
        )
        lines.append(f"| {VARIANTS[key][0]} | {total:,} | {own:,} | {added} |")
    lines.append("")
    for mode, rows in results.items():
        flag = "False" if mode == "graph" else "True"
        lines += [
            f"## {mode} (`jit_compile={flag}`)",
            "",
            "| attention | ms/step | baseline ms/step | ratio | bar "
            "| within the bar? | 95% CI | rounds |",
            "| --- | ---: | ---: | ---: | ---: | :---: | :---: | ---: |",
        ]
        for key, res in rows:
            label, _, target = VARIANTS[key]
            if key == "none":
                label += " (2nd copy, noise control)"
                target = NOISE_TARGET
            if "error" in res:
                lines.append(
                    f"| {label} | - | - | - | - | error | {res['error']} | - |"
                )
                continue
            lo, hi = res["ci"]
            lines.append(
                f"| {label} | {res['a_ms']:.1f} | {res['b_ms']:.1f} | "
                f"{res['ratio']:.3f} | {'-' if target is None else f'{target:.2f}'} | "
                f"{verdict(res, target)} | "
                f"{lo:.3f}-{hi:.3f} | {res['rounds']} |"
            )
        lines.append("")
    spreads = []
    for mode, rows in results.items():
        ms = [r[k] for _, r in rows if "error" not in r for k in ("a_ms", "b_ms")]
        if ms:
            spreads.append(f"{min(ms):.1f} to {max(ms):.1f} ms in {mode} mode")
    spread = (
        " In this run the median step time of the baseline and the variants "
        f"ranged from {' and from '.join(spreads)}: the load of the machine "
        "changed between rows, which is why each row is a paired ratio."
        if spreads
        else ""
    )
    lines += [
        "## Caveat: noise",
        "",
        "These are wall-clock times on a small shared CPU machine, where other "
        "processes (tests, editors) may run at the same time." + spread + " "
        "Interleaving "
        "cancels changes of load slower than a round, not bursts within one, "
        "and the confidence interval covers the sampling noise of a pair "
        "only: read differences of a few percent as noise (the noise-control "
        "row shows their size in this run). The attention layers are "
        "memory-bound element-wise work (pooling, gating) next to "
        "compute-bound convolutions, so their relative cost depends on the "
        "machine: a ratio above its bar should be rerun "
        "(`--only KEY --modes MODE --seconds-per-pair 30`) before it is "
        "believed. Graph and XLA step times are not comparable with each "
        "other; only the ratios within a table are meaningful.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~1 minute smoke run (prints only)"
    )
    parser.add_argument(
        "--output",
        default=None,
        help="markdown file whose bench_layers section to rewrite (default: "
        "docs/benchmarks.md for a full run, none for --quick)",
    )
    add_pair_args(parser, "(variant, baseline)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_ONLY),
        help="comma-separated variants to time, from "
        f"{','.join(VARIANTS)} (default: {','.join(DEFAULT_ONLY)})",
    )
    args = parser.parse_args(argv)
    fill_defaults(
        args,
        quick={"seconds_per_pair": 1.0, "min_rounds": 3, "warmup_steps": 1},
        full={"seconds_per_pair": 10.0, "min_rounds": 15, "warmup_steps": 3},
    )
    check_pair_args(parser, args)
    args.only = comma_choices(parser, args.only, VARIANTS, "variant(s)")
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    load_start = loadavg()
    runner = Runner(make_data(args.batch_size, args.seed), args.seed)

    results = {}
    for mode in args.modes:
        rows = results.setdefault(mode, [])
        for key in args.only:
            t0 = time.perf_counter()
            try:
                res = paired_rounds(
                    runner.get(key, mode, instance=1 if key == "none" else 0),
                    runner.get("none", mode),
                    warmup_steps=args.warmup_steps,
                    seconds=args.seconds_per_pair,
                    min_rounds=args.min_rounds,
                )
            except Exception as exc:  # noqa: BLE001 - report, keep going
                msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
                res = {"error": msg.replace("|", "/")}
            rows.append((key, res))
            if "error" in res:
                summary = res["error"]
            else:
                summary = (
                    f"{res['a_ms']:7.1f} vs {res['b_ms']:7.1f} ms/step  "
                    f"ratio {res['ratio']:.3f} "
                    f"[{res['ci'][0]:.3f}, {res['ci'][1]:.3f}]  "
                    f"{res['rounds']} rounds"
                )
            print(
                f"[{mode:5s}] {key:>8s} vs none  {summary}  "
                f"[{time.perf_counter() - t0:.0f}s]",
                file=sys.stderr,
                flush=True,
            )
        runner.forget(mode)

    runtime = time.perf_counter() - started
    params = {k: runner.params[k] for k in ["none", *args.only] if k in runner.params}
    text = render(results, params, machine_info(), args, runtime, load_start, loadavg())
    if args.output:
        write_section(args.output, SECTION, text)
        print(f"wrote {args.output} (total {runtime:.0f} s)", file=sys.stderr)
    else:
        print(text)
        print(f"total {runtime:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
