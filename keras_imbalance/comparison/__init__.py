"""Compare imbalance strategies on one dataset, honestly.

`compare` trains each named strategy with the same model, budget and
training protocol for every seed, on the training split minus a stratified
validation split; everything that is chosen (the best strategy, the `tau`
of the post-hoc recipes) is chosen on the validation split, and the test
split is only reported. The result is a `Comparison`: every run, mean ± std
over seeds, the best strategy, tables, files and plots. The
`keras-imbalance compare` command is a thin shell over it.

>>> from keras_imbalance import comparison
>>> result = comparison.compare(
...     ["ce", "balanced_softmax"], "digits-lt", epochs=1, seeds=(0,),
...     model=comparison.model_factory("small_cnn", width=4, depth=1))
>>> result.strategies, result.best in result.strategies
(['ce', 'balanced_softmax'], True)
>>> sorted(result.table()[0])[:3]
['accuracy', 'accuracy_std', 'balanced_accuracy']
"""

from keras_imbalance.comparison.replay import rerun
from keras_imbalance.comparison.results import (
    SUMMARY_METRICS,
    Comparison,
    Run,
    chance_warnings,
)
from keras_imbalance.comparison.runner import Progress, compare, model_factory

__all__ = [
    "SUMMARY_METRICS",
    "Comparison",
    "Progress",
    "Run",
    "chance_warnings",
    "compare",
    "model_factory",
    "rerun",
]
