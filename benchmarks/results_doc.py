"""Render `keras-imbalance compare` outputs as Markdown for docs/results.md.

    python benchmarks/results_doc.py docs/results/fashion-mnist-lt-default \
        docs/results/digits-lt

For each folder (the `--output` of one `compare` run) it reads `results.json`
(a `keras_imbalance.comparison.Comparison`) and rewrites the marked section
`results:<folder name>` of `docs/results.md` with the command, the machine,
the class counts and the test and validation tables (mean ± std over the
seeds; the best strategy chosen on validation). The prose around the
sections is kept.
"""

import argparse
import os

from _timing import write_section

from keras_imbalance.comparison import Comparison
from keras_imbalance.comparison.report import markdown_table

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "results.md")


def render(folder):
    result = Comparison.from_json(os.path.join(folder, "results.json"))
    setup = result.setup
    machine = setup["machine"]
    protocol = setup["protocol"]
    lines = [
        f"Command: `{setup.get('command', '(library call)')}`",
        "",
        f"Machine: {machine['platform']}, {machine['cpu_count']} CPU cores, "
        f"Python {machine['python']}, Keras {machine['keras']} "
        f"({machine['backend']} backend"
        + (f", TensorFlow {machine['tensorflow']}" if "tensorflow" in machine else "")
        + ").",
        "",
        f"Training counts {setup['class_counts']}, validation counts "
        f"{setup['validation_counts']}, test counts {setup['test_counts']}; "
        f"model `{setup['model']}`, {setup['epochs']} epochs, batch size "
        f"{setup['batch_size']}, protocol `{protocol['name']}` "
        f"({protocol['optimizer']}, learning rate {protocol['learning_rate']:g}, "
        f"{protocol['schedule']} schedule"
        + (
            f", {protocol['warmup_epochs']} warm-up epochs"
            if protocol["warmup_epochs"]
            else ""
        )
        + (
            f", weight decay {protocol['weight_decay']:g}"
            if protocol["weight_decay"]
            else ""
        )
        + (
            "; BatchNorm statistics re-estimated after training"
            if protocol["precise_bn"]
            else ""
        )
        + f"), seeds {setup['seeds']}, shot thresholds many > "
        f"{setup['shot_thresholds'][0]}, few < {setup['shot_thresholds'][1]}.",
        "",
        markdown_table(result, "test"),
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
        print(f"{args.doc}: section {key} rewritten from {folder}/results.json")


if __name__ == "__main__":
    main()
