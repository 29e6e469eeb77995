"""CSV tables: reading, column kinds, the preprocessing model, bad files."""

import csv
import math

import keras
import numpy as np
import pytest

from keras_imbalance import datasets, layers
from keras_imbalance.datasets import load_table, stratified_split, table_model

HEADER = ["length (cm)", "colour", "code", "weight", "kind"]
COUNTS = {"common": 30, "middle": 12, "rare": 5}


def write_csv(path, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return str(path)


def table_rows():
    """Numeric, categorical (with missing), integer codes, class-shifted means."""
    rng = np.random.default_rng(0)
    rows = [HEADER]
    i = 0
    for c, (kind, n) in enumerate(COUNTS.items()):
        for _ in range(n):
            i += 1
            length = "" if i % 7 == 0 else f"{rng.normal(2.0 * c, 1.0):.4f}"
            colour = ["red", "blue", "NA", "green"][i % 4] if c < 2 else "purple"
            weight = "?" if i % 11 == 0 else f"{rng.normal(50.0, 5.0):.3f}"
            rows.append([length, colour, str(i % 3), weight, kind])
    return rows


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("table") / "animals.csv", table_rows())


@pytest.fixture(scope="module")
def data(path):
    return load_table(path, target="kind", categorical=["code"])


def raw_columns(path):
    """The CSV's columns as floats (NaN) or strings ("" for missing)."""
    with open(path, newline="") as file:
        header, *rows = list(csv.reader(file))
    columns = dict(zip(header, map(list, zip(*rows))))

    def number(cell):
        return math.nan if cell.lower() in ("", "na", "nan", "?") else float(cell)

    for name in ("length (cm)", "weight"):
        columns[name] = np.array([number(v) for v in columns[name]])
    columns["colour"] = np.array(["" if v == "NA" else v for v in columns["colour"]])
    return columns


# --- columns, classes and the split ------------------------------------------


def test_classes_kinds_and_split(data, path):
    assert data["name"] == path
    assert data["class_names"] == ["common", "middle", "rare"]
    assert data["num_classes"] == 3 and data["target"] == "kind"
    assert data["columns"] == ["length (cm)", "colour", "code", "weight"]
    assert data["kinds"] == {
        "length (cm)": "numeric",
        "colour": "categorical",
        "code": "categorical",  # integers, named in `categorical`
        "weight": "numeric",
    }
    assert data["categories"] == {
        "colour": ["blue", "green", "purple", "red"],  # "NA" is missing
        "code": ["0", "1", "2"],
    }
    assert data["missing"]["length (cm)"] == 6 and data["missing"]["weight"] == 4
    assert data["test_split"] == {"source": "stratified", "fraction": 0.2, "seed": 0}
    y_train, y_test = data["train"][1], data["test"][1]
    assert np.bincount(y_test).tolist() == [6, 2, 1]
    assert np.bincount(y_train).tolist() == [24, 10, 4]
    assert data["imbalance_ratio"] == 6.0
    x_train, x_test = data["train"][0], data["test"][0]
    assert x_train.dtype == np.float32 and x_train.shape[1] == len(data["features"])
    assert x_test.shape == (9, len(data["features"]))
    assert data["features"][:2] == ["length (cm)", "weight"]
    assert "colour=<other>" in data["features"] and "code=2" in data["features"]
    assert "colour=<missing>" in data["features"]  # "NA" cells in training rows


def test_without_categorical_the_codes_are_numeric(path):
    assert load_table(path, target="kind")["kinds"]["code"] == "numeric"


def test_numeric_class_names_sort_as_numbers(tmp_path):
    rows = [["x", "y"]] + [[str(i), str(c)] for i, c in enumerate([10, 2, 1] * 3)]
    data = load_table(write_csv(tmp_path / "t.csv", rows), target="y", test_split=0.4)
    assert data["class_names"] == ["1", "2", "10"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_guessed_or_given(tmp_path, delimiter):
    rows = [["a", "b", "y"]] + [
        [str(i), "u,v", "p" if i % 2 else "q"] for i in range(8)
    ]
    path = write_csv(tmp_path / "t.csv", rows, delimiter=delimiter)
    for given in (None, delimiter):
        data = load_table(path, target="y", delimiter=given)
        assert data["kinds"] == {"a": "numeric", "b": "categorical"}


def test_the_split_is_reproducible_and_seeded(path, data):
    again = load_table(path, target="kind", categorical=["code"])
    np.testing.assert_array_equal(again["test"][0], data["test"][0])
    other = load_table(path, target="kind", categorical=["code"], seed=1)
    assert not np.array_equal(other["test"][0], data["test"][0])


# --- the preprocessing -------------------------------------------------------


def test_preprocessing_uses_training_statistics_only(path, data):
    raw = raw_columns(path)
    names = sorted(set(raw["kind"]))
    y = np.array([names.index(k) for k in raw["kind"]])
    (train, _), (test, _) = stratified_split(np.arange(len(y)), y, 0.2, seed=0)
    for j, name in enumerate(["length (cm)", "weight"]):
        values = raw[name]
        mean, std = np.nanmean(values[train]), np.nanstd(values[train])
        for rows, x in ((train, data["train"][0]), (test, data["test"][0])):
            want = np.nan_to_num((values[rows] - mean) / std)  # missing: the mean
            np.testing.assert_allclose(x[:, j], want, atol=1e-5)
    colour = [f for f in data["features"] if f.startswith("colour=")]
    start = data["features"].index(colour[0])
    one_hot = data["test"][0][:, start : start + len(colour)]
    assert np.all(one_hot.sum(axis=1) == 1)
    for row, value in zip(one_hot, raw["colour"][test]):
        label = "<missing>" if value == "" else value
        slot = colour[int(np.argmax(row))].split("=", 1)[1]
        assert slot == (label if f"colour={label}" in colour else "<other>")


def test_raw_test_rows_through_the_preprocessing_give_the_arrays(data):
    raw = data["raw_test"]
    assert raw["length (cm)"].dtype == np.float32 and raw["colour"].dtype.kind == "U"
    x = np.asarray(data["preprocessing"](raw))
    np.testing.assert_allclose(x, data["test"][0], atol=1e-6, rtol=0)


def test_unseen_and_missing_values(data):
    features = data["features"]
    rows = {
        "length (cm)": np.array([np.nan, 1.0], "float32"),
        "colour": np.array(["", "violet"]),
        "code": np.array(["1", "7"]),
        "weight": np.array([50.0, np.nan], "float32"),
    }
    x = np.asarray(data["preprocessing"](rows))
    assert x[0, 0] == 0.0 and x[1, 1] == 0.0  # imputed with the mean
    assert x[0, features.index("colour=<missing>")] == 1.0
    assert x[1, features.index("colour=<other>")] == 1.0
    assert x[1, features.index("code=<other>")] == 1.0
    assert x[0, features.index("code=1")] == 1.0


def test_a_table_model_saves_and_loads_without_custom_objects(data, tmp_path):
    width = data["train"][0].shape[1]
    model = keras.Sequential([keras.Input((width,)), keras.layers.Dense(3)])
    served = table_model(data["preprocessing"], model)
    assert set(served.input) == set(data["columns"])
    served.save(tmp_path / "m.keras")
    with keras.saving.custom_object_scope({}):
        loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    want = model.predict(data["test"][0], verbose=0)
    np.testing.assert_allclose(
        np.asarray(loaded(data["raw_test"])), want, rtol=1e-5, atol=1e-6
    )


def test_table_model_errors(data):
    width = data["train"][0].shape[1]
    model = keras.Sequential([keras.Input((width + 1,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=f"the {width} preprocessed features"):
        table_model(data["preprocessing"], model)
    with pytest.raises(TypeError, match="`model` must be a `keras.Model`"):
        table_model(data["preprocessing"], "mlp")
    with pytest.raises(ValueError, match="must take a dict of raw columns"):
        table_model(model, model)


def test_mean_imputation():
    layer = layers.MeanImputation([1.0, -2.0])
    x = np.array([[np.nan, 3.0], [4.0, np.nan]], "float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), [[1.0, 3.0], [4.0, -2.0]])
    assert layers.MeanImputation.from_config(layer.get_config()).mean == [1.0, -2.0]
    assert np.asarray(layers.MeanImputation(5.0)(x)).tolist() == [[5, 3], [4, 5]]
    with pytest.raises(ValueError, match="has 2 values but its input has 3"):
        layers.MeanImputation([1.0, -2.0])(np.zeros((1, 3), "float32"))
    for bad in ([], [1.0, math.inf], "mean", [[1.0]]):
        with pytest.raises(ValueError, match="Invalid value for argument `mean`"):
            layers.MeanImputation(bad)


# --- load_dataset --------------------------------------------------------------


def test_load_dataset_reads_a_csv_with_its_target(path, data):
    loaded = datasets.load_dataset(path, target="kind")
    assert loaded["kinds"]["colour"] == "categorical"
    assert loaded["train"][0].shape[0] == data["train"][0].shape[0]
    cut = datasets.load_dataset(path, target="kind", imbalance_ratio=2.0)
    counts = np.bincount(cut["train"][1])
    assert counts.max() / counts.min() == 2.0 and counts.sum() < 38
    assert cut["imbalance_ratio"] == 2.0
    with pytest.raises(ValueError, match="needs `target=`"):
        datasets.load_dataset(path)
    with pytest.raises(ValueError, match="`target` is for .csv tables"):
        datasets.load_dataset("digits-lt", target="kind")


def test_a_balanced_reference_of_a_table(path):
    with pytest.raises(ValueError, match="its rarest class has 4"):
        datasets.load_balanced_reference(path, target="kind")
    reference = datasets.load_balanced_reference(
        path, target="kind", imbalance_ratio=2.0
    )
    assert np.bincount(reference["train"][1]).tolist() == [2, 2, 2]
    assert "preprocessing" in reference


# --- bad files: each error speaks of the file ----------------------------------

GOOD = [["a", "b", "y"], ["1", "u", "p"], ["2", "v", "p"], ["3", "u", "q"]]


@pytest.mark.parametrize(
    "rows, kwargs, match",
    [
        (GOOD + [["4", "v", "q"]], {"target": "label"}, r"no column 'label'.*\['a', "),
        ([["a", "y"]] + [[str(i), "p"] for i in range(4)], {}, "a single class"),
        (GOOD, {}, "Class 'q' of the target column 'y' .* has 1 row"),
        ([["a", "b", "y"]], {}, r"has a header \(\['a', 'b', 'y'\]\) but no data"),
        (GOOD + [["4", "q"]], {}, "Line 5 .* has 2 fields but its header has 3"),
        (
            [["a", "b", "y"]] + [[str(i), "NA", "pq"[i % 2]] for i in range(4)],
            {},
            "Column 'b' .* is entirely missing",
        ),
        (GOOD + [["4", "v", ""]], {}, "Line 5 .* no value in the target column"),
        (GOOD + [["inf", "v", "q"]], {}, "infinite value on line 5"),
        ([["a", "a", "y"], *GOOD[1:]], {}, r"names the columns \['a'\] more than"),
        ([["", "b", "y"], *GOOD[1:]], {}, "Column 1 .* has no name"),
        ([["y"], ["p"], ["p"], ["q"], ["q"]], {}, "a single column"),
        (GOOD + [["4", "v", "q"]], {"categorical": ["c"]}, "argument `categorical`"),
        (GOOD + [["4", "v", "q"]], {"categorical": "y"}, "argument `categorical`"),
        (GOOD + [["4", "v", "q"]], {"target": 2}, "argument `target`"),
        (GOOD + [["4", "v", "q"]], {"delimiter": "::"}, "argument `delimiter`"),
        (GOOD + [["4", "v", "q"]], {"test_split": 0.7}, "argument `test_split`"),
    ],
)
def test_bad_tables(tmp_path, rows, kwargs, match):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ValueError, match=match):
        load_table(path, **{"target": "y", **kwargs})


def test_an_empty_or_missing_file(tmp_path):
    (tmp_path / "empty.csv").write_text("\n\n")
    with pytest.raises(ValueError, match="is empty: no header, no rows"):
        load_table(tmp_path / "empty.csv", target="y")
    with pytest.raises(FileNotFoundError, match="No such CSV file"):
        load_table(tmp_path / "absent.csv", target="y")
    (tmp_path / "latin.csv").write_bytes("a,y\n\xe9,p\n".encode("latin-1"))
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        load_table(tmp_path / "latin.csv", target="y")


def test_an_identifier_column_is_warned_about(tmp_path):
    rows = [["id", "y"]] + [[f"row{i}", "pq"[i % 2]] for i in range(120)]
    with pytest.warns(UserWarning, match="'id' .* an identifier"):
        load_table(write_csv(tmp_path / "ids.csv", rows), target="y")


def test_any_column_names_export_and_reload(tmp_path):
    # Keras refuses "/" in layer names, TensorFlow spaces in signature names:
    # the inputs stay keyed by the columns, as the CSV names them.
    rows = [["a/b", "_c d", "y"]] + [
        [str(i), "uv"[i % 2], "pq"[i % 3 == 0]] for i in range(20)
    ]
    data = load_table(write_csv(tmp_path / "odd.csv", rows), target="y")
    width = data["train"][0].shape[1]
    model = keras.Sequential([keras.Input((width,)), keras.layers.Dense(2)])
    served = table_model(data["preprocessing"], model)
    want = model.predict(data["test"][0], verbose=0)
    from keras_imbalance.export import export_saved_model, load_exported

    export_saved_model(served, tmp_path / "exported")
    exported = load_exported(tmp_path / "exported")
    assert set(exported.input_signature) == {"a/b", "_c d"}
    got = exported(data["raw_test"])["logits"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    served.save(tmp_path / "odd.keras")
    loaded = keras.saving.load_model(tmp_path / "odd.keras", safe_mode=True)
    np.testing.assert_allclose(
        np.asarray(loaded(data["raw_test"])), want, rtol=1e-5, atol=1e-6
    )
