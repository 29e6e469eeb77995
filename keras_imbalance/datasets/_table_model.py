"""The Keras side of tables: the preprocessing model, and `table_model`."""

import re
import warnings

__all__ = ["table_model"]

PREPROCESSING = "table_preprocessing"


class _Names:
    """Unique layer names. Inputs are named after their columns (Keras refuses
    only "/" there); the other layers' names are TensorFlow scope names."""

    def __init__(self):
        self.used = set()

    def __call__(self, name, *, scope=True):
        base, i = re.sub(r"[^A-Za-z0-9_.>-]" if scope else "/", "_", name), 1
        name = base
        while name in self.used:
            i += 1
            name = f"{base}_{i}"
        self.used.add(name)
        return name


def _functional(inputs, outputs, name):
    """`keras.Model(inputs, outputs)` over inputs keyed by column name. A
    column with "/" has an input named otherwise (Keras refuses "/" in names),
    which Keras warns about; the key is what the model takes."""
    import keras

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="When providing `inputs` as a dict", category=UserWarning
        )
        return keras.Model(inputs, outputs, name=name)


def features(kinds, statistics):
    """The names of the columns of the preprocessed matrix, in order."""
    names = [name for name, kind in kinds.items() if kind == "numeric"]
    for name, kind in kinds.items():
        if kind == "categorical":
            names.append(f"{name}=<other>")
            names += [
                f"{name}={v}" if v else f"{name}=<missing>" for v in statistics[name]
            ]
    return names


def build_preprocessing(kinds, statistics):
    """Raw rows (a dict by column) -> the float32 matrix of `features`.

    Numeric columns, in file order: `MeanImputation` then `Normalization`
    with the training means and variances; then each categorical column:
    `StringLookup` one-hot (slot 0 for values outside the vocabulary).
    """
    import keras

    from keras_imbalance.layers import MeanImputation

    unique = _Names()
    inputs = {
        column: keras.Input(
            (),
            dtype="float32" if kind == "numeric" else "string",
            name=unique(column, scope=False),
        )
        for column, kind in kinds.items()
    }
    numeric = [column for column, kind in kinds.items() if kind == "numeric"]
    parts = []
    if numeric:
        columns = [
            keras.layers.Reshape((1,), name=unique(f"{c}_column"))(inputs[c])
            for c in numeric
        ]
        x = (
            columns[0]
            if len(columns) == 1
            else keras.layers.Concatenate(name=unique("numeric_columns"))(columns)
        )
        mean = [statistics[c][0] for c in numeric]
        x = MeanImputation(mean, name=unique("impute_mean"))(x)
        x = keras.layers.Normalization(
            mean=mean,
            variance=[statistics[c][1] ** 2 for c in numeric],
            name=unique("standardise"),
        )(x)
        parts.append(x)
    for column, kind in kinds.items():
        if kind == "categorical":
            lookup = keras.layers.StringLookup(
                vocabulary=list(statistics[column]),
                num_oov_indices=1,
                output_mode="one_hot",
                name=unique(f"{column}_one_hot"),
            )
            parts.append(lookup(inputs[column]))
    outputs = (
        parts[0]
        if len(parts) == 1
        else keras.layers.Concatenate(name=unique("features"))(parts)
    )
    return _functional(inputs, outputs, PREPROCESSING)


def table_model(preprocessing, model, *, name=None):
    """`model` behind a table's preprocessing: a model that takes raw rows.

    The functional model `rows -> model(preprocessing(rows))`, whose inputs
    are the raw columns of the table (a dict by column name: float32 with
    NaN for missing numeric values, strings for categorical ones; see
    `load_table`). Export it with `export.export_saved_model`: the
    SavedModel's `serve` then takes raw rows, and the preprocessing fitted
    on the training split travels with the model. It saves to `.keras` and
    loads without `custom_objects`.

    Args:
        preprocessing: The `preprocessing` model of `load_table` (or
            `load_dataset` on a `.csv` file).
        model: A trained `keras.Model` on the preprocessed matrix (e.g.
            `compare(..., keep_models=True).models[name]`).
        name: Name of the new model. Defaults to `None`: `"<model>_on_rows"`.

    Returns:
        A functional `keras.Model` sharing every weight with `model`.

    Raises:
        TypeError: `preprocessing` or `model` is not a `keras.Model`.
        ValueError: `preprocessing` does not take a dict of columns, or
            its output width is not `model`'s input width.

    Example:

    >>> import os, tempfile
    >>> import keras, numpy as np
    >>> from keras_imbalance.datasets import load_table
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("x,c,y\\n" + "1,a,p\\n2,b,p\\n3,a,p\\n4,,q\\n5,a,q\\n6,b,q\\n")
    >>> data = load_table(path, target="y", test_split=0.34)
    >>> width = data["train"][0].shape[1]
    >>> model = keras.Sequential([keras.Input((width,)), keras.layers.Dense(2)])
    >>> served = table_model(data["preprocessing"], model)
    >>> rows = {"x": np.array([2.5, np.nan], "float32"), "c": np.array(["b", "zz"])}
    >>> tuple(served(rows).shape)
    (2, 2)
    """
    import keras

    for argument, value in (("preprocessing", preprocessing), ("model", model)):
        if not isinstance(value, keras.Model):
            raise TypeError(
                f"`{argument}` must be a `keras.Model`. Received: {argument}="
                f"{value!r} of type {type(value).__name__}"
            )
    try:
        columns = preprocessing.input
    except (AttributeError, ValueError):  # not built, or not functional
        columns = None
    if not isinstance(columns, dict):
        raise ValueError(
            "`preprocessing` must take a dict of raw columns (the "
            "`preprocessing` of `datasets.load_table`). Received a model with "
            f"inputs {columns!r}"
        )
    width, expected = preprocessing.output.shape[-1], model.inputs[0].shape[-1]
    if len(model.inputs) != 1 or width != expected:
        raise ValueError(
            f"`model` must take the {width} preprocessed features of the table "
            f"as its one input. Received a model with inputs "
            f"{[tuple(t.shape) for t in model.inputs]}"
        )
    rows = {
        column: keras.Input(t.shape[1:], dtype=t.dtype, name=t.name)
        for column, t in columns.items()
    }
    outputs = model(preprocessing(rows))
    return _functional(rows, outputs, name or f"{model.name}_on_rows")
