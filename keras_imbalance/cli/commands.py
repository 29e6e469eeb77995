"""What `keras-imbalance compare` and `inspect` do once the arguments are checked.

Training and evaluation live in the library (`keras_imbalance.comparison`);
here they are only called, shown and written to files.
"""

import os
import re
import shlex
import warnings

import numpy as np

from keras_imbalance.cli.display import Display, console, fmt, results_table
from keras_imbalance.cli.parser import PROG, UsageError, one_line
from keras_imbalance.cli.quiet import import_keras_quietly

__all__ = ["run_compare", "run_inspect"]

# Errors in the user's data or files, reported as one line (exit 2).
_DATA_ERRORS = (ValueError, TypeError, OSError)


def _load(args):
    from keras_imbalance import datasets

    load = datasets.load_dataset
    if getattr(args, "balanced_reference", False):
        load = datasets.load_balanced_reference
    try:
        data = load(
            args.dataset,
            imbalance_ratio=args.imbalance_ratio,
            seed=args.data_seed,
            data_dir=args.data_dir,
        )
    except _DATA_ERRORS as error:
        raise UsageError(one_line(error)) from None
    return data


def _make_output_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UsageError(
            one_line(f"Cannot create the output directory {path!r}: {error}")
        ) from None


def _save_figure(figure, path):
    """Save a Figure (built without pyplot: no GUI backend involved) and free it."""
    figure.savefig(path, dpi=120)
    figure.clear()


def _safe_filename(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _header(out, setup, args):
    """The lines above the progress: data, training, selection, groups."""
    from rich.markup import escape

    many, few = setup["shot_thresholds"]
    lines = [
        f"[bold]dataset[/bold]          {escape(str(setup['dataset']))}: "
        f"{setup['num_classes']} classes, imbalance ratio "
        f"{setup['imbalance_ratio']:.4g}",
        f"[bold]train counts[/bold]     {setup['class_counts']}"
        + (f" ({escape(setup['reference'])})" if setup.get("reference") else ""),
        f"[bold]validation[/bold]       {setup['validation_counts']} "
        f"({setup['validation_split']:g} of each class; chooses the best "
        "strategy and tuned parameters)",
    ]
    if args is not None:
        p = args.protocol
        lines += [
            f"[bold]model[/bold]            {escape(args.model)}"
            + (f", {args.head} head for every strategy" if args.head else ""),
            f"[bold]training[/bold]         {setup['epochs']} epochs, batch size "
            f"{setup['batch_size']}, seeds {','.join(map(str, setup['seeds']))}, "
            f"protocol {escape(p.name)} ({p.optimizer} {p.learning_rate:g}, "
            f"{p.schedule} schedule"
            + (", BatchNorm re-estimated" if p.precise_bn else "")
            + ")",
            f"[bold]strategies[/bold]       {escape(', '.join(args.strategies))}",
        ]
    lines.append(
        f"[bold]shot thresholds[/bold]  many > {many}, few < {few} "
        f"({setup['shot_threshold_source']})"
    )
    for line in lines:
        out.print(line)
    out.print()


def _write_files(comparison, output, command):
    from keras_imbalance.comparison.report import markdown_report

    paths = {"results.json": os.path.join(output, "results.json")}
    comparison.to_json(paths["results.json"])
    paths["results.csv"] = os.path.join(output, "results.csv")
    comparison.to_csv(paths["results.csv"])
    paths["per_class_recall.png"] = os.path.join(output, "per_class_recall.png")
    _save_figure(comparison.plot_per_class_recall(), paths["per_class_recall.png"])
    name = f"confusion_matrix_{_safe_filename(comparison.best)}.png"
    paths[name] = os.path.join(output, name)
    _save_figure(comparison.plot_confusion_matrix(), paths[name])
    figures = [
        ("per-class recall", "per_class_recall.png"),
        (f"confusion matrix of {comparison.best}", name),
    ]
    paths["report.md"] = os.path.join(output, "report.md")
    text = markdown_report(comparison, command=command, figures=figures)
    with open(paths["report.md"], "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return paths


def run_compare(args, argv):
    import_keras_quietly()
    from keras_imbalance import comparison as comparison_api
    from keras_imbalance import datasets

    data = _load(args)
    try:
        # The split compare makes, checked here to report bad data in one line.
        datasets.stratified_split(*data["train"], args.validation_split)
    except ValueError as error:
        raise UsageError(one_line(error)) from None
    output = args.output
    _make_output_dir(output)
    out = console()
    command = shlex.join([PROG, *argv])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Display(
            out, quiet=args.quiet, header=lambda setup: _header(out, setup, args)
        ) as display:
            result = comparison_api.compare(
                args.strategies,
                data,
                model=args.model,
                epochs=args.epochs,
                batch_size=args.batch_size,
                seeds=args.seeds,
                validation_split=args.validation_split,
                protocol=args.protocol,
                head=args.head,
                data_seed=args.data_seed,
                shot_thresholds=args.shot_thresholds,
                keep_models=args.export_best,
                progress=display,
            )
    result.setup["command"] = command
    out.print()
    out.print(results_table(result))
    out.print()
    messages = sorted({one_line(w.message) for w in caught})
    if messages:
        out.print(f"{len(messages)} distinct warning(s) during training:")
        for message in messages[:10]:
            out.print(f"  {message}")
    paths = _write_files(result, output, command)
    best = result.best
    status = 0
    if args.export_best:
        warned = result.warnings(best)
        if warned and not args.force_export:
            out.print(
                f"[bold red]not exported[/bold red]: the best strategy {best!r} "
                f"is not a usable model ({'; '.join(warned)}); pass "
                "--force-export to export it anyway."
            )
            status = 1
        else:
            from keras_imbalance.export import export_saved_model

            paths["best_model"] = os.path.join(output, "best_model")
            export_saved_model(
                result.models[best],
                paths["best_model"],
                class_names=result.setup["class_names"],
                overwrite=True,
            )
    from rich.markup import escape

    mean, std = result.mean_std(best, "balanced_accuracy", "test")
    out.print(
        f"best on validation: [bold]{escape(best)}[/bold] (test balanced accuracy "
        f"{fmt(mean)}" + (f" ± {fmt(std)}" if len(result.seeds) > 1 else "") + ")"
    )
    out.print(f"results written to {escape(os.path.abspath(output))}:")
    for name, path in paths.items():
        out.print(f"  {escape(name)}: {escape(path)}")
    return status


# --- inspect -----------------------------------------------------------------


def _class_counts_figure(data, thresholds):
    from matplotlib.figure import Figure

    train = np.asarray(data["train_counts"], dtype="float64")
    test = np.asarray(data["test_counts"], dtype="float64")
    k = data["num_classes"]
    fig = Figure(figsize=(max(6.0, 0.5 * k + 2.0), 4.5), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(k)
    width = 0.4
    ax.bar(positions - width / 2, train, width, label="train")
    ax.bar(positions + width / 2, test, width, label="test")
    many, few = thresholds
    ax.axhline(many, color="grey", linestyle="--", lw=0.8, label=f"many > {many}")
    ax.axhline(few, color="grey", linestyle=":", lw=0.8, label=f"few < {few}")
    if data["imbalance_ratio"] >= 10:
        ax.set_yscale("log")
    if k <= 30:
        ax.set_xticks(
            positions, labels=list(data["class_names"]), rotation=45, ha="right"
        )
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ax.set_title(
        f"{data['name']}: class counts (imbalance ratio {data['imbalance_ratio']:.3g})"
    )
    ax.legend(fontsize=8)
    return fig


def run_inspect(args):
    import_keras_quietly()
    from rich.markup import escape
    from rich.table import Table

    from keras_imbalance import compute_class_weights, evaluation
    from keras_imbalance.metrics import group_of_classes

    data = _load(args)
    y_train, y_test = data["train"][1], data["test"][1]
    k = data["num_classes"]
    counts = np.bincount(y_train, minlength=k).tolist()
    data["train_counts"] = counts
    data["test_counts"] = np.bincount(y_test, minlength=k).tolist()
    if args.shot_thresholds == "auto":
        thresholds = evaluation.auto_shot_thresholds(counts)
        source = (
            "auto: OLTR"
            if thresholds == evaluation.OLTR_SHOT_THRESHOLDS
            else "auto: log-scale terciles"
        )
    else:
        thresholds, source = args.shot_thresholds, "given"
    output = args.output
    _make_output_dir(output)
    out = console()
    many, few = thresholds
    out.print(
        f"[bold]dataset[/bold]          {escape(data['name'])}: train "
        f"{tuple(data['train'][0].shape)}, test {tuple(data['test'][0].shape)}, "
        f"{k} classes"
    )
    out.print(f"[bold]class counts[/bold]     {counts}")
    out.print(f"[bold]shot thresholds[/bold]  many > {many}, few < {few} ({source})")
    out.print()
    balanced = compute_class_weights(counts)
    effective = compute_class_weights(counts, "effective_number", beta=0.9999)
    group = {}
    for name in ("many", "medium", "few"):
        for c in group_of_classes(counts, name, *thresholds):
            group[int(c)] = name
    table = Table(
        title="class counts and suggested class weights", title_justify="left"
    )
    for header, justify in (
        ("class", "right"),
        ("name", "left"),
        ("train", "right"),
        ("test", "right"),
        ("group", "left"),
        ("balanced", "right"),
        ("effective number (beta=0.9999)", "right"),
    ):
        table.add_column(header, justify=justify)
    for c in range(k):
        table.add_row(
            str(c),
            escape(data["class_names"][c]),
            str(counts[c]),
            str(data["test_counts"][c]),
            group.get(c, ""),
            f"{balanced[c]:.4f}",
            f"{effective[c]:.4f}",
        )
    table.add_section()
    table.add_row(
        "", "total", str(sum(counts)), str(sum(data["test_counts"])), "", "", ""
    )
    out.print(table)
    sizes = {g: list(group.values()).count(g) for g in ("many", "medium", "few")}
    present = [n for n in counts if n > 0]
    out.print(
        "imbalance ratio (largest / smallest non-empty train class): "
        f"{max(present) / min(present):.4g}"
    )
    out.print(
        "shot groups: "
        + ", ".join(f"{sizes.get(g, 0)} {g}" for g in ("many", "medium", "few"))
    )
    out.print(
        "balanced weights are N / (K n_c) "
        "(`keras_imbalance.compute_class_weights(counts)`); effective-number "
        "weights follow Cui et al. 2019, normalised to sum to K."
    )
    path = os.path.join(output, "class_counts.png")
    _save_figure(_class_counts_figure(data, thresholds), path)
    out.print(f"class_counts.png written to {escape(os.path.abspath(path))}")
    return 0
