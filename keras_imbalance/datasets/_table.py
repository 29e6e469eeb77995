"""A CSV table as a dataset: `load_table`, `is_table_path`."""

import csv
import math
import os
import warnings

import numpy as np

from keras_imbalance._validation import check_float, check_optional_int, invalid
from keras_imbalance.datasets._long_tail import stratified_split

__all__ = ["is_table_path", "load_table"]

# Cells read as missing, compared without case and surrounding spaces.
MISSING = ("", "na", "nan", "?")
# The delimiters `load_table` recognises when none is given.
DELIMITERS = ",;\t|"
# Rows preprocessed per call when the arrays are made.
CHUNK = 8192


def is_table_path(name):
    """Whether a dataset name is the path of a `.csv` file (a table).

    Example:

    >>> is_table_path("patients.CSV"), is_table_path("digits-lt")
    (True, False)
    """
    return isinstance(name, (str, os.PathLike)) and os.fspath(name).lower().endswith(
        ".csv"
    )


def _sniff(sample):
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_csv(path, delimiter=None):
    """`(header, rows, lines)`: stripped cells, the file line of each row.

    Blank lines are skipped; every row must have the header's length.
    """
    if delimiter is not None and not (
        isinstance(delimiter, str) and len(delimiter) == 1
    ):
        raise invalid("delimiter", "None or a one-character string", delimiter)
    header, rows, lines = None, [], []
    try:
        if delimiter is None:
            with open(path, newline="", encoding="utf-8-sig") as file:
                delimiter = _sniff(file.read(65536))
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file, delimiter=delimiter)
            for row in reader:
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                if header is None:
                    header = cells
                elif len(cells) != len(header):
                    raise ValueError(
                        f"Line {reader.line_num} of the CSV file {path!r} has "
                        f"{len(cells)} fields but its header has {len(header)} "
                        f"columns (delimiter {delimiter!r}). Every row needs one "
                        "value per column; quote values that hold the delimiter."
                    )
                else:
                    rows.append(cells)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as error:
        raise ValueError(f"The CSV file {path!r} is not UTF-8 text: {error}") from None
    except csv.Error as error:
        raise ValueError(f"Could not parse the CSV file {path!r}: {error}") from None
    if header is None:
        raise ValueError(f"The CSV file {path!r} is empty: no header, no rows.")
    if not rows:
        raise ValueError(
            f"The CSV file {path!r} has a header ({header}) but no data rows."
        )
    unnamed = [i + 1 for i, name in enumerate(header) if not name]
    if unnamed:
        raise ValueError(
            f"Column {unnamed[0]} of the CSV file {path!r} has no name in the "
            "header (an index written by pandas? write it with index=False)."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(
            f"The header of the CSV file {path!r} names the columns {repeated} "
            "more than once; column names must be unique."
        )
    return header, rows, lines


def _is_missing(cell):
    return cell.lower() in MISSING


def _floats(cells):
    """The cells as float64 (NaN where missing), or None if one is not a number."""
    values = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if _is_missing(cell):
            continue
        try:
            values[i] = float(cell)
        except ValueError:
            return None
    return values


def _class_order(names):
    """Distinct target values, sorted (as numbers when all of them are)."""
    try:
        return sorted(names, key=lambda name: (float(name), name))
    except ValueError:
        return sorted(names)


def _columns(path, header, rows, lines, target, categorical):
    """`(y, class_names, columns)` with columns `{name: (kind, raw values)}`."""
    if target not in header:
        raise ValueError(
            f"The CSV file {path!r} has no column {target!r} to use as the "
            f"target. Its columns: {header}."
        )
    if isinstance(categorical, str):
        categorical = [categorical]
    categorical = list(categorical or ())
    unknown = [name for name in categorical if name not in header]
    if unknown or target in categorical or len(set(categorical)) != len(categorical):
        raise invalid(
            "categorical",
            f"None or distinct feature column names of {path!r} (the columns: "
            f"{[name for name in header if name != target]})",
            categorical,
        )
    if len(header) < 2:
        raise ValueError(
            f"The CSV file {path!r} has a single column ({header}): no feature "
            "column besides the target. Is the delimiter right? Pass `delimiter=`."
        )
    cells = list(zip(*rows))
    labels = cells[header.index(target)]
    unlabelled = [line for line, label in zip(lines, labels) if _is_missing(label)]
    if unlabelled:
        raise ValueError(
            f"Line {unlabelled[0]} of the CSV file {path!r} has no value in the "
            f"target column {target!r} ({len(unlabelled)} row(s) in all). Give "
            "every row a class, or remove those rows."
        )
    class_names = _class_order(set(labels))
    if len(class_names) < 2:
        raise ValueError(
            f"The target column {target!r} of {path!r} holds a single class "
            f"({class_names[0]!r}); a classifier needs at least 2."
        )
    ids = {name: i for i, name in enumerate(class_names)}
    y = np.array([ids[label] for label in labels], dtype="int64")
    counts = np.bincount(y, minlength=len(class_names))
    if counts.min() < 2:
        name = class_names[int(np.argmin(counts))]
        raise ValueError(
            f"Class {name!r} of the target column {target!r} of {path!r} has 1 "
            "row: it cannot be split into training and test rows (and a "
            "validation split needs one more). Add rows of it, or remove it."
        )
    columns = {}
    for name, values in zip(header, cells):
        if name == target:
            continue
        missing = np.array([_is_missing(v) for v in values])
        if missing.all():
            raise ValueError(
                f"Column {name!r} of the CSV file {path!r} is entirely missing "
                f"(every value is one of {list(MISSING)}, case ignored). Remove it."
            )
        numbers = None if name in categorical else _floats(values)
        if numbers is not None:
            bad = np.flatnonzero(np.isinf(numbers))
            if bad.size:
                raise ValueError(
                    f"Column {name!r} of the CSV file {path!r} holds an infinite "
                    f"value on line {lines[bad[0]]} ({values[bad[0]]!r}). Use a "
                    "finite number, or leave the cell empty for a missing value."
                )
            columns[name] = ("numeric", numbers)
        else:
            strings = np.array(["" if m else v for v, m in zip(values, missing)])
            columns[name] = ("categorical", strings)
    return y, class_names, columns


def _statistics(columns, train, path):
    """Per column: `(mean, std)` of the training rows, or the vocabulary."""
    statistics = {}
    for name, (kind, values) in columns.items():
        part = values[train]
        if kind == "numeric":
            present = part[~np.isnan(part)]
            mean = float(present.mean()) if present.size else 0.0
            std = float(present.std()) if present.size else 1.0
            statistics[name] = (mean, std if std > 0 and math.isfinite(std) else 1.0)
        else:
            vocabulary = sorted(set(part.tolist()) - {""})
            if "" in part:
                vocabulary.append("")  # missing: a category of its own
            if len(vocabulary) > max(50, len(part) // 2):
                warnings.warn(
                    f"Column {name!r} of {path!r} is read as categorical with "
                    f"{len(vocabulary)} values in {len(part)} training rows: an "
                    "identifier? Each value becomes a feature; remove the column "
                    "if it names rows rather than describes them.",
                    stacklevel=3,
                )
            statistics[name] = vocabulary
    return statistics


def raw_rows(columns, index):
    """The rows `index` as model inputs: float32 (NaN) or str arrays by column."""
    return {
        name: values[index].astype("float32" if kind == "numeric" else str)
        for name, (kind, values) in columns.items()
    }


def _preprocessed(preprocessing, rows, size):
    parts = [
        np.asarray(
            preprocessing(
                {k: v[start : start + CHUNK] for k, v in rows.items()}, training=False
            ),
            dtype="float32",
        )
        for start in range(0, size, CHUNK)
    ]
    return np.concatenate(parts)


def load_table(
    path, *, target, test_split=0.2, seed=0, categorical=None, delimiter=None
):
    """A CSV table: one row per sample, a target column of class names.

    The file is read with Python's `csv` module (a header row, then one row
    per sample; UTF-8; the delimiter is guessed among `, ; tab |` unless
    given). Parquet and other formats are not read: they would need pandas
    or pyarrow, which the core does not depend on (convert them with
    `pandas.read_parquet(...).to_csv(path, index=False)`).

    Columns:

    - the `target`: its distinct values are the class names, sorted (as
      numbers when they all are), and the labels their integer ids;
    - numeric features: columns whose values all parse as finite floats;
    - categorical features: every other column, and those named in
      `categorical` (e.g. integer codes).

    Cells that are empty, `NA`, `nan` or `?` (case ignored) are missing. A
    stratified test split (`stratified_split`: `test_split` of each class,
    drawn with `seed`) is made and recorded in the returned `test_split`.

    The models train on one float array, so the table is preprocessed by a
    Keras model fitted on the **training split only**: numeric columns are
    imputed with the training mean (`layers.MeanImputation`) and
    standardised with the training mean and standard deviation
    (`keras.layers.Normalization`; a constant column gets std 1);
    categorical columns are one-hot encoded with the training vocabulary
    (`keras.layers.StringLookup`) plus one slot for values not seen in
    training, and a missing value is a category of its own when the
    training rows have one (else it takes that slot). `train` and `test`
    hold the preprocessed float32 arrays; `preprocessing` is that model,
    taking raw rows (a dict of 1-D arrays by column: float32 with NaN for
    missing numeric values, strings with `""` for missing categorical ones,
    matched exactly) and giving the same matrix, so that
    `table_model(preprocessing, model)` serves raw rows. `compare` later
    holds a validation split out of `train`: the preprocessing statistics
    then include those rows (never the test rows).

    Args:
        path: The `.csv` file.
        target: The name of the column to predict.
        test_split: Fraction of each class held out for testing, in
            `(0, 0.5]`. Defaults to `0.2`.
        seed: Seed of that split. Defaults to `0`.
        categorical: Column names to read as categorical even when their
            values are numbers. Defaults to `None`.
        delimiter: The field delimiter, one character. Defaults to `None`
            (guessed).

    Returns:
        A dict like `load_dataset`'s: `train` and `test` (`(x, y)`, float32
        `(N, D)` and int64), `class_names`, `num_classes`,
        `imbalance_ratio` (measured on the training split), `name`,
        `test_split`, plus `target`, `columns` (the feature columns in file
        order), `kinds` (`"numeric"` or `"categorical"` by column),
        `categories` (the training vocabulary by categorical column),
        `missing` (missing cells by column), `features` (the names of the
        `D` matrix columns), `preprocessing` and `raw_test` (the raw test
        rows, inputs of `preprocessing`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: an empty file or one without data rows, rows of another
            length than the header (the line is named), unnamed or
            repeated columns, no `target` column (the columns are listed),
            a missing target value, a single class, a class with one row, a
            feature column that is entirely missing or holds an infinite
            number, or invalid arguments.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "pets.csv")
    >>> rows = ["age,colour,kind"] + [f"{i},{'brown' if i % 3 else ''},cat"
    ...                               for i in range(8)] + ["1,black,dog"] * 3
    >>> with open(path, "w") as f:
    ...     _ = f.write("\\n".join(rows))
    >>> data = load_table(path, target="kind", test_split=0.25)
    >>> data["class_names"], data["kinds"]
    (['cat', 'dog'], {'age': 'numeric', 'colour': 'categorical'})
    >>> data["features"]
    ['age', 'colour=<other>', 'colour=black', 'colour=brown', 'colour=<missing>']
    >>> data["train"][0].shape, data["test"][0].shape
    ((8, 5), (3, 5))
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such CSV file: {path!r}")
    if not isinstance(target, str):
        raise invalid("target", "the name of a column (a string)", target)
    test_split = check_float("test_split", test_split, low=0, high=0.5, low_open=True)
    seed = check_optional_int("seed", seed, low=0)
    header, rows, lines = read_csv(path, delimiter)
    y, class_names, columns = _columns(path, header, rows, lines, target, categorical)
    del rows
    index = np.arange(len(y))
    (train, y_train), (test, y_test) = stratified_split(index, y, test_split, seed=seed)
    statistics = _statistics(columns, train, path)

    from keras_imbalance.datasets._table_model import build_preprocessing, features

    kinds = {name: kind for name, (kind, _) in columns.items()}
    preprocessing = build_preprocessing(kinds, statistics)
    raw_test = raw_rows(columns, test)
    counts = np.bincount(y_train, minlength=len(class_names))
    return {
        "name": path,
        "train": (
            _preprocessed(preprocessing, raw_rows(columns, train), len(train)),
            y_train,
        ),
        "test": (_preprocessed(preprocessing, raw_test, len(test)), y_test),
        "class_names": class_names,
        "num_classes": len(class_names),
        "imbalance_ratio": float(counts.max() / counts.min()),
        "test_split": {"source": "stratified", "fraction": test_split, "seed": seed},
        "target": target,
        "columns": list(columns),
        "kinds": kinds,
        "categories": {
            name: [v for v in s if v]
            for name, s in statistics.items()
            if kinds[name] == "categorical"
        },
        "missing": {
            name: int(np.isnan(v).sum() if k == "numeric" else (v == "").sum())
            for name, (k, v) in columns.items()
        },
        "features": features(kinds, statistics),
        "preprocessing": preprocessing,
        "raw_test": raw_test,
    }
