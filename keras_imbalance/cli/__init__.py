"""The `keras-imbalance` command (also `python -m keras_imbalance`).

- `keras-imbalance compare`: train named strategies
  (`keras_imbalance.strategies`) for one or more seeds on a long-tailed
  dataset with one model, budget and training protocol, choose the best on
  a validation split, report mean ± std on the balanced test split
  (a table; `results.json`, `results.csv`, `report.md`, a per-class recall
  heatmap and the best strategy's confusion matrix in `--output`; with
  `--export-best`, the best model as a SavedModel). The library function
  behind it is `keras_imbalance.comparison.compare`.
- `keras-imbalance inspect`: a dataset's class counts, shot groups,
  imbalance ratio and suggested class weights, with a bar chart.

Arguments are parsed and checked, and the dataset loaded and checked
(`keras_imbalance.datasets.load_dataset`: damaged files, non-finite or
badly shaped inputs, bad or stray labels), before Keras or TensorFlow is
imported, so `--help`, argument and data errors answer in seconds; bad input
ends the command with one line on stderr, `keras-imbalance: error: ...`,
and exit status 2, and so does a file that cannot be written (a full disk).

`compare` replaces the files of a previous run in `--output` as a set, only
once the new ones are complete (`keras_imbalance.cli.outputs`): a killed run
never leaves a new `results.json` beside an older model or plots.
"""

import os
import sys

__all__ = ["main"]


def main(argv=None):
    """Run the `keras-imbalance` command.

    Args:
        argv: The arguments, without the program name. Defaults to `None`:
            `sys.argv[1:]`.

    Returns:
        The exit status: 0 on success, 1 when `--export-best` refused to
        export a model at chance level, 2 for bad input or an output file
        that cannot be written (one line `keras-imbalance: error: ...` on
        stderr; argparse's usage errors also give 2). Errors during training
        are not caught.

    Example:

    >>> main(["compare", "--epochs", "0"])
    2
    >>> main(["--version"])  # doctest: +ELLIPSIS
    keras-imbalance ...
    0
    """
    # Before TensorFlow can be imported: no C++ info, warning or error logs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras_imbalance.cli import checks, parser

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.build().parse_args(argv)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    try:
        checks.check(args)
        from keras_imbalance.cli import commands

        if args.command == "compare":
            return commands.run_compare(args, argv)
        return commands.run_inspect(args)
    except parser.UsageError as error:
        print(f"{parser.PROG}: error: {parser.one_line(error)}", file=sys.stderr)
        return 2
