"""Checking and normalising the parsed arguments of `keras-imbalance`.

Runs before Keras or TensorFlow is imported, like `parser`.
"""

import math

from keras_imbalance import _catalog, _validation, protocols
from keras_imbalance.cli.parser import (
    DEFAULT_OUTPUT,
    MAX_SEEDS,
    UsageError,
    invalid,
    one_line,
)
from keras_imbalance.datasets import DATASETS, dataset_kind

# The command's implementation: no public API here.
__all__ = []


def _checked(check, option, value, **options):
    """`check(option, value, **options)` (a `_validation` check), as a usage error."""
    try:
        return check(option, value, **options)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _names(value, available, option, noun):
    names = []
    for name in (part.strip() for part in value.split(",")):
        if not name:
            raise invalid(option, "comma-separated names", value)
        if name not in available:
            raise UsageError(
                f"Unknown {noun} {name!r}. Expected one of {list(available)}."
            )
        if name not in names:
            names.append(name)
    return names


def _seeds(value, option):
    try:
        seeds = [int(part) for part in value.split(",")]
    except ValueError:
        seeds = None
    if (
        not seeds
        or any(not _validation.is_seed(s) for s in seeds)
        or len(set(seeds)) != len(seeds)
    ):
        words = f"distinct integers in [0, 2**{_validation.SEED_BITS}), comma-separated"
        raise invalid(option, words, value)
    if len(seeds) > MAX_SEEDS:
        raise invalid(option, f"at most {MAX_SEEDS} seeds", f"{len(seeds)} seeds")
    return seeds


def _thresholds(value):
    if value.strip().lower() == "auto":
        return "auto"
    try:
        many, few = (int(p) for p in value.split(","))
    except ValueError:
        many = few = None
    if many is None or few < 0 or many < few:
        raise invalid(
            "--shot-thresholds",
            "`auto` or two integers MANY,FEW with MANY >= FEW >= 0",
            value,
        )
    return many, few


def _image_size(value):
    if value is None:
        return None
    try:
        sizes = tuple(int(p) for p in value.lower().replace("x", ",").split(","))
    except ValueError:
        sizes = ()
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 1:
        raise invalid("--image-size", "SIZE or HEIGHT,WIDTH, positive integers", value)
    return sizes


def _threshold(value):
    """`--threshold`: `"auto"` when not given, `None`, `"f1"` or `{"recall": r}`."""
    if value is None:
        return "auto"
    word = value.strip().lower()
    if word in ("none", "f1"):
        return None if word == "none" else "f1"
    key, _, number = word.partition("=")
    try:
        recall = float(number) if key.strip() == "recall" else None
    except ValueError:
        recall = None
    if recall is None or not 0 < recall <= 1:
        raise invalid("--threshold", "f1, none or recall=R with R in (0, 1]", value)
    return {"recall": recall}


def check(args):
    """Validate and normalise parsed arguments in place (`UsageError`)."""
    kind = dataset_kind(args.dataset)
    folder, table = kind == "image_folder", kind == "table"
    if kind is None:
        raise UsageError(
            f"Unknown dataset {args.dataset!r}. Expected one of {sorted(DATASETS)}, "
            "the path of an .npz or .csv file or of a folder of images (one "
            "subfolder per class)."
        )
    if table != (args.target is not None):
        raise UsageError(
            f"--target COLUMN is required for the .csv table {args.dataset!r}."
            if table
            else f"--target is for .csv tables; {args.dataset!r} is not one."
        )
    if args.image_size is not None or args.color_mode is not None:
        if not folder:
            raise UsageError(
                "--image-size and --color-mode are for image folders; "
                f"{args.dataset!r} is not a folder."
            )
        args.image_size = _image_size(args.image_size)
    ratio = args.imbalance_ratio
    if ratio is not None and (not math.isfinite(ratio) or ratio < 1):
        raise invalid("--imbalance-ratio", "a float >= 1", ratio)
    _checked(_validation.check_seed, "--data-seed", args.data_seed, allow_none=False)
    if args.num_classes is not None and args.num_classes < 2:
        raise invalid("--num-classes", "an integer >= 2", args.num_classes)
    args.shot_thresholds = _thresholds(args.shot_thresholds)
    if args.output is None:
        args.output = DEFAULT_OUTPUT[args.command]
    if args.command != "compare":
        return args
    for option, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value is not None:
            _checked(_validation.check_positive_int, option, value)
    # "all" (the default) lets `compare` leave out the strategies that cannot
    # train on the data (image augmentation on a table); named ones must.
    args.all_strategies = (
        args.strategies is None or args.strategies.strip().lower() == "all"
    )
    if args.all_strategies:
        args.strategies = list(_catalog.STRATEGIES)
    else:
        args.strategies = _names(
            args.strategies, _catalog.STRATEGIES, "--strategies", "strategy"
        )
    if args.model not in _catalog.MODELS:
        raise UsageError(
            f"Unknown model {args.model!r}. Expected one of {list(_catalog.MODELS)}."
        )
    if args.repeats is not None:
        if not 1 <= args.repeats <= MAX_SEEDS:
            raise invalid("--repeats", f"an integer in [1, {MAX_SEEDS}]", args.repeats)
        args.seeds = list(range(args.repeats))
    else:
        args.seeds = _seeds(args.seeds, "--seeds")
    if not 0 < args.validation_split <= 0.5:
        raise invalid(
            "--validation-split", "a fraction in (0, 0.5]", args.validation_split
        )
    args.threshold = _threshold(args.threshold)
    changes = {
        "optimizer": args.optimizer,
        "learning_rate": args.learning_rate,
        "weight_decay": args.weight_decay,
        "schedule": args.schedule,
        "warmup_epochs": args.warmup_epochs,
        "precise_bn": False if args.no_precise_bn else None,
    }
    try:
        args.protocol = protocols.get(args.protocol).replace(**changes)
    except ValueError as error:
        message = one_line(error)
        for key in changes:  # speak of the options, not the fields
            option = "--" + key.replace("_", "-")
            message = message.replace(f"`{key}`", f"`{option}`")
            message = message.replace(f"{key}=", f"{option}=")
        raise UsageError(message) from None
    return args


def check_distribution(value):
    """`--distribution`, checked against the backend and its devices.

    Imports Keras (call it when the run is about to start); `UsageError`
    when the backend is not JAX or sees fewer than 2 devices.
    """
    if value is None:
        return None
    from keras_imbalance.strategies.context import distribution_scope

    try:
        distribution_scope(value)
    except ValueError as error:
        raise UsageError("--distribution: " + one_line(error)) from None
    return value
