"""`comparison.compare` and `Comparison`: selection on validation, seeds, files."""

import json

import numpy as np
import pytest

from keras_imbalance import comparison, evaluation


def report(predicted, y, counts=(30, 10, 3)):
    return evaluation.evaluate_imbalanced(
        np.asarray(predicted), y=np.asarray(y), class_counts=list(counts)
    )


Y = [0, 0, 1, 1, 2, 2]
GOOD = [0, 0, 1, 1, 2, 2]
FAIR = [0, 0, 1, 1, 2, 0]
POOR = [0, 0, 1, 0, 0, 0]


def make(results):
    """`{strategy: [(validation, test) predictions per seed]}` -> Comparison."""
    runs = []
    for name, per_seed in results.items():
        for seed, (val, test) in enumerate(per_seed):
            runs.append(
                comparison.Run(
                    name,
                    seed,
                    {},
                    {"tau": 0.5} if name == "tuned" else {},
                    report(val, Y),
                    report(test, Y),
                    1.0,
                    comparison.chance_warnings(report(test, Y)),
                )
            )
    setup = {"class_counts": [30, 10, 3], "class_names": ["a", "b", "c"]}
    return comparison.Comparison(runs, setup)


def test_best_is_chosen_on_validation_not_test():
    # `a` wins on validation, `b` on test: the best is `a`.
    result = make({"a": [(GOOD, FAIR)], "b": [(FAIR, GOOD)]})
    assert result.best == "a"
    rows = {row["strategy"]: row for row in result.table("test")}
    assert rows["b"]["balanced_accuracy"] > rows["a"]["balanced_accuracy"]
    assert rows["a"]["best"] and not rows["b"]["best"]
    assert result.to_dict()["chosen_on"] == "validation"


def test_mean_std_over_seeds_and_close_to_best():
    result = make(
        {
            "a": [(GOOD, GOOD), (FAIR, FAIR)],  # validation 1.0, 0.833
            "b": [(FAIR, FAIR), (FAIR, FAIR)],  # 0.833 +- 0: within one std of a
            "c": [(POOR, POOR), (POOR, POOR)],  # 0.5: not
        }
    )
    mean, std = result.mean_std("a", "balanced_accuracy", "validation")
    assert mean == pytest.approx((1.0 + 5 / 6) / 2)
    assert std == pytest.approx(np.std([1.0, 5 / 6]))
    assert result.best == "a"
    assert result.close_to_best == ["a", "b"]
    assert result.values("c", "balanced_accuracy", "test") == pytest.approx([0.5, 0.5])


def test_json_round_trip_and_files(tmp_path):
    result = make({"tuned": [(GOOD, FAIR), (FAIR, FAIR)], "b": [(POOR, POOR)] * 2})
    path = tmp_path / "results.json"
    text = result.to_json(path)
    again = comparison.Comparison.from_json(str(path))
    assert again.to_json() == text
    assert comparison.Comparison.from_json(text).best == result.best
    record = json.loads(text)
    assert record["runs"][0]["tuned_params"] == {"tau": 0.5}
    assert record["runs"][0]["tuned_on"] == "validation"
    csv = result.to_csv(tmp_path / "results.csv").splitlines()
    assert len(csv) == 1 + 4 * 2 and csv[1].startswith("tuned,0,validation,")
    markdown = result.to_markdown()
    assert "**`tuned`** (best)" in markdown and "tau=0.5/0.5" in markdown
    assert "± " in markdown
    with pytest.raises(ValueError, match="Not a keras_imbalance comparison"):
        comparison.Comparison.from_dict({"runs": []})


def test_chance_level_models_are_flagged():
    result = make({"flat": [([0] * 6, [0] * 6)], "good": [(GOOD, GOOD)]})
    warnings = result.warnings("flat")
    assert any("predicts class 0 for every test input" in w for w in warnings)
    assert result.warnings("good") == []
    assert "⚠" in result.to_markdown()


def test_plots_name_their_strategy():
    result = make({"a": [(GOOD, FAIR)], "b": [(FAIR, GOOD)]})
    heatmap = result.plot_per_class_recall()
    assert "best on validation (a)" in heatmap.axes[0].get_title()
    labels = [t.get_text() for t in heatmap.axes[0].get_xticklabels()]
    assert labels == ["a (30)", "b (10)", "c (3)"]  # head to tail
    figure = result.plot_confusion_matrix("b")
    assert figure._suptitle.get_text().startswith("b (seed 0")


@pytest.fixture(scope="module")
def digits_comparison():
    return comparison.compare(
        ["ce", "tau_norm"],
        "digits-lt",
        epochs=2,
        seeds=(0, 1),
        keep_models=True,
    )


@pytest.mark.slow
def test_compare_on_digits(digits_comparison):
    result = digits_comparison
    assert [(r.strategy, r.seed) for r in result.runs] == [
        ("ce", 0),
        ("tau_norm", 0),
        ("ce", 1),
        ("tau_norm", 1),
    ]
    setup = result.setup
    assert sum(setup["class_counts"]) + sum(setup["validation_counts"]) == 494
    assert min(setup["validation_counts"]) >= 1
    assert setup["protocol"]["name"] == "default"
    for run in result.runs:
        assert run.test.balanced_accuracy > 0.5  # 2 epochs, never chance
        assert run.validation.num_samples == sum(setup["validation_counts"])
    assert all("tau" in r.tuned_params for r in result.runs if r.strategy == "tau_norm")
    assert set(result.models) == {"ce", "tau_norm"}


def test_compare_validates_its_arguments():
    with pytest.raises(ValueError, match="Unknown strategy 'nope'"):
        comparison.compare(["nope"], "digits-lt")
    with pytest.raises(ValueError, match="seeds"):
        comparison.compare(["ce"], "digits-lt", seeds=(0, 0))
    with pytest.raises(ValueError, match="validation_split"):
        comparison.compare(["ce"], "digits-lt", validation_split=0.7)
    with pytest.raises(ValueError, match="head"):
        comparison.compare(["ce"], "digits-lt", head="mlp")
    with pytest.raises(ValueError, match="listed twice"):
        comparison.compare(["ce", "ce"], "digits-lt")


def test_a_class_too_small_to_split():
    x = np.zeros((12, 4, 4, 1), "float32")
    y = np.array([0] * 8 + [1] * 3 + [2])
    with pytest.raises(ValueError, match="Class 2 has 1 training sample"):
        comparison.compare(["ce"], ((x, y), (x[:3], np.array([0, 1, 2]))), epochs=1)


def test_combine_comparisons_of_the_same_setup():
    a = make({"a": [(GOOD, FAIR)]})
    b = make({"b": [(FAIR, GOOD)]})
    a.setup["command"], b.setup["command"] = "run a", "run b"
    both = comparison.Comparison.combine([a, b])
    assert both.strategies == ["a", "b"] and both.best == "a"
    assert both.setup["commands"] == ["run a", "run b"]
    again = comparison.Comparison.from_json(both.to_json())
    assert again.strategies == ["a", "b"]
    with pytest.raises(ValueError, match="appear twice"):
        comparison.Comparison.combine([a, a])
    other = make({"c": [(GOOD, GOOD)]})
    other.setup["class_counts"] = [1, 2, 3]
    with pytest.raises(ValueError, match="`class_counts` differs"):
        comparison.Comparison.combine([a, other])


@pytest.mark.slow
def test_balanced_reference_has_the_size_of_the_long_tailed_split():
    from keras_imbalance import datasets

    long_tailed = datasets.load_dataset("digits-lt")
    reference = datasets.load_balanced_reference("digits-lt")
    n = len(long_tailed["train"][1])
    counts = np.bincount(reference["train"][1])
    assert counts.tolist() == [n // 10] * 10
    np.testing.assert_array_equal(reference["test"][1], long_tailed["test"][1])
    np.testing.assert_array_equal(reference["test"][0], long_tailed["test"][0])
    assert "class-balanced sample of 49 images per class" in reference["reference"]
    result = comparison.compare(["ce"], reference, epochs=1)
    assert result.setup["reference"] == reference["reference"]


def test_compare_checks_arrays_before_training():
    rng = np.random.default_rng(0)
    x = rng.random((30, 4, 4, 1)).astype("float32")
    y = np.repeat(np.arange(3), 10)
    x_nan = x.copy()
    x_nan[4, 0, 0, 0] = np.nan
    test = (x[:6], np.repeat(np.arange(3), 2))
    with pytest.raises(ValueError, match=r"`x_train` holds 1 non-finite.*sample 4"):
        comparison.compare(["ce"], ((x_nan, y), test), epochs=1)
    stray = y.copy()
    stray[0] = 100000
    with pytest.raises(ValueError, match="uses 4 of the 100001 class ids"):
        comparison.compare(["ce"], ((x, stray), test), epochs=1)
    with pytest.raises(ValueError, match="per-sample shape"):
        comparison.compare(["ce"], ((x, y), (x[:6, :2], test[1])), epochs=1)
    with pytest.raises(ValueError, match=r"data_seed.*\[0, 2\*\*32\)"):
        comparison.compare(["ce"], ((x, y), test), epochs=1, data_seed=2**32)


def test_files_are_replaced_atomically_even_on_a_full_disk(tmp_path, monkeypatch):
    import errno
    import os

    result = make({"a": [(GOOD, FAIR)], "b": [(FAIR, GOOD)]})
    path = tmp_path / "results.json"
    path.write_text("old results\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left on device"):
        result.to_json(path)
    with pytest.raises(OSError, match="No space left on device"):
        result.to_csv(tmp_path / "results.csv")
    assert path.read_text() == "old results\n"
    assert sorted(os.listdir(tmp_path)) == ["results.json"]  # no temporary left
    monkeypatch.undo()
    result.to_json(path)
    assert comparison.Comparison.from_json(str(path)).best == "a"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
    assert sorted(os.listdir(tmp_path)) == ["results.json"]
