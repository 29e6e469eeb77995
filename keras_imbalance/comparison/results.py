"""The results of a comparison: runs, summaries over seeds, selection, files."""

import csv
import io
import json
import math
import os

import numpy as np

from keras_imbalance._arrays import json_plain
from keras_imbalance._files import write_text_atomic
from keras_imbalance._names import BINARY_METRICS, SUMMARY_METRICS
from keras_imbalance.comparison.runs import SPLITS, Run, chance_warnings

__all__ = ["SUMMARY_METRICS", "Comparison", "Run", "chance_warnings"]

# SUMMARY_METRICS (from `_names`): the scalar metrics of every run, in table order.

SELECTION_METRIC = "balanced_accuracy"
"""The metric that chooses the best strategy, on the validation split."""


def _mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), float(np.std(values))


class Comparison:
    """Every run of `compare` (strategy x seed), with summaries and files.

    The best strategy is the one with the highest mean validation balanced
    accuracy over the seeds: the test split never chooses anything, it is
    only reported. Strategies whose mean validation balanced accuracy is
    within one standard deviation (over seeds) of the best one's are
    marked `close_to_best`: the data do not tell them apart.

    `Comparison.from_json(comparison.to_json())` gives the same comparison
    back (without the trained models).

    Attributes:
        runs: The `Run`s, strategy by strategy, seed by seed.
        setup: What was compared and how (dataset, class counts of the
            training, validation and test splits, model, epochs, batch
            size, protocol, head, seeds, validation split, shot thresholds,
            machine, descriptions of the strategies); JSON-plain.
        models: `{strategy: keras.Model}`, the run with the best validation
            score of each strategy, when `compare(keep_models=True)`; else
            `{}`.

    Example:

    >>> from keras_imbalance.evaluation import evaluate_imbalanced
    >>> y = [0, 0, 1, 2, 2]
    >>> ce = evaluate_imbalanced([0, 0, 0, 1, 2], y=y)
    >>> bs = evaluate_imbalanced([0, 0, 1, 2, 2], y=y)
    >>> result = Comparison(
    ...     [Run("ce", 0, {}, {}, ce, ce, 1.0),
    ...      Run("balanced_softmax", 0, {}, {}, bs, bs, 1.0)],
    ...     setup={"dataset": "toy"})
    >>> result
    <Comparison of 2 strategies x 1 seeds, best on validation: 'balanced_softmax'>
    >>> result.strategies, result.close_to_best
    (['ce', 'balanced_softmax'], ['balanced_softmax'])
    >>> Comparison.from_json(result.to_json()).best
    'balanced_softmax'
    """

    def __init__(self, runs, setup, models=None):
        if not runs:
            raise ValueError("A comparison needs at least one run.")
        self.runs = list(runs)
        self.setup = json_plain(setup)
        self.models = dict(models or {})

    # --- views ----------------------------------------------------------------

    @property
    def strategies(self):
        """Strategy names, in the order they ran."""
        return list(dict.fromkeys(run.strategy for run in self.runs))

    @property
    def seeds(self):
        return list(dict.fromkeys(run.seed for run in self.runs))

    def runs_of(self, strategy):
        runs = [run for run in self.runs if run.strategy == strategy]
        if not runs:
            raise ValueError(
                f"Unknown strategy {strategy!r}. This comparison has {self.strategies}."
            )
        return runs

    @property
    def metrics(self):
        """The summary metrics of the runs: `SUMMARY_METRICS`, then for
        two-class data `pr_auc`, `roc_auc`, `positive_precision`,
        `positive_recall` and `positive_f1` (of class 1)."""
        binary = self.runs[0].test.is_binary
        return SUMMARY_METRICS + (BINARY_METRICS if binary else ())

    def values(self, strategy, metric="balanced_accuracy", split="test"):
        """Per-seed values of a summary metric (None where undefined)."""
        if metric not in self.metrics:
            raise ValueError(
                f"Invalid value for argument `metric`. Expected one of "
                f"{list(self.metrics)}. Received: metric={metric!r}"
            )
        return [getattr(run.report(split), metric) for run in self.runs_of(strategy)]

    def mean_std(self, strategy, metric="balanced_accuracy", split="test"):
        """`(mean, std)` over seeds (population std; 0 with one seed)."""
        return _mean_std(self.values(strategy, metric, split))

    @property
    def best(self):
        """The strategy with the best mean validation balanced accuracy."""
        scores = {
            name: self.mean_std(name, SELECTION_METRIC, "validation")[0]
            for name in self.strategies
        }
        best = None
        for name, score in scores.items():
            if score is not None and (best is None or score > scores[best]):
                best = name
        return best

    @property
    def close_to_best(self):
        """Strategies whose validation mean is within one std of the best's."""
        best = self.best
        if best is None:
            return []
        mean, std = self.mean_std(best, SELECTION_METRIC, "validation")
        return [
            name
            for name in self.strategies
            if (self.mean_std(name, SELECTION_METRIC, "validation")[0] or -1)
            >= mean - std - 1e-12
        ]

    def best_run(self, strategy=None):
        """The run of `strategy` (default: `best`) with the best validation score."""
        runs = self.runs_of(self.best if strategy is None else strategy)
        return max(
            runs,
            key=lambda run: (
                -math.inf
                if run.validation.balanced_accuracy is None
                else run.validation.balanced_accuracy
            ),
        )

    def warnings(self, strategy):
        """Warnings of the strategy's runs, each with its seed."""
        return [
            f"seed {run.seed}: {warning}"
            for run in self.runs_of(strategy)
            for warning in run.warnings
        ]

    def tuned(self, strategy):
        """`{parameter: [value per seed]}` chosen on the validation split."""
        tuned = {}
        for run in self.runs_of(strategy):
            for key, value in run.tuned_params.items():
                tuned.setdefault(key, []).append(value)
        return tuned

    def table(self, split="test", metrics=None):
        """One row per strategy: mean and std over seeds of each metric.

        `metrics` defaults to `Comparison.metrics` (with the binary scores
        for two-class data).

        Rows are dicts with `strategy`, `seeds`, `<metric>` (mean),
        `<metric>_std`, `validation_balanced_accuracy` (and its `_std`),
        `best`, `close_to_best`, `tuned` (`{parameter: values}`),
        `warnings` and `train_seconds` (mean).
        """
        best, close = self.best, set(self.close_to_best)
        metrics = self.metrics if metrics is None else metrics
        rows = []
        for name in self.strategies:
            row = {"strategy": name, "seeds": len(self.runs_of(name))}
            for metric in metrics:
                row[metric], row[f"{metric}_std"] = self.mean_std(name, metric, split)
            mean, std = self.mean_std(name, SELECTION_METRIC, "validation")
            row["validation_balanced_accuracy"] = mean
            row["validation_balanced_accuracy_std"] = std
            row["best"] = name == best
            row["close_to_best"] = name in close
            row["tuned"] = self.tuned(name)
            row["warnings"] = self.warnings(name)
            row["train_seconds"] = float(
                np.mean([run.train_seconds for run in self.runs_of(name)])
            )
            rows.append(row)
        return rows

    #: Setup entries that must agree for runs to be compared side by side.
    _SAME_SETUP = (
        "dataset",
        "reference",
        "class_counts",
        "validation_counts",
        "test_counts",
        "model",
        "epochs",
        "batch_size",
        "seeds",
        "data_seed",
        "validation_split",
        "protocol",
        "head",
        "shot_thresholds",
        "threshold_objective",
    )

    @classmethod
    def combine(cls, comparisons):
        """One comparison from several made on the same data and setup.

        E.g. strategies run as separate commands (so that each finished one
        is saved). The setups must agree on the data, splits, model, budget,
        seeds, protocol and head; the strategies must differ. The commands
        are kept in `setup["commands"]`.

        Raises:
            ValueError: when two setups differ (the entry is named) or a
                strategy appears twice.
        """
        comparisons = list(comparisons)
        if not comparisons:
            raise ValueError("combine() needs at least one comparison.")
        first = comparisons[0].setup
        setup = dict(first, descriptions={}, commands=[])
        runs = []
        for other in comparisons:
            for key in cls._SAME_SETUP:
                if other.setup.get(key) != first.get(key):
                    raise ValueError(
                        f"Cannot combine comparisons whose `{key}` differs: "
                        f"{first.get(key)!r} and {other.setup.get(key)!r}."
                    )
            twice = set(other.strategies) & {run.strategy for run in runs}
            if twice:
                raise ValueError(f"Strategies {sorted(twice)} appear twice.")
            runs += other.runs
            setup["descriptions"].update(other.setup.get("descriptions", {}))
            for command in other.setup.get("commands") or [other.setup.get("command")]:
                if command:
                    setup["commands"].append(command)
        setup.pop("command", None)
        return cls(runs, setup)

    # --- files ----------------------------------------------------------------

    def to_dict(self):
        return {
            "format": "keras_imbalance.Comparison/1",
            "setup": self.setup,
            "best": self.best,
            "chosen_on": "validation",
            "close_to_best": self.close_to_best,
            "runs": [run.to_dict() for run in self.runs],
        }

    @classmethod
    def from_dict(cls, config):
        if config.get("format") != "keras_imbalance.Comparison/1":
            raise ValueError(
                "Not a keras_imbalance comparison: expected the key `format` "
                "'keras_imbalance.Comparison/1'. Received: "
                f"{config.get('format')!r}"
            )
        return cls([Run.from_dict(r) for r in config["runs"]], config["setup"])

    def to_json(self, path=None):
        """The comparison as JSON text; written to `path` when given.

        The file is replaced atomically: a crash or a full disk (`OSError`)
        leaves the previous file, never a partial or empty one.
        """
        text = json.dumps(json_plain(self.to_dict()), indent=2, allow_nan=False)
        if path is not None:
            write_text_atomic(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path):
        """A comparison from `to_json()` text or the path of a file holding it."""
        text = text_or_path
        if isinstance(text, os.PathLike) or (
            isinstance(text, str) and not text.lstrip().startswith("{")
        ):
            with open(text, encoding="utf-8") as f:
                text = f.read()
        return cls.from_dict(json.loads(text))

    def to_csv(self, path=None):
        """One row per run and split (per-seed values); text, written to `path`
        (atomically, like `to_json`)."""
        fields = ["strategy", "seed", "split", *self.metrics]
        fields += ["tuned_params", "tuned_on", "train_seconds", "warnings"]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for run in self.runs:
            for split in SPLITS:
                row = {"strategy": run.strategy, "seed": run.seed, "split": split}
                summary = json_plain(run.report(split).summary())
                row.update({k: "" if v is None else v for k, v in summary.items()})
                row["tuned_params"] = json.dumps(json_plain(run.tuned_params))
                row["tuned_on"] = "validation" if run.tuned_params else ""
                row["train_seconds"] = round(run.train_seconds, 3)
                row["warnings"] = "; ".join(run.warnings)
                writer.writerow(row)
        text = buffer.getvalue()
        if path is not None:
            write_text_atomic(path, text)
        return text

    def to_markdown(self, split="test"):
        """The summary table in Markdown (mean ± std over seeds, in %)."""
        from keras_imbalance.comparison.report import markdown_table

        return markdown_table(self, split)

    def _repr_markdown_(self):
        return self.to_markdown()

    def plot_per_class_recall(self, split="test"):
        """A heatmap strategy x class of the mean recall (Figure)."""
        from keras_imbalance.comparison.plots import recall_heatmap

        return recall_heatmap(self, split)

    def plot_confusion_matrix(self, strategy=None, split="test"):
        """The confusion matrix of a strategy's best-validation run (Figure)."""
        from keras_imbalance.comparison.plots import confusion_figure

        return confusion_figure(self, strategy, split)

    def __repr__(self):
        return (
            f"<Comparison of {len(self.strategies)} strategies x "
            f"{len(self.seeds)} seeds, best on validation: {self.best!r}>"
        )
