"""Render `keras-imbalance compare` outputs as Markdown tables for docs/results.md.

    python benchmarks/results_doc.py docs/results/fashion-mnist-lt \
        docs/results/digits-lt

For each folder (the `--output` of one `compare` run) it reads `results.json`
and rewrites the marked section `results:<dataset>` of `docs/results.md` with
the command, the machine, the class counts and the full table (balanced
accuracy gain over `ce` included). The prose around the sections is kept.
"""

import argparse
import json
import os

from _timing import write_section

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "results.md")


def _pct(value):
    return "-" if value is None else f"{100 * value:.1f}"


def render(folder):
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        run = json.load(f)
    baseline = next(
        (r["balanced_accuracy"] for r in run["results"] if r["strategy"] == "ce"),
        None,
    )
    machine = run["machine"]
    many, few = run["shot_thresholds"]
    lines = [
        f"Command: `{run['command']}`",
        "",
        f"Machine: {machine['platform']}, {machine['cpu_count']} CPU cores, "
        f"Python {machine['python']}, TensorFlow {machine['tensorflow']}, "
        f"Keras {machine['keras']}.",
        "",
        f"Training counts per class: {run['class_counts']} (ratio "
        f"{run['imbalance_ratio']:g}); test counts: {run['test_counts']}. "
        f"Shot groups: many > {many}, few < {few} training images.",
        "",
        "| strategy | accuracy | balanced acc. | vs `ce` | macro F1 | G-mean "
        "| many | medium | few | ECE | train (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run["results"]:
        gain = (
            "-"
            if baseline is None or r["strategy"] == "ce"
            else f"{100 * (r['balanced_accuracy'] - baseline):+.1f}"
        )
        name = f"`{r['strategy']}`"
        if r["strategy"] == run["best"]:
            name = f"**{name}**"
        lines.append(
            f"| {name} | {_pct(r['accuracy'])} | {_pct(r['balanced_accuracy'])} "
            f"| {gain} | {_pct(r['macro_f1'])} | {_pct(r['g_mean'])} "
            f"| {_pct(r['many_shot_accuracy'])} | {_pct(r['medium_shot_accuracy'])} "
            f"| {_pct(r['few_shot_accuracy'])} | {_pct(r['ece'])} "
            f"| {r['train_seconds']:.0f} |"
        )
    lines += [
        "",
        "Scores in percent on the balanced test split; best balanced accuracy in "
        "bold. Per-class recall of every strategy, classes head to tail:",
        "",
        f"![per-class recall]({os.path.relpath(folder, 'docs')}/per_class_recall.png)",
    ]
    return f"results:{run['dataset']}", "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    args = parser.parse_args()
    for folder in args.folders:
        name, text = render(folder)
        write_section(DOC, name, text)
        print(f"wrote section {name} of {os.path.normpath(DOC)}")


if __name__ == "__main__":
    main()
