"""What `keras-imbalance compare` and `inspect` do once the arguments are checked.

Training and evaluation live in the library (`keras_imbalance.comparison`);
here they are only called, shown and written to files.
"""

import os
import shlex
import warnings

import numpy as np

from keras_imbalance._files import atomic_path, describe_os_error, write_text_atomic
from keras_imbalance._names import SHOT_GROUPS
from keras_imbalance.cli import outputs
from keras_imbalance.cli.checks import check_distribution
from keras_imbalance.cli.display import Display, console, fmt, results_table
from keras_imbalance.cli.parser import PROG, UsageError, one_line
from keras_imbalance.cli.quiet import import_keras_quietly

# The command's implementation: no public API here (the entry point is
# `keras_imbalance.cli.main`); the names are imported by the other cli modules.
__all__ = []

# Errors in the user's data or files, reported as one line (exit 2).
_DATA_ERRORS = (ValueError, TypeError, OSError)


def _load(args):
    """The dataset, checked (`datasets.load_dataset`), before Keras is loaded.

    Bad data is refused in seconds: nothing here needs TensorFlow, except
    the download fallback of fashion-mnist-lt and the CIFAR-LT sets, image
    folders and tables (preprocessed by a Keras model), which get Keras
    quietly.
    """
    from keras_imbalance import datasets

    downloadable = ("fashion-mnist-lt", "cifar10-lt", "cifar100-lt")
    kind = datasets.dataset_kind(args.dataset)
    folder, table = kind == "image_folder", kind == "table"
    if folder or table or (args.dataset in downloadable and args.data_dir is None):
        import_keras_quietly()  # image folders are read with tf.data
    load = datasets.load_dataset
    if getattr(args, "balanced_reference", False):
        load = datasets.load_balanced_reference
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = load(
                args.dataset,
                imbalance_ratio=args.imbalance_ratio,
                seed=args.data_seed,
                data_dir=args.data_dir,
                num_classes=args.num_classes,
                **(
                    {"image_size": args.image_size, "color_mode": args.color_mode}
                    if folder
                    else {}
                ),
                **({"target": args.target} if table else {}),
            )
    except _DATA_ERRORS as error:
        message = one_line(error)  # speak of the option, not the argument
        message = message.replace("`num_classes`", "`--num-classes`")
        raise UsageError(message.replace("num_classes=", "--num-classes=")) from None
    for warning in caught:  # e.g. damaged image files skipped
        console().print(f"warning: {one_line(warning.message)}", markup=False)
    return data


def _data_notes(data):
    """How a folder or table was read: its test split, columns, files skipped."""
    notes = []
    split = data.get("test_split")
    if split is not None:
        notes.append(
            "test split from the folder's train/ and test/"
            if split["source"] == "folders"
            else f"stratified test split: {split['fraction']:g} of each class "
            f"(seed {split['seed']})"
        )
    if "kinds" in data:  # a table
        kinds = list(data["kinds"].values())
        notes.append(
            f"target column {data['target']!r}; {kinds.count('numeric')} numeric "
            f"and {kinds.count('categorical')} categorical columns -> "
            f"{len(data['features'])} features; "
            f"{sum(data['missing'].values())} missing cells"
        )
    skipped = data.get("skipped")
    if skipped is not None:
        notes.append(
            f"{skipped['ignored']} files skipped (not images), "
            f"{skipped['unreadable']} damaged image files skipped"
        )
    return notes


def _make_output_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UsageError(
            one_line(f"Cannot create the output directory {path!r}: {error}")
        ) from None


def _save_figure(figure, path):
    """Save a Figure (built without pyplot: no GUI backend involved) as a PNG,
    atomically, and free it."""
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=120, format="png")
    finally:
        figure.clear()


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
            f"[bold]strategies[/bold]       {escape(', '.join(setup['strategies']))}",
        ]
        for name, reason in (setup.get("skipped_strategies") or {}).items():
            lines.append(
                f"[bold]left out[/bold]         {escape(name)}: {escape(reason)}"
            )
    lines.append(
        f"[bold]shot thresholds[/bold]  many > {many}, few < {few} "
        f"({setup['shot_threshold_source']})"
    )
    objective = setup.get("threshold_objective")
    if objective is not None:
        goal = "max F1" if objective == "f1" else f"recall >= {objective['recall']:g}"
        lines.append(
            f"[bold]threshold[/bold]        on p({escape(setup['class_names'][1])}), "
            f"tuned per run on validation for {goal}"
        )
    for line in lines:
        out.print(line)
    out.print()


def _write_files(comparison, staging, command):
    """Write results, plots and report into the staging folder; their paths."""
    from keras_imbalance.comparison.report import markdown_report

    confusion = f"confusion_matrix_{outputs.safe_filename(comparison.best)}.png"
    figures = [
        ("per-class recall", "per_class_recall.png"),
        (f"confusion matrix of {comparison.best}", confusion),
    ]
    text = markdown_report(comparison, command=command, figures=figures) + "\n"
    steps = [
        (outputs.RESULTS, comparison.to_json),
        ("results.csv", comparison.to_csv),
        (
            "per_class_recall.png",
            lambda p: _save_figure(comparison.plot_per_class_recall(), p),
        ),
        (confusion, lambda p: _save_figure(comparison.plot_confusion_matrix(), p)),
        ("report.md", lambda p: write_text_atomic(p, text)),
    ]
    return {name: staging.write(name, write) for name, write in steps}


def _write_outputs(result, args, command, out):
    """Every file of the run into `--output`, replacing the previous run's as a
    set (`keras_imbalance.cli.outputs`); `(exit status, {name: path})`."""
    best, status = result.best, 0
    export = args.export_best
    if export:
        warned = result.warnings(best)
        if warned and not args.force_export:
            out.print(
                f"[bold red]not exported[/bold red]: the best strategy {best!r} "
                f"is not a usable model ({'; '.join(warned)}); pass "
                "--force-export to export it anyway."
            )
            export, status = False, 1
    try:
        with outputs.Staging(args.output) as staging:
            paths = _write_files(result, staging, command)
            if export:
                from keras_imbalance.export import export_saved_model

                paths[outputs.MODEL] = staging.write(
                    outputs.MODEL,
                    lambda p: export_saved_model(
                        result.models[best],
                        p,
                        class_names=result.setup["class_names"],
                        threshold=result.best_run(best).tuned_params.get("threshold"),
                    ),
                )
            staging.commit()
    except outputs.WriteError as error:
        raise UsageError(one_line(error)) from None
    return status, paths


def run_compare(args, argv):
    from keras_imbalance import datasets

    distribution = getattr(args, "distribution", None)
    if distribution is not None:
        import_keras_quietly()
        check_distribution(distribution)
    data = _load(args)
    if args.threshold not in ("auto", None) and data["num_classes"] != 2:
        raise UsageError(
            f"--threshold is for two-class data; {args.dataset!r} has "
            f"{data['num_classes']} classes (their decision is the argmax)."
        )
    try:
        # The split compare makes, checked here to report bad data in one line.
        datasets.stratified_split(*data["train"], args.validation_split)
    except ValueError as error:
        raise UsageError(one_line(error)) from None
    output = args.output
    _make_output_dir(output)
    outputs.clean_stale(output, outputs.compare_files())
    import_keras_quietly()
    from keras_imbalance import comparison as comparison_api

    out = console()
    command = shlex.join([PROG, *argv])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Display(
            out, quiet=args.quiet, header=lambda setup: _header(out, setup, args)
        ) as display:
            result = comparison_api.compare(
                "all" if args.all_strategies else args.strategies,
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
                threshold=args.threshold,
                keep_models=args.export_best,
                progress=display,
                distribution=distribution,
            )
    result.setup["command"] = command
    if not getattr(args, "balanced_reference", False):
        # `compare` was given the loaded data: record where it came from, so
        # that `comparison.rerun(results.json)` loads it again.
        result.setup["call"].update(
            data=args.dataset,
            imbalance_ratio=args.imbalance_ratio,
            data_dir=args.data_dir,
            num_classes=args.num_classes,
            image_size=None if args.image_size is None else list(args.image_size),
            color_mode=args.color_mode,
            target=getattr(args, "target", None),
        )
    if args.export_best and "preprocessing" in data:  # a table: serve raw rows
        result.models[result.best] = datasets.table_model(
            data["preprocessing"], result.models[result.best]
        )
    out.print()
    out.print(results_table(result))
    out.print()
    # Deprecation notices of the libraries underneath are not the user's to act on.
    messages = sorted(
        {
            one_line(w.message)
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        }
    )
    if messages:
        out.print(f"{len(messages)} distinct warning(s) during training:")
        for message in messages[:10]:
            out.print(f"  {message}")
    status, paths = _write_outputs(result, args, command, out)
    best = result.best
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
    data = _load(args)
    import_keras_quietly()
    from rich.markup import escape
    from rich.table import Table

    from keras_imbalance import compute_class_weights, evaluation
    from keras_imbalance.metrics import group_of_classes

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
    outputs.clean_stale(output, ["class_counts.png"])
    out = console()
    many, few = thresholds
    out.print(
        f"[bold]dataset[/bold]          {escape(data['name'])}: train "
        f"{tuple(data['train'][0].shape)}, test {tuple(data['test'][0].shape)}, "
        f"{k} classes"
    )
    for note in _data_notes(data):
        out.print(f"[bold]files[/bold]            {escape(note)}")
    out.print(f"[bold]class counts[/bold]     {counts}")
    out.print(f"[bold]shot thresholds[/bold]  many > {many}, few < {few} ({source})")
    out.print()
    balanced = compute_class_weights(counts)
    effective = compute_class_weights(counts, "effective_number", beta=0.9999)
    group = {}
    for name in SHOT_GROUPS:
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
    sizes = {g: list(group.values()).count(g) for g in SHOT_GROUPS}
    present = [n for n in counts if n > 0]
    out.print(
        "imbalance ratio (largest / smallest non-empty train class): "
        f"{max(present) / min(present):.4g}"
    )
    out.print(
        "shot groups: " + ", ".join(f"{sizes.get(g, 0)} {g}" for g in SHOT_GROUPS)
    )
    out.print(
        "balanced weights are N / (K n_c) "
        "(`keras_imbalance.compute_class_weights(counts)`); effective-number "
        "weights follow Cui et al. 2019, normalised to sum to K."
    )
    path = os.path.join(output, "class_counts.png")
    try:
        _save_figure(_class_counts_figure(data, thresholds), path)
    except OSError as error:
        raise UsageError(
            f"Cannot write class_counts.png into {output!r}: "
            f"{describe_os_error(error)}; nothing in {output!r} was changed."
        ) from None
    out.print(f"class_counts.png written to {escape(os.path.abspath(path))}")
    return 0
