"""The `keras-imbalance` command (also `python -m keras_imbalance`).

Two subcommands:

- `keras-imbalance compare`: train several named strategies
  (`keras_imbalance.strategies`) on one long-tailed dataset with the same
  model, budget and seed, evaluate each on the balanced test split and report
  them side by side (a table on the terminal; `results.json`, `results.csv`,
  `per_class_recall.png` and the best strategy's confusion matrix in
  `--output`; with `--export-best`, the best model as a SavedModel).
- `keras-imbalance inspect`: the class counts of a dataset, its shot groups,
  its imbalance ratio and the suggested class weights, with a bar chart.

Datasets: `digits-lt` (scikit-learn's digits, no download, the default),
`fashion-mnist-lt` (local Fashion-MNIST files) or a path to an `.npz` file
holding `x_train`, `y_train`, `x_test` and `y_test` (integer class ids).

Bad input (an unknown dataset, strategy or model, an invalid number, a
missing or unreadable file) ends the command with one line on stderr,
`keras-imbalance: error: ...`, and exit status 2.
"""

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import platform
import re
import shlex
import sys
import time

import numpy as np

# Before TensorFlow is imported (lazily, by the commands): no C++ info logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEFAULT_MODEL",
    "DEFAULT_OUTPUT",
    "DEFAULT_SEED",
    "DATASETS",
    "FASHION_MNIST_CLASS_NAMES",
    "OLTR_SHOT_THRESHOLDS",
    "auto_shot_thresholds",
    "main",
]

PROG = "keras-imbalance"
DEFAULT_MODEL = "small_cnn"
DEFAULT_EPOCHS = 20
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 0
DEFAULT_OUTPUT = "keras_imbalance_results"
DEFAULT_DATASET = "digits-lt"

#: Built-in datasets and their default imbalance ratio.
DATASETS = {"digits-lt": 10.0, "fashion-mnist-lt": 100.0}

#: Class names of Fashion-MNIST (Xiao et al., 2017), by class id.
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: `(many, few)` of Liu et al. (OLTR, 2019): more than 100 training samples is
#: many-shot, fewer than 20 few-shot.
OLTR_SHOT_THRESHOLDS = (100, 20)

_CSV_FIELDS = (
    "strategy",
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "g_mean",
    "many_shot_accuracy",
    "medium_shot_accuracy",
    "few_shot_accuracy",
    "ece",
    "train_seconds",
)


class _UsageError(Exception):
    """Bad user input: reported as one line on stderr, exit status 2."""


def _one_line(message):
    return " ".join(str(message).split())


def _invalid(option, expected, received):
    return _UsageError(
        f"Invalid value for argument `{option}`. Expected {expected}. "
        f"Received: {option}={received!r}"
    )


# --- shot thresholds --------------------------------------------------------


def _groups(counts, many, few):
    """Number of many-, medium- and few-shot classes (OLTR inequalities)."""
    many_n = int(np.sum(counts > many))
    few_n = int(np.sum(counts < few))
    return many_n, counts.size - many_n - few_n, few_n


def auto_shot_thresholds(class_counts):
    """Many / few-shot thresholds suited to a training distribution.

    OLTR's `(100, 20)` (Liu et al., 2019: more than 100 training samples is
    many-shot, fewer than 20 few-shot) when each of the three groups gets at
    least one class. Otherwise (e.g. Fashion-MNIST-LT, 60 to 6000 samples,
    where no class is few-shot by OLTR's count) the log-scale terciles of the
    non-zero counts: with `n_max`, `n_min` the largest and smallest non-zero
    count and `r = n_max / n_min`, `many = floor(n_max * r**(-1/3))` and
    `few = ceil(n_max * r**(-2/3))` (at most `many`).

    Args:
        class_counts: Training samples per class (non-negative numbers).

    Returns:
        `(many, few)`, two Python ints with `many >= few >= 0`, the
        `shot_thresholds` of `keras_imbalance.evaluation.evaluate_imbalanced`.

    Raises:
        ValueError: for an empty, non-1-D, negative or all-zero `class_counts`.

    Example:

    >>> auto_shot_thresholds([122, 94, 73, 56, 43, 33, 26, 20, 15, 12])
    (100, 20)
    >>> auto_shot_thresholds([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60])
    (1292, 279)
    """
    try:
        counts = np.asarray(class_counts, dtype="float64")
    except (TypeError, ValueError):
        counts = None
    if (
        counts is None
        or counts.ndim != 1
        or counts.size == 0
        or not np.all(np.isfinite(counts))
        or np.any(counts < 0)
        or not np.any(counts > 0)
    ):
        raise ValueError(
            "Invalid value for argument `class_counts`. Expected a non-empty "
            "1-D sequence of non-negative counts, not all zero. Received: "
            f"class_counts={class_counts!r}"
        )
    if min(_groups(counts, *OLTR_SHOT_THRESHOLDS)) > 0:
        return OLTR_SHOT_THRESHOLDS
    present = counts[counts > 0]
    n_max, n_min = float(present.max()), float(present.min())
    ratio = n_max / n_min
    many = math.floor(n_max * ratio ** (-1.0 / 3.0) + 1e-9)
    few = math.ceil(n_max * ratio ** (-2.0 / 3.0) - 1e-9)
    return int(many), int(min(few, many))


def _parse_thresholds(value):
    """`auto` -> `None`; `"MANY,FEW"` -> `(many, few)`."""
    if value.strip().lower() == "auto":
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        many, few = (int(p) for p in parts)
    except ValueError:
        many = few = None
    if many is None or few < 0 or many < few:
        raise _invalid(
            "--shot-thresholds",
            "`auto` or two integers MANY,FEW with MANY >= FEW >= 0",
            value,
        )
    return many, few


def _thresholds_for(option, counts):
    """The thresholds to use and a few words on where they come from."""
    if option is not None:
        return option, "given"
    thresholds = auto_shot_thresholds(counts)
    if thresholds == OLTR_SHOT_THRESHOLDS:
        return thresholds, "auto: OLTR"
    return thresholds, "auto: log-scale terciles"


# --- datasets ---------------------------------------------------------------


def _is_npz(dataset):
    return dataset.lower().endswith(".npz")


def _check_dataset(dataset):
    if dataset not in DATASETS and not _is_npz(dataset):
        raise _UsageError(
            f"Unknown dataset {dataset!r}. Expected one of {sorted(DATASETS)} "
            "or the path of an .npz file."
        )


def _check_common(args):
    _check_dataset(args.dataset)
    ratio = args.imbalance_ratio
    if ratio is not None and (not math.isfinite(ratio) or ratio < 1):
        raise _invalid("--imbalance-ratio", "a float >= 1", ratio)
    if args.seed < 0:
        raise _invalid("--seed", "a non-negative integer", args.seed)
    args.shot_thresholds = _parse_thresholds(args.shot_thresholds)


def _class_ids(y, name):
    """Integer class ids `(N,)` from an `.npz` label array, validated."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.size == 0:
        raise ValueError(
            f"`{name}` must hold integer class ids of shape (N,) with N > 0. "
            f"Received: {name}.shape={y.shape}"
        )
    if np.issubdtype(y.dtype, np.integer):
        ids = y
    elif np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)):
        if not np.all(y == np.round(y)):
            raise ValueError(f"`{name}` must hold integer class ids; found fractions.")
        ids = y
    else:
        raise ValueError(
            f"`{name}` must hold integer class ids. Received: dtype {y.dtype}"
        )
    if ids.min() < 0:
        raise ValueError(
            f"`{name}` must hold non-negative class ids. Received: a label "
            f"{ids.min()!r}"
        )
    return ids.astype("int64")


def _load_dataset(args):
    """Load the requested data; every failure is a `_UsageError`."""
    from keras_imbalance import datasets

    dataset = args.dataset
    ratio = args.imbalance_ratio
    seed = args.seed
    try:
        if dataset == "digits-lt":
            ratio = DATASETS[dataset] if ratio is None else ratio
            (x_train, y_train), (x_test, y_test) = datasets.load_digits_lt(
                imbalance_ratio=ratio, seed=seed
            )
            names = None
        elif dataset == "fashion-mnist-lt":
            ratio = DATASETS[dataset] if ratio is None else ratio
            (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist_lt(
                imbalance_ratio=ratio, seed=seed, path=args.data_dir
            )
            names = list(FASHION_MNIST_CLASS_NAMES)
        else:
            if not os.path.isfile(dataset):
                raise FileNotFoundError(f"No such .npz file: {dataset!r}")
            (x_train, y_train), (x_test, y_test) = datasets.load_npz(dataset)
            for key, x in (("x_train", x_train), ("x_test", x_test)):
                if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
                    raise ValueError(
                        f"`{key}` must be a numeric array. Received: dtype {x.dtype}"
                    )
            y_train = _class_ids(y_train, "y_train")
            y_test = _class_ids(y_test, "y_test")
            if int(max(y_train.max(), y_test.max())) < 1:
                raise ValueError(
                    f"{dataset!r} holds a single class (label 0); a classifier "
                    "needs at least 2."
                )
            if ratio is not None:
                num_classes = int(max(y_train.max(), y_test.max())) + 1
                (x_train, y_train), _ = datasets.make_long_tailed(
                    x_train,
                    y_train,
                    imbalance_ratio=ratio,
                    num_classes=num_classes,
                    seed=seed,
                )
            names = None
    except (ValueError, TypeError, OSError) as error:
        raise _UsageError(_one_line(error)) from None
    y_train = np.asarray(y_train, dtype="int64")
    y_test = np.asarray(y_test, dtype="int64")
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    if names is None or len(names) != num_classes:
        names = [str(c) for c in range(num_classes)]
    train_counts = np.bincount(y_train, minlength=num_classes)
    test_counts = np.bincount(y_test, minlength=num_classes)
    present = train_counts[train_counts > 0]
    measured = float(present.max() / present.min())
    return {
        "name": dataset,
        "train": (x_train, y_train),
        "test": (x_test, y_test),
        "class_names": names,
        "num_classes": num_classes,
        "train_counts": [int(v) for v in train_counts],
        "test_counts": [int(v) for v in test_counts],
        "imbalance_ratio": measured if ratio is None else float(ratio),
        "measured_imbalance_ratio": measured,
    }


def _make_output_dir(path):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise _UsageError(
            _one_line(f"Cannot create the output directory {path!r}: {error}")
        ) from None


# --- console helpers --------------------------------------------------------


def _console():
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        # Piped output (logs, CI, tests): wide enough for the results table.
        console = Console(highlight=False, width=max(console.width, 140))
    return console


def _fmt(value, digits=4):
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _fmt_seconds(seconds):
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def _ratio_text(data):
    ratio = data["imbalance_ratio"]
    measured = data["measured_imbalance_ratio"]
    if abs(ratio - measured) < 1e-9:
        return f"{ratio:g}"
    return f"{ratio:g} (measured {measured:.3g})"


# --- progress ---------------------------------------------------------------


class _ProgressTracker:
    """Counts epochs over strategies and estimates the time left.

    ETA = mean seconds per completed epoch so far * epochs left, the epochs
    left being those of the current strategy (at least 0: a two-stage recipe
    may run more than `epochs`) plus `epochs` for each strategy still to run.
    """

    def __init__(self, names, epochs, *, clock=time.perf_counter):
        self.names = list(names)
        self.epochs = int(epochs)
        self.clock = clock
        self.index = -1
        self.epoch = 0
        self.epochs_done = 0
        self._spent = 0.0
        self._start = None

    def start_strategy(self, index):
        self.index = index
        self.epoch = 0
        self._start = self.clock()

    def end_strategy(self):
        if self._start is not None:
            self._spent += self.clock() - self._start
            self._start = None

    def epoch_end(self):
        self.epoch += 1
        self.epochs_done += 1

    @property
    def elapsed(self):
        running = 0.0 if self._start is None else self.clock() - self._start
        return self._spent + running

    @property
    def remaining_epochs(self):
        later = len(self.names) - self.index - 1
        return later * self.epochs + max(self.epochs - self.epoch, 0)

    def eta_seconds(self):
        """Estimated seconds left, `None` before the first epoch ends."""
        if self.epochs_done == 0:
            return None
        return self.elapsed / self.epochs_done * self.remaining_epochs

    def label(self):
        return f"strategy {self.index + 1}/{len(self.names)} {self.names[self.index]}"

    def epoch_text(self):
        return f"epoch {self.epoch}/{max(self.epochs, self.epoch)}"

    def line(self):
        return (
            f"{self.label()}: {self.epoch_text()}, "
            f"ETA {_fmt_seconds(self.eta_seconds())}"
        )


class _Display:
    """Shows a `_ProgressTracker`: a rich bar on a terminal, else plain lines."""

    def __init__(self, console, tracker, *, quiet):
        self.console = console
        self.tracker = tracker
        self.quiet = quiet
        self.live = console.is_terminal and not quiet
        self._progress = None
        self._task = None

    def __enter__(self):
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[epoch]}"),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                console=self.console,
            )
            self._progress.__enter__()
            total = len(self.tracker.names) * self.tracker.epochs
            self._task = self._progress.add_task(
                "starting", total=total, epoch="", eta="--:--"
            )
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.__exit__(*exc)
        return False

    def print(self, text):
        from rich.markup import escape

        target = self._progress.console if self._progress else self.console
        target.print(escape(text), highlight=False)

    def _refresh(self):
        if self._progress is None:
            return
        t = self.tracker
        self._progress.update(
            self._task,
            description=t.label(),
            completed=t.epochs_done,
            total=max(len(t.names) * t.epochs, t.epochs_done + t.remaining_epochs),
            epoch=t.epoch_text(),
            eta=_fmt_seconds(t.eta_seconds()),
        )

    def strategy_started(self, index):
        self.tracker.start_strategy(index)
        if self.live:
            self._refresh()
        elif not self.quiet:
            self.print(f"{self.tracker.label()}: training")

    def epoch_ended(self):
        self.tracker.epoch_end()
        if self.live:
            self._refresh()
        elif not self.quiet:
            self.print(self.tracker.line())

    def strategy_ended(self, seconds, report):
        self.tracker.end_strategy()
        self.print(
            f"{self.tracker.label()}: done in {seconds:.1f} s, balanced accuracy "
            f"{_fmt(report.balanced_accuracy)}"
        )
        self._refresh()


def _epoch_callback(display):
    """A `keras.callbacks.Callback` telling `display` of each finished epoch.

    It counts `on_epoch_end` calls only, so it is right for strategies that
    call `fit` several times (two-stage recipes).
    """
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            display.epoch_ended()

    return EpochProgress()


# --- compare ----------------------------------------------------------------


def _strategy_names(value, strategies):
    available = list(strategies.available())
    if value is None:
        default = getattr(strategies, "DEFAULT_COMPARE", None)
        return list(default) if default else available
    if value.strip().lower() == "all":
        return available
    names = []
    for name in (part.strip() for part in value.split(",")):
        if not name:
            raise _invalid(
                "--strategies", "comma-separated strategy names or `all`", value
            )
        if name not in available:
            raise _UsageError(
                f"Unknown strategy {name!r}. Expected one of {available} or `all`."
            )
        if name not in names:
            names.append(name)
    return names


def _resolve_training(args):
    """Strategies and model factory; every failure is a `_UsageError`."""
    try:
        from keras_imbalance import strategies

        names = _strategy_names(args.strategies, strategies)
        chosen = [strategies.get(name) for name in names]
        models = getattr(strategies, "MODELS", None)
        if models is not None and args.model not in models:
            raise _UsageError(
                f"Unknown model {args.model!r}. Expected one of {sorted(models)}."
            )
        model_fn = strategies.model_factory(args.model)
    except (ValueError, TypeError, OSError) as error:
        raise _UsageError(_one_line(error)) from None
    return names, chosen, model_fn


@contextlib.contextmanager
def _quiet_tensorflow_logs():
    """Hide TF's Python-side warnings (e.g. tf.function retracing, expected
    when predicting with one fresh model per strategy) while the command runs."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _machine():
    import keras
    import tensorflow as tf

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpu_count": os.cpu_count(),
    }


def _json_value(value):
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _best(results):
    def key(item):
        value = item["report"].balanced_accuracy
        value = -math.inf if value is None or not math.isfinite(value) else value
        return value

    best = results[0]
    for item in results[1:]:
        if key(item) > key(best):
            best = item
    return best


def _safe_filename(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _print_header(console, data, args, names, thresholds, source):
    from rich.markup import escape

    x_train, _ = data["train"]
    x_test, _ = data["test"]
    many, few = thresholds
    lines = [
        f"[bold]dataset[/bold]          {escape(data['name'])}: "
        f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, "
        f"{data['num_classes']} classes",
        f"[bold]class counts[/bold]     {data['train_counts']}",
        f"[bold]imbalance ratio[/bold]  {_ratio_text(data)}",
    ]
    if args.command == "compare":
        lines += [
            f"[bold]model[/bold]            {escape(args.model)}",
            f"[bold]training[/bold]         {args.epochs} "
            f"epoch{'' if args.epochs == 1 else 's'}, batch size "
            f"{args.batch_size}, seed {args.seed}",
            f"[bold]strategies[/bold]       {escape(', '.join(names))}",
        ]
    lines.append(f"[bold]shot thresholds[/bold]  many > {many}, few < {few} ({source})")
    for line in lines:
        console.print(line)


def _results_table(results, best_name):
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title="strategies compared (test split)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption="* best balanced accuracy",
        caption_justify="left",
        collapse_padding=True,
    )
    # On a narrow terminal long strategy names fold; the numbers never do.
    table.add_column("strategy", overflow="fold", min_width=12)
    for header in (
        "acc.",
        "bal.\nacc.",
        "macro\nF1",
        "G-mean",
        "many\nshot",
        "medium\nshot",
        "few\nshot",
        "train\n(s)",
    ):
        table.add_column(header, justify="right", no_wrap=True, min_width=6)
    for item in results:
        report = item["report"]
        is_best = item["strategy"] == best_name
        name = escape(item["strategy"]) + (" *" if is_best else "")
        table.add_row(
            name,
            _fmt(report.accuracy),
            _fmt(report.balanced_accuracy),
            _fmt(report.macro_f1),
            _fmt(report.g_mean),
            _fmt(report.many_shot_accuracy),
            _fmt(report.medium_shot_accuracy),
            _fmt(report.few_shot_accuracy),
            f"{item['train_seconds']:.1f}",
            style="bold green" if is_best else None,
        )
    return table


def _write_results(output, args, argv, data, thresholds, results, best):
    paths = {}
    record = {
        "command": shlex.join([PROG, *argv]),
        "dataset": data["name"],
        "imbalance_ratio": data["imbalance_ratio"],
        "measured_imbalance_ratio": data["measured_imbalance_ratio"],
        "model": args.model,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "num_classes": data["num_classes"],
        "class_names": data["class_names"],
        "class_counts": data["train_counts"],
        "test_counts": data["test_counts"],
        "shot_thresholds": list(thresholds),
        "machine": _machine(),
        "results": [
            {
                "strategy": item["strategy"],
                "description": item["description"],
                "train_seconds": item["train_seconds"],
                **item["report"].summary(),
                "report": item["report"].to_dict(),
            }
            for item in results
        ],
        "best": best["strategy"],
    }
    paths["results.json"] = os.path.join(output, "results.json")
    with open(paths["results.json"], "w", encoding="utf-8") as f:
        json.dump(_json_value(record), f, indent=2, allow_nan=False)
        f.write("\n")

    paths["results.csv"] = os.path.join(output, "results.csv")
    with open(paths["results.csv"], "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=_CSV_FIELDS)
        writer.writeheader()
        for item in results:
            row = {"strategy": item["strategy"]}
            row.update(_json_value(item["report"].summary()))
            row["train_seconds"] = round(item["train_seconds"], 3)
            writer.writerow(
                {k: "" if row.get(k) is None else row[k] for k in _CSV_FIELDS}
            )

    from keras_imbalance import evaluation

    figure = evaluation.plot_per_class_recall(
        {item["strategy"]: item["report"] for item in results},
        class_counts=data["train_counts"],
    )
    paths["per_class_recall.png"] = os.path.join(output, "per_class_recall.png")
    _save_figure(figure, paths["per_class_recall.png"])

    name = f"confusion_matrix_{_safe_filename(best['strategy'])}.png"
    paths[name] = os.path.join(output, name)
    _save_figure(best["report"].plot(), paths[name])
    return paths


def _save_figure(figure, path):
    """Save a Figure (built without pyplot: no GUI backend involved) and free it."""
    figure.savefig(path, dpi=120)
    figure.clear()


def _compare(args, argv):
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise _invalid(option, "a positive integer", value)
    _check_common(args)
    names, chosen, model_fn = _resolve_training(args)
    data = _load_dataset(args)
    thresholds, source = _thresholds_for(args.shot_thresholds, data["train_counts"])
    output = args.output
    _make_output_dir(output)

    import keras

    from keras_imbalance import evaluation

    console = _console()
    _print_header(console, data, args, names, thresholds, source)
    console.print()

    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    tracker = _ProgressTracker(names, args.epochs)
    results = []
    best_model = None
    with (
        _quiet_tensorflow_logs(),
        _Display(console, tracker, quiet=args.quiet) as display,
    ):
        callback = _epoch_callback(display)
        for index, (name, strategy) in enumerate(zip(names, chosen)):
            display.strategy_started(index)
            keras.utils.set_random_seed(args.seed)
            start = time.perf_counter()
            model, _ = strategy.fit(
                model_fn,
                x_train,
                y_train,
                epochs=args.epochs,
                batch_size=args.batch_size,
                seed=args.seed,
                num_classes=data["num_classes"],
                callbacks=[callback],
                verbose=0,
            )
            seconds = time.perf_counter() - start
            report = evaluation.evaluate_imbalanced(
                model,
                x_test,
                y_test,
                class_counts=data["train_counts"],
                class_names=data["class_names"],
                shot_thresholds=thresholds,
            )
            display.strategy_ended(seconds, report)
            results.append(
                {
                    "strategy": name,
                    "description": getattr(strategy, "description", ""),
                    "train_seconds": seconds,
                    "report": report,
                }
            )
            if args.export_best and _best(results)["strategy"] == name:
                best_model = model  # Only the best model so far is kept.
            del model

    best = _best(results)
    console.print()
    console.print(_results_table(results, best["strategy"]))
    console.print()

    paths = _write_results(output, args, argv, data, thresholds, results, best)
    if args.export_best:
        from keras_imbalance.export import export_saved_model

        paths["best_model"] = os.path.join(output, "best_model")
        export_saved_model(
            best_model,
            paths["best_model"],
            class_names=data["class_names"],
            overwrite=True,
        )
    from rich.markup import escape

    console.print(
        f"best: [bold]{escape(best['strategy'])}[/bold] (balanced accuracy "
        f"{_fmt(best['report'].balanced_accuracy)})"
    )
    console.print(f"results written to {escape(os.path.abspath(output))}:")
    for name, path in paths.items():
        console.print(f"  {escape(name)}: {escape(path)}")
    return 0


# --- inspect ----------------------------------------------------------------


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
    if data["measured_imbalance_ratio"] >= 10:
        ax.set_yscale("log")
    if k <= 30:
        ax.set_xticks(
            positions, labels=list(data["class_names"]), rotation=45, ha="right"
        )
    ax.set_xlabel("class")
    ax.set_ylabel("samples")
    ax.set_title(
        f"{data['name']}: class counts (imbalance ratio "
        f"{data['measured_imbalance_ratio']:.3g})"
    )
    ax.legend(fontsize=8)
    return fig


def _inspect(args):
    _check_common(args)
    data = _load_dataset(args)
    thresholds, source = _thresholds_for(args.shot_thresholds, data["train_counts"])
    output = args.output
    _make_output_dir(output)

    from rich.markup import escape
    from rich.table import Table

    from keras_imbalance import compute_class_weights
    from keras_imbalance.metrics import group_of_classes

    console = _console()
    _print_header(console, data, args, [], thresholds, source)
    console.print()

    counts = data["train_counts"]
    balanced = compute_class_weights(counts)
    effective = compute_class_weights(counts, "effective_number", beta=0.9999)
    group = {}
    for name in ("many", "medium", "few"):
        for c in group_of_classes(counts, name, *thresholds):
            group[int(c)] = name
    table = Table(
        title="class counts and suggested class weights", title_justify="left"
    )
    table.add_column("class", justify="right")
    table.add_column("name")
    table.add_column("train", justify="right")
    table.add_column("test", justify="right")
    table.add_column("group")
    table.add_column("balanced", justify="right")
    table.add_column("effective number (beta=0.9999)", justify="right")
    for c in range(data["num_classes"]):
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
    console.print(table)
    sizes = {g: list(group.values()).count(g) for g in ("many", "medium", "few")}
    console.print(
        f"imbalance ratio (largest / smallest non-empty train class): "
        f"{data['measured_imbalance_ratio']:.4g}"
    )
    console.print(
        "shot groups: "
        + ", ".join(f"{sizes.get(g, 0)} {g}" for g in ("many", "medium", "few"))
    )
    console.print(
        "balanced weights are N / (K n_c) "
        "(`keras_imbalance.compute_class_weights(counts)`); effective-number "
        "weights follow Cui et al. 2019, normalised to sum to K."
    )
    path = os.path.join(output, "class_counts.png")
    _save_figure(_class_counts_figure(data, thresholds), path)
    console.print(f"class_counts.png written to {escape(os.path.abspath(path))}")
    return 0


# --- argument parsing -------------------------------------------------------


def _add_data_options(parser):
    parser.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        metavar="NAME|FILE.npz",
        help=(
            "digits-lt (scikit-learn digits, no download), fashion-mnist-lt "
            "(local Fashion-MNIST files) or an .npz file holding x_train, "
            f"y_train, x_test, y_test (default: {DEFAULT_DATASET})"
        ),
    )
    parser.add_argument(
        "--imbalance-ratio",
        type=float,
        default=None,
        metavar="R",
        help=(
            "head / tail count of the training split, >= 1 (default: 10 for "
            "digits-lt, 100 for fashion-mnist-lt; an .npz is used as given "
            "unless R is passed)"
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the data split and of training (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="DIR",
        help=f"directory for the files written (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--shot-thresholds",
        default="auto",
        metavar="auto|MANY,FEW",
        help=(
            "many-shot: more than MANY training samples, few-shot: fewer than "
            "FEW; auto uses OLTR's 100,20 when every group gets a class, else "
            "log-scale terciles of the counts (default: auto)"
        ),
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=(
            "folder holding the Fashion-MNIST files (when given, only this "
            "folder is searched)"
        ),
    )


def _parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Compare class-imbalance training strategies on a long-tailed "
            "dataset, or inspect a dataset's class distribution."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    compare = commands.add_parser(
        "compare",
        help="train several strategies and report them side by side",
        description=(
            "Train each strategy with the same model, epochs, batch size and "
            "seed, evaluate it on the balanced test split and write "
            "results.json, results.csv and plots to --output."
        ),
    )
    _add_data_options(compare)
    compare.add_argument(
        "--strategies",
        default=None,
        metavar="a,b,...|all",
        help=(
            "comma-separated names from keras_imbalance.strategies.available(), "
            "or all (default: strategies.DEFAULT_COMPARE)"
        ),
    )
    compare.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="NAME",
        help=(
            f"a model of keras_imbalance.strategies.MODELS (default: {DEFAULT_MODEL})"
        ),
    )
    compare.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_EPOCHS,
        metavar="N",
        help=f"epochs per strategy (default: {DEFAULT_EPOCHS})",
    )
    compare.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="B",
        help=f"batch size (default: {DEFAULT_BATCH_SIZE})",
    )
    compare.add_argument(
        "--export-best",
        action="store_true",
        help="export the best model (balanced accuracy) to DIR/best_model",
    )
    compare.add_argument(
        "--quiet",
        action="store_true",
        help="no per-epoch progress, one line per strategy",
    )

    inspect = commands.add_parser(
        "inspect",
        help="class counts, shot groups and suggested class weights",
        description=(
            "Print the class counts (train and test), shot groups, imbalance "
            "ratio and suggested class weights; write class_counts.png to "
            "--output."
        ),
    )
    _add_data_options(inspect)
    return parser


def main(argv=None):
    """Run the `keras-imbalance` command.

    Args:
        argv: The arguments, without the program name. Defaults to `None`:
            `sys.argv[1:]`.

    Returns:
        The exit status: 0 on success, 2 for bad input (one line
        `keras-imbalance: error: ...` on stderr; argparse's usage errors also
        give 2). Errors during training are not caught.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    try:
        if args.command == "compare":
            return _compare(args, argv)
        return _inspect(args)
    except _UsageError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
