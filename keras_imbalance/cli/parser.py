"""Argument parsing for `keras-imbalance`, without Keras (checks: `checks`).

Everything here runs before Keras or TensorFlow is imported, so `--help`,
`--version` and every argument error answer at once.
"""

import argparse

from keras_imbalance import __version__, _catalog, _validation, protocols

# The command's implementation: no public API here (the entry point is
# `keras_imbalance.cli.main`); the names are imported by the other cli modules.
__all__ = []

PROG = "keras-imbalance"
DEFAULT_DATASET = "digits-lt"
DEFAULT_MODEL = "small_cnn"
DEFAULT_EPOCHS = 20
DEFAULT_OUTPUT = {
    "compare": "keras_imbalance_results/compare",
    "inspect": "keras_imbalance_results/inspect",
}
#: The most seeds one command trains (`--repeats`, `--seeds`).
MAX_SEEDS = 1000


class UsageError(Exception):
    """Bad user input: one line on stderr, exit status 2."""


def one_line(message):
    return " ".join(str(message).split())


def invalid(option, expected, received):
    """`_validation.invalid`'s message, as a `UsageError`."""
    return UsageError(str(_validation.invalid(option, expected, received)))


def _data_options(parser, command):
    parser.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        metavar="NAME|FILE.npz|FILE.csv|FOLDER",
        help=(
            "digits-lt (scikit-learn digits, no download), fashion-mnist-lt "
            "(local Fashion-MNIST files), cifar10-lt or cifar100-lt (CIFAR-LT "
            "of Cao et al. 2019, from the CIFAR python files or the Keras "
            "cache), an .npz file holding x_train, y_train, x_test, y_test, "
            "a .csv table with --target (numeric and categorical columns, "
            "preprocessed as fitted on the training split; --export-best "
            "serves raw rows), or a folder of images with one subfolder per "
            "class (its train/ and test/ subfolders if it has them, else a "
            "stratified 20%% test split drawn with --data-seed, as for a "
            "table; images stay on disk and are decoded as they are used) "
            f"(default: {DEFAULT_DATASET})"
        ),
    )
    parser.add_argument(
        "--imbalance-ratio",
        type=float,
        default=None,
        metavar="R",
        help=(
            "head / tail count of the training split, >= 1 (default: 10 for "
            "digits-lt, 100 for fashion-mnist-lt, cifar10-lt and cifar100-lt; "
            "an .npz is used as given unless R is passed)"
        ),
    )
    parser.add_argument(
        "--image-size",
        default=None,
        metavar="SIZE|H,W",
        help="for an image folder: the size images are resized to (default: 64,64)",
    )
    parser.add_argument(
        "--color-mode",
        default=None,
        choices=("rgb", "grayscale", "rgba"),
        help="for an image folder: the channels images are read with (default: rgb)",
    )
    parser.add_argument(
        "--target",
        default=None,
        metavar="COLUMN",
        help="for a .csv table: the column to predict (required for one)",
    )
    parser.add_argument(
        "--data-seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of the dataset's random choices and the validation split (0)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        default=None,
        metavar="C",
        help=(
            "the number of classes, when some of the ids 0..C-1 have no "
            "training sample; every label must be below C (default: the "
            "largest training label + 1; a label set in which more than half "
            "of those ids are empty, or a test label without training "
            "samples, is refused unless C is given)"
        ),
    )
    output_help = f"folder for the files written (default: {DEFAULT_OUTPUT[command]})"
    if command == "compare":
        output_help += (
            ". The files of a previous compare there (results.json, "
            "results.csv, report.md, per_class_recall.png, "
            "confusion_matrix_<strategy>.png, best_model) are "
            "replaced as a set, only once the new ones are complete: they "
            "are written into a .tmp-keras-imbalance-* folder inside DIR "
            "first, then the old ones are removed (results.json first) and "
            "the new ones moved in (results.json last). A results.json "
            "always sits beside the files of its own run; a killed run leaves "
            "the old files, or no results.json, and a .tmp-keras-imbalance-* "
            "folder that the next compare into DIR removes. Other files in "
            "DIR are never touched"
        )
    parser.add_argument("--output", default=None, metavar="DIR", help=output_help)
    parser.add_argument(
        "--shot-thresholds",
        default="auto",
        metavar="auto|MANY,FEW",
        help=(
            "many-shot: more than MANY training samples, few-shot: fewer than "
            "FEW; auto: OLTR's 100,20 when every group gets a class, else "
            "log-scale terciles of the counts (default: auto)"
        ),
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=(
            "folder of the Fashion-MNIST files, or the CIFAR folder "
            "(cifar-10-batches-py, cifar-100-python) or its parent (then only "
            "it is searched, and nothing is downloaded)"
        ),
    )


def _compare_options(compare):
    strategies = ", ".join(_catalog.STRATEGIES)
    compare.add_argument(
        "--strategies",
        default=None,
        metavar="a,b,...|all",
        help=f"comma-separated strategy names, or all (default: all): {strategies}",
    )
    compare.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="NAME",
        help=f"one of {', '.join(_catalog.MODELS)} (default: {DEFAULT_MODEL})",
    )
    compare.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_EPOCHS,
        metavar="N",
        help=f"epochs per run, all stages together (default: {DEFAULT_EPOCHS})",
    )
    compare.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="B",
        help="batch size (default: the protocol's, 32 or 128 for ldam)",
    )
    seeds = compare.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seeds",
        default="0",
        metavar="S1,S2,...",
        help="training seeds; report mean ± std over them (default: 0)",
    )
    seeds.add_argument(
        "--repeats", type=int, default=None, metavar="N", help="seeds 0..N-1"
    )
    compare.add_argument(
        "--validation-split",
        type=float,
        default=0.1,
        metavar="F",
        help=(
            "stratified fraction of each training class held out to choose "
            "the best strategy and tuned parameters (default: 0.1)"
        ),
    )
    compare.add_argument(
        "--protocol",
        default="default",
        choices=sorted(protocols.PROTOCOLS),
        help=(
            "default: Adam 1e-3, cosine decay, batch 32; ldam: SGD 0.1, "
            "momentum 0.9, weight decay 2e-4 (PyTorch form), 5 warm-up "
            "epochs, x0.01 at 80%% and 90%% of the epochs, batch 128 "
            "(Cao et al. 2019). Both re-estimate BatchNorm statistics."
        ),
    )
    compare.add_argument(
        "--optimizer",
        choices=("adam", "sgd"),
        default=None,
        help="override the protocol's optimizer (sgd: PyTorch's SGD)",
    )
    compare.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="LR",
        help="override the protocol's peak learning rate",
    )
    compare.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        metavar="WD",
        help="override the weight decay (coupled L2 with sgd, decoupled with adam)",
    )
    compare.add_argument(
        "--schedule",
        choices=("constant", "cosine", "step"),
        default=None,
        help="override the learning-rate schedule (step: x0.01 at 80%% and 90%%)",
    )
    compare.add_argument(
        "--warmup-epochs",
        type=int,
        default=None,
        metavar="N",
        help="override the epochs of linear learning-rate warm-up",
    )
    compare.add_argument(
        "--no-precise-bn",
        action="store_true",
        help="keep the moving BatchNorm statistics of training as they are",
    )
    compare.add_argument(
        "--head",
        choices=("dense", "cosine"),
        default=None,
        help="the same head for every strategy (default: each strategy's own)",
    )
    compare.add_argument(
        "--threshold",
        default=None,
        metavar="f1|none|recall=R",
        help=(
            "two-class data only: each run's decision threshold on the "
            "probability of class 1, tuned on its validation predictions for "
            "max F1 (f1) or for the best precision at recall >= R "
            "(recall=R), and used on both splits and by --export-best; none: "
            "the argmax (default: f1 for two classes, none for more)"
        ),
    )
    compare.add_argument(
        "--balanced-reference",
        action="store_true",
        help=(
            "train on a class-balanced sample of the full training set of the "
            "same size instead (the upper reference; same test split)"
        ),
    )
    compare.add_argument(
        "--export-best",
        action="store_true",
        help="export the best model (chosen on validation) to DIR/best_model",
    )
    compare.add_argument(
        "--force-export",
        action="store_true",
        help="export the best model even when it is at chance level",
    )
    compare.add_argument(
        "--quiet", action="store_true", help="no per-epoch progress, a line per run"
    )
    compare.add_argument(
        "--distribution",
        choices=("data_parallel",),
        default=None,
        help=(
            "JAX backend only: train and evaluate every run with "
            "keras.distribution.DataParallel over all devices (on CPU, set "
            "XLA_FLAGS=--xla_force_host_platform_device_count=N); "
            "--batch-size is the global batch (default: one device)"
        ),
    )


def build():
    """The `argparse.ArgumentParser` of `keras-imbalance`."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Compare class-imbalance training strategies on a long-tailed "
            "dataset, or inspect a dataset's class distribution."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    compare = commands.add_parser(
        "compare",
        help="train strategies (x seeds) and report them side by side",
        description=(
            "Train each strategy with the same model, epochs, batch size and "
            "protocol for every seed; choose the best on a validation split; "
            "report mean ± std on the test split and write results.json, "
            "results.csv, report.md and plots to --output."
        ),
    )
    _data_options(compare, "compare")
    _compare_options(compare)
    inspect = commands.add_parser(
        "inspect",
        help="class counts, shot groups and suggested class weights",
        description=(
            "Print the class counts (train and test), shot groups, imbalance "
            "ratio and suggested class weights; write class_counts.png to "
            "--output."
        ),
    )
    _data_options(inspect, "inspect")
    return parser
