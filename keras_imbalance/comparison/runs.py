"""One trained run of a comparison, and the chance-level warning of its report."""

import dataclasses

import numpy as np

from keras_imbalance._arrays import json_plain
from keras_imbalance.evaluation import ImbalanceReport

__all__ = ["Run", "chance_warnings"]

CHANCE_MARGIN = 0.05
"""A balanced accuracy at most this far above 1 / C is reported as chance."""

SPLITS = ("validation", "test")


def chance_warnings(report):
    """Plain-words warnings for a report whose model learned (next to) nothing.

    A model that predicts one class for every input, or whose balanced
    accuracy is within `CHANCE_MARGIN` of chance (`1 / C`), gets a warning;
    a sound model gets `[]`.

    Example:

    >>> from keras_imbalance.evaluation import evaluate_imbalanced
    >>> for line in chance_warnings(evaluate_imbalanced([0, 0, 0, 0], y=[0, 1, 2, 3])):
    ...     print(line)
    predicts class 0 for every test input
    balanced accuracy 0.250 is at chance level (1/4 = 0.250)
    """
    warnings = []
    confusion = np.asarray(report.confusion_matrix)
    predicted = np.flatnonzero(confusion.sum(axis=0))
    if predicted.size == 1 and report.num_classes > 1:
        name = report.class_names[int(predicted[0])]
        warnings.append(f"predicts class {name} for every test input")
    present = int(np.count_nonzero(confusion.sum(axis=1)))
    chance = 1.0 / max(present, 1)
    value = report.balanced_accuracy
    if value is not None and present > 1 and value <= chance + CHANCE_MARGIN:
        warnings.append(
            f"balanced accuracy {value:.3f} is at chance level "
            f"(1/{present} = {chance:.3f})"
        )
    return warnings


@dataclasses.dataclass
class Run:
    """One strategy trained with one seed, evaluated on both splits.

    Attributes:
        strategy: The strategy's name.
        seed: The training seed.
        params: The strategy's parameters (`Strategy.get_config()`).
        tuned_params: What it chose on the validation split (e.g.
            `{"tau": 0.8}`), `{}` when nothing was tuned.
        validation, test: `ImbalanceReport`s on the validation and test
            splits.
        train_seconds: Wall-clock training time (evaluation excluded).
        warnings: `chance_warnings` of the test report.

    Example:

    >>> from keras_imbalance.evaluation import evaluate_imbalanced
    >>> report = evaluate_imbalanced([0, 0, 1, 1, 2], y=[0, 0, 1, 2, 2])
    >>> run = Run("ce", 0, params={}, tuned_params={}, validation=report,
    ...           test=report, train_seconds=1.5)
    >>> round(run.report("test").balanced_accuracy, 4)
    0.8333
    >>> Run.from_dict(run.to_dict()) == run
    True
    """

    strategy: str
    seed: int
    params: dict
    tuned_params: dict
    validation: ImbalanceReport
    test: ImbalanceReport
    train_seconds: float
    warnings: list = dataclasses.field(default_factory=list)

    def report(self, split):
        if split not in SPLITS:
            raise ValueError(
                f"Invalid value for argument `split`. Expected one of "
                f"{list(SPLITS)}. Received: split={split!r}"
            )
        return getattr(self, split)

    def to_dict(self):
        return json_plain(
            {
                "strategy": self.strategy,
                "seed": self.seed,
                "params": self.params,
                "tuned_params": self.tuned_params,
                "tuned_on": "validation" if self.tuned_params else None,
                "train_seconds": self.train_seconds,
                "warnings": list(self.warnings),
                "validation": self.validation.to_dict(),
                "test": self.test.to_dict(),
            }
        )

    @classmethod
    def from_dict(cls, config):
        return cls(
            strategy=config["strategy"],
            seed=config["seed"],
            params=dict(config["params"]),
            tuned_params=dict(config["tuned_params"]),
            validation=ImbalanceReport.from_dict(config["validation"]),
            test=ImbalanceReport.from_dict(config["test"]),
            train_seconds=config["train_seconds"],
            warnings=list(config.get("warnings", [])),
        )
