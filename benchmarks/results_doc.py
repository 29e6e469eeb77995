"""Render `keras-imbalance compare` outputs as Markdown for docs/results.md.

    python benchmarks/results_doc.py docs/results/fashion-mnist-lt-default \
        docs/results/fashion-mnist-lt-ldam docs/results/digits-lt

Each folder is one section `results:<folder name>` of `docs/results.md`. It
holds the `results.json` of one `compare` run, or subfolders holding one each
(strategies run as separate commands, combined with
`keras_imbalance.comparison.Comparison.combine`; a subfolder named
`reference` is the upper reference: `compare --balanced-reference`). The
section gets the commands, the machine, the class counts, the test table
(mean ± std over the seeds, the best strategy chosen on validation), the
share of the gap to the upper reference that each strategy closes, and the
per-class recall heatmap (written to the folder as
`per_class_recall_combined.png` when runs were combined). The prose around
the sections is kept.
"""

import argparse
import os

from _timing import write_section

from keras_imbalance import _catalog
from keras_imbalance.comparison import Comparison
from keras_imbalance.comparison.report import format_mean_std, markdown_table

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "results.md")


def load(folder):
    """`(comparison, reference or None, heatmap file name)` of a folder."""
    single = os.path.join(folder, "results.json")
    if os.path.isfile(single):
        return Comparison.from_json(single), None, "per_class_recall.png"
    parts, reference = [], None
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name, "results.json")
        if not os.path.isfile(path):
            continue
        if name == "reference":
            reference = Comparison.from_json(path)
        else:
            parts.append(Comparison.from_json(path))
    if not parts:
        raise SystemExit(f"{folder}: no results.json in it or in its subfolders")
    # Strategies in the registry's order (`ce` first), whatever the folders.
    parts.sort(key=lambda part: min(map(_catalog.STRATEGIES.index, part.strategies)))
    combined = Comparison.combine(parts)
    figure = combined.plot_per_class_recall()
    figure.savefig(os.path.join(folder, "per_class_recall_combined.png"), dpi=120)
    return combined, reference, "per_class_recall_combined.png"


def _protocol_text(protocol):
    text = (
        f"`{protocol['name']}` ({protocol['optimizer']}, learning rate "
        f"{protocol['learning_rate']:g}, {protocol['schedule']} schedule"
    )
    if protocol["warmup_epochs"]:
        text += f", {protocol['warmup_epochs']} warm-up epochs"
    if protocol["weight_decay"]:
        text += f", weight decay {protocol['weight_decay']:g}"
    if protocol["precise_bn"]:
        text += "; BatchNorm statistics re-estimated after training"
    return text + ")"


def _reference_lines(result, reference):
    mean, std = reference.mean_std("ce", "balanced_accuracy", "test")
    seeds = len(reference.seeds)
    ce = result.mean_std("ce", "balanced_accuracy", "test")[0]
    lines = [
        "",
        f"Upper reference: `ce` trained on a {reference.setup['reference']}, "
        "same model, budget and protocol, same test split: test balanced "
        f"accuracy {format_mean_std(mean, std, seeds=seeds)}.",
    ]
    if ce is None or mean is None or mean <= ce:
        return lines
    lines += [
        "",
        "| strategy | test bal. acc. | share of the gap `ce` -> reference closed |",
        "| --- | --- | --- |",
    ]
    for row in result.table():
        value, spread = row["balanced_accuracy"], row["balanced_accuracy_std"]
        share = "-" if value is None else f"{100 * (value - ce) / (mean - ce):.0f}%"
        score = format_mean_std(value, spread, seeds=row["seeds"])
        lines.append(f"| `{row['strategy']}` | {score} | {share} |")
    return lines


def render(folder):
    result, reference, heatmap = load(folder)
    setup = result.setup
    machine = setup["machine"]
    commands = setup.get("commands") or [setup.get("command", "(library call)")]
    if reference is not None:
        commands = [*commands, reference.setup.get("command", "(library call)")]
    lines = ["Commands:", "", "```bash", *commands, "```", ""]
    lines += [
        f"Machine: {machine['platform']}, {machine['cpu_count']} CPU cores, "
        f"Python {machine['python']}, Keras {machine['keras']} "
        f"({machine['backend']} backend"
        + (f", TensorFlow {machine['tensorflow']}" if "tensorflow" in machine else "")
        + ").",
        "",
        f"Training counts {setup['class_counts']}, validation counts "
        f"{setup['validation_counts']}, test counts {setup['test_counts']}; "
        f"model `{setup['model']}`, {setup['epochs']} epochs, batch size "
        f"{setup['batch_size']}, protocol {_protocol_text(setup['protocol'])}, "
        f"seeds {setup['seeds']}, shot thresholds many > "
        f"{setup['shot_thresholds'][0]}, few < {setup['shot_thresholds'][1]}.",
        "",
        markdown_table(result, "test"),
    ]
    if reference is not None:
        lines += _reference_lines(result, reference)
    name = os.path.basename(os.path.normpath(folder))
    lines += [
        "",
        f"![per-class recall](results/{name}/{heatmap})",
        "",
        "Mean training time per run: "
        + ", ".join(
            f"`{row['strategy']}` {row['train_seconds']:.0f} s"
            for row in result.table()
        )
        + ".",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--doc", default=DOC)
    args = parser.parse_args()
    for folder in args.folders:
        key = f"results:{os.path.basename(os.path.normpath(folder))}"
        write_section(args.doc, key, render(folder))
        print(f"{args.doc}: section {key} rewritten from {folder}")


if __name__ == "__main__":
    main()
